"""The chat ``models`` list the routing policy falls back along: capped, de-duplicated, refused before any attempt."""

from __future__ import annotations

import time
from typing import Any, Dict, Iterator, List

import httpx
import pytest

from meshapi_gateway import Gateway, serve
from meshapi_gateway.fakes.routing import MAX_FALLBACK_MODELS, RoutingPolicy

from .conftest import assert_envelope, user

PLAIN = "rsk_routing_plain"
ROUTED = "rsk_routing_routed"
PRIMARY = "openai/gpt-4o-mini"
BACKUP = "anthropic/claude-3.5-haiku"
THIRD = "google/gemini-2.5-flash"


@pytest.fixture(scope="module")
def gw() -> Iterator[Gateway]:
    with serve(tokens=[PLAIN, ROUTED], routing={ROUTED: RoutingPolicy(retries=0)}) as gateway:
        yield gateway


@pytest.fixture(autouse=True)
def _clean(gw: Gateway) -> Iterator[None]:
    yield
    gw.provider_faults.clear()
    gw.state.response_cache.clear()


def post(gw: Gateway, models: List[str], token: str = ROUTED, **extra: Any) -> httpx.Response:
    body: Dict[str, Any] = {"model": PRIMARY, "models": models, "messages": user("Say hello"), **extra}
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.post(f"{gw.base_url}/v1/chat/completions", json=body, headers=headers, timeout=30)


def test_the_cap_is_sixteen() -> None:
    assert MAX_FALLBACK_MODELS == 16


@pytest.mark.parametrize("token", [ROUTED, PLAIN])
@pytest.mark.parametrize("stream", [False, True])
def test_past_the_cap_is_a_400_before_any_attempt(gw: Gateway, token: str, stream: bool) -> None:
    gw.provider_faults.add(PRIMARY, status=503, times=1)
    models = [f"vendor/model-{i}" for i in range(MAX_FALLBACK_MODELS + 1)]
    body = assert_envelope(post(gw, models, token, stream=stream), 400, "invalid_request")
    assert body["error"] == {
        "code": "invalid_request",
        "message": "'models' may name at most 16 distinct models, got 17.",
        "param": "models",
    }
    # the planned fault is still there: the refused request made no attempt
    response = post(gw, [BACKUP], ROUTED)
    assert response.status_code == 200, response.text
    assert response.headers["x-mesh-routing-attempts"] == "2"
    assert response.json()["model"] == BACKUP


def test_a_hundred_thousand_models_are_refused_quickly(gw: Gateway) -> None:
    models = [f"vendor/model-{i}" for i in range(100_000)]
    started = time.monotonic()
    response = post(gw, models)
    elapsed = time.monotonic() - started
    body = assert_envelope(response, 400, "invalid_request")
    assert body["error"]["message"] == "'models' may name at most 16 distinct models, got 100000."
    assert elapsed < 5.0, elapsed


def test_sixteen_distinct_models_with_repeats_are_accepted(gw: Gateway) -> None:
    models = [f"vendor/model-{i}" for i in range(MAX_FALLBACK_MODELS)] * 3
    response = post(gw, models)
    assert response.status_code == 200, response.text
    assert response.headers["x-mesh-routing-attempts"] == "1"


def test_repeats_are_tried_once_in_first_seen_order(gw: Gateway) -> None:
    gw.provider_faults.add(PRIMARY, status=503, times=-1)
    gw.provider_faults.add(BACKUP, status=503, times=-1)
    response = post(gw, [BACKUP, PRIMARY, BACKUP, THIRD, BACKUP, THIRD])
    assert response.status_code == 200, response.text
    assert response.headers["x-mesh-routing-attempts"] == "3"  # primary, backup, third: each once
    assert response.headers["x-mesh-routing-fallback"] == "true"
    assert response.json()["model"] == THIRD


def test_a_hundred_thousand_repeats_make_two_attempts(gw: Gateway) -> None:
    gw.provider_faults.add(PRIMARY, status=503, times=-1)
    gw.provider_faults.add(BACKUP, status=503, times=-1)
    started = time.monotonic()
    response = post(gw, [BACKUP] * 100_000)
    elapsed = time.monotonic() - started
    assert response.status_code == 503, response.text
    assert response.headers["x-mesh-routing-attempts"] == "2"
    assert elapsed < 5.0, elapsed


def test_routing_model_names_the_model_that_served_instead(gw: Gateway) -> None:
    gw.provider_faults.add(PRIMARY, status=503, times=-1)
    response = post(gw, [BACKUP, THIRD])
    assert response.status_code == 200, response.text
    assert response.headers["x-mesh-routing-model"] == BACKUP == response.json()["model"]
    streamed = post(gw, [BACKUP], stream=True)  # routing headers are for non-streaming answers only
    assert streamed.status_code == 200 and "x-mesh-routing-model" not in streamed.headers
    gw.provider_faults.clear()
    same = post(gw, [BACKUP])  # the model asked for served: no routing model
    assert same.headers["x-mesh-routing-attempts"] == "1" and "x-mesh-routing-model" not in same.headers


@pytest.mark.parametrize("token", [ROUTED, PLAIN])
def test_auto_names_the_model_the_router_picked(gw: Gateway, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    body = {"model": "auto", "messages": user("Say hello")}
    response = httpx.post(f"{gw.base_url}/v1/chat/completions", json=body, headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["x-mesh-routing-model"] == response.json()["x_resolved_model_id"] == PRIMARY
    plain = httpx.post(f"{gw.base_url}/v1/chat/completions", json={**body, "model": PRIMARY}, headers=headers)
    assert "x-mesh-routing-model" not in plain.headers
    streamed = httpx.post(
        f"{gw.base_url}/v1/chat/completions", json={**body, "stream": True}, headers=headers
    )
    assert "x-mesh-routing-model" not in streamed.headers
