"""``meshapi.Budget`` on httpx.MockTransport, sync and async: a call's worst case (heuristic prompt tokens
plus ``max_tokens``, else the documented default, at the catalog's prices) is checked before sending
(``BudgetExceededError``: nothing sent; ``on_exceed="warn"``: a ``BudgetWarning`` and the call is sent),
the actual cost is charged after the reply (a failed call costs nothing), the catalog is read once per
model and client, unknown prices count as free with a warning; on the client, ``with_options()`` and a
tracker; shared by threads under one lock."""

from __future__ import annotations

import asyncio
import contextlib
import pickle
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any, AsyncIterator, List

import httpx
import pytest

from meshapi import (
    AsyncMeshAPI,
    Budget,
    BudgetExceededError,
    BudgetWarning,
    ConfigurationError,
    MeshAPI,
    MeshAPIError,
)
from meshapi._budget import DEFAULT_MAX_TOKENS, models_of, worst_case
from meshapi._core.tokens import request_prompt_tokens
from tests.conftest import resolve
from tests.unit.test_usage_tracking import MODEL, Gateway, completion, ok, status

# 1000 prompt + 500 completion tokens at $1 / $2 per 1M tokens (the test catalog): $0.002
PRICED = completion(prompt=1000, completion_tokens=500)
MESSAGES = [{"role": "user", "content": "hello"}]  # 3 + 3 + 1 = 7 heuristic prompt tokens


def worst(max_tokens: int) -> Decimal:
    return (Decimal(7) * 1 + Decimal(max_tokens) * 2) / 1_000_000


@contextlib.asynccontextmanager
async def tracking(client: Any, **kwargs: Any) -> AsyncIterator[Any]:
    tracker = client.track_usage(**kwargs)
    if isinstance(client, AsyncMeshAPI):
        async with tracker as usage:
            yield usage
    else:
        with tracker as usage:
            yield usage


def chat(client: Any, **kwargs: Any) -> Any:
    return resolve(client.chat.completions.create(model=MODEL, messages=MESSAGES, **kwargs))


def sent(gw: Gateway) -> List[str]:
    return [f"{r.method} {r.url.path}" for r in gw.seen]


async def test_a_call_past_the_budget_is_refused_before_anything_is_sent(make_client: Any) -> None:
    gw = Gateway()
    gw.reply("/v1/chat/completions", ok(PRICED))
    budget = Budget(max_usd=worst(100) - Decimal("0.000001"))
    client = make_client(gw, budget=budget)
    with pytest.raises(BudgetExceededError) as caught:
        await chat(client, max_tokens=100)
    assert sent(gw) == ["GET /v1/models/p/m"]  # the catalog price, nothing else
    error = caught.value
    assert isinstance(error, MeshAPIError) and error.budget is budget
    assert (error.spent, error.estimate, error.error_code) == (Decimal(0), worst(100), "budget_exceeded")
    assert (budget.spent, budget.reserved) == (Decimal(0), Decimal(0))
    copied = pickle.loads(pickle.dumps(error))  # errors pickle (process pools, Celery)
    assert (type(copied), copied.spent, copied.estimate, copied.budget.max_usd) == (
        BudgetExceededError, Decimal(0), worst(100), budget.max_usd)  # fmt: skip
    assert copied.budget.remaining == budget.max_usd


async def test_the_actual_cost_is_charged_after_the_reply(make_client: Any) -> None:
    gw = Gateway()
    gw.reply("/v1/chat/completions", ok(PRICED))
    budget = Budget(max_usd="0.01")
    client = make_client(gw, budget=budget)
    await chat(client)  # worst case without max_tokens: the default 4096 completion tokens
    await chat(client, max_tokens=10)
    assert budget.spent == Decimal("0.004") and budget.reserved == 0
    assert budget.remaining == Decimal("0.006")
    assert sent(gw) == ["GET /v1/models/p/m", "POST /v1/chat/completions", "POST /v1/chat/completions"]
    # left: 0.006; the default worst case is 7 * 1e-6 + 4096 * 2e-6 = 0.008199: refused
    assert worst(DEFAULT_MAX_TOKENS) == Decimal("0.008199")
    with pytest.raises(BudgetExceededError):
        await chat(client)
    await chat(client, max_tokens=2000)  # 0.004007 fits
    assert budget.spent == Decimal("0.006") and len(sent(gw)) == 4


