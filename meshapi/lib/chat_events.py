"""Typed chat stream events: what ``stream.events()`` yields, and the pure state that makes them.

Plain iteration of a chat stream yields ``ChatCompletionChunk`` items, as in 0.1.4. ``events()`` yields,
per chunk, a ``chunk`` event and then what the chunk means, in this vocabulary (``event.type``):

``chunk``                                  every chunk (``chunk``)
``content.delta``                          ``delta``, ``snapshot`` (the text so far), ``parsed``
``content.done``                           ``content``, ``parsed`` (validated, when a type was given)
``refusal.delta`` / ``refusal.done``       ``delta``, ``snapshot`` / ``refusal``
``tool_calls.function.arguments.delta``    ``index``, ``name``, ``arguments`` (so far),
                                           ``arguments_delta``, ``parsed_arguments`` (partial)
``tool_calls.function.arguments.done``     ``index``, ``name``, ``arguments``, ``parsed_arguments``

Every event but ``chunk`` has ``choice_index``. A choice's ``*.done`` events come when its
``finish_reason`` arrives (or at the end of the stream); a tool call's ``done`` comes when the next
tool call of the choice starts, or with the others at the end of the choice.

``parsed`` on ``content.delta`` (only with a ``response_format`` type) and ``parsed_arguments`` on
``arguments.delta`` are the partial JSON value of the text so far, read with pydantic-core's partial
mode. Cost stays linear in the length of the answer: ``snapshot`` and ``parsed`` are computed when read
(an unread one costs nothing), and a growing text is re-parsed exactly up to 4 KiB, beyond that only
once it has grown by an eighth since the last parse (in between, the previous partial value is given).
With a pydantic-core too old for partial mode (``from_json(allow_partial=...)``) these partial values
are ``None``; ``content.done.parsed`` is unaffected. ``content.done.parsed`` is the reply validated as the ``response_format`` type (a mismatch raises
``StructuredOutputError``); ``arguments.done.parsed_arguments`` is the model instance of a
``pydantic_function_tool``, else the decoded JSON (``None`` if it is not JSON).
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Literal, Optional, Set, Type, Union

from pydantic import BaseModel

from ..types.chat import ChatCompletionChunk
from ._parsing import ResponseFormat, failure, parse_partial_json
from ._text import TextBuffer
from .chat_state import ChatCompletionAccumulator, ChoiceState

__all__ = [
    "ChatEventState",
    "ChatStreamEvent",
    "ChunkEvent",
    "ContentDeltaEvent",
    "ContentDoneEvent",
    "FunctionToolCallArgumentsDeltaEvent",
    "FunctionToolCallArgumentsDoneEvent",
    "RefusalDeltaEvent",
    "RefusalDoneEvent",
]

_EXACT_UP_TO = 4096
_GROWTH = 8


class PartialReader:
    """The partial JSON value of one growing text, refreshed within a linear parsing budget."""

    __slots__ = ("_length", "_value", "buffer", "parsed_chars")

    def __init__(self, buffer: TextBuffer) -> None:
        self.buffer = buffer
        self._length = -1
        self._value: Any = None
        self.parsed_chars = 0  # total characters handed to the parser (what the linearity test reads)

    def at(self, length: int) -> Any:
        last = self._length
        if length == last:
            return self._value
        if last > _EXACT_UP_TO and last < length < last + last // _GROWTH:
            return self._value
        self._value = parse_partial_json(self.buffer.value()[:length])
        self._length = length
        self.parsed_chars += length
        return self._value


class _Event:
    __slots__ = ()

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._shown)  # type: ignore[attr-defined]
        return f"{type(self).__name__}({fields})"


class ChunkEvent(_Event):
    __slots__ = ("chunk",)
    type: Literal["chunk"] = "chunk"
    _shown = ("chunk",)

    def __init__(self, chunk: ChatCompletionChunk) -> None:
        self.chunk = chunk


class _Growing(_Event):
    """An event that shows a text as it was when the event was made (read lazily)."""

    __slots__ = ("_buffer", "_length", "choice_index", "delta")

    def __init__(self, choice_index: int, delta: str, buffer: TextBuffer) -> None:
        self.choice_index, self.delta = choice_index, delta
        self._buffer, self._length = buffer, buffer.length

    @property
    def snapshot(self) -> str:
        return self._buffer.value()[: self._length]


class ContentDeltaEvent(_Growing):
    __slots__ = ("_parsed", "_reader")
    type: Literal["content.delta"] = "content.delta"
    _shown = ("choice_index", "delta")

    def __init__(
        self, choice_index: int, delta: str, buffer: TextBuffer, reader: Optional[PartialReader]
    ) -> None:
        super().__init__(choice_index, delta, buffer)
        self._reader = reader
        self._parsed: Any = _UNSET

    @property
    def parsed(self) -> Any:
        """The partial JSON value of ``snapshot`` (``None`` without a ``response_format`` type)."""
        if self._parsed is _UNSET:
            self._parsed = self._reader.at(self._length) if self._reader is not None else None
        return self._parsed


class ContentDoneEvent(_Event):
    __slots__ = ("choice_index", "content", "parsed")
    type: Literal["content.done"] = "content.done"
    _shown = ("choice_index", "content", "parsed")

    def __init__(self, choice_index: int, content: str, parsed: Any) -> None:
        self.choice_index, self.content, self.parsed = choice_index, content, parsed


class RefusalDeltaEvent(_Growing):
    __slots__ = ()
    type: Literal["refusal.delta"] = "refusal.delta"
    _shown = ("choice_index", "delta")


class RefusalDoneEvent(_Event):
    __slots__ = ("choice_index", "refusal")
    type: Literal["refusal.done"] = "refusal.done"
    _shown = ("choice_index", "refusal")

    def __init__(self, choice_index: int, refusal: str) -> None:
        self.choice_index, self.refusal = choice_index, refusal


class FunctionToolCallArgumentsDeltaEvent(_Event):
    __slots__ = (
        "_buffer",
        "_length",
        "_parsed",
        "_reader",
        "arguments_delta",
        "choice_index",
        "index",
        "name",
    )
    type: Literal["tool_calls.function.arguments.delta"] = "tool_calls.function.arguments.delta"
    _shown = ("choice_index", "index", "name", "arguments_delta")

    def __init__(
        self, choice_index: int, index: int, name: str, delta: str, buffer: TextBuffer, reader: PartialReader
    ) -> None:
        self.choice_index, self.index, self.name, self.arguments_delta = choice_index, index, name, delta
        self._buffer, self._length, self._reader = buffer, buffer.length, reader
        self._parsed: Any = _UNSET

    @property
    def arguments(self) -> str:
        """The arguments text so far."""
        return self._buffer.value()[: self._length]

    @property
    def parsed_arguments(self) -> Any:
        """The partial JSON value of ``arguments``."""
        if self._parsed is _UNSET:
            self._parsed = self._reader.at(self._length)
        return self._parsed


class FunctionToolCallArgumentsDoneEvent(_Event):
    __slots__ = ("arguments", "choice_index", "index", "name", "parsed_arguments")
    type: Literal["tool_calls.function.arguments.done"] = "tool_calls.function.arguments.done"
    _shown = ("choice_index", "index", "name", "arguments", "parsed_arguments")

    def __init__(self, choice_index: int, index: int, name: str, arguments: str, parsed: Any) -> None:
        self.choice_index, self.index, self.name = choice_index, index, name
        self.arguments, self.parsed_arguments = arguments, parsed


ChatStreamEvent = Union[
    ChunkEvent,
    ContentDeltaEvent,
    ContentDoneEvent,
    RefusalDeltaEvent,
    RefusalDoneEvent,
    FunctionToolCallArgumentsDeltaEvent,
    FunctionToolCallArgumentsDoneEvent,
]

_UNSET: Any = object()


class _ChoiceEvents:
    __slots__ = ("content_reader", "done", "open_tool", "readers", "tools_done")

    def __init__(self) -> None:
        self.content_reader: Optional[PartialReader] = None
        self.readers: Dict[int, PartialReader] = {}
        self.open_tool: Optional[int] = None
        self.tools_done: Set[int] = set()
        self.done = False


class ChatEventState:
    """Turns chunks (already added to ``accumulator``) into events. Pure; ``handle()`` then ``finish()``.

    It reads the merged texts through the accumulator's public ``choice()`` / ``choice_indexes()``;
    what it keeps itself is only what events need (which ``*.done`` were sent, partial readers).
    """

    def __init__(
        self,
        accumulator: ChatCompletionAccumulator,
        response_format: Optional[ResponseFormat] = None,
        tools: Optional[Dict[str, Type[BaseModel]]] = None,
    ) -> None:
        self.accumulator = accumulator
        self.response_format = response_format
        self.tools = tools or {}
        self._choices: Dict[int, _ChoiceEvents] = {}

    def _state(self, index: int) -> _ChoiceEvents:
        state = self._choices.get(index)
        if state is None:
            state = self._choices[index] = _ChoiceEvents()
        return state

    def handle(self, chunk: ChatCompletionChunk) -> List[ChatStreamEvent]:
        events: List[ChatStreamEvent] = [ChunkEvent(chunk)]
        merged_choice = self.accumulator.choice
        for choice in chunk.choices:
            merged = merged_choice(choice.index)
            delta = choice.delta
            if merged is None:
                continue
            state = self._state(choice.index)
            if delta is not None:
                if delta.content:
                    if state.content_reader is None and self.response_format is not None:
                        state.content_reader = PartialReader(merged.content)
                    events.append(
                        ContentDeltaEvent(choice.index, delta.content, merged.content, state.content_reader)
                    )
                refusal = getattr(delta, "refusal", None)
                if refusal:
                    events.append(RefusalDeltaEvent(choice.index, refusal, merged.refusal))
                for call in delta.tool_calls or ():
                    if call.index is None:  # a fragment the accumulator dropped (it carried nothing)
                        continue
                    if state.open_tool is not None and call.index != state.open_tool:
                        events.extend(self._tool_done(choice.index, state, state.open_tool))
                    state.open_tool = call.index
                    fragment = call.function.arguments if call.function is not None else None
                    tool = merged.tool_calls.get(call.index)
                    if fragment and tool is not None:
                        reader = state.readers.get(call.index)
                        if reader is None:
                            reader = state.readers[call.index] = PartialReader(tool.arguments)
                        events.append(
                            FunctionToolCallArgumentsDeltaEvent(
                                choice.index, call.index, tool.name.value(), fragment, tool.arguments, reader
                            )
                        )
            if choice.finish_reason is not None and not state.done:
                events.extend(self._choice_done(choice.index, state))
        return events

    def finish(self) -> List[ChatStreamEvent]:
        """The ``*.done`` events of choices the stream never finished."""
        events: List[ChatStreamEvent] = []
        for index in self.accumulator.choice_indexes():
            state = self._state(index)
            if not state.done:
                events.extend(self._choice_done(index, state))
        return events

    def _merged(self, index: int) -> ChoiceState:
        merged = self.accumulator.choice(index)
        assert merged is not None  # events are only made for choices the accumulator has seen
        return merged

    def _choice_done(self, index: int, state: _ChoiceEvents) -> List[ChatStreamEvent]:
        state.done = True
        merged = self._merged(index)
        events: List[ChatStreamEvent] = []
        for position in sorted(merged.tool_calls):
            events.extend(self._tool_done(index, state, position))
        if merged.content:
            content = merged.content.value()
            fmt = self.response_format
            parsed = None
            if fmt is not None and not merged.refusal:
                try:
                    parsed = fmt.parse(content)
                except ValueError as exc:
                    raise failure(fmt.name, content, exc, None) from exc
            events.append(ContentDoneEvent(index, content, parsed))
        if merged.refusal:
            events.append(RefusalDoneEvent(index, merged.refusal.value()))
        return events

    def _tool_done(self, index: int, state: _ChoiceEvents, position: int) -> List[ChatStreamEvent]:
        if position in state.tools_done:
            return []
        state.tools_done.add(position)
        tool = self._merged(index).tool_calls[position]
        name, arguments = tool.name.value(), tool.arguments.value()
        model = self.tools.get(name)
        parsed: Any
        if model is not None:
            try:
                parsed = model.model_validate_json(arguments)
            except ValueError as exc:
                raise failure(model.__name__, arguments, exc, None) from exc
        else:
            try:
                parsed = json.loads(arguments) if arguments else None
            except ValueError:
                parsed = None
        return [FunctionToolCallArgumentsDoneEvent(index, position, name, arguments, parsed)]
