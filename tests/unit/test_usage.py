"""``client.usage`` and ``client.balance`` on httpx.MockTransport, sync and async: request shapes (paths,
methods, bodies, queries, per-call options), money read as exact ``Decimal`` from strings and from JSON
numbers, unknown fields kept, the lazy paging of ``iter_events``, raw views and the 402 error."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Callable, Dict, List

import httpx
import pytest

from meshapi import (
    Balance,
    InvalidParamsError,
    PaymentRequiredError,
    UsageEvent,
    UsageEventsPage,
    UsageQueryParams,
    UsageSummary,
)
from tests.conftest import collect, resolve

BIG = "123456789012345678901234.123456789012345678"
FINE = "0.1234567890123456789012345"
SUMMARY = (
    '{"total_requests": 3, "successful_requests": 2, "error_requests": 1, "prompt_tokens": 30,'
    ' "completion_tokens": 12, "total_tokens": 42, "total_cost_usd": "' + BIG + '",'
    ' "by_model": [{"model": "openai/gpt-4o-mini", "requests": 3, "cost_usd": ' + FINE + "}],"
    ' "by_model_total": 1, "total_platform_fee_usd": 1e-30, "cached_at": null, "region": "eu"}'
)


def event(n: int) -> Dict[str, Any]:
    return {"id": f"evt_{n}", "request_id": f"req_{n}", "model": "m", "cost_usd": f"0.00000{n}",
            "status": "success", "prompt_tokens": n, "stream": False, "shard": n}  # fmt: skip


def recording(respond: Callable[[httpx.Request], httpx.Response]) -> Any:
    seen: List[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return respond(request)

    handler.seen = seen  # type: ignore[attr-defined]
    return handler


def text(body: str, status: int = 200) -> Callable[[httpx.Request], httpx.Response]:
    headers = {"content-type": "application/json", "x-request-id": "req_usage"}
    return lambda request: httpx.Response(status, content=body.encode(), headers=headers)


async def test_summary_request_and_exact_money(make_client: Any) -> None:
    handler = recording(text(SUMMARY))
    client = make_client(handler)
    summary = await resolve(
        client.usage.summary(since="2026-12-01T00:00:00Z", model="m", refresh=True, request_id="req-mine")
    )
    request = handler.seen[0]
    assert (request.method, request.url.path, dict(request.url.params)) == (
        "POST",
        "/v1/usage",
        {"refresh": "true"},
    )
    assert json.loads(request.content) == {"org_id": "", "since": "2026-12-01T00:00:00Z", "model": "m"}
    assert request.headers["x-request-id"] == "req-mine"
    assert isinstance(summary, UsageSummary) and summary._request_id == "req_usage"
    assert summary.total_cost_usd == Decimal(BIG) and str(summary.total_cost_usd) == BIG
    assert summary.by_model[0].cost_usd == Decimal(FINE)  # a JSON number, not rounded through float
    assert summary.total_platform_fee_usd == Decimal("1e-30")
    assert (summary.total_requests, summary.error_requests, summary.total_tokens) == (3, 1, 42)
    assert summary.model_extra == {"region": "eu"}
    assert json.loads(summary.to_json())["total_cost_usd"] == BIG


async def test_events_page_shape(make_client: Any) -> None:
    body = json.dumps({"events": [event(2), event(1)], "total": 5, "limit": 2, "offset": 0})
    handler = recording(text(body))
    client = make_client(handler)
    page = await resolve(client.usage.events(UsageQueryParams(status="success"), limit=2, key_id="key_1"))
    request = handler.seen[0]
    assert (request.method, request.url.path) == ("POST", "/v1/usage/events")
    assert json.loads(request.content) == {"org_id": "", "status": "success", "key_id": "key_1", "limit": 2}
    assert isinstance(page, UsageEventsPage) and page.has_more
    assert [e.id for e in page.events] == ["evt_2", "evt_1"]
    assert page.events[0].cost_usd == Decimal("0.000002") and page.events[0].model_extra == {"shard": 2}


def paged(total: int) -> Callable[[httpx.Request], httpx.Response]:
    """Events ``evt_total`` .. ``evt_1`` (newest first), served by the body's ``limit`` / ``offset``."""

    def respond(request: httpx.Request) -> httpx.Response:
        query = json.loads(request.content)
        start, limit = query["offset"], query["limit"]
        chunk = [event(n) for n in range(total, 0, -1)][start : start + limit]
        body = {"events": chunk, "total": total, "limit": limit, "offset": start}
        return httpx.Response(200, json=body)

    return respond


async def test_iter_events_walks_every_page_lazily(make_client: Any) -> None:
    handler = recording(paged(5))
    client = make_client(handler)
    events = client.usage.iter_events({"model": "m"}, status="success", page_size=2)
    assert handler.seen == []  # nothing sent before the first item
    got = await collect(events)
    assert [e.id for e in got] == ["evt_5", "evt_4", "evt_3", "evt_2", "evt_1"]
    assert all(isinstance(e, UsageEvent) for e in got)
    bodies = [json.loads(r.content) for r in handler.seen]
    assert bodies == [
        {"org_id": "", "model": "m", "status": "success", "limit": 2, "offset": o} for o in (0, 2, 4)
    ]


async def test_iter_events_stops_on_an_empty_page(make_client: Any) -> None:
    handler = recording(lambda request: httpx.Response(200, json={"events": [], "total": 9, "offset": 0}))
    assert await collect(make_client(handler).usage.iter_events(page_size=200)) == []
    assert len(handler.seen) == 1


