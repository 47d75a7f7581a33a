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
