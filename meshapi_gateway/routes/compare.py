"""``/v1/chat/compare`` (SDK ``client.compare``; docs/protocol.md §3.3, §4.2): several models, one synthesis.

A provider fault planned on a model (``gw.provider_faults.add(model, ...)``) makes that model fail: in a
plain call its result carries the error (code: the fault's), in a stream it fails after the stream
started, with an in-band error frame scoped to it (``event: error``, ``{"model", "error": {...},
"request_id"}``; in raw mode after its first chunk). Such a model does not count as failed before the
stream, so a stream whose every model is faulted still starts (and each model's frame follows).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import Any, AsyncIterator, Dict, List, Optional, Tuple

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..errors import DetailError, validation_failed
from ..fakes import engine, synthesis
from ..fakes.templating import apply_template
from ..http.billing import bill_job
from ..http.context import gateway, json_body, json_response, owner, pace, request_id
from ..http.sse import named_event, sse_response
from ..http.validation import Bool, Int, ListOf, Num, Obj, Str, opt, req
from ..ids import hex_id
from ..store.state import GatewayState
from ._conversation import MESSAGE, SAMPLING, completion_body, need_messages, run_chat

COMPARISON_MODEL = "openai/gpt-4o-mini"

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
        **SAMPLING,
    }
)


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
        #: set when a provider fault makes this model fail inside a stream (its error frame's body)
        self.in_band: Optional[Dict[str, Any]] = None

    def result(self) -> Dict[str, Any]:
        return {
            "model": self.model,
            "response_body": self.body,
            "content": self.content if self.error is None else None,
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
    choices, prompt_tokens = run_chat(call, entry, state.replies)
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
    fault = state.provider_faults.take(entry)
    if fault is not None:
        run.error = f"The provider of {entry.id} is not available right now."
        run.error_code = fault.error_code
        run.body = run.usage = None
        if body.get("stream"):
            error = {
                "code": fault.error_code,
                "message": run.error,
                "provider_error": {
                    "provider": entry.provider,
                    "status": fault.status,
                    "message": "planned fault",
                },
            }
            run.in_band = {"model": run.model, "error": error, "request_id": run.request_id}
        else:
            run.content = None
    return run


#: A synthesis: its text, the model that wrote it, its usage, whether the requested model was replaced.
Synthesis = Tuple[str, Optional[str], Optional[Dict[str, int]], bool]


def _error_frame(run: _ModelRun) -> bytes:
    """The in-band error frame of a model that failed after the stream started."""
    assert run.in_band is not None
    return named_event("error", run.in_band)


def _synthesis(state: GatewayState, body: Dict[str, Any], runs: List[_ModelRun]) -> Synthesis:
    requested = body.get("comparison_model") or COMPARISON_MODEL
    entry = state.catalog.resolve(requested)
    fallback = entry is None or not entry.supports_chat
    if entry is None or not entry.supports_chat:
        entry = state.catalog.get(COMPARISON_MODEL)
    assert entry is not None
    question = engine.content_text(body["messages"][-1].get("content")) if body["messages"] else ""
    answered = [(r.model, r.content or "") for r in runs if r.error is None]
    answers = "\n".join(f"{model}: {content}" for model, content in answered)
    instructions = body.get("comparison_instructions") or "Compare the answers and point out the best one."
    prompt = [
        {"role": "system", "content": instructions},
        {"role": "user", "content": f"{question}\n{answers}"},
    ]
    text = synthesis.synthesis(question, answered)  # quotes the answers (fakes/synthesis.py)
    prompt_tokens = engine.prompt_token_count(prompt)
    tokens = engine.count_tokens(text)
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": tokens,
        "total_tokens": prompt_tokens + tokens,
    }
    return text, entry.id, usage, fallback


def _bill(
    state: GatewayState,
    who: str,
    rid: str,
    runs: List[_ModelRun],
    synthesis: Optional[Synthesis],
    stream: bool,
) -> None:
    """One usage event per model's call, and one for the synthesis when it ran."""
    for run in runs:
        usage = run.usage or {}
        bill_job(
            state,
            who,
            request_id=run.request_id,
            model=run.model,
            prompt_tokens=usage.get("prompt_tokens", 0),
            completion_tokens=usage.get("completion_tokens", 0),
            error_code=(run.error_code or "upstream_error") if run.error is not None else None,
            stream=stream,
            latency_ms=run.latency_ms,
        )
    if synthesis is not None:
        _, model, synthesis_usage, _ = synthesis
        tokens = synthesis_usage or {}
        completion = tokens.get("completion_tokens", 0)
        bill_job(
            state,
            who,
            request_id=rid,
            model=model or COMPARISON_MODEL,
            prompt_tokens=tokens.get("prompt_tokens", 0),
            completion_tokens=completion,
            stream=stream,
            latency_ms=_latency_ms(model or "", completion),
        )


def _canonical(state: GatewayState, model: str) -> str:
    """The catalog id a listed model names: a unique bare name becomes its full id; an ambiguous one
    is the request's 400 (``Catalog.find``); an unknown one stays as given (that model's own error)."""
    if len(state.catalog.candidates(model)) > 1:
        state.catalog.find(model)
    entry = state.catalog.resolve(model)
    return entry.id if entry is not None else model


async def chat_compare(request: Request) -> Response:
    state = gateway(request)
    raw = await json_body(request, COMPARE)
    body = apply_template(state, owner(request), raw)
    need_messages(body)
    models = list(dict.fromkeys(_canonical(state, m) for m in body["models"]))
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
    overrides = {_canonical(state, o["model"]): o for o in body.get("model_overrides") or []}
    runs = [_run_compare_model(state, body, m, overrides.get(m, {}), rid) for m in models]
    succeeded = [r for r in runs if r.error is None]
    if not [r for r in runs if r.error is None or r.in_band is not None]:
        details = [{"model": r.model, "error": r.error, "error_code": r.error_code} for r in runs]
        raise DetailError(
            502,
            {"error": {"code": "all_models_failed", "message": "All models failed.", "details": details}},
        )
    skip = bool(body.get("skip_comparison"))
    comparison_id = hex_id("cmp_", 20)
    partial = len(succeeded) < len(runs)
    synthesis = _synthesis(state, body, runs) if not skip and len(succeeded) >= 2 else None
    _bill(state, owner(request), rid, runs, synthesis, bool(body.get("stream")))
    if body.get("stream"):
        if skip:
            events = _compare_raw_stream(state, comparison_id, models, runs, partial)
        else:
            events = _compare_synth_stream(state, body, comparison_id, models, runs, partial, synthesis)
        return sse_response(events)
    comparison: Optional[str] = None
    comparison_model: Optional[str] = None
    comparison_usage: Optional[Dict[str, int]] = None
    fallback = False
    synth_ms = 0
    if synthesis is not None:
        comparison, comparison_model, comparison_usage, fallback = synthesis
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
    synthesis: Optional[Synthesis],
) -> AsyncIterator[bytes]:
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
        if run.in_band is not None:
            yield _error_frame(run)
            continue
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
    for run in runs:
        if run.in_band is not None:  # its first chunk, then its error frame
            queues[run.model] = engine.stream_chunks(run.content or "")[:1]
    finished = set()
    for run in runs:
        if run.error is not None and run.in_band is None:
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
                        "finish_reason": run.finish_reason if last and run.in_band is None else None,
                    },
                )
            if position >= len(chunks) - 1 and run.in_band is not None:
                finished.add(run.model)
                yield _error_frame(run)
            elif position >= len(chunks) - 1:
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


ROUTES = [
    Route("/v1/chat/compare", chat_compare, methods=["POST"]),
]
