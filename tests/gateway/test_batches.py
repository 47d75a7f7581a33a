"""Batches: validation codes, the lifecycle with inline results, cancel, list paging (API.md §6)."""

from __future__ import annotations

import time
from typing import Any, Dict, List

import httpx

from meshapi_gateway import serve

from .conftest import TOKEN, assert_envelope, user

TERMINAL = {"completed", "failed", "cancelled", "expired"}


def item(custom_id: str, model: str = "openai/gpt-4o-mini", **body: Any) -> Dict[str, Any]:
    return {
        "custom_id": custom_id,
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {"model": model, "messages": user(f"Classify ticket {custom_id}"), **body},
    }


def poll(client: httpx.Client, batch_id: str, until: str) -> List[Dict[str, Any]]:
    seen = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        batch = client.get(f"/v1/batches/{batch_id}").json()
        seen.append(batch)
        if batch["status"] == until:
            return seen
        time.sleep(0.005)
    raise AssertionError(f"batch never reached {until}: {[b['status'] for b in seen]}")


def test_batch_lifecycle_with_results(client: httpx.Client) -> None:
    requests = [
        item("t-1", max_tokens=5),
        item("t-2"),
        {**item("t-3"), "body": {"model": "openai/gpt-4o-mini"}},
    ]
    created = client.post("/v1/batches", json={"requests": requests, "metadata": {"job": "nightly"}})
    assert created.status_code == 200
    batch = created.json()
    assert batch["id"].startswith("batch_") and batch["object"] == "batch"
    assert batch["status"] == "validating" and batch["endpoint"] == "/v1/chat/completions"
    assert batch["model"] == "openai/gpt-4o-mini" and batch["provider"] == "openai"
    assert batch["request_counts"] == {"total": 3, "completed": 0, "failed": 0}
    assert batch["metadata"] == {"job": "nightly"} and batch["results"] is None
    done = poll(client, batch["id"], "completed")[-1]
    assert done["request_counts"] == {"total": 3, "completed": 2, "failed": 1}
    assert isinstance(done["completed_at"], int)
    results = {r["custom_id"]: r for r in done["results"]}
    assert results["t-1"]["response"]["status_code"] == 200 and results["t-1"]["error"] is None
    first = results["t-1"]["response"]["body"]
    assert first["object"] == "chat.completion" and first["choices"][0]["finish_reason"] == "length"
    assert results["t-3"]["error"]["code"] == "validation_error"
    assert results["t-3"]["response"]["status_code"] == 422


def test_batch_validation_codes(client: httpx.Client) -> None:
    mixed = client.post("/v1/batches", json={"requests": [item("a"), item("b", model="openai/gpt-4o")]})
    assert_envelope(mixed, 400, "mixed_models")
    no_model = {"custom_id": "x", "body": {"messages": user("hi")}}
    assert_envelope(client.post("/v1/batches", json={"requests": [no_model]}), 400, "invalid_batch_file")
    assert_envelope(
        client.post("/v1/batches", json={"requests": [item("a", model="acme/x")]}), 404, "model_not_found"
    )
    embedding = client.post(
        "/v1/batches", json={"requests": [item("a", model="openai/text-embedding-3-small")]}
    )
    assert_envelope(embedding, 400, "model_not_supported_for_batching")
    assert_envelope(client.post("/v1/batches", json={"requests": []}), 422, "validation_error")
    assert_envelope(client.get("/v1/batches/batch_unknown"), 404, "not_found")
    assert_envelope(client.post("/v1/batches/batch_unknown/cancel", json={}), 404, "not_found")


def test_cancel_and_limit_and_listing() -> None:
    with (
        serve([TOKEN], batch_step_seconds=5) as slow,
        httpx.Client(base_url=slow.base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10) as c,
    ):
        ids = [c.post("/v1/batches", json={"requests": [item(f"r{i}")]}).json()["id"] for i in range(10)]
        limited = c.post("/v1/batches", json={"requests": [item("over")]})
        assert_envelope(limited, 429, "batch_limit_exceeded")
        cancelled = c.post(f"/v1/batches/{ids[0]}/cancel", json={})
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelling"
        page = c.get("/v1/batches", params={"limit": 4}).json()
        assert page["object"] == "list" and page["has_more"] is True
        assert [b["id"] for b in page["data"]] == ids[::-1][:4]
        assert page["first_id"] == ids[9] and page["last_id"] == ids[6]
        assert "results" not in page["data"][0]
        rest = c.get("/v1/batches", params={"after": page["last_id"], "limit": 100}).json()
        assert [b["id"] for b in rest["data"]] == ids[::-1][4:] and rest["has_more"] is False
        assert_envelope(c.get("/v1/batches", params={"limit": 0}), 422, "validation_error")
    with (
        serve([TOKEN], batch_step_seconds=0.02) as quick,
        httpx.Client(base_url=quick.base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10) as c,
    ):
        batch_id = c.post("/v1/batches", json={"requests": [item("a"), item("b")]}).json()["id"]
        assert c.post(f"/v1/batches/{batch_id}/cancel", json={}).json()["status"] == "cancelling"
        final = poll(c, batch_id, "cancelled")[-1]
        assert final["status"] in TERMINAL and final["request_counts"]["total"] == 2
        again = c.post(f"/v1/batches/{batch_id}/cancel", json={}).json()
        assert again["status"] == "cancelled"


def test_status_sequence() -> None:
    with (
        serve([TOKEN], batch_step_seconds=0.15) as slow,
        httpx.Client(base_url=slow.base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10) as c,
    ):
        batch = c.post("/v1/batches", json={"requests": [item("a"), item("b")]}).json()
        statuses = [b["status"] for b in poll(c, batch["id"], "completed")]
        order = list(dict.fromkeys(statuses))
        assert order == ["validating", "in_progress", "finalizing", "completed"]
