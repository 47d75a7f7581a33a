"""Compare: the non-streaming object, both streaming modes and per-model failures."""

from __future__ import annotations

import re
from typing import Any, Dict, List

import httpx

from .conftest import sse_json, user

MODELS = ["openai/gpt-4o-mini", "anthropic/claude-3.5-haiku"]
CMP_ID = re.compile(r"^cmp_[0-9a-f]{20}$")


def compare(client: httpx.Client, **extra: Any) -> httpx.Response:
    body = {"models": MODELS, "messages": user("Explain vector search in one sentence."), "stream": False}
    body.update(extra)
    return client.post("/v1/chat/compare", json=body)


def test_non_streaming_compare(client: httpx.Client) -> None:
    response = compare(client, models=[*MODELS, MODELS[0]], max_tokens=60)
    assert response.status_code == 200
    body = response.json()
    rid = response.headers["x-request-id"]
    assert CMP_ID.match(body["comparison_id"])
    assert body["object"] == "compare.completion" and isinstance(body["created"], int)
    assert body["models"] == MODELS
    assert [r["model"] for r in body["results"]] == MODELS
    for result in body["results"]:
        assert result["request_id"] == f"{rid}::{result['model']}"
        assert result["error"] is None and result["error_code"] is None
        assert result["content"] == result["response_body"]["choices"][0]["message"]["content"]
        assert (
            result["usage"]["total_tokens"]
            == result["usage"]["prompt_tokens"] + result["usage"]["completion_tokens"]
        )
        assert isinstance(result["latency_ms"], int)
    assert isinstance(body["comparison"], str) and body["comparison"]
    assert body["comparison_model"] == "openai/gpt-4o-mini"
    assert body["comparison_usage"]["total_tokens"] > 0
    assert body["comparison_fallback_used"] is False
    assert body["partial"] is False and body["skip_comparison"] is False
    assert isinstance(body["total_latency_ms"], int)


def test_skip_comparison_and_partial_failure(client: httpx.Client) -> None:
    body = compare(client, models=[MODELS[0], "acme/missing-model"], skip_comparison=True).json()
    assert body["comparison"] is None and body["comparison_model"] is None
    assert body["partial"] is True and body["skip_comparison"] is True
    failed = body["results"][1]
    assert failed["error_code"] == "model_not_found" and isinstance(failed["error"], str)
    assert failed["content"] is None and failed["usage"] is None


def test_all_models_failing_is_502_nested_detail(client: httpx.Client) -> None:
    response = compare(client, models=["acme/a", "acme/b"])
    assert response.status_code == 502
    detail = response.json()["detail"]
    assert detail["error"]["code"] == "all_models_failed"
    assert [d["error_code"] for d in detail["error"]["details"]] == ["model_not_found", "model_not_found"]
    assert response.headers["x-request-id"]
    streamed = compare(client, models=["acme/a"], stream=True)
    assert streamed.status_code == 502


def test_too_many_models_is_422(client: httpx.Client) -> None:
    models = [f"acme/m{i}" for i in range(11)]
    response = compare(client, models=models)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["loc"] == ["body", "models"]


def _names(events: List[Any]) -> List[str]:
    return [name for name, _ in events]


def test_synthesis_stream_events(client: httpx.Client) -> None:
    response = compare(client, stream=True, models=[*MODELS, "acme/missing"])
    assert response.headers["content-type"] == "text/event-stream"
    raw = response.content
    assert b"[DONE]" not in raw
    events = sse_json(raw)
    names = _names(events)
    assert names[0] == "meta" and names[-1] == "done"
    assert names.count("model_chunk") == 3 and names.count("model_done") == 1
    assert names.index("model_done") > max(i for i, n in enumerate(names) if n == "model_chunk")
    assert "comparison_chunk" in names and "model_stream_done" not in names
    meta: Dict[str, Any] = events[0][1]
    assert CMP_ID.match(meta["comparison_id"]) and meta["skip_comparison"] is False
    assert meta["comparison_model"] == "openai/gpt-4o-mini"
    chunks = [data for name, data in events if name == "model_chunk"]
    for chunk in chunks:
        assert set(chunk) == {"model", "delta", "latency_ms", "error", "error_code", "usage"}
    failed = next(c for c in chunks if c["model"] == "acme/missing")
    assert failed["delta"] == "" and failed["error_code"] == "model_not_found" and failed["usage"] is None
    results = next(data for name, data in events if name == "model_done")["results"]
    assert {r["model"] for r in results} == {*MODELS, "acme/missing"}
    comparison = [data for name, data in events if name == "comparison_chunk"]
    assert (
        all(c["finish_reason"] is None for c in comparison[:-1]) and comparison[-1]["finish_reason"] == "stop"
    )
    done = events[-1][1]
    assert set(done) == {
        "comparison_id",
        "total_latency_ms",
        "partial",
        "comparison_model",
        "comparison_fallback_used",
    }
    assert done["partial"] is True and done["comparison_id"] == meta["comparison_id"]


