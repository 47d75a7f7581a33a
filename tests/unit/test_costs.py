"""``client.costs.lookup`` on httpx.MockTransport, sync and async: one walk of the usage-event pages for
many ids (stops once all are found, when the events run out or after ``max_pages``), exact ``Decimal``
costs, ids not found marked ``estimated=True`` (priced from hints at the catalog's prices, else ``None``),
argument checks; and ``ModelInfo.max_context``."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Callable, Dict, List

import httpx
import pytest

from meshapi import CostLookup, InvalidParamsError, ModelInfo, RequestCost
from tests.conftest import resolve

FINE = "0.1234567890123456789012345"
MODEL = {"id": "p/m", "name": "M", "is_free": False,
         "pricing": {"prompt_usd_per_1m": "0.15", "completion_usd_per_1m": "0.6"}}  # fmt: skip


def event(n: int) -> Dict[str, Any]:
    return {"id": f"evt_{n}", "request_id": f"req_{n}", "model": "p/m", "cost_usd": f"0.00000{n}",
            "status": "success", "prompt_tokens": n, "completion_tokens": 2 * n}  # fmt: skip


def gateway(
    total: int, seen: List[httpx.Request], events: Any = None
) -> Callable[[httpx.Request], httpx.Response]:
    """Events ``req_total`` .. ``req_1`` (newest first) by the body's ``limit`` / ``offset``; the catalog
    knows ``p/m`` only."""
    listed = events if events is not None else [event(n) for n in range(total, 0, -1)]

    def respond(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.startswith("/v1/models/"):
            if request.url.path == "/v1/models/p/m":
                return httpx.Response(200, json=MODEL)
            return httpx.Response(404, json={"error": {"code": "model_not_found", "message": "no"}})
        query = json.loads(request.content)
        start, limit = query["offset"], query["limit"]
        chunk = listed[start : start + limit]
        return httpx.Response(
            200, json={"events": chunk, "total": len(listed), "limit": limit, "offset": start}
        )

    return respond


def bodies(seen: List[httpx.Request]) -> List[Any]:
    return [json.loads(r.content) for r in seen if r.url.path == "/v1/usage/events"]


async def test_one_walk_finds_every_id_and_stops(make_client: Any) -> None:
    seen: List[httpx.Request] = []
    client = make_client(gateway(9, seen))
    found = await resolve(client.costs.lookup(["req_5", "req_8", "req_5"], page_size=2, since="2026-12-01",
                                              request_id="req-mine"))  # fmt: skip
    assert isinstance(found, CostLookup) and found.pages_read == 3
    assert bodies(seen) == [{"org_id": "", "since": "2026-12-01", "limit": 2, "offset": o} for o in (0, 2, 4)]
    assert all(r.headers["x-request-id"] == "req-mine" for r in seen)  # per-call options on every page
    assert [(c.request_id, c.cost_usd, c.estimated, c.event_id) for c in found.costs] == [
        ("req_5", Decimal("0.000005"), False, "evt_5"),
        ("req_8", Decimal("0.000008"), False, "evt_8"),
    ]
    assert found.get("req_8") == found.costs[1] and found.get("req_1") is None
    assert (found.costs[0].prompt_tokens, found.costs[0].completion_tokens, found.costs[0].model) == (
        5,
        10,
        "p/m",
    )
    assert found.total_usd == Decimal("0.000013") and not found.estimated


async def test_ids_not_found_are_estimated(make_client: Any) -> None:
    seen: List[httpx.Request] = []
    client = make_client(gateway(3, seen))
    hints = {"req_x": {"model": "p/m", "prompt_tokens": 1000, "completion_tokens": 10},
             "req_y": {"model": "gone/model", "prompt_tokens": 5}, "req_2": {"model": "p/m", "prompt_tokens": 7}}  # fmt: skip
    found = await resolve(client.costs.lookup(["req_x", "req_2", "req_y", "req_z"], hints=hints, page_size=2))
    assert found.pages_read == 2  # every page read: the events ran out
    assert [r.url.path for r in seen][2:] == ["/v1/models/p/m", "/v1/models/gone/model"]
    costs = {c.request_id: c for c in found.costs}
    assert [c.request_id for c in found.costs] == ["req_x", "req_2", "req_y", "req_z"]
    assert (costs["req_2"].cost_usd, costs["req_2"].estimated) == (
        Decimal("0.000002"),
        False,
    )  # the event wins
    assert (costs["req_x"].cost_usd, costs["req_x"].estimated) == (
        Decimal("0.000156"),
        True,
    )  # 1000*0.15+10*0.6 /1M
    assert (costs["req_x"].model, costs["req_x"].prompt_tokens, costs["req_x"].completion_tokens) == (
        "p/m",
        1000,
        10,
    )
    assert (costs["req_y"].cost_usd, costs["req_y"].estimated) == (None, True)  # model not in the catalog
    assert (costs["req_z"].cost_usd, costs["req_z"].estimated, costs["req_z"].model) == (None, True, None)
    assert found.estimated and found.total_usd is None


async def test_max_pages_bounds_the_walk(make_client: Any) -> None:
    seen: List[httpx.Request] = []
    client = make_client(gateway(50, seen))
    found = await resolve(client.costs.lookup(["req_1"], page_size=3, max_pages=4))
    assert found.pages_read == 4 and len(seen) == 4
    assert [b["offset"] for b in bodies(seen)] == [0, 3, 6, 9]
    assert found.costs == [RequestCost(request_id="req_1", estimated=True)]


async def test_exact_decimal_from_strings_and_numbers(make_client: Any) -> None:
    seen: List[httpx.Request] = []
    raw = [dict(event(1), cost_usd=FINE), dict(event(2), cost_usd=None), dict(event(3))]
    body = json.dumps({"events": raw, "total": 3, "limit": 200, "offset": 0}).replace('"' + FINE + '"', FINE)

    def respond(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=body.encode(), headers={"content-type": "application/json"})

    client = make_client(respond)
    found = await resolve(client.costs.lookup(["req_1", "req_2"]))
    assert bodies(seen) == [{"org_id": "", "limit": 200, "offset": 0}]
    assert found.costs[0].cost_usd == Decimal(FINE) and str(found.costs[0].cost_usd) == FINE  # a JSON number
    assert (found.costs[1].cost_usd, found.costs[1].estimated) == (None, False)  # found, cost not given


async def test_no_ids_sends_nothing_and_bad_arguments_fail(make_client: Any) -> None:
    seen: List[httpx.Request] = []
    client = make_client(gateway(3, seen))
    assert (await resolve(client.costs.lookup([]))).costs == [] and seen == []
    for bad in ({"request_ids": "req_1"}, {"request_ids": ["req_1", ""]}, {"request_ids": [3]},
                {"request_ids": ["a"], "page_size": 201}, {"request_ids": ["a"], "max_pages": 0},
                {"request_ids": ["a"], "page_size": True}, {"request_ids": ["a"], "hints": {"a": "p/m"}},
                {"request_ids": ["a"], "hints": {"a": {"model": "p/m", "prompt_tokens": -1}}},
                {"request_ids": ["a"], "hints": {"a": {"model": "p/m", "completion_tokens": "9"}}}):  # fmt: skip
        with pytest.raises(InvalidParamsError):
            await resolve(client.costs.lookup(**bad))
    assert seen == []


async def test_a_blank_hinted_model_is_refused_before_the_catalog(make_client: Any) -> None:
    seen: List[httpx.Request] = []
    client = make_client(gateway(3, seen))
    with pytest.raises(InvalidParamsError) as caught:
        await resolve(client.costs.lookup(["req_x"], hints={"req_x": {"model": "/ "}}))
    assert caught.value.message == "hints: model must be a non-empty string, got '/ '"
    assert [r.url.path for r in seen] == ["/v1/usage/events"]  # the events were read, no catalog path


async def test_raw_view_is_the_last_page(make_client: Any) -> None:
    seen: List[httpx.Request] = []
    client = make_client(gateway(5, seen))
    raw = await resolve(client.costs.with_raw_response.lookup(["req_1"], page_size=2))
    assert json.loads(raw.http_response.request.content)["offset"] == 4
    assert (await resolve(raw.parse())).costs[0].cost_usd == Decimal("0.000001")


@pytest.mark.parametrize(
    ("published", "expected"),
    [
        ({"context_length": 8192}, 8192),
        ({"context_window": 4096}, 4096),
        ({"context_length": 100, "context_window": 200}, 100),
        ({}, None),
    ],
)
def test_max_context_reads_either_field(published: Dict[str, int], expected: Any) -> None:
    info = ModelInfo.model_validate({"id": "p/m", "name": "M", "is_free": True, **published})
    assert info.max_context == expected
