"""Chat completions, compare and responses (API.md §3.2-3.4, §4.1-4.3)."""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import Any, AsyncIterator, Dict, List, Optional, Tuple

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import engine
from .catalog import Catalog, ModelEntry
from .common import chat_model, gateway, json_body, json_response, owner, pace, request_id, require_capability
from .errors import ApiError, DetailError, validation_failed
from .ids import hex_id
from .routes_templates import apply_template
from .sse import DONE, data_event, named_event, sse_response
from .state import GatewayState
from .validation import (
    AnyValue,
    Bool,
    Int,
    ListOf,
    Literal,
    Loc,
    MapOf,
    Num,
    Obj,
    OneOf,
    Report,
    Spec,
    Str,
    check_query,
    opt,
    req,
)

DEFAULT_MODEL = "openai/gpt-4o-mini"
COMPARISON_MODEL = "openai/gpt-4o-mini"


class ResponseFormat(Spec):
    """``{"type": "text" | "json_object"}`` or ``{"type": "json_schema", "json_schema": {...}}``."""

    _SCHEMA = Obj(
        {"name": req(Str()), "schema": opt(MapOf()), "strict": opt(Bool()), "description": opt(Str())}
    )

    def check(self, value: Any, loc: Loc, report: Report) -> Any:
        base = Obj({"type": req(Literal("text", "json_object", "json_schema"))})
        value = base.check(value, loc, report)
        if isinstance(value, dict) and value.get("type") == "json_schema":
            value = Obj({"json_schema": req(self._SCHEMA)}).check(value, loc, report)
        return value


MESSAGE = Obj(
    {
        "role": req(Literal("system", "user", "assistant", "tool", "developer")),
        "content": opt(OneOf(Str(), ListOf(MapOf()))),
        "name": opt(Str()),
        "tool_call_id": opt(Str()),
        "tool_calls": opt(ListOf(MapOf())),
    }
)
TOOL = Obj(
    {
        "type": req(Literal("function")),
        "function": req(
            Obj({"name": req(Str(min_length=1)), "description": opt(Str()), "parameters": opt(MapOf())})
        ),
    }
)
TOOL_CHOICE = OneOf(
    Literal("auto", "none", "required"),
    Obj({"type": req(Literal("function")), "function": req(Obj({"name": req(Str())}))}),
)
_SAMPLING = {
    "temperature": opt(Num(ge=0, le=2)),
    "max_tokens": opt(Int(ge=1)),
    "top_p": opt(Num(ge=0, le=1)),
    "frequency_penalty": opt(Num(ge=-2, le=2)),
    "presence_penalty": opt(Num(ge=-2, le=2)),
    "seed": opt(Int()),
    "user": opt(Str(max_length=256)),
    "timeout": opt(Num(gt=0)),
    "stream": opt(Bool()),
    "template": opt(Str()),
    "variables": opt(MapOf(Str())),
    "session_id": opt(Str()),
    "cache": opt(Bool()),
}
CHAT = Obj(
    {
        "messages": req(ListOf(MESSAGE)),
        "model": opt(Str()),
        "models": opt(ListOf(Str())),
        **_SAMPLING,
        "max_completion_tokens": opt(Int(ge=1)),
        "stop": opt(OneOf(Str(), ListOf(Str(), max_length=4))),
        "n": opt(Int(ge=1, le=16)),
        "tools": opt(ListOf(TOOL)),
        "tool_choice": opt(TOOL_CHOICE),
        "response_format": opt(ResponseFormat()),
        "modality": opt(Literal("text", "image")),
        "reasoning_effort": opt(Literal("high", "medium", "low", "none")),
    }
)
COMPARE = Obj(
    {
        "models": req(ListOf(Str(min_length=1), min_length=1)),
        "messages": req(ListOf(MESSAGE)),
        "model_overrides": opt(
            ListOf(
                Obj(
                    {
                        "model": req(Str()),
                        "temperature": opt(Num(ge=0, le=2)),
                        "max_tokens": opt(Int(ge=1)),
                        "system_prompt": opt(Str()),
                    }
                )
            )
        ),
        "comparison_model": opt(Str()),
        "comparison_instructions": opt(Str()),
        "skip_comparison": opt(Bool()),
        **_SAMPLING,
    }
)
RESPONSES = Obj(
    {
        "input": req(OneOf(Str(), ListOf(AnyValue()))),
        "model": opt(Str()),
        **_SAMPLING,
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
    }
)


