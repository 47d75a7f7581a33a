"""``track_usage()`` and ``Budget`` end to end over real sockets, sync and async: every kind of billed call
is recorded with the tokens the gateway's request log counted and, once the block ends, the exact
``Decimal`` cost of its usage event; a call retried after a planned 503 is one record of two attempts;
compare's models and a tool run's turns are each recorded; a budget refuses before the gateway sees the
call and charges what the usage event says."""

from __future__ import annotations

import contextlib
from decimal import Decimal
from typing import Any, AsyncIterator, Dict, List

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

import meshapi
from meshapi import AsyncMeshAPI, Budget, BudgetExceededError, MeshAPI
from meshapi_gateway import serve
from tests.conftest import collect, resolve

TOKEN = "rsk_usage_tracking_integration"
MODEL = "openai/gpt-4o-mini"
MESSAGES = [{"role": "user", "content": "What is the weather in Paris?"}]


@pytest.fixture
async def made(mode: str) -> AsyncIterator[Any]:
    gw = serve([TOKEN])
    kind = MeshAPI if mode == "sync" else AsyncMeshAPI
    client = kind(base_url=gw.base_url, token=TOKEN, retry_initial_delay=0.0, retry_max_delay=0.0)
    try:
        yield gw, client
    finally:
        if isinstance(client, AsyncMeshAPI):
            await client.close()
        else:
            client.close()
        gw.stop()


@contextlib.asynccontextmanager
async def tracking(client: Any, **kwargs: Any) -> AsyncIterator[Any]:
    tracker = client.track_usage(**kwargs)
    if isinstance(client, AsyncMeshAPI):
        async with tracker as usage:
            yield usage
    else:
        with tracker as usage:
            yield usage


async def events_by_id(client: Any) -> Dict[str, Any]:
    return {e.request_id: e for e in await collect(client.usage.iter_events())}


@meshapi.tool
def get_weather(city: str, unit: str = "C") -> str:
    """Current weather for a city."""
    return f"{city}: rain, 9 {unit}"


async def test_every_billed_call_is_recorded_with_the_gateways_tokens_and_costs(made: Any) -> None:
    gw, client = made
    async with tracking(client) as usage:
        await resolve(client.chat.completions.create(model=MODEL, messages=MESSAGES))
        await collect(
            await resolve(client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True))
        )
        await resolve(client.embeddings.create(model="openai/text-embedding-3-small", input="two words"))
        await resolve(client.images.generate(model="openai/gpt-image-1", prompt="a red square"))
        await resolve(client.audio.synthesize(model="sarvam/bulbul:v2", input="Hello there"))
    logged = {r.request_id: r for r in gw.requests if r.method == "POST" and r.path != "/v1/usage/events"}
    assert [r.request_id for r in usage.records] == list(logged)
    for record in usage.records:
        entry = logged[record.request_id]
        assert (record.path, record.prompt_tokens, record.completion_tokens) == (
            entry.path, entry.tokens_in or 0, entry.tokens_out or 0)  # fmt: skip
    assert [r.stream for r in usage.records] == [False, True, False, False, False]
    events = await events_by_id(client)
    assert [(r.cost_usd, r.estimated) for r in usage.records] == [
        (events[r.request_id].cost_usd, False) for r in usage.records
    ]
    assert usage.records[0].cost_source == "usage_event" and usage.records[1].cost_source == "reply"
    assert not usage.estimated and usage.cost_usd == sum((e.cost_usd for e in events.values()), Decimal(0))
    assert usage.cost_usd > 0 and usage.requests == 5
    assert usage.by_model[MODEL].requests == 2


async def test_a_retried_call_is_one_record_and_one_event(made: Any) -> None:
    gw, client = made
    gw.faults.add("/v1/chat/completions", status=503, times=1)
    async with tracking(client) as usage:
        await resolve(client.chat.completions.create(model=MODEL, messages=MESSAGES))
    (record,) = usage.records
    events = await events_by_id(client)
    served = events.pop(record.request_id)
    assert record.attempts == 2 and (record.cost_usd, record.prompt_tokens) == (
        served.cost_usd,
        served.prompt_tokens,
    )
    # the failed attempt has its own event and costs nothing
    assert [(e.status, e.cost_usd) for e in events.values()] == [("error", Decimal(0))]
    assert usage.cost_usd == served.cost_usd and not usage.estimated