async def test_raw_and_streaming_views_under_a_budget(make_client: Any) -> None:
    gw = Gateway()
    gw.reply("/v1/chat/completions", ok(PRICED))
    budget = Budget(max_usd="1")
    client = make_client(gw, budget=budget)
    view = client.chat.completions.with_streaming_response.create(
        model=MODEL, messages=MESSAGES, max_tokens=9
    )
    if isinstance(client, AsyncMeshAPI):
        async with view as response:
            assert (await response.parse()).usage.prompt_tokens == 1000
    else:
        with view as response:
            assert response.parse().usage.prompt_tokens == 1000
    raw = await resolve(
        client.chat.completions.with_raw_response.create(model=MODEL, messages=MESSAGES, max_tokens=9)
    )
    assert raw.parse().usage.completion_tokens == 500 and raw.http_response.url.path == "/v1/chat/completions"
    assert budget.spent == Decimal("0.004") and budget.reserved == 0
    assert sent(gw) == ["GET /v1/models/p/m", "POST /v1/chat/completions", "POST /v1/chat/completions"]


async def test_a_failed_call_costs_nothing(make_client: Any) -> None:
    gw = Gateway()
    gw.reply("/v1/chat/completions", status(400))
    budget = Budget(max_usd="1")
    client = make_client(gw, budget=budget)
    with pytest.raises(MeshAPIError):
        await chat(client)
    assert (budget.spent, budget.reserved, budget.remaining) == (0, 0, Decimal(1))


async def test_warn_sends_the_call_and_charges_it(make_client: Any) -> None:
    gw = Gateway()
    gw.reply("/v1/chat/completions", ok(PRICED))
    budget = Budget(max_usd="0.0001", on_exceed="warn")
    client = make_client(gw, budget=budget)
    with pytest.warns(
        BudgetWarning, match=r"may cost up to \$0.000207 but the budget of \$0.0001 has \$0.0001 left"
    ):
        await chat(client, max_tokens=100)
    assert budget.spent == Decimal("0.002") and budget.remaining == 0
    assert sent(gw)[-1] == "POST /v1/chat/completions"


async def test_prices_are_read_once_per_model_and_unknown_ones_count_as_free(make_client: Any) -> None:
    gw = Gateway()
    gw.reply("/v1/chat/completions", ok(PRICED), ok(PRICED), ok(PRICED), ok(completion(model="q/unknown")))

    def catalog(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/models/q/unknown":
            gw.seen.append(request)
            return httpx.Response(404, json={"error": {"code": "model_not_found", "message": "no"}})
        return gw(request)

    budget = Budget(max_usd="1")
    client = make_client(catalog, budget=budget)
    for _ in range(3):
        await chat(client, max_tokens=5)
    with pytest.warns(BudgetWarning, match="No per-token catalog price for q/unknown"):
        await resolve(client.chat.completions.create(model="q/unknown", messages=MESSAGES))
    assert sent(gw).count("GET /v1/models/p/m") == 1 and sent(gw).count("GET /v1/models/q/unknown") == 1
    # the unknown model's reply has no price either: what it held (0) is charged
    assert budget.spent == Decimal("0.006")


async def test_with_options_keeps_or_replaces_the_budget_and_a_tracker_adds_its_own(make_client: Any) -> None:
    gw = Gateway()
    gw.reply("/v1/chat/completions", ok(PRICED))
    outer, own = Budget(max_usd="1"), Budget(max_usd="1")
    client = make_client(gw, budget=outer)
    assert client.with_options(timeout=5).config.budget is outer
    other = client.with_options(budget=own)
    await chat(other, max_tokens=1)
    assert (outer.spent, own.spent) == (0, Decimal("0.002"))
    tracked = Budget(max_usd="0.003")
    async with tracking(client, budget=tracked, lookup=False) as usage:
        await chat(client, max_tokens=1)
        with pytest.raises(BudgetExceededError) as caught:
            await chat(client, max_tokens=1000)
        assert caught.value.budget is tracked
    assert (outer.spent, tracked.spent) == (Decimal("0.002"), Decimal("0.002"))
    assert len(usage.records) == 1
    await chat(client, max_tokens=1000)  # outside the tracker: only the client's budget applies
    assert (outer.spent, tracked.spent) == (Decimal("0.004"), Decimal("0.002"))


def test_one_budget_shared_by_threads_admits_exactly_what_fits() -> None:
    gw = Gateway()
    gw.reply("/v1/chat/completions", ok(PRICED))
    # each call holds 7e-6 + 1000 * 2e-6 = 0.002007 and is charged 0.002: 5 fit in 0.01035 at any moment
    budget = Budget(max_usd="0.01035")
    start = threading.Barrier(8)
    client = MeshAPI(base_url="http://gateway.test", token="rsk_unit_test_token",
                     httpx_client=httpx.Client(transport=httpx.MockTransport(gw)), budget=budget)  # fmt: skip
    outcomes: List[str] = []

    def call() -> None:
        start.wait(5)
        try:
            client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=1000)
            outcomes.append("ok")
        except BudgetExceededError:
            outcomes.append("refused")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: call(), range(8)))
    assert sorted(outcomes) == ["ok"] * 5 + ["refused"] * 3
    assert budget.spent == Decimal("0.010") and budget.reserved == 0
    assert sent(gw).count("POST /v1/chat/completions") == 5
    client.close()


