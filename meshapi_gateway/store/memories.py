"""Memories and their items, stored per API key (owner) in the gateway's ``Store`` (docs/protocol.md §V8.2).

A memory is named by its slug, unique per owner (two keys may each have a memory ``prefs``); its record
is kept under the id ``<owner>/<slug>``. Items are records of their own (``memitem_...`` ids) that name
their memory's slug. The routes (``routes/memories.py``) and the chat injection (``fakes/memory.py``)
read and write through these helpers only.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional

from .storage import Record, Store, public

__all__ = [
    "ITEM_KIND",
    "ITEM_TYPES",
    "MEMORY_KIND",
    "bad_slug",
    "delete_memory",
    "get_item",
    "get_memory",
    "items_of",
    "list_memories",
    "memory_view",
    "put_item",
    "put_memory",
]

MEMORY_KIND = "memory"
ITEM_KIND = "memory_item"
#: The kinds of item, in the order they are injected (guardrails are never dropped).
ITEM_TYPES = ("guardrail", "preference", "fact")

_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")


def bad_slug(slug: str) -> Optional[str]:
    """Why ``slug`` cannot name a memory, or ``None``: 1 to 64 letters, digits, ``.``, ``_``, ``-`` (a
    letter or digit first; so no spaces and no comma, which separates slugs in ``x-mem-id``), and not
    shaped like a UUID (those name other objects)."""
    if not _SLUG.match(slug):
        return "a slug is 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"
    if _UUID.match(slug):
        return "a slug must not look like a UUID"
    return None


def _memory_id(owner: str, slug: str) -> str:
    return f"{owner}/{slug}"


def get_memory(store: Store, owner: str, slug: str) -> Optional[Record]:
    return store.get_owned(MEMORY_KIND, owner, _memory_id(owner, slug))


def put_memory(store: Store, owner: str, record: Record) -> None:
    store.put(MEMORY_KIND, owner, _memory_id(owner, record["slug"]), record)


def list_memories(store: Store, owner: str) -> List[Record]:
    """The owner's memories, oldest first."""
    return list(reversed(store.list(MEMORY_KIND, owner)))


def items_of(store: Store, owner: str, slug: str) -> List[Record]:
    """The items of one memory, oldest first."""
    return [r for r in reversed(store.list(ITEM_KIND, owner)) if r["memory"] == slug]


def get_item(store: Store, owner: str, slug: str, item_id: str) -> Optional[Record]:
    record = store.get_owned(ITEM_KIND, owner, item_id)
    return record if record is not None and record["memory"] == slug else None


def put_item(store: Store, owner: str, record: Record) -> None:
    store.put(ITEM_KIND, owner, record["id"], record)


def delete_memory(store: Store, owner: str, slug: str) -> None:
    """The memory and every item of it."""
    for item in items_of(store, owner, slug):
        store.delete(ITEM_KIND, item["id"])
    store.delete(MEMORY_KIND, _memory_id(owner, slug))


def memory_view(store: Store, owner: str, record: Record) -> Dict[str, Any]:
    """A memory as the API shows it, with its ``item_counts``."""
    counts = dict.fromkeys(ITEM_TYPES, 0)
    for item in items_of(store, owner, record["slug"]):
        counts[item["item_type"]] += 1
    return {**public(record), "item_counts": counts}
