"""The objects that realtime events carry (docs/protocol.md §7): sessions, conversation items, responses, usage.

Realtime events (:mod:`meshapi.types.realtime_server`, :mod:`meshapi.types.realtime_client`) nest these.
They are tolerant by design: the gateway passes the provider's JSON through verbatim, and new fields
appear without notice, so every model here keeps unknown fields (``extra="allow"``) and declares the
documented ones as optional. Nothing in a well-formed event can make parsing fail.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Union

from pydantic import ConfigDict

from ._base import MeshModel

__all__ = [
    "RealtimeContentPart",
    "RealtimeConversationItem",
    "RealtimeErrorDetail",
    "RealtimeModel",
    "RealtimeRateLimit",
    "RealtimeResponse",
    "RealtimeSessionObject",
    "RealtimeUsage",
]


class RealtimeModel(MeshModel):
    """Base of every realtime model: unknown fields are kept (``model_extra``), never an error."""

    model_config = ConfigDict(extra="allow", protected_namespaces=())


class RealtimeContentPart(RealtimeModel):
    """One part of an item's content: ``input_text``, ``input_audio``, ``output_text``, ``output_audio``..."""

    type: Optional[str] = None
    text: Optional[str] = None
    transcript: Optional[str] = None
    audio: Optional[str] = None


class RealtimeConversationItem(RealtimeModel):
    """A conversation item (a message, a function call, its output)."""

    id: Optional[str] = None
    object: Optional[str] = None
    type: Optional[str] = None
    role: Optional[str] = None
    status: Optional[str] = None
    content: Optional[List[RealtimeContentPart]] = None
    name: Optional[str] = None
    call_id: Optional[str] = None
    arguments: Optional[str] = None
    output: Optional[str] = None

    @property
    def text(self) -> str:
        """The text of the item: its text parts, else its transcripts, joined."""
        parts = [p.text if p.text is not None else (p.transcript or "") for p in self.content or []]
        return "".join(parts)


class RealtimeUsage(RealtimeModel):
    """Token usage of one response (``response.done``)."""

    total_tokens: Optional[int] = None
    input_tokens: Optional[int] = None
    output_tokens: Optional[int] = None
    input_token_details: Optional[Dict[str, Any]] = None
    output_token_details: Optional[Dict[str, Any]] = None


class RealtimeResponse(RealtimeModel):
    """A response (``response.created`` / ``response.done``); ``status`` is ``in_progress``,
    ``completed``, ``cancelled``, ``incomplete`` or ``failed``."""

    id: Optional[str] = None
    object: Optional[str] = None
    status: Optional[str] = None
    status_details: Optional[Dict[str, Any]] = None
    output: Optional[List[RealtimeConversationItem]] = None
    output_modalities: Optional[List[str]] = None
    usage: Optional[RealtimeUsage] = None
    conversation_id: Optional[str] = None
    metadata: Optional[Dict[str, Any]] = None

    @property
    def text(self) -> str:
        """The text (or transcript) of every output item, joined."""
        return "".join(item.text for item in self.output or [])


class RealtimeSessionObject(RealtimeModel):
    """The session configuration as the server reports it (``session.created`` / ``session.updated``)."""

    id: Optional[str] = None
    object: Optional[str] = None
    type: Optional[str] = None
    model: Optional[str] = None
    instructions: Optional[str] = None
    output_modalities: Optional[List[str]] = None
    audio: Optional[Dict[str, Any]] = None
    tools: Optional[List[Dict[str, Any]]] = None
    tool_choice: Optional[Union[str, Dict[str, Any]]] = None
    max_output_tokens: Optional[Union[int, str]] = None


class RealtimeRateLimit(RealtimeModel):
    """One entry of ``rate_limits.updated`` (``name`` is ``requests`` or ``tokens``)."""

    name: Optional[str] = None
    limit: Optional[int] = None
    remaining: Optional[int] = None
    reset_seconds: Optional[float] = None


class RealtimeErrorDetail(RealtimeModel):
    """The ``error`` object of an ``error`` event (docs/protocol.md §7.6)."""

    type: Optional[str] = None
    code: Optional[str] = None
    message: Optional[str] = None
    param: Optional[str] = None
    event_id: Optional[str] = None
