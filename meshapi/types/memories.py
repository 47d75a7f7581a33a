"""Memories (``/v1/memories``, ``/v1/memories/{slug}/items``): the stored memory, its items, their params.

The documentation names some fields (a memory's ``slug``, ``description``, ``retention_days``,
``item_counts``; an item's ``item_type``, ``key``, ``expires_at``) but not the bodies of the management
calls (docs/protocol.md §V8.2), so the response models are permissive: every field optional, unknown
fields kept (``model_extra``). The params are strict as everywhere (a misspelled keyword is reported
before sending) and follow what the local gateway defines.
"""

from typing import Dict, Optional, TypedDict

from pydantic import ConfigDict

from ._base import MeshResult, RequestModel

__all__ = [
    "CreateMemoryItemParams",
    "CreateMemoryParams",
    "Memory",
    "MemoryItem",
    "UpdateMemoryItemParams",
    "UpdateMemoryParams",
]


class Memory(MeshResult):
    """One memory. ``slug``: its id (the value ``memory=[...]`` names); ``retention_days``: how long its
    facts and preferences are kept (``None``: forever; guardrails never expire); ``active``: an inactive
    memory is skipped when named; ``item_counts``: items per ``item_type``."""

    model_config = ConfigDict(extra="allow")

    object: Optional[str] = None
    slug: Optional[str] = None
    description: Optional[str] = None
    retention_days: Optional[int] = None
    active: Optional[bool] = None
    item_counts: Optional[Dict[str, int]] = None
    created_at: Optional[int] = None
    updated_at: Optional[int] = None


class MemoryItem(MeshResult):
    """One item of a memory. ``item_type``: ``"guardrail"``, ``"preference"`` or ``"fact"`` (fixed once
    created); ``key``: a keyed preference's key (the left-most memory wins when two name the same key);
    ``expires_at``: Unix seconds, ``None`` while it does not expire."""

    model_config = ConfigDict(extra="allow")

    id: Optional[str] = None
    object: Optional[str] = None
    memory: Optional[str] = None
    item_type: Optional[str] = None
    content: Optional[str] = None
    key: Optional[str] = None
    expires_at: Optional[int] = None
    created_at: Optional[int] = None
    updated_at: Optional[int] = None


class CreateMemoryParams(RequestModel):
    slug: str
    description: Optional[str] = None
    retention_days: Optional[int] = None


class UpdateMemoryParams(RequestModel):
    description: Optional[str] = None
    retention_days: Optional[int] = None
    active: Optional[bool] = None


class CreateMemoryItemParams(RequestModel):
    item_type: str
    content: str
    key: Optional[str] = None
    expires_at: Optional[int] = None


class UpdateMemoryItemParams(RequestModel):
    content: Optional[str] = None
    key: Optional[str] = None
    expires_at: Optional[int] = None


class CreateMemoryFields(TypedDict, total=False):
    """``CreateMemoryParams``'s fields as keyword arguments, typed (a test keeps both in step)."""

    slug: str
    description: Optional[str]
    retention_days: Optional[int]


class UpdateMemoryFields(TypedDict, total=False):
    """``UpdateMemoryParams``'s fields as keyword arguments, typed (a test keeps both in step)."""

    description: Optional[str]
    retention_days: Optional[int]
    active: Optional[bool]


class CreateMemoryItemFields(TypedDict, total=False):
    """``CreateMemoryItemParams``'s fields as keyword arguments, typed (a test keeps both in step)."""

    item_type: str
    content: str
    key: Optional[str]
    expires_at: Optional[int]


class UpdateMemoryItemFields(TypedDict, total=False):
    """``UpdateMemoryItemParams``'s fields as keyword arguments, typed (a test keeps both in step)."""

    content: Optional[str]
    key: Optional[str]
    expires_at: Optional[int]
