"""Chat streams: lazy, closable, never silently short; the accumulator on recorded transcripts."""

from __future__ import annotations

import json
from typing import Any, Dict, List

import httpx
import pytest

import meshapi
from meshapi import ChatCompletionAccumulator, ChatCompletionChunk
from tests.conftest import RecordingStream, close, collect, resolve

MESSAGES = [{"role": "user", "content": "Capital of France?"}]


def chunk(delta: Dict[str, Any], finish: Any = None, **extra: Any) -> Dict[str, Any]:
    base = {
        "id": "chatcmpl-7",
        "object": "chat.completion.chunk",
        "created": 1767312000,
        "model": "openai/gpt-4o-mini",
    }
    base["choices"] = [{"index": 0, "delta": delta, "finish_reason": finish}]
    base.update(extra)
    return base


TEXT_CHUNKS = [
    chunk({"role": "assistant", "content": ""}),
    chunk({"content": "Par"}),
    chunk({"content": "is \u00e9t\u00e9"}),
    chunk({}, "stop"),
    {
        **chunk({}),
        "choices": [],
        "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15},
        "cost": "0.0000024",
    },
]

TOOL_CHUNKS = [
    chunk(
        {
            "role": "assistant",
            "tool_calls": [
                {
                    "index": 0,
                    "id": "call_a",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": ""},
                }
            ],
        }
    ),
    chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city": '}}]}),
    chunk(
        {
            "tool_calls": [
                {
                    "index": 1,
                    "id": "call_b",
                    "type": "function",
                    "function": {"name": "get_time", "arguments": "{}"},
                }
            ]
        }
    ),
    chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"Paris"}'}}]}),
    chunk({}, "tool_calls"),
]


def sse(frames: List[Any], done: bool = True) -> bytes:
    text = "".join(f"data: {json.dumps(f)}\n\n" for f in frames)
    return (text + ("data: [DONE]\n\n" if done else "")).encode()


