"""Responses, compare and image streams: transcripts, per-model errors, error frames, cuts at every byte."""

from __future__ import annotations

import json
from typing import Any, Callable, List, Optional, Tuple

import httpx
import pytest

import meshapi
from meshapi import CompareStreamEvent, ResponsesStreamEvent, StreamEventError, StreamInterruptedError
from meshapi.lib.compare import CompareAccumulator
from meshapi.lib.responses import ResponsesAccumulator
from tests.conftest import RecordingStream, collect, resolve
from tests.unit import _payloads as P

MESSAGES = [{"role": "user", "content": "hi"}]


def handler_for(
    body: bytes,
    *,
    cut: Optional[int] = None,
    streams: Optional[List[RecordingStream]] = None,
    chunk: int = 13,
) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        payload = body if cut is None else body[:cut]
        stream = RecordingStream([payload[i : i + chunk] for i in range(0, len(payload), chunk)])
        if streams is not None:
            streams.append(stream)
        return httpx.Response(
            200, headers={"content-type": "text/event-stream", "x-request-id": "req_s"}, stream=stream
        )

    return handler


OPENERS = {
    "responses": lambda c: c.responses.stream(model="openai/o4-mini", input="hi"),
    "compare": lambda c: c.compare.stream(models=P.MODELS, messages=MESSAGES),
    "images": lambda c: c.images.stream(model="m", prompt="p"),
}


async def drain(stream: Any) -> Tuple[List[Any], Optional[BaseException]]:
    got: List[Any] = []
    try:
        if hasattr(stream, "__aiter__"):
            async for item in stream:
                got.append(item)
        else:
            for item in stream:
                got.append(item)
    except meshapi.MeshAPIError as exc:
        return got, exc
    return got, None


# --- responses ---------------------------------------------------------------------------------------


async def test_responses_transcript_without_done_ends_after_terminal_event(make_client: Any) -> None:
    streams: List[RecordingStream] = []
    client = make_client(handler_for(P.sse(P.RESPONSES_EVENTS), streams=streams))
    stream = OPENERS["responses"](client)
    items = await collect(stream)
    assert [type(i) for i in items] == [ResponsesStreamEvent] * 4
    assert [i.event for i in items] == [e for e, _ in P.RESPONSES_EVENTS]
    assert items[1].delta == "Hel" and items[1].sequence_number == 4  # extra keys kept
    final = await resolve(stream.get_final_response())
    assert final.status == "completed" and final.usage.total_tokens == 10
    assert stream.accumulator.output_text == "Hello \u00e9"
    assert stream.closed and streams[0].closed


async def test_responses_text_stream_and_done_sentinel(make_client: Any) -> None:
    body = P.sse([*P.RESPONSES_EVENTS, (None, "[DONE]")])
    client = make_client(handler_for(body))
    stream = OPENERS["responses"](client)
    assert await collect(stream.text_stream) == ["Hel", "lo \u00e9"]
    assert await resolve(stream.get_output_text()) == "Hello \u00e9"


async def test_responses_failed_and_incomplete_are_terminal(make_client: Any) -> None:
    for kind in ("response.failed", "response.incomplete"):
        events = [
            P.RESPONSES_EVENTS[0],
            (kind, {"type": kind, "response": {"id": "r", "status": kind.split(".")[1]}}),
        ]
        client = make_client(handler_for(P.sse(events)))
        stream = OPENERS["responses"](client)
        items = await collect(stream)
        assert items[-1].type == kind
        assert (await resolve(stream.get_final_response())).status == kind.split(".")[1]


async def test_responses_stream_ending_before_terminal_event_is_interrupted(make_client: Any) -> None:
    client = make_client(handler_for(P.sse(P.RESPONSES_EVENTS[:3])))
    got, error = await drain(OPENERS["responses"](client))
    assert len(got) == 3
    assert isinstance(error, StreamInterruptedError) and error.request_id == "req_s"


@pytest.mark.parametrize(
    "frame, code, message, request_id, provider",
    [
        (
            (
                "error",
                {"type": "error", "code": "rate_limit_exceeded", "message": "Slow down", "param": None},
            ),
            "rate_limit_exceeded",
            "Slow down",
            "req_s",
            None,
        ),
        (
            (
                None,
                {
                    "error": {
                        "code": "gateway_timeout",
                        "message": "Upstream provider did not respond in time.",
                        "provider_error": {"status": 504},
                    },
                    "request_id": "req_frame",
                },
            ),
            "gateway_timeout",
            "Upstream provider did not respond in time.",
            "req_frame",
            {"status": 504},
        ),
        (
            ("error", {"error": {"code": "upstream_error", "message": "boom"}}),
            "upstream_error",
            "boom",
            "req_s",
            None,
        ),
    ],
)
async def test_responses_error_event_raises_with_context(
    make_client: Any, frame: Any, code: str, message: str, request_id: str, provider: Any
) -> None:
    body = P.sse([*P.RESPONSES_EVENTS[:2], frame, (None, "[DONE]")])
    client = make_client(handler_for(body))
    got, error = await drain(OPENERS["responses"](client))
    assert len(got) == 2
    assert isinstance(error, StreamEventError)
    assert (error.error_code, error.message, error.request_id, error.provider_error) == (
        code,
        message,
        request_id,
        provider,
    )


