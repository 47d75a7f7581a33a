"""``/v1/responses`` (SDK ``client.responses``; docs/protocol.md §3.4, §4.3): create (plain, streamed,
background: ``_response_jobs.py``), get, list and cancel.

A response keeps its conversation (earlier turns, this input, the reply) unless created with
``"store": false``; ``previous_response_id`` continues that conversation: the stand-in model and the
input token count see every earlier turn. Instructions are not carried over (each request gives its
own). An id that is unknown, of another owner or of an unstored response is 404 ``resource_not_found``
(docs/protocol.md §2: a referenced previous response that is missing).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, AsyncIterator, Dict, List, Optional

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..errors import ApiError
from ..fakes import engine
from ..fakes.catalog import ModelEntry, served_tier
from ..fakes.templating import apply_template
from ..http.billing import bill_job, estimate
from ..http.context import gateway, json_body, json_response, owner, pace, request_id
from ..http.sse import named_event, sse_response
from ..http.validation import AnyValue, Bool, Int, ListOf, MapOf, Obj, OneOf, Str, check_query, opt, req
from ..ids import hex_id
from ..store.state import GatewayState
from ._conversation import SAMPLING, TIER, requested_tier, resolve_model
from ._response_jobs import cancel_response, current, start_job

RESPONSES = Obj(
    {
        "input": req(OneOf(Str(), ListOf(AnyValue()))),
        "model": opt(Str()),
        **SAMPLING,
        "max_output_tokens": opt(Int(ge=1)),
        "reasoning": opt(MapOf()),
        "tools": opt(ListOf(MapOf())),
        "tool_choice": opt(AnyValue()),
        "response_format": opt(MapOf()),
        "instructions": opt(Str()),
        "text": opt(MapOf()),
        "max_tool_calls": opt(Int(ge=1, le=10)),
        "background": opt(Bool()),
        "previous_response_id": opt(Str()),
        "parallel_tool_calls": opt(Bool()),
        "store": opt(Bool()),
        **TIER,
    }
)


def _input_messages(body: Dict[str, Any]) -> List[Dict[str, Any]]:
    """This request's own turns as chat messages (``instructions`` aside)."""
    messages: List[Dict[str, Any]] = list(body.get("messages") or [])
    given = body.get("input")
    if isinstance(given, str):
        messages.append({"role": "user", "content": given})
        return messages
    for item in given or []:
        if isinstance(item, str):
            messages.append({"role": "user", "content": item})
        elif isinstance(item, dict):
            kind = item.get("type")
            if kind == "function_call_output":
                messages.append({"role": "tool", "content": str(item.get("output", ""))})
            elif kind == "function_call":
                call = {"function": {"name": item.get("name"), "arguments": item.get("arguments", "")}}
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
            elif "role" in item:
                messages.append({"role": item["role"], "content": item.get("content")})
    return messages


