"""The rate limiter's pure core: token buckets, the FIFO queue of waiting callers, token accounting.

``meshapi.RateLimiter`` (``meshapi/_rate_limiter.py``) is shared by threads, asyncio tasks and trio tasks at
once, so its decisions live here, under one ``threading.Lock``, with no sleeping and no event loop: a caller
asks :meth:`LimiterCore.enter` / :meth:`LimiterCore.poll` and is told either "granted" (``None``) or how long
to wait before asking again (``math.inf``: until woken). Whoever changes what the head of the queue waits for
(a grant, a release, a cancel) calls the head's ``wake`` callback; the sync and async acquire loops only wait.

Rules:

* ``rpm`` and ``tpm`` are token buckets holding one minute's worth (a full minute may be spent at once, then
  the rate refills evenly: ``rpm / 60`` requests a second).
* Callers are granted in arrival order: only the head of the queue may take a grant, so a small request
  never overtakes a large one (fairness is FIFO, not "whoever fits").
* ``max_concurrency`` bounds the grants not yet released; ``max_queued`` the callers waiting (one more
  raises ``RateLimiterFullError`` at once, before anything is sent).
* tpm: a request is charged its estimate (:func:`estimate_tokens`) when granted; :meth:`release` corrects
  the bucket by the tokens the reply says were used. A request larger than the whole bucket waits for a
  full bucket (it is never refused).
* adaptive: a 429 halves the effective rates (never below 1/64 of the configured ones) and empties the
  request bucket; each later successful answer gives back a tenth of the configured rate. :meth:`seed`
  starts the buckets from ``GET /v1/usage/rate-limits`` (docs/protocol.md §V2.4).
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import deque
from typing import Any, Callable, Deque, List, Mapping, Optional, Tuple

from .._errors import RateLimiterFullError

__all__ = ["Bucket", "LimiterCore", "Ticket", "estimate_tokens", "tokens_used"]

Wake = Callable[[], None]

MIN_FACTOR = 1 / 64  # adaptive: the slowest the limiter goes, as a share of the configured rates
RECOVERY_STEP = 0.1  # adaptive: what each successful answer gives back (a share of the configured rates)


def estimate_tokens(body: Any) -> int:
    """A request's tokens before sending: a quarter of the characters of its messages (or ``input``), plus
    ``max_tokens`` (``max_completion_tokens``, ``max_output_tokens``). Crude on purpose: one function,
    swapped when the SDK has a better estimate; :meth:`LimiterCore.release` corrects it with the real usage."""
    if not isinstance(body, Mapping):
        return 1
    text = body.get("messages", body.get("input", ""))
    chars = len(text) if isinstance(text, str) else len(json.dumps(text, default=str))
    output = body.get("max_tokens") or body.get("max_completion_tokens") or body.get("max_output_tokens")
    extra = output if isinstance(output, int) and not isinstance(output, bool) and output > 0 else 0
    return max(1, chars // 4 + extra)


def tokens_used(payload: Any) -> Optional[int]:
    """The tokens a reply says it used (``usage.total_tokens``, else input + output), or ``None``."""
    usage = payload.get("usage") if isinstance(payload, Mapping) else None
    if not isinstance(usage, Mapping):
        return None
    total = usage.get("total_tokens")
    if isinstance(total, int) and not isinstance(total, bool):
        return total
    parts = [usage.get(k) for k in ("prompt_tokens", "completion_tokens", "input_tokens", "output_tokens")]
    numbers = [p for p in parts if isinstance(p, int) and not isinstance(p, bool)]
    return sum(numbers) if numbers else None


class Bucket:
    """A token bucket holding ``per_minute`` at most, refilled at ``per_minute / 60`` a second (scaled by
    the adaptive factor). Its level may go below zero after a correction: later callers pay the debt."""

    __slots__ = ("capacity", "level", "per_minute", "rate", "stamp")

    def __init__(self, per_minute: float, now: float) -> None:
        self.per_minute = per_minute
        self.capacity = per_minute
        self.rate = per_minute / 60.0
        self.level = per_minute
        self.stamp = now

    def scale(self, factor: float) -> None:
        self.capacity = self.per_minute * factor
        self.rate = self.capacity / 60.0
        self.level = min(self.level, self.capacity)

    def refill(self, now: float) -> None:
        if now > self.stamp:
            self.level = min(self.capacity, self.level + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait_for(self, amount: float) -> float:
        """Seconds until ``amount`` (at most the whole bucket) is in the bucket; 0 when it is now."""
        need = min(amount, self.capacity)
        return 0.0 if self.level >= need else (need - self.level) / self.rate


class Ticket:
    """One caller's place: in the queue, then (granted) holding a concurrency slot and its charged tokens."""

    __slots__ = ("entered", "epoch", "granted", "position", "released", "tokens", "waited", "wake")

    def __init__(self, tokens: int, now: float, position: int) -> None:
        self.tokens = tokens
        self.entered = now
        self.position = position  # callers ahead of this one when it arrived
        self.waited = 0.0  # seconds from arrival to grant
        self.granted = False
        self.released = False
        self.wake: Optional[Wake] = None
        self.epoch = 0  # the core's forks when it was made: a grant of a parent process frees nothing


