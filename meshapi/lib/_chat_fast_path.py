"""The chat stream's fast path: plain content chunks built without JSON parsing or validation.

It is the chat decoder's fast case, the stage in front of the one frame decoder
(``meshapi._core.frames``): ``ChatChunkDecoder.decode`` tries the learned shape first and hands every
frame it does not recognise to the frame decoder.

Why it exists: a long chat stream is mostly frames that differ from each other only in the text of
``choices[0].delta.content``. Parsing and validating each one costs more than everything else the SDK
does per chunk, so a stream *learns* that frame shape from one validated chunk (``ContentShape.learn``)
and builds the following chunks of the same shape directly (``ContentShape.build``).

When a frame qualifies: it is byte-for-byte the learned frame around the content string, and that
content has no quote, backslash or control character (so its JSON text *is* its value). Anything else
(tool calls, finish reasons, usage, extra keys, escapes) takes the full path. A test checks that
both paths give equal chunks.

How: pydantic keeps a model's state in four slots (``__dict__``, ``__pydantic_fields_set__``,
``__pydantic_extra__``, ``__pydantic_private__``); ``build`` sets them as ``model_construct`` does,
without its per-field Python loop. Should a pydantic release lay its slots out differently,
``FAST_PATH`` is false and every frame is validated.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

from pydantic import BaseModel

from ..types.chat import ChatCompletionChunk, ChatCompletionChunkChoice, ChatCompletionChunkDelta
from ._text import TextBuffer

__all__ = ["FAST_PATH", "ContentShape", "plain_content"]

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

    def build(self, content: str) -> ChatCompletionChunk:
        """The chunk validation would give: the learned one with ``content``, as new objects."""
        delta = _new(ChatCompletionChunkDelta)
        values = self.delta_values.copy()
        values["content"] = content
        _set_dict(delta, values)
        _set_fields(delta, {"content"})
        _set_extra(delta, {})
        _set_private(delta, None)
        choice = _new(ChatCompletionChunkChoice)
        values = self.choice_values.copy()
        values["delta"] = delta
        _set_dict(choice, values)
        _set_fields(choice, self.choice_fields.copy())
        _set_extra(choice, {})
        _set_private(choice, None)
        chunk = _new(ChatCompletionChunk)
        values = self.chunk_values.copy()
        values["choices"] = [choice]
        _set_dict(chunk, values)
        _set_fields(chunk, self.chunk_fields.copy())
        _set_extra(chunk, {})
        _set_private(chunk, None)
        return chunk
