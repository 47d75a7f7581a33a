"""Model catalog."""

from __future__ import annotations

from meshapi import AsyncMeshAPI, MeshAPI, ModelInfo


def test_list_free_paid(client: MeshAPI) -> None:
    everything = client.models.list()
    free = client.models.free()
    paid = client.models.paid()
    assert everything and all(isinstance(m, ModelInfo) for m in everything)
    assert all(m.is_free for m in free)
    assert not any(m.is_free for m in paid)
    ids = {m.id for m in everything}
    assert {m.id for m in free} <= ids and {m.id for m in paid} <= ids
    assert {m.id for m in client.models.list(free=True)} == {m.id for m in free}
    assert {m.id for m in client.models.list(free=False)} == {m.id for m in paid}


async def test_async_list(async_client: AsyncMeshAPI) -> None:
    models = await async_client.models.list()
    assert models
