"""Every timeout rule of an HTTP call, in one place. Pure code.

A call's time limits come from three places: the client's ``timeout`` / ``total_timeout`` (``MeshAPIConfig``),
a method's own ``timeout=`` / ``total_timeout=`` keywords (``RequestOptions``), and the default below.
``timeout`` bounds each phase of one attempt (connect, each read, each write, the wait for a pooled
connection: httpx's ``Timeout``); ``total_timeout`` bounds the whole call, retries and waits included.
The rules, each stated once:

* defaults: ``timeout`` is :data:`DEFAULT_TIMEOUT` seconds; no ``total_timeout`` unless one is given;
* validation: a positive finite number of seconds or an ``httpx.Timeout`` (``validate_timeout``);
  ``total_timeout`` a number only (``validate_total_timeout``);
* a number ``n`` means ``httpx.Timeout(n)`` (``httpx_timeout``); a call's own value wins over the
  client's (``call_timeout``, ``call_deadline``);
* each attempt gets at most what is left of the deadline in every phase (``attempt_timeouts``), and
  an attempt is not started, nor a retry waited for, when the deadline would pass (``deadline_left``,
  ``wait_fits``); running out is ``APITimeoutError`` with ``error_code="total_timeout"``
  (``deadline_error``);
* a body is read within the deadline (checked between reads), and a stream must deliver its first
  event (a ``data:`` line) before it (``before_first_event``);
* the longest gap a stream may leave between events (from the headers on) is ``stream_idle_timeout``
  when the call or the client sets one, else the read ``timeout``: comments and blank keep-alive lines
  do not count as events, so a server that sends only ``: ping`` cannot hold a stream, and a read that
  waited that long for any byte is such a gap too (``EventGap``; running out is :class:`EventGapTimeout`,
  a read timeout, which a stream raises as ``StreamIdleTimeoutError`` naming the setting);
* ``stream_idle_timeout`` replaces the read ``timeout`` of a stream's requests (waiting for the headers
  included: ``stream_timeout``), so a slow first token is bounded by it alone, longer or shorter.

``meshapi._transport`` applies them (``base`` to requests, ``deadline`` to bodies and streams).
"""

from __future__ import annotations

import math
import re
from typing import Any, Dict, Optional, Union

import httpx

from .._errors import APITimeoutError, InvalidParamsError

__all__ = [
    "DEFAULT_TIMEOUT",
    "EventGap",
    "EventGapTimeout",
    "FirstEventTimeout",
    "TimeoutTypes",
    "attempt_timeouts",
    "before_first_event",
    "call_deadline",
    "call_timeout",
    "deadline_error",
    "deadline_left",
    "httpx_timeout",
    "stream_timeout",
    "validate_timeout",
    "validate_stream_idle_timeout",
    "validate_total_timeout",
    "wait_fits",
]

#: Seconds each phase of an attempt may take when neither the client nor the call says otherwise.
DEFAULT_TIMEOUT = 60.0

TimeoutTypes = Union[float, int, httpx.Timeout]


