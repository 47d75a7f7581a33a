"""Waiting for server-side work (a RAG file being embedded, a batch running): the errors and the clock.

The resource methods ``rag.wait_until_ready()`` and ``batches.wait()`` poll a ``GET`` until the object
reaches a terminal state. Two outcomes are errors, both ``MeshAPIError`` subclasses that carry the last
object seen (``.last``) and its id (``.resource_id``):

* ``WaitTimeoutError`` (an ``APITimeoutError``): the deadline passed first;
* ``ProcessingFailedError``: the object reached a failed state (``error_code`` is the server's
  ``last_error_code`` when it sent one).

``Deadline`` is the pure bookkeeping both twins share; the sleeping itself is the transport's
``_sleep`` (``time.sleep`` / ``asyncio.sleep``), so tests can replace it.
"""

from __future__ import annotations

import math
import time
from typing import Callable, Optional

from .._errors import InvalidParamsError, ProcessingFailedError, WaitTimeoutError

__all__ = ["Deadline", "ProcessingFailedError", "WaitTimeoutError", "check_wait_args"]


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
