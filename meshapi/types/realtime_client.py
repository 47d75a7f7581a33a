"""Typed client -> server realtime events (docs/protocol.md §7.3) and the parameters of the event senders.

The senders (``session.session.update(...)``, ``session.response.create(...)``...) build these models
from their keyword arguments and send ``model.to_event()``. The models are also handy for checking a
recorded frame (:func:`parse_client_event`). Unknown fields are kept and sent as given, since the
provider's catalogue grows faster than any SDK; the documented ones are typed.
"""

from __future__ import annotations

from typing import Any, Dict, List, Literal, Mapping, Optional, Type, Union

from pydantic import ValidationError

from .realtime import RealtimeModel

__all__ = [
    "CLIENT_EVENT_TYPES",
    "ClientEventBase",
    "ConversationItemCreateEvent",
    "InputAudioBufferAppendEvent",
    "InputAudioBufferClearEvent",
    "InputAudioBufferCommitEvent",
    "RealtimeClientEvent",
    "RealtimeResponseParams",
    "RealtimeSessionParams",
    "ResponseCancelEvent",
    "ResponseCreateEvent",
    "SessionUpdateEvent",
    "UnknownClientEvent",
    "parse_client_event",
]


class RealtimeSessionParams(RealtimeModel):
    """The ``session`` of a GA ``session.update`` (``type`` is always ``"realtime"``)."""

    type: Literal["realtime"] = "realtime"
    instructions: Optional[str] = None
    output_modalities: Optional[List[Literal["text", "audio"]]] = None
    audio: Optional[Dict[str, Any]] = None
    tools: Optional[List[Dict[str, Any]]] = None
    tool_choice: Optional[Union[str, Dict[str, Any]]] = None
    max_output_tokens: Optional[Union[int, Literal["inf"]]] = None
    model: Optional[str] = None
    tracing: Optional[Union[str, Dict[str, Any]]] = None
    truncation: Optional[Union[str, Dict[str, Any]]] = None
    include: Optional[List[str]] = None
    prompt: Optional[Dict[str, Any]] = None


class RealtimeResponseParams(RealtimeModel):
    """The optional ``response`` overrides of ``response.create``."""

    instructions: Optional[str] = None
    output_modalities: Optional[List[Literal["text", "audio"]]] = None
    audio: Optional[Dict[str, Any]] = None
    tools: Optional[List[Dict[str, Any]]] = None
    tool_choice: Optional[Union[str, Dict[str, Any]]] = None
    max_output_tokens: Optional[Union[int, Literal["inf"]]] = None
    conversation: Optional[str] = None
    metadata: Optional[Dict[str, Any]] = None
    input: Optional[List[Dict[str, Any]]] = None


class ClientEventBase(RealtimeModel):
    """Fields every client event may carry."""

    event_id: Optional[str] = None

    def to_event(self) -> Dict[str, Any]:
        """The JSON object sent for this event (fields left ``None`` are omitted)."""
        return self.model_dump(mode="json", exclude_none=True)


class SessionUpdateEvent(ClientEventBase):
    type: Literal["session.update"] = "session.update"
    session: RealtimeSessionParams


class InputAudioBufferAppendEvent(ClientEventBase):
    """``audio`` is base64 PCM16 (24 kHz mono by default)."""

    type: Literal["input_audio_buffer.append"] = "input_audio_buffer.append"
    audio: str


class InputAudioBufferCommitEvent(ClientEventBase):
    type: Literal["input_audio_buffer.commit"] = "input_audio_buffer.commit"


class InputAudioBufferClearEvent(ClientEventBase):
    type: Literal["input_audio_buffer.clear"] = "input_audio_buffer.clear"


class ConversationItemCreateEvent(ClientEventBase):
    type: Literal["conversation.item.create"] = "conversation.item.create"
    item: Dict[str, Any]
    previous_item_id: Optional[str] = None


class ResponseCreateEvent(ClientEventBase):
    type: Literal["response.create"] = "response.create"
    response: Optional[RealtimeResponseParams] = None


class ResponseCancelEvent(ClientEventBase):
    type: Literal["response.cancel"] = "response.cancel"
    response_id: Optional[str] = None


class UnknownClientEvent(ClientEventBase):
    """A client event of a type not modelled here (every field kept)."""

    type: str = ""


RealtimeClientEvent = Union[
    SessionUpdateEvent,
    InputAudioBufferAppendEvent,
    InputAudioBufferCommitEvent,
    InputAudioBufferClearEvent,
    ConversationItemCreateEvent,
    ResponseCreateEvent,
    ResponseCancelEvent,
    UnknownClientEvent,
]

_MODELS: Dict[str, Type[ClientEventBase]] = {
    cls.model_fields["type"].default: cls
    for cls in RealtimeClientEvent.__args__  # type: ignore[attr-defined]
    if cls is not UnknownClientEvent
}

#: Every client event type with its own model.
CLIENT_EVENT_TYPES = frozenset(_MODELS)


def parse_client_event(event: Mapping[str, Any]) -> RealtimeClientEvent:
    """The typed model of one client event (e.g. a recorded frame); never raises for an object."""
    data = dict(event)
    kind = data.get("type")
    model = _MODELS.get(kind) if isinstance(kind, str) else None
    if model is not None:
        try:
            return model.model_validate(data)  # type: ignore[return-value]
        except ValidationError:
            pass
    if not isinstance(kind, str):
        data["type"] = ""
    return UnknownClientEvent.model_validate(data)
