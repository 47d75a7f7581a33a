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
from typing import Any, AsyncIterator, Dict, Iterator, Mapping, Optional, Type

from pydantic import BaseModel

from .._core.sse import ServerSentEvent
from .._errors import APIResponseValidationError
from .._streaming import AsyncStream, EventDecoder, Stream
from ..types.chat import ChatCompletionChunk, ChatCompletionResponse, UsageInfo
from ._chat_fast_path import FAST_PATH, ContentShape, plain_content
from ._frames import DONE, decode_frame, validate_frame
from ._parsing import ResponseFormat, apply_parsed
from ._text import TextBuffer
from .chat_events import ChatEventState, ChatStreamEvent

__all__ = [
    "AsyncChatCompletionStream",
    "ChatChunkDecoder",
    "ChatCompletionAccumulator",
    "ChatCompletionStream",
]


class _ToolCallState:
    __slots__ = ("arguments", "id", "name", "type")

    def __init__(self) -> None:
        self.id: Optional[str] = None
        self.type: Optional[str] = None
        self.name = TextBuffer()
        self.arguments = TextBuffer()


class _ChoiceState:
    __slots__ = ("audio", "content", "finish_reason", "refusal", "role", "tool_calls")

    def __init__(self) -> None:
        self.role: Optional[str] = None
        self.content = TextBuffer()
        self.refusal = TextBuffer()
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


_LEARN_ATTEMPTS = 4


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
            refusal = getattr(delta, "refusal", None)
            if refusal:
                state.refusal.add(refusal)
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
            refusal = delta.get("refusal")
            if refusal:
                state.refusal.add(refusal)
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
            if state.refusal:
                message["refusal"] = state.refusal.value()
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


class ChatChunkDecoder(EventDecoder[ChatCompletionChunk]):
    """Chat SSE: one ``ChatCompletionChunk`` per ``data:`` frame, ``[DONE]`` at the end.

    Plain content frames take the fast path (``_chat_fast_path``); the rest go through the shared
    frame decoder (``_frames``), validated straight from their JSON text when they are not errors.
    """

    def __init__(
        self,
        response_format: Optional[ResponseFormat] = None,
        tools: Optional[Dict[str, Type[BaseModel]]] = None,
    ) -> None:
        super().__init__()
        self.accumulator = ChatCompletionAccumulator()
        self.response_format = response_format
        self.tools = tools or {}
        self._shape: Optional[ContentShape] = None
        self._learn_attempts = _LEARN_ATTEMPTS if FAST_PATH else 0

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
        self._shape = ContentShape.learn(data, chunk, state.content)
        if (
            self._shape is None
            and chunk.choices
            and chunk.choices[0].delta
            and chunk.choices[0].delta.content
        ):
            # a content frame that does not qualify (escapes: JSON answers): stop trying after a few
            self._learn_attempts -= 1

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
        if data[:1] == "{" and '"error"' not in data:  # validated from the text: the common case
            chunk = validate_frame(ChatCompletionChunk, data, self.request_id)
        else:
            payload = decode_frame(event, self.request_id, copy_event_name=False)
            if not isinstance(payload, dict):
                if payload is DONE:
                    self.stop = self.complete = True
                return None
            chunk = validate_frame(ChatCompletionChunk, payload, self.request_id)
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
        payload = decode_frame(event, self.request_id, copy_event_name=False)
        if not isinstance(payload, dict):
            if payload is DONE:
                self.stop = self.complete = True
            return None
        if not isinstance(payload.get("choices", []), list):
            raise APIResponseValidationError(
                f"A stream frame is not a chat completion chunk: {data[:200]!r}", request_id=self.request_id
            )
        self.accumulator.add_raw(payload)
        if shape is None and self._learn_attempts > 0 and plain_content(payload):
            self._learn(data, None)
        for choice in payload.get("choices") or ():
            if choice.get("index", 0) == 0:
                delta = choice.get("delta")
                return (delta.get("content") or None) if delta else None
        return None

    def text(self, item: ChatCompletionChunk) -> Optional[str]:
        for choice in item.choices:
            if choice.index == 0 and choice.delta is not None:
                return choice.delta.content
        return None

    def final(self, *, parse: bool = True) -> ChatCompletionResponse:
        """The merged completion; with ``parse``, its ``parsed`` / ``parsed_arguments`` filled in."""
        completion = self.accumulator.completion()
        if parse and (self.response_format is not None or self.tools):
            apply_parsed(completion, self.response_format, self.tools)
        return completion

    def event_state(self) -> ChatEventState:
        return ChatEventState(self.accumulator, self.response_format, self.tools)


class ChatCompletionStream(Stream[ChatCompletionChunk]):
    """The stream of ``chat.completions.stream()`` (and ``create(stream=True)``).

    Iterate chunks (as 0.1.4), or ``events()`` for typed events (``lib/chat_events.py``), or
    ``text_stream`` for the text of choice 0. ``get_final_completion()`` consumes the rest and returns the
    merged ``ChatCompletionResponse`` (with ``message.parsed`` when a ``response_format`` type was given),
    ``get_final_text()`` its text; ``current_completion_snapshot`` is the merge so far (not parsed).
    """

    _decoder: ChatChunkDecoder

    def events(self) -> Iterator[ChatStreamEvent]:
        """Typed events for the rest of the stream (``chunk``, ``content.delta``, ... ``*.done``)."""
        state = self._decoder.event_state()
        for chunk in self:
            yield from state.handle(chunk)
        yield from state.finish()

    def get_final_completion(self) -> ChatCompletionResponse:
        self.until_done()
        return self._decoder.final()

    get_final = get_final_response = get_final_completion

    def get_final_text(self, index: int = 0) -> str:
        self.until_done()
        return self._decoder.accumulator.text(index)

    @property
    def current_completion_snapshot(self) -> ChatCompletionResponse:
        return self._decoder.final(parse=False)

    def __enter__(self) -> ChatCompletionStream:
        self._open()
        return self


class AsyncChatCompletionStream(AsyncStream[ChatCompletionChunk]):
    """Asyncio twin of :class:`ChatCompletionStream`."""

    _decoder: ChatChunkDecoder

    async def events(self) -> AsyncIterator[ChatStreamEvent]:
        """Typed events for the rest of the stream (``chunk``, ``content.delta``, ... ``*.done``)."""
        state = self._decoder.event_state()
        async for chunk in self:
            for event in state.handle(chunk):
                yield event
        for event in state.finish():
            yield event

    async def get_final_completion(self) -> ChatCompletionResponse:
        await self.until_done()
        return self._decoder.final()

    get_final = get_final_response = get_final_completion

    async def get_final_text(self, index: int = 0) -> str:
        await self.until_done()
        return self._decoder.accumulator.text(index)

    @property
    def current_completion_snapshot(self) -> ChatCompletionResponse:
        return self._decoder.final(parse=False)

    async def __aenter__(self) -> AsyncChatCompletionStream:
        await self._open()
        return self
