"""Usage and balance on the gateway (raw httpx): events and the summary computed from what was served
(exact tokens and catalog costs as decimal strings, per key, newest first, paged, filtered), retried
attempts collapsed to the served row, rate-limit counters equal to the limiter's, the spend trend, and a
balance that goes down by each cost, holds funds for running batches, videos and background responses,
and refuses paid requests with 402 when exhausted."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Dict, Iterator, List

import httpx
import pytest

from meshapi_gateway import Gateway, serve
from tests._poll import wait_until

from .conftest import OTHER_TOKEN, TOKEN, chat_body

PRICES = {"openai/gpt-4o-mini": (Decimal("0.00015"), Decimal("0.0006"))}
VIDEO_MODEL = "byteplus/seedance-1-5-pro-251215"
FREE_MODEL = "meta-llama/llama-3.3-70b-instruct"


def money(value: Decimal) -> str:
    """The wire form: no exponent, at least six decimals."""
    value = value.normalize()
    return format(value.quantize(Decimal("0.000001")) if value.as_tuple().exponent > -6 else value, "f")


def cost(model: str, prompt: int, completion: int) -> Decimal:
    per_in, per_out = PRICES[model]
    return (per_in * prompt + per_out * completion) / 1000


@pytest.fixture
def fresh() -> Iterator[Gateway]:
    with serve([TOKEN, OTHER_TOKEN], rpm=50, rpd=500, batch_step_seconds=0.5, video_step_seconds=0.5) as gw:
        yield gw


def client(gw: Gateway, token: str = TOKEN) -> httpx.Client:
    return httpx.Client(base_url=gw.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def events(c: httpx.Client, **body: Any) -> Dict[str, Any]:
    response = c.post("/v1/usage/events", json={"org_id": "", **body})
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_events_and_summary_are_what_was_served(fresh: Gateway) -> None:
    with client(fresh) as c, client(fresh, OTHER_TOKEN) as other:
        served: List[Dict[str, Any]] = []
        for text in ("one two three", "four five"):
            r = c.post("/v1/chat/completions", json=chat_body(text))
            served.append({**r.json()["usage"], "request_id": r.headers["x-request-id"], "stream": False})
        with c.stream("POST", "/v1/chat/completions", json=chat_body("six", stream=True,
                      stream_options={"include_usage": True})) as r:  # fmt: skip
            r.read()
        bad = c.post("/v1/chat/completions", json={"model": "openai/gpt-4o-mini", "messages": "nope"})
        assert bad.status_code == 422
        page = events(c)
        assert page["total"] == 4 and (page["limit"], page["offset"]) == (50, 0)
        newest = page["events"][0]
        assert (newest["status"], newest["error_code"], newest["cost_usd"]) == (
            "error",
            "validation_error",
            "0.000000",
        )
        assert newest["request_id"] == bad.headers["x-request-id"]
        streamed = page["events"][1]
        assert streamed["stream"] is True and streamed["status"] == "success"
        assert Decimal(streamed["cost_usd"]) == cost("openai/gpt-4o-mini", streamed["prompt_tokens"],
                                                     streamed["completion_tokens"]) > 0  # fmt: skip
        for row, want in zip(page["events"][2:], reversed(served)):
            assert row["request_id"] == want["request_id"] and row["stream"] is False
            assert (row["prompt_tokens"], row["completion_tokens"], row["total_tokens"]) == (
                want["prompt_tokens"], want["completion_tokens"], want["total_tokens"])  # fmt: skip
            assert row["cost_usd"] == money(
                cost("openai/gpt-4o-mini", want["prompt_tokens"], want["completion_tokens"])
            )
            assert row["model"] == "openai/gpt-4o-mini" and row["key_id"] == newest["key_id"]
        total = sum((Decimal(e["cost_usd"]) for e in page["events"]), Decimal(0))
        summary = c.post("/v1/usage", json={}).json()
        tokens = sum(e["total_tokens"] for e in page["events"])
        assert (summary["total_requests"], summary["successful_requests"], summary["error_requests"]) == (
            4,
            3,
            1,
        )
        assert summary["total_cost_usd"] == money(total) and summary["total_tokens"] == tokens
        assert summary["by_model"] == [{"model": "openai/gpt-4o-mini", "requests": 4,
            "prompt_tokens": summary["prompt_tokens"], "completion_tokens": summary["completion_tokens"],
            "total_tokens": tokens, "cost_usd": money(total)}]  # fmt: skip
        assert summary["by_model_total"] == 1
        assert events(other) == {"events": [], "total": 0, "limit": 50, "offset": 0}  # per key
        assert [e["id"] for e in events(c, limit=2, offset=1)["events"]] == [
            e["id"] for e in page["events"][1:3]
        ]
        assert [e["status"] for e in events(c, status="error")["events"]] == ["error"]
        assert events(c, model="openai/gpt-4o", since="2000-01-01")["total"] == 0
        assert events(c, until="2000-01-01T00:00:00Z")["total"] == 0


def test_bad_filters_are_422(fresh: Gateway) -> None:
    with client(fresh) as c:
        for body in ({"limit": 201}, {"limit": 0}, {"offset": -1}, {"status": "ok"}, {"since": "yesterday"}):
            response = c.post("/v1/usage/events", json=body)
            assert response.status_code == 422, body
            assert response.json()["error"]["code"] == "validation_error"
        assert c.get("/v1/usage/spend-trend", params={"granularity": "week"}).status_code == 422
        assert c.get("/v1/usage/events/evt_none/attempts").status_code == 404
        assert c.get("/v1/usage/events/export").status_code == 403


def test_retried_attempts_collapse_to_the_served_row(fresh: Gateway) -> None:
    fresh.faults.add("/v1/chat/completions", status=503, times=1)
    with client(fresh) as c:
        first = c.post("/v1/chat/completions", json=chat_body(), headers={"X-Request-Id": "req-retry-1"})
        second = c.post("/v1/chat/completions", json=chat_body(), headers={"X-Request-Id": "req-retry-1"})
        assert (first.status_code, second.status_code) == (503, 200)
        page = events(c)
        assert page["total"] == 1
        event = page["events"][0]
        assert (event["request_id"], event["status"]) == ("req-retry-1", "success")
        attempts = c.get(f"/v1/usage/events/{event['id']}/attempts").json()
        assert (attempts["event_id"], attempts["request_id"]) == (event["id"], "req-retry-1")
        assert [(a["status"], a["error_code"], a["cost_usd"]) for a in attempts["attempts"]] == [
            ("error", "upstream_error", "0.000000"), ("success", None, event["cost_usd"])]  # fmt: skip


def test_rate_limit_counters_match_the_limits(fresh: Gateway) -> None:
    with client(fresh) as c:
        usage = [c.post("/v1/chat/completions", json=chat_body()).json()["usage"] for _ in range(3)]
        body = c.get("/v1/usage/rate-limits").json()
    assert (body["org"], body["team"], body["member"]) == (None, None, None)
    key = body["key"]
    assert {k: key["rpm"][k] for k in ("current", "limit", "pct", "is_default_limit")} == {
        "current": 4, "limit": 50, "pct": 8.0, "is_default_limit": False}  # fmt: skip
    assert (key["rpd"]["current"], key["rpd"]["limit"]) == (4, 500)
    assert 1 <= key["rpm"]["resets_in_seconds"] <= 60 and 1 <= key["rpd"]["resets_in_seconds"] <= 86400
    tokens = sum(u["total_tokens"] for u in usage)
    assert (key["tpm"]["current"], key["tpm"]["limit"], key["tpm"]["is_default_limit"]) == (
        tokens,
        None,
        True,
    )


def test_spend_trend_buckets_and_total(fresh: Gateway) -> None:
    with client(fresh) as c:
        c.post("/v1/chat/completions", json=chat_body())
        spent = events(c)["events"][0]["cost_usd"]
        hourly = c.get("/v1/usage/spend-trend", params={"granularity": "hour"}).json()
        daily = c.get("/v1/usage/spend-trend", params={"since": "2026-01-01", "until": "2026-01-03"}).json()
    assert hourly["granularity"] == "hour" and len(hourly["buckets"]) == 24
    assert hourly["total_cost_usd"] == spent == hourly["buckets"][-1]["cost_usd"]
    assert hourly["buckets"][-1]["requests"] == 1
    assert Decimal(hourly["buckets"][-1]["moving_average_usd"]) == (Decimal(spent) / 3).quantize(
        Decimal("1e-12")
    )
    assert [b["start"][:10] for b in daily["buckets"]] == ["2026-01-01", "2026-01-02"]
    assert daily["total_cost_usd"] == "0.000000"


def test_balance_goes_down_then_402_before_the_model_runs() -> None:
    with serve([TOKEN], balance="0.00002") as gw, client(gw) as c:
        assert c.get("/v1/balance").json()["balance_usd"] == "0.000020"
        served = c.post("/v1/chat/completions", json=chat_body("a b c"))
        spent = Decimal(events(c)["events"][0]["cost_usd"])
        balance = c.get("/v1/balance").json()
        assert Decimal(balance["balance_usd"]) == Decimal("0.00002") - spent
        assert balance["available_usd"] == money(max(Decimal(0), Decimal("0.00002") - spent))
        while c.get("/v1/balance").json()["available_usd"] != "0.000000":
            assert c.post("/v1/chat/completions", json=chat_body("a b c")).status_code == 200
        logged = len(gw.requests)
        refused = c.post("/v1/chat/completions", json=chat_body("a b c"))
        assert refused.status_code == 402 and served.status_code == 200
        assert refused.json()["error"]["code"] == "spend_limit_exceeded"
        assert "choices" not in refused.json() and len(gw.requests) == logged + 1
        assert c.post("/v1/chat/completions", json={**chat_body(), "model": FREE_MODEL}).status_code == 200
        exhausted = c.get("/v1/balance").json()
        assert exhausted["available_usd"] == "0.000000" and exhausted["reserved_breakdown"] == {}


def test_bad_starting_balance_is_refused() -> None:
    for bad in (1.5, "-1", "lots", "NaN"):
        with pytest.raises(ValueError, match="balance"):
            serve([TOKEN], balance=bad)


def test_running_work_holds_funds() -> None:
    with (
        serve([TOKEN], batch_step_seconds=0.5, video_step_seconds=0.5, response_step_seconds=1) as gw,
        client(gw) as c,
    ):
        lines = [{"custom_id": f"l{i}", "body": chat_body(f"line {i}")} for i in range(2)]
        batch = c.post("/v1/batches", json={"requests": lines}).json()
        video = c.post("/v1/video/generations", json={"model": VIDEO_MODEL, "content": [
            {"type": "text", "text": "a calm lake"}], "duration": 2, "resolution": "480p"})  # fmt: skip
        background = c.post(
            "/v1/responses", json={"model": "openai/gpt-4o-mini", "input": "hi", "background": True}
        )
        held = c.get("/v1/balance").json()
        hold_batch = money(cost("openai/gpt-4o-mini", 1000, 1000) * 2)
        hold_video = money(Decimal("0.0024") * (854 * 480 * 24 * 2 // 1024) / 1000)
        assert held["reserved_breakdown"]["batches"] == hold_batch
        assert held["reserved_breakdown"]["videos"] == hold_video
        assert Decimal(held["reserved_breakdown"]["background_responses"]) > 0
        assert Decimal(held["reserved_usd"]) == sum(Decimal(v) for v in held["reserved_breakdown"].values())
        assert Decimal(held["available_usd"]) == Decimal(held["balance_usd"]) - Decimal(held["reserved_usd"])
        assert events(c)["total"] == 0  # accepted work is billed when it ends
        response_path = f"/v1/responses/{background.json()['id']}"
        assert c.get(response_path).json()["status"] == "queued"  # read while queued: still held
        assert Decimal(c.get("/v1/balance").json()["reserved_breakdown"]["background_responses"]) > 0

        def holds_end() -> bool:
            c.get(response_path)  # a background response is billed when read finished
            return bool(c.get("/v1/balance").json()["reserved_breakdown"] == {})

        wait_until(holds_end, timeout=20, what="holds end")
        assert c.get(f"/v1/batches/{batch['id']}").json()["status"] == "completed"
        assert c.get(f"/v1/video/generations/{video.json()['id']}").json()["status"] == "succeeded"
        rows = events(c)["events"]
        assert sorted(e["model"] for e in rows) == [VIDEO_MODEL] + ["openai/gpt-4o-mini"] * 3
        balance = c.get("/v1/balance").json()
        assert Decimal(balance["balance_usd"]) == Decimal(1000) - sum(Decimal(e["cost_usd"]) for e in rows)


def test_reset_with_requests_forgets_usage_and_restores_balances() -> None:
    with serve([TOKEN], balance="3") as gw, client(gw) as c:
        c.post("/v1/chat/completions", json=chat_body())
        assert events(c)["total"] == 1 and c.get("/v1/balance").json()["balance_usd"] != "3.000000"
        gw.reset()
        assert events(c)["total"] == 1  # a plain reset keeps the traffic and what it cost
        gw.reset(requests=True)
        assert events(c)["total"] == 0 and c.get("/v1/balance").json()["balance_usd"] == "3.000000"