async def test_one_budget_shared_by_tasks_admits_exactly_what_fits() -> None:
    gw = Gateway()
    gw.reply("/v1/chat/completions", ok(PRICED))
    budget = Budget(max_usd="0.01035")  # five worst cases of 0.002007
    client = AsyncMeshAPI(base_url="http://gateway.test", token="rsk_unit_test_token", budget=budget,
                          async_httpx_client=httpx.AsyncClient(transport=httpx.MockTransport(gw)))  # fmt: skip
    calls = [
        client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=1000) for _ in range(8)
    ]
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    assert (
        sorted(type(o).__name__ for o in outcomes)
        == ["BudgetExceededError"] * 3 + ["ChatCompletionResponse"] * 5
    )
    assert budget.spent == Decimal("0.010") and budget.reserved == 0
    await client.close()


def test_budget_arguments_are_checked() -> None:
    for bad in (1.5, True, "abc", "-1", "inf", None):
        with pytest.raises(ConfigurationError):
            Budget(max_usd=bad)
    with pytest.raises(ConfigurationError, match='on_exceed must be "raise" or "warn"'):
        Budget(max_usd=1, on_exceed="stop")
    with pytest.raises(ConfigurationError, match=r"budget must be a meshapi\.Budget"):
        MeshAPI(base_url="http://gateway.test", token="rsk_unit_test_token", budget=5)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match=r"budget must be a meshapi\.Budget"):
        AsyncMeshAPI(base_url="http://gateway.test", token="rsk_unit_test_token").track_usage(budget=5)  # type: ignore[arg-type]
    assert (
        repr(Budget(max_usd="2.50"))
        == "Budget(max_usd=Decimal('2.50'), on_exceed='raise', spent=Decimal('0'))"
    )


async def test_a_batch_is_checked_at_the_sum_of_its_lines_and_keeps_it_as_spent(make_client: Any) -> None:
    gw = Gateway()
    gw.reply("/v1/batches", ok({"id": "batch_1", "object": "batch", "status": "validating"}))
    lines = [
        {"custom_id": str(n), "body": {"model": MODEL, "messages": MESSAGES, "max_tokens": 100}}
        for n in range(2)
    ]
    short = Budget(max_usd=2 * worst(100) - Decimal("0.000001"))
    with pytest.raises(BudgetExceededError) as caught:
        await resolve(make_client(gw, budget=short).batches.create(requests=lines))
    assert sent(gw) == ["GET /v1/models/p/m"] and caught.value.estimate == 2 * worst(100)
    budget = Budget(max_usd=2 * worst(100))
    created = await resolve(make_client(gw, budget=budget).batches.create(requests=lines))
    assert created.id == "batch_1" and sent(gw)[-1] == "POST /v1/batches"
    assert (budget.spent, budget.reserved) == (2 * worst(100), Decimal(0))  # billed when it finishes


def test_worst_case_of_each_endpoint() -> None:
    prices = {"a/m": (Decimal(1), Decimal(2)), "b/m": (Decimal(3), None)}
    chat_body = {"model": "a/m", "messages": MESSAGES}
    assert worst_case("/v1/chat/completions", chat_body, prices) == (worst(DEFAULT_MAX_TOKENS), [])
    compare = {"models": ["a/m", "b/m", "a/m"], "messages": MESSAGES, "max_tokens": 3}
    assert worst_case("/v1/chat/compare", compare, prices) == (worst(3), ["b/m"])  # b/m: no completion price
    embed = {"model": "b/m", "input": ["two words", "three more words"]}
    assert request_prompt_tokens(embed) == 5
    assert worst_case("/v1/embeddings", embed, prices) == (Decimal(15) / 1_000_000, [])
    assert worst_case("/v1/responses", {"model": "a/m", "input": "hi", "max_output_tokens": 7}, prices) == (
        Decimal(1 + 14) / 1_000_000, [])  # fmt: skip
    assert worst_case("/v1/chat/completions", "not a dict", prices) == (Decimal(0), [])
    batch = {"requests": [
        {"custom_id": "1", "method": "POST", "url": "/v1/chat/completions", "body": chat_body},
        {"custom_id": "2", "body": {"model": "a/m", "messages": MESSAGES, "max_tokens": 3}},
        {"custom_id": "3", "body": {"model": "c/m", "messages": MESSAGES}},
        {"custom_id": "4"},  # no body: nothing to run
    ]}  # fmt: skip
    assert models_of(batch) == ["a/m", "c/m"]
    assert worst_case("/v1/batches", batch, prices) == (worst(DEFAULT_MAX_TOKENS) + worst(3), ["c/m"])
