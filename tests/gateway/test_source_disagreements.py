"""The gateway's side of the choices docs/protocol.md §V16.1 lists where the sources disagree.

Each test names its item. Only the choices no other gateway test pins yet are here; the rest are
named in the note next to the test that pins them.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Dict, Iterator

import httpx
import pytest

from meshapi_gateway import Gateway, serve
from meshapi_gateway.fakes.routing import RoutingPolicy

from .conftest import assert_envelope, chat_body, sse_json

PLAIN = "rsk_disagree_plain"
ROUTED = "rsk_disagree_routed"
PRIMARY = "openai/gpt-4o-mini"
BACKUP = "anthropic/claude-3.5-haiku"
FRESH_ID = re.compile(r"^req_[0-9A-HJKMNP-TV-Z]{26}$")


@pytest.fixture(scope="module")
def gw() -> Iterator[Gateway]:
    with serve(tokens=[PLAIN, ROUTED], routing={ROUTED: RoutingPolicy(retries=0)}) as gateway:
        yield gateway


@pytest.fixture(autouse=True)
def _clean(gw: Gateway) -> Iterator[None]:
    yield
    gw.provider_faults.clear()
    gw.state.response_cache.clear()
    gw.reset_data()


def call(gw: Gateway, method: str, path: str, token: str = PLAIN, **kwargs: Any) -> httpx.Response:
    headers: Dict[str, Any] = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
    return httpx.request(method, gw.base_url + path, headers=headers, timeout=30, **kwargs)


@pytest.mark.parametrize("rid", ["bad id", "x" * 65, "req/1", "caf\u00e9", ""])
def test_15_an_inbound_request_id_off_the_pattern_is_replaced(gw: Gateway, rid: str) -> None:
    headers = {"X-Request-Id": rid.encode("utf-8")}  # bytes: the non-ASCII one goes out as UTF-8
    response = call(gw, "POST", "/v1/chat/completions", json={"messages": "nope"}, headers=headers)
    body = assert_envelope(response, 422, "validation_error")
    assert FRESH_ID.match(body["request_id"]) and response.headers["x-request-id"] == body["request_id"]


def test_15_an_inbound_request_id_on_the_pattern_is_kept(gw: Gateway) -> None:
    longest = "Az09._:-" * 8  # 64 characters
    response = call(gw, "GET", "/v1/models", headers={"X-Request-Id": longest})
    assert response.status_code == 200 and response.headers["x-request-id"] == longest


def test_17_an_empty_version_header_is_a_400_even_without_a_key(gw: Gateway) -> None:
    response = httpx.get(gw.base_url + "/v1/models", headers={"X-Mesh-Version": ""}, timeout=10)
    body = assert_envelope(response, 400, "invalid_api_version")
    assert body["error"]["supported_versions"] == ["2026-08", "2026-09"]


def test_4_the_usage_summary_and_events_are_post_only(gw: Gateway) -> None:
    for path in ("/v1/usage", "/v1/usage/events"):
        response = call(gw, "GET", path, params={"since": "2026-09-01"})
        assert_envelope(response, 405, "method_not_allowed")
        assert response.headers["allow"] == "POST"
        assert call(gw, "POST", path, json={}).status_code == 200


def test_14_only_the_chat_compare_path_is_served(gw: Gateway) -> None:
    body = {"models": [PRIMARY, BACKUP], "messages": [{"role": "user", "content": "hi"}]}
    old = call(gw, "POST", "/v1/compare", json=body)
    assert assert_envelope(old, 404, "not_found")["error"]["message"] == "No route for POST /v1/compare."
    assert call(gw, "POST", "/v1/chat/compare", json=body).status_code == 200


def test_7_the_served_provider_is_named_with_the_routing_outcome_only(gw: Gateway) -> None:
    gw.provider_faults.add(PRIMARY, status=503, times=-1)
    body = {**chat_body(), "models": [BACKUP]}
    routed = call(gw, "POST", "/v1/chat/completions", token=ROUTED, json=body)
    assert routed.status_code == 200, routed.text
    assert routed.headers["x-mesh-served-provider"] == "anthropic"
    assert (
        routed.headers["x-mesh-routing-attempts"] == "2"
        and routed.headers["x-mesh-routing-fallback"] == "true"
    )
    streamed = call(gw, "POST", "/v1/chat/completions", token=ROUTED, json={**body, "stream": True})
    assert streamed.status_code == 200 and "x-mesh-served-provider" not in streamed.headers
    plain = call(gw, "POST", "/v1/chat/completions", json=body)  # no routing policy: the fault answers
    assert plain.status_code == 503 and "x-mesh-served-provider" not in plain.headers


def test_9_gateway_fallback_protects_a_stream_before_its_first_token(gw: Gateway) -> None:
    gw.provider_faults.add(PRIMARY, status=503, times=-1)
    body = {**chat_body(), "models": [BACKUP], "stream": True}
    streamed = call(gw, "POST", "/v1/chat/completions", token=ROUTED, json=body)
    assert streamed.status_code == 200, streamed.text
    chunks = [event for _, event in sse_json(streamed.content)[:-1]]
    assert {chunk["model"] for chunk in chunks} == {BACKUP}
    assert "error" not in chunks[-1] and chunks[-2]["choices"][0]["finish_reason"] == "stop"


def test_5_x_mem_id_matches_a_slug_exactly(gw: Gateway) -> None:
    assert call(gw, "POST", "/v1/memories", json={"slug": "prefs", "description": "house"}).status_code == 201
    item = call(
        gw, "POST", "/v1/memories/prefs/items", json={"item_type": "guardrail", "content": "Be brief."}
    )
    assert item.status_code == 201
    applied = {}
    for name in (
        "prefs",
        "PREFS",
        item.json()["id"],
        "house",
    ):  # the slug, its case, an item id, the description
        answer = call(gw, "POST", "/v1/chat/completions", json=chat_body(), headers={"x-mem-id": name})
        assert answer.status_code == 200, answer.text
        applied[name] = answer.headers["x-mesh-memory-applied"]
    assert list(applied.values()) == ["prefs", "", "", ""]


def test_6_memories_are_managed_with_the_api_key(gw: Gateway) -> None:
    made = call(gw, "POST", "/v1/memories", json={"slug": "mine"})
    assert made.status_code == 201 and made.json()["slug"] == "mine"
    assert [m["slug"] for m in call(gw, "GET", "/v1/memories", token=ROUTED).json()["data"]] == []
    assert_envelope(httpx.get(gw.base_url + "/v1/memories", timeout=10), 401, "unauthorized")


def test_8_cost_rides_on_the_streamed_tail_only_and_matches_the_usage_event(gw: Gateway) -> None:
    plain = call(gw, "POST", "/v1/chat/completions", json=chat_body(), headers={"X-Request-Id": "cost-plain"})
    assert plain.status_code == 200 and "cost" not in plain.json()
    streamed = call(
        gw,
        "POST",
        "/v1/chat/completions",
        json=chat_body("Explain how tides depend on the Moon.", stream=True),
        headers={"X-Request-Id": "cost-stream"},
    )
    chunks = [event for _, event in sse_json(streamed.content)[:-1]]
    assert ["cost" in chunk for chunk in chunks] == [False] * (len(chunks) - 1) + [True]
    events = call(gw, "POST", "/v1/usage/events", json={"org_id": ""}).json()["events"]
    by_id = {event["request_id"]: event["cost_usd"] for event in events}
    assert Decimal(chunks[-1]["cost"]) == Decimal(by_id["cost-stream"]) > 0
    assert Decimal(by_id["cost-plain"]) > 0  # a non-streamed answer's cost is in its usage event
