"""Billing: a paid request finding no balance is refused before its model runs; every billable attempt
leaves a usage row and is charged (docs/protocol.md §V2).

:class:`BillingMiddleware` sits between the rate limits and the fault plan (``middleware.MIDDLEWARE``), so
a planned fault is an attempt like any other (an ``error`` row that costs nothing), while a request
refused by the rate limits never reaches billing. Billable: a ``POST`` to one of :data:`BILLABLE_PATHS`.
Work that runs after its answer (batches, video tasks, background responses) is recorded when it ends, by
its route, through :func:`bill_job`, and holds funds until then; its accepted request leaves no row here.
A compare that answers is billed by its route too, one row per model plus one for the synthesis
(:data:`ITEMISED_PATHS`); its refusals and failures are one ``error`` row here, like any request.
A replay of a stored idempotent reply (``Idempotent-Replayed: true``) is neither recorded nor charged.
"""

from __future__ import annotations

import time
from decimal import Decimal, InvalidOperation
from typing import Any, Optional

from ..errors import ApiError, dumps, envelope
from ..record.reqlog import RequestRecord
from ..store.idempotency import REPLAYED_HEADER
from ..store.response_cache import cache_source
from ..store.state import GatewayState
from ..store.usage import UsageRow
from .asgi import (
    SCOPE_JSON,
    SCOPE_OWNER,
    SCOPE_RECORD,
    SCOPE_REQUEST_ID,
    ASGIApp,
    Receive,
    Scope,
    Send,
    send_reply,
)

__all__ = [
    "BILLABLE_PATHS",
    "DEFERRED_PATHS",
    "ITEMISED_PATHS",
    "BillingMiddleware",
    "balance_refusal",
    "bill_job",
    "estimate",
]

#: The endpoints that run a model and are billed per request.
BILLABLE_PATHS = frozenset({
    "/v1/chat/completions", "/v1/chat/compare", "/v1/responses", "/v1/embeddings",
    "/v1/images/generations", "/v1/images/edits", "/v1/audio/speech", "/v1/audio/transcriptions",
    "/v1/audio/transcriptions/translate", "/v1/audio/translations", "/v1/video/generations",
    "/v1/web/search", "/v1/moderations", "/v1/batches",
})  # fmt: skip
#: Billable endpoints whose accepted work is recorded when it ends (:func:`bill_job`), not when answered.
DEFERRED_PATHS = frozenset({"/v1/batches", "/v1/video/generations"})
#: Billable endpoints whose answered work is several calls, each recorded by the route (:func:`bill_job`):
#: compare bills each model's call under its ``results[].request_id`` and the synthesis under the
#: request's own id (docs/protocol.md §1.9: N + 1 usage events, one request for the rate limits).
ITEMISED_PATHS = frozenset({"/v1/chat/compare"})


def _deferred(path: str, body: Any) -> bool:
    background = path == "/v1/responses" and isinstance(body, dict) and body.get("background") is True
    return path in DEFERRED_PATHS or path in ITEMISED_PATHS or background


def _requested_model(body: Any) -> Any:
    if not isinstance(body, dict):
        return None
    lines = body.get("requests")  # a batch: its lines share one model
    if "model" not in body and isinstance(lines, list) and lines and isinstance(lines[0], dict):
        inner = lines[0].get("body")
        return inner.get("model") if isinstance(inner, dict) else None
    return body.get("model")


def estimate(state: GatewayState, model: str, prompt_tokens: int, completion_tokens: int) -> Decimal:
    """The catalog price of a call (0 for an unknown model): what a reservation holds."""
    return Decimal(state.price(model, prompt_tokens, completion_tokens) or "0")


def bill_job(
    state: GatewayState,
    owner: str,
    *,
    request_id: str,
    model: str,
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
    error_code: Optional[str] = None,
    stream: bool = False,
    latency_ms: int = 0,
) -> None:
    """Record and charge one call its route bills itself (a batch line, a video task, a background
    response, a compare's model or synthesis, a realtime response); ``error_code`` set: it failed and
    costs nothing."""
    ok = error_code is None
    state.bill(
        UsageRow(
            id=state.usage.new_id(),
            owner=owner,
            request_id=request_id,
            model=model,
            stream=stream,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost=estimate(state, model, prompt_tokens, completion_tokens) if ok else Decimal(0),
            status="success" if ok else "error",
            error_code=error_code,
            latency_ms=latency_ms,
            created_at=time.time(),
        )
    )


