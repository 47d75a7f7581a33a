"""The chat stream's fast path: plain content chunks built without JSON parsing or validation.

It is the chat decoder's fast case, the stage in front of the one frame decoder
(``meshapi._core.frames``): ``ChatChunkDecoder.decode`` tries the learned shape first and hands every
frame it does not recognise to the frame decoder.

Why it exists: a long chat stream is mostly frames that differ from each other only in the text of
``choices[0].delta.content``. Parsing and validating each one costs more than everything else the SDK
does per chunk, so a stream *learns* that frame shape from one validated chunk (``ContentShape.learn``)
and builds the following chunks of the same shape directly (``ContentShape.decoder``).

When a frame qualifies: it is byte-for-byte the learned frame around the content string, and that
content has no quote, backslash or control character (so its JSON text *is* its value). Anything else
(tool calls, finish reasons, usage, extra keys, escapes) takes the full path. A test checks that
both paths give equal chunks.

How: pydantic keeps a model's state in four slots (``__dict__``, ``__pydantic_fields_set__``,
``__pydantic_extra__``, ``__pydantic_private__``); the decoder sets them as ``model_construct`` does,
without its per-field Python loop. Should a pydantic release lay its slots out differently,
``FAST_PATH`` is false and every frame is validated.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Mapping, Optional, Protocol

from pydantic import BaseModel

from ..types.chat import ChatCompletionChunk, ChatCompletionChunkChoice, ChatCompletionChunkDelta
from ._text import TextBuffer

__all__ = ["FAST_PATH", "ContentShape", "Counter", "plain_content"]

_CONTENT_KEY = '"content":"'
_new = object.__new__
_slots: Dict[str, Any] = dict(vars(BaseModel))
_SLOT_NAMES = ("__dict__", "__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__")
FAST_PATH = all(hasattr(_slots.get(name), "__set__") for name in _SLOT_NAMES)
if FAST_PATH:
    _set_dict, _set_fields, _set_extra, _set_private = (_slots[name].__set__ for name in _SLOT_NAMES)


def _no_extra(model: BaseModel) -> bool:
    return not model.__pydantic_extra__


def plain_content(payload: Mapping[str, Any]) -> bool:
    """A cheap look at a parsed frame: could it teach the content shape?"""
    choices = payload.get("choices")
    if not isinstance(choices, list) or len(choices) != 1 or "usage" in payload or "cost" in payload:
        return False
    choice = choices[0]
    delta = choice.get("delta") if isinstance(choice, dict) else None
    return (
        isinstance(delta, dict)
        and len(delta) == 1
        and isinstance(delta.get("content"), str)
        and choice.get("finish_reason") is None
    )


class Counter(Protocol):
    """What counts the chunks of a stream (``ChatCompletionAccumulator.chunk_count``)."""

    chunk_count: int


class ContentShape:
    """The frame every plain content chunk of one stream shares, learned from one of them."""

    __slots__ = (
        "choice_fields",
        "choice_values",
        "chunk_fields",
        "chunk_values",
        "delta_values",
        "min_len",
        "prefix",
        "start",
        "suffix",
        "suffix_len",
        "text",
    )

    def __init__(self, prefix: str, suffix: str, chunk: ChatCompletionChunk, text: TextBuffer) -> None:
        self.prefix, self.suffix, self.text = prefix, suffix, text
        self.start, self.suffix_len = len(prefix), len(suffix)
        self.min_len = self.start + self.suffix_len
        choice = chunk.choices[0]
        assert choice.delta is not None
        self.chunk_values, self.chunk_fields = chunk.__dict__, chunk.__pydantic_fields_set__
        self.choice_values, self.choice_fields = choice.__dict__, choice.__pydantic_fields_set__
        self.delta_values = choice.delta.__dict__

    @classmethod
    def learn(cls, data: str, chunk: ChatCompletionChunk, text: TextBuffer) -> Optional[ContentShape]:
        """The shape of ``data`` (already validated as ``chunk``), or ``None`` if it is not plain.

        ``text`` is where the content of the chunks built this way goes: choice 0's merged content
        (``ChatCompletionAccumulator.choice(0).content``).
        """
        if chunk.usage is not None or chunk.cost is not None or len(chunk.choices) != 1:
            return None
        choice = chunk.choices[0]
        delta = choice.delta
        if (
            choice.index != 0
            or choice.finish_reason is not None
            or delta is None
            or delta.content is None
            or delta.model_fields_set != {"content"}
            or type(chunk) is not ChatCompletionChunk
            or not (_no_extra(chunk) and _no_extra(choice) and _no_extra(delta))
        ):
            return None
        # In valid JSON an unescaped quote always delimits a string, so a single '"content":"' is the
        # delta's key; its value is unescaped when the raw text between the quotes equals the value.
        start = data.find(_CONTENT_KEY)
        if start < 0 or data.find(_CONTENT_KEY, start + 1) >= 0:
            return None
        start += len(_CONTENT_KEY)
        end = data.find('"', start)
        if end < 0 or data[start:end] != delta.content:
            return None
        return cls(data[:start], data[end:], chunk, text)

    def content(self, data: str) -> Optional[str]:
        """The content of ``data`` when it has this shape, else ``None``."""
        if len(data) >= self.min_len and data.startswith(self.prefix) and data.endswith(self.suffix):
            content = data[self.start : len(data) - self.suffix_len]
            if '"' not in content and "\\" not in content and content.isprintable():
                return content
        return None

    def text_decoder(self, counter: Counter) -> Callable[[str], Optional[str]]:
        """The ``text_stream`` twin of :meth:`decoder`: the content of a frame of this shape when it is
        not empty, added to ``text`` and counted; ``None`` (nothing done) for any other frame."""
        content_of, add = self.content, self.text.add

        def decode_text(data: str) -> Optional[str]:
            content = content_of(data)
            if not content:  # another shape, or empty content (the full path counts it)
                return None
            counter.chunk_count += 1
            add(content)
            return content

        return decode_text

    def decoder(self, counter: Counter) -> Callable[[str], Optional[ChatCompletionChunk]]:
        """One frame of this shape, decoded and accumulated by one function, its values bound once as
        locals (it runs for nearly every frame): the chunk validation would give (new objects), its
        content added to ``text`` and ``counter.chunk_count`` moved on; ``None`` (nothing done) when
        the frame is not of this shape (what ``content`` checks)."""
        prefix, suffix, start, suffix_len, min_len = (
            self.prefix,
            self.suffix,
            self.start,
            self.suffix_len,
            self.min_len,
        )
        add = self.text.add
        delta_values, choice_values, choice_fields = self.delta_values, self.choice_values, self.choice_fields
        chunk_values, chunk_fields = self.chunk_values, self.chunk_fields
        new, set_dict, set_fields, set_extra, set_private = (
            _new,
            _set_dict,
            _set_fields,
            _set_extra,
            _set_private,
        )
        delta_type, choice_type, chunk_type = (
            ChatCompletionChunkDelta,
            ChatCompletionChunkChoice,
            ChatCompletionChunk,
        )

        def decode(data: str) -> Optional[ChatCompletionChunk]:
            if len(data) < min_len or not data.startswith(prefix) or not data.endswith(suffix):
                return None
            content = data[start : len(data) - suffix_len]
            if '"' in content or "\\" in content or not content.isprintable():
                return None
            counter.chunk_count += 1
            if content:
                add(content)
            delta = new(delta_type)
            values = delta_values.copy()
            values["content"] = content
            set_dict(delta, values)
            set_fields(delta, {"content"})
            set_extra(delta, {})
            set_private(delta, None)
            choice = new(choice_type)
            values = choice_values.copy()
            values["delta"] = delta
            set_dict(choice, values)
            set_fields(choice, choice_fields.copy())
            set_extra(choice, {})
            set_private(choice, None)
            chunk = new(chunk_type)
            values = chunk_values.copy()
            values["choices"] = [choice]
            set_dict(chunk, values)
            set_fields(chunk, chunk_fields.copy())
            set_extra(chunk, {})
            set_private(chunk, None)
            return chunk

        return decode
