"""``meshapi.RateLimiter``: the pure core on a fake clock (buckets, FIFO, max_queued, tpm accounting,
adaptive slow-down and seeding), then the thin waits in threads, asyncio and trio (arrival order kept,
a cancelled waiter leaving the queue, a wake-up crossing from a thread into an event loop)."""

from __future__ import annotations

import asyncio
import math
import os
import subprocess
import sys
import threading
from typing import Any, Callable, List

import pytest

import meshapi
from meshapi._core.rate_limit import LimiterCore, estimate_tokens, tokens_used
from tests._poll import async_wait_until, wait_until


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def core(clock: Clock, **kwargs: Any) -> LimiterCore:
    options: dict = {"rpm": None, "tpm": None, "max_concurrency": None, "max_queued": None, "adaptive": False}
    options.update(kwargs)
    return LimiterCore(clock=clock, **options)


def nothing() -> None:
    pass


# --- the pure core ----------------------------------------------------------------------------------------
def test_rpm_bucket_holds_one_minute_then_refills_evenly() -> None:
    clock = Clock()
    limiter = core(clock, rpm=60)
    granted = [limiter.enter(1, nothing)[1] for _ in range(60)]
    assert granted == [None] * 60  # a full minute's worth at once
    ticket, delay = limiter.enter(1, nothing)
    assert delay == pytest.approx(1.0)  # 60 a minute: one a second
    clock.now += 0.5
    assert limiter.poll(ticket, nothing) == pytest.approx(0.5)
    clock.now += 0.5
    assert limiter.poll(ticket, nothing) is None and ticket.waited == pytest.approx(1.0)


def test_the_head_is_served_first_even_when_a_smaller_request_behind_it_would_fit() -> None:
    clock = Clock()
    limiter = core(clock, tpm=600)  # 10 tokens a second
    first, _ = limiter.enter(590, nothing)
    big, big_delay = limiter.enter(100, nothing)  # 10 left: waits 9 s
    small, small_delay = limiter.enter(5, nothing)  # would fit now, but waits behind the big one
    assert first.granted and big_delay == pytest.approx(9.0) and small_delay == math.inf
    assert limiter.poll(small, nothing) == math.inf
    clock.now += 9.0
    assert limiter.poll(big, nothing) is None
    assert limiter.poll(small, nothing) == pytest.approx(0.5)  # now the head: the bucket is empty
    clock.now += 0.5
    assert limiter.poll(small, nothing) is None
    assert [t.position for t in (first, big, small)] == [0, 0, 1]


def test_a_grant_wakes_the_next_caller_and_a_release_frees_a_slot() -> None:
    clock = Clock()
    limiter = core(clock, max_concurrency=1)
    calls: List[str] = []
    held, _ = limiter.enter(1, nothing)
    second, delay = limiter.enter(1, lambda: calls.append("second"))
    third, _ = limiter.enter(1, lambda: calls.append("third"))
    assert delay == math.inf and limiter.waiting == 2 and limiter.running == 1
    limiter.release(held)
    assert calls == ["second"]  # only the head is woken
    assert limiter.poll(second, lambda: calls.append("second")) is None
    assert calls == ["second", "third"]  # the grant made the third the head: it looks for itself
    assert limiter.poll(third, nothing) == math.inf  # the slot is taken again
    limiter.release(second)
    limiter.release(second)  # idempotent
    assert limiter.poll(third, nothing) is None and limiter.running == 1


def test_max_queued_refuses_at_once_and_counts_only_waiting_callers() -> None:
    clock = Clock()
    limiter = core(clock, max_concurrency=1, max_queued=1)
    _held, delay = limiter.enter(1, nothing)  # granted: not queued
    assert delay is None
    waiting, _ = limiter.enter(1, nothing)
    with pytest.raises(meshapi.RateLimiterFullError) as caught:
        limiter.enter(1, nothing)
    assert isinstance(caught.value, meshapi.MeshAPIError)
    assert caught.value.error_code == "rate_limiter_full" and "1 callers waiting" in str(caught.value)
    limiter.cancel(waiting)
    assert limiter.waiting == 0
    limiter.enter(1, nothing)  # room again


