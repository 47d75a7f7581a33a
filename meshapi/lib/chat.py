"""Chat streaming on top of the transport: the pure accumulator and the chat stream objects.

``ChatCompletionAccumulator`` merges ``ChatCompletionChunk`` deltas into the ``ChatCompletionResponse``
the same request would have returned without streaming: content and tool-call argument fragments are
concatenated per choice (tool calls by their ``index``), the last ``finish_reason`` wins, and the usage
tail chunk supplies ``usage`` (and the gateway's ``cost``). It is public and has no I/O, so it can be
fed recorded chunks directly. Text is joined as it goes, so memory grows with the text, not the chunk
count.
"""

from __future__ import annotations

import functools
import json
from typing import Any, Dict, List, Mapping, Optional

from pydantic import BaseModel

from .._core.sse import ServerSentEvent
from .._errors import APIResponseValidationError
from .._http import stream_error_from_frame, validate_model
from .._streaming import AsyncStream, EventDecoder, Stream
from ..types.chat import (
    ChatCompletionChunk,
    ChatCompletionChunkChoice,
    ChatCompletionChunkDelta,
    ChatCompletionResponse,
    UsageInfo,
)

__all__ = [
    "AsyncChatCompletionStream",
    "ChatChunkDecoder",
    "ChatCompletionAccumulator",
    "ChatCompletionStream",
]

_JOIN_EVERY = 256


class _Text:
    """A string built from many small pieces without keeping every piece alive.

    Every ``_JOIN_EVERY`` pieces are joined into one block; blocks are joined only when the value is read.
    (Joining into the text so far instead would copy it again every ``_JOIN_EVERY`` pieces: quadratic.)
    """

    __slots__ = ("_blocks", "_parts")

    def __init__(self) -> None:
        self._blocks: List[str] = []
        self._parts: List[str] = []

    def add(self, piece: str) -> None:
        parts = self._parts
        parts.append(piece)
        if len(parts) >= _JOIN_EVERY:
            self._blocks.append("".join(parts))
            self._parts = []

    def value(self) -> str:
        if self._parts or len(self._blocks) > 1:
            self._blocks = ["".join(self._blocks + self._parts)]
            self._parts = []
        return self._blocks[0] if self._blocks else ""

    def __bool__(self) -> bool:
        return bool(self._parts or self._blocks)


class _ToolCallState:
    __slots__ = ("arguments", "id", "name", "type")

    def __init__(self) -> None:
        self.id: Optional[str] = None
        self.type: Optional[str] = None
        self.name = _Text()
        self.arguments = _Text()


class _ChoiceState:
    __slots__ = ("audio", "content", "finish_reason", "role", "tool_calls")

    def __init__(self) -> None:
        self.role: Optional[str] = None
        self.content = _Text()
        self.finish_reason: Optional[str] = None
        self.tool_calls: Dict[int, _ToolCallState] = {}
        self.audio: Optional[Dict[str, Any]] = None


@functools.cache
def _may_have_fingerprint(cls: type) -> bool:
    """Whether instances of ``cls`` can carry ``system_fingerprint`` (a field, extra or attribute)."""
    fields = getattr(cls, "model_fields", None)
    if not isinstance(fields, dict):
        return True  # not a pydantic model: any instance may have the attribute
    return (
        "system_fingerprint" in fields
        or getattr(cls, "model_config", {}).get("extra") == "allow"
        or hasattr(cls, "system_fingerprint")
    )


