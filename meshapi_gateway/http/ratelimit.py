"""Per-key request rate limits: the RPM/RPD counters, their 429, and what crosses a threshold.

Why a module of its own: the limits are read by the middleware that enforces them, by
``GET /v1/usage/rate-limits`` that reports them, by ``/_admin/limits`` that replaces them, and by
anything that reacts when a caller nears them (:meth:`RateLimiter.watch`), so the counting rules live
here once.

Rules (docs/protocol.md §1.9, §V2.4): fixed windows per caller, the UTC minute (RPM) and the UTC day
(RPD); a request past a limit gets ``429 rate_limit_exceeded`` naming the limit, with ``Retry-After``
(seconds to the window's end, at least 1), ``retry_after_seconds`` in the body and the
``X-RateLimit-Limit`` / ``X-RateLimit-Remaining`` / ``X-RateLimit-Reset`` headers of the limit that was
hit. A refused request is not counted. The documented defaults (:data:`DEFAULT_RPM`,
:data:`DEFAULT_RPD`) are what ``meshapi gateway`` enforces unless told otherwise; ``serve()`` and the
pytest fixtures count without limits unless given some (:func:`parse_rate_limits`).

Memory is bounded: per caller one ``(window, count)`` pair per metric and the thresholds already reported
in the current windows; callers are the owners of the configured tokens.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Set, Tuple

from ..errors import ApiError

__all__ = [
    "DEFAULT_RPD",
    "DEFAULT_RPM",
    "RateLimiter",
    "RateLimits",
    "ThresholdCrossed",
    "parse_rate_limits",
]

#: The documented limits of a key that sets none (docs/protocol.md §V2.4).
DEFAULT_RPM = 100
DEFAULT_RPD = 10_000

_MINUTE, _DAY = 60, 86400
_log = logging.getLogger("meshapi_gateway")
_SPEC = re.compile(r"\s*(\d+)\s*(?:/\s*(\d+)\s*)?")


@dataclass(frozen=True)
class RateLimits:
    """Requests per minute and per day of each caller (``None``: that metric is not limited);
    ``is_default``: these are the documented defaults, not limits someone chose."""

    rpm: Optional[int] = None
    rpd: Optional[int] = None
    is_default: bool = False

    @classmethod
    def documented(cls) -> RateLimits:
        return cls(DEFAULT_RPM, DEFAULT_RPD, is_default=True)


def _count(value: Any, name: str) -> Optional[int]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"rate limit {name} must be a whole number of at least 1 or None, got {value!r}")
    return value


def parse_rate_limits(value: Any) -> RateLimits:
    """Rate limits from any form the settings take; ``ValueError`` when it is none of them:

    ``None`` or ``False`` (no limits), ``True`` (the documented 100/min and 10,000/day),
    ``"RPM"`` or ``"RPM/DAY"`` (e.g. ``"100/10000"``), a mapping ``{"rpm": 10, "rpd": None}``, or a
    :class:`RateLimits`.
    """
    if isinstance(value, RateLimits):
        return value
    if value is None or value is False:
        return RateLimits()
    if value is True:
        return RateLimits.documented()
    if isinstance(value, str):
        match = _SPEC.fullmatch(value)
        if match is None:
            raise ValueError(f"rate limits must look like RPM or RPM/DAY (e.g. 100/10000), got {value!r}")
        rpm = _count(int(match.group(1)), "rpm")
        rpd = _count(int(match.group(2)), "rpd") if match.group(2) is not None else None
        return RateLimits(rpm, rpd)
    if isinstance(value, Mapping):
        unknown = set(value) - {"rpm", "rpd"}
        if unknown:
            raise ValueError(f"unknown rate-limit fields: {', '.join(sorted(map(str, unknown)))}")
        return RateLimits(_count(value.get("rpm"), "rpm"), _count(value.get("rpd"), "rpd"))
    raise ValueError(f"rate limits must be None, a bool, 'RPM[/DAY]' or a mapping, got {value!r}")


@dataclass(frozen=True)
class ThresholdCrossed:
    """A caller's count reached ``threshold_pct`` percent of a limit in the current window."""

    caller: str
    metric: str  # "rpm" | "rpd"
    threshold_pct: float
    current: int
    limit: int
    resets_in_seconds: int


Listener = Callable[[ThresholdCrossed], None]