def test_responses_accumulator_without_deltas_reads_final_output() -> None:
    acc = ResponsesAccumulator()
    acc.add(ResponsesStreamEvent.model_validate(P.RESPONSES_EVENTS[-1][1]))
    assert acc.output_text == "Hello \u00e9" and acc.completed
    empty = ResponsesAccumulator()
    empty.add(ResponsesStreamEvent.model_validate({"type": "response.output_text.delta", "delta": "x"}))
    empty.add(
        ResponsesStreamEvent.model_validate(
            {"usage": {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2}}
        )
    )
    built = empty.response()
    assert built.output[0]["content"][0]["text"] == "x" and built.usage.total_tokens == 2


# --- compare -----------------------------------------------------------------------------------------


async def test_compare_synthesis_transcript(make_client: Any) -> None:
    client = make_client(handler_for(P.sse(P.COMPARE_EVENTS)))
    stream = OPENERS["compare"](client)
    items = await collect(stream)
    assert [type(i) for i in items] == [CompareStreamEvent] * 7
    assert [i.event for i in items] == [e for e, _ in P.COMPARE_EVENTS]
    assert len(items[3].results) == 2  # model_done keeps the extra key
    result = await resolve(stream.get_final())
    assert isinstance(result, CompareAccumulator)
    assert result.models == P.MODELS and result.errors == {} and not result.partial
    assert result.text(P.MODELS[1]) == "It finds nearest neighbours in vector space."
    assert result.usage(P.MODELS[0]).total_tokens == 25 and result.latency_ms(P.MODELS[1]) == 1034
    assert result.synthesis == "Both answers are accurate; the first is more precise."
    assert result.comparison_id == "cmp_4e0b9d1a7c3f52e8a6b1" and result.total_latency_ms == 2210
    response = result.to_response()
    assert response.comparison == result.synthesis and response.results[0].request_id.endswith("gpt-4o-mini")


async def test_compare_text_stream_is_the_synthesis(make_client: Any) -> None:
    client = make_client(handler_for(P.sse(P.COMPARE_EVENTS)))
    stream = OPENERS["compare"](client)
    assert await collect(stream.text_stream) == ["Both answers are accurate; ", "the first is more precise."]
    final = await resolve(stream.get_final_response())
    assert final.total_latency_ms == 2210


RAW_MODE = [
    (
        "meta",
        {
            "comparison_id": "cmp_1",
            "models": ["a", "b", "c"],
            "comparison_model": None,
            "skip_comparison": True,
        },
    ),
    ("model_chunk", {"model": "a", "delta": "Hel", "finish_reason": None}),
    (
        "model_chunk",
        {
            "model": "b",
            "delta": "",
            "error": "Upstream provider did not respond in time.",
            "error_code": "gateway_timeout",
        },
    ),
    ("model_chunk", {"model": "c", "delta": "Bon", "finish_reason": None}),
    ("model_chunk", {"model": "a", "delta": "lo", "finish_reason": "stop"}),
    ("model_stream_done", {"model": "b", "finish_reason": None, "usage": None, "error": "model_not_found"}),
    (
        "model_stream_done",
        {
            "model": "a",
            "finish_reason": None,
            "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
            "error": None,
        },
    ),
    ("model_chunk", {"model": "c", "delta": "jour", "finish_reason": "stop"}),
    ("model_stream_done", {"model": "c", "finish_reason": None, "usage": None, "error": None}),
    ("done", {"comparison_id": "cmp_1", "total_latency_ms": 900, "partial": True, "skip_comparison": True}),
]


async def test_compare_per_model_errors_do_not_abort_the_stream(make_client: Any) -> None:
    client = make_client(handler_for(P.sse(RAW_MODE)))
    stream = OPENERS["compare"](client)
    items = await collect(stream)
    assert len(items) == len(RAW_MODE)
    assert (
        items[2].error == "Upstream provider did not respond in time."
        and items[2].error_code == "gateway_timeout"
    )
    result = await resolve(stream.get_final())
    assert result.texts == {"a": "Hello", "b": "", "c": "Bonjour"}
    assert result.errors == {"b": "model_not_found"} and result.error_codes == {"b": "gateway_timeout"}
    assert result.succeeded == ["a", "c"] and result.partial and result.synthesis == ""
    assert result.usage("a").total_tokens == 5 and result.finish_reason("a") == "stop"
    assert result.to_response().results[1].error == "model_not_found"


