"""Waiting for server-side work (a RAG file being embedded, a batch running): the errors and the clock.

The resource methods ``rag.wait_until_ready()`` and ``batches.wait()`` poll a ``GET`` until the object
reaches a terminal state. Two outcomes are errors, both ``MeshAPIError`` subclasses that carry the last
object seen (``.last``) and its id (``.resource_id``):

* ``WaitTimeoutError`` (an ``APITimeoutError``): the deadline passed first;
* ``ProcessingFailedError``: the object reached a failed state (``error_code`` is the server's
  ``last_error_code`` when it sent one).

``Deadline`` is the pure bookkeeping; ``poll_until`` / ``async_poll_until`` are the one poll loop
(fetch, check, sleep or give up) that every resource's ``wait`` runs, sync and async. The sleeping
itself is the transport's ``_sleep`` (``time.sleep`` / ``asyncio.sleep``), passed in, so tests can
replace it.
"""

from __future__ import annotations

import math
import time
from typing import Awaitable, Callable, Optional, TypeVar

from .._errors import InvalidParamsError, ProcessingFailedError, WaitTimeoutError

__all__ = [
    "Deadline",
    "ProcessingFailedError",
    "WaitTimeoutError",
    "async_poll_until",
    "check_wait_args",
    "poll_until",
]

T = TypeVar("T")


def check_wait_args(timeout: object, poll_interval: object) -> None:
    """``timeout`` must be a positive finite number of seconds, ``poll_interval`` a non-negative one."""
    for name, value, minimum_ok in (("timeout", timeout, False), ("poll_interval", poll_interval, True)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise InvalidParamsError(f"{name} must be a number of seconds, got {value!r}")
        if value < 0 or (value == 0 and not minimum_ok):
            raise InvalidParamsError(
                f"{name} must be {'>= 0' if minimum_ok else '> 0'} seconds, got {value!r}"
            )


FIRST_POLL = 0.25


class Deadline:
    """When a wait must give up, and how long the next sleep may be."""

    def __init__(
        self, timeout: float, poll_interval: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._clock = clock
        self._end = clock() + float(timeout)
        self.timeout = float(timeout)
        self.poll_interval = float(poll_interval)
        # quick jobs should not wait a whole interval: polls start at 0.25 s and double up to it
        self._next = min(FIRST_POLL, self.poll_interval)

    @property
    def remaining(self) -> float:
        return max(0.0, self._end - self._clock())

    @property
    def expired(self) -> bool:
        return self._clock() >= self._end

    def next_sleep(self) -> Optional[float]:
        """Seconds to sleep before the next poll, or ``None`` when the deadline leaves no time for one."""
        remaining = self.remaining
        if remaining <= 0:
            return None
        step = self._next
        self._next = min(self._next * 2, self.poll_interval)
        return min(step, remaining)


def poll_until(
    fetch: Callable[[], T],
    done: Callable[[T], bool],
    deadline: Deadline,
    sleep: Callable[[float], None],
    timed_out: Callable[[T], Exception],
    on_poll: Optional[Callable[[T], None]] = None,
) -> T:
    """``fetch()`` until ``done(last)`` (which may raise, e.g. ``ProcessingFailedError``), calling
    ``on_poll(last)`` after each fetch and sleeping ``deadline.next_sleep()`` between; return the last
    object, or raise ``timed_out(last)`` when the deadline leaves no time for another poll."""
    while True:
        last = fetch()
        if on_poll is not None:
            on_poll(last)
        if done(last):
            return last
        delay = deadline.next_sleep()
        if delay is None:
            raise timed_out(last)
        sleep(delay)


async def async_poll_until(
    fetch: Callable[[], Awaitable[T]],
    done: Callable[[T], bool],
    deadline: Deadline,
    sleep: Callable[[float], Awaitable[None]],
    timed_out: Callable[[T], Exception],
    on_poll: Optional[Callable[[T], None]] = None,
) -> T:
    """``poll_until``'s twin: ``fetch()`` and ``sleep(delay)`` are awaited (``on_poll`` is not)."""
    while True:
        last = await fetch()
        if on_poll is not None:
            on_poll(last)
        if done(last):
            return last
        delay = deadline.next_sleep()
        if delay is None:
            raise timed_out(last)
        await sleep(delay)
