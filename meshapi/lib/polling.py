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
from typing import Any, Callable, Optional

from .._errors import APITimeoutError, InvalidParamsError, MeshAPIError

__all__ = ["Deadline", "ProcessingFailedError", "WaitTimeoutError", "check_wait_args"]


class WaitTimeoutError(APITimeoutError):
    """A wait helper's deadline passed before the object reached a terminal state.

    ``last`` is the last object fetched (``None`` when not even one fetch completed) and
    ``resource_id`` its id; the object itself may still finish later: call the wait again or ``get()``.
    """

    last: Any = None
    resource_id: str = ""

    def __init__(self, message: str, *, last: Any = None, resource_id: str = "", **kwargs: Any) -> None:
        kwargs.setdefault("error_code", "wait_timeout")
        super().__init__(message, **kwargs)
        self.last = last
        self.resource_id = resource_id


class ProcessingFailedError(MeshAPIError):
    """The object being waited for reached a failed state (e.g. a RAG file whose embedding failed).

    ``error_code`` is the server's code for the failure (``last_error_code`` of a file) when known,
    ``processing_failed`` otherwise; ``last`` is the final object and ``resource_id`` its id.
    """

    last: Any = None
    resource_id: str = ""

    def __init__(self, message: str, *, last: Any = None, resource_id: str = "", **kwargs: Any) -> None:
        kwargs.setdefault("status", 0)
        kwargs.setdefault("error_code", "processing_failed")
        kwargs.setdefault("request_id", "")
        super().__init__(message, **kwargs)
        self.last = last
        self.resource_id = resource_id


def check_wait_args(timeout: object, poll_interval: object) -> None:
    """``timeout`` must be a positive finite number of seconds, ``poll_interval`` a non-negative one."""
    for name, value, minimum_ok in (("timeout", timeout, False), ("poll_interval", poll_interval, True)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise InvalidParamsError(f"{name} must be a number of seconds, got {value!r}")
        if value < 0 or (value == 0 and not minimum_ok):
            raise InvalidParamsError(
                f"{name} must be {'>= 0' if minimum_ok else '> 0'} seconds, got {value!r}"
            )


class Deadline:
    """When a wait must give up, and how long the next sleep may be."""

    def __init__(
        self, timeout: float, poll_interval: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._clock = clock
        self._end = clock() + float(timeout)
        self.timeout = float(timeout)
        self.poll_interval = float(poll_interval)

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
        return min(self.poll_interval, remaining)
