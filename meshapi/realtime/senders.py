"""Event senders named after the protocol: ``session.session.update(...)``, ``session.response.create()``...

Each sender builds a typed client event (:mod:`meshapi.types.realtime_client`) from keyword arguments,
validates it (a wrong type raises ``InvalidParamsError`` before anything is sent) and hands its JSON to
the session's ``send``. The builders are pure functions; the namespaces come in blocking / asyncio twins.
"""

from __future__ import annotations

import base64
from typing import Any, Awaitable, Callable, Dict, List, Literal, Mapping, Optional, Union

from pydantic import ValidationError

from .._errors import InvalidParamsError
from ..types.realtime_client import (
    ConversationItemCreateEvent,
    InputAudioBufferAppendEvent,
    InputAudioBufferClearEvent,
    InputAudioBufferCommitEvent,
    RealtimeResponseParams,
    ResponseCancelEvent,
    ResponseCreateEvent,
    SessionUpdateEvent,
)

__all__ = [
    "AsyncConversationSender",
    "AsyncInputAudioBufferSender",
    "AsyncResponseSender",
    "AsyncSessionSender",
    "ConversationSender",
    "InputAudioBufferSender",
    "ResponseSender",
    "SessionSender",
    "build_append",
    "build_item_create",
    "build_response_create",
    "build_session_update",
]

Modalities = Optional[List[Literal["text", "audio"]]]
SyncSend = Callable[[Dict[str, Any]], None]
AsyncSend = Callable[[Dict[str, Any]], Awaitable[None]]


def _fields(base: Optional[Any], named: Dict[str, Any], extra: Dict[str, Any], what: str) -> Dict[str, Any]:
    data: Dict[str, Any] = {}
    if base is not None:
        if hasattr(base, "model_dump"):
            data.update(base.model_dump(exclude_none=True))
        elif isinstance(base, Mapping):
            data.update(base)
        else:
            raise InvalidParamsError(f"{what} must be a dict or a params model, got {type(base).__name__}")
    data.update({k: v for k, v in named.items() if v is not None})
    data.update(extra)
    return data


def _event(model: Any, data: Dict[str, Any]) -> Dict[str, Any]:
    try:
        return model.model_validate(data).to_event()  # type: ignore[no-any-return]
    except ValidationError as exc:
        raise InvalidParamsError(f"invalid {data.get('type', 'event')}: {exc.errors()[0]['msg']}") from None


def build_session_update(
    session: Optional[Any] = None, *, event_id: Optional[str] = None, **fields: Any
) -> Dict[str, Any]:
    """A GA ``session.update`` (``session.type`` is ``"realtime"``)."""
    data = _fields(session, {}, fields, "session")
    data.setdefault("type", "realtime")
    return _event(SessionUpdateEvent, {"type": "session.update", "session": data, "event_id": event_id})


def build_item_create(
    item: Optional[Mapping[str, Any]] = None,
    *,
    text: Optional[str] = None,
    role: str = "user",
    previous_item_id: Optional[str] = None,
    event_id: Optional[str] = None,
) -> Dict[str, Any]:
    """A ``conversation.item.create``: ``item`` as given, or a ``role`` message made of ``text``."""
    if (item is None) == (text is None):
        raise InvalidParamsError("conversation.item.create needs exactly one of item=... or text=...")
    if text is not None:
        part = "output_text" if role == "assistant" else "input_text"
        item = {"type": "message", "role": role, "content": [{"type": part, "text": text}]}
    data = {"type": "conversation.item.create", "item": item, "previous_item_id": previous_item_id}
    return _event(ConversationItemCreateEvent, {**data, "event_id": event_id})


def build_response_create(
    response: Optional[Union[RealtimeResponseParams, Mapping[str, Any]]] = None,
    *,
    event_id: Optional[str] = None,
    **fields: Any,
) -> Dict[str, Any]:
    """A ``response.create`` with optional ``response`` overrides."""
    data = _fields(response, {}, fields, "response")
    body: Dict[str, Any] = {"type": "response.create", "event_id": event_id}
    if data:
        body["response"] = data
    return _event(ResponseCreateEvent, body)