def test_max_queued_zero_means_never_wait() -> None:
    limiter = core(Clock(), max_concurrency=1, max_queued=0)
    limiter.enter(1, nothing)
    with pytest.raises(meshapi.RateLimiterFullError):
        limiter.enter(1, nothing)


def test_tpm_charges_the_estimate_and_corrects_with_the_reported_usage() -> None:
    clock = Clock()
    limiter = core(clock, tpm=1000)
    ticket, _ = limiter.enter(300, nothing)
    assert limiter.tpm is not None and limiter.tpm.level == 700
    limiter.release(ticket, used=120)
    assert limiter.tpm.level == 880
    again, _ = limiter.enter(2000, nothing)  # bigger than the bucket: granted when it is full
    assert again.granted is False
    clock.now += 7.2  # 120 tokens refilled at 1000/60 a second: full
    assert limiter.poll(again, nothing) is None and limiter.tpm.level == -1000


def test_adaptive_halves_on_429_and_recovers_a_tenth_per_success() -> None:
    clock = Clock()
    limiter = core(clock, rpm=600, tpm=60000, adaptive=True)
    rates = []
    for status in (429, 429, 200, 200, 500, 200):
        ticket, _ = limiter.enter(1, nothing)
        clock.now += 60  # every bucket full again
        limiter.poll(ticket, nothing)
        limiter.release(ticket, status=status)
        assert limiter.rpm is not None and limiter.tpm is not None
        rates.append((round(limiter.rpm.capacity, 6), round(limiter.tpm.capacity, 6)))
    assert rates == [(300, 30000), (150, 15000), (210, 21000), (270, 27000), (270, 27000), (330, 33000)]
    ticket, _ = limiter.enter(1, nothing)
    limiter.release(ticket, status=429)
    assert limiter.rpm.level <= 0.0  # a 429 empties the request bucket


def test_adaptive_never_goes_below_a_64th() -> None:
    limiter = core(Clock(), rpm=64, adaptive=True)
    for _ in range(10):
        ticket, _ = limiter.enter(1, nothing)
        assert ticket.granted
        limiter.release(ticket, status=429)
        limiter.rpm.level = limiter.rpm.capacity  # type: ignore[union-attr]
    assert limiter.rpm is not None and limiter.rpm.capacity == 1.0


def test_seed_takes_the_lower_published_limit_and_what_is_left_of_the_minute() -> None:
    clock = Clock()
    limiter = core(clock, rpm=100, adaptive=True)
    assert limiter.claim_seed() is True and limiter.claim_seed() is False
    payload = {
        "as_of": "2026-12-07T10:00:00Z",
        "key": {
            "rpm": {"current": 12, "limit": 40, "is_default_limit": False},
            "tpm": {"current": 0, "limit": 1000, "is_default_limit": True},  # shown, not enforced
        },
        "member": None,
    }
    limiter.seed(payload)
    assert limiter.rpm is not None and (limiter.rpm.capacity, limiter.rpm.level) == (40.0, 28.0)
    assert limiter.tpm is None
    higher = core(clock, rpm=10, adaptive=True)
    higher.seed(payload)  # the configured rpm is lower: it stays
    assert higher.rpm is not None and (higher.rpm.capacity, higher.rpm.level) == (10.0, 10.0)
    unlimited = core(clock, adaptive=True)
    unlimited.seed({"key": {"rpm": {"current": 0, "limit": None, "is_default_limit": True}}})
    assert unlimited.rpm is None
    assert core(clock).claim_seed() is False  # not adaptive: nothing to fetch


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_seed_ignores_a_published_figure_that_is_not_finite(bad: float) -> None:
    # json.loads reads NaN and Infinity: a NaN limit made every wait NaN seconds, a spin never granted
    clock = Clock()
    unlimited = core(clock, adaptive=True)
    unlimited.seed({"key": {"rpm": {"current": 0, "limit": bad}, "tpm": {"current": bad, "limit": 100}}})
    assert unlimited.rpm is None and unlimited.tpm is not None
    assert (unlimited.tpm.capacity, unlimited.tpm.level) == (100.0, 100.0)  # a non-finite current: none
    assert unlimited.enter(1, nothing)[1] is None
    limited = core(clock, rpm=60, adaptive=True)
    limited.seed({"key": {"rpm": {"current": bad, "limit": bad}}})
    assert limited.rpm is not None and (limited.rpm.capacity, limited.rpm.level) == (60.0, 60.0)


