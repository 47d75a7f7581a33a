"""``meshapi.RateLimiter``: one client-side limit on requests, tokens and concurrency, shared by clients.

Pass the same limiter as ``limiter=`` to any number of ``MeshAPI`` / ``AsyncMeshAPI`` clients (their
``with_options()`` copies keep it): every attempt they send, retries included, first takes a grant here
(``meshapi._transport.limiting`` is the one place that asks). The decisions are the pure core's
(``meshapi._core.rate_limit``: token buckets, FIFO queue, token accounting, adaptive rate); this module
holds only the two thin waits: :meth:`RateLimiter.acquire` blocks a thread, :meth:`RateLimiter.aacquire`
awaits under asyncio or trio (anyio's event and timeout; the wake-up crosses threads and event loops
through ``call_soon_threadsafe`` / trio's ``run_sync_soon``). A waiter that is cancelled or interrupted
leaves the queue, so the callers behind it move up. In a forked child a limiter starts with nobody
waiting and nothing in flight (its limits kept): those were the parent's. A sync ``map()`` run that stops
(an error, Ctrl-C) abandons its calls still waiting here (:class:`Abandon`): threads cannot be cancelled,
so without it the run would wait for their turns (minutes at a low ``rpm``) before it raised.
"""

from __future__ import annotations

import math
import os
import threading
import time
import weakref
from contextvars import ContextVar
from typing import Any, Callable, Optional

from ._core.rate_limit import LimiterCore, Ticket
from ._errors import ConfigurationError, InvalidParamsError

__all__ = ["ABANDON", "Abandon", "RateLimiter", "WaitAbandoned"]

_cores: weakref.WeakSet[LimiterCore] = weakref.WeakSet()  # every live limiter's core, for a fork


def _after_fork_in_child() -> None:
    for core in list(_cores):
        core.after_fork()


if hasattr(os, "register_at_fork"):  # POSIX: a child never inherits a lock held by a parent's thread
    os.register_at_fork(after_in_child=_after_fork_in_child)


class WaitAbandoned(Exception):
    """Raised in a waiter whose run gave up (:class:`Abandon`); that run raises its own error instead."""