async def test_compare_failed_model_in_model_done_results(make_client: Any) -> None:
    failed = {
        "model": P.MODELS[1],
        "content": None,
        "latency_ms": 120000,
        "error": "timeout",
        "error_code": "gateway_timeout",
        "usage": None,
        "request_id": "r::b",
    }
    events = [
        P.COMPARE_EVENTS[0],
        P.COMPARE_EVENTS[1],
        (
            "model_chunk",
            {
                "model": P.MODELS[1],
                "delta": "",
                "latency_ms": 120000,
                "error": "timeout",
                "error_code": "gateway_timeout",
                "usage": None,
            },
        ),
        ("model_done", {"results": [P.COMPARE_EVENTS[3][1]["results"][0], failed]}),
        (
            "done",
            {
                "comparison_id": "cmp_4e0b9d1a7c3f52e8a6b1",
                "total_latency_ms": 120004,
                "partial": True,
                "comparison_model": None,
                "comparison_fallback_used": False,
            },
        ),
    ]
    client = make_client(handler_for(P.sse(events)))
    result = await resolve(OPENERS["compare"](client).get_final())
    assert result.errors == {P.MODELS[1]: "timeout"} and result.partial
    assert [r.model for r in result.results] == P.MODELS


async def test_compare_top_level_error_object_raises(make_client: Any) -> None:
    frame = (
        None,
        {
            "error": {"code": "upstream_error", "message": "compare failed", "provider_error": {"x": 1}},
            "request_id": "req_frame",
        },
    )
    client = make_client(handler_for(P.sse([*P.COMPARE_EVENTS[:2], frame, *P.COMPARE_EVENTS[2:]])))
    got, error = await drain(OPENERS["compare"](client))
    assert len(got) == 2
    assert isinstance(error, StreamEventError)
    assert (error.error_code, error.request_id, error.provider_error) == (
        "upstream_error",
        "req_frame",
        {"x": 1},
    )


async def test_compare_error_event_raises(make_client: Any) -> None:
    frame = ("error", {"code": "gateway_timeout", "message": "too slow"})
    client = make_client(handler_for(P.sse([P.COMPARE_EVENTS[0], frame])))
    got, error = await drain(OPENERS["compare"](client))
    assert len(got) == 1 and isinstance(error, StreamEventError) and error.error_code == "gateway_timeout"
    assert error.request_id == "req_s"


async def test_compare_ending_before_done_is_interrupted(make_client: Any) -> None:
    client = make_client(handler_for(P.sse(P.COMPARE_EVENTS[:-1])))
    stream = OPENERS["compare"](client)
    got, error = await drain(stream)
    assert len(got) == 6 and isinstance(error, StreamInterruptedError)
    assert "done" in error.message and error.request_id == "req_s"
    assert stream.accumulator.synthesis.endswith("precise.") and not stream.accumulator.done


# --- images ------------------------------------------------------------------------------------------


async def test_image_stream_skips_keepalives_and_returns_final_images(make_client: Any) -> None:
    client = make_client(handler_for(P.IMAGE_STREAM, chunk=7))
    stream = OPENERS["images"](client)
    items = await collect(stream)
    assert [i.status for i in items] == ["processing", "completed"]
    final = await resolve(stream.get_final())
    assert final.data[0].image_bytes() == b"hello" and final.created == 1767312400


async def test_image_stream_error_frame(make_client: Any) -> None:
    body = (
        P.IMAGE_STREAM.split(b": keep-alive")[0]
        + b'data: {"error":{"code":"content_policy","message":"no"}}\n\n'
    )
    client = make_client(handler_for(body))
    got, error = await drain(OPENERS["images"](client))
    assert len(got) == 1 and isinstance(error, StreamEventError) and error.error_code == "content_policy"


# --- cut at every byte offset ------------------------------------------------------------------------

TRANSCRIPTS = {
    "responses": P.sse(P.RESPONSES_EVENTS),
    "compare": P.sse(P.COMPARE_EVENTS),
    "compare-raw": P.sse(RAW_MODE),
    "images": P.IMAGE_STREAM,
}
FULL = {"responses": 4, "compare": 7, "compare-raw": len(RAW_MODE), "images": 2}


@pytest.mark.parametrize("name", list(TRANSCRIPTS))
async def test_cut_at_every_byte_offset_never_ends_silently_short(make_client: Any, name: str) -> None:
    body = TRANSCRIPTS[name]
    opener = OPENERS[name.split("-")[0]]
    step = 1 if len(body) < 1500 else 2
    for cut in range(0, len(body) + 1, step):
        client = make_client(handler_for(body, cut=cut))
        got, error = await drain(opener(client))
        assert len(got) <= FULL[name]
        if error is None:
            assert len(got) == FULL[name], cut  # completing requires the end marker to have arrived
            continue
        # a cut inside the last data line is an interruption too, never a parse error
        assert isinstance(error, StreamInterruptedError), (cut, error)
        assert error.request_id == "req_s"


async def test_closing_a_half_read_stream_releases_the_connection(make_client: Any) -> None:
    for name in ("responses", "compare", "images"):
        streams: List[RecordingStream] = []
        client = make_client(handler_for(TRANSCRIPTS[name], streams=streams, chunk=4096))
        stream = OPENERS[name](client)
        if hasattr(stream, "__aiter__"):
            async with stream:
                await stream.__anext__()
        else:
            with stream:
                next(stream)
        assert stream.closed and streams[0].closed


def test_request_bodies_are_json() -> None:  # guards the transcripts themselves
    for body in TRANSCRIPTS.values():
        for line in body.split(b"\n"):
            if line.startswith(b"data: ") and line != b"data: [DONE]":
                json.loads(line[6:])
