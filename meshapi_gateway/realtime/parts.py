"""Pure pieces of the gateway's realtime session: the default session object, the deterministic
"speech" of an answer's text, merging a ``session.update``, the text of an item, the usage of a response."""

from __future__ import annotations

import struct
from typing import Any, Dict, List

from ..fakes import engine
from ..ids import hex_id

__all__ = ["default_session", "item_text", "merge", "pcm_for", "usage_for"]

_SAMPLES_PER_CHAR = 12


def pcm_for(text: str) -> bytes:
    """Deterministic PCM16 little-endian "speech" for ``text`` (12 samples per character)."""
    out = bytearray()
    for index, char in enumerate(text):
        level = ((ord(char) * 131 + index * 17) % 2048 - 1024) * 16
        for sample in range(_SAMPLES_PER_CHAR):
            out += struct.pack("<h", level if sample % 2 == 0 else -level)
    return bytes(out)


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
            "input": {"format": dict(fmt), "transcription": None, "turn_detection": None},
            "output": {"format": dict(fmt), "voice": "alloy", "speed": 1.0},
        },
    }


def merge(target: Dict[str, Any], update: Dict[str, Any]) -> None:
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            merge(target[key], value)
        else:
            target[key] = value


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
