"""Memory injection on chat calls: the memories ``x-mem-id`` names become one leading system message
(docs/protocol.md §V8.1).

Rules, as documented: at most 16 slugs, each once, in the order given (the left-most wins a conflict:
two keyed preferences with the same key); an unknown, inactive or foreign slug is skipped without error;
guardrails are always kept, then preferences, then at most 8 facts, the most relevant to the latest user
message first, all within a budget of about 1,500 tokens (an item past the budget is left out). Items
past ``expires_at``, and facts and preferences older than their memory's ``retention_days``, are skipped.
``X-Mesh-Memory-Applied`` names (comma-separated, in request order) the memories at least one of whose
items went in. Relevance is deterministic: the words a fact shares with the message (a stand-in for the
production gateway's semantic search).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..store.memories import get_memory, items_of
from ..store.storage import Record, Store
from .engine import content_text, count_tokens

__all__ = ["BUDGET_TOKENS", "MAX_FACTS", "MAX_MEMORIES", "Injection", "inject", "requested_slugs"]

MAX_MEMORIES = 16
MAX_FACTS = 8
BUDGET_TOKENS = 1500
_WORD = re.compile(r"[a-z0-9]+")
_DAY = 86400


@dataclass
class Injection:
    """What a chat call gets: the system message (``None``: nothing to add) and the slugs applied."""

    message: Optional[Dict[str, Any]] = None
    applied: List[str] = field(default_factory=list)
    tokens: int = 0

    @property
    def header(self) -> str:
        return ",".join(self.applied)


def requested_slugs(value: Optional[str]) -> List[str]:
    """The slugs of an ``x-mem-id`` value: comma-separated, blanks dropped, each once, the first 16."""
    if not value:
        return []
    slugs = list(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
    return slugs[:MAX_MEMORIES]


def _live(item: Record, memory: Record, now: float) -> bool:
    if item.get("expires_at") is not None and item["expires_at"] <= now:
        return False
    days = memory.get("retention_days")
    if item["item_type"] == "guardrail" or days is None:  # guardrails never expire with their memory
        return True
    return bool(item["created_at"] + days * _DAY > now)


def _latest_user_text(messages: Sequence[Any]) -> str:
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            return content_text(message.get("content"))
    return ""


def _candidates(store: Store, owner: str, slugs: List[str], now: float) -> List[Tuple[str, Record]]:
    """``(slug, item)`` of every live item of the active memories named, in request then creation order;
    a keyed preference whose key an earlier memory already gave is dropped (the left-most wins)."""
    found: List[Tuple[str, Record]] = []
    keys = set()
    for slug in slugs:
        memory = get_memory(store, owner, slug)
        if memory is None or not memory.get("active", True):
            continue
        for item in items_of(store, owner, slug):
            if not _live(item, memory, now):
                continue
            if item["item_type"] == "preference" and item.get("key"):
                if item["key"] in keys:
                    continue
                keys.add(item["key"])
            found.append((slug, item))
    return found


def _line(item: Record) -> str:
    if item["item_type"] == "preference" and item.get("key"):
        return f"- {item['key']}: {item['content']}"
    return f"- {item['content']}"


def inject(store: Store, owner: str, header: Optional[str], messages: Sequence[Any], now: float) -> Injection:
    """The injection for a chat call of ``owner`` whose ``x-mem-id`` header is ``header``."""
    slugs = requested_slugs(header)
    if not slugs:
        return Injection()
    found = _candidates(store, owner, slugs, now)
    words = set(_WORD.findall(_latest_user_text(messages).lower()))
    facts = [(slug, item) for slug, item in found if item["item_type"] == "fact"]
    facts.sort(key=lambda pair: -len(words & set(_WORD.findall(pair[1]["content"].lower()))))  # stable
    ordered = [pair for pair in found if pair[1]["item_type"] == "guardrail"]
    ordered += [pair for pair in found if pair[1]["item_type"] == "preference"]
    ordered += facts[:MAX_FACTS]
    sections: Dict[str, List[str]] = {"guardrail": [], "preference": [], "fact": []}
    applied: List[str] = []
    used = 0
    for slug, item in ordered:
        line = _line(item)
        cost = count_tokens(line)
        if item["item_type"] != "guardrail" and used + cost > BUDGET_TOKENS:
            continue
        used += cost
        sections[item["item_type"]].append(line)
        if slug not in applied:
            applied.append(slug)
    if not applied:
        return Injection()
    parts = ["Memory for this conversation."]
    for kind, title in (("guardrail", "Guardrails"), ("preference", "Preferences"), ("fact", "Facts")):
        if sections[kind]:
            parts.append(f"{title}:\n" + "\n".join(sections[kind]))
    text = "\n".join(parts)
    order = {slug: index for index, slug in enumerate(slugs)}
    applied.sort(key=order.__getitem__)
    return Injection({"role": "system", "content": text}, applied, count_tokens(text))