async def test_compare_models_and_tool_run_turns(made: Any) -> None:
    gw, client = made
    models = [MODEL, "anthropic/claude-haiku-4.5"]
    async with tracking(client, lookup=False) as usage:
        result = await resolve(client.compare.create(models=models, messages=MESSAGES, skip_comparison=True))
        run = client.chat.completions.run_tools(model=MODEL, messages=MESSAGES, tools=[get_weather])
        final = await resolve(run.until_done())
    compare, turns = usage.records[:2], usage.records[2:]
    assert [(r.model, r.prompt_tokens, r.completion_tokens, r.request_id) for r in compare] == [
        (m.model, m.usage.prompt_tokens, m.usage.completion_tokens, m.request_id) for m in result.results
    ]
    assert final.choices[0].finish_reason == "stop" and len(turns) == len(run.completions) == 2
    chats = [r.request_id for r in gw.requests if r.path == "/v1/chat/completions"]
    assert [r.request_id for r in turns] == chats
    assert sum(r.total_tokens for r in turns) == run.usage.total_tokens
    assert usage.requests == 3


async def test_a_budget_refuses_before_the_gateway_sees_the_call_and_charges_the_event_cost(
    made: Any,
) -> None:
    gw, client = made
    budget = Budget(max_usd="0.001")
    capped = client.with_options(budget=budget)
    reply = await resolve(capped.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=100))
    events = await events_by_id(client)
    (event,) = events.values()
    assert reply.usage is not None and event.cost_usd is not None
    assert budget.spent == event.cost_usd and budget.reserved == 0  # the catalog price is the gateway's
    before = len(gw.requests)
    with pytest.raises(BudgetExceededError) as caught:
        await resolve(capped.chat.completions.create(model="openai/gpt-4o", messages=MESSAGES))
    assert caught.value.estimate > budget.max_usd - budget.spent
    sent: List[Any] = [(r.method, r.path) for r in list(gw.requests)[before:]]
    assert sent == [("GET", "/v1/models/openai/gpt-4o")]  # its price; the chat call never went out


async def test_a_batchs_lines_are_recorded_once_when_its_results_arrive(made: Any) -> None:
    _gw, client = made
    lines = [
        {"custom_id": name, "body": {"model": MODEL, "messages": [{"role": "user", "content": text}]}}
        for name, text in (("a", "Say hello"), ("b", "Name three rivers in France"))
    ]
    async with tracking(client) as usage:
        batch = await resolve(client.batches.create(requests=lines))
        assert usage.records == []  # created, not billed yet
        done = await resolve(client.batches.wait(batch.id, poll_interval=0.05, timeout=10))
        await resolve(client.batches.get(batch.id))  # fetched again: not counted twice
    assert done.status == "completed" and done.results is not None
    answered = {r.response["request_id"]: r.response["body"]["usage"] for r in done.results}
    assert [(r.request_id, r.path, r.model, r.attempts) for r in usage.records] == [
        (rid, "/v1/batches", MODEL, 1) for rid in answered
    ]
    assert [(r.prompt_tokens, r.completion_tokens) for r in usage.records] == [
        (u["prompt_tokens"], u["completion_tokens"]) for u in answered.values()
    ]
    events = await events_by_id(client)
    assert [(r.cost_usd, r.cost_source) for r in usage.records] == [
        (events[rid].cost_usd, "usage_event") for rid in answered
    ]
    assert usage.requests == 2 and not usage.estimated and usage.cost_usd > 0


async def test_a_stream_retried_after_an_error_frame_first_counts_both_attempts(made: Any) -> None:
    gw, client = made
    gw.faults.add("/v1/chat/completions", error_event_after=0, times=1, error_code="provider_overloaded")
    async with tracking(client) as usage:
        stream = await resolve(client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True))
        await collect(stream)
    (record,) = usage.records
    first, served = [r.request_id for r in gw.requests if r.path == "/v1/chat/completions"]
    events = await events_by_id(client)
    assert (record.request_id, record.attempts, record.stream) == (served, 2, True)
    assert (record.cost_usd, events[first].cost_usd) == (events[served].cost_usd, Decimal(0))


async def test_a_background_response_takes_its_tokens_and_cost_from_the_usage_event(made: Any) -> None:
    _gw, client = made
    async with tracking(client) as usage:
        started = await resolve(
            client.responses.create(model=MODEL, input="Tell me about rivers", background=True)
        )
        done = await resolve(client.responses.wait(started.id, poll_interval=0.05, timeout=10))
    (record,) = usage.records
    event = (await events_by_id(client))[record.request_id]
    assert done.status == "completed" and done.usage is not None
    assert (record.prompt_tokens, record.completion_tokens) == (
        done.usage.input_tokens,
        done.usage.output_tokens,
    )
    assert (record.prompt_tokens, record.completion_tokens) == (event.prompt_tokens, event.completion_tokens)
    assert (record.cost_usd, record.cost_source) == (
        event.cost_usd,
        "usage_event",
    ) and record.total_tokens > 0