class ChatCompletionAccumulator:
    """Feed chunks with :meth:`add`; read the merged result with :meth:`completion` at any time."""

    def __init__(self) -> None:
        self.id: Optional[str] = None
        self.model: Optional[str] = None
        self.created: Optional[int] = None
        self.usage: Optional[Any] = None
        self.cost: Optional[str] = None
        self.system_fingerprint: Optional[str] = None
        self.chunk_count = 0
        self._choices: Dict[int, _ChoiceState] = {}

    def add(self, chunk: ChatCompletionChunk) -> None:
        self.chunk_count += 1
        if self.id is None:
            self.id, self.model, self.created = chunk.id, chunk.model, chunk.created
        if chunk.usage is not None:
            self.usage = chunk.usage
        if chunk.cost is not None:
            self.cost = chunk.cost
        if _may_have_fingerprint(type(chunk)):  # a missing attribute costs pydantic an exception
            fingerprint = getattr(chunk, "system_fingerprint", None)
            if fingerprint:
                self.system_fingerprint = fingerprint
        for choice in chunk.choices:
            state = self._choices.get(choice.index)
            if state is None:
                state = self._choices[choice.index] = _ChoiceState()
            if choice.finish_reason is not None:
                state.finish_reason = choice.finish_reason
            delta = choice.delta
            if delta is None:
                continue
            if delta.role:
                state.role = delta.role
            if delta.content:
                state.content.add(delta.content)
            if delta.tool_calls:
                for call in delta.tool_calls:
                    function = call.function
                    self._add_tool_call(
                        state,
                        call.index,
                        call.id,
                        call.type,
                        function.name if function is not None else None,
                        function.arguments if function is not None else None,
                    )
            if delta.audio:
                self._add_audio(state, delta.audio)

    def add_raw(self, payload: Mapping[str, Any]) -> None:
        """Add one chunk given as its parsed JSON object (the text-only path: no model is built)."""
        self.chunk_count += 1
        if self.id is None:
            self.id, self.model, self.created = (
                payload.get("id"),
                payload.get("model"),
                payload.get("created"),
            )
        usage = payload.get("usage")
        if usage is not None:
            self.usage = UsageInfo.model_validate(usage)
        cost = payload.get("cost")
        if cost is not None:
            self.cost = cost
        fingerprint = payload.get("system_fingerprint")
        if fingerprint:
            self.system_fingerprint = fingerprint
        for choice in payload.get("choices") or ():
            index = choice.get("index", 0)
            state = self._choices.get(index)
            if state is None:
                state = self._choices[index] = _ChoiceState()
            finish_reason = choice.get("finish_reason")
            if finish_reason is not None:
                state.finish_reason = finish_reason
            delta = choice.get("delta")
            if not delta:
                continue
            role = delta.get("role")
            if role:
                state.role = role
            content = delta.get("content")
            if content:
                state.content.add(content)
            for call in delta.get("tool_calls") or ():
                function = call.get("function") or {}
                self._add_tool_call(
                    state,
                    call.get("index", 0),
                    call.get("id"),
                    call.get("type"),
                    function.get("name"),
                    function.get("arguments"),
                )
            audio = delta.get("audio")
            if audio:
                self._add_audio(state, audio)

    @staticmethod
    def _add_tool_call(
        state: _ChoiceState,
        index: int,
        call_id: Optional[str],
        call_type: Optional[str],
        name: Optional[str],
        arguments: Optional[str],
    ) -> None:
        tool = state.tool_calls.get(index)
        if tool is None:
            tool = state.tool_calls[index] = _ToolCallState()
        if call_id:
            tool.id = call_id
        if call_type:
            tool.type = call_type
        if name:
            tool.name.add(name)
        if arguments:
            tool.arguments.add(arguments)

    @staticmethod
    def _add_audio(state: _ChoiceState, audio: Dict[str, Any]) -> None:
        if state.audio is None:
            state.audio = {}
        for key, value in audio.items():
            if key in ("data", "transcript") and isinstance(value, str):
                state.audio[key] = state.audio.get(key, "") + value
            else:
                state.audio[key] = value

    def text(self, index: int = 0) -> str:
        """The content accumulated so far for choice ``index``."""
        state = self._choices.get(index)
        return state.content.value() if state is not None else ""

    def completion(self) -> ChatCompletionResponse:
        """The merged ``ChatCompletionResponse`` (``object`` is ``chat.completion``)."""
        choices = []
        for index in sorted(self._choices):
            state = self._choices[index]
            message: Dict[str, Any] = {
                "role": state.role or "assistant",
                "content": state.content.value() or None,
            }
            if state.tool_calls:
                message["tool_calls"] = [
                    {
                        "id": tool.id or f"call_{index}_{position}",
                        "type": tool.type or "function",
                        "function": {"name": tool.name.value(), "arguments": tool.arguments.value()},
                    }
                    for position, tool in sorted(state.tool_calls.items())
                ]
            if state.audio is not None:
                message["audio"] = state.audio
            choices.append({"index": index, "message": message, "finish_reason": state.finish_reason})
        usage = self.usage.model_dump() if self.usage is not None else None
        return ChatCompletionResponse.model_validate(
            {
                "id": self.id or "",
                "object": "chat.completion",
                "created": self.created or 0,
                "model": self.model or "",
                "choices": choices,
                "usage": usage,
                "system_fingerprint": self.system_fingerprint,
            }
        )