def _resets_in(now: float, length: int) -> int:
    return max(1, int((int(now // length) + 1) * length - now + 0.999))


class RateLimiter:
    """Fixed-window RPM/RPD counters per caller (the owner of the bearer token, one to one with it)."""

    def __init__(
        self, rpm: Optional[int] = None, rpd: Optional[int] = None, *, is_default: bool = False
    ) -> None:
        self.limits = RateLimits(_count(rpm, "rpm"), _count(rpd, "rpd"), is_default)
        self._lock = threading.Lock()
        self._counts: Dict[Tuple[str, str], Tuple[int, int]] = {}  # (caller, metric) -> (window, count)
        self._told: Dict[
            Tuple[str, str], Tuple[int, Set[Tuple[int, float]]]
        ] = {}  # thresholds reported per window
        self._listeners: List[Tuple[Tuple[float, ...], Listener]] = []

    @property
    def rpm(self) -> Optional[int]:
        return self.limits.rpm

    @property
    def rpd(self) -> Optional[int]:
        return self.limits.rpd

    def configure(self, limits: RateLimits) -> None:
        """New limits, counting from zero; listeners stay."""
        with self._lock:
            self.limits = limits
            self._counts.clear()
            self._told.clear()

    def watch(self, thresholds_pct: Sequence[float], listener: Listener) -> Callable[[], None]:
        """Call ``listener`` once per caller, metric, window and threshold when a counted request brings
        the count to at least that percentage of the limit (e.g. ``(50, 80, 95)``). It runs on the
        request's thread (the event loop's) after the count, outside the limiter's lock, so it must
        not block; an exception it raises is logged, and the request goes on. Returns a function that
        stops the calls."""
        steps = tuple(sorted(float(t) for t in thresholds_pct))
        if not steps or any(not 0 < t <= 100 for t in steps):
            raise ValueError(
                f"thresholds must be percentages above 0 and at most 100, got {thresholds_pct!r}"
            )
        entry = (steps, listener)
        with self._lock:
            self._listeners.append(entry)

        def stop() -> None:
            with self._lock:
                if entry in self._listeners:
                    self._listeners.remove(entry)

        return stop

    def _current(self, caller: str, metric: str, window: int) -> int:
        counted, count = self._counts.get((caller, metric), (window, 0))
        return count if counted == window else 0

    def hit(self, caller: str, now: Optional[float] = None) -> None:
        """Count one request; raise the 429 ``ApiError`` (and count nothing) when a limit is used up."""
        now = time.time() if now is None else now
        crossed: List[Tuple[ThresholdCrossed, Listener]] = []
        with self._lock:
            metrics = (("rpm", self.limits.rpm, _MINUTE), ("rpd", self.limits.rpd, _DAY))
            windows = {name: int(now // length) for name, _, length in metrics}
            for name, limit, length in metrics:
                if limit is not None and self._current(caller, name, windows[name]) >= limit:
                    unit = "min" if name == "rpm" else "day"
                    raise _limited(
                        f"{name.upper()} limit of {limit} req/{unit} exceeded.", limit, now, length
                    )
            for name, limit, length in metrics:
                count = self._current(caller, name, windows[name]) + 1
                self._counts[(caller, name)] = (windows[name], count)
                if limit is not None and self._listeners:
                    crossed += self._crossings(
                        caller, name, windows[name], count, limit, _resets_in(now, length)
                    )
        for event, listener in crossed:
            try:
                listener(event)
            except Exception:  # a listener's bug must not turn this request into a 500
                _log.exception("rate-limit threshold listener failed")

    def _crossings(
        self, caller: str, metric: str, window: int, count: int, limit: int, resets_in: int
    ) -> List[Tuple[ThresholdCrossed, Listener]]:
        empty: Set[Tuple[int, float]] = set()
        told_window, told = self._told.get((caller, metric), (window, empty))
        if told_window != window:
            told = set()
        pct = count * 100.0 / limit
        out = []
        for steps, listener in self._listeners:
            for step in steps:
                if pct >= step and (id(listener), step) not in told:
                    told.add((id(listener), step))
                    out.append((ThresholdCrossed(caller, metric, step, count, limit, resets_in), listener))
        self._told[(caller, metric)] = (window, told)
        return out

    def counters(self, caller: str, now: float) -> Tuple[int, int]:
        """Requests counted in the current UTC minute and UTC day (what ``hit`` compares to the limits)."""
        with self._lock:
            return (
                self._current(caller, "rpm", int(now // _MINUTE)),
                self._current(caller, "rpd", int(now // _DAY)),
            )

    def report(self, caller: str, now: float) -> Dict[str, Dict[str, Any]]:
        """The ``rpm`` and ``rpd`` metrics of ``GET /v1/usage/rate-limits`` for ``caller``."""
        minute, day = self.counters(caller, now)
        limits = self.limits
        return {
            "rpm": metric(minute, limits.rpm, _resets_in(now, _MINUTE), limits.is_default),
            "rpd": metric(day, limits.rpd, _resets_in(now, _DAY), limits.is_default),
        }

    def reset(self) -> None:
        """Forget every counter (as if no request had been made yet)."""
        with self._lock:
            self._counts.clear()
            self._told.clear()


def metric(current: int, limit: Optional[int], resets_in: int, is_default: bool = False) -> Dict[str, Any]:
    """One metric of the rate-limits answer; a metric without a limit has ``limit`` and ``pct`` null and
    counts as the default."""
    pct = None if not limit else round(min(100.0, current * 100.0 / limit), 2)
    return {
        "current": current,
        "limit": limit,
        "pct": pct,
        "resets_in_seconds": resets_in,
        "is_default_limit": limit is None or is_default,
    }


def _limited(message: str, limit: int, now: float, length: int) -> ApiError:
    wait = _resets_in(now, length)
    headers = {
        "retry-after": str(wait),
        "x-ratelimit-limit": str(limit),
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": str(wait),
    }
    return ApiError(429, "rate_limit_exceeded", message, headers=headers, retry_after_seconds=wait)