def test_a_grant_from_before_a_fork_released_in_the_child_frees_no_slot_of_the_child() -> None:
    # the forking thread may hold a grant (a stream it had open) and close it in the child: the child
    # started from nothing in flight, so that release must not free a slot one of its own grants holds
    clock = Clock()
    limiter = core(clock, max_concurrency=1)
    parents, _ = limiter.enter(1, nothing)
    limiter.after_fork()
    mine, delay = limiter.enter(1, nothing)
    assert delay is None and limiter.running == 1
    limiter.release(parents)
    assert limiter.running == 1 and parents.released
    _, delay = limiter.enter(1, nothing)
    assert delay == math.inf  # still one in flight: the next one waits
    limiter.release(mine)
    assert limiter.running == 0


def test_estimate_and_usage() -> None:
    messages = [{"role": "user", "content": "x" * 400}]
    import json

    assert estimate_tokens({"messages": messages, "max_tokens": 50}) == len(json.dumps(messages)) // 4 + 50
    assert estimate_tokens({"input": "abcdefgh"}) == 2
    assert estimate_tokens(None) == 1
    assert tokens_used({"usage": {"total_tokens": 14}}) == 14
    assert tokens_used({"usage": {"input_tokens": 3, "output_tokens": 4}}) == 7
    assert tokens_used({"choices": []}) is None


@pytest.mark.parametrize(
    "kwargs",
    [{"rpm": 0}, {"rpm": -1}, {"tpm": "10"}, {"max_concurrency": 1.5}, {"max_queued": -1}, {"adaptive": 1}],
)
def test_bad_settings_are_configuration_errors(kwargs: Any) -> None:
    with pytest.raises(meshapi.ConfigurationError, match="RateLimiter"):
        meshapi.RateLimiter(**kwargs)


@pytest.mark.parametrize("tokens", [-5, 0, True, 1.5, float("nan"), "3"])
async def test_acquire_refuses_tokens_that_are_not_a_positive_int(tokens: Any) -> None:
    # a negative charge would fill the tpm bucket past its capacity for the callers behind
    limiter = meshapi.RateLimiter(tpm=100)
    with pytest.raises(meshapi.InvalidParamsError, match="tokens must be a positive int"):
        limiter.acquire(tokens)
    with pytest.raises(meshapi.InvalidParamsError, match="tokens must be a positive int"):
        await limiter.aacquire(tokens)
    assert (limiter.running, limiter.waiting, limiter.core.tpm.level) == (0, 0, 100)


def test_clients_take_and_keep_the_limiter() -> None:
    limiter = meshapi.RateLimiter(rpm=10)
    client = meshapi.MeshAPI(base_url="http://gateway.test", token="rsk_x", limiter=limiter)
    other = meshapi.AsyncMeshAPI(base_url="http://gateway.test", token="rsk_x", limiter=limiter)
    try:
        assert client.config.limiter is limiter and other.config.limiter is limiter
        assert client.with_options(timeout=3).config.limiter is limiter
        replaced = meshapi.RateLimiter(rpm=5)
        assert client.with_options(limiter=replaced).config.limiter is replaced
        assert client.with_options(limiter=None).config.limiter is None
        with pytest.raises(meshapi.ConfigurationError, match=r"limiter must be a meshapi\.RateLimiter"):
            meshapi.MeshAPI(base_url="http://gateway.test", token="rsk_x", limiter=object())
        assert repr(limiter) == (
            "RateLimiter(rpm=10, tpm=None, max_concurrency=None, max_queued=None, adaptive=False)"
        )
    finally:
        client.close()


# --- the waits: arrival order kept in threads, asyncio and trio ----------------------------------------------
N = 6


