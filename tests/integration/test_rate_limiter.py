"""``meshapi.RateLimiter`` against the local gateway over real sockets: an adaptive limiter starts from the
gateway's published RPM and halves it on a 429, and one limiter is shared by a thread's client, an
asyncio client and a trio client."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Iterator, List

import pytest

import meshapi
from tests.integration.test_core import MESSAGES, MODEL

TOKEN = "rsk_limiter_token"
FAST = {"retry_initial_delay": 0.0, "retry_max_delay": 0.0}
CHAT = "/v1/chat/completions"


@pytest.fixture(scope="module")
def limited_gateway() -> Iterator[Any]:
    from meshapi_gateway import serve

    with serve(tokens=[TOKEN], rpm=3000) as gw:
        yield gw


@pytest.fixture(autouse=True)
def _fresh(limited_gateway: Any) -> Iterator[None]:
    yield
    limited_gateway.faults.clear()


def test_adaptive_starts_from_the_gateway_rpm_and_halves_on_a_429(limited_gateway: Any) -> None:
    limiter = meshapi.RateLimiter(adaptive=True)
    limited_gateway.faults.add(CHAT, status=429, retry_after="0", times=1)
    with meshapi.MeshAPI(base_url=limited_gateway.base_url, token=TOKEN, limiter=limiter, **FAST) as client:
        reply = client.chat.completions.create(model=MODEL, messages=MESSAGES)
        assert reply.choices[0].message.content
        # 3000/min published; the 429 halved it, the retried success gave back a tenth
        assert limiter.rpm == pytest.approx(3000 * 0.6)
        assert limiter.running == 0 and limiter.waiting == 0


def test_one_limiter_shared_by_threads_asyncio_and_trio(limited_gateway: Any) -> None:
    trio = pytest.importorskip("trio")
    limited_gateway.requests.clear()
    limiter = meshapi.RateLimiter(rpm=3000, max_concurrency=2)
    peak: List[int] = []
    options = {"base_url": limited_gateway.base_url, "token": TOKEN, "limiter": limiter, **FAST}

    def watch(view: Any) -> None:  # on_request: runs once the attempt holds its grant
        peak.append(limiter.running)

    options["on_request"] = watch
    answers: List[str] = []

    def in_thread() -> None:
        with meshapi.MeshAPI(**options) as client:
            for _ in range(3):
                answers.append(client.chat.completions.create(model=MODEL, messages=MESSAGES).id)

    async def with_asyncio() -> None:
        async with meshapi.AsyncMeshAPI(**options) as client:
            replies = await asyncio.gather(
                *(client.chat.completions.create(model=MODEL, messages=MESSAGES) for _ in range(3))
            )
            answers.extend(r.id for r in replies)

    async def with_trio() -> None:
        async with meshapi.AsyncMeshAPI(**options) as client:

            async def one() -> None:
                answers.append((await client.chat.completions.create(model=MODEL, messages=MESSAGES)).id)

            async with trio.open_nursery() as nursery:
                for _ in range(3):
                    nursery.start_soon(one)

    thread = threading.Thread(target=in_thread)
    thread.start()
    asyncio.run(with_asyncio())
    trio.run(with_trio)
    thread.join(30)
    assert len(answers) == 9 and limiter.running == 0 and limiter.waiting == 0
    assert len(peak) == 9 and max(peak) <= 2 and min(peak) >= 1  # never more than max_concurrency in flight
    assert len(limited_gateway.requests.filter(path=CHAT)) == 9


def _questions(count: int) -> List[Any]:
    return [
        {"model": MODEL, "messages": [{"role": "user", "content": f"Question {n}"}]} for n in range(count)
    ]


def test_map_costs_equal_the_gateway_usage_events(limited_gateway: Any) -> None:
    limiter = meshapi.RateLimiter(rpm=3000, max_concurrency=3)
    with meshapi.MeshAPI(base_url=limited_gateway.base_url, token=TOKEN, limiter=limiter, **FAST) as client:
        billed = client.chat.completions.map(_questions(5), concurrency=4, response_cache=False)
        single = [client.chat.completions.create(**q).choices[0].message.content for q in _questions(5)]
        cached = client.chat.completions.map(_questions(5), concurrency=4)  # the answers just stored
        assert [r.completion.choices[0].message.content for r in billed] == single  # input order
        assert [r.completion.choices[0].message.content for r in cached] == single
        looked_up = client.costs.lookup([r.request_id for r in billed + cached if r.request_id])
    costs = [c.cost_usd for c in looked_up.costs]
    assert costs == [r.cost_usd for r in billed + cached] and not any(c.estimated for c in looked_up.costs)
    assert all(c is not None and c > 0 for c in costs[:5]) and costs[5:] == [0] * 5  # hits are not billed
    assert limiter.running == 0


def test_map_under_trio_keeps_order_and_stops_at_the_first_error(limited_gateway: Any) -> None:
    trio = pytest.importorskip("trio")
    requests = _questions(4)
    requests[1] = {**requests[1], "model": "nobody/no-such-model"}
    outcome: List[Any] = []

    async def main() -> None:
        async with meshapi.AsyncMeshAPI(base_url=limited_gateway.base_url, token=TOKEN, **FAST) as client:
            kept = await client.chat.completions.map(requests, concurrency=2, return_exceptions=True)
            outcome.append([type(r).__name__ for r in kept])
            with pytest.raises(meshapi.NotFoundError):
                await client.chat.completions.map(requests, concurrency=1)

    limited_gateway.requests.clear()
    trio.run(main)
    assert outcome == [["MapResult", "ModelNotFoundError", "MapResult", "MapResult"]]
    models = [r.json["model"] for r in limited_gateway.requests.filter(path=CHAT)]
    assert models[4:] == [MODEL, "nobody/no-such-model"]  # concurrency 1: nothing after the error
