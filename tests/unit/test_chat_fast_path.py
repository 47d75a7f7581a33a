"""The chat decoder's shape fast path gives exactly what full validation gives.

Once a plain content chunk was validated, frames identical to it around the content string skip JSON
parsing. These tests feed transcripts through two decoders, one whose fast path is disabled, and
compare every chunk (value, type, ``model_fields_set`` at every level), every text piece and the
accumulated completion; and they check the fast path was really taken, so the comparison is not vacuous.
"""

from __future__ import annotations

import json
import random
from typing import Any, Dict, List, Optional

import pytest

from meshapi._core.sse import ServerSentEvent
from meshapi._core.stream import StreamCore
from meshapi._errors import APIResponseValidationError, StreamEventError
from meshapi.lib.chat import ChatChunkDecoder
from meshapi.types.chat import ChatCompletionChunk

BASE: Dict[str, Any] = {
    "id": "chatcmpl-1",
    "object": "chat.completion.chunk",
    "created": 1732500000,
    "model": "openai/gpt-4o-mini",
}


def frame(delta: Optional[Dict[str, Any]] = None, *, finish: Optional[str] = None, **top: Any) -> str:
    payload = dict(BASE, **top)
    payload.setdefault("choices", [{"index": 0, "delta": delta or {}, "finish_reason": finish}])
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


TRICKY = [
    "plain",
    "",
    " with spaces ",
    'a "quoted" word',
    "back\\slash",
    "new\nline",
    "tab\there",
    "\u00e9t\u00e9 \u2603 \U0001f600",
    "\u00a0nbsp",
    "\x7f",
    '}]} {"content":"',
    "\\u0041",
]


def transcript(contents: List[str]) -> List[str]:
    frames = [frame({"role": "assistant", "content": ""})]
    frames += [frame({"content": text}) for text in contents]
    frames.append(frame({}, finish="stop"))
    frames.append(
        frame(
            choices=[],
            usage={"prompt_tokens": 3, "completion_tokens": len(contents), "total_tokens": 3 + len(contents)},
        )
    )
    return [*frames, "[DONE]"]


def slow_decoder() -> ChatChunkDecoder:
    decoder = ChatChunkDecoder()
    decoder._learn_attempts = 0  # never learns a shape: every frame is validated
    return decoder


def fields_sets(chunk: ChatCompletionChunk) -> List[Any]:
    sets: List[Any] = [chunk.model_fields_set]
    for choice in chunk.choices:
        sets.append(choice.model_fields_set)
        sets.append(choice.delta.model_fields_set if choice.delta is not None else None)
    return sets


def run(decoder: ChatChunkDecoder, frames: List[str], text: bool = False) -> List[Any]:
    out = []
    for data in frames:
        event = ServerSentEvent(data)
        item = decoder.decode_text(event) if text else decoder.decode(event)
        if item is not None:
            out.append(item)
    return out


def count_fast(frames: List[str]) -> int:
    """How many frames the fast path takes (those a learned shape recognises)."""
    decoder = ChatChunkDecoder()
    taken = 0
    for data in frames:
        shape = decoder._shape
        if shape is not None and shape.content(data) is not None:
            taken += 1
        decoder.decode(ServerSentEvent(data))
    return taken


@pytest.mark.parametrize("seed", range(5))
def test_typed_chunks_equal_full_validation(seed: int) -> None:
    rng = random.Random(seed)
    contents = [rng.choice(TRICKY) + str(rng.randrange(1000)) for _ in range(200)] + TRICKY
    frames = transcript(contents)
    fast, slow = ChatChunkDecoder(), slow_decoder()
    got, expected = run(fast, frames), run(slow, frames)
    assert len(got) == len(expected) == len(frames) - 1
    for a, b in zip(got, expected):
        assert type(a) is type(b) and a == b
        assert a.model_dump() == b.model_dump()
        assert fields_sets(a) == fields_sets(b)
        assert a.model_dump_json(exclude_unset=True) == b.model_dump_json(exclude_unset=True)
    assert fast.final() == slow.final()
    assert fast.final().choices[0].message.content == "".join(contents)
    assert fast.accumulator.chunk_count == slow.accumulator.chunk_count
    assert fast.complete and slow.complete
    # the comparison is not vacuous: most content frames took the fast path
    eligible = [c for c in contents if '"' not in c and "\\" not in c and c.isprintable()]
    assert count_fast(frames) >= len(eligible) - 1  # all but the one the shape was learned from