def stream_handler(
    body: bytes,
    *,
    error: Exception | None = None,
    cut: int | None = None,
    streams: List[RecordingStream] | None = None,
) -> Any:
    seen: List[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        payload = body if cut is None else body[:cut]
        stream = RecordingStream([payload[i : i + 17] for i in range(0, len(payload), 17)], error)
        if streams is not None:
            streams.append(stream)
        return httpx.Response(
            200, headers={"content-type": "text/event-stream", "x-request-id": "req_stream"}, stream=stream
        )

    handler.seen = seen  # type: ignore[attr-defined]
    return handler


async def test_stream_is_lazy_and_iterates_like_0_1_4(make_client: Any) -> None:
    handler = stream_handler(sse(TEXT_CHUNKS))
    client = make_client(handler)
    stream = client.chat.completions.stream(model="openai/gpt-4o-mini", messages=MESSAGES)
    assert handler.seen == []  # nothing sent before the first item
    items = await collect(stream)
    assert [type(i) for i in items] == [ChatCompletionChunk] * 5
    assert items[-1].usage.total_tokens == 15 and items[-1].cost == "0.0000024"
    body = json.loads(handler.seen[0].content)
    assert body["stream"] is True and handler.seen[0].headers["accept"] == "text/event-stream"
    assert stream.request_id == "req_stream" and stream.closed


async def test_text_stream_and_final_completion(make_client: Any) -> None:
    client = make_client(stream_handler(sse(TEXT_CHUNKS)))
    stream = client.chat.completions.stream(model="m", messages=MESSAGES)
    texts = await collect(stream.text_stream)
    assert texts == ["Par", "is \u00e9t\u00e9"]
    final = await resolve(stream.get_final_completion())
    assert final.object == "chat.completion"
    assert final.choices[0].message.content == "Paris \u00e9t\u00e9"
    assert final.choices[0].finish_reason == "stop"
    assert final.usage.total_tokens == 15


async def test_context_manager_opens_and_closes(make_client: Any, mode: str) -> None:
    streams: List[RecordingStream] = []
    client = make_client(stream_handler(sse(TEXT_CHUNKS), streams=streams))
    stream = client.chat.completions.stream(model="m", messages=MESSAGES)
    if mode == "sync":
        with stream as s:
            assert s.request_id == "req_stream"
            first = next(iter(s))
    else:
        async with stream as s:
            assert s.request_id == "req_stream"
            first = await s.__anext__()
    assert first.choices[0].delta.role == "assistant"
    assert streams[0].closed and stream.closed


async def test_break_then_close_releases_the_connection(make_client: Any) -> None:
    streams: List[RecordingStream] = []
    client = make_client(stream_handler(sse(TEXT_CHUNKS), streams=streams))
    stream = client.chat.completions.stream(model="m", messages=MESSAGES)
    if hasattr(stream, "__aiter__"):
        async for _ in stream:
            break
    else:
        for _ in stream:
            break
    await close(stream)
    assert streams[0].closed and stream.closed
    assert await collect(stream) == []  # a closed stream yields nothing more


async def test_stream_without_done_raises_after_delivering_items(make_client: Any) -> None:
    client = make_client(stream_handler(sse(TEXT_CHUNKS, done=False)))
    stream = client.chat.completions.stream(model="m", messages=MESSAGES)
    got: List[Any] = []
    with pytest.raises(meshapi.StreamInterruptedError) as info:
        if hasattr(stream, "__aiter__"):
            async for item in stream:
                got.append(item)
        else:
            for item in stream:
                got.append(item)
    assert len(got) == 5
    assert info.value.request_id == "req_stream" and "[DONE]" in str(info.value)


async def test_connection_error_mid_stream_is_typed_and_closes(make_client: Any) -> None:
    streams: List[RecordingStream] = []
    client = make_client(
        stream_handler(sse(TEXT_CHUNKS[:2], done=False), error=httpx.ReadError("reset"), streams=streams)
    )
    with pytest.raises(meshapi.StreamInterruptedError) as info:
        await collect(client.chat.completions.stream(model="m", messages=MESSAGES))
    assert isinstance(info.value.__cause__, httpx.ReadError)
    assert streams[0].closed


async def test_read_timeout_mid_stream_is_typed(make_client: Any) -> None:
    client = make_client(stream_handler(sse(TEXT_CHUNKS[:1], done=False), error=httpx.ReadTimeout("slow")))
    with pytest.raises(meshapi.StreamInterruptedError, match="read timeout"):
        await collect(client.chat.completions.stream(model="m", messages=MESSAGES))


async def test_error_frame_raises_with_its_context(make_client: Any) -> None:
    frame = {
        "error": {
            "code": "gateway_timeout",
            "message": "Upstream provider did not respond in time.",
            "provider_error": {"provider": "openai", "status": 504, "message": "slow"},
        },
        "request_id": "req_frame",
    }
    client = make_client(stream_handler(sse([TEXT_CHUNKS[0], frame])))
    with pytest.raises(meshapi.StreamEventError) as info:
        await collect(client.chat.completions.stream(model="m", messages=MESSAGES))
    err = info.value
    assert (err.error_code, err.request_id, err.status) == ("gateway_timeout", "req_frame", 0)
    assert err.provider_error == {"provider": "openai", "status": 504, "message": "slow"}


async def test_error_frame_without_request_id_uses_the_stream_s(make_client: Any) -> None:
    client = make_client(stream_handler(sse([{"error": "plain text"}])))
    with pytest.raises(meshapi.StreamEventError) as info:
        await collect(client.chat.completions.stream(model="m", messages=MESSAGES))
    assert (info.value.error_code, info.value.message, info.value.request_id) == (
        "upstream_error",
        "plain text",
        "req_stream",
    )


async def test_malformed_frame_is_an_error_not_a_silent_skip(make_client: Any) -> None:
    body = sse(TEXT_CHUNKS[:1], done=False) + b"data: {not json\n\n" + b"data: [DONE]\n\n"
    client = make_client(stream_handler(body))
    with pytest.raises(meshapi.APIResponseValidationError) as info:
        await collect(client.chat.completions.stream(model="m", messages=MESSAGES))
    assert info.value.request_id == "req_stream"


async def test_chunk_missing_required_field_is_typed(make_client: Any) -> None:
    bad = dict(TEXT_CHUNKS[1])
    del bad["created"]
    client = make_client(stream_handler(sse([bad])))
    with pytest.raises(meshapi.APIResponseValidationError):
        await collect(client.chat.completions.stream(model="m", messages=MESSAGES))


async def test_stream_open_is_retried_before_first_byte(make_client: Any) -> None:
    seen: List[httpx.Request] = []
    body = sse(TEXT_CHUNKS)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:
            return httpx.Response(503, json={"error": {"code": "upstream_error", "message": "busy"}})
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    items = await collect(make_client(handler).chat.completions.stream(model="m", messages=MESSAGES))
    assert len(items) == 5 and len(seen) == 2
    assert seen[0].headers["idempotency-key"] == seen[1].headers["idempotency-key"]


async def test_stream_open_error_is_typed(make_client: Any) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            401,
            json={
                "error": {"code": "unauthorized", "message": "Invalid or missing API key."},
                "request_id": "req_401",
            },
        )

    with pytest.raises(meshapi.AuthenticationError) as info:
        await collect(make_client(handler).chat.completions.stream(model="m", messages=MESSAGES))
    assert info.value.request_id == "req_401"


