"""Typed server -> client realtime events (docs/protocol.md §7.4), and :func:`parse_server_event`.

Each event type of the GA catalogue (plus the beta-era names the SDKs still recognise) is a model whose
``type`` is a ``Literal``, so ``if event.type == "response.output_text.delta":`` narrows
:data:`RealtimeServerEvent` to :class:`ResponseOutputTextDeltaEvent` for mypy. An event of a type this
SDK does not know, or a known type whose fields do not fit, becomes :class:`UnknownServerEvent` with
every field kept: parsing a JSON object never fails. :class:`ReconnectedEvent` is made by the SDK, not
the server, when a session with ``reconnect`` enabled has reopened its connection.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any, Dict, List, Literal, Mapping, Optional, Type, Union

from pydantic import ValidationError

from .realtime import (
    RealtimeConversationItem,
    RealtimeErrorDetail,
    RealtimeModel,
    RealtimeRateLimit,
    RealtimeResponse,
    RealtimeSessionObject,
)

__all__ = [
    "SERVER_EVENT_TYPES",
    "ConversationItemAddedEvent",
    "ConversationItemCreatedEvent",
    "ConversationItemDoneEvent",
    "ErrorEvent",
    "InputAudioBufferClearedEvent",
    "InputAudioBufferCommittedEvent",
    "InputAudioBufferSpeechStartedEvent",
    "InputAudioBufferSpeechStoppedEvent",
    "RateLimitsUpdatedEvent",
    "RealtimeServerEvent",
    "ReconnectedEvent",
    "ResponseAudioDeltaEvent",
    "ResponseAudioTranscriptDeltaEvent",
    "ResponseCreatedEvent",
    "ResponseDoneEvent",
    "ResponseOutputAudioDeltaEvent",
    "ResponseOutputAudioDoneEvent",
    "ResponseOutputAudioTranscriptDeltaEvent",
    "ResponseOutputAudioTranscriptDoneEvent",
    "ResponseOutputItemAddedEvent",
    "ResponseOutputItemDoneEvent",
    "ResponseOutputTextDeltaEvent",
    "ResponseOutputTextDoneEvent",
    "ResponseTextDeltaEvent",
    "ServerEventBase",
    "SessionCreatedEvent",
    "SessionUpdatedEvent",
    "UnknownServerEvent",
    "parse_server_event",
]


class ServerEventBase(RealtimeModel):
    """Fields every server event may carry."""

    event_id: Optional[str] = None


class SessionCreatedEvent(ServerEventBase):
    type: Literal["session.created"]
    session: Optional[RealtimeSessionObject] = None


class SessionUpdatedEvent(ServerEventBase):
    type: Literal["session.updated"]
    session: Optional[RealtimeSessionObject] = None


class InputAudioBufferSpeechStartedEvent(ServerEventBase):
    type: Literal["input_audio_buffer.speech_started"]
    audio_start_ms: Optional[int] = None
    item_id: Optional[str] = None


class InputAudioBufferSpeechStoppedEvent(ServerEventBase):
    type: Literal["input_audio_buffer.speech_stopped"]
    audio_end_ms: Optional[int] = None
    item_id: Optional[str] = None


class InputAudioBufferCommittedEvent(ServerEventBase):
    type: Literal["input_audio_buffer.committed"]
    previous_item_id: Optional[str] = None
    item_id: Optional[str] = None


class InputAudioBufferClearedEvent(ServerEventBase):
    type: Literal["input_audio_buffer.cleared"]


class ConversationItemCreatedEvent(ServerEventBase):
    type: Literal["conversation.item.created"]
    previous_item_id: Optional[str] = None
    item: Optional[RealtimeConversationItem] = None


class ConversationItemAddedEvent(ServerEventBase):
    type: Literal["conversation.item.added"]
    previous_item_id: Optional[str] = None
    item: Optional[RealtimeConversationItem] = None


class ConversationItemDoneEvent(ServerEventBase):
    type: Literal["conversation.item.done"]
    previous_item_id: Optional[str] = None
    item: Optional[RealtimeConversationItem] = None


class ResponseCreatedEvent(ServerEventBase):
    type: Literal["response.created"]
    response: Optional[RealtimeResponse] = None


class ResponseDoneEvent(ServerEventBase):
    """The end of a response; ``response.usage`` holds its token usage."""

    type: Literal["response.done"]
    response: Optional[RealtimeResponse] = None


class ResponseOutputItemAddedEvent(ServerEventBase):
    type: Literal["response.output_item.added"]
    response_id: Optional[str] = None
    output_index: Optional[int] = None
    item: Optional[RealtimeConversationItem] = None


class ResponseOutputItemDoneEvent(ServerEventBase):
    type: Literal["response.output_item.done"]
    response_id: Optional[str] = None
    output_index: Optional[int] = None
    item: Optional[RealtimeConversationItem] = None


class _ContentEvent(ServerEventBase):
    response_id: Optional[str] = None
    item_id: Optional[str] = None
    output_index: Optional[int] = None
    content_index: Optional[int] = None


class _AudioDelta(_ContentEvent):
    delta: str = ""

    @property
    def audio(self) -> bytes:
        """The decoded PCM16 bytes of ``delta`` (empty when it is not valid base64)."""
        try:
            return base64.b64decode(self.delta, validate=True)
        except (binascii.Error, ValueError):
            return b""


class ResponseOutputAudioDeltaEvent(_AudioDelta):
    """A chunk of spoken output: ``delta`` is base64 PCM16, ``audio`` the decoded bytes."""

    type: Literal["response.output_audio.delta"]


class ResponseAudioDeltaEvent(_AudioDelta):
    """Beta-era name of :class:`ResponseOutputAudioDeltaEvent`."""

    type: Literal["response.audio.delta"]


class ResponseOutputAudioDoneEvent(_ContentEvent):
    type: Literal["response.output_audio.done"]


class ResponseOutputAudioTranscriptDeltaEvent(_ContentEvent):
    type: Literal["response.output_audio_transcript.delta"]
    delta: str = ""


class ResponseAudioTranscriptDeltaEvent(_ContentEvent):
    """Beta-era name of :class:`ResponseOutputAudioTranscriptDeltaEvent`."""

    type: Literal["response.audio_transcript.delta"]
    delta: str = ""


class ResponseOutputAudioTranscriptDoneEvent(_ContentEvent):
    type: Literal["response.output_audio_transcript.done"]
    transcript: Optional[str] = None


class ResponseOutputTextDeltaEvent(_ContentEvent):
    type: Literal["response.output_text.delta"]
    delta: str = ""


class ResponseTextDeltaEvent(_ContentEvent):
    """Beta-era name of :class:`ResponseOutputTextDeltaEvent`."""

    type: Literal["response.text.delta"]
    delta: str = ""


class ResponseOutputTextDoneEvent(_ContentEvent):
    type: Literal["response.output_text.done"]
    text: Optional[str] = None


class RateLimitsUpdatedEvent(ServerEventBase):
    type: Literal["rate_limits.updated"]
    rate_limits: Optional[List[RealtimeRateLimit]] = None


class ErrorEvent(ServerEventBase):
    """An ``error`` event. ``recv()`` / ``iter_events()`` return it; ``receive()`` (0.1.4) raises."""

    type: Literal["error"]
    error: Optional[RealtimeErrorDetail] = None
    request_id: Optional[str] = None


class ReconnectedEvent(ServerEventBase):
    """Made by the SDK after a dropped connection was reopened (``connect(reconnect=...)``).

    ``undelivered`` lists the client events that were queued or being written when the connection
    dropped; they were not re-sent. ``response_interrupted`` is true when a ``response.create`` had been
    sent and its ``response.done`` had not arrived (``interrupted_response_id`` is its id when the
    server had already announced it): that response may have run, and it is never re-sent for you. The
    session configuration sent with ``session.update`` was re-sent on the new connection
    (``session_resent``).
    """

    type: Literal["reconnected"]
    attempt: int = 1
    close_code: Optional[int] = None
    reason: str = ""
    undelivered: List[Dict[str, Any]] = []
    response_interrupted: bool = False
    interrupted_response_id: Optional[str] = None
    session_resent: bool = False


class UnknownServerEvent(ServerEventBase):
    """An event of a type this SDK does not model (or whose fields did not fit its model).

    Every field is kept (``model_extra`` / ``model_dump()``); ``type`` is the event's own type. For mypy
    ``type`` is opaque, so that comparisons on known types narrow :data:`RealtimeServerEvent`; test
    ``isinstance(event, UnknownServerEvent)`` to handle these.
    """

    if TYPE_CHECKING:
        type: Literal["<unknown>"]
    else:
        type: str = ""


RealtimeServerEvent = Union[
    SessionCreatedEvent,
    SessionUpdatedEvent,
    InputAudioBufferSpeechStartedEvent,
    InputAudioBufferSpeechStoppedEvent,
    InputAudioBufferCommittedEvent,
    InputAudioBufferClearedEvent,
    ConversationItemCreatedEvent,
    ConversationItemAddedEvent,
    ConversationItemDoneEvent,
    ResponseCreatedEvent,
    ResponseDoneEvent,
    ResponseOutputItemAddedEvent,
    ResponseOutputItemDoneEvent,
    ResponseOutputAudioDeltaEvent,
    ResponseAudioDeltaEvent,
    ResponseOutputAudioDoneEvent,
    ResponseOutputAudioTranscriptDeltaEvent,
    ResponseAudioTranscriptDeltaEvent,
    ResponseOutputAudioTranscriptDoneEvent,
    ResponseOutputTextDeltaEvent,
    ResponseTextDeltaEvent,
    ResponseOutputTextDoneEvent,
    RateLimitsUpdatedEvent,
    ErrorEvent,
    ReconnectedEvent,
    UnknownServerEvent,
]

_MODELS: Dict[str, Type[ServerEventBase]] = {}
for _cls in RealtimeServerEvent.__args__:  # type: ignore[attr-defined]
    _field = _cls.model_fields["type"]
    if _cls is not UnknownServerEvent:
        _MODELS[_field.annotation.__args__[0]] = _cls

#: Every server event type with its own model.
SERVER_EVENT_TYPES = frozenset(_MODELS)


def parse_server_event(event: Mapping[str, Any]) -> RealtimeServerEvent:
    """The typed model of one decoded server event (a JSON object); never raises for an object."""
    data = dict(event)
    kind = data.get("type")
    model = _MODELS.get(kind) if isinstance(kind, str) else None
    if model is not None:
        try:
            return model.model_validate(data)  # type: ignore[return-value]
        except ValidationError:
            pass  # a known type with fields of unexpected shapes: keep it all, untyped
    if not isinstance(kind, str):
        data["type"] = ""
    return UnknownServerEvent.model_validate(data)
