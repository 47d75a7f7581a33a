"""``ChatCompletionAccumulator``: the pure state a chat stream accumulates, chunk by chunk.

Why it exists: the stream decoder (``meshapi.lib.chat``) writes into it and the typed events
(``meshapi.lib.chat_events``) read from it, each through public methods, so neither reaches into the
other and neither imports the other. It merges ``ChatCompletionChunk`` deltas into the
``ChatCompletionResponse`` the same request would have returned without streaming: content and
tool-call argument fragments are concatenated per choice (tool calls by their ``index``), the last
``finish_reason`` wins, and the usage tail chunk supplies ``usage`` (and the gateway's ``cost``). No
I/O, so it can be fed recorded chunks directly.

Tool-call deltas are taken as real providers send them (``ToolCallAccumulation.place``): one without
``index`` continues the current call of its choice, or starts the next one when it carries an id (not
the current call's) or a name (the current call has one already); the index resolved is written back
on the delta, so the typed events see it too. A call without id gets ``call_<choice>_<index>``. A
fragment that carries nothing (no id, name, arguments, nor another type's payload) is dropped. A type
other than ``function`` is kept with its payload (string fields concatenated across fragments). Text is joined as it goes (``TextBuffer``), so memory
grows with the text, not the chunk count.
"""

from __future__ import annotations

import functools
from typing import Any, Dict, List, Mapping, Optional

from ..types.chat import ChatCompletionChunk, ChatCompletionResponse, UsageInfo
from ._text import TextBuffer

__all__ = ["ChatCompletionAccumulator", "ChoiceState", "ToolCallState", "place"]

_TOOL_CALL_FIELDS = frozenset({"index", "id", "type", "function"})


class ToolCallState:
    """One tool call of a choice, merged: its id, type, name and arguments so far, and the payload of
    another tool type (``extra``: its fields, strings concatenated)."""

    __slots__ = ("arguments", "extra", "id", "name", "type")

    def __init__(self) -> None:
        self.id: Optional[str] = None
        self.type: Optional[str] = None
        self.name = TextBuffer()
        self.arguments = TextBuffer()
        self.extra: Dict[str, Any] = {}

    def merge_extra(self, extra: Mapping[str, Any]) -> None:
        for key, value in extra.items():
            held = self.extra.get(key)
            if isinstance(value, dict) and isinstance(held, dict):
                for field, part in value.items():
                    old = held.get(field)
                    both = isinstance(old, str) and isinstance(part, str)
                    held[field] = old + part if both else part
            else:
                self.extra[key] = dict(value) if isinstance(value, dict) else value


def place(state: ChoiceState, index: Optional[int], call_id: Optional[str], name: Optional[str]) -> int:
    """The index of the tool call a delta belongs to (see the module docstring)."""
    if index is not None:
        return index
    current = state.tool_calls.get(state.current_tool) if state.current_tool is not None else None
    if call_id:
        for position, tool in state.tool_calls.items():
            if tool.id == call_id:
                return position
    if current is not None and not (call_id and current.id) and not (name and current.name):
        return state.current_tool  # type: ignore[return-value]
    return max(state.tool_calls, default=-1) + 1


class ChoiceState:
    """One choice, merged: role, content, refusal, finish reason, tool calls (by index), audio."""

    __slots__ = ("audio", "content", "current_tool", "finish_reason", "refusal", "role", "tool_calls")

    def __init__(self) -> None:
        self.role: Optional[str] = None
        self.content = TextBuffer()
        self.refusal = TextBuffer()
        self.finish_reason: Optional[str] = None
        self.tool_calls: Dict[int, ToolCallState] = {}
        self.current_tool: Optional[int] = None  # the call the last tool-call delta went to
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
    """Feed chunks with :meth:`add` (or :meth:`add_raw`); read the merged result with :meth:`completion`
    at any time, one choice's state with :meth:`choice`.

    ``chunk_count`` counts the chunks added; the chat fast path, which builds plain content chunks
    without this class, adds their text to ``choice(0).content`` and counts them itself.
    """

    def __init__(self) -> None:
        self.id: Optional[str] = None
        self.model: Optional[str] = None
        self.created: Optional[int] = None
        self.usage: Optional[Any] = None
        self.cost: Optional[str] = None
        self.system_fingerprint: Optional[str] = None
        self.service_tier: Optional[str] = None  # the tier that served the call (every chunk repeats it)
        self.chunk_count = 0
        self._choices: Dict[int, ChoiceState] = {}

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
            tier = getattr(chunk, "service_tier", None)
            if tier:
                self.service_tier = tier
        for choice in chunk.choices:
            state = self._choices.get(choice.index)
            if state is None:
                state = self._choices[choice.index] = ChoiceState()
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
                    call.index = self._add_tool_call(
                        state,
                        call.index,
                        call.id,
                        call.type,
                        function.name if function is not None else None,
                        function.arguments if function is not None else None,
                        call.model_extra,
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
        tier = payload.get("service_tier")
        if tier:
            self.service_tier = tier
        for choice in payload.get("choices") or ():
            index = choice.get("index", 0)
            state = self._choices.get(index)
            if state is None:
                state = self._choices[index] = ChoiceState()
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
                extra = {k: v for k, v in call.items() if k not in _TOOL_CALL_FIELDS}
                call["index"] = self._add_tool_call(
                    state,
                    call.get("index"),
                    call.get("id"),
                    call.get("type"),
                    function.get("name"),
                    function.get("arguments"),
                    extra,
                )
            audio = delta.get("audio")
            if audio:
                self._add_audio(state, audio)

    @staticmethod
    def _add_tool_call(
        state: ChoiceState,
        index: Optional[int],
        call_id: Optional[str],
        call_type: Optional[str],
        name: Optional[str],
        arguments: Optional[str],
        extra: Optional[Mapping[str, Any]],
    ) -> Optional[int]:
        """Merge one tool-call delta; returns the index it went to (``None``: dropped, it carried nothing)."""
        if not (call_id or name or arguments or extra):
            return None
        index = place(state, index, call_id, name)
        tool = state.tool_calls.get(index)
        if tool is None:
            tool = state.tool_calls[index] = ToolCallState()
        state.current_tool = index
        if call_id:
            tool.id = call_id
        if call_type:
            tool.type = call_type
        if name:
            tool.name.add(name)
        if arguments:
            tool.arguments.add(arguments)
        if extra:
            tool.merge_extra(extra)
        return index

    @staticmethod
    def _add_audio(state: ChoiceState, audio: Dict[str, Any]) -> None:
        if state.audio is None:
            state.audio = {}
        for key, value in audio.items():
            if key in ("data", "transcript") and isinstance(value, str):
                state.audio[key] = state.audio.get(key, "") + value
            else:
                state.audio[key] = value

    def choice(self, index: int) -> Optional[ChoiceState]:
        """The merged state of choice ``index`` so far (``None`` before its first chunk)."""
        return self._choices.get(index)

    def choice_indexes(self) -> List[int]:
        """The indexes of the choices seen so far, in order."""
        return sorted(self._choices)

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
                        **tool.extra,
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
                "service_tier": self.service_tier,
            }
        )
