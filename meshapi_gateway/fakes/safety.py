"""Deterministic content scoring shared by moderation and video generation (which refuses flagged prompts).

Each category has a small weighted lexicon: every matching phrase raises the category's score
(``1 - prod(1 - weight)``), on top of a tiny base score derived from the text, so the same input
always gets the same scores and harmless text scores near zero.
"""

from __future__ import annotations

import hashlib
import re
from typing import Dict, Tuple

THRESHOLD = 0.5

#: category -> {word stem: weight}; a word matches a stem when it starts with it.
LEXICON: Dict[str, Dict[str, float]] = {
    "harassment": {
        "idiot": 0.6,
        "stupid": 0.45,
        "loser": 0.5,
        "pathetic": 0.4,
        "shut up": 0.35,
        "hate you": 0.6,
    },
    "harassment/threatening": {"i will hurt": 0.7, "watch your back": 0.65, "you will regret": 0.55},
    "hate": {"vermin": 0.55, "subhuman": 0.8, "inferior race": 0.85},
    "hate/threatening": {"exterminate": 0.7, "wipe them out": 0.75},
    "illicit": {"steal": 0.5, "counterfeit": 0.6, "launder": 0.6, "hack into": 0.6, "drugs": 0.4},
    "illicit/violent": {"build a bomb": 0.9, "make a weapon": 0.7},
    "self-harm": {"hurt myself": 0.75, "self-harm": 0.7, "end my life": 0.85},
    "self-harm/intent": {"want to die": 0.8, "end my life": 0.8, "kill myself": 0.9},
    "self-harm/instructions": {"how to overdose": 0.9},
    "sexual": {"explicit": 0.45, "nsfw": 0.6, "nude": 0.55},
    "sexual/minors": {"underage": 0.6},
    "violence": {
        "hurt": 0.55,
        "kill": 0.6,
        "attack": 0.5,
        "punch": 0.45,
        "stab": 0.7,
        "shoot": 0.6,
        "bomb": 0.6,
    },
    "violence/graphic": {"gore": 0.7, "blood everywhere": 0.7, "dismember": 0.85},
}
CATEGORIES: Tuple[str, ...] = tuple(LEXICON)


def _base(text: str, category: str) -> float:
    digest = hashlib.sha256(f"{category}\n{text}".encode()).digest()
    return (1 + int.from_bytes(digest[:2], "big") % 200) / 100000  # 0.00001 .. 0.002


def _matches(text: str, stem: str) -> bool:
    return re.search(r"(?<!\w)" + re.escape(stem), text) is not None


def score_text(text: str) -> Dict[str, float]:
    """Deterministic category scores for ``text`` (0..1, rounded to 6 places)."""
    lowered = " ".join(text.lower().split())
    scores: Dict[str, float] = {}
    for category, words in LEXICON.items():
        remaining = 1.0
        for stem, weight in words.items():
            if _matches(lowered, stem):
                remaining *= 1 - weight
        score = 1 - remaining * (1 - _base(lowered, category))
        scores[category] = round(score, 6)
    return scores


def flagged_categories(text: str) -> Dict[str, float]:
    """The categories ``text`` is flagged for, with their scores."""
    return {c: s for c, s in score_text(text).items() if s >= THRESHOLD}