_CONTENT_KEY = '"content":"'
_LEARN_ATTEMPTS = 4
_new = object.__new__
# pydantic's own slots, set directly as model_construct does (without its per-field Python loop). Should
# a pydantic release lay them out differently, the fast path is off and every frame is validated.
_slots: Dict[str, Any] = dict(vars(BaseModel))
_SLOT_NAMES = ("__dict__", "__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__")
_FAST_PATH = all(hasattr(_slots.get(name), "__set__") for name in _SLOT_NAMES)
if _FAST_PATH:
    _set_dict, _set_fields, _set_extra, _set_private = (_slots[name].__set__ for name in _SLOT_NAMES)


def _plain_content(payload: Mapping[str, Any]) -> bool:
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


class _ContentShape:
    """The frame every plain content chunk of one stream shares, learned from one of them.

    Gateways send chunks that differ only in the delta's text: the same id, model, created, one choice at
    index 0, no finish reason, a delta with just ``content``. Once one such frame was validated, a frame
    that is byte-for-byte the same around the content string, and whose content has no quote, backslash
    or control character (so its JSON text *is* its value), decodes to that chunk with the content
    replaced. Such frames skip JSON parsing and validation; any other frame takes the full path.
    """

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

    def __init__(self, prefix: str, suffix: str, chunk: ChatCompletionChunk, text: _Text) -> None:
        self.prefix, self.suffix, self.text = prefix, suffix, text
        self.start, self.suffix_len = len(prefix), len(suffix)
        self.min_len = self.start + self.suffix_len
        choice = chunk.choices[0]
        assert choice.delta is not None
        self.chunk_values, self.chunk_fields = chunk.__dict__, chunk.__pydantic_fields_set__
        self.choice_values, self.choice_fields = choice.__dict__, choice.__pydantic_fields_set__
        self.delta_values = choice.delta.__dict__

    @classmethod
    def learn(cls, data: str, chunk: ChatCompletionChunk, text: _Text) -> Optional[_ContentShape]:
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
        _set_extra(delta, None)
        _set_private(delta, None)
        choice = _new(ChatCompletionChunkChoice)
        values = self.choice_values.copy()
        values["delta"] = delta
        _set_dict(choice, values)
        _set_fields(choice, self.choice_fields.copy())
        _set_extra(choice, None)
        _set_private(choice, None)
        chunk = _new(ChatCompletionChunk)
        values = self.chunk_values.copy()
        values["choices"] = [choice]
        _set_dict(chunk, values)
        _set_fields(chunk, self.chunk_fields.copy())
        _set_extra(chunk, None)
        _set_private(chunk, None)
        return chunk


