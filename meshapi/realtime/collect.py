"""Gathering one realtime response (text, transcript, audio) from its events, without I/O.

Used by the sessions' ``send_text()`` and ``iter_audio()`` helpers; re-exported by
:mod:`meshapi.realtime.protocol`. A ``reconnected`` event in the middle of a response raises
``RealtimeError`` code ``response_interrupted`` (the response is never re-sent for you).
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional

from .._errors import RealtimeError
from .messages import AUDIO_DELTA_TYPES, TEXT_DELTA_TYPES, TRANSCRIPT_DELTA_TYPES, RealtimeMessage

__all__ = ["ResponseCollector"]


def _response_id_of(event: Mapping[str, Any]) -> Optional[str]:
    rid = event.get("response_id")
    if isinstance(rid, str):
        return rid
    response = event.get("response")
    if isinstance(response, Mapping) and isinstance(response.get("id"), str):
        return str(response["id"])
    return None


class ResponseCollector:
    """Gathers one response: text deltas, audio-transcript deltas and audio, until ``response.done``.

    It latches onto the first response it sees (``response.created`` or a delta) and ignores events of
    other responses. :attr:`text` prefers ``output_text`` deltas, then transcript deltas, then the text
    found in the final response's output items.
    """

    def __init__(self) -> None:
        self.response_id: Optional[str] = None
        self.done = False
        self.response: Optional[Dict[str, Any]] = None
        self._text: List[str] = []
        self._transcript: List[str] = []
        self._audio: List[bytes] = []

    def feed(self, message: RealtimeMessage) -> Optional[bytes]:
        """Take one message; returns the audio chunk it carried for this response, if any."""
        event = message.event
        if self.done or event is None:
            return None
        rid = _response_id_of(event)
        kind = event.get("type")
        if kind == "reconnected":  # made by a session with reconnect on: this response is gone
            raise RealtimeError(
                "response_interrupted",
                "the connection dropped during the response; the session reconnected, but the response "
                "was not re-sent (it may have run): ask again",
                close_code=event.get("close_code") if isinstance(event.get("close_code"), int) else None,
            )
        if rid is not None:
            if self.response_id is None and isinstance(kind, str) and kind.startswith("response."):
                self.response_id = rid
            elif rid != self.response_id:
                return None
        delta = event.get("delta")
        if kind in TEXT_DELTA_TYPES and isinstance(delta, str):
            self._text.append(delta)
        elif kind in TRANSCRIPT_DELTA_TYPES and isinstance(delta, str):
            self._transcript.append(delta)
        elif kind in AUDIO_DELTA_TYPES and message.audio is not None:
            self._audio.append(message.audio)
            return message.audio
        elif kind == "response.done":
            self.done = True
            response = event.get("response")
            self.response = response if isinstance(response, dict) else None
        return None

    @property
    def text(self) -> str:
        if self._text:
            return "".join(self._text)
        if self._transcript:
            return "".join(self._transcript)
        return _output_text(self.response)

    @property
    def audio(self) -> bytes:
        return b"".join(self._audio)

    @property
    def usage(self) -> Optional[Dict[str, Any]]:
        usage = (self.response or {}).get("usage")
        return usage if isinstance(usage, dict) else None


def _output_text(response: Optional[Mapping[str, Any]]) -> str:
    parts: List[str] = []
    output = (response or {}).get("output")
    for item in output if isinstance(output, list) else []:
        content = item.get("content") if isinstance(item, Mapping) else None
        for part in content if isinstance(content, list) else []:
            if not isinstance(part, Mapping):
                continue
            for key in ("text", "transcript"):
                if isinstance(part.get(key), str):
                    parts.append(part[key])
                    break
    return "".join(parts)