class Abandon:
    """A run's "stop waiting": set in :data:`ABANDON` for its calls; :meth:`fire` makes each of them that
    waits in :meth:`RateLimiter.acquire` (now or later) leave the queue and raise :class:`WaitAbandoned`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wakes: set[Callable[[], object]] = set()
        self.fired = False

    def watch(self, wake: Callable[[], object]) -> None:
        with self._lock:
            self._wakes.add(wake)
            fired = self.fired
        if fired:
            wake()

    def unwatch(self, wake: Callable[[], object]) -> None:
        with self._lock:
            self._wakes.discard(wake)

    def fire(self) -> None:
        with self._lock:
            self.fired = True
            wakes = list(self._wakes)
        for wake in wakes:
            wake()


#: The :class:`Abandon` of the run the current call belongs to (a sync ``map()``'s threads), if any.
ABANDON: ContextVar[Optional[Abandon]] = ContextVar("meshapi_limiter_abandon", default=None)


def _positive(name: str, value: Any, integer: bool) -> Any:
    if value is None:
        return None
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not value > 0 or value == math.inf:
        kind = "a positive int" if integer else "a positive number"
        raise ConfigurationError(f"RateLimiter {name} must be {kind} or None, got {value!r}")
    return value


class RateLimiter:
    """A client-side rate limit shared by every client (and thread, and task) it is passed to.

    ``rpm``: requests per minute; ``tpm``: tokens per minute (each request charged an estimate before it
    is sent, corrected by the reply's ``usage``); ``max_concurrency``: requests in flight at once (a
    stream holds its slot until it is closed); ``max_queued``: callers that may wait (one more raises
    ``meshapi.RateLimiterFullError`` at once). Waiting callers are served in arrival order.
    ``adaptive=True``: the first request fetches ``GET /v1/usage/rate-limits`` and starts from the lower
    limits and what is left of the current minute; a 429 halves the effective ``rpm`` / ``tpm`` (never
    below 1/64), each later success gives back a tenth. Every limit is optional; ``None`` is no limit.
    """

    def __init__(
        self,
        rpm: Optional[float] = None,
        tpm: Optional[float] = None,
        max_concurrency: Optional[int] = None,
        max_queued: Optional[int] = None,
        adaptive: bool = False,
    ) -> None:
        if max_queued is not None and (isinstance(max_queued, bool) or not isinstance(max_queued, int)):
            raise ConfigurationError(
                f"RateLimiter max_queued must be an int >= 0 or None, got {max_queued!r}"
            )
        if max_queued is not None and max_queued < 0:
            raise ConfigurationError(
                f"RateLimiter max_queued must be an int >= 0 or None, got {max_queued!r}"
            )
        if not isinstance(adaptive, bool):
            raise ConfigurationError(f"RateLimiter adaptive must be True or False, got {adaptive!r}")
        self._core = LimiterCore(
            _positive("rpm", rpm, False),
            _positive("tpm", tpm, False),
            _positive("max_concurrency", max_concurrency, True),
            max_queued,
            adaptive,
        )
        _cores.add(self._core)

    def __repr__(self) -> str:
        core = self._core
        return (
            f"RateLimiter(rpm={self.rpm!r}, tpm={self.tpm!r}, max_concurrency={core.max_concurrency!r}, "
            f"max_queued={core.max_queued!r}, adaptive={core.adaptive!r})"
        )

    @property
    def rpm(self) -> Optional[float]:
        """The requests per minute in force now (adaptive: after slow-downs and the published limit)."""
        bucket = self._core.rpm
        return None if bucket is None else bucket.capacity

    @property
    def tpm(self) -> Optional[float]:
        """The tokens per minute in force now."""
        bucket = self._core.tpm
        return None if bucket is None else bucket.capacity

    @property
    def adaptive(self) -> bool:
        return self._core.adaptive

    @property
    def waiting(self) -> int:
        """Callers waiting for a grant now."""
        return self._core.waiting

    @property
    def running(self) -> int:
        """Grants not yet released (requests in flight)."""
        return self._core.running

    @property
    def core(self) -> LimiterCore:
        """The shared pure state (``meshapi._core.rate_limit``)."""
        return self._core

    def acquire(self, tokens: int = 1, *, timeout: Optional[float] = None) -> Ticket:
        """Block until this caller (charged ``tokens``) may send; return its grant, to :meth:`release`.

        ``timeout``: seconds to wait at most (``None``: no bound); then the caller leaves the queue and
        ``TimeoutError`` is raised (a client's call: at its ``total_timeout``, as ``APITimeoutError``).
        Raises ``RateLimiterFullError`` at once when ``max_queued`` callers already wait,
        ``InvalidParamsError`` when ``tokens`` is not a positive int or ``timeout`` not seconds.
        """
        _check_tokens(tokens)
        deadline = _deadline(timeout)
        event = threading.Event()
        core = self._core
        abandon = ABANDON.get()
        ticket, delay = core.enter(tokens, event.set)
        try:
            if abandon is not None and delay is not None:
                abandon.watch(event.set)
            while delay is not None:
                event.wait(_bounded(delay, deadline))
                event.clear()
                if abandon is not None and abandon.fired:
                    raise WaitAbandoned("the run this call belongs to stopped; nothing was sent")
                delay = core.poll(ticket, event.set)
        except BaseException:
            core.cancel(ticket)
            raise
        finally:
            if abandon is not None:
                abandon.unwatch(event.set)
        return ticket

    async def aacquire(self, tokens: int = 1, *, timeout: Optional[float] = None) -> Ticket:
        """The async twin of :meth:`acquire` (asyncio or trio); a cancelled waiter leaves the queue."""
        import anyio  # httpx's own dependency: the same wait under asyncio and trio

        _check_tokens(tokens)
        deadline = _deadline(timeout)
        event = anyio.Event()
        core = self._core
        ticket, delay = core.enter(tokens, _wake_for(event.set))
        try:
            while delay is not None:
                with anyio.move_on_after(_bounded(delay, deadline)):
                    await event.wait()
                event = anyio.Event()
                delay = core.poll(ticket, _wake_for(event.set))
        except BaseException:
            core.cancel(ticket)
            raise
        return ticket

    def release(self, ticket: Ticket, *, used: Optional[int] = None, status: int = 0) -> None:
        """The granted request is over: ``used`` its reply's tokens, ``status`` its HTTP status (adaptive)."""
        self._core.release(ticket, used=used, status=status)


def _check_tokens(tokens: Any) -> None:
    """A charge is a positive int (a negative one would fill the tpm bucket past its capacity)."""
    if isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 1:
        raise InvalidParamsError(f"RateLimiter.acquire() tokens must be a positive int, got {tokens!r}")


def _deadline(timeout: Any) -> Optional[float]:
    """The ``time.monotonic()`` a wait of ``timeout`` seconds ends at (``None``: no end)."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 <= timeout < math.inf:
        raise InvalidParamsError(
            f"RateLimiter.acquire() timeout must be None or a number of seconds >= 0, got {timeout!r}"
        )
    return time.monotonic() + timeout


def _bounded(delay: float, deadline: Optional[float]) -> Optional[float]:
    """How long the next wait lasts: ``delay`` (``math.inf``: until woken), at most until ``deadline``;
    ``TimeoutError`` once the deadline has passed."""
    wait = None if delay == math.inf else delay
    if deadline is None:
        return wait
    left = deadline - time.monotonic()
    if left <= 0.0:
        raise TimeoutError("the rate limiter did not grant this caller a turn within its timeout")
    return left if wait is None else min(wait, left)


def _wake_for(set_event: Callable[[], object]) -> Callable[[], None]:
    """A callback that sets an anyio event of the running loop from any thread (or the loop itself)."""
    import asyncio

    loop = asyncio._get_running_loop()
    if loop is not None:

        def wake() -> None:
            try:
                loop.call_soon_threadsafe(set_event)
            except RuntimeError:  # that loop is closed: its waiter is gone
                pass

        return wake
    import trio  # no asyncio loop running in an async function: trio (through anyio)

    token = trio.lowlevel.current_trio_token()

    def trio_wake() -> None:
        try:
            token.run_sync_soon(set_event)
        except trio.RunFinishedError:
            pass

    return trio_wake