def build_append(
    audio: Union[bytes, bytearray, memoryview], *, event_id: Optional[str] = None
) -> Dict[str, Any]:
    """An ``input_audio_buffer.append`` carrying ``audio`` (PCM16 bytes) as base64."""
    if not isinstance(audio, (bytes, bytearray, memoryview)):
        raise InvalidParamsError(f"audio must be bytes (PCM16 little-endian), got {type(audio).__name__}")
    data = base64.b64encode(bytes(audio)).decode("ascii")
    return _event(InputAudioBufferAppendEvent, {"audio": data, "event_id": event_id})


def _simple(model: Any, event_id: Optional[str], **fields: Any) -> Dict[str, Any]:
    return _event(model, {"event_id": event_id, **fields})


# --- blocking namespaces ----------------------------------------------------------------------------


class SessionSender:
    """``session.session``: the session configuration."""

    def __init__(self, send: SyncSend) -> None:
        self._send = send

    def update(
        self,
        session: Optional[Any] = None,
        *,
        instructions: Optional[str] = None,
        output_modalities: Modalities = None,
        audio: Optional[Dict[str, Any]] = None,
        tools: Optional[List[Dict[str, Any]]] = None,
        tool_choice: Optional[Union[str, Dict[str, Any]]] = None,
        max_output_tokens: Optional[Union[int, str]] = None,
        event_id: Optional[str] = None,
        **fields: Any,
    ) -> None:
        """Send ``session.update`` (GA shape). ``session`` is a dict or ``RealtimeSessionParams``; the
        keywords (typed ones and any other GA field) are merged over it. Re-sent after a reconnect."""
        named: Dict[str, Any] = dict(
            instructions=instructions, output_modalities=output_modalities, audio=audio, tools=tools
        )
        named.update(tool_choice=tool_choice, max_output_tokens=max_output_tokens)
        self._send(build_session_update(_fields(session, named, fields, "session"), event_id=event_id))


class ConversationItemSender:
    """``session.conversation.item``."""

    def __init__(self, send: SyncSend) -> None:
        self._send = send

    def create(
        self,
        item: Optional[Mapping[str, Any]] = None,
        *,
        text: Optional[str] = None,
        role: str = "user",
        previous_item_id: Optional[str] = None,
        event_id: Optional[str] = None,
    ) -> None:
        """Send ``conversation.item.create``: ``item`` as given, or a ``role`` message with ``text``."""
        self._send(
            build_item_create(
                item, text=text, role=role, previous_item_id=previous_item_id, event_id=event_id
            )
        )


class ConversationSender:
    """``session.conversation``."""

    def __init__(self, send: SyncSend) -> None:
        self.item = ConversationItemSender(send)


class ResponseSender:
    """``session.response``."""

    def __init__(self, send: SyncSend) -> None:
        self._send = send

    def create(
        self,
        response: Optional[Union[RealtimeResponseParams, Mapping[str, Any]]] = None,
        *,
        instructions: Optional[str] = None,
        output_modalities: Modalities = None,
        event_id: Optional[str] = None,
        **fields: Any,
    ) -> None:
        """Send ``response.create`` (optional overrides). Never re-sent by a reconnect."""
        named: Dict[str, Any] = dict(instructions=instructions, output_modalities=output_modalities)
        self._send(build_response_create(_fields(response, named, fields, "response"), event_id=event_id))

    def cancel(self, *, response_id: Optional[str] = None, event_id: Optional[str] = None) -> None:
        """Send ``response.cancel`` (the response in progress, or ``response_id``)."""
        self._send(_simple(ResponseCancelEvent, event_id, response_id=response_id))


class InputAudioBufferSender:
    """``session.input_audio_buffer``."""

    def __init__(self, send: SyncSend) -> None:
        self._send = send

    def append(self, audio: Union[bytes, bytearray, memoryview], *, event_id: Optional[str] = None) -> None:
        """Append PCM16 audio (base64 ``input_audio_buffer.append``); waits for room in the send queue."""
        self._send(build_append(audio, event_id=event_id))

    def commit(self, *, event_id: Optional[str] = None) -> None:
        """Send ``input_audio_buffer.commit`` (the buffer becomes a user item)."""
        self._send(_simple(InputAudioBufferCommitEvent, event_id))

    def clear(self, *, event_id: Optional[str] = None) -> None:
        """Send ``input_audio_buffer.clear``."""
        self._send(_simple(InputAudioBufferClearEvent, event_id))


