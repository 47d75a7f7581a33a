"""The voice catalogue behind ``/v1/audio/voices``: a fixed list, paged like the production one.

Ids look like the providers' (``vc_...`` for ElevenLabs-style voices, Sarvam speaker names for the
Bulbul models). Each voice names the models (``brand``) it speaks for; ``created_at_unix`` gives the
``created_at_unix`` sort a stable order. ``preview_url`` is filled in per request (it names the host).
"""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

_VOICES: List[Tuple[str, str, str, str, str, str, str, int]] = [
    # voice_id, name, category, gender, accent, use case, brand, created_at_unix
    ("anushka", "Anushka", "premade", "female", "indian", "conversational", "sarvam", 1736000000),
    ("abhilash", "Abhilash", "premade", "male", "indian", "narration", "sarvam", 1736000100),
    ("manisha", "Manisha", "premade", "female", "indian", "news", "sarvam", 1736000200),
    ("vidya", "Vidya", "premade", "female", "indian", "customer support", "sarvam", 1736000300),
    ("arya", "Arya", "premade", "female", "indian", "audiobook", "sarvam", 1736000400),
    ("karun", "Karun", "premade", "male", "indian", "conversational", "sarvam", 1736000500),
    ("hitesh", "Hitesh", "premade", "male", "indian", "announcements", "sarvam", 1736000600),
    ("vc_8d41f0a2", "Rowan", "premade", "male", "british", "narration", "elevenlabs", 1735000000),
    ("vc_1f7c22d9", "Maya", "premade", "female", "american", "conversational", "elevenlabs", 1735000100),
    ("vc_4a90b1e3", "Theo", "premade", "male", "american", "characters", "elevenlabs", 1735000200),
    ("vc_7e55c0aa", "Ines", "professional", "female", "spanish", "news", "elevenlabs", 1735000300),
    ("vc_b3d2e917", "Kofi", "professional", "male", "ghanaian", "audiobook", "elevenlabs", 1735000400),
    ("vc_c9a01f44", "Lena", "cloned", "female", "german", "e-learning", "elevenlabs", 1735000500),
    ("vc_e0f6a3b8", "Sora", "generated", "non-binary", "japanese", "meditation", "elevenlabs", 1735000600),
]


def voice(entry: Tuple[str, str, str, str, str, str, str, int]) -> Dict[str, Any]:
    voice_id, name, category, gender, accent, use_case, brand, created = entry
    return {
        "voice_id": voice_id,
        "name": name,
        "category": category,
        "description": f"{name}: a {gender} voice with a {accent} accent, suited to {use_case}.",
        "preview_url": None,
        "labels": {"gender": gender, "accent": accent, "use_case": use_case, "language": "en"},
        "brand": brand,
        "created_at_unix": created,
    }


VOICES: List[Dict[str, Any]] = [voice(v) for v in _VOICES]
BY_ID: Dict[str, Dict[str, Any]] = {v["voice_id"]: v for v in VOICES}
