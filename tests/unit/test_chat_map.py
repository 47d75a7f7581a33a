"""``client.chat.completions.map()`` on ``httpx.MockTransport`` (sync and async): results in input order
whatever order they finish in, each with its catalog cost, progress, the first error stopping the run (or
kept at its index), requests checked before sending, and clean stops: no thread left, nothing more
started, running calls cancelled."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from decimal import Decimal
from typing import Any, Dict, List

import httpx
import pytest

import meshapi
from meshapi.lib.bulk import MapResult
from tests._poll import async_wait_until
from tests.conftest import resolve
from tests.unit.test_transport import COMPLETION

MODEL = "openai/gpt-4o-mini"
CHAT = "/v1/chat/completions"
PRICING = {"prompt_usd_per_1m": "1.50", "completion_usd_per_1m": "2.00"}


def request(n: int) -> Dict[str, Any]:
    return {"model": MODEL, "messages": [{"role": "user", "content": f"q{n}"}]}


def asked(request: httpx.Request) -> str:
    return str(json.loads(request.content)["messages"][0]["content"])


def reply(request: httpx.Request) -> httpx.Response:
    """An echo of the question, with usage: q<n> uses n prompt tokens and 2 completion tokens."""
    question = asked(request)
    body = {
        **COMPLETION,
        "model": MODEL,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": question}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": int(question[1:]), "completion_tokens": 2, "total_tokens": 0},
    }
    return httpx.Response(200, json=body, headers={"x-request-id": f"req_{question}"})


def catalog(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"id": MODEL, "name": "Mini", "is_free": False, "pricing": PRICING})


def gateway(seen: List[str], fail: str = "") -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path != CHAT:
            seen.append(request.url.path)
            return catalog(request)
        seen.append(asked(request))
        if asked(request) == fail:
            return httpx.Response(400, json={"error": {"code": "bad", "message": "no"}})
        return reply(request)

    return handler


def contents(results: List[Any]) -> List[str]:
    return [r.completion.choices[0].message.content for r in results]


async def test_results_come_in_input_order_with_costs_and_progress(make_client: Any) -> None:
    seen: List[str] = []
    client = make_client(gateway(seen))
    progress: List[Any] = []
    results = await resolve(
        client.chat.completions.map(
            [request(n) for n in range(1, 7)],
            concurrency=3,
            on_progress=lambda done, total: progress.append((done, total)),
        )
    )
    assert [type(r) for r in results] == [MapResult] * 6
    assert contents(results) == [f"q{n}" for n in range(1, 7)] and [r.index for r in results] == list(
        range(6)
    )
    # n prompt tokens at 1.50 / 1M plus 2 completion tokens at 2.00 / 1M
    assert [r.cost_usd for r in results] == [
        Decimal(n) * Decimal("1.50") / 1_000_000 + Decimal(4) / 1_000_000 for n in range(1, 7)
    ]
    assert [r.request_id for r in results] == [f"req_q{n}" for n in range(1, 7)]
    assert progress == [(n, 6) for n in range(1, 7)]
    assert seen.count("/v1/models/openai/gpt-4o-mini") == 1  # one price lookup per model


async def test_params_models_and_call_options_are_accepted(make_client: Any) -> None:
    headers: List[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        headers.append(request.headers.get("x-trace", ""))
        return reply(request) if request.url.path == CHAT else httpx.Response(404, json={})

    client = make_client(handler)
    params = meshapi.ChatCompletionParams(**request(3))  # type: ignore[arg-type]
    results = await resolve(
        client.chat.completions.map([params, request(4)], extra_headers={"x-trace": "bulk"})
    )
    assert contents(results) == ["q3", "q4"]
    assert [r.cost_usd for r in results] == [None, None]  # the model is not in the catalog: no price
    assert headers == ["bulk"] * 3


def test_threads_finishing_out_of_order_still_give_input_order() -> None:
    released = threading.Event()
    finished: List[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path != CHAT:
            return catalog(request)
        question = asked(request)
        if question == "q1":
            assert released.wait(5)  # the first request ends last
        response = reply(request)
        finished.append(question)
        if len(finished) == 3:
            released.set()
        return response

    with meshapi.MeshAPI(
        base_url="http://gateway.test",
        token="rsk_x",
        httpx_client=httpx.Client(transport=httpx.MockTransport(handler)),
    ) as client:
        results = client.chat.completions.map([request(n) for n in range(1, 5)], concurrency=4)
    assert finished[-1] == "q1" and contents(results) == ["q1", "q2", "q3", "q4"]
    assert not [t for t in threading.enumerate() if t.name.startswith("meshapi-map")]


async def test_tasks_finishing_out_of_order_still_give_input_order() -> None:
    released = asyncio.Event()
    finished: List[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path != CHAT:
            return catalog(request)
        question = asked(request)
        if question == "q1":
            await asyncio.wait_for(released.wait(), 5)
        finished.append(question)
        if len(finished) == 3:
            released.set()
        return reply(request)

    inner = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    async with meshapi.AsyncMeshAPI(
        base_url="http://gateway.test", token="rsk_x", async_httpx_client=inner
    ) as client:
        results = await client.chat.completions.map([request(n) for n in range(1, 5)], concurrency=4)
    await inner.aclose()
    assert finished[-1] == "q1" and contents(results) == ["q1", "q2", "q3", "q4"]


async def test_the_first_error_stops_the_run_and_is_raised(make_client: Any) -> None:
    seen: List[str] = []
    client = make_client(gateway(seen, fail="q3"), max_retries=0)
    progress: List[Any] = []
    with pytest.raises(meshapi.BadRequestError):
        await resolve(
            client.chat.completions.map(
                [request(n) for n in range(1, 7)], concurrency=1, on_progress=lambda *a: progress.append(a)
            )
        )
    assert seen == ["q1", "q2", "q3"]  # nothing started after the error, no price looked up
    assert progress == [(1, 6), (2, 6)]
    assert not [t for t in threading.enumerate() if t.name.startswith("meshapi-map")]


async def test_return_exceptions_keeps_each_error_at_its_index(make_client: Any) -> None:
    seen: List[str] = []
    client = make_client(gateway(seen, fail="q2"), max_retries=0)
    results = await resolve(
        client.chat.completions.map([request(n) for n in range(1, 5)], concurrency=2, return_exceptions=True)
    )
    assert [type(r).__name__ for r in results] == ["MapResult", "BadRequestError", "MapResult", "MapResult"]
    assert sorted(s for s in seen if s.startswith("q")) == ["q1", "q2", "q3", "q4"]
    assert results[2].index == 2 and results[2].cost_usd is not None


@pytest.mark.parametrize(
    ("requests", "kwargs", "message"),
    [
        ([{**request(1), "stream": True}], {}, "requests[0] asks for a stream"),
        ([request(1), "hello"], {}, "requests[1] must be a dict or a ChatCompletionParams, got str"),
        ("hello", {}, "requests must be a list of chat requests"),
        ([request(1)], {"concurrency": 0}, "concurrency must be a positive int, got 0"),
        ([request(1)], {"concurrency": 1025}, "concurrency must be at most 1024, got 1025"),
    ],
)
async def test_bad_input_is_refused_before_anything_is_sent(
    make_client: Any, requests: Any, kwargs: Any, message: str
) -> None:
    seen: List[str] = []
    client = make_client(gateway(seen))
    with pytest.raises(meshapi.InvalidParamsError, match=message.replace("[", r"\[").replace("]", r"\]")):
        await resolve(client.chat.completions.map(requests, **kwargs))
    assert seen == []


async def test_an_empty_list_sends_nothing(make_client: Any) -> None:
    seen: List[str] = []
    client = make_client(gateway(seen))
    assert await resolve(client.chat.completions.map([])) == [] and seen == []


async def test_cancelling_an_async_run_cancels_the_running_calls_and_starts_no_more() -> None:
    entered: List[str] = []
    cancelled: List[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        entered.append(asked(request))
        try:
            await asyncio.sleep(30)  # never answers: cancelled below
        except asyncio.CancelledError:
            cancelled.append(asked(request))
            raise
        return reply(request)

    inner = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    limiter = meshapi.RateLimiter(max_concurrency=10)
    async with meshapi.AsyncMeshAPI(
        base_url="http://gateway.test", token="rsk_x", async_httpx_client=inner, limiter=limiter
    ) as client:
        run = asyncio.ensure_future(
            client.chat.completions.map([request(n) for n in range(1, 7)], concurrency=2)
        )
        await async_wait_until(lambda: len(entered) == 2, what="two calls running")
        run.cancel()
        with pytest.raises(asyncio.CancelledError):
            await run
    await inner.aclose()
    assert entered == ["q1", "q2"] and sorted(cancelled) == ["q1", "q2"]
    assert limiter.running == 0 and limiter.waiting == 0  # the cancelled calls gave their grants back
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []


async def test_an_async_error_cancels_the_calls_still_running() -> None:
    cancelled: List[str] = []
    entered: List[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        question = asked(request)
        entered.append(question)
        if question == "q1":  # fails once the other two are running
            await async_wait_until(lambda: len(entered) == 3, what="three calls running")
            return httpx.Response(400, json={"error": {"code": "bad", "message": "no"}})
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.append(question)
            raise
        return reply(request)

    inner = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    async with meshapi.AsyncMeshAPI(
        base_url="http://gateway.test", token="rsk_x", async_httpx_client=inner
    ) as client:
        with pytest.raises(meshapi.BadRequestError):
            await client.chat.completions.map([request(n) for n in range(1, 5)], concurrency=3)
    await inner.aclose()
    assert sorted(cancelled) == ["q2", "q3"] and sorted(entered) == ["q1", "q2", "q3"]  # q4 never started


async def test_an_answer_from_the_response_cache_costs_nothing(make_client: Any) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path != CHAT:
            return catalog(request)
        answer = reply(request)
        if asked(request) == "q2":
            answer.headers["x-cache"] = "HIT"
        return answer

    client = make_client(handler)
    results = await resolve(client.chat.completions.map([request(1), request(2)]))
    assert [r.cost_usd for r in results] == [Decimal("0.0000055"), Decimal(0)]


def test_an_interrupt_in_a_sync_run_starts_nothing_more_and_leaves_no_thread() -> None:
    seen: List[str] = []

    def stop_at_two(done: int, total: int) -> None:
        if done == 2:
            raise KeyboardInterrupt  # what Ctrl-C raises in the calling thread

    inner = httpx.Client(transport=httpx.MockTransport(gateway(seen)))
    client = meshapi.MeshAPI(base_url="http://gateway.test", token="rsk_x", httpx_client=inner)
    with pytest.raises(KeyboardInterrupt):
        client.chat.completions.map([request(n) for n in range(1, 5)], concurrency=1, on_progress=stop_at_two)
    client.close()
    inner.close()
    assert seen == ["q1", "q2"]
    assert not [t for t in threading.enumerate() if t.name.startswith("meshapi-map")]


def test_an_interrupt_in_a_sync_run_does_not_wait_for_calls_queued_at_the_limiter() -> None:
    seen: List[str] = []

    def stop_at_one(done: int, total: int) -> None:
        raise KeyboardInterrupt  # Ctrl-C while the other calls wait their turn at the limiter

    limiter = meshapi.RateLimiter(rpm=1)  # one at once, then one a minute: the others wait 60 s, 120 s
    inner = httpx.Client(transport=httpx.MockTransport(gateway(seen)))
    client = meshapi.MeshAPI(
        base_url="http://gateway.test", token="rsk_x", httpx_client=inner, limiter=limiter
    )
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        client.chat.completions.map([request(n) for n in range(1, 4)], concurrency=3, on_progress=stop_at_one)
    assert time.monotonic() - started < 10  # not the minutes the queued calls would have waited
    client.close()
    inner.close()
    assert seen == ["q1"] and (limiter.waiting, limiter.running) == (0, 0)
    assert not [t for t in threading.enumerate() if t.name.startswith("meshapi-map")]


def test_a_failed_sync_run_does_not_wait_for_calls_queued_at_the_limiter() -> None:
    seen: List[str] = []
    limiter = meshapi.RateLimiter(rpm=1)
    inner = httpx.Client(transport=httpx.MockTransport(gateway(seen, fail="q1")))
    client = meshapi.MeshAPI(
        base_url="http://gateway.test", token="rsk_x", httpx_client=inner, limiter=limiter, max_retries=0
    )
    started = time.monotonic()
    with pytest.raises(meshapi.MeshAPIError):
        client.chat.completions.map([request(n) for n in range(1, 4)], concurrency=3)
    assert time.monotonic() - started < 10
    client.close()
    inner.close()
    assert seen == ["q1"] and (limiter.waiting, limiter.running) == (0, 0)
    # the limiter itself still serves callers outside a run: its next grant is a minute away, not refused
    assert limiter.core.enter(1, lambda: None)[1] == pytest.approx(60, abs=1)
