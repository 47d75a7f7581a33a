"""Flow control and reconnection policy of realtime sessions, without I/O.

* :class:`FlowControl`: the bounds of a session's send queue. Every frame a session sends goes through a
  queue drained by one writer (a thread for the blocking session, a task for the asyncio one), so a
  caller appending audio faster than the socket takes it meets the bound instead of growing memory: the
  asyncio session waits for room; the blocking one waits up to ``send_timeout`` and then raises
  ``RealtimeError`` code ``send_queue_full``. One frame larger than ``max_queue_bytes`` is still let in
  when the queue is empty (it could never fit otherwise).
* :class:`SendQueue`: the queue's bookkeeping (frames, bytes, counts, the high-water mark), shared by
  both writers; what it still holds when a connection drops is the ``undelivered`` report.
* :class:`ReconnectPolicy`: whether a closed connection is reopened, and the backoff between attempts.
* :class:`ReconnectCounter`: the consecutive failed attempts across drops. A reopen that succeeds is
  not yet a success: a peer that accepts and drops at once would otherwise restart the count on every
  reopen and be reconnected to forever, without the backoff growing. A reopened connection that dies
  quickly (see :data:`QUICK_DEATH_SECONDS`) counts as a failed attempt; one that lived and worked
  restarts the count. Both sessions feed it, so they give up at the same point.
"""

from __future__ import annotations

import json
import random
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Deque, Dict, FrozenSet, List, Optional, Tuple, Union

from .._errors import InvalidParamsError, RealtimeError

__all__ = [
    "DEFAULT_MAX_QUEUE_BYTES",
    "DEFAULT_MAX_QUEUE_EVENTS",
    "DEFAULT_SEND_TIMEOUT",
    "FlowControl",
    "HANDSHAKE_EVENT_TYPES",
    "QUICK_DEATH_SECONDS",
    "ReconnectCounter",
    "ReconnectPolicy",
    "SendQueue",
    "coerce_flow_control",
    "coerce_reconnect",
    "describe_frame",
    "queue_full_error",
]

#: 1 MiB of queued frames: about 16 s of 24 kHz PCM16 audio once base64-encoded.
DEFAULT_MAX_QUEUE_BYTES = 1024 * 1024
DEFAULT_MAX_QUEUE_EVENTS = 512
DEFAULT_SEND_TIMEOUT = 10.0

Frame = Union[str, bytes]


def _number(value: Any, name: str, *, allow_none: bool = False, minimum: float = 0.0) -> Any:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or value < minimum:
        raise InvalidParamsError(f"{name} must be a number >= {minimum:g}, got {value!r}")
    return value


@dataclass(frozen=True)
class FlowControl:
    """Bounds of the send queue (see the module docstring). ``send_timeout=None`` waits forever."""

    max_queue_bytes: int = DEFAULT_MAX_QUEUE_BYTES
    max_queue_events: int = DEFAULT_MAX_QUEUE_EVENTS
    send_timeout: Optional[float] = DEFAULT_SEND_TIMEOUT

    def __post_init__(self) -> None:
        _number(self.max_queue_bytes, "max_queue_bytes", minimum=1)
        _number(self.max_queue_events, "max_queue_events", minimum=1)
        _number(self.send_timeout, "send_timeout", allow_none=True)


def coerce_flow_control(value: Optional[FlowControl]) -> FlowControl:
    if value is None:
        return FlowControl()
    if not isinstance(value, FlowControl):
        raise InvalidParamsError(f"flow_control must be a FlowControl, got {type(value).__name__}")
    return value


def describe_frame(frame: Frame) -> Dict[str, Any]:
    """A queued frame as reported in ``ReconnectedEvent.undelivered`` (the event it carried)."""
    if isinstance(frame, bytes):
        return {"type": "input_audio_buffer.append", "binary": True, "bytes": len(frame)}
    try:
        event = json.loads(frame)
    except (ValueError, RecursionError):  # pragma: no cover - the SDK encoded it
        return {"type": "unknown", "frame": frame[:200]}
    return event if isinstance(event, dict) else {"type": "unknown", "frame": frame[:200]}


