"""Batches (docs/protocol.md §6): inline requests run through the batch lifecycle.

Like RAG embedding jobs, a batch advances with the clock whenever it is looked at: ``validating``
for one ``batch_step_seconds``, ``in_progress`` for two (``request_counts.completed`` growing), then
``finalizing`` for one, then ``completed`` with inline ``results``. A cancel moves it to
``cancelling`` and, one step later, to ``cancelled`` with the results finished so far.
"""

from __future__ import annotations

import time
from typing import Any, Dict, List, Optional

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..errors import ApiError, envelope, not_found
from ..fakes.templating import apply_template
from ..http.billing import bill_job, estimate
from ..http.context import gateway, json_body, json_response, owner
from ..http.validation import Int, ListOf, MapOf, Obj, Str, check_body, check_query, opt, req
from ..ids import hex_id, new_request_id
from ..store.state import GatewayState
from ..store.storage import Record, public
from ._conversation import CHAT, completion_body, run_chat

KIND = "batch"
TERMINAL = frozenset({"completed", "failed", "cancelled", "expired"})
MAX_ACTIVE = 10
ENDPOINT = "/v1/chat/completions"

CREATE = Obj(
    {
        "requests": req(
            ListOf(
                Obj(
                    {
                        "custom_id": req(Str(min_length=1)),
                        "method": opt(Str()),
                        "url": opt(Str()),
                        "body": req(MapOf()),
                    }
                ),
                min_length=1,
            )
        ),
        "completion_window": opt(Str()),
        "metadata": opt(MapOf()),
    }
)
_SUMMARY = (
    "id",
    "object",
    "endpoint",
    "input_file_id",
    "output_file_id",
    "status",
    "model",
    "provider",
    "created_at",
    "completed_at",
    "usage_synced",
)


def _run_one(state: GatewayState, who: str, item: Dict[str, Any]) -> Dict[str, Any]:
    rid = new_request_id()
    result: Dict[str, Any] = {"id": hex_id("batch_req_", 24), "custom_id": item["custom_id"]}
    try:
        body = check_body(item["body"], CHAT)
        body = apply_template(state, who, body)
        entry = state.catalog.find(body.get("model") or "")
        choices, prompt_tokens = run_chat(body, entry, state.replies)
    except ApiError as exc:
        error = exc.error_object()
        result["response"] = {"status_code": exc.status, "request_id": rid, "body": envelope(error, rid)}
        result["error"] = {"code": exc.code, "message": exc.message}
        return result
    completion = completion_body(hex_id("chatcmpl-", 24), int(time.time()), entry.id, choices, prompt_tokens)
    result["response"] = {"status_code": 200, "request_id": rid, "body": completion}
    result["error"] = None
    return result


def _settle(state: GatewayState, who: str, record: Record, count: int, at: float) -> None:
    results = [_run_one(state, who, item) for item in record["_requests"][:count]]
    for result in results:  # each line is billed as its own request when the batch settles
        response = result["response"]
        usage = response["body"].get("usage") or {} if result["error"] is None else {}
        error = result["error"]["code"] if result["error"] is not None else None
        bill_job(state, who, request_id=response["request_id"], model=record["model"],
                 prompt_tokens=usage.get("prompt_tokens", 0), completion_tokens=usage.get("completion_tokens", 0),
                 error_code=error)  # fmt: skip
    failed = sum(1 for r in results if r["error"] is not None)
    record["results"] = results
    record["errors_detail"] = [
        {"custom_id": r["custom_id"], **r["error"]} for r in results if r["error"] is not None
    ] or None
    record["request_counts"] = {
        "total": len(record["_requests"]),
        "completed": len(results) - failed,
        "failed": failed,
    }
    record["output_file_id"] = hex_id("file-", 24)
    record["usage_synced"] = True


def advance(state: GatewayState, who: str, record: Record) -> Record:
    """Bring a batch up to date with the clock (see the module docstring)."""
    if record["status"] in TERMINAL:
        return record
    now = time.time()
    step = state.batch_step_seconds
    total = len(record["_requests"])
    t0 = record["_t0"]
    before = (record["status"], record["request_counts"]["completed"])
    cancel_at = record.get("_cancel_at")
    if cancel_at is not None:
        if now - cancel_at >= step:
            _settle(state, who, record, record["_done_at_cancel"], cancel_at + step)
            record["status"] = "cancelled"
            record["cancelled_at"] = int(cancel_at + step)
    else:
        elapsed = now - t0
        if elapsed >= 4 * step:
            _settle(state, who, record, total, t0 + 4 * step)
            record["status"] = "completed"
            record["in_progress_at"] = record.get("in_progress_at") or int(t0 + step)
            record["finalizing_at"] = record.get("finalizing_at") or int(t0 + 3 * step)
            record["completed_at"] = int(t0 + 4 * step)
        elif elapsed >= 3 * step:
            record["status"] = "finalizing"
            record["in_progress_at"] = record.get("in_progress_at") or int(t0 + step)
            record["finalizing_at"] = int(t0 + 3 * step)
            record["request_counts"]["completed"] = total
        elif elapsed >= step:
            record["status"] = "in_progress"
            record["in_progress_at"] = int(t0 + step)
            record["request_counts"]["completed"] = _done(record, now, step)
    if (record["status"], record["request_counts"]["completed"]) != before:
        state.store.put(KIND, who, record["id"], record)
    return record