def test_text_path_equals_full_validation() -> None:
    contents = TRICKY * 20
    frames = transcript(contents)
    fast, slow = ChatChunkDecoder(), slow_decoder()
    texts = run(fast, frames, text=True)
    assert texts == [c for c in contents if c]
    assert run(slow, frames, text=True) == texts
    assert fast.final() == slow.final()
    assert fast._shape is not None


@pytest.mark.parametrize("text", [False, True], ids=["items", "text_stream"])
def test_the_stream_core_takes_the_fast_case_and_gives_what_full_validation_gives(text: bool) -> None:
    # the stream loop's own path: bytes in (cut every 700 bytes), plain events handed to the decoder's
    # fast case as their data strings (EventDecoder.fast / fast_text), the rest to decode / decode_text
    frames = transcript([f"word{i} " for i in range(100)] + TRICKY * 2)
    body = b"".join(b"data: " + frame.encode("utf-8") + b"\n\n" for frame in frames)
    fast, slow = ChatChunkDecoder(), slow_decoder()
    full_path: List[str] = []
    name = "decode_text" if text else "decode"
    inner = getattr(fast, name)

    def counted(event: ServerSentEvent) -> Any:
        full_path.append(event.data)
        return inner(event)

    setattr(fast, name, counted)
    core = StreamCore(fast, text)
    got = [item for start in range(0, len(body), 700) for item in core.feed(body[start : start + 700])]
    got += list(core.finish())
    expected = run(slow, frames, text=text)
    assert len(got) == len(expected) and fast.count == len(got)
    for a, b in zip(got, expected):
        assert type(a) is type(b) and a == b
    assert fast.final() == slow.final() and fast.complete and fast.stop
    assert fast.accumulator.chunk_count == slow.accumulator.chunk_count
    assert 0 < len(full_path) < 40  # the plain frames took the fast case (all but the first)


def test_built_chunks_are_independent_objects() -> None:
    frames = transcript(["one", "two", "three"])
    chunks = run(ChatChunkDecoder(), frames)
    two, three = chunks[2], chunks[3]
    assert two.choices[0].delta is not three.choices[0].delta
    two.choices[0].delta.content = "changed"
    two.choices[0].delta.role = "user"
    assert three.choices[0].delta.content == "three" and three.choices[0].delta.role is None
    assert three.choices[0].delta.model_fields_set == {"content"}


def test_frames_that_differ_around_the_content_take_the_full_path() -> None:
    frames = [
        frame({"content": "a"}),
        frame({"content": "b"}),  # shape learned from "a" matches
        frame({"content": "c"}, id="chatcmpl-2"),  # another id
        frame({"content": "d"}, model="anthropic/claude-haiku-4.5"),
        frame({"content": "e"}, finish="length"),
        frame({"content": "f"}, system_fingerprint="fp_1"),  # an ignored extra field
        frame(choices=[{"index": 1, "delta": {"content": "g"}, "finish_reason": None}]),
        frame({"content": "h", "role": "assistant"}),
        "[DONE]",
    ]
    fast, slow = ChatChunkDecoder(), slow_decoder()
    got, expected = run(fast, frames), run(slow, frames)
    assert got == expected
    assert [fields_sets(c) for c in got] == [fields_sets(c) for c in expected]
    assert got[2].id == "chatcmpl-2" and got[3].model == "anthropic/claude-haiku-4.5"
    assert got[4].choices[0].finish_reason == "length"
    assert fast.final() == slow.final()
    assert count_fast(frames) == 1  # only "b"