# -- shared pieces --------------------------------------------------------------------------------------


def _resolve_model(state: GatewayState, request: Request, model: Optional[str]) -> Tuple[ModelEntry, bool]:
    auto = model == "auto"
    entry = chat_model(request, DEFAULT_MODEL if auto or not model else model)
    require_capability(entry, entry.supports_chat, "chat completions")
    return entry, auto


def _usage(prompt_tokens: int, completion_tokens: int) -> Dict[str, Any]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }


def _message(choice: engine.Choice) -> Dict[str, Any]:
    message: Dict[str, Any] = {"role": "assistant", "content": choice.text}
    if choice.tool_calls:
        message["tool_calls"] = choice.tool_calls
    return message


def completion_body(
    completion_id: str, created: int, model: str, choices: List[engine.Choice], prompt_tokens: int
) -> Dict[str, Any]:
    """The non-streaming ``chat.completion`` object."""
    completion_tokens = sum(c.completion_tokens for c in choices)
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {"index": i, "message": _message(c), "finish_reason": c.finish_reason, "logprobs": None}
            for i, c in enumerate(choices)
        ],
        "usage": _usage(prompt_tokens, completion_tokens),
        "system_fingerprint": "fp_meshapi_local",
    }


def run_chat(body: Dict[str, Any], entry: ModelEntry) -> Tuple[List[engine.Choice], int]:
    """Run the stand-in model on a validated chat body: ``(choices, prompt_tokens)``."""
    params = engine.ChatParams.from_body(body, entry.id)
    choices = engine.complete(params)
    return choices, engine.prompt_token_count(params.messages, params.tools or None)


def _check_tool_choice(body: Dict[str, Any]) -> None:
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        name = choice.get("function", {}).get("name")
        names = [t["function"]["name"] for t in body.get("tools") or []]
        if name not in names:
            raise ApiError(
                400,
                "invalid_request",
                f"tool_choice names function '{name}', which is not in tools.",
                param="tool_choice",
            )
    elif choice == "required" and not body.get("tools"):
        raise ApiError(
            400, "invalid_request", "tool_choice 'required' needs at least one tool.", param="tool_choice"
        )


def _need_messages(body: Dict[str, Any]) -> None:
    if not body.get("messages"):
        raise validation_failed(
            [
                {
                    "type": "too_short",
                    "loc": ["body", "messages"],
                    "msg": "List should have at least 1 item after validation, not 0",
                    "input": [],
                    "ctx": {"field_type": "List", "min_length": "1", "actual_length": "0"},
                }
            ]
        )


# -- chat completions -----------------------------------------------------------------------------------


async def chat_completions(request: Request) -> Response:
    state = gateway(request)
    raw = await json_body(request, CHAT)
    body = apply_template(state, owner(request), raw)
    _need_messages(body)
    entry, auto = _resolve_model(state, request, body.get("model"))
    _check_tool_choice(body)
    choices, prompt_tokens = run_chat(body, entry)
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
    return json_response(result)


async def _chat_stream(
    state: GatewayState,
    completion_id: str,
    created: int,
    entry: ModelEntry,
    choices: List[engine.Choice],
    prompt_tokens: int,
) -> AsyncIterator[bytes]:
    head = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": entry.id}

    def chunk(index: int, delta: Dict[str, Any], finish: Optional[str] = None) -> bytes:
        return data_event({**head, "choices": [{"index": index, "delta": delta, "finish_reason": finish}]})

    for index, choice in enumerate(choices):
        yield chunk(index, {"role": "assistant", "content": None if choice.tool_calls else ""})
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
        for piece in engine.stream_chunks(choice.text or ""):
            yield chunk(index, {"content": piece})
            await pace(state)
        yield chunk(index, {}, choice.finish_reason)
    completion_tokens = sum(c.completion_tokens for c in choices)
    tail = {
        **head,
        "choices": [],
        "usage": _usage(prompt_tokens, completion_tokens),
        "cost": Catalog.cost(entry, prompt_tokens, completion_tokens),
    }
    yield data_event(tail)
    yield DONE


