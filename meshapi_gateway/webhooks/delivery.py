"""Delivering webhooks in the background, retried on the documented schedule (docs/protocol.md §V9.1).

Why a worker: request handling must never wait for a receiver. :meth:`DeliveryWorker.submit` only puts a
delivery on a bounded queue (:data:`MAX_PENDING`; past it the delivery is logged as ``dropped`` and a
warning is logged) and returns; worker threads (started on the first submit) make the attempts.

An attempt is one ``POST`` of the envelope, signed at the moment it is sent (``signing.py``), redirects
not followed, the answer's body not read; each network step of it (connecting, sending, each read of the
answer's status and headers) waits at most ``timeout`` seconds (``webhook_timeout``, 10 s by default), and the
whole attempt at most :data:`ATTEMPT_TIMEOUTS` times that (a receiver trickling its answer a byte at a time
passes every per-read timeout: its socket is shut then, error ``AttemptTimeout``); each attempt on a
connection of its own. A 2xx is success; anything else, a redirect or a transport error included, fails
the attempt. Six attempts: at once, then
:data:`RETRY_DELAYS` (30 s, 2 min, 10 min, 1 h, 6 h) after the previous one, each ±20 % at random, every
delay divided by ``speed`` (``webhook_speed``: 1000 makes the six attempts fit in about 7.3 minutes of
real time, 100000 in under half a second). After the sixth failure the delivery is ``dead``.

Fault plan knobs (``faults/plan.py``, route ``webhook:<type>`` or ``webhook:*``): ``webhook_duplicates``
sends the same event (same id and body) that many more times, as separate deliveries;
``webhook_delay`` holds the first attempt back that many seconds (a late delivery);
``webhook_stale_seconds`` signs with a timestamp that many seconds old (a late or replayed one, as the
receiver sees it).

Every delivery stays in a bounded log (:data:`MAX_LOG`, oldest dropped first) with its attempts:
``Gateway.webhooks.deliveries()`` and ``GET /_admin/webhooks/deliveries``.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import random
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Deque, Dict, List, Optional, Tuple

import httpx

from ..ids import hex_id, iso_timestamp
from .endpoints import Endpoints, shown_url
from .signing import delivery_headers

__all__ = [
    "ATTEMPT_TIMEOUTS",
    "JITTER",
    "MAX_LOG",
    "MAX_PENDING",
    "RETRY_DELAYS",
    "Delivery",
    "DeliveryWorker",
    "retry_delay",
]

log = logging.getLogger("meshapi_gateway.webhooks")

#: Seconds before each retry, after the previous attempt (attempts 2 to 6); the first is at once.
RETRY_DELAYS = (30.0, 120.0, 600.0, 3600.0, 21600.0)
#: Each delay is this fraction more or less, at random.
JITTER = 0.2
#: Deliveries waiting for an attempt, at most; past it new ones are dropped.
MAX_PENDING = 1000
#: Deliveries kept in the log.
MAX_LOG = 1000
#: Worker threads making attempts (one slow receiver does not hold up the others).
WORKERS = 2
#: The longest a whole attempt takes, in ``timeout``s (connecting, sending, reading: one each).
ATTEMPT_TIMEOUTS = 3


def retry_delay(failed: int, speed: float, rand: Callable[[], float] = random.random) -> Optional[float]:
    """Seconds to wait after the ``failed``-th failed attempt before the next one; ``None`` once six have
    failed. ``rand()`` in [0, 1) places the delay within ±:data:`JITTER`; ``speed`` divides it."""
    if failed < 1 or failed > len(RETRY_DELAYS):
        return None
    return RETRY_DELAYS[failed - 1] * (1 + JITTER * (2 * rand() - 1)) / speed


@dataclass
class Attempt:
    at: float
    status: Optional[int] = None
    error: Optional[str] = None
    duration_ms: int = 0

    def view(self) -> Dict[str, Any]:
        return {
            "at": iso_timestamp(self.at),
            "status": self.status,
            "error": self.error,
            "duration_ms": self.duration_ms,
        }


@dataclass
class Delivery:
    """One event on its way to one endpoint. ``state``: ``pending``, ``delivered``, ``dead``,
    ``dropped`` (queue full) or ``cancelled`` (endpoint removed)."""

    event_id: str
    event_type: str
    endpoint_id: str
    url: str = field(repr=False)  # a password in it too: view() shows shown_url()
    body: bytes
    hold: float = 0.0
    stale: float = 0.0
    id: str = field(default_factory=lambda: hex_id("whd_", 16))
    state: str = "pending"
    attempts: List[Attempt] = field(default_factory=list)
    #: ``time.monotonic()`` of each attempt's start (for schedule checks; not shown).
    started: List[float] = field(default_factory=list)

    def view(self) -> Dict[str, Any]:
        return {
            "id": self.id,
            "event_id": self.event_id,
            "event_type": self.event_type,
            "endpoint_id": self.endpoint_id,
            "url": shown_url(self.url),
            "state": self.state,
            "attempts": [a.view() for a in self.attempts],
        }


class DeliveryWorker:
    """The queue of deliveries due and the threads that attempt them (see the module docstring)."""

    def __init__(
        self,
        endpoints: Endpoints,
        *,
        speed: float = 1.0,
        timeout: float = 10.0,
        workers: int = WORKERS,
        max_pending: int = MAX_PENDING,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self._endpoints = endpoints
        self.speed = speed
        self.timeout = timeout
        self._workers = workers
        self._max_pending = max_pending
        self._rand = rand
        self._cond = threading.Condition()
        self._due: List[Tuple[float, int, int, Delivery]] = []  # (when, seq, generation, delivery)
        self._seq = itertools.count()
        self._generation = 0
        self._in_flight = 0
        self._log: Deque[Delivery] = deque(maxlen=MAX_LOG)
        self._threads: List[threading.Thread] = []
        self._client: Optional[httpx.Client] = None
        self._closed = False

    def submit(self, delivery: Delivery) -> bool:
        """Queue ``delivery`` for its first attempt (after its ``hold``); never blocks. ``False``: dropped."""
        with self._cond:
            if self._closed:
                return False
            self._log.append(delivery)
            if len(self._due) + self._in_flight >= self._max_pending:
                delivery.state = "dropped"
                log.warning(
                    "webhook queue full (%d): delivery of %s dropped", self._max_pending, delivery.event_id
                )
                return False
            self._start_threads()
            self._push(time.monotonic() + delivery.hold, delivery)
            return True

    def _push(self, when: float, delivery: Delivery) -> None:
        heapq.heappush(self._due, (when, next(self._seq), self._generation, delivery))
        self._cond.notify()

    def _start_threads(self) -> None:
        if self._threads:
            return
        self._client = httpx.Client(
            follow_redirects=False,
            trust_env=False,
            timeout=httpx.Timeout(self.timeout),
            limits=httpx.Limits(max_keepalive_connections=0),  # each attempt connects: _Cutoff sees it
        )
        for n in range(self._workers):
            thread = threading.Thread(target=self._run, name=f"meshapi-gateway-webhooks-{n}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def _next(self) -> Optional[Tuple[int, Delivery]]:
        with self._cond:
            while not self._closed:
                now = time.monotonic()
                if self._due and self._due[0][0] <= now:
                    _, _, generation, delivery = heapq.heappop(self._due)
                    self._in_flight += 1
                    return generation, delivery
                self._cond.wait(timeout=(self._due[0][0] - now) if self._due else None)
            return None

    def _run(self) -> None:
        while True:
            taken = self._next()
            if taken is None:
                return
            generation, delivery = taken
            try:
                self._attempt(delivery)
            except Exception:  # pragma: no cover - a bug must not kill the worker
                log.exception("webhook delivery %s failed unexpectedly", delivery.id)
                delivery.state = "dead"
            with self._cond:
                self._in_flight -= 1
                if delivery.state != "pending" or generation != self._generation or self._closed:
                    continue
                delay = retry_delay(len(delivery.attempts), self.speed, self._rand)
                if delay is None:
                    delivery.state = "dead"
                    log.info(
                        "webhook delivery %s to %s is dead after 6 attempts",
                        delivery.id,
                        shown_url(delivery.url),
                    )
                else:
                    self._push(delivery.started[-1] + delay, delivery)

    def _attempt(self, delivery: Delivery) -> None:
        endpoint = self._endpoints.get(delivery.endpoint_id)
        if endpoint is None:
            delivery.state = "cancelled"
            return
        now = time.time()
        headers = delivery_headers(
            endpoint.signing_secrets(now), int(now - delivery.stale), delivery.body, delivery.event_id
        )
        attempt = Attempt(at=now)
        delivery.started.append(time.monotonic())
        delivery.attempts.append(attempt)
        client = self._client
        assert client is not None
        cutoff = _Cutoff(self.timeout * ATTEMPT_TIMEOUTS)
        try:
            with client.stream(
                "POST", delivery.url, content=delivery.body, headers=headers, extensions=cutoff.extensions
            ) as response:
                attempt.status = response.status_code  # the body is not read: it does not matter
        except httpx.HTTPError as exc:
            attempt.error = "AttemptTimeout" if cutoff.fired else type(exc).__name__
        finally:
            cutoff.cancel()
        attempt.duration_ms = int((time.monotonic() - delivery.started[-1]) * 1000)
        if attempt.status is not None and 200 <= attempt.status < 300:
            delivery.state = "delivered"

    def deliveries(self) -> List[Delivery]:
        """The log, oldest first."""
        with self._cond:
            return list(self._log)

    def pending(self) -> int:
        with self._cond:
            return len(self._due) + self._in_flight

    def clear(self) -> None:
        """Forget every queued delivery and the log (an attempt in flight ends, without a retry)."""
        with self._cond:
            self._generation += 1
            self._due.clear()
            self._log.clear()

    def close(self) -> None:
        """Stop the threads (an attempt in flight is given its timeout) and close the connections."""
        with self._cond:
            self._closed = True
            self._due.clear()
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=self.timeout + 1.0)
        if self._client is not None:
            self._client.close()


class _Cutoff:
    """Shuts an attempt's socket when its whole time is up (a timer thread; the socket comes from
    httpcore's ``trace`` of the connection being made, which every attempt makes)."""

    def __init__(self, seconds: float) -> None:
        self.fired = False
        self._lock = threading.Lock()
        self._sock: Optional[socket.socket] = None
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()
        self.extensions = {"trace": self._trace}

    def _trace(self, event: str, info: Dict[str, Any]) -> None:
        if event != "connection.connect_tcp.complete":
            return
        stream = info.get("return_value")
        sock = stream.get_extra_info("socket") if stream is not None else None
        with self._lock:
            self._sock = sock
            late = self.fired
        if late:
            _shut(sock)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            sock = self._sock
        _shut(sock)

    def cancel(self) -> None:
        self._timer.cancel()


def _shut(sock: Optional[socket.socket]) -> None:
    """End both directions: a read blocked on it returns at once (the socket itself is closed by httpcore)."""
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