def test_errors_are_still_detected_after_the_shape_was_learned() -> None:
    decoder = ChatChunkDecoder()
    run(decoder, [frame({"content": "a"}), frame({"content": "b"})])
    assert decoder._shape is not None
    broken = frame({"content": "c"})[:-3]  # the same prefix, a cut suffix
    with pytest.raises(APIResponseValidationError):
        decoder.decode(ServerSentEvent(broken))
    error = json.dumps({"error": {"code": "upstream_error", "message": "boom"}})
    with pytest.raises(StreamEventError):
        decoder.decode(ServerSentEvent(error))
    control = frame({"content": "x"}).replace('"x"', '"\x01"')  # a raw control character: invalid JSON
    with pytest.raises(APIResponseValidationError):
        decoder.decode(ServerSentEvent(control))


def test_text_builder_joins_blocks_not_the_whole_text() -> None:
    from meshapi.lib._text import _JOIN_EVERY, _Text

    text, expected = _Text(), []
    assert not text and text.value() == ""
    for i in range(_JOIN_EVERY * 5 + 7):
        text.add(f"p{i} ")
        expected.append(f"p{i} ")
        if i in (3, _JOIN_EVERY - 1, _JOIN_EVERY * 2 + 5):  # reads in between merge what is there
            assert text.value() == "".join(expected)
    assert text and text.value() == "".join(expected)
    assert text.value() is text.value()  # merged once, then cached
    # each full block holds its own pieces: the text so far is not copied again for every block
    fresh = _Text()
    for i in range(_JOIN_EVERY * 3):
        fresh.add("x" if i < _JOIN_EVERY else "y")
    assert fresh._blocks == ["x" * _JOIN_EVERY, "y" * _JOIN_EVERY, "y" * _JOIN_EVERY]


def mixed_frames() -> List[str]:
    plain = [frame({"content": f"w{i} "}) for i in range(6)]
    call = {"index": 0, "id": "call_1", "type": "function", "function": {"name": "f", "arguments": ""}}
    return [
        frame({"role": "assistant", "content": ""}),
        *plain[:3],
        frame(
            choices=[
                {
                    "index": 0,
                    "delta": {"content": "lp "},
                    "logprobs": {"content": [{"token": "lp", "logprob": -0.5, "top_logprobs": []}]},
                    "finish_reason": None,
                }
            ]
        ),
        *plain[3:],
        frame({"tool_calls": [call]}),
        frame({"tool_calls": [{"index": 0, "function": {"arguments": '{"a":'}}]}),
        frame({"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]}),
        frame({"content": "odd"}, unknown_field={"nested": [1, 2]}),
        frame({"content": "tier"}, service_tier="flex", system_fingerprint="fp_9"),
        frame({"content": "w0 "}),  # the learned shape again
        frame({}, finish="tool_calls"),
        frame(
            choices=[], usage={"prompt_tokens": 4, "completion_tokens": 9, "total_tokens": 13}, cost="0.01"
        ),
        "[DONE]",
    ]


def test_every_chunk_shape_decodes_as_full_validation() -> None:
    frames = mixed_frames()
    fast, slow = ChatChunkDecoder(), slow_decoder()
    got, expected = run(fast, frames), run(slow, frames)
    assert len(got) == len(expected) == len(frames) - 1
    for a, b in zip(got, expected):
        assert type(a) is type(b) and a == b
        assert fields_sets(a) == fields_sets(b)
        assert a.model_dump_json(exclude_unset=True) == b.model_dump_json(exclude_unset=True)
    assert fast.final() == slow.final()
    final = fast.final()
    assert final.choices[0].message.content == "w0 w1 w2 lp w3 w4 w5 oddtierw0 "
    assert final.choices[0].message.tool_calls is not None
    assert final.choices[0].message.tool_calls[0].function.arguments == '{"a":1}'
    assert final.usage is not None and final.usage.total_tokens == 13
    assert fast.accumulator.chunk_count == slow.accumulator.chunk_count == len(frames) - 1
    texts = run(ChatChunkDecoder(), frames, text=True)
    assert texts == run(slow_decoder(), frames, text=True)
    assert count_fast(frames) == 6  # w1..w5 and the last w0: the comparison is not vacuous
