"""Tool-call deltas as real providers send them: no ``index``, no ids, empty fragments, other tool types.

The pure accumulator on both of its paths (typed chunks and the raw dicts of ``text_stream``), and the
typed events on top, fed through the decoder the streams use."""

from __future__ import annotations

import copy
import json
from typing import Any, Dict, List, Tuple

import pytest

from meshapi import ChatCompletionAccumulator, ChatCompletionChunk
from meshapi._core.sse import ServerSentEvent
from meshapi.lib.chat import ChatChunkDecoder


def frame(*calls: Dict[str, Any], finish: Any = None) -> Dict[str, Any]:
    delta: Dict[str, Any] = {"tool_calls": list(calls)} if calls else {}
    return {
        "id": "chatcmpl-t",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def fn(name: Any = None, arguments: Any = None, **more: Any) -> Dict[str, Any]:
    function = {k: v for k, v in (("name", name), ("arguments", arguments)) if v is not None}
    return {**more, "function": function} if function else dict(more)


NO_INDEX = [
    frame(fn("get_weather", "", type="function")),
    frame(fn(arguments='{"city": ')),
    frame(fn(arguments='"Rome"}')),
    frame({}),  # carries nothing: dropped
    frame(fn(name="add_event", arguments="{")),
    frame(fn(arguments='"day": 2}')),
    frame({"type": "function", "function": {}}),  # nothing either
    frame(finish="tool_calls"),
]

EXPECTED = [
    {
        "id": "call_0_0",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Rome"}'},
    },
    {"id": "call_0_1", "type": "function", "function": {"name": "add_event", "arguments": '{"day": 2}'}},
]


def by_chunks(frames: List[Dict[str, Any]]) -> Tuple[ChatCompletionAccumulator, List[ChatCompletionChunk]]:
    acc = ChatCompletionAccumulator()
    chunks = [ChatCompletionChunk.model_validate(f) for f in frames]
    for chunk in chunks:
        acc.add(chunk)
    return acc, chunks


def by_raw(frames: List[Dict[str, Any]]) -> ChatCompletionAccumulator:
    acc = ChatCompletionAccumulator()
    for f in copy.deepcopy(frames):
        acc.add_raw(f)
    return acc


def tool_calls(acc: ChatCompletionAccumulator) -> List[Dict[str, Any]]:
    message = acc.completion().choices[0].message
    return [c.model_dump(exclude_none=True) for c in message.tool_calls or ()]


@pytest.mark.parametrize("path", ["chunks", "raw"])
def test_deltas_without_index_or_ids(path: str) -> None:
    acc = by_chunks(NO_INDEX)[0] if path == "chunks" else by_raw(NO_INDEX)
    assert tool_calls(acc) == EXPECTED
    assert acc.completion().choices[0].finish_reason == "tool_calls"


def test_the_resolved_index_is_written_on_each_delta() -> None:
    _, chunks = by_chunks(NO_INDEX)
    seen = [c.index for chunk in chunks for c in chunk.choices[0].delta.tool_calls or ()]
    assert seen == [0, 0, 0, None, 1, 1, None]  # the two fragments that carry nothing stay None


@pytest.mark.parametrize("path", ["chunks", "raw"])
def test_ids_without_index_start_and_continue_calls(path: str) -> None:
    frames = [
        frame({"id": "c_a", **fn("f", '{"a"')}),
        frame({"id": "c_a", **fn(arguments=": 1}")}),  # the same id again: the same call
        frame({"id": "c_b", **fn("g", "{}")}),  # another id: the next call
        frame(fn(arguments="")),  # nothing new: dropped
        frame({"index": 0, "function": {"arguments": " "}}),  # an index still wins
    ]
    acc = by_chunks(frames)[0] if path == "chunks" else by_raw(frames)
    assert [(c["id"], c["function"]) for c in tool_calls(acc)] == [
        ("c_a", {"name": "f", "arguments": '{"a": 1} '}),
        ("c_b", {"name": "g", "arguments": "{}"}),
    ]


def test_an_id_arriving_after_the_name_stays_on_that_call() -> None:
    acc, _ = by_chunks([frame(fn("f", "")), frame({"id": "late", **fn(arguments="{}")})])
    assert [(c["id"], c["function"]["arguments"]) for c in tool_calls(acc)] == [("late", "{}")]


@pytest.mark.parametrize("path", ["chunks", "raw"])
def test_unknown_tool_call_types_are_kept(path: str) -> None:
    frames = [
        frame({"index": 0, "id": "ct_1", "type": "custom", "custom": {"name": "grep", "input": "fo"}}),
        frame({"index": 0, "custom": {"input": "o bar"}}),
        frame({"index": 1, "id": "fc_2", "type": "function", "function": {"name": "f", "arguments": "{}"}}),
    ]
    acc = by_chunks(frames)[0] if path == "chunks" else by_raw(frames)
    first, second = tool_calls(acc)
    assert first["type"] == "custom" and first["id"] == "ct_1"
    assert first["custom"] == {"name": "grep", "input": "foo bar"}
    assert second == {"id": "fc_2", "type": "function", "function": {"name": "f", "arguments": "{}"}}


def test_typed_events_follow_the_resolved_calls() -> None:
    decoder = ChatChunkDecoder()
    state = decoder.event_state()
    events: List[Any] = []
    for f in NO_INDEX:
        chunk = decoder.decode(ServerSentEvent(data=json.dumps(f)))
        assert chunk is not None
        events.extend(state.handle(chunk))
    events.extend(state.finish())
    calls = [
        (e.type.rsplit(".", 1)[1], e.index, e.name, e.arguments)
        for e in events
        if e.type.startswith("tool_calls.")
    ]
    assert calls == [
        ("delta", 0, "get_weather", '{"city": '),
        ("delta", 0, "get_weather", '{"city": "Rome"}'),
        ("done", 0, "get_weather", '{"city": "Rome"}'),
        ("delta", 1, "add_event", "{"),
        ("delta", 1, "add_event", '{"day": 2}'),
        ("done", 1, "add_event", '{"day": 2}'),
    ]
