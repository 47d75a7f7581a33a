"""When to retry, and how long to wait: pure functions, table-tested, no sleeping here.

* Retried: HTTP 429, 502, 503, 504, and transport failures (connection refused or reset, timeouts,
  a peer that closed without answering). 500 is not retried: the gateway uses it for failures that
  must not start a second paid job.
* The wait: ``Retry-After`` (seconds or an HTTP date) or ``retry-after-ms`` when the gateway sent one
  (or ``retry_after_seconds`` in the error body), used as a floor that jitter only ever lengthens;
  otherwise exponential backoff from ``initial_delay`` capped at ``max_delay``, with +/- ``jitter``.
* A hint longer than ``max_retry_after`` is not waited out: the error is raised at once so the caller
  can decide (it carries ``retry_after_seconds``). Negative, non-finite or unparseable hints are ignored.
"""

from __future__ import annotations

import email.utils
import math
import random
import time
from dataclasses import dataclass
from typing import Callable, Mapping, Optional

import httpx

__all__ = [
    "RETRYABLE_STATUSES",
    "RetryPolicy",
    "compute_delay",
    "is_retryable_exception",
    "is_retryable_status",
    "parse_retry_after",
    "validate_max_retries",
]

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
MAX_RETRIES_LIMIT = 100


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 3
    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0
    jitter: float = 0.2


def validate_max_retries(value: object) -> int:
    """``value`` as a retry count, or ``ValueError`` saying what is accepted."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"max_retries must be an integer from 0 to {MAX_RETRIES_LIMIT}, got {value!r}")
    if value < 0 or value > MAX_RETRIES_LIMIT:
        raise ValueError(f"max_retries must be from 0 to {MAX_RETRIES_LIMIT}, got {value}")
    return value


def is_retryable_status(status: int) -> bool:
    return status in RETRYABLE_STATUSES


def is_retryable_exception(exc: BaseException) -> bool:
    """Transport failures worth another attempt (the request may not have reached the gateway)."""
    return isinstance(exc, (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError))


def _finite_non_negative(value: float) -> Optional[float]:
    if math.isnan(value) or math.isinf(value) or value < 0:
        return None
    return value


def parse_retry_after(headers: Mapping[str, str], *, now: Optional[float] = None) -> Optional[float]:
    """Seconds the gateway asked us to wait, from ``retry-after-ms`` or ``retry-after``; else ``None``.

    ``retry-after`` may be seconds (integer or decimal) or an HTTP date; a date in the past means 0.
    """
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            seconds = _finite_non_negative(float(ms) / 1000.0)
        except ValueError:
            seconds = None
        if seconds is not None:
            return seconds
    value = headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    try:
        return _finite_non_negative(float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def compute_delay(
    retries_done: int,
    retry_after: Optional[float],
    policy: RetryPolicy,
    rand: Callable[[], float] = random.random,
) -> Optional[float]:
    """Seconds to wait before retry number ``retries_done + 1``; ``None`` means do not retry.

    ``rand`` returns a float in [0, 1) (injectable for tests).
    """
    if retries_done >= policy.max_retries:
        return None
    if retry_after is not None:
        if retry_after > policy.max_retry_after:
            return None
        # the hint is a floor: jitter only adds, and never beyond the cap
        return min(retry_after * (1.0 + policy.jitter * rand()), max(retry_after, policy.max_retry_after))
    backoff = min(policy.initial_delay * (2.0**retries_done), policy.max_delay)
    return max(0.0, backoff * (1.0 + policy.jitter * (2.0 * rand() - 1.0)))
