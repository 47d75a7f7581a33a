"""``/v1/chat/completions`` (SDK ``client.chat.completions``; docs/protocol.md §3.2, §4.1), plain and streamed.

``service_tier`` (docs/protocol.md §V4) is checked before routing and echoed as the tier that served the
call, in the body and in every chunk; a flex call's cost is at the flex prices. ``cache_control`` markers
give ``usage.prompt_tokens_details`` its cached and written tokens (``fakes/prompt_cache.py``, §V3.2).
An eligible request is answered from the gateway response cache when it can be, else its answer is
written there (``_chat_cache.py``, §V3.1).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, AsyncIterator, Dict, List, Optional

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..fakes import engine, memory, routing
from ..fakes.catalog import Catalog, served_tier
from ..fakes.prompt_cache import PromptCache, strip_markers
from ..fakes.templating import apply_template
from ..http.context import gateway, json_body, json_response, owner, pace
from ..http.sse import DONE, data_event, sse_response
from ..ids import hex_id
from ..store.state import GatewayState
from . import _chat_cache
from ._conversation import (
    CHAT,
    check_context,
    check_tool_choice,
    completion_body,
    need_messages,
    requested_tier,
    resolve_model,
    run_chat,
)


async def chat_completions(request: Request) -> Response:
    state = gateway(request)
    raw = await json_body(request, CHAT)
    body = apply_template(state, owner(request), raw)
    need_messages(body)
    applied = _inject_memories(state, request, body)
    entry, auto = resolve_model(state, request, body.get("model"))
    tier = requested_tier(body, entry)
    ticket = _chat_cache.ticket(state, request, body, entry, tier)
    answer = ticket.hit() if ticket is not None else None
    if answer is not None:  # no upstream call: no routing, no provider faults
        check_tool_choice(body)
        return _replay(state, answer, bool(body.get("stream")))
    entry, routed = routing.for_request(state, request.headers.get("authorization", ""), body, entry, tier)
    if routed.get("x-mesh-routing-fallback") == "true":
        ticket = None  # another model answered: not what this key stands for
    tier = served_tier(tier, entry)
    check_tool_choice(body)
    cache = _prompt_cache(state).account(owner(request), entry, body)
    body = strip_markers(body)  # the stand-in model never sees the markers
    if body.get("response_format") or body.get("tools"):  # schema-driven generation: off the event loop
        choices, prompt_tokens = await run_in_threadpool(run_chat, body, entry, state.replies)
    else:
        choices, prompt_tokens = run_chat(body, entry, state.replies)
    check_context(entry, body, prompt_tokens)
    completion_id = hex_id("chatcmpl-", 24)
    created = int(time.time())
    result = completion_body(completion_id, created, entry.id, choices, prompt_tokens, tier, cache)
    kept: Dict[str, str] = {}  # the headers a hit replays
    if auto:
        result.update(
            {"x_auto_routed": True, "x_resolved_model_id": entry.id, "x_auto_routed_fallback": False}
        )
        kept = {"x-mesh-routing-model": entry.id}  # the router's pick (non-streaming only)
    if body.get("stream"):
        headers = {"x-auto-routed": "true", "x-resolved-model-id": entry.id} if auto else {}
        headers.update(applied)
        tail = {
            "usage": result["usage"],
            "cost": Catalog.cost(entry, prompt_tokens, result["usage"]["completion_tokens"], tier),
        }
        events = _chat_stream(state, _head(result), choices, tail)
        if ticket is not None:
            events = ticket.store_after(events, result, kept)
        return sse_response(events, headers)
    if state.latency > 0:
        await asyncio.sleep(state.latency)
    if ticket is not None:
        ticket.store(result, kept)
    return json_response(result, headers={**routed, **kept, **applied})


def _replay(state: GatewayState, answer: _chat_cache.CachedAnswer, stream: bool) -> Response:
    """A stored answer with ``X-Cache: HIT``: as it was stored, or as SSE; nothing is billed."""
    if not stream:
        return json_response(answer.body, headers={**answer.headers, **_chat_cache.HIT})
    tail = {"usage": answer.body.get("usage"), "cost": "0"}
    events = _chat_stream(state, _head(answer.body), _chat_cache.choices_of(answer.body), tail)
    return sse_response(events, _chat_cache.stream_headers(answer))


def _head(result: Dict[str, Any]) -> Dict[str, Any]:
    """The fields every chunk of a completion's stream repeats."""
    head = {"id": result["id"], "object": "chat.completion.chunk", "created": result["created"]}
    head["model"] = result["model"]
    head["system_fingerprint"] = result.get("system_fingerprint", "fp_meshapi_local")  # as the JSON reply
    if "service_tier" in result:
        head["service_tier"] = result["service_tier"]
    return head


def _inject_memories(state: GatewayState, request: Request, body: Dict[str, Any]) -> Dict[str, str]:
    """Prepend the memories ``x-mem-id`` names (``fakes/memory.py``); the answer's header, when asked."""
    asked = request.headers.get("x-mem-id")
    if asked is None:
        return {}
    injection = memory.inject(state.store, owner(request), asked, body["messages"], time.time())
    if injection.message is not None:
        body["messages"] = [injection.message, *body["messages"]]
    return {"x-mesh-memory-applied": injection.header}


def _prompt_cache(state: GatewayState) -> PromptCache:
    cache: PromptCache = state.cache.setdefault("prompt_cache", PromptCache())
    return cache


async def _chat_stream(
    state: GatewayState, head: Dict[str, Any], choices: List[engine.Choice], tail: Dict[str, Any]
) -> AsyncIterator[bytes]:
    """The SSE events of a completion: ``head`` in every chunk, ``tail`` (``usage``, ``cost``) in the last."""

    def chunk(index: int, delta: Dict[str, Any], finish: Optional[str] = None) -> bytes:
        return data_event({**head, "choices": [{"index": index, "delta": delta, "finish_reason": finish}]})

    for index, choice in enumerate(choices):
        silent = choice.tool_calls or choice.refusal is not None
        yield chunk(index, {"role": "assistant", "content": None if silent else ""})
        await pace(state)
        for position, call in enumerate(choice.tool_calls):
            function = call["function"]
            opening = {"index": position, "id": call["id"], "type": "function"}
            yield chunk(
                index, {"tool_calls": [{**opening, "function": {"name": function["name"], "arguments": ""}}]}
            )
            await pace(state)
            for fragment in engine.argument_fragments(function["arguments"]):
                yield chunk(index, {"tool_calls": [{"index": position, "function": {"arguments": fragment}}]})
                await pace(state)
        for piece in engine.stream_chunks(choice.refusal or ""):
            yield chunk(index, {"refusal": piece})
            await pace(state)
        for piece in engine.stream_chunks(choice.text or ""):
            yield chunk(index, {"content": piece})
            await pace(state)
        yield chunk(index, {}, choice.finish_reason)
    yield data_event({**head, "choices": [], **tail})
    yield DONE


ROUTES = [
    Route("/v1/chat/completions", chat_completions, methods=["POST"]),
]
