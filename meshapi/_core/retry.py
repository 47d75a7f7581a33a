"""When to retry, and how long to wait: a pure retry state, table-tested, no sleeping here.

* Retried: HTTP 429, 502, 503, 504, and transport failures (connection refused or reset, connect and
  pool timeouts, a peer that closed without answering). 500 is not retried: the gateway uses it for
  failures that must not start a second paid job. A server's ``x-should-retry: true|false`` overrides
  the status rule either way.
* A read timeout means the request was sent and the answer did not come in time: a GET is re-sent,
  a POST only when ``retry_read_timeouts`` is set (a long reasoning call must not be billed twice).
* The wait: the server's hint when there is one (``retry-after-ms``, then ``Retry-After`` in seconds or
  as an HTTP date, then ``retry_after_seconds`` in the error body; all read by ``retry_after_hint``, the
  only parser, which ``MeshAPIError.retry_after_seconds`` uses too), as a floor that jitter only ever
  lengthens; otherwise exponential backoff from ``initial_delay`` capped at ``max_delay``, +/- ``jitter``.
* A hint longer than ``max_retry_after`` is not waited out: the error is raised at once so the caller
  can decide. Negative, non-finite, huge or unparseable hints never raise; they are ignored.
* An in-band error frame that is a stream's first event (nothing reached the caller yet) is judged like
  the status its code stands for (:data:`FRAME_CODE_STATUS`: overloaded, upstream and provider errors,
  rate limits, capacity, timeouts); any other code is not retried.
* With a deadline (``total_timeout``), a wait that would end past it gives up instead (the rule is
  ``meshapi._core.timeouts.wait_fits``).
* The knobs (``retry_initial_delay``, ``retry_max_delay``, ``retry_max_after``, ``RetryPolicy``'s
  ``backoff_*_ms``) are finite numbers from 0 to :data:`MAX_WAIT` seconds (``check_wait``, at
  construction); whatever a schedule holds, :func:`compute_delay` never returns more than
  ``max(max_delay, max_retry_after)`` nor more than :data:`MAX_WAIT`, and never raises.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass
from typing import Any, Callable, FrozenSet, Mapping, Optional

import httpx

from .._errors import ConfigurationError
from .retry_after import parse_retry_after, retry_after_hint
from .timeouts import deadline_left, wait_fits

__all__ = [
    "FRAME_CODE_STATUS",
    "MAX_WAIT",
    "RETRYABLE_STATUSES",
    "RetrySchedule",
    "RetryState",
    "compute_delay",
    "frame_status",
    "is_retryable_exception",
    "check_wait",
    "is_retryable_status",
    "parse_retry_after",
    "retry_after_hint",
    "validate_max_retries",
]

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
MAX_RETRIES_LIMIT = 100

#: In-band error codes (``docs/protocol.md §2.4``, §2.6) that mean what a retryable HTTP status means, with
#: that status: a stream whose first event is such a frame is retried (and falls back) like that status.
FRAME_CODE_STATUS = {
    "rate_limit_exceeded": 429,
    "upstream_rate_limit_error": 429,
    "upstream_error": 502,
    "provider_error": 502,
    "internal_provider_error": 502,
    "bad_response": 502,
    "provider_overloaded": 503,
    "upstream_overload": 503,
    "overloaded": 503,
    "capacity_exceeded": 503,
    "provider_not_available": 503,
    "service_unavailable": 503,
    "gateway_timeout": 504,
    "provider_timeout": 504,
}


def frame_status(code: str) -> int:
    """The HTTP status an in-band error ``code`` stands for (:data:`FRAME_CODE_STATUS`), ``0`` for others."""
    return FRAME_CODE_STATUS.get(code, 0)


#: The longest any retry wait may be, in seconds (one hour): the bound of every retry timing knob.
MAX_WAIT = 3600.0
_MAX_EXPONENT = 64  # 2**64 times any knob is past MAX_WAIT; larger exponents would only risk OverflowError


@dataclass(frozen=True)
class RetrySchedule:
    """The numbers the retry state decides by (internal; the public settings are ``meshapi.RetryPolicy``,
    turned into a schedule by ``meshapi._resilience.schedule_of``)."""

    max_retries: int = 3
    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0
    jitter: float = 0.2
    retry_read_timeouts: bool = False
    #: statuses worth another attempt (``meshapi.RetryPolicy.retry_on_status``)
    statuses: FrozenSet[int] = RETRYABLE_STATUSES
    #: ``False``: server hints are ignored, the backoff alone decides
    respect_retry_after: bool = True
    #: ``True``: only failures before the request was sent are retried (connect, pool)
    unsent_only: bool = False


def validate_max_retries(value: object) -> int:
    """``value`` as a retry count, or ``ValueError`` saying what is accepted."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"max_retries must be an integer from 0 to {MAX_RETRIES_LIMIT}, got {value!r}")
    if value < 0 or value > MAX_RETRIES_LIMIT:
        raise ValueError(f"max_retries must be from 0 to {MAX_RETRIES_LIMIT}, got {value}")
    return value


def check_wait(value: object, name: str, *, unit: str = "seconds", scale: float = 1.0) -> float:
    """A retry timing knob: a finite number from 0 to :data:`MAX_WAIT` seconds, else ``ConfigurationError``.

    ``scale`` is the knob's unit in seconds (``0.001`` for the ``*_ms`` fields of ``RetryPolicy``);
    the value is returned as given (not scaled).
    """
    limit = MAX_WAIT / scale
    shown = f"{limit:.0f}"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigurationError(f"{name} must be a number of {unit}, got {value!r}")
    if (isinstance(value, float) and not math.isfinite(value)) or not 0 <= value <= limit:
        raise ConfigurationError(f"{name} must be a finite number of {unit} from 0 to {shown}, got {value!r}")
    return value


