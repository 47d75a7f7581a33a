"""Compare streams on ``httpx.MockTransport``, sync and async: an in-band error frame that names a model is
that model's failure (typed, on its result), the stream goes on; when every model has failed the stream
raises ``all_models_failed``; an error frame naming no model still ends the stream."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional

import httpx
import pytest

from meshapi import StreamEventError
from tests.conftest import RecordingStream, collect, resolve

A, B = "openai/gpt-4o-mini", "anthropic/claude-3.5-haiku"
HI = [{"role": "user", "content": "hi"}]
OVERLOADED = {
    "code": "provider_overloaded",
    "message": "The provider is overloaded.",
    "provider_error": {"provider": "anthropic", "status": 529},
}


def frame(name: Optional[str], data: Dict[str, Any]) -> bytes:
    head = f"event: {name}\n" if name else ""
    return f"{head}data: {json.dumps(data)}\n\n".encode()


def meta(skip: bool = True) -> bytes:
    return frame(
        "meta",
        {"comparison_id": "cmp_1", "models": [A, B], "comparison_model": None, "skip_comparison": skip},
    )


DONE = frame(
    "done", {"comparison_id": "cmp_1", "total_latency_ms": 9, "partial": True, "skip_comparison": True}
)


def client_for(make_client: Any, chunks: List[bytes]) -> Any:
    body = RecordingStream(chunks)
    headers = {"content-type": "text/event-stream", "x-request-id": "req_s"}
    client = make_client(lambda request: httpx.Response(200, stream=body, headers=headers))
    client.body = body
    return client


@pytest.mark.parametrize("error_event", ["error", "model_chunk"])
async def test_an_error_frame_for_one_model_is_that_models_failure(
    make_client: Any, error_event: str
) -> None:
    chunks = [
        meta(),
        frame("model_chunk", {"model": A, "delta": "Hel", "finish_reason": None}),
        frame("model_chunk", {"model": B, "delta": "Bon", "finish_reason": None}),
        frame(error_event, {"model": B, "error": OVERLOADED, "request_id": "req_s::b"}),
        frame("model_chunk", {"model": A, "delta": "lo", "finish_reason": "stop"}),
        frame("model_stream_done", {"model": A, "finish_reason": None, "usage": None, "error": None}),
        DONE,
    ]
    client = client_for(make_client, chunks)
    stream = client.compare.stream(
        models=[A, B], messages=[{"role": "user", "content": "hi"}], skip_comparison=True
    )
    events = await collect(stream)
    assert [(e.event, e.model) for e in events] == [
        ("meta", None),
        ("model_chunk", A),
        ("model_chunk", B),
        ("model_stream_done", B),
        ("model_chunk", A),
        ("model_stream_done", A),
        ("done", None),
    ]
    assert (events[3].error, events[3].error_code) == ("The provider is overloaded.", "provider_overloaded")
    result = stream.accumulator
    assert result.texts == {A: "Hello", B: "Bon"} and result.succeeded == [A]
    assert result.errors == {B: "The provider is overloaded."} and result.error_codes == {
        B: "provider_overloaded"
    }
    failure = result.failures[B]
    assert isinstance(failure, StreamEventError) and failure.error_code == "provider_overloaded"
    assert failure.request_id == "req_s::b" and failure.provider_error == OVERLOADED["provider_error"]
    response = result.to_response()
    assert [(r.model, r.failure) for r in response.results] == [(A, None), (B, failure)]
    assert response.results[1].error_code == "provider_overloaded" and response.partial is True
    assert "failure" not in response.results[1].model_dump() and client.body.closed


async def test_a_models_text_error_is_typed_too(make_client: Any) -> None:
    chunks = [
        meta(skip=False),
        frame("model_chunk", {"model": A, "delta": "Hi", "latency_ms": 5, "error": None, "error_code": None}),
        frame(
            "model_chunk",
            {"model": B, "delta": "", "error": "Model 'b' not found.", "error_code": "model_not_found"},
        ),
        DONE,
    ]
    stream = client_for(make_client, chunks).compare.stream(models=[A, B], messages=HI)
    final = await resolve(stream.get_final())
    failure = final.failures[B]
    assert (type(failure), failure.message, failure.error_code) == (
        StreamEventError,
        "Model 'b' not found.",
        "model_not_found",
    )
    assert list(final.failures) == [B] and final.to_response().results[1].failure is failure


async def test_every_model_failed_raises_all_models_failed(make_client: Any) -> None:
    chunks = [
        meta(),
        frame("model_chunk", {"model": A, "delta": "Hel", "finish_reason": None}),
        frame("error", {"model": B, "error": OVERLOADED}),
        frame("model_stream_done", {"model": A, "finish_reason": None, "usage": None, "error": "cut off"}),
        frame("model_chunk", {"model": A, "delta": "never read", "finish_reason": None}),
        DONE,
    ]
    client = client_for(make_client, chunks)
    stream = client.compare.stream(models=[A, B], messages=HI, skip_comparison=True)
    seen: List[Any] = []
    with pytest.raises(StreamEventError) as info:
        if hasattr(stream, "__aiter__"):
            async for event in stream:
                seen.append(event.event)
        else:
            for event in stream:
                seen.append(event.event)
    assert seen == ["meta", "model_chunk", "model_stream_done"]
    assert (info.value.message, info.value.error_code, info.value.request_id) == (
        "All models failed.",
        "all_models_failed",
        "req_s",
    )
    assert info.value.details == [
        {"model": A, "error": "cut off", "error_code": None},
        {"model": B, "error": "The provider is overloaded.", "error_code": "provider_overloaded"},
    ]
    assert client.body.closed


async def test_an_error_frame_naming_no_model_ends_the_stream(make_client: Any) -> None:
    chunks = [
        meta(),
        frame("model_chunk", {"model": A, "delta": "Hel"}),
        frame("error", {"error": OVERLOADED}),
        DONE,
    ]
    client = client_for(make_client, chunks)
    with pytest.raises(StreamEventError) as info:
        await collect(client.compare.stream(models=[A, B], messages=HI, skip_comparison=True))
    assert (
        info.value.error_code == "provider_overloaded" and info.value.message == "The provider is overloaded."
    )
    assert client.body.closed
