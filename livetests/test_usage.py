"""Usage and balance against any gateway, as the Mesh CLI reads them: a call made here shows up among
the usage events under its request id with a ``Decimal`` cost, the summary counts it, and the balance
(money as ``Decimal``) keeps ``available = max(0, balance - reserved)``. A deployment that does not serve
these endpoints to API keys (404 or 403) is skipped."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from conftest import MODEL

from meshapi import AsyncMeshAPI, MeshAPI, NotFoundError, PermissionDeniedError


def _served(call: Any) -> Any:
    try:
        return call()
    except (NotFoundError, PermissionDeniedError):
        pytest.skip("this deployment does not serve usage and balance to API keys")


def test_a_call_shows_up_with_its_cost(client: MeshAPI) -> None:
    since = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)).isoformat()
    _served(lambda: client.usage.events(limit=1))
    raw = client.chat.completions.with_raw_response.create(
        model=MODEL, messages=[{"role": "user", "content": "Say ok."}], max_tokens=5
    )
    event = next(
        (e for e in client.usage.iter_events(since=since, page_size=200) if e.request_id == raw.request_id),
        None,
    )
    assert event is not None, raw.request_id
    assert isinstance(event.cost_usd, Decimal) and event.cost_usd >= 0 and event.status == "success"
    summary = client.usage.summary(since=since)
    assert summary.total_requests is not None and summary.total_requests >= 1
    assert isinstance(summary.total_cost_usd, Decimal) and summary.total_cost_usd >= event.cost_usd


def test_the_balance_adds_up(client: MeshAPI) -> None:
    balance = _served(client.balance.get)
    assert isinstance(balance.balance_usd, Decimal) and isinstance(balance.available_usd, Decimal)
    reserved = balance.reserved_usd or Decimal(0)
    assert balance.available_usd == max(Decimal(0), balance.balance_usd - reserved)
    assert sum(balance.reserved_breakdown.values(), Decimal(0)) == reserved


async def test_async_rate_limits(async_client: AsyncMeshAPI) -> None:
    try:
        limits = await async_client.usage.rate_limits()
    except (NotFoundError, PermissionDeniedError):
        pytest.skip("this deployment does not serve usage rate limits to API keys")
    assert limits.key is not None and limits.key.rpm is not None
    assert limits.key.rpm.current is not None and limits.key.rpm.current >= 1