# -- compare --------------------------------------------------------------------------------------------


def _latency_ms(model: str, tokens: int) -> int:
    jitter = int(hashlib.sha256(model.encode()).hexdigest()[:4], 16) % 250
    return 180 + jitter + 9 * tokens


class _ModelRun:
    def __init__(self, model: str, parent_id: str) -> None:
        self.model = model
        self.request_id = f"{parent_id}::{model}"
        self.content: Optional[str] = None
        self.error: Optional[str] = None
        self.error_code: Optional[str] = None
        self.usage: Optional[Dict[str, int]] = None
        self.body: Optional[Dict[str, Any]] = None
        self.finish_reason: Optional[str] = None
        self.latency_ms = 0

    def result(self) -> Dict[str, Any]:
        return {
            "model": self.model,
            "response_body": self.body,
            "content": self.content,
            "latency_ms": self.latency_ms,
            "error": self.error,
            "error_code": self.error_code,
            "usage": self.usage,
            "request_id": self.request_id,
        }


def _run_compare_model(
    state: GatewayState, body: Dict[str, Any], model: str, override: Dict[str, Any], parent_id: str
) -> _ModelRun:
    run = _ModelRun(model, parent_id)
    entry = state.catalog.get(model)
    if entry is None:
        run.error, run.error_code = f"Model '{model}' not found.", "model_not_found"
        run.latency_ms = 3
        return run
    if not entry.supports_chat:
        run.error = f"Model '{model}' does not support chat completions."
        run.error_code = "model_capability_not_supported"
        run.latency_ms = 3
        return run
    call = {"messages": list(body["messages"])}
    for key in ("temperature", "max_tokens", "seed"):
        if body.get(key) is not None:
            call[key] = body[key]
    for key in ("temperature", "max_tokens"):
        if override.get(key) is not None:
            call[key] = override[key]
    if override.get("system_prompt"):
        call["messages"] = [{"role": "system", "content": override["system_prompt"]}, *call["messages"]]
    choices, prompt_tokens = run_chat(call, entry)
    choice = choices[0]
    completion_tokens = choice.completion_tokens
    run.content = choice.text or ""
    run.finish_reason = choice.finish_reason
    run.usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
    run.body = completion_body(hex_id("chatcmpl-", 24), int(time.time()), entry.id, choices, prompt_tokens)
    run.latency_ms = _latency_ms(model, completion_tokens)
    return run


def _synthesis(
    state: GatewayState, body: Dict[str, Any], runs: List[_ModelRun]
) -> Tuple[str, Optional[str], Optional[Dict[str, int]], bool]:
    requested = body.get("comparison_model") or COMPARISON_MODEL
    entry = state.catalog.get(requested)
    fallback = entry is None or not entry.supports_chat
    if entry is None or not entry.supports_chat:
        entry = state.catalog.get(COMPARISON_MODEL)
    assert entry is not None
    question = engine.content_text(body["messages"][-1].get("content")) if body["messages"] else ""
    answers = "\n".join(f"{r.model}: {r.content}" for r in runs if r.error is None)
    instructions = body.get("comparison_instructions") or "Compare the answers and point out the best one."
    call = {
        "messages": [
            {"role": "system", "content": instructions},
            {"role": "user", "content": f"{question}\n{answers}"},
        ],
        "temperature": 0.3,
        "max_tokens": 2048,
    }
    choices, prompt_tokens = run_chat(call, entry)
    text = choices[0].text or ""
    tokens = choices[0].completion_tokens
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": tokens,
        "total_tokens": prompt_tokens + tokens,
    }
    return text, entry.id, usage, fallback