def queue_full_error(flow: FlowControl, queued: Tuple[int, int]) -> RealtimeError:
    count, size = queued
    return RealtimeError(
        "send_queue_full",
        f"the send queue stayed full for {flow.send_timeout} s ({count} events, {size} bytes queued; limits "
        f"{flow.max_queue_events} events, {flow.max_queue_bytes} bytes): the gateway is reading slower than "
        "events are sent. Send less often, or raise FlowControl(send_timeout=...).",
    )


class SendQueue:
    """Frames waiting for the writer, with their total size; not thread-safe on its own (the sessions
    guard it with their condition)."""

    def __init__(self, flow: FlowControl) -> None:
        self.flow = flow
        self._frames: Deque[Tuple[Frame, int]] = deque()
        self.bytes = 0
        self.peak_bytes = 0  # the most ever queued at once (tests assert the bound with it)
        self.sent_frames = 0

    def __len__(self) -> int:
        return len(self._frames)

    def has_room(self, size: int) -> bool:
        if not self._frames:
            return True
        return (
            len(self._frames) < self.flow.max_queue_events and self.bytes + size <= self.flow.max_queue_bytes
        )

    def push(self, frame: Frame) -> None:
        size = len(frame)
        self._frames.append((frame, size))
        self.bytes += size
        self.peak_bytes = max(self.peak_bytes, self.bytes)

    def push_front(self, frame: Frame) -> None:
        """Queue ``frame`` before everything else (the configuration re-sent after a reconnect)."""
        self._frames.appendleft((frame, len(frame)))
        self.bytes += len(frame)
        self.peak_bytes = max(self.peak_bytes, self.bytes)

    def peek(self) -> Optional[Frame]:
        return self._frames[0][0] if self._frames else None

    def pop(self) -> None:
        """Drop the first frame once the writer has handed it to the socket."""
        _, size = self._frames.popleft()
        self.bytes -= size
        self.sent_frames += 1

    def drain(self) -> List[Frame]:
        """Take every queued frame out (the connection dropped): what was not delivered."""
        frames = [frame for frame, _ in self._frames]
        self._frames.clear()
        self.bytes = 0
        return frames

    @property
    def queued(self) -> Tuple[int, int]:
        return len(self._frames), self.bytes


#: Close codes after which a connection is reopened: no close frame, server error, restart, try again
#: later, bad gateway (RFC 6455 §7.4.1).
RECONNECT_CLOSE_CODES = frozenset({1006, 1011, 1012, 1013, 1014})
#: ``error`` event codes announcing a close worth reconnecting after (docs/protocol.md §7.6).
RECONNECT_ERROR_CODES = frozenset({"service_draining", "connection_timeout", "upstream_overload"})