# --- asyncio namespaces -----------------------------------------------------------------------------


class AsyncSessionSender:
    """``session.session``: the session configuration."""

    def __init__(self, send: AsyncSend) -> None:
        self._send = send

    async def update(
        self,
        session: Optional[Any] = None,
        *,
        instructions: Optional[str] = None,
        output_modalities: Modalities = None,
        audio: Optional[Dict[str, Any]] = None,
        tools: Optional[List[Dict[str, Any]]] = None,
        tool_choice: Optional[Union[str, Dict[str, Any]]] = None,
        max_output_tokens: Optional[Union[int, str]] = None,
        event_id: Optional[str] = None,
        **fields: Any,
    ) -> None:
        """Send ``session.update`` (GA shape). ``session`` is a dict or ``RealtimeSessionParams``; the
        keywords (typed ones and any other GA field) are merged over it. Re-sent after a reconnect."""
        named: Dict[str, Any] = dict(
            instructions=instructions, output_modalities=output_modalities, audio=audio, tools=tools
        )
        named.update(tool_choice=tool_choice, max_output_tokens=max_output_tokens)
        await self._send(build_session_update(_fields(session, named, fields, "session"), event_id=event_id))


class AsyncConversationItemSender:
    """``session.conversation.item``."""

    def __init__(self, send: AsyncSend) -> None:
        self._send = send

    async def create(
        self,
        item: Optional[Mapping[str, Any]] = None,
        *,
        text: Optional[str] = None,
        role: str = "user",
        previous_item_id: Optional[str] = None,
        event_id: Optional[str] = None,
    ) -> None:
        """Send ``conversation.item.create``: ``item`` as given, or a ``role`` message with ``text``."""
        await self._send(
            build_item_create(
                item, text=text, role=role, previous_item_id=previous_item_id, event_id=event_id
            )
        )


class AsyncConversationSender:
    """``session.conversation``."""

    def __init__(self, send: AsyncSend) -> None:
        self.item = AsyncConversationItemSender(send)


class AsyncResponseSender:
    """``session.response``."""

    def __init__(self, send: AsyncSend) -> None:
        self._send = send

    async def create(
        self,
        response: Optional[Union[RealtimeResponseParams, Mapping[str, Any]]] = None,
        *,
        instructions: Optional[str] = None,
        output_modalities: Modalities = None,
        event_id: Optional[str] = None,
        **fields: Any,
    ) -> None:
        """Send ``response.create`` (optional overrides). Never re-sent by a reconnect."""
        named: Dict[str, Any] = dict(instructions=instructions, output_modalities=output_modalities)
        await self._send(
            build_response_create(_fields(response, named, fields, "response"), event_id=event_id)
        )

    async def cancel(self, *, response_id: Optional[str] = None, event_id: Optional[str] = None) -> None:
        """Send ``response.cancel`` (the response in progress, or ``response_id``)."""
        await self._send(_simple(ResponseCancelEvent, event_id, response_id=response_id))


class AsyncInputAudioBufferSender:
    """``session.input_audio_buffer``."""

    def __init__(self, send: AsyncSend) -> None:
        self._send = send

    async def append(
        self, audio: Union[bytes, bytearray, memoryview], *, event_id: Optional[str] = None
    ) -> None:
        """Append PCM16 audio (base64 ``input_audio_buffer.append``); waits for room in the send queue."""
        await self._send(build_append(audio, event_id=event_id))

    async def commit(self, *, event_id: Optional[str] = None) -> None:
        """Send ``input_audio_buffer.commit`` (the buffer becomes a user item)."""
        await self._send(_simple(InputAudioBufferCommitEvent, event_id))

    async def clear(self, *, event_id: Optional[str] = None) -> None:
        """Send ``input_audio_buffer.clear``."""
        await self._send(_simple(InputAudioBufferClearEvent, event_id))
