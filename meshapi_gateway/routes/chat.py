"""``/v1/chat/completions`` (SDK ``client.chat.completions``; docs/protocol.md §3.2, §4.1), plain and streamed."""

from __future__ import annotations

import asyncio
import time
from typing import Any, AsyncIterator, Dict, List, Optional

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..fakes import engine, routing
from ..fakes.catalog import Catalog, ModelEntry
from ..fakes.templating import apply_template
from ..http.context import gateway, json_body, json_response, owner, pace
from ..http.sse import DONE, data_event, sse_response
from ..ids import hex_id
from ..store.state import GatewayState
from ._conversation import (
    CHAT,
    check_tool_choice,
    completion_body,
    need_messages,
    resolve_model,
    run_chat,
    usage,
)


async def chat_completions(request: Request) -> Response:
    state = gateway(request)
    raw = await json_body(request, CHAT)
    body = apply_template(state, owner(request), raw)
    need_messages(body)
    entry, auto = resolve_model(state, request, body.get("model"))
    entry, routed = routing.for_request(state, request.headers.get("authorization", ""), body, entry)
    check_tool_choice(body)
    if body.get("response_format") or body.get("tools"):  # schema-driven generation: off the event loop
        choices, prompt_tokens = await run_in_threadpool(run_chat, body, entry, state.replies)
    else:
        choices, prompt_tokens = run_chat(body, entry, state.replies)
    completion_id = hex_id("chatcmpl-", 24)
    created = int(time.time())
    if body.get("stream"):
        headers = {"x-auto-routed": "true", "x-resolved-model-id": entry.id} if auto else None
        return sse_response(
            _chat_stream(state, completion_id, created, entry, choices, prompt_tokens), headers
        )
    if state.latency > 0:
        await asyncio.sleep(state.latency)
    result = completion_body(completion_id, created, entry.id, choices, prompt_tokens)
    if auto:
        result.update(
            {"x_auto_routed": True, "x_resolved_model_id": entry.id, "x_auto_routed_fallback": False}
        )
    return json_response(result, headers=routed)


async def _chat_stream(
    state: GatewayState,
    completion_id: str,
    created: int,
    entry: ModelEntry,
    choices: List[engine.Choice],
    prompt_tokens: int,
) -> AsyncIterator[bytes]:
    head = {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": entry.id,
        "system_fingerprint": "fp_meshapi_local",  # as the JSON reply says (_conversation.py)
    }

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
    completion_tokens = sum(c.completion_tokens for c in choices)
    tail = {
        **head,
        "choices": [],
        "usage": usage(prompt_tokens, completion_tokens),
        "cost": Catalog.cost(entry, prompt_tokens, completion_tokens),
    }
    yield data_event(tail)
    yield DONE


ROUTES = [
    Route("/v1/chat/completions", chat_completions, methods=["POST"]),
]