@dataclass(frozen=True)
class ReconnectPolicy:
    """When and how a dropped session is reopened (``connect(reconnect=ReconnectPolicy(...))``).

    ``max_attempts`` consecutive failed reopen attempts, waiting ``initial_delay * multiplier ** (n - 1)`` seconds
    (at most ``max_delay``, ±``jitter`` as a fraction) before attempt ``n``, then the close is raised as
    ``RealtimeError``. An attempt fails when the reopen is refused, or when the reopened connection dies
    quickly (:class:`ReconnectCounter`); a connection that lived and worked restarts the count. A close is
    retried when the
    connection was lost or closed with one of ``close_codes``, or when the gateway announced it with an
    ``error`` event whose code is in ``error_codes``; a normal close (1000/1001) or a policy close (1008)
    is not. The reconnect happens where the drop is noticed, in the receiving call (``recv()``,
    ``iter_events()``, ``run()``, ``receive()`` or iteration), so keep one reader going. Events queued
    when the reconnect starts are reported as undelivered (and dropped); events sent while it waits
    for its backoff go to the new connection, after the re-sent configuration.
    """

    max_attempts: int = 5
    initial_delay: float = 0.5
    max_delay: float = 8.0
    multiplier: float = 2.0
    jitter: float = 0.2
    close_codes: FrozenSet[int] = field(default=RECONNECT_CLOSE_CODES)
    error_codes: FrozenSet[str] = field(default=RECONNECT_ERROR_CODES)

    def __post_init__(self) -> None:
        _number(self.max_attempts, "max_attempts", minimum=1)
        _number(self.initial_delay, "initial_delay")
        _number(self.max_delay, "max_delay")
        _number(self.multiplier, "multiplier", minimum=1)
        _number(self.jitter, "jitter")

    def delay(self, attempt: int, rng: Optional[random.Random] = None) -> float:
        """Seconds to wait before reopen attempt ``attempt`` (1-based)."""
        base = min(self.max_delay, self.initial_delay * self.multiplier ** (attempt - 1))
        spread = base * self.jitter
        return max(0.0, base + (rng or random).uniform(-spread, spread))

    def should_reconnect(self, error: RealtimeError, last_error_code: Optional[str]) -> bool:
        """True when the close that ``error`` reports is one to reopen after."""
        if error.code == "connection_lost":
            return True
        if error.code == "abnormal_close" and error.close_code in self.close_codes:
            return True
        return error.code in ("abnormal_close", "session_closed") and last_error_code in self.error_codes


#: Server events a reopened connection gets without having done any work: the greeting, the answer to
#: the re-sent configuration, and errors (a peer announcing its own close sends one).
HANDSHAKE_EVENT_TYPES = frozenset({"session.created", "session.updated", "error"})
#: A reopened connection that closes before it was open this many seconds, without having delivered a
#: server event outside :data:`HANDSHAKE_EVENT_TYPES`, died quickly: its reopen counts as failed.
QUICK_DEATH_SECONDS = 10.0


class ReconnectCounter:
    """Consecutive failed reopen attempts of one session, across drops (pure: the caller passes the
    clock's readings).

    The session calls :meth:`dropped` when a connection closes with a close to reopen after, then asks
    :meth:`next_attempt` before each reopen, calls :meth:`failed` when the reopen raised and
    :meth:`opened` when it succeeded, and :meth:`observe` for every server event received.
    """

    def __init__(self, policy: ReconnectPolicy) -> None:
        self.policy = policy
        self.failures = 0
        self._opened_at: Optional[float] = None  # when the current connection was reopened
        self._worked = True  # the first connection is not judged: it was not a reconnect attempt

    def opened(self, now: float) -> None:
        """A reopen succeeded at ``now``: the connection is on probation until it works or lives."""
        self._opened_at = now
        self._worked = False

    def observe(self, event_type: Any) -> None:
        """A server event of ``event_type`` arrived on the current connection."""
        if event_type not in HANDSHAKE_EVENT_TYPES:
            self._worked = True

    def dropped(self, now: float) -> None:
        """The current connection closed at ``now``: a reopened one that died quickly is one more failed
        attempt; any other restarts the count."""
        opened_at = self._opened_at
        quick = opened_at is not None and not self._worked and now - opened_at < QUICK_DEATH_SECONDS
        self.failures = self.failures + 1 if quick else 0
        self._opened_at = None
        self._worked = True

    def failed(self) -> None:
        """A reopen attempt raised."""
        self.failures += 1

    def next_attempt(self) -> Optional[int]:
        """The number (1-based) of the next reopen attempt, or ``None`` once ``max_attempts`` failed."""
        attempt = self.failures + 1
        return attempt if attempt <= self.policy.max_attempts else None


def coerce_reconnect(value: Union[bool, ReconnectPolicy, None]) -> Optional[ReconnectPolicy]:
    """``reconnect=True`` -> the default policy; ``False``/``None`` -> off; a policy is used as given."""
    if value is None or value is False:
        return None
    if value is True:
        return ReconnectPolicy()
    if isinstance(value, ReconnectPolicy):
        return value
    raise InvalidParamsError(f"reconnect must be True, False or a ReconnectPolicy, got {value!r}")