async def chat_compare(request: Request) -> Response:
    state = gateway(request)
    raw = await json_body(request, COMPARE)
    body = apply_template(state, owner(request), raw)
    _need_messages(body)
    models = list(dict.fromkeys(body["models"]))
    if len(models) > 10:
        raise validation_failed(
            [
                {
                    "type": "too_long",
                    "loc": ["body", "models"],
                    "msg": f"List should have at most 10 items after validation, not {len(models)}",
                    "input": body["models"],
                    "ctx": {"field_type": "List", "max_length": "10", "actual_length": str(len(models))},
                }
            ]
        )
    rid = request_id(request)
    overrides = {o["model"]: o for o in body.get("model_overrides") or []}
    runs = [_run_compare_model(state, body, m, overrides.get(m, {}), rid) for m in models]
    succeeded = [r for r in runs if r.error is None]
    if not succeeded:
        details = [{"model": r.model, "error": r.error, "error_code": r.error_code} for r in runs]
        raise DetailError(
            502,
            {"error": {"code": "all_models_failed", "message": "All models failed.", "details": details}},
        )
    skip = bool(body.get("skip_comparison"))
    comparison_id = hex_id("cmp_", 20)
    partial = len(succeeded) < len(runs)
    if body.get("stream"):
        if skip:
            events = _compare_raw_stream(state, comparison_id, models, runs, partial)
        else:
            events = _compare_synth_stream(state, body, comparison_id, models, runs, partial)
        return sse_response(events)
    comparison: Optional[str] = None
    comparison_model: Optional[str] = None
    comparison_usage: Optional[Dict[str, int]] = None
    fallback = False
    synth_ms = 0
    if not skip and len(succeeded) >= 2:
        comparison, comparison_model, comparison_usage, fallback = _synthesis(state, body, runs)
        synth_ms = _latency_ms(comparison_model or "", (comparison_usage or {}).get("completion_tokens", 0))
    if state.latency > 0:
        await asyncio.sleep(state.latency)
    return json_response(
        {
            "comparison_id": comparison_id,
            "object": "compare.completion",
            "created": int(time.time()),
            "models": models,
            "results": [r.result() for r in runs],
            "comparison": comparison,
            "comparison_model": comparison_model,
            "comparison_usage": comparison_usage,
            "comparison_fallback_used": fallback,
            "total_latency_ms": max(r.latency_ms for r in runs) + synth_ms,
            "partial": partial,
            "skip_comparison": skip,
        }
    )


async def _compare_synth_stream(
    state: GatewayState,
    body: Dict[str, Any],
    comparison_id: str,
    models: List[str],
    runs: List[_ModelRun],
    partial: bool,
) -> AsyncIterator[bytes]:
    succeeded = [r for r in runs if r.error is None]
    will_compare = len(succeeded) >= 2
    synthesis = _synthesis(state, body, runs) if will_compare else None
    comparison_model = synthesis[1] if synthesis else (body.get("comparison_model") or COMPARISON_MODEL)
    yield named_event(
        "meta",
        {
            "comparison_id": comparison_id,
            "models": models,
            "comparison_model": comparison_model,
            "skip_comparison": False,
        },
    )
    for run in sorted(runs, key=lambda r: r.latency_ms):
        await pace(state)
        yield named_event(
            "model_chunk",
            {
                "model": run.model,
                "delta": run.content or "",
                "latency_ms": run.latency_ms,
                "error": run.error,
                "error_code": run.error_code,
                "usage": run.usage,
            },
        )
    yield named_event("model_done", {"results": [r.result() for r in runs]})
    synth_ms = 0
    if synthesis is not None:
        text, _, usage, _ = synthesis
        assert usage is not None
        synth_ms = _latency_ms(synthesis[1] or "", usage["completion_tokens"])
        chunks = engine.stream_chunks(text) or [""]
        for i, piece in enumerate(chunks):
            await pace(state)
            finish = "stop" if i == len(chunks) - 1 else None
            yield named_event("comparison_chunk", {"delta": piece, "finish_reason": finish})
    yield named_event(
        "done",
        {
            "comparison_id": comparison_id,
            "total_latency_ms": max(r.latency_ms for r in runs) + synth_ms,
            "partial": partial,
            "comparison_model": synthesis[1] if synthesis else None,
            "comparison_fallback_used": bool(synthesis and synthesis[3]),
        },
    )