def test_raw_stream_events(client: httpx.Client) -> None:
    events = sse_json(compare(client, stream=True, skip_comparison=True).content)
    names = _names(events)
    assert names[0] == "meta" and names[-1] == "done"
    assert "model_done" not in names and "comparison_chunk" not in names
    assert names.count("model_stream_done") == 2
    meta = events[0][1]
    assert meta["comparison_model"] is None and meta["skip_comparison"] is True
    per_model: Dict[str, str] = {}
    seen_models = []
    for name, data in events:
        if name == "model_chunk":
            assert set(data) == {"model", "delta", "finish_reason"}
            per_model[data["model"]] = per_model.get(data["model"], "") + data["delta"]
            seen_models.append(data["model"])
        if name == "model_stream_done":
            assert set(data) == {"model", "finish_reason", "usage", "error"}
            assert data["error"] is None and data["usage"]["completion_tokens"] > 0
    assert seen_models[:2] == MODELS  # interleaved
    plain = compare(client, skip_comparison=True).json()
    for result in plain["results"]:
        assert per_model[result["model"]] == result["content"]
    done = events[-1][1]
    assert set(done) == {"comparison_id", "total_latency_ms", "partial", "skip_comparison"}
    assert done["skip_comparison"] is True and done["partial"] is False


def _fault_frame(rid: str, model: str) -> Dict[str, Any]:
    return {
        "model": model,
        "error": {
            "code": "provider_not_available",
            "message": f"The provider of {model} is not available right now.",
            "provider_error": {"provider": model.split("/")[0], "status": 503, "message": "planned fault"},
        },
        "request_id": f"{rid}::{model}",
    }


def test_a_provider_fault_fails_one_model_inside_the_stream(client: httpx.Client, gw: Any) -> None:
    faulted = MODELS[1]
    clean = sse_json(compare(client, stream=True, skip_comparison=True).content)
    try:
        gw.provider_faults.add(faulted, times=2)
        raw = compare(client, stream=True, skip_comparison=True)
        synth = compare(client, stream=True)
    finally:
        gw.provider_faults.clear()
    events = sse_json(raw.content)
    mine = [(name, data) for name, data in events if data.get("model") == faulted]
    first = next(data for name, data in clean if name == "model_chunk" and data["model"] == faulted)
    assert mine == [("model_chunk", first), ("error", _fault_frame(raw.headers["x-request-id"], faulted))]
    others = [(n, d) for n, d in events if d.get("model") == MODELS[0]]
    assert others == [(n, d) for n, d in clean if d.get("model") == MODELS[0]]
    assert events[-1][0] == "done" and events[-1][1]["partial"] is True
    # synthesis mode: the error frame in place of the model's model_chunk, its result failed, no synthesis
    names = [name for name, _ in sse_json(synth.content)]
    assert names == [
        "meta",
        "error",
        "model_chunk",
        "model_done",
        "done",
    ]  # by latency: the faulted one first
    results = next(data for name, data in sse_json(synth.content) if name == "model_done")["results"]
    assert [(r["model"], r["content"], r["error_code"]) for r in results][1] == (
        faulted,
        None,
        "provider_not_available",
    )


def test_every_model_faulted_still_streams(client: httpx.Client, gw: Any) -> None:
    try:
        for model in MODELS:
            gw.provider_faults.add(model)
        response = compare(client, stream=True, skip_comparison=True)
    finally:
        gw.provider_faults.clear()
    assert response.status_code == 200
    events = sse_json(response.content)
    rid = response.headers["x-request-id"]
    assert [(n, d) for n, d in events if n == "error"] == [("error", _fault_frame(rid, m)) for m in MODELS]
