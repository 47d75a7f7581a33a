"""Webhooks end to end: the local gateway raises an event, a receiver gets the delivery, the SDK's
``meshapi.webhooks`` verifies and types it (the gateway signs with its own code, the SDK checks with its own)."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any, Iterator

import pytest

import meshapi.webhooks
from meshapi import MeshAPI, WebhookVerificationError
from meshapi._testing_webhooks import WebhookReceiver
from meshapi.webhooks import BalanceLowEvent, SpendCapHitEvent
from meshapi_gateway.webhooks.signing import delivery_headers
from tests._poll import wait_until

from .conftest import FAST

CHAT: Any = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "Is my balance low?"}]}


@pytest.fixture
def receiver(gateway: Any) -> Iterator[WebhookReceiver]:
    r = WebhookReceiver()
    endpoint = gateway.webhooks.register(r.url, r.secret)
    try:
        yield r
    finally:
        gateway.webhooks.unregister(endpoint.id)
        gateway.webhooks.reset(requests=True)  # start-up thresholds, every rung crossable again
        r.close()


def test_the_gateway_signature_verifies_with_the_sdk() -> None:
    body = b'{"id":"evt_1","type":"balance.low","data":{}}'
    now = int(time.time())
    meshapi.webhooks.verify(body, delivery_headers(["s1"], now, body, "evt_1"), "s1")
    rotated = delivery_headers(["new", "old"], now, body, "evt_1")
    meshapi.webhooks.verify(body, rotated, "new")
    meshapi.webhooks.verify(body, rotated, "old")
    with pytest.raises(WebhookVerificationError) as info:
        meshapi.webhooks.verify(body + b" ", rotated, "new")
    assert info.value.reason == "mismatch"


def test_balance_low_from_the_gateway_to_a_typed_event(gateway: Any, receiver: WebhookReceiver) -> None:
    gateway.webhooks.configure(
        balance_low_usd="1000"
    )  # every token starts with 1000: one paid call crosses it
    with MeshAPI(base_url=gateway.base_url, token=gateway.token, **FAST) as client:
        client.chat.completions.create(**CHAT)
        balance = client.balance.get()
    (delivery,) = receiver.wait(1).deliveries
    event = meshapi.webhooks.unwrap(delivery.body, delivery.headers, receiver.secret)
    assert isinstance(event, BalanceLowEvent)
    assert event.id == delivery.headers["mesh-event-id"] and event.id and event.id.startswith("evt_")
    assert event.test is False and event.data.threshold_usd == Decimal("1000")
    assert event.data.balance_usd == balance.balance_usd
    assert receiver.events() == [event]
    with pytest.raises(WebhookVerificationError):
        meshapi.webhooks.unwrap(delivery.body, delivery.headers, "whsec_wrong")


def test_duplicates_from_the_fault_plan_share_the_event_id(gateway: Any, receiver: WebhookReceiver) -> None:
    spent = gateway.state.balance.totals(gateway.state.owner_for(gateway.token))[1]  # by earlier tests
    gateway.webhooks.configure(spend_cap_usd=str(spent + Decimal("0.000001")), balance_low_usd=None)
    gateway.faults.add("webhook:spend_cap.hit", webhook_duplicates=1)
    with MeshAPI(base_url=gateway.base_url, token=gateway.token, **FAST) as client:
        client.chat.completions.create(**CHAT)
    events = receiver.wait(3).events()  # approaching (80 %), hit, and hit again
    hits = [e for e in events if isinstance(e, SpendCapHitEvent)]
    assert len(hits) == 2 and hits[0] == hits[1] and hits[0].data.scope == "key"
    assert len({e.id for e in events}) == 2  # deduplicate on the id
    wait_until(lambda: gateway.webhooks.worker.pending() == 0, what="nothing more queued")
    assert len(receiver.deliveries) == 3


def test_a_stale_delivery_fails_verification(gateway: Any, receiver: WebhookReceiver) -> None:
    gateway.webhooks.configure(balance_low_usd="1000")
    gateway.faults.add("webhook:*", webhook_stale_seconds=600)
    with MeshAPI(base_url=gateway.base_url, token=gateway.token, **FAST) as client:
        client.chat.completions.create(**CHAT)
    (delivery,) = receiver.wait(1).deliveries
    with pytest.raises(WebhookVerificationError) as info:
        meshapi.webhooks.verify(delivery.body, delivery.headers, receiver.secret)
    assert info.value.reason == "stale_timestamp"
    meshapi.webhooks.verify(delivery.body, delivery.headers, receiver.secret, tolerance=None)
