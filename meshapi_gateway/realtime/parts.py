"""Pure pieces of the gateway's realtime session: the default session object (GA defaults, server voice
activity detection on), the deterministic speech of an answer's text and the text heard in input audio
(both :mod:`meshapi_gateway.fakes.sound`), merging a ``session.update``, the text of an item, the usage
of a response."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ..fakes import engine, sound
from ..ids import hex_id

__all__ = [
    "SERVER_VAD_DEFAULTS",
    "default_session",
    "heard_transcript",
    "item_text",
    "merge",
    "merge_session",
    "pcm_for",
    "usage_for",
]

# the GA session's ``audio.input.turn_detection`` when the client has not set one
SERVER_VAD_DEFAULTS: Dict[str, Any] = {
    "type": "server_vad",
    "threshold": 0.5,
    "prefix_padding_ms": 300,
    "silence_duration_ms": 500,
    "idle_timeout_ms": None,
    "create_response": True,
    "interrupt_response": True,
}


def pcm_for(text: str) -> bytes:
    """The speech of ``text``: PCM16 little-endian 24 kHz mono at about 14 characters a second, which
    :func:`heard_transcript` reads back as ``text``."""
    return sound.speech_pcm(text)


def heard_transcript(pcm: bytes) -> str:
    """The transcript of committed input audio: the text when the gateway synthesized that audio, else
    how much audio arrived (the stand-in hears nothing else)."""
    text = sound.heard_text(pcm)
    return text if text is not None else f"({len(pcm)} bytes of audio)"


def default_session(model: str) -> Dict[str, Any]:
    fmt = {"type": "audio/pcm", "rate": 24000}
    return {
        "id": hex_id("sess_", 24),
        "object": "realtime.session",
        "type": "realtime",
        "model": model,
        "output_modalities": ["audio"],
        "instructions": "",
        "tools": [],
        "tool_choice": "auto",
        "max_output_tokens": "inf",
        "audio": {
            "input": {
                "format": dict(fmt),
                "transcription": None,
                "turn_detection": dict(SERVER_VAD_DEFAULTS),
            },
            "output": {"format": dict(fmt), "voice": "alloy", "speed": 1.0},
        },
    }


def merge(target: Dict[str, Any], update: Dict[str, Any]) -> None:
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            merge(target[key], value)
        else:
            target[key] = value


def merge_session(session: Dict[str, Any], update: Dict[str, Any]) -> None:
    """Apply a GA ``session.update``: nested objects merge, except a ``turn_detection`` of another type,
    which replaces the old one; a ``server_vad`` one gets the GA defaults for the fields it leaves out."""
    turn = _turn_detection(update)
    current = _turn_detection(session)
    if isinstance(turn, dict) and isinstance(current, dict) and turn.get("type") != current.get("type"):
        session["audio"]["input"]["turn_detection"] = None
    merge(session, update)
    merged = _turn_detection(session)
    if isinstance(merged, dict) and merged.get("type") == "server_vad":
        for key, value in SERVER_VAD_DEFAULTS.items():
            merged.setdefault(key, value)


def _turn_detection(session: Dict[str, Any]) -> Optional[Any]:
    audio = session.get("audio")
    inp = audio.get("input") if isinstance(audio, dict) else None
    return inp.get("turn_detection") if isinstance(inp, dict) else None


def item_text(item: Dict[str, Any]) -> str:
    parts = []
    for part in item.get("content") or []:
        if isinstance(part, dict):
            for key in ("text", "transcript"):
                if isinstance(part.get(key), str):
                    parts.append(part[key])
                    break
    return " ".join(parts)


def usage_for(items: List[Dict[str, Any]], text: str, spoken: bool) -> Dict[str, Any]:
    """The ``usage`` of a response whose output is ``text`` (its item is the last of ``items``)."""
    input_tokens = sum(engine.count_tokens(item_text(i)) for i in items[:-1]) or 1
    output_tokens = engine.count_tokens(text)
    return {
        "total_tokens": input_tokens + output_tokens,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "input_token_details": {"text_tokens": input_tokens, "audio_tokens": 0, "cached_tokens": 0},
        "output_token_details": {
            "text_tokens": 0 if spoken else output_tokens,
            "audio_tokens": output_tokens if spoken else 0,
        },
    }
