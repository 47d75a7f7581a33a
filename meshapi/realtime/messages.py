"""What a realtime session hands back for each frame: :class:`RealtimeMessage` (the 0.1.x class, kept
as it was: ``text``, ``audio``, ``event``), its typed event (:func:`typed_event`), and the event-type
sets the helpers look for.

Why it exists: the protocol core, the collector and both sessions all speak in these messages, so
they live below all of them and import none of them.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from ..types.realtime_server import RealtimeServerEvent, UnknownServerEvent, parse_server_event

__all__ = [
    "AUDIO_DELTA_TYPES",
    "NORMAL_CLOSE_CODES",
    "TEXT_DELTA_TYPES",
    "TRANSCRIPT_DELTA_TYPES",
    "RealtimeMessage",
    "typed_event",
]

NORMAL_CLOSE_CODES = frozenset({1000, 1001})
AUDIO_DELTA_TYPES = frozenset({"response.output_audio.delta", "response.audio.delta"})
TEXT_DELTA_TYPES = frozenset({"response.output_text.delta", "response.text.delta"})
TRANSCRIPT_DELTA_TYPES = frozenset(
    {"response.output_audio_transcript.delta", "response.audio_transcript.delta"}
)

_SNIPPET = 80

# --- messages ---------------------------------------------------------------------------------------


class RealtimeMessage:
    """One message received on a realtime session.

    ``event`` is the parsed JSON event of a text frame (``text`` keeps the raw frame); ``audio`` holds
    the bytes of a binary frame, or the decoded base64 ``delta`` of a ``response.output_audio.delta`` /
    ``response.audio.delta`` event (then ``event`` and ``text`` are set too).
    """

    __slots__ = ("audio", "event", "text")

    def __init__(
        self,
        *,
        text: Optional[str] = None,
        audio: Optional[bytes] = None,
        event: Optional[Dict[str, Any]] = None,
    ) -> None:
        self.text = text
        self.audio = audio
        self.event = event

    @property
    def typed(self) -> RealtimeServerEvent:
        """This message as a typed event (what ``session.recv()`` returns for it)."""
        return typed_event(self)

    @property
    def type(self) -> Optional[str]:
        """The event's ``type`` (``None`` for a binary frame)."""
        if self.event is None:
            return None
        kind = self.event.get("type")
        return kind if isinstance(kind, str) else None

    def __repr__(self) -> str:
        parts = []
        if self.event is not None:
            parts.append(f"type={self.type!r}")
        if self.audio is not None:
            parts.append(f"audio=<{len(self.audio)}B>")
        if not parts:
            text = self.text or ""
            shown = text if len(text) <= _SNIPPET else text[:_SNIPPET] + "…"
            parts.append(f"text={shown!r}")
        return f"RealtimeMessage({', '.join(parts)})"


def typed_event(message: RealtimeMessage) -> RealtimeServerEvent:
    """The typed event of a received message (a binary frame becomes an ``UnknownServerEvent``
    of type ``"binary"`` with its size; the bytes stay on the message's ``audio``)."""
    if message.event is None:
        return UnknownServerEvent.model_validate({"type": "binary", "bytes": len(message.audio or b"")})
    return parse_server_event(message.event)
