"""Usage and balance end to end over real sockets, sync and async: calls made through the SDK show up
exactly in ``client.usage`` (events newest first, every page, the summary, retried attempts as one
event), the balance goes down by the reported cost, an exhausted balance is ``PaymentRequiredError``
before the model runs, and batches and realtime sessions hold funds while they run."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, AsyncIterator, Callable, List

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from meshapi import AsyncMeshAPI, MeshAPI, PaymentRequiredError
from meshapi_gateway import serve
from tests._poll import async_wait_until
from tests.conftest import collect, resolve

TOKEN = "rsk_usage_integration"
MODEL = "openai/gpt-4o-mini"
PRICE = (Decimal("0.00015"), Decimal("0.0006"))
MESSAGES = [{"role": "user", "content": "How do usage events work?"}]


def price(prompt: int, completion: int) -> Decimal:
    return (PRICE[0] * prompt + PRICE[1] * completion) / 1000


@pytest.fixture
async def made(mode: str) -> AsyncIterator[Callable[..., Any]]:
    """``made(**serve_options)``: a fresh gateway and a client of the test's mode bound to it."""
    opened: List[Any] = []

    def factory(**options: Any) -> Any:
        gw = serve([TOKEN], **options)
        opened.append(gw)
        kind = MeshAPI if mode == "sync" else AsyncMeshAPI
        client = kind(base_url=gw.base_url, token=TOKEN, retry_initial_delay=0.0, retry_max_delay=0.0)
        opened.append(client)
        return gw, client

    yield factory
    for thing in reversed(opened):
        if isinstance(thing, AsyncMeshAPI):
            await thing.close()
        else:
            thing.close() if isinstance(thing, MeshAPI) else thing.stop()


async def test_calls_show_up_in_usage_exactly(made: Any) -> None:
    _gw, client = made()
    raws = [await resolve(client.chat.completions.with_raw_response.create(model=MODEL, messages=MESSAGES))
            for _ in range(3)]  # fmt: skip
    served = [(raw.request_id, (await resolve(raw.parse())).usage) for raw in raws]
    assert [raw.cache_hit for raw in raws] == [False, True, True]  # the same eligible call: stored answers
    page = await resolve(client.usage.events(limit=2))
    assert page.total == 3 and page.has_more and len(page.events) == 2
    every = await collect(client.usage.iter_events(page_size=2))
    assert [e.request_id for e in every] == [rid for rid, _ in reversed(served)]
    for event, (_rid, usage) in zip(every, reversed(served)):
        assert (event.status, event.model, event.stream) == ("success", MODEL, False)
        assert (event.prompt_tokens, event.completion_tokens) == (
            usage.prompt_tokens,
            usage.completion_tokens,
        )
        hit = event.request_id != served[0][0]  # a response-cache hit is recorded, not billed
        assert event.cost_usd == (Decimal(0) if hit else price(usage.prompt_tokens, usage.completion_tokens))
        assert event.cache_source == ("gateway" if hit else None)
        assert isinstance(event.cost_usd, Decimal)
    summary = await resolve(client.usage.summary())
    assert (summary.total_requests, summary.successful_requests) == (3, 3)
    assert summary.total_cost_usd == sum((e.cost_usd for e in every), Decimal(0))
    assert [(row.model, row.requests) for row in summary.by_model] == [(MODEL, 3)]
    trend = await resolve(client.usage.spend_trend(granularity="hour"))
    assert trend.total_cost_usd == summary.total_cost_usd and len(trend.buckets) == 24


async def test_a_retried_call_is_one_event_with_its_attempts(made: Any) -> None:
    gw, client = made()
    gw.faults.add("/v1/chat/completions", status=503, times=1)
    await resolve(
        client.chat.completions.create(model=MODEL, messages=MESSAGES, request_id="req-usage-retry")
    )
    page = await resolve(client.usage.events())
    assert [(e.request_id, e.status) for e in page.events] == [("req-usage-retry", "success")]
    attempts = await resolve(client.usage.attempts(page.events[0].id))
    assert [(a.status, a.error_code) for a in attempts.attempts] == [
        ("error", "upstream_error"),
        ("success", None),
    ]
    limits = await resolve(client.usage.rate_limits())
    assert limits.key is not None and limits.key.rpm is not None and limits.key.rpm.current == 5


