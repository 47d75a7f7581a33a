"""Billing of work that is several calls (raw httpx and a raw WebSocket against ``serve()``): a compare is
N + 1 usage events (each model's call under its ``results[].request_id``, the synthesis under the
request's id), N without a synthesis, a failed model a free ``error`` event, one request for the rate
limits; each realtime response is a usage event with its ``response.done`` tokens, charged to the
balance."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Dict, Iterator, List

import httpx
import pytest

from meshapi_gateway import Gateway, serve

from .conftest import TOKEN, user

AUTH = {"Authorization": f"Bearer {TOKEN}"}
MODELS = ["openai/gpt-4o-mini", "anthropic/claude-haiku-4.5"]


@pytest.fixture
def fresh() -> Iterator[Gateway]:
    with serve([TOKEN]) as gw:
        yield gw


def events(c: httpx.Client) -> List[Dict[str, Any]]:
    page = c.post("/v1/usage/events", json={"org_id": "", "limit": 200}).json()
    return list(reversed(page["events"]))  # oldest first


def price(gw: Gateway, model: str, prompt: int, completion: int) -> Decimal:
    return Decimal(gw.state.price(model, prompt, completion) or "0")


def test_a_compare_is_one_event_per_model_and_one_for_the_synthesis(fresh: Gateway) -> None:
    with httpx.Client(base_url=fresh.base_url, headers=AUTH, timeout=10) as c:
        start = Decimal(c.get("/v1/balance").json()["balance_usd"])
        response = c.post(
            "/v1/chat/compare", json={"models": MODELS, "messages": user("Compare tea and coffee.")}
        )
        assert response.status_code == 200
        body, rid = response.json(), response.headers["x-request-id"]
        rows = events(c)
        expected = [
            (r["request_id"], r["model"], r["usage"]["prompt_tokens"], r["usage"]["completion_tokens"])
            for r in body["results"]
        ]
        synthesis = body["comparison_usage"]
        expected.append(
            (rid, body["comparison_model"], synthesis["prompt_tokens"], synthesis["completion_tokens"])
        )
        assert [
            (e["request_id"], e["model"], e["prompt_tokens"], e["completion_tokens"]) for e in rows
        ] == expected
        assert [r["request_id"] for r in body["results"]] == [f"{rid}::{m}" for m in MODELS]
        costs = [Decimal(e["cost_usd"]) for e in rows]
        assert costs == [price(fresh, m, p, t) for _, m, p, t in expected] and all(cost > 0 for cost in costs)
        assert {(e["status"], e["stream"]) for e in rows} == {("success", False)}
        summary = c.post("/v1/usage", json={"org_id": ""}).json()
        assert summary["total_requests"] == 3 and Decimal(summary["total_cost_usd"]) == sum(costs)
        assert Decimal(c.get("/v1/balance").json()["balance_usd"]) == start - sum(costs)
        rpd = c.get("/v1/usage/rate-limits").json()["key"]["rpd"]["current"]
        assert rpd == 6  # balance, compare (once), events, summary, balance, this call


def test_without_a_synthesis_a_compare_is_n_events(fresh: Gateway) -> None:
    with httpx.Client(base_url=fresh.base_url, headers=AUTH, timeout=10) as c:
        body = {"models": MODELS, "messages": user("Hi"), "skip_comparison": True}
        response = c.post("/v1/chat/compare", json=body)
        assert response.status_code == 200 and response.json()["comparison"] is None
        rows = events(c)
        assert [e["request_id"] for e in rows] == [r["request_id"] for r in response.json()["results"]]


def test_a_failed_model_is_a_free_error_event_and_a_stream_is_billed_too(fresh: Gateway) -> None:
    models = [*MODELS, "nobody/none"]
    with httpx.Client(base_url=fresh.base_url, headers=AUTH, timeout=10) as c:
        response = c.post("/v1/chat/compare", json={"models": models, "messages": user("Hi"), "stream": True})
        assert response.status_code == 200
        rid = response.headers["x-request-id"]
        frames = [json.loads(line[6:]) for line in response.text.splitlines() if line.startswith("data: {")]
        results = next(f["results"] for f in frames if "results" in f)
        rows = events(c)
        assert [(e["request_id"], e["status"], e["error_code"], e["stream"]) for e in rows] == [
            (f"{rid}::openai/gpt-4o-mini", "success", None, True),
            (f"{rid}::anthropic/claude-haiku-4.5", "success", None, True),
            (f"{rid}::nobody/none", "error", "model_not_found", True),
            (rid, "success", None, True),
        ]
        assert rows[2]["cost_usd"] == "0.000000"
        by_id = {e["request_id"]: e for e in rows}
        for result in results[:2]:
            assert by_id[result["request_id"]]["completion_tokens"] == result["usage"]["completion_tokens"]


def test_a_compare_refused_before_it_runs_is_one_error_event(fresh: Gateway) -> None:
    with httpx.Client(base_url=fresh.base_url, headers=AUTH, timeout=10) as c:
        response = c.post("/v1/chat/compare", json={"models": ["nobody/none"], "messages": user("Hi")})
        assert response.status_code == 502
        rows = events(c)
        assert [(e["request_id"], e["status"], e["cost_usd"]) for e in rows] == [
            (response.headers["x-request-id"], "error", "0.000000")
        ]


def test_each_realtime_response_is_a_usage_event(fresh: Gateway) -> None:
    ws_client = pytest.importorskip("websockets.sync.client")
    url = fresh.base_url.replace("http://", "ws://") + "/v1/realtime?model=openai%2Fgpt-realtime"
    done: List[Dict[str, Any]] = []
    request_id = "req_realtime_billing_1"  # the session's request id, as the client chose it
    headers = {**AUTH, "X-Request-Id": request_id}
    with ws_client.connect(url, additional_headers=headers, open_timeout=5) as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "session.created"
        ws.send(
            json.dumps(
                {"type": "session.update", "session": {"type": "realtime", "output_modalities": ["text"]}}
            )
        )
        for text in ("Say hello", "Say goodbye"):
            item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
            ws.send(json.dumps({"type": "conversation.item.create", "item": item}))
            ws.send(json.dumps({"type": "response.create"}))
            for _ in range(500):
                event = json.loads(ws.recv(timeout=5))
                if event["type"] == "response.done":
                    done.append(event["response"])
                    break
    with httpx.Client(base_url=fresh.base_url, headers=AUTH, timeout=10) as c:
        rows = events(c)
    assert [(e["request_id"], e["model"], e["prompt_tokens"], e["completion_tokens"]) for e in rows] == [
        (
            f"{request_id}::{r['id']}",
            "openai/gpt-realtime",
            r["usage"]["input_tokens"],
            r["usage"]["output_tokens"],
        )
        for r in done
    ]
    assert [Decimal(e["cost_usd"]) for e in rows] == [
        price(fresh, "openai/gpt-realtime", r["usage"]["input_tokens"], r["usage"]["output_tokens"])
        for r in done
    ]
    assert all(Decimal(e["cost_usd"]) > 0 for e in rows)