def _done(record: Record, now: float, step: float) -> int:
    """How many requests an in-progress batch has finished by ``now``."""
    elapsed = now - record["_t0"] - step
    if elapsed <= 0:
        return 0
    total = len(record["_requests"])
    return min(total, int(total * elapsed / (2 * step)))


def _canonical(state: GatewayState, model: str) -> str:
    """The catalog id a batch line's model names (a bare name counts as its full id)."""
    entry = state.catalog.resolve(model)
    return entry.id if entry is not None else model


async def create_batch(request: Request) -> Response:
    body = await json_body(request, CREATE)
    state, who = gateway(request), owner(request)
    items = body["requests"]
    for item in items:
        url = item.get("url") or ENDPOINT
        if url != ENDPOINT:
            raise ApiError(
                400, "invalid_batch_file", f"Unsupported batch url '{url}'; only {ENDPOINT} is supported."
            )
    models = [item["body"].get("model") for item in items]
    if any(not isinstance(m, str) or not m for m in models):
        raise ApiError(400, "invalid_batch_file", "Every batch request must include body.model.")
    if len({_canonical(state, m) for m in models}) > 1:
        raise ApiError(400, "mixed_models", "All requests in a batch must use the same model.")
    ids = [item["custom_id"] for item in items]
    if len(set(ids)) != len(ids):
        raise ApiError(400, "invalid_batch_file", "custom_id values must be unique within a batch.")
    entry = state.catalog.find(models[0])
    if not entry.supports_batching:
        raise ApiError(
            400, "model_not_supported_for_batching", f"Model '{entry.id}' does not support batching."
        )
    active = [b for b in state.store.list(KIND, who) if advance(state, who, b)["status"] not in TERMINAL]
    if len(active) >= MAX_ACTIVE:
        raise ApiError(
            429, "batch_limit_exceeded", f"At most {MAX_ACTIVE} batches may be in progress at once."
        )
    now = time.time()
    batch_id = hex_id("batch_", 24)
    record: Record = {
        "id": batch_id,
        "object": "batch",
        "endpoint": ENDPOINT,
        "status": "validating",
        "model": entry.id,
        "provider": entry.provider,
        "input_file_id": hex_id("file-", 24),
        "output_file_id": None,
        "error_file_id": None,
        "completion_window": body.get("completion_window") or "24h",
        "created_at": int(now),
        "in_progress_at": None,
        "finalizing_at": None,
        "completed_at": None,
        "cancelling_at": None,
        "cancelled_at": None,
        "expires_at": int(now) + 86400,
        "usage_synced": False,
        "request_counts": {"total": len(items), "completed": 0, "failed": 0},
        "metadata": body.get("metadata"),
        "results": None,
        "errors_detail": None,
        "_requests": [{"custom_id": i["custom_id"], "body": i["body"]} for i in items],
        "_t0": now,
    }
    state.store.put(KIND, who, batch_id, record)
    held = estimate(state, entry.id, *LINE_HOLD_TOKENS) * len(items)
    state.balance.hold(who, "batches", held, running=lambda: _running(state, who, batch_id))
    return json_response(public(record))


#: What a batch holds per line while it runs: the price of this many prompt and completion tokens.
LINE_HOLD_TOKENS = (1000, 1000)


def _running(state: GatewayState, who: str, batch_id: str) -> bool:
    record = state.store.get_owned(KIND, who, batch_id)
    return record is not None and advance(state, who, record)["status"] not in TERMINAL


def _owned(request: Request) -> Record:
    state, who = gateway(request), owner(request)
    batch_id = request.path_params["batch_id"]
    record = state.store.get_owned(KIND, who, batch_id)
    if record is None:
        raise not_found("Batch", batch_id)
    return advance(state, who, record)


async def get_batch(request: Request) -> Response:
    return json_response(public(_owned(request)))


async def cancel_batch(request: Request) -> Response:
    record = _owned(request)
    state, who = gateway(request), owner(request)
    if record["status"] not in TERMINAL and record.get("_cancel_at") is None:
        now = time.time()
        in_progress = record["status"] in ("in_progress", "finalizing")
        record["_done_at_cancel"] = _done(record, now, state.batch_step_seconds) if in_progress else 0
        record["_cancel_at"] = now
        record["status"] = "cancelling"
        record["cancelling_at"] = int(now)
        state.store.put(KIND, who, record["id"], record)
    return json_response(public(record))


async def list_batches(request: Request) -> Response:
    state, who = gateway(request), owner(request)
    query = check_query(
        dict(request.query_params), {"limit": (Int(ge=1, le=100), 20), "after": (Str(), None)}
    )
    records = state.store.list(KIND, who)
    after: Optional[str] = query["after"]
    if after is not None:
        ids = [r["id"] for r in records]
        records = records[ids.index(after) + 1 :] if after in ids else []
    page = records[: query["limit"]]
    data: List[Dict[str, Any]] = []
    for record in page:
        advance(state, who, record)
        data.append({k: record.get(k) for k in _SUMMARY})
    return json_response(
        {
            "object": "list",
            "data": data,
            "has_more": len(records) > len(page),
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
        }
    )


ROUTES = [
    Route("/v1/batches", create_batch, methods=["POST"]),
    Route("/v1/batches", list_batches, methods=["GET"]),
    Route("/v1/batches/{batch_id}", get_batch, methods=["GET"]),
    Route("/v1/batches/{batch_id}/cancel", cancel_batch, methods=["POST"]),
]
