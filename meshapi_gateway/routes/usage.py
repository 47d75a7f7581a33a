"""``/v1/usage*``: the calling key's usage, computed from what this gateway served (docs/protocol.md §V2).

``POST /v1/usage`` (summary), ``POST /v1/usage/events`` (a page, newest first; ``limit`` 1-200, default
50; more is a 422), ``GET /v1/usage/events/{event_id}/attempts`` (oldest first),
``GET /v1/usage/spend-trend`` (``granularity`` ``hour`` or ``day``; default window: the last 24 hours or
the last 7 days, the current bucket included; at most :data:`MAX_BUCKETS` buckets),
``GET /v1/usage/rate-limits`` (the counters the rate limits compare, ``key`` scope only) and
``GET /v1/usage/events/export`` (dashboard sessions only: a key gets 403). ``org_id``, ``team_id``,
``member_user_id`` and ``end_user_id`` are accepted and ignored, as for production key callers.
"""

from __future__ import annotations

import math
import time
from decimal import Decimal
from typing import Any, Dict, List, Optional

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..errors import ApiError, validation_failed
from ..http.context import gateway, json_body, json_response, owner
from ..http.ratelimit import metric
from ..http.validation import Bool, Int, Literal, Obj, Str, check_query, opt
from ..ids import iso_timestamp
from ..store.usage import UsageFilter, money, parse_instant

__all__ = ["MAX_BUCKETS", "ROUTES"]

MAX_EVENTS_PAGE = 200
MAX_BUCKETS = 1000
_SECONDS = {"hour": 3600, "day": 86400}
_DEFAULT_BUCKETS = {"hour": 24, "day": 7}

FILTERS = Obj(
    {
        "org_id": opt(Str()),
        "since": opt(Str()),
        "until": opt(Str()),
        "model": opt(Str()),
        "status": opt(Literal("success", "error")),
        "key_id": opt(Str()),
        "team_id": opt(Str()),
        "member_user_id": opt(Str()),
        "end_user_id": opt(Str()),
        "limit": opt(Int(ge=1, le=MAX_EVENTS_PAGE)),
        "offset": opt(Int(ge=0)),
    }
)


def _instant(value: Optional[str], name: str, where: str) -> Optional[float]:
    if value is None:
        return None
    parsed = parse_instant(value)
    if parsed is None:
        msg = "Input should be an ISO 8601 date or date-time"
        raise validation_failed(
            [{"type": "datetime_parsing", "loc": [where, name], "msg": msg, "input": value}]
        )
    return parsed


async def _filters(request: Request) -> Dict[str, Any]:
    body = await json_body(request, FILTERS) if await request.body() else {}
    body["_where"] = UsageFilter(
        since=_instant(body.get("since"), "since", "body"),
        until=_instant(body.get("until"), "until", "body"),
        model=body.get("model"),
        status=body.get("status"),
        key_id=body.get("key_id"),
    )
    return body


async def usage_summary(request: Request) -> Response:
    check_query(dict(request.query_params), {"refresh": (Bool(), None)})  # accepted; never cached
    body = await _filters(request)
    limit, offset = body.get("limit") or 50, body.get("offset") or 0
    return json_response(gateway(request).usage.summary(owner(request), body["_where"], limit, offset))


async def usage_events(request: Request) -> Response:
    body = await _filters(request)
    limit, offset = body.get("limit") or 50, body.get("offset") or 0
    events = gateway(request).usage.events(owner(request), body["_where"])
    page = [row.as_dict() for row in events[offset : offset + limit]]
    return json_response({"events": page, "total": len(events), "limit": limit, "offset": offset})


async def usage_attempts(request: Request) -> Response:
    event_id = request.path_params["event_id"]
    found = gateway(request).usage.attempts(owner(request), event_id)
    if found is None:
        raise ApiError(404, "not_found", f"No usage event '{event_id[:64]}'.")
    event, attempts = found
    rows = [row.as_dict() for row in attempts]
    return json_response({"event_id": event.id, "request_id": event.request_id, "attempts": rows})


def _edges(granularity: str, since: Optional[float], until: Optional[float], now: float) -> List[float]:
    size = _SECONDS[granularity]
    end = until if until is not None else (math.floor(now / size) + 1) * size
    start = since if since is not None else end - _DEFAULT_BUCKETS[granularity] * size
    start = math.floor(start / size) * size
    if end <= start:
        raise ApiError(422, "validation_error", "'until' must be later than 'since'.")
    count = math.ceil((end - start) / size)
    if count > MAX_BUCKETS:
        raise ApiError(422, "validation_error", f"The window holds {count} buckets; at most {MAX_BUCKETS}.")
    return [start + i * size for i in range(count)] + [min(end, start + count * size)]


async def spend_trend(request: Request) -> Response:
    query = check_query(
        dict(request.query_params),
        {"granularity": (Literal("hour", "day"), "day"), "since": (Str(), None), "until": (Str(), None)},
    )
    granularity = query["granularity"]
    since = _instant(query["since"], "since", "query")
    until = _instant(query["until"], "until", "query")
    edges = _edges(granularity, since, until, time.time())
    buckets = gateway(request).usage.trend(owner(request), edges)
    total = sum((Decimal(bucket["cost_usd"]) for bucket in buckets), Decimal(0))
    return json_response(
        {
            "granularity": granularity,
            "since": iso_timestamp(edges[0]),
            "until": iso_timestamp(edges[-1]),
            "buckets": buckets,
            "total_cost_usd": money(total),
        }
    )


async def rate_limits(request: Request) -> Response:
    state, who, now = gateway(request), owner(request), time.time()
    key = state.limiter.report(who, now)  # the counters the limits compare (http/ratelimit.py)
    tokens = state.usage.tokens_since(who, math.floor(now / 60) * 60)
    key["tpm"] = metric(tokens, None, key["rpm"]["resets_in_seconds"])  # shown, never enforced
    return json_response({"as_of": iso_timestamp(now), "key": key, "org": None, "team": None, "member": None})


async def export_events(request: Request) -> Response:
    raise ApiError(403, "forbidden", "The usage export needs a dashboard session; API keys cannot use it.")


ROUTES = [
    Route("/v1/usage", usage_summary, methods=["POST"]),
    Route("/v1/usage/events", usage_events, methods=["POST"]),
    Route("/v1/usage/events/export", export_events, methods=["GET"]),
    Route("/v1/usage/events/{event_id}/attempts", usage_attempts, methods=["GET"]),
    Route("/v1/usage/spend-trend", spend_trend, methods=["GET"]),
    Route("/v1/usage/rate-limits", rate_limits, methods=["GET"]),
]