def validate_timeout(value: object, *, name: str = "timeout") -> Union[float, httpx.Timeout]:
    """A positive, finite number of seconds or an ``httpx.Timeout``; ``InvalidParamsError`` otherwise."""
    if isinstance(value, httpx.Timeout):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidParamsError(f"{name} must be a number of seconds or an httpx.Timeout, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise InvalidParamsError(f"{name} must be a positive number of seconds, got {value!r}")
    return float(value)


def validate_total_timeout(value: object) -> float:
    """``total_timeout``: a positive, finite number of seconds (not an ``httpx.Timeout``)."""
    checked = validate_timeout(value, name="total_timeout")
    if isinstance(checked, httpx.Timeout):
        raise InvalidParamsError("total_timeout must be a number of seconds")
    return checked


def validate_stream_idle_timeout(value: object) -> float:
    """``stream_idle_timeout``: a positive, finite number of seconds (not an ``httpx.Timeout``)."""
    checked = validate_timeout(value, name="stream_idle_timeout")
    if isinstance(checked, httpx.Timeout):
        raise InvalidParamsError("stream_idle_timeout must be a number of seconds")
    return checked


def stream_timeout(timeout: httpx.Timeout, idle: Optional[float]) -> httpx.Timeout:
    """The per-phase timeout of a stream's request: its read phase is ``idle`` when one is set."""
    if idle is None:
        return timeout
    return httpx.Timeout(connect=timeout.connect, read=idle, write=timeout.write, pool=timeout.pool)


def httpx_timeout(value: Union[float, httpx.Timeout]) -> httpx.Timeout:
    """A validated ``timeout`` as httpx's per-phase ``Timeout`` (a number applies to every phase)."""
    return value if isinstance(value, httpx.Timeout) else httpx.Timeout(value)


def call_timeout(own: Optional[Union[float, httpx.Timeout]], client: httpx.Timeout) -> httpx.Timeout:
    """The per-phase timeout of one call: its own ``timeout=`` when given, else the client's."""
    return client if own is None else httpx_timeout(own)


def call_deadline(own: Optional[float], client: Optional[float], now: float) -> Optional[float]:
    """The ``now``-clock time one call must end by (its own ``total_timeout=`` over the client's)."""
    total = own if own is not None else client
    return None if total is None else now + total


def deadline_left(deadline: Optional[float], now: float) -> Optional[float]:
    """Seconds left before ``deadline`` (``None`` without one; never negative)."""
    return None if deadline is None else max(0.0, deadline - now)


def wait_fits(delay: float, deadline: Optional[float], now: float) -> bool:
    """Whether a retry's wait of ``delay`` seconds still ends before the deadline."""
    return deadline is None or now + delay < deadline


def attempt_timeouts(phases: Optional[Dict[str, Any]], left: float) -> Dict[str, Any]:
    """httpx's ``timeout`` request extension for an attempt with ``left`` seconds of the deadline.

    ``phases`` is the request's extension (``connect`` / ``read`` / ``write`` / ``pool``, ``None``
    for no limit): each phase gets the smaller of its own limit and what is left.
    """
    bounded = {k: (left if v is None else min(v, left)) for k, v in (phases or {}).items()}
    return bounded or {"connect": left, "read": left, "write": left, "pool": left}


def before_first_event(chunk: bytes) -> bool:
    """Whether a stream is still waiting for its first event after ``chunk`` (comments, keep-alives)."""
    return b"data:" not in chunk


class FirstEventTimeout(httpx.ReadTimeout):
    """A stream's first event did not arrive before the call's ``total_timeout`` ran out."""


class EventGapTimeout(httpx.ReadTimeout):
    """No event within the longest gap allowed (``limit`` seconds of the setting ``name``: the read
    timeout or ``stream_idle_timeout``), only comments or keep-alives, or no byte at all."""

    def __init__(self, message: str, limit: float = 0.0, name: str = "read timeout") -> None:
        super().__init__(message)
        self.limit = limit
        self.name = name


# a line break followed by the first byte of a line that is neither a comment nor blank
_EVENT_LINE = re.compile(rb"[\r\n][^:\r\n]")
_START, _COMMENT, _FIELD = 0, 1, 2  # where the SSE line being read is


class EventGap:
    """The rule "at most ``limit`` seconds between events", fed a stream's chunks as they arrive.

    Any byte of a line other than a comment (``:...``) or a blank line counts as event progress (so a
    large event arriving slowly does not time out); :meth:`feed` raises :class:`EventGapTimeout` when
    a chunk without such a byte arrives more than ``limit`` seconds after the last one that had one
    (or after the stream opened), and :meth:`silent` says whether a read that timed out waited that
    long. ``name`` is the setting the limit comes from, for the error. Pure: the caller passes ``now``.
    """

    __slots__ = ("_last", "_line", "limit", "name")

    def __init__(self, limit: float, now: float, name: str = "read timeout") -> None:
        self.limit = limit
        self.name = name
        self._last = now
        self._line = _START

    def feed(self, chunk: bytes, now: float) -> None:
        if self._carries_event(chunk):
            self._last = now
        elif now - self._last > self.limit:
            raise EventGapTimeout(
                f"no event arrived within the {self.limit:g} s {self.name} (only comments or keep-alives)",
                self.limit,
                self.name,
            )

    def silent(self, now: float) -> Optional[EventGapTimeout]:
        """The error for a read that timed out at ``now``, when it made the gap reach ``limit`` (else
        ``None``: a shorter bound ran out, e.g. what was left of ``total_timeout``)."""
        if now - self._last < self.limit - 0.001:
            return None
        return EventGapTimeout(
            f"no data arrived within the {self.limit:g} s {self.name}", self.limit, self.name
        )

    def _carries_event(self, chunk: bytes) -> bool:
        if not chunk:
            return False
        first, line = chunk[:1], self._line
        if line == _START:  # the chunk starts a line: a field unless a comment or a blank line
            found = first not in (b":", b"\r", b"\n")
        else:  # the chunk goes on with a line: more of a field, unless that line ends here
            found = line == _FIELD and first not in (b"\r", b"\n")
        found = found or _EVENT_LINE.search(chunk) is not None
        end = max(chunk.rfind(b"\n"), chunk.rfind(b"\r"))
        if end >= 0:
            tail = chunk[end + 1 : end + 2]
            self._line = _START if not tail else (_COMMENT if tail == b":" else _FIELD)
        elif line == _START:
            self._line = _COMMENT if first == b":" else _FIELD
        return found


def deadline_error() -> APITimeoutError:
    """What a call that ran out of its ``total_timeout`` raises."""
    return APITimeoutError("The call did not finish within its total_timeout.", error_code="total_timeout")