def is_retryable_status(status: int) -> bool:
    return status in RETRYABLE_STATUSES


UNSENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def is_retryable_exception(exc: BaseException) -> bool:
    """Transport failures worth another attempt (the request may not have reached the gateway)."""
    return isinstance(exc, (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError))


def compute_delay(
    retries_done: int,
    retry_after: Optional[float],
    schedule: RetrySchedule,
    rand: Callable[[], float] = random.random,
) -> Optional[float]:
    """Seconds to wait before retry number ``retries_done + 1``; ``None`` means do not retry.

    ``rand`` returns a float in [0, 1) (injectable for tests).
    """
    if retries_done >= schedule.max_retries:
        return None
    if retry_after is not None and not math.isfinite(retry_after):
        retry_after = None  # not a usable hint (the parser never yields one; a direct caller might)
    if retry_after is not None:
        if retry_after > schedule.max_retry_after:
            return None
        # the hint is a floor: jitter only adds, and never beyond the cap
        delay = min(
            retry_after * (1.0 + schedule.jitter * rand()), max(retry_after, schedule.max_retry_after)
        )
    else:
        exponent = min(max(retries_done, 0), _MAX_EXPONENT)
        try:
            backoff = min(float(schedule.initial_delay) * (2.0**exponent), float(schedule.max_delay))
        except OverflowError:  # an int knob beyond any float
            backoff = MAX_WAIT
        delay = max(0.0, backoff * (1.0 + schedule.jitter * (2.0 * rand() - 1.0)))
    # a schedule built without the knob checks (a test, a direct caller) is still bounded
    return delay if 0.0 <= delay <= MAX_WAIT else (MAX_WAIT if delay > 0.0 else 0.0)


class RetryState:
    """The retry decisions of one call: ask after every failed attempt, get a delay or ``None``.

    ``retries`` counts the retries granted so far (the value of ``X-MeshAPI-Retry-Count`` on the next
    attempt, and the raw response's ``retries_taken``). ``reason``, ``status`` and ``delay`` describe
    the last decision, for logs, hooks and events. ``deadline`` is a ``clock()`` time (``total_timeout``).
    """

    __slots__ = (
        "clock",
        "deadline",
        "delay",
        "method",
        "rand",
        "reason",
        "retries",
        "schedule",
        "span",
        "status",
    )

    def __init__(
        self,
        schedule: RetrySchedule,
        *,
        method: str = "GET",
        deadline: Optional[float] = None,
        clock: Callable[[], float] = time.monotonic,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.schedule = schedule
        self.method = method
        self.deadline = deadline
        self.clock = clock
        self.rand = rand
        self.retries = 0
        self.reason = ""
        self.status = 0
        self.delay: Optional[float] = None
        self.span: Any = None  # the call's OpenTelemetry span, when tracing (retry events go on it)

    def remaining(self) -> Optional[float]:
        """Seconds left before the deadline (``None`` without one; never negative)."""
        return None if self.deadline is None else deadline_left(self.deadline, self.clock())

    def _grant(self, delay: Optional[float]) -> Optional[float]:
        if (
            delay is not None
            and self.deadline is not None
            and not wait_fits(delay, self.deadline, self.clock())
        ):
            delay = None
        self.delay = delay
        if delay is not None:
            self.retries += 1
        return delay

    def after_exception(self, exc: BaseException) -> Optional[float]:
        """The wait before re-sending after a transport failure, or ``None`` to give up."""
        self.reason, self.status = "network-error", 0
        if not is_retryable_exception(exc):
            return self._grant(None)
        if self.schedule.unsent_only and not isinstance(exc, UNSENT_ERRORS):
            return self._grant(None)  # it may have reached the server: retried only when asked
        if (
            isinstance(exc, httpx.ReadTimeout)
            and self.method not in ("GET", "HEAD", "OPTIONS")
            and not self.schedule.retry_read_timeouts
        ):
            return self._grant(None)  # sent, and the server may still be working on it
        return self._grant(compute_delay(self.retries, None, self.schedule, self.rand))

    def after_frame(
        self, code: str, headers: Optional[Mapping[str, str]] = None, body: Any = None
    ) -> Optional[float]:
        """The wait before re-sending after an in-band error frame with ``code`` came as a stream's first
        event (``headers`` of the 200, ``body`` the frame), or ``None`` to give up."""
        status = frame_status(code)
        if not status:
            self.reason, self.status = "stream-error", 0
            return self._grant(None)
        delay = self.after_response(status, headers, body)
        self.reason = "stream-error"
        return delay

    def after_response(
        self, status: int, headers: Optional[Mapping[str, str]] = None, body: Any = None
    ) -> Optional[float]:
        """The wait before re-sending after an HTTP error ``status``, or ``None`` to give up."""
        self.reason, self.status = "status", status
        should = headers.get("x-should-retry") if headers else None
        if should is not None:
            should = should.strip().lower()
        if should == "false" or (should != "true" and status not in self.schedule.statuses):
            return self._grant(None)
        hint = retry_after_hint(headers, body) if self.schedule.respect_retry_after else None
        return self._grant(compute_delay(self.retries, hint, self.schedule, self.rand))
