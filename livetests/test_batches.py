"""Batches: create inline, poll to completion, list, cancel."""

from __future__ import annotations

import time

from conftest import MODEL

from meshapi import AsyncMeshAPI, BatchListResponse, BatchObject, BatchRequestItem, CreateBatchParams, MeshAPI

TERMINAL = {"completed", "failed", "cancelled", "expired"}


def make_params(tag: str) -> CreateBatchParams:
    return CreateBatchParams(
        requests=[
            BatchRequestItem(
                custom_id=f"{tag}-{i}",
                body={"model": MODEL, "messages": [{"role": "user", "content": f"Say {i}."}]},
            )
            for i in range(3)
        ],
        metadata={"job": tag},
    )


def test_batch_to_completion(client: MeshAPI) -> None:
    batch = client.batches.create(make_params("live"))
    assert isinstance(batch, BatchObject)
    deadline = time.monotonic() + 120
    status = client.batches.get(batch.id)
    while status.status not in TERMINAL and time.monotonic() < deadline:
        time.sleep(0.2)
        status = client.batches.get(batch.id)
    assert status.status == "completed"
    listing = client.batches.list(limit=5)
    assert isinstance(listing, BatchListResponse)
    assert batch.id in {b.id for b in client.batches.iter_batches()}


def test_batch_wait_helper(client: MeshAPI) -> None:
    batch = client.batches.create(make_params("wait"))
    done = client.batches.wait(batch.id, timeout=120, poll_interval=0.1)
    assert done.status == "completed"


def test_batch_cancel(client: MeshAPI) -> None:
    batch = client.batches.create(make_params("cancel"))
    cancelled = client.batches.cancel(batch.id)
    assert cancelled.status in {"cancelling", "cancelled", "completed"}


async def test_async_batch(async_client: AsyncMeshAPI) -> None:
    batch = await async_client.batches.create(make_params("async"))
    done = await async_client.batches.wait(batch.id, timeout=120, poll_interval=0.1)
    assert done.status == "completed"