class ChatChunkDecoder(EventDecoder[ChatCompletionChunk]):
    """Chat SSE: one ``ChatCompletionChunk`` per ``data:`` frame, ``[DONE]`` at the end."""

    def __init__(self) -> None:
        super().__init__()
        self.accumulator = ChatCompletionAccumulator()
        self._shape: Optional[_ContentShape] = None
        self._learn_attempts = _LEARN_ATTEMPTS if _FAST_PATH else 0

    def _learn(self, data: str, chunk: Optional[ChatCompletionChunk]) -> None:
        """Learn the content shape from ``data`` (already validated as ``chunk``, or not yet: the text
        path, which validates a few likely frames only)."""
        state = self.accumulator._choices.get(0)
        if state is None:
            return
        if chunk is None:
            self._learn_attempts -= 1
            try:
                chunk = ChatCompletionChunk.model_validate_json(data)
            except ValueError:
                return
        self._shape = _ContentShape.learn(data, chunk, state.content)

    def decode(self, event: ServerSentEvent) -> Optional[ChatCompletionChunk]:
        data = event.data
        shape = self._shape
        if (  # shape.content(), inlined: this runs for nearly every frame
            shape is not None
            and data.startswith(shape.prefix)
            and data.endswith(shape.suffix)
            and len(data) >= shape.min_len
        ):
            content = data[shape.start : len(data) - shape.suffix_len]
            if '"' not in content and "\\" not in content and content.isprintable():
                self.accumulator.chunk_count += 1
                if content:
                    shape.text.add(content)
                return shape.build(content)
        if data[:1] != "{":  # a chunk is a JSON object; only other frames need the checks below
            if data == "[DONE]" or data.strip() == "[DONE]":
                self.stop = self.complete = True
                return None
            if not data.strip():
                return None
        if '"error"' in data:
            self._raise_if_error(data)
        try:
            chunk = validate_model(ChatCompletionChunk, data, None)
        except APIResponseValidationError as exc:
            exc.request_id = self.request_id
            raise
        self.accumulator.add(chunk)
        if shape is None and self._learn_attempts > 0:  # cheap here: the chunk is already validated
            self._learn(data, chunk)
        return chunk

    def decode_text(self, event: ServerSentEvent) -> Optional[str]:
        """The text-only path: parse the JSON, accumulate it, return choice 0's content."""
        data = event.data
        shape = self._shape
        if shape is not None:
            content = shape.content(data)
            if content is not None:
                self.accumulator.chunk_count += 1
                if content:
                    shape.text.add(content)
                    return content
                return None
        if data[:1] != "{":
            if data == "[DONE]" or data.strip() == "[DONE]":
                self.stop = self.complete = True
                return None
            if not data.strip():
                return None
        try:
            payload = json.loads(data)
        except ValueError:
            raise APIResponseValidationError(
                f"A stream frame is not valid JSON: {data[:200]!r}", request_id=self.request_id
            ) from None
        if not isinstance(payload, dict) or not isinstance(payload.get("choices", []), list):
            raise APIResponseValidationError(
                f"A stream frame is not a chat completion chunk: {data[:200]!r}", request_id=self.request_id
            )
        if payload.get("error") is not None:
            raise stream_error_from_frame(payload, self.request_id)
        self.accumulator.add_raw(payload)
        if shape is None and self._learn_attempts > 0 and _plain_content(payload):
            self._learn(data, None)
        for choice in payload.get("choices") or ():
            if choice.get("index", 0) == 0:
                delta = choice.get("delta")
                return (delta.get("content") or None) if delta else None
        return None

    def _raise_if_error(self, data: str) -> None:
        try:
            payload = json.loads(data)
        except ValueError:
            return  # validation below reports it
        if isinstance(payload, dict) and payload.get("error") is not None:
            raise stream_error_from_frame(payload, self.request_id)

    def text(self, item: ChatCompletionChunk) -> Optional[str]:
        for choice in item.choices:
            if choice.index == 0 and choice.delta is not None:
                return choice.delta.content
        return None

    def final(self) -> ChatCompletionResponse:
        return self.accumulator.completion()


class ChatCompletionStream(Stream[ChatCompletionChunk]):
    """The stream of ``chat.completions.stream()``: iterate chunks, or use the helpers.

    ``text_stream`` yields the text of choice 0; ``get_final_completion()`` consumes the rest and returns
    the merged ``ChatCompletionResponse``; ``current_completion_snapshot`` is the merge so far.
    """

    _decoder: ChatChunkDecoder

    def get_final_completion(self) -> ChatCompletionResponse:
        self.until_done()
        return self._decoder.final()

    def get_final_text(self, index: int = 0) -> str:
        self.until_done()
        return self._decoder.accumulator.text(index)

    @property
    def current_completion_snapshot(self) -> ChatCompletionResponse:
        return self._decoder.final()

    def __enter__(self) -> ChatCompletionStream:
        self._open()
        return self


class AsyncChatCompletionStream(AsyncStream[ChatCompletionChunk]):
    """Asyncio twin of :class:`ChatCompletionStream`."""

    _decoder: ChatChunkDecoder

    async def get_final_completion(self) -> ChatCompletionResponse:
        await self.until_done()
        return self._decoder.final()

    async def get_final_text(self, index: int = 0) -> str:
        await self.until_done()
        return self._decoder.accumulator.text(index)

    @property
    def current_completion_snapshot(self) -> ChatCompletionResponse:
        return self._decoder.final()

    async def __aenter__(self) -> AsyncChatCompletionStream:
        await self._open()
        return self
