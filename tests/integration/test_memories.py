"""``client.memories`` and ``memory=[...]`` against the local gateway over real sockets (sync and async)."""

from __future__ import annotations

from typing import Any

import pytest

import meshapi
from tests.conftest import close, resolve

CHAT = "/v1/chat/completions"
MODEL = "openai/gpt-4o-mini"
MESSAGES = [{"role": "user", "content": "What is my name?"}]


async def test_memories_end_to_end(mode: str, any_client: Any, gateway: Any) -> None:
    slug = f"prefs-{mode}"
    memories = any_client.memories
    created = await resolve(memories.create(slug=slug, description="How I like answers"))
    assert (created.slug, created.active, created.retention_days) == (slug, True, None)
    assert created.item_counts == {"guardrail": 0, "preference": 0, "fact": 0}
    item = await resolve(memories.items.create(slug, item_type="fact", content="The user's name is Ada."))
    await resolve(memories.items.create(slug, item_type="preference", key="tone", content="Be brief."))
    assert item.id.startswith("memitem_") and item.memory == slug and item.item_type == "fact"
    assert (await resolve(memories.get(slug))).item_counts == {"guardrail": 0, "preference": 1, "fact": 1}
    assert [m.slug for m in await resolve(memories.list(q=mode))] == [slug]
    facts = await resolve(memories.items.list(slug, item_type="fact"))
    assert [i.id for i in facts] == [item.id] and facts.request_id

    plain = await resolve(
        any_client.chat.completions.with_raw_response.create(model=MODEL, messages=MESSAGES)
    )
    assert plain.memory_applied is None and "x-mem-id" not in gateway.requests.filter(path=CHAT)[-1].headers
    raw = await resolve(
        any_client.chat.completions.with_raw_response.create(
            model=MODEL, messages=MESSAGES, memory=[slug, "nobody-has-this"]
        )
    )
    assert raw.memory_applied == [slug]
    assert raw.parse().usage.prompt_tokens > plain.parse().usage.prompt_tokens  # injected tokens billed
    sent = gateway.requests.filter(path=CHAT)[-1]
    assert sent.headers["x-mem-id"] == f"{slug},nobody-has-this"

    changed = await resolve(memories.items.update(slug, item.id, content="The user's name is Grace."))
    assert changed.content == "The user's name is Grace."
    assert (await resolve(memories.items.get(slug, item.id))).content == "The user's name is Grace."
    assert (await resolve(memories.update(slug, active=False))).active is False
    skipped = await resolve(
        any_client.chat.completions.with_raw_response.create(model=MODEL, messages=MESSAGES, memory=[slug])
    )
    assert skipped.memory_applied == []
    assert await resolve(memories.items.delete(slug, item.id)) is None
    assert await resolve(memories.delete(slug)) is None
    with pytest.raises(meshapi.NotFoundError):
        await resolve(memories.get(slug))


async def test_client_memory_option_and_with_options(mode: str, gateway: Any) -> None:
    slug = f"team-{mode}"
    cls = meshapi.MeshAPI if mode == "sync" else meshapi.AsyncMeshAPI
    client = cls(base_url=gateway.base_url, token=gateway.token, memory=[slug])
    try:
        await resolve(client.memories.create(slug=slug))
        await resolve(
            client.memories.items.create(slug, item_type="guardrail", content="Never share secrets.")
        )
        raw = await resolve(client.chat.completions.with_raw_response.create(model=MODEL, messages=MESSAGES))
        assert raw.memory_applied == [slug]
        assert gateway.requests.filter(path=CHAT)[-1].headers["x-mem-id"] == slug
        other = client.with_options(memory=None)
        raw = await resolve(other.chat.completions.with_raw_response.create(model=MODEL, messages=MESSAGES))
        assert raw.memory_applied is None
        stream = await resolve(
            client.chat.completions.with_raw_response.create(model=MODEL, messages=MESSAGES, stream=True)
        )
        assert stream.memory_applied == [slug]
        await close(stream.parse())
    finally:
        await resolve(client.memories.delete(slug))
        await close(client)