def _responses_format(body: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    text = body.get("text")
    if isinstance(text, dict) and isinstance(text.get("format"), dict):
        fmt = text["format"]
        if fmt.get("type") == "json_schema":
            spec = {key: fmt[key] for key in ("name", "schema", "strict") if key in fmt}
            return {"type": "json_schema", "json_schema": spec}
        return {"type": fmt.get("type")}
    fmt = body.get("response_format")
    return fmt if isinstance(fmt, dict) else None


def _responses_tools(body: Dict[str, Any]) -> List[Dict[str, Any]]:
    tools = []
    for tool in body.get("tools") or []:
        if tool.get("type") == "function" and isinstance(tool.get("name"), str):
            function = {k: tool[k] for k in ("name", "description", "parameters") if k in tool}
            tools.append({"type": "function", "function": function})
        elif tool.get("type") == "function" and isinstance(tool.get("function"), dict):
            tools.append(tool)
    return tools


def _responses_tool_choice(choice: Any) -> Any:
    if isinstance(choice, dict) and choice.get("type") == "function" and "name" in choice:
        return {"type": "function", "function": {"name": choice["name"]}}
    return choice


async def create_response(request: Request) -> Response:
    state = gateway(request)
    raw = await json_body(request, RESPONSES)
    body = apply_template(state, owner(request), raw)
    entry, _ = resolve_model(state, request, body.get("model"))
    tier = served_tier(requested_tier(body, entry), entry)
    turns = [*_earlier_turns(state, owner(request), body.get("previous_response_id")), *_input_messages(body)]
    instructions = [{"role": "system", "content": body["instructions"]}] if body.get("instructions") else []
    messages = [*instructions, *turns]
    params = engine.ChatParams(
        model=entry.id,
        messages=messages,
        temperature=body.get("temperature"),
        seed=body.get("seed"),
        max_tokens=body.get("max_output_tokens"),
        tools=_responses_tools(body),
        tool_choice=_responses_tool_choice(body.get("tool_choice")),
        parallel_tool_calls=body.get("parallel_tool_calls") is not False,
        response_format=_responses_format(body),
    )
    state.replies.fill(params)
    choice = engine.complete(params)[0]
    input_tokens = engine.prompt_token_count(messages, params.tools or None)
    response_id = hex_id("resp_", 24)
    created = int(time.time())
    reasoning = entry.supports_thinking or body.get("reasoning") is not None
    final = {
        **_response_object(response_id, created, entry, choice, input_tokens, reasoning),
        "service_tier": tier,
    }
    _remember_response(state, owner(request), final)
    if body.get("store") is not False:
        _remember_turns(state, owner(request), response_id, [*turns, _reply_message(choice)])
    if body.get("stream"):
        return sse_response(_responses_stream(state, final))
    if body.get("background"):
        _hold_background(state, owner(request), final, request_id(request))
        return json_response(start_job(state, owner(request), final))
    if state.latency > 0:
        await asyncio.sleep(state.latency)
    return json_response(final)


_KEPT_RESPONSES = 1000


def _responses_of(state: GatewayState, who: str) -> Dict[str, Dict[str, Any]]:
    """Recent responses of an owner, oldest first (kept in memory only, like a short-lived cache)."""
    by_owner: Dict[str, Dict[str, Dict[str, Any]]] = state.cache.setdefault("responses", {})
    return by_owner.setdefault(who, {})


def _remember_response(state: GatewayState, who: str, final: Dict[str, Any]) -> None:
    kept = _responses_of(state, who)
    kept[final["id"]] = final
    while len(kept) > _KEPT_RESPONSES:
        kept.pop(next(iter(kept)))


def _turns_of(state: GatewayState, who: str) -> Dict[str, List[Dict[str, Any]]]:
    """The conversations of an owner's stored responses (``store`` not false), by response id."""
    by_owner: Dict[str, Dict[str, List[Dict[str, Any]]]] = state.cache.setdefault("response_turns", {})
    return by_owner.setdefault(who, {})


def _remember_turns(state: GatewayState, who: str, response_id: str, turns: List[Dict[str, Any]]) -> None:
    kept = _turns_of(state, who)
    kept[response_id] = turns
    while len(kept) > _KEPT_RESPONSES:
        kept.pop(next(iter(kept)))


def _earlier_turns(state: GatewayState, who: str, previous: Optional[str]) -> List[Dict[str, Any]]:
    if previous is None:
        return []
    turns = _turns_of(state, who).get(previous)
    if turns is None:
        raise ApiError(
            404,
            "resource_not_found",
            f"Previous response '{previous}' not found (unknown, or created with store=false).",
            param="previous_response_id",
        )
    return turns


def _reply_message(choice: engine.Choice) -> Dict[str, Any]:
    """The reply as the assistant message a later turn sees."""
    if choice.tool_calls:
        return {"role": "assistant", "content": None, "tool_calls": choice.tool_calls}
    return {"role": "assistant", "content": choice.text or ""}


def _hold_background(state: GatewayState, who: str, final: Dict[str, Any], rid: str) -> None:
    """A background response holds its price until a client reads it finished (then it is billed)."""
    usage = final.get("usage") or {}
    tokens = (usage.get("input_tokens", 0), usage.get("output_tokens", 0))
    held = state.balance.hold(who, "background_responses", estimate(state, final["model"], *tokens))
    pending: Dict[str, Dict[str, Any]] = state.cache.setdefault("background_holds", {}).setdefault(who, {})
    pending[final["id"]] = {"hold": held, "request_id": rid, "model": final["model"], "tokens": tokens}


def _settle_background(state: GatewayState, who: str, response_id: str, *, bill: bool = True) -> None:
    pending = state.cache.get("background_holds", {}).get(who, {}).pop(response_id, None)
    if pending is not None:
        state.balance.release(who, pending["hold"])
        if not bill:
            return
        prompt, completion = pending["tokens"]
        bill_job(state, who, request_id=pending["request_id"], model=pending["model"],
                 prompt_tokens=prompt, completion_tokens=completion)  # fmt: skip


async def get_response(request: Request) -> Response:
    ident = request.path_params["response_id"]
    found = _responses_of(gateway(request), owner(request)).get(ident)
    if found is None:
        raise ApiError(404, "not_found", f"Response '{ident}' not found.")
    shown = current(gateway(request), owner(request), found)
    if shown.get("status") not in ("queued", "in_progress"):  # its run is over: billed (unless cancelled)
        _settle_background(gateway(request), owner(request), ident, bill=shown.get("status") != "cancelled")
    return json_response(shown)


async def list_responses(request: Request) -> Response:
    query = check_query(
        dict(request.query_params), {"limit": (Int(ge=1, le=100), 20), "after": (Str(), None)}
    )
    state, who = gateway(request), owner(request)
    newest_first = [current(state, who, r) for r in reversed(_responses_of(state, who).values())]
    if query["after"] is not None:
        ids = [r["id"] for r in newest_first]
        newest_first = newest_first[ids.index(query["after"]) + 1 :] if query["after"] in ids else []
    page = newest_first[: query["limit"]]
    data = [
        {
            "id": r["id"],
            "object": "response",
            "model": r["model"],
            "provider": r["model"].split("/", 1)[0],
            "status": r["status"],
            "created_at": r["created_at"],
            "completed_at": r["created_at"] if r["status"] in ("completed", "incomplete") else None,
            "usage_synced": True,
        }
        for r in page
    ]
    return json_response(
        {
            "object": "list",
            "data": data,
            "has_more": len(newest_first) > len(page),
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
        }
    )


def _response_object(
    response_id: str,
    created: int,
    entry: ModelEntry,
    choice: engine.Choice,
    input_tokens: int,
    reasoning: bool,
) -> Dict[str, Any]:
    suffix = response_id[5:17]
    output: List[Dict[str, Any]] = []
    if reasoning:
        output.append({"type": "reasoning", "id": f"rs_{suffix}", "summary": []})
    for i, call in enumerate(choice.tool_calls):
        output.append(
            {
                "type": "function_call",
                "id": f"fc_{suffix}{i}",
                "call_id": call["id"],
                "name": call["function"]["name"],
                "arguments": call["function"]["arguments"],
                "status": "completed",
            }
        )
    if not choice.tool_calls:
        part: Dict[str, Any] = (
            {"type": "refusal", "refusal": choice.refusal}
            if choice.refusal is not None
            else {"type": "output_text", "text": choice.text or "", "annotations": []}
        )
        output.append(
            {
                "type": "message",
                "id": f"msg_{suffix}",
                "status": "completed",
                "role": "assistant",
                "content": [part],
            }
        )
    incomplete = choice.finish_reason == "length"
    output_tokens = choice.completion_tokens
    return {
        "id": response_id,
        "object": "response",
        "created_at": created,
        "status": "incomplete" if incomplete else "completed",
        "incomplete_details": {"reason": "max_output_tokens"} if incomplete else None,
        "error": None,
        "model": entry.id,
        "output": output,
        "usage": {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "total_tokens": input_tokens + output_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 0},
        },
    }