def balance_refusal(state: GatewayState, owner: str, model: Any) -> Optional[ApiError]:
    """The ``402 spend_limit_exceeded`` for a request on a paid model (or none named) when nothing is
    available to spend, or the key's spend cap is reached (``spend_cap_usd``); ``None`` when it may run."""
    entry = state.catalog.resolve(model) if isinstance(model, str) and model else None
    if entry is not None and entry.is_free:
        return None
    cap = state.webhooks.alerts.settings.spend_cap_usd
    if cap is not None and state.balance.totals(owner)[1] >= cap:
        return ApiError(
            402, "spend_limit_exceeded", f"Spend cap reached: {cap} USD spent (see GET /v1/usage)."
        )
    available = state.balance.available(owner)
    if available > 0:
        return None
    return ApiError(
        402,
        "spend_limit_exceeded",
        "Insufficient balance: nothing is available to spend (see GET /v1/balance).",
    )


def _cost(record: RequestRecord) -> Decimal:
    try:
        cost = Decimal(record.cost) if record.cost is not None else Decimal(0)
    except InvalidOperation:
        return Decimal(0)
    return cost if cost.is_finite() and cost > 0 else Decimal(0)


def _served_model(record: RequestRecord) -> Optional[str]:
    if not record.streamed:
        body = record.response_json()
        if isinstance(body, dict) and isinstance(body.get("model"), str):
            return str(body["model"])
    return record.model


def _error_code(record: RequestRecord) -> Optional[str]:
    body = record.response_json()
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) else f"http_{record.status}"


def usage_row(state: GatewayState, owner: str, record: RequestRecord) -> UsageRow:
    """The usage row of one finished attempt."""
    ok = record.status is not None and 200 <= record.status < 300
    body = record.json if isinstance(record.json, dict) else {}
    tier = body.get("service_tier")
    source = _cache_source(record)
    return UsageRow(
        id=state.usage.new_id(),
        owner=owner,
        request_id=record.request_id,
        model=_served_model(record),
        stream=record.streamed,
        prompt_tokens=record.tokens_in or 0,
        completion_tokens=record.tokens_out or 0,
        cost=_cost(record) if ok and source != "gateway" else Decimal(0),  # a cache hit costs nothing
        status="success" if ok else "error",
        error_code=None if ok else _error_code(record),
        latency_ms=int(record.duration_ms or 0),
        created_at=record.time,
        routing_fallback=record.response_headers.get("x-mesh-routing-fallback") == "true",
        service_tier=tier if isinstance(tier, str) else "default",
        cache_source=source,
    )


def _cache_source(record: RequestRecord) -> Optional[str]:
    """``"gateway"`` for a response-cache hit, ``"provider"`` for an answer that reports cached prompt
    tokens (read from a plain JSON answer; a stream's usage is not kept), else ``None``."""
    source = cache_source(record.response_headers)
    if source is None and not record.streamed:
        body = record.response_json()
        usage = body.get("usage") if isinstance(body, dict) else None
        details = usage.get("prompt_tokens_details") if isinstance(usage, dict) else None
        cached = details.get("cached_tokens") if isinstance(details, dict) else None
        if isinstance(cached, int) and cached > 0:
            source = "provider"
    return source


class BillingMiddleware:
    """Refuses a paid request when the balance is exhausted; records and charges each billable attempt."""

    def __init__(self, app: ASGIApp, state: GatewayState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        owner = scope.get(SCOPE_OWNER)
        record = scope.get(SCOPE_RECORD)
        billable = scope["type"] == "http" and scope["method"] == "POST" and scope["path"] in BILLABLE_PATHS
        if not billable or owner is None or not isinstance(record, RequestRecord):
            await self.app(scope, receive, send)
            return
        body = scope.get(SCOPE_JSON)
        refusal = balance_refusal(self.state, owner, _requested_model(body))
        try:
            if refusal is not None:
                reply = dumps(envelope(refusal.error_object(), scope[SCOPE_REQUEST_ID]))
                await send_reply(send, refusal.status, reply, "application/json")
            else:
                await self.app(scope, receive, send)
        finally:
            record.finish()
            status = record.status
            later = status is not None and 200 <= status < 300 and _deferred(scope["path"], body)
            if status is not None and not later and record.response_headers.get(REPLAYED_HEADER) != "true":
                self.state.bill(usage_row(self.state, owner, record))