async def test_balance_goes_down_by_the_reported_cost(made: Any) -> None:
    _gw, client = made(balance="25")
    before = await resolve(client.balance.get())
    assert (before.balance_usd, before.available_usd, before.reserved_usd) == (Decimal(25),) * 2 + (
        Decimal(0),
    )
    await resolve(client.chat.completions.create(model=MODEL, messages=MESSAGES))
    cost = (await resolve(client.usage.events())).events[0].cost_usd
    after = await resolve(client.balance.get())
    assert cost is not None and cost > 0 and after.balance_usd == Decimal(25) - cost


async def test_an_exhausted_balance_refuses_before_the_model_runs(made: Any) -> None:
    gw, client = made(balance="0")
    with pytest.raises(PaymentRequiredError) as caught:
        await resolve(client.chat.completions.create(model=MODEL, messages=MESSAGES))
    assert (caught.value.status, caught.value.error_code) == (402, "spend_limit_exceeded")
    chats = [r for r in gw.requests if r.path == "/v1/chat/completions"]
    assert (
        len(chats) == 1 and chats[0].status == 402 and chats[0].tokens_out is None
    )  # not retried, no answer
    balance = await resolve(client.balance.get())
    assert balance.available_usd == Decimal(0) and balance.message


async def test_a_running_batch_holds_funds(made: Any) -> None:
    _gw, client = made(batch_step_seconds=0.5)
    lines = [{"custom_id": f"q{i}", "body": {"model": MODEL, "messages": MESSAGES}} for i in range(3)]
    batch = await resolve(client.batches.create(requests=lines))
    held = await resolve(client.balance.get())
    assert held.reserved_breakdown == {"batches": price(1000, 1000) * 3}
    assert held.available_usd == held.balance_usd - held.reserved_usd

    async def released() -> bool:
        return (await resolve(client.balance.get())).reserved_breakdown == {}

    await async_wait_until(released, timeout=20, what="the batch's hold ends")
    assert (await resolve(client.batches.get(batch.id))).status == "completed"
    rows = await collect(client.usage.iter_events())
    balance = await resolve(client.balance.get())
    assert len(rows) == 3 and balance.balance_usd == Decimal(1000) - sum(r.cost_usd for r in rows)


async def test_a_realtime_session_holds_ten_dollars(made: Any) -> None:
    pytest.importorskip("websockets")
    _gw, client = made()
    session = await resolve(client.realtime.connect(model="openai/gpt-realtime", timeout=5.0))
    try:
        assert (await resolve(session.receive(timeout=5.0))).type == "session.created"
        held = await resolve(client.balance.get())
        assert held.reserved_breakdown == {"realtime": Decimal(10)}
    finally:
        await resolve(session.close())

    async def released() -> bool:
        return (await resolve(client.balance.get())).reserved_usd == 0

    await async_wait_until(released, timeout=10, what="the session's hold ends")


async def test_realtime_needs_ten_dollars_available(made: Any) -> None:
    pytest.importorskip("websockets")
    _gw, client = made(balance="9.99")
    with pytest.raises(PaymentRequiredError) as caught:
        await resolve(client.realtime.connect(model="openai/gpt-realtime", timeout=5.0))
    assert caught.value.error_code == "insufficient_quota"


async def test_each_compared_model_has_its_own_cost(made: Any) -> None:
    _gw, client = made()
    models = [MODEL, "anthropic/claude-haiku-4.5"]
    raw = await resolve(client.compare.with_raw_response.create(models=models, messages=MESSAGES))
    result = await resolve(raw.parse())
    ids = [r.request_id for r in result.results] + [raw.request_id]
    found = await resolve(client.costs.lookup(ids))
    assert [(c.request_id, c.model, c.estimated) for c in found.costs] == [
        (ids[0], MODEL, False),
        (ids[1], models[1], False),
        (raw.request_id, result.comparison_model, False),
    ]
    first = result.results[0].usage
    assert first is not None and found.costs[0].cost_usd == price(
        first.prompt_tokens, first.completion_tokens
    )
    summary = await resolve(client.usage.summary())
    assert summary.total_requests == 3
    assert summary.total_cost_usd == sum((c.cost_usd or Decimal(0) for c in found.costs), Decimal(0))