async def _compare_raw_stream(
    state: GatewayState, comparison_id: str, models: List[str], runs: List[_ModelRun], partial: bool
) -> AsyncIterator[bytes]:
    yield named_event(
        "meta",
        {"comparison_id": comparison_id, "models": models, "comparison_model": None, "skip_comparison": True},
    )
    queues = {r.model: engine.stream_chunks(r.content or "") if r.error is None else [] for r in runs}
    finished = set()
    for run in runs:
        if run.error is not None:
            finished.add(run.model)
            yield named_event(
                "model_stream_done",
                {"model": run.model, "finish_reason": None, "usage": None, "error": run.error},
            )
    position = 0
    while len(finished) < len(runs):
        for run in runs:
            if run.model in finished:
                continue
            chunks = queues[run.model]
            if position < len(chunks):
                last = position == len(chunks) - 1
                await pace(state)
                yield named_event(
                    "model_chunk",
                    {
                        "model": run.model,
                        "delta": chunks[position],
                        "finish_reason": run.finish_reason if last else None,
                    },
                )
            if position >= len(chunks) - 1:
                finished.add(run.model)
                yield named_event(
                    "model_stream_done",
                    {"model": run.model, "finish_reason": None, "usage": run.usage, "error": None},
                )
        position += 1
    yield named_event(
        "done",
        {
            "comparison_id": comparison_id,
            "total_latency_ms": max(r.latency_ms for r in runs),
            "partial": partial,
            "skip_comparison": True,
        },
    )


# -- responses ------------------------------------------------------------------------------------------


def _input_messages(body: Dict[str, Any]) -> List[Dict[str, Any]]:
    messages: List[Dict[str, Any]] = []
    if body.get("instructions"):
        messages.append({"role": "system", "content": body["instructions"]})
    messages.extend(body.get("messages") or [])
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
            return {
                "type": "json_schema",
                "json_schema": {"name": fmt.get("name"), "schema": fmt.get("schema")},
            }
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
    entry, _ = _resolve_model(state, request, body.get("model"))
    messages = _input_messages(body)
    params = engine.ChatParams(
        model=entry.id,
        messages=messages,
        temperature=body.get("temperature"),
        seed=body.get("seed"),
        max_tokens=body.get("max_output_tokens"),
        tools=_responses_tools(body),
        tool_choice=_responses_tool_choice(body.get("tool_choice")),
        response_format=_responses_format(body),
    )
    choice = engine.complete(params)[0]
    input_tokens = engine.prompt_token_count(messages, params.tools or None)
    response_id = hex_id("resp_", 24)
    created = int(time.time())
    reasoning = entry.supports_thinking or body.get("reasoning") is not None
    final = _response_object(response_id, created, entry, choice, input_tokens, reasoning)
    _remember_response(state, owner(request), final)
    if body.get("stream"):
        return sse_response(_responses_stream(state, final))
    if body.get("background"):
        return json_response({**final, "status": "queued", "output": [], "usage": None})
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


async def get_response(request: Request) -> Response:
    ident = request.path_params["response_id"]
    found = _responses_of(gateway(request), owner(request)).get(ident)
    if found is None:
        raise ApiError(404, "not_found", f"Response '{ident}' not found.")
    return json_response(found)


async def list_responses(request: Request) -> Response:
    query = check_query(
        dict(request.query_params), {"limit": (Int(ge=1, le=100), 20), "after": (Str(), None)}
    )
    newest_first = list(reversed(_responses_of(gateway(request), owner(request)).values()))
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
            "completed_at": r["created_at"],
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
        output.append(
            {
                "type": "message",
                "id": f"msg_{suffix}",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": choice.text or "", "annotations": []}],
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
        if item["type"] == "message":
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
    Route("/v1/chat/completions", chat_completions, methods=["POST"]),
    Route("/v1/chat/compare", chat_compare, methods=["POST"]),
    Route("/v1/responses", create_response, methods=["POST"]),
    Route("/v1/responses", list_responses, methods=["GET"]),
    Route("/v1/responses/{response_id}", get_response, methods=["GET"]),
]