@pytest.mark.parametrize("transcript", [TEXT_CHUNKS, TOOL_CHUNKS], ids=["text", "tools"])
async def test_cut_at_every_byte_offset_never_ends_silently_short(
    make_client: Any, transcript: List[Any]
) -> None:
    body = sse(transcript)
    full = len(transcript)
    for cut in range(0, len(body) + 1, 3 if len(body) > 600 else 1):
        client = make_client(stream_handler(body, cut=cut))
        stream = client.chat.completions.stream(model="m", messages=MESSAGES)
        got: List[Any] = []
        try:
            if hasattr(stream, "__aiter__"):
                async for item in stream:
                    got.append(item)
            else:
                for item in stream:
                    got.append(item)
        except meshapi.StreamInterruptedError:
            assert len(got) <= full
        else:
            # completing is only allowed once [DONE] itself arrived
            assert len(got) == full and body[:cut].rstrip().endswith(b"data: [DONE]"), cut


def test_accumulator_on_tool_call_transcript() -> None:
    acc = ChatCompletionAccumulator()
    for frame in TOOL_CHUNKS:
        acc.add(ChatCompletionChunk.model_validate(frame))
    final = acc.completion()
    calls = final.choices[0].message.tool_calls
    assert [(c.id, c.function.name, c.function.arguments) for c in calls] == [
        ("call_a", "get_weather", '{"city": "Paris"}'),
        ("call_b", "get_time", "{}"),
    ]
    assert json.loads(calls[0].function.arguments) == {"city": "Paris"}
    assert final.choices[0].finish_reason == "tool_calls"
    assert final.choices[0].message.content is None


def test_accumulator_multiple_choices_and_long_streams() -> None:
    acc = ChatCompletionAccumulator()
    for _ in range(2000):
        frame = chunk({"content": "ab"})
        frame["choices"].append({"index": 1, "delta": {"content": "c"}, "finish_reason": None})
        acc.add(ChatCompletionChunk.model_validate(frame))
    final = acc.completion()
    assert final.choices[0].message.content == "ab" * 2000
    assert final.choices[1].message.content == "c" * 2000
    assert acc.chunk_count == 2000


@pytest.mark.parametrize("transcript", [TEXT_CHUNKS, TOOL_CHUNKS], ids=["text", "tools"])
async def test_text_path_and_typed_path_accumulate_the_same(make_client: Any, transcript: List[Any]) -> None:
    client = make_client(stream_handler(sse(transcript)))
    typed = client.chat.completions.stream(model="m", messages=MESSAGES)
    await collect(typed)
    text_only = client.chat.completions.stream(model="m", messages=MESSAGES)
    pieces = await collect(text_only.text_stream)
    assert "".join(pieces) == (typed.current_completion_snapshot.choices[0].message.content or "")
    assert text_only.current_completion_snapshot == typed.current_completion_snapshot


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (
            sse([TEXT_CHUNKS[0], {"error": {"code": "gateway_timeout", "message": "slow"}}]),
            meshapi.StreamEventError,
        ),
        (
            sse(TEXT_CHUNKS[:1], done=False) + b"data: {not json\n\ndata: [DONE]\n\n",
            meshapi.APIResponseValidationError,
        ),
        (
            sse(TEXT_CHUNKS[:1], done=False) + b"data: [1, 2]\n\ndata: [DONE]\n\n",
            meshapi.APIResponseValidationError,
        ),
        (sse(TEXT_CHUNKS, done=False), meshapi.StreamInterruptedError),
        (sse(TEXT_CHUNKS)[:-20], meshapi.StreamInterruptedError),
    ],
    ids=["error-frame", "malformed", "not-a-chunk", "no-done", "cut-in-done"],
)
async def test_text_path_never_hides_a_failure(make_client: Any, body: bytes, error: type) -> None:
    client = make_client(stream_handler(body))
    with pytest.raises(error) as info:
        await collect(client.chat.completions.stream(model="m", messages=MESSAGES).text_stream)
    assert info.value.request_id == "req_stream"