@pytest.mark.parametrize("page_size", [0, 201, True, "5"])
async def test_iter_events_page_size_checked_before_sending(make_client: Any, page_size: Any) -> None:
    handler = recording(paged(1))
    with pytest.raises(InvalidParamsError, match="page_size must be an integer from 1 to 200"):
        make_client(handler).usage.iter_events(page_size=page_size)
    assert handler.seen == []


async def test_bad_filters_fail_before_sending(make_client: Any) -> None:
    handler = recording(paged(1))
    client = make_client(handler)
    with pytest.raises(InvalidParamsError):
        await resolve(client.usage.events(limit=0))
    with pytest.raises(InvalidParamsError, match="unknown parameter"):
        await resolve(client.usage.summary(modle="m"))
    with pytest.raises(InvalidParamsError, match="refresh"):
        await resolve(client.usage.summary(refresh="yes"))
    assert handler.seen == []


async def test_attempts_trend_and_rate_limits(make_client: Any) -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/attempts"):
            rows = [{"id": "evt_a", "status": "error", "error_code": "upstream_error", "cost_usd": "0"},
                    {"id": "evt_b", "status": "success", "cost_usd": 0.00012345678901234567}]  # fmt: skip
            body = json.dumps({"event_id": "evt_b", "request_id": "req_1", "attempts": rows})
            return httpx.Response(200, content=body.encode())
        if path.endswith("/spend-trend"):
            bucket = {"start": "2026-12-07T00:00:00Z", "cost_usd": "0.5", "moving_average_usd": "0.25"}
            return httpx.Response(
                200, json={"granularity": "day", "buckets": [bucket], "total_cost_usd": "0.5"}
            )
        metric = {"current": 3, "limit": 100, "pct": 3.0, "resets_in_seconds": 12, "is_default_limit": True}
        return httpx.Response(200, json={"as_of": "t", "key": {"rpm": metric}, "member": None})

    handler = recording(respond)
    client = make_client(handler)
    attempts = await resolve(client.usage.attempts("evt/b"))
    assert [a.status for a in attempts.attempts] == ["error", "success"]
    assert attempts.attempts[1].cost_usd == Decimal("0.00012345678901234567")
    trend = await resolve(client.usage.spend_trend(granularity="day", since="2026-12-01"))
    assert trend.buckets[0].moving_average_usd == Decimal("0.25") and trend.total_cost_usd == Decimal("0.5")
    limits = await resolve(client.usage.rate_limits(timeout=5.0))
    assert limits.key is not None and limits.key.rpm is not None
    assert (limits.key.rpm.current, limits.key.rpm.limit, limits.member) == (3, 100, None)
    seen = [(r.method, r.url.raw_path.decode()) for r in handler.seen]
    assert seen == [
        ("GET", "/v1/usage/events/evt%2Fb/attempts"),
        ("GET", "/v1/usage/spend-trend?granularity=day&since=2026-12-01"),
        ("GET", "/v1/usage/rate-limits"),
    ]


async def test_balance_get(make_client: Any) -> None:
    body = ('{"balance_usd": "10.000000", "available_usd": "7.5", "reserved_usd": 2.5,'
            ' "reserved_breakdown": {"batches": "2.5"}, "updated_at": "2026-12-07T12:00:00Z", "message": "ok"}')  # fmt: skip
    handler = recording(text(body))
    balance = await resolve(make_client(handler).balance.get(extra_headers={"X-Probe": "1"}))
    assert isinstance(balance, Balance)
    assert (balance.balance_usd, balance.available_usd, balance.reserved_usd) == (
        Decimal("10.000000"), Decimal("7.5"), Decimal("2.5"))  # fmt: skip
    assert balance.reserved_breakdown == {"batches": Decimal("2.5")}
    assert (handler.seen[0].method, handler.seen[0].url.path) == ("GET", "/v1/balance")
    assert handler.seen[0].headers["x-probe"] == "1"


async def test_raw_views_parse_exact_money(make_client: Any) -> None:
    client = make_client(recording(text(SUMMARY)))
    raw = await resolve(client.usage.with_raw_response.summary())
    assert raw.status_code == 200 and raw.request_id == "req_usage"
    parsed = await resolve(raw.parse())
    assert parsed.total_cost_usd == Decimal(BIG) and parsed.by_model[0].cost_usd == Decimal(FINE)


async def test_balance_exhausted_is_payment_required(make_client: Any) -> None:
    body = '{"error": {"code": "spend_limit_exceeded", "message": "Insufficient balance."}, "request_id": "req_x"}'
    client = make_client(recording(text(body, status=402)))
    with pytest.raises(PaymentRequiredError) as caught:
        await resolve(client.balance.get())
    assert (caught.value.status, caught.value.error_code) == (402, "spend_limit_exceeded")


@pytest.mark.parametrize("module", ["balance", "usage", "memories"])
def test_the_twins_only_send_a_planned_request(module: str) -> None:
    """Each sending method of these resources is one line over a pure planner shared by both twins:
    ``return self._call(_plan(...))`` or its ``await`` form; nothing else touches ``self._http``."""
    import ast
    import importlib
    import inspect

    source = inspect.getsource(importlib.import_module(f"meshapi.resources.{module}"))
    checked, problems = 0, []
    for cls in ast.parse(source).body:
        if not (isinstance(cls, ast.ClassDef) and cls.name.endswith("Resource")):
            continue
        for method in cls.body:
            if not isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)) or method.name.startswith("_"):
                continue
            body = method.body[1:] if ast.get_docstring(method) is not None else method.body
            text = "\n".join(ast.unparse(statement) for statement in body)
            if "self._http" in text:
                problems.append(f"{cls.name}.{method.name} sends itself")
            elif "self._call(" in text:
                checked += 1
                if len(body) != 1:
                    problems.append(f"{cls.name}.{method.name}: {len(body)} statements")
    assert problems == [] and checked > 0