class LimiterCore:
    """The shared state of one ``RateLimiter`` (thread-safe; no I/O). ``clock`` is injectable for tests."""

    def __init__(
        self,
        rpm: Optional[float],
        tpm: Optional[float],
        max_concurrency: Optional[int],
        max_queued: Optional[int],
        adaptive: bool,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        now = clock()
        self.rpm = Bucket(rpm, now) if rpm else None
        self.tpm = Bucket(tpm, now) if tpm else None
        self.max_concurrency = max_concurrency
        self.max_queued = max_queued
        self.adaptive = adaptive
        self.factor = 1.0
        self.running = 0
        self.seed_claimed = not adaptive
        self._queue: Deque[Ticket] = deque()
        self._epoch = 0  # after_fork() counts up: tickets of an older epoch were the parent's

    @property
    def waiting(self) -> int:
        return len(self._queue)

    def after_fork(self) -> None:
        """In a forked child: a new lock, nobody waiting, nothing in flight (those were the parent's
        threads and requests; a grant of theirs released here frees nothing); the limits and the buckets'
        levels are kept."""
        self._lock = threading.Lock()
        self._queue = deque()
        self.running = 0
        self._epoch += 1

    # --- entering, waiting, leaving -------------------------------------------------------------------
    def enter(self, tokens: int, wake: Wake) -> Tuple[Ticket, Optional[float]]:
        """A new caller: granted at once (``None``) when nobody waits and everything allows it, else queued
        with the seconds to wait before polling again. Raises ``RateLimiterFullError`` when ``max_queued``
        callers already wait."""
        with self._lock:
            now = self._clock()
            ticket = Ticket(tokens, now, len(self._queue))
            ticket.epoch = self._epoch
            if not self._queue and self._blocked(ticket, now) == 0.0:
                self._grant(ticket, now)
                return ticket, None
            if self.max_queued is not None and len(self._queue) >= self.max_queued:
                raise RateLimiterFullError(
                    f"The rate limiter's queue is full ({self.max_queued} callers waiting); nothing was sent"
                )
            ticket.wake = wake
            self._queue.append(ticket)
            return ticket, self._blocked(ticket, now) if self._queue[0] is ticket else math.inf

    def poll(self, ticket: Ticket, wake: Wake) -> Optional[float]:
        """``None`` when ``ticket`` is granted now, else the seconds to wait (``math.inf``: until woken)."""
        woken: Optional[Wake] = None
        with self._lock:
            if ticket.granted:
                return None
            ticket.wake = wake
            if self._queue[0] is not ticket:
                return math.inf
            now = self._clock()
            delay = self._blocked(ticket, now)
            if delay > 0.0:
                return delay
            self._queue.popleft()
            self._grant(ticket, now)
            woken = self._head_wake()
        if woken is not None:
            woken()  # the next caller is now the head: it looks at the buckets itself
        return None

    def cancel(self, ticket: Ticket) -> None:
        """A waiting caller gave up (cancelled, interrupted): it leaves the queue; a granted one is released."""
        if ticket.granted:
            self.release(ticket)
            return
        woken: Optional[Wake] = None
        with self._lock:
            if ticket in self._queue:
                head = self._queue[0] is ticket
                self._queue.remove(ticket)
                woken = self._head_wake() if head else None
        if woken is not None:
            woken()

    def release(self, ticket: Ticket, *, used: Optional[int] = None, status: int = 0) -> None:
        """A granted request is over: its slot freed, its tokens corrected by ``used`` (the reply's usage),
        and (adaptive) a 429 slows the limiter down while a success lets it recover. Idempotent."""
        with self._lock:
            if ticket.released or not ticket.granted:
                return
            ticket.released = True
            if ticket.epoch != self._epoch:
                return  # granted before a fork: counted in the parent, not here
            self.running -= 1
            if used is not None and self.tpm is not None:
                self.tpm.level = min(self.tpm.capacity, self.tpm.level - (used - ticket.tokens))
            if self.adaptive:
                self._adapt(status)
            woken = self._head_wake()
        if woken is not None:
            woken()

    # --- adaptive -------------------------------------------------------------------------------------
    def claim_seed(self) -> bool:
        """True once for an adaptive limiter: the caller that fetches ``/v1/usage/rate-limits``."""
        with self._lock:
            claimed, self.seed_claimed = self.seed_claimed, True
            return not claimed

    def seed(self, payload: Any) -> None:
        """Start from the live counters of ``GET /v1/usage/rate-limits`` (the key's scope, else the first
        scope given): the lower of the configured and the published limit, the bucket filled with what is
        left of this minute. A TPM marked ``is_default_limit`` is not enforced by the API and is ignored."""
        scope = _scope(payload)
        if scope is None:
            return
        with self._lock:
            now = self._clock()
            for name in ("rpm", "tpm"):
                metric = scope.get(name)
                if not isinstance(metric, Mapping):
                    continue
                limit = _number(metric, "limit")
                if limit is None or limit <= 0 or (name == "tpm" and metric.get("is_default_limit") is True):
                    continue
                bucket: Optional[Bucket] = getattr(self, name)
                if bucket is None or limit < bucket.per_minute:
                    bucket = Bucket(float(limit), now)
                    bucket.scale(self.factor)
                    setattr(self, name, bucket)
                current = _number(metric, "current") or 0
                bucket.level = min(bucket.level, max(0.0, float(limit - current)))
            woken = self._head_wake()
        if woken is not None:
            woken()

    def _adapt(self, status: int) -> None:
        if status == 429:
            self.factor = max(MIN_FACTOR, self.factor / 2)
            if self.rpm is not None:
                self.rpm.level = min(self.rpm.level, 0.0)
        elif 0 < status < 400 and self.factor < 1.0:
            self.factor = min(1.0, self.factor + RECOVERY_STEP)
        else:
            return
        for bucket in (self.rpm, self.tpm):
            if bucket is not None:
                bucket.scale(self.factor)

    # --- under the lock ---------------------------------------------------------------------------------
    def _blocked(self, ticket: Ticket, now: float) -> float:
        """Seconds ``ticket`` must wait at the head (``math.inf``: until a slot is released); 0: go."""
        if self.max_concurrency is not None and self.running >= self.max_concurrency:
            return math.inf
        delay = 0.0
        for bucket, amount in ((self.rpm, 1), (self.tpm, ticket.tokens)):
            if bucket is not None:
                bucket.refill(now)
                delay = max(delay, bucket.wait_for(amount))
        return delay

    def _grant(self, ticket: Ticket, now: float) -> None:
        ticket.granted = True
        ticket.waited = now - ticket.entered
        ticket.wake = None
        self.running += 1
        if self.rpm is not None:
            self.rpm.level -= 1
        if self.tpm is not None:
            self.tpm.level -= ticket.tokens

    def _head_wake(self) -> Optional[Wake]:
        return self._queue[0].wake if self._queue else None

    def snapshot(self) -> List[Ticket]:
        """The waiting tickets, head first (for tests and debugging)."""
        with self._lock:
            return list(self._queue)


def _scope(payload: Any) -> Optional[Mapping[str, Any]]:
    if not isinstance(payload, Mapping):
        return None
    for name in ("key", "member", "team", "org"):
        scope = payload.get(name)
        if isinstance(scope, Mapping):
            return scope
    return None


def _number(metric: Any, field: str) -> Optional[float]:
    value = metric.get(field) if isinstance(metric, Mapping) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None  # json.loads reads NaN and Infinity: a NaN limit would make every wait NaN seconds
    return float(value)