def test_threads_are_served_in_arrival_order() -> None:
    limiter = meshapi.RateLimiter(max_concurrency=1)
    held = limiter.acquire()
    order: List[int] = []

    def worker(i: int) -> None:
        ticket = limiter.acquire()
        order.append(i)
        limiter.release(ticket)

    threads = []
    for i in range(N):
        thread = threading.Thread(target=worker, args=(i,))
        thread.start()
        threads.append(thread)
        wait_until(lambda i=i: limiter.waiting == i + 1, what=f"thread {i} queued")
    limiter.release(held)
    for thread in threads:
        thread.join(5)
    assert order == list(range(N)) and limiter.running == 0 and limiter.waiting == 0


async def _tasks_in_order(spawn: Callable[[Any], None]) -> List[int]:
    limiter = meshapi.RateLimiter(max_concurrency=1)
    held = await limiter.aacquire()
    order: List[int] = []

    async def worker(i: int) -> None:
        ticket = await limiter.aacquire()
        order.append(i)
        limiter.release(ticket)

    for i in range(N):
        spawn(lambda i=i: worker(i))
        await async_wait_until(lambda i=i: limiter.waiting == i + 1, what=f"task {i} queued")
    limiter.release(held)
    await async_wait_until(lambda: len(order) == N, what="every task served")
    return order


async def test_asyncio_tasks_are_served_in_arrival_order() -> None:
    tasks: List[Any] = []
    order = await _tasks_in_order(lambda make: tasks.append(asyncio.ensure_future(make())))
    await asyncio.gather(*tasks)
    assert order == list(range(N))


def test_trio_tasks_are_served_in_arrival_order() -> None:
    trio = pytest.importorskip("trio")
    result: List[int] = []

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            result.extend(await _tasks_in_order(lambda make: nursery.start_soon(make)))

    trio.run(main)
    assert result == list(range(N))


async def test_a_cancelled_waiter_leaves_the_queue_and_the_next_moves_up() -> None:
    limiter = meshapi.RateLimiter(max_concurrency=1)
    held = await limiter.aacquire()
    first = asyncio.ensure_future(limiter.aacquire())
    await async_wait_until(lambda: limiter.waiting == 1)
    second = asyncio.ensure_future(limiter.aacquire())
    await async_wait_until(lambda: limiter.waiting == 2)
    first.cancel()
    await async_wait_until(lambda: limiter.waiting == 1, what="the cancelled waiter left")
    limiter.release(held)
    ticket = await asyncio.wait_for(second, 5)
    assert ticket.granted and limiter.running == 1 and first.cancelled()


def test_a_trio_waiter_cancelled_by_a_timeout_leaves_the_queue() -> None:
    trio = pytest.importorskip("trio")
    limiter = meshapi.RateLimiter(max_concurrency=1)

    async def main() -> None:
        held = await limiter.aacquire()
        with trio.move_on_after(0.05):
            await limiter.aacquire()
        assert limiter.waiting == 0
        limiter.release(held)
        limiter.release(await limiter.aacquire())

    trio.run(main)
    assert limiter.running == 0


async def test_a_release_in_another_thread_wakes_an_asyncio_waiter() -> None:
    limiter = meshapi.RateLimiter(max_concurrency=1)
    held = limiter.acquire()
    waiter = asyncio.ensure_future(limiter.aacquire())
    await async_wait_until(lambda: limiter.waiting == 1)
    threading.Thread(target=limiter.release, args=(held,)).start()
    ticket = await asyncio.wait_for(waiter, 5)  # woken through call_soon_threadsafe, not by polling
    assert ticket.granted and ticket.waited > 0


_FORK_CHILD = """
import os, sys
import meshapi
limiter = meshapi.RateLimiter(rpm=60, max_concurrency=1, max_queued=0)
held = limiter.acquire()
pid = os.fork()
if pid == 0:  # the child: the parent's grant is not in flight here, the limits are
    ticket = limiter.acquire()
    os._exit(0 if (limiter.running, limiter.rpm, int(limiter.core.rpm.level)) == (1, 60, 58) else 3)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else status >> 8)
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX only")
def test_a_forked_child_starts_with_nothing_in_flight() -> None:
    done = subprocess.run([sys.executable, "-c", _FORK_CHILD], timeout=60, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
