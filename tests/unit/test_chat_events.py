"""``stream.events()``: the event vocabulary on recorded transcripts, cut at every byte, sync and async."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Tuple

import httpx
import pytest
from pydantic import BaseModel

import meshapi
from meshapi._core.stream import StreamCore
from meshapi.lib import chat_events
from meshapi.lib._parsing import ResponseFormat, tool_models
from meshapi.lib._text import TextBuffer
from meshapi.lib.chat import ChatChunkDecoder
from tests.conftest import RecordingStream, collect

MESSAGES = [{"role": "user", "content": "Weather?"}]


class Forecast(BaseModel):
    city: str
    temperatures: List[int]
    note: Optional[str] = None


class GetWeather(BaseModel):
    city: str
    unit: str


def frame(choices: List[Dict[str, Any]], **extra: Any) -> Dict[str, Any]:
    return {
        "id": "c1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": choices,
        **extra,
    }


def delta(index: int, finish: Optional[str] = None, **fields: Any) -> Dict[str, Any]:
    return {"index": index, "delta": fields, "finish_reason": finish}


ANSWER = '{"city": "Z\u00fcrich \\"old town\\"", "temperatures": [3, -1, 12], "note": "caf\u00e9 \u2615"}'
PIECES = [ANSWER[i : i + 7] for i in range(0, len(ANSWER), 7)]

# choice 0: a structured answer in pieces; choice 1: a refusal; then the usage tail.
STRUCTURED = [
    frame([delta(0, role="assistant", content="")]),
    *[frame([delta(0, content=piece)]) for piece in PIECES],
    frame([delta(1, role="assistant", refusal="I can't"), delta(0, finish="stop")]),
    frame([delta(1, refusal=" do that.")]),
    frame([delta(1, finish="stop")]),
    frame([], usage={"prompt_tokens": 3, "completion_tokens": 9, "total_tokens": 12}),
]


def call(index: int, **fields: Any) -> Dict[str, Any]:
    return {"index": index, **fields}


TOOLS = [
    frame([delta(0, role="assistant", content=None)]),
    frame(
        [
            delta(
                0,
                tool_calls=[
                    call(0, id="a", type="function", function={"name": "GetWeather", "arguments": ""})
                ],
            )
        ]
    ),
    frame([delta(0, tool_calls=[call(0, function={"arguments": '{"city": "Os'})])]),
    frame([delta(0, tool_calls=[call(0, function={"arguments": 'lo", "unit": "c"}'})])]),
    frame(
        [
            delta(
                0,
                tool_calls=[call(1, id="b", type="function", function={"name": "plain", "arguments": "[1,"})],
            )
        ]
    ),
    frame([delta(0, tool_calls=[call(1, function={"arguments": " 2]"})])]),
    frame([delta(0, finish="tool_calls")]),
]


def sse(frames: List[Dict[str, Any]]) -> bytes:
    return b"".join(b"data: " + json.dumps(f).encode("utf-8") + b"\n\n" for f in frames) + b"data: [DONE]\n\n"


def summary(event: Any) -> Tuple[Any, ...]:
    """Everything an event says, read in full (snapshots and partial values included)."""
    kind = event.type
    if kind == "chunk":
        return (kind, event.chunk.model_dump())
    if kind == "content.delta":
        return (kind, event.choice_index, event.delta, event.snapshot, event.parsed)
    if kind == "content.done":
        return (kind, event.choice_index, event.content, event.parsed)
    if kind == "refusal.delta":
        return (kind, event.choice_index, event.delta, event.snapshot)
    if kind == "refusal.done":
        return (kind, event.choice_index, event.refusal)
    if kind == "tool_calls.function.arguments.delta":
        return (kind, event.index, event.name, event.arguments_delta, event.arguments, event.parsed_arguments)
    return (kind, event.index, event.name, event.arguments, event.parsed_arguments)


class Body:
    """The response body of the next stream: the transcript cut into the given pieces."""

    def __init__(self) -> None:
        self.pieces: List[bytes] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, headers={"content-type": "text/event-stream"}, stream=RecordingStream(list(self.pieces))
        )


async def run_events(client: Any, mode: str, **kwargs: Any) -> List[Tuple[Any, ...]]:
    stream = client.chat.completions.stream(messages=MESSAGES, **kwargs)
    if mode == "sync":
        return [summary(e) for e in stream.events()]
    return [summary(e) async for e in stream.events()]


async def test_structured_transcript_events(make_client: Any, mode: str) -> None:
    body = Body()
    body.pieces = [sse(STRUCTURED)]
    client = make_client(body.handler)
    events = await run_events(client, mode, response_format=Forecast)
    kinds = [e[0] for e in events if e[0] != "chunk"]
    assert kinds == [
        *["content.delta"] * len(PIECES),
        "refusal.delta",  # in the order of the choices of that chunk
        "content.done",
        "refusal.delta",
        "refusal.done",
    ]
    deltas = [e for e in events if e[0] == "content.delta"]
    assert "".join(e[2] for e in deltas) == ANSWER and deltas[-1][3] == ANSWER
    assert deltas[0][4] == {} or deltas[0][4] is None  # '{"city"' has no complete key yet
    assert deltas[3][4]["city"].startswith("Z\u00fcrich")  # a partial string, growing
    assert deltas[-1][4] == json.loads(ANSWER)
    done = next(e for e in events if e[0] == "content.done")
    assert done[3] == Forecast(
        city='Z\u00fcrich "old town"', temperatures=[3, -1, 12], note="caf\u00e9 \u2615"
    )
    assert ("refusal.done", 1, "I can't do that.") in events
    assert len([e for e in events if e[0] == "chunk"]) == len(STRUCTURED)


async def test_tool_call_events(make_client: Any, mode: str) -> None:
    body = Body()
    body.pieces = [sse(TOOLS)]
    client = make_client(body.handler)
    tool = meshapi.pydantic_function_tool(GetWeather)
    events = [e for e in await run_events(client, mode, tools=[tool]) if e[0] != "chunk"]
    assert [e[0].rsplit(".", 1)[1] for e in events] == ["delta", "delta", "done", "delta", "delta", "done"]
    assert events[0][1:] == (0, "GetWeather", '{"city": "Os', '{"city": "Os', {"city": "Os"})
    assert events[2] == (
        "tool_calls.function.arguments.done",
        0,
        "GetWeather",
        '{"city": "Oslo", "unit": "c"}',
        GetWeather(city="Oslo", unit="c"),
    )  # done as soon as the next tool call starts
    assert events[4][5] == [1, 2] and events[5][4] == [1, 2]  # not a pydantic tool: the decoded JSON


def transcript_of(name: str) -> Tuple[bytes, Dict[str, Any]]:
    if name == "structured":
        return sse(STRUCTURED), {"response_format": Forecast}
    return sse(TOOLS), {"tools": [meshapi.pydantic_function_tool(GetWeather)]}


def core_events(pieces: List[bytes], **kwargs: Any) -> List[Tuple[Any, ...]]:
    """The layers under both stream twins, without sockets: SSE + chunk decoder + event state."""
    fmt = kwargs.get("response_format")
    decoder = ChatChunkDecoder(
        response_format=ResponseFormat.of(fmt, dict_is_schema=False) if fmt is not None else None,
        tools=tool_models(kwargs.get("tools")),
    )
    core, state = StreamCore(decoder), decoder.event_state()
    out: List[Tuple[Any, ...]] = []
    for piece in pieces:
        for chunk in core.feed(piece):
            out.extend(summary(e) for e in state.handle(chunk))
    for chunk in core.finish():
        out.extend(summary(e) for e in state.handle(chunk))
    return out + [summary(e) for e in state.finish()]


@pytest.mark.parametrize("transcript", ["structured", "tools"])
def test_events_are_the_same_wherever_the_bytes_are_cut(transcript: str) -> None:
    raw, kwargs = transcript_of(transcript)
    reference = core_events([raw], **kwargs)
    assert len(reference) > 10
    for cut in range(1, len(raw)):
        assert core_events([raw[:cut], raw[cut:]], **kwargs) == reference, f"cut at byte {cut}"
    assert core_events([raw[i : i + 1] for i in range(len(raw))], **kwargs) == reference  # byte by byte


@pytest.mark.parametrize("transcript", ["structured", "tools"])
async def test_both_twins_give_the_core_events_for_cut_transcripts(
    make_client: Any, mode: str, transcript: str
) -> None:
    raw, kwargs = transcript_of(transcript)
    reference = core_events([raw], **kwargs)
    body = Body()
    client = make_client(body.handler)
    for cut in range(1, len(raw), 37):
        body.pieces = [raw[:cut], raw[cut:]]
        assert await run_events(client, mode, **kwargs) == reference, f"cut at byte {cut}"


async def test_final_completion_of_a_structured_stream_is_parsed(make_client: Any, mode: str) -> None:
    body = Body()
    body.pieces = [sse(STRUCTURED)]
    client = make_client(body.handler)
    stream = client.chat.completions.stream(messages=MESSAGES, response_format=Forecast)
    if mode == "sync":
        final = stream.get_final_completion()
    else:
        final = await stream.get_final_completion()
    assert final.choices[0].message.parsed == Forecast.model_validate_json(ANSWER)
    assert final.choices[1].message.refusal == "I can't do that." and final.choices[1].message.parsed is None


async def test_a_reply_that_does_not_fit_raises_at_content_done(make_client: Any, mode: str) -> None:
    body = Body()
    body.pieces = [sse([frame([delta(0, content='{"city": 1}', finish="stop")])])]
    client = make_client(body.handler)
    with pytest.raises(meshapi.StructuredOutputError) as info:
        await run_events(client, mode, response_format=Forecast)
    assert info.value.content == '{"city": 1}'  # type: ignore[attr-defined]


async def test_plain_iteration_is_unchanged(make_client: Any, mode: str) -> None:
    body = Body()
    body.pieces = [sse(STRUCTURED)]
    client = make_client(body.handler)
    stream = client.chat.completions.stream(messages=MESSAGES, response_format=Forecast)
    items = await collect(stream)
    assert all(type(c) is meshapi.ChatCompletionChunk for c in items) and len(items) == len(STRUCTURED)


@pytest.mark.parametrize("chunk_size", [1, 16])
def test_partial_parsing_work_is_linear_in_the_answer(chunk_size: int) -> None:
    """Every delta's partial value read: characters handed to the parser stay a constant times the
    text length (an exact re-parse per delta would grow with the square of it)."""

    def parsed_chars(items: int) -> Tuple[int, int]:
        text = json.dumps({"values": [{"name": f"item {i}", "score": i} for i in range(items)]})
        buffer = TextBuffer()
        reader = chat_events.PartialReader(buffer)
        for start in range(0, len(text), chunk_size):
            buffer.add(text[start : start + chunk_size])
            reader.at(buffer.length)
        full = json.loads(text)["values"]
        late = reader.at(buffer.length)["values"]  # at most an eighth behind: a prefix of the answer
        assert len(late) >= len(full) * 7 // 8 - 1 and late[:-1] == full[: len(late) - 1]
        assert chat_events.PartialReader(buffer).at(buffer.length)["values"] == full
        return reader.parsed_chars, len(text)

    small_work, small_len = parsed_chars(2_000)
    big_work, big_len = parsed_chars(16_000)
    exact_prefix = chat_events._EXACT_UP_TO**2 // chunk_size  # exact re-parses while the text is short
    assert big_work - exact_prefix <= 12 * big_len
    # 8x the text: the work per character does not grow (it would grow about 8x if it were quadratic)
    assert big_work / big_len <= 1.5 * small_work / small_len
