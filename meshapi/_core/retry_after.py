"""The SDK's only ``Retry-After`` parser: how long the server asked us to wait. Pure code.

Both the retry state (``meshapi._core.retry``, the delay slept) and the error fields
(``meshapi._core.error_body``, ``MeshAPIError.retry_after_seconds``) read the hint here, so the two can
never disagree. A module of its own because the error layer needs it and must not import the retry
state (which imports the timeout rules, which import the error classes).
"""

from __future__ import annotations

import email.utils
import math
import time
from typing import Any, Mapping, Optional

__all__ = ["parse_retry_after", "retry_after_hint"]

_MAX_HINT = 10.0**9  # about 31 years: anything longer is nonsense, treated as "no usable hint"


def _seconds(value: Any) -> Optional[float]:
    """A usable number of seconds from a header string or a JSON number, else ``None``."""
    if isinstance(value, bool):
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if math.isnan(seconds) or seconds < 0 or seconds > _MAX_HINT:
        return None
    return seconds


def _http_date(value: str, now: Optional[float]) -> Optional[float]:
    try:
        when = email.utils.parsedate_to_datetime(value)
        if when is None or when.tzinfo is None:
            return None
        stamp = when.timestamp()
    except Exception:  # garbage dates raise TypeError, ValueError, IndexError, OverflowError...
        return None
    current = time.time() if now is None else now
    return _seconds(max(0.0, stamp - current))


def retry_after_hint(
    headers: Optional[Mapping[str, str]], body: Any = None, *, now: Optional[float] = None
) -> Optional[float]:
    """Seconds the server asked us to wait, or ``None``. The SDK's only Retry-After parser.

    Order: ``retry-after-ms``, ``retry-after`` (seconds, integer or decimal, or an HTTP date; a date in
    the past means 0), then the error body's ``retry_after_seconds`` (``body`` is the parsed JSON body,
    envelope ``{"error": {...}}`` or flat). Never raises.
    """
    if headers:
        try:
            ms = headers.get("retry-after-ms")
            value = headers.get("retry-after")
        except Exception:
            ms = value = None
        if ms:
            seconds = _seconds(ms)
            if seconds is not None:
                return seconds / 1000.0
        if value and isinstance(value, str):
            value = value.strip()
            seconds = _seconds(value)
            if seconds is not None:
                return seconds
            if not value.replace(".", "", 1).lstrip("+-").isdigit():
                seconds = _http_date(value, now)
                if seconds is not None:
                    return seconds
    if isinstance(body, Mapping):
        error = body.get("error")
        hint = error.get("retry_after_seconds") if isinstance(error, Mapping) else None
        if hint is None:
            hint = body.get("retry_after_seconds")
        if hint is not None and not isinstance(hint, str):
            return _seconds(hint)
    return None


def parse_retry_after(headers: Mapping[str, str], *, now: Optional[float] = None) -> Optional[float]:
    """The header-only form of :func:`retry_after_hint` (kept for callers of 0.1.4-era code)."""
    return retry_after_hint(headers, None, now=now)