async def _responses_stream(state: GatewayState, final: Dict[str, Any]) -> AsyncIterator[bytes]:
    sequence = 0

    def event(kind: str, **fields: Any) -> bytes:
        nonlocal sequence
        payload = {"type": kind, "sequence_number": sequence, **fields}
        sequence += 1
        return named_event(kind, payload)

    shell = {k: final[k] for k in ("id", "object", "created_at", "model")}
    shell.update({"status": "in_progress", "output": [], "usage": None})
    yield event("response.created", response=shell)
    yield event("response.in_progress", response=shell)
    for index, item in enumerate(final["output"]):
        await pace(state)
        if item["type"] == "message" and item["content"][0]["type"] == "output_text":
            text = item["content"][0]["text"]
            opening = {**item, "status": "in_progress", "content": []}
            yield event("response.output_item.added", output_index=index, item=opening)
            part = {"type": "output_text", "text": "", "annotations": []}
            ids = {"item_id": item["id"], "output_index": index, "content_index": 0}
            yield event("response.content_part.added", **ids, part=part)
            for piece in engine.stream_chunks(text):
                await pace(state)
                yield event("response.output_text.delta", **ids, delta=piece)
            yield event("response.output_text.done", **ids, text=text)
            yield event("response.content_part.done", **ids, part={**part, "text": text})
        elif item["type"] == "function_call":
            yield event(
                "response.output_item.added",
                output_index=index,
                item={**item, "arguments": "", "status": "in_progress"},
            )
            for fragment in engine.argument_fragments(item["arguments"]):
                await pace(state)
                yield event(
                    "response.function_call_arguments.delta",
                    item_id=item["id"],
                    output_index=index,
                    delta=fragment,
                )
            yield event(
                "response.function_call_arguments.done",
                item_id=item["id"],
                output_index=index,
                arguments=item["arguments"],
            )
        else:
            yield event("response.output_item.added", output_index=index, item=item)
        yield event("response.output_item.done", output_index=index, item=item)
    yield event("response.completed", response=final)


ROUTES = [
    Route("/v1/responses", create_response, methods=["POST"]),
    Route("/v1/responses", list_responses, methods=["GET"]),
    Route("/v1/responses/{response_id}", get_response, methods=["GET"]),
    Route("/v1/responses/{response_id}/cancel", cancel_response, methods=["POST"]),
]
