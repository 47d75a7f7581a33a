"""Memories as users drive them: create, add items, chat with ``memory=[...]``, read ``memory_applied``.

A deployment whose memory endpoints refuse API keys (one documentation page says they take a user token
only) answers 401/403/404 on the first call: skipped then."""

from __future__ import annotations

import uuid

import pytest
from conftest import MODEL

import meshapi
from meshapi import MeshAPI


def test_memory_round_trip(client: MeshAPI) -> None:
    slug = f"livetest-{uuid.uuid4().hex[:12]}"
    try:
        created = client.memories.create(slug=slug, description="livetest")
    except (meshapi.AuthenticationError, meshapi.PermissionDeniedError, meshapi.NotFoundError) as exc:
        pytest.skip(f"this deployment's memory endpoints refuse API keys ({exc.status})")
    try:
        assert created.slug == slug
        item = client.memories.items.create(slug, item_type="fact", content="The user's name is Ada.")
        assert item.id and client.memories.get(slug).item_counts == {
            "guardrail": 0,
            "preference": 0,
            "fact": 1,
        }
        raw = client.chat.completions.with_raw_response.create(
            model=MODEL, messages=[{"role": "user", "content": "What is my name?"}], memory=[slug]
        )
        assert raw.memory_applied is not None and slug in raw.memory_applied
        assert slug in [m.slug for m in client.memories.list(q=slug)]
    finally:
        client.memories.delete(slug)
    with pytest.raises(meshapi.NotFoundError):
        client.memories.get(slug)
