"""The SDK's retries against the gateway's Idempotency-Key handling: a retried POST does its work once."""

from __future__ import annotations

import uuid
from typing import Any, List

from tests.conftest import resolve


async def _ids(client: Any) -> List[str]:
    page = await resolve(client.batches.list(limit=100))
    return [batch.id for batch in page.data]


async def test_a_retried_batch_create_makes_one_batch(any_client: Any, gateway: Any) -> None:
    marker = uuid.uuid4().hex
    gateway.faults.add("/v1/batches", method="POST", truncate_body=True, times=1)
    before = len(gateway.requests.filter(path="/v1/batches", method="POST"))
    existing = await _ids(any_client)
    batch = await resolve(
        any_client.batches.create(
            requests=[
                {
                    "custom_id": marker,
                    "body": {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
                }
            ]
        )
    )
    attempts = gateway.requests.filter(path="/v1/batches", method="POST")[before:]
    assert len(attempts) == 2, "the first reply was cut off, so the SDK retried once"
    keys = {record.headers.get("idempotency-key") for record in attempts}
    assert len(keys) == 1 and None not in keys
    assert attempts[1].status == 200
    created = [i for i in await _ids(any_client) if i not in existing]
    assert created == [batch.id], "one batch, whatever the number of attempts"
