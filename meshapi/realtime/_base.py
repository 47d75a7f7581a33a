"""The state both realtime sessions share, so the blocking and asyncio twins only add their I/O loops.

:class:`SessionBase` holds the sans-I/O protocol, the handler registry, the send-queue bookkeeping, the
reconnect policy with what a reconnect needs (the configuration sent with ``session.update``, whether a
response is in progress), the process the session was opened in (a session is not shared across
``os.fork()``: in the child every use raises ``RealtimeError`` code ``forked_process`` and ``close()``
leaves the parent's socket alone), and the read-only properties of 0.1.x.
"""

from __future__ import annotations

import json
import os
import random
import time
from typing import Any, Callable, Dict, List, Mapping, Optional, TypeVar

from .._errors import RealtimeError
from .flow import FlowControl, ReconnectCounter, ReconnectPolicy, SendQueue, describe_frame
from .handlers import HandlerRegistry
from .messages import RealtimeMessage
from .protocol import RealtimeProtocol, encode_event

__all__ = ["SessionBase", "forked_error"]

F = TypeVar("F", bound=Callable[..., Any])


def forked_error(pid: int) -> RealtimeError:
    return RealtimeError(
        "forked_process",
        f"this realtime session was opened in process {pid} and cannot be used after os.fork() "
        "(both processes would write to one socket); open a new session in this process",
    )


class SessionBase:
    """What :class:`~meshapi.realtime.sync_session.RealtimeSession` and its asyncio twin share."""

    _allow_async_handlers = False

    def __init__(
        self,
        ws: Any,
        *,
        model: str = "",
        _on_close: Any = None,
        _reopen: Any = None,
        reconnect: Optional[ReconnectPolicy] = None,
        flow_control: Optional[FlowControl] = None,
    ) -> None:
        self._ws = ws
        self._model = model
        self._on_close = _on_close
        self._reopen = _reopen  # opens a fresh connection (reconnect); None for a bare session
        self._protocol = RealtimeProtocol()
        self._handlers = HandlerRegistry(allow_async=self._allow_async_handlers)
        self._policy = reconnect
        self._flow = flow_control or FlowControl()
        self._queue = SendQueue(self._flow)
        self._pid = os.getpid()
        self._config: Dict[str, Any] = {}  # merged ``session`` of every session.update sent
        self._response_pending: Optional[str] = None  # "" after response.create, then the response id
        self._last_error_code: Optional[str] = None
        self._reconnects = 0
        self._sleep: Callable[[float], Any] = time.sleep
        self._clock: Callable[[], float] = time.monotonic
        # consecutive failed reopen attempts across drops (a reopen that dies at once is one)
        self._attempts: Optional[ReconnectCounter] = ReconnectCounter(reconnect) if reconnect else None
        self._rng = random.Random()

    # --- state ---
    @property
    def session_id(self) -> Optional[str]:
        """The id from ``session.created`` (``None`` until that event has been received)."""
        return self._protocol.state.session_id

    @property
    def model(self) -> str:
        return self._protocol.state.model or self._model

    @property
    def closed(self) -> bool:
        """True once the session has ended or ``close()`` was called."""
        return self._protocol.closed or self._protocol.closing

    @property
    def close_code(self) -> Optional[int]:
        """The close code once the connection has ended (1000 after ``close()``)."""
        exc = self._protocol.close_exc
        return exc.close_code if exc is not None else None

    @property
    def last_response(self) -> Optional[Dict[str, Any]]:
        """The ``response`` object of the last ``response.done`` received (status, output, usage)."""
        return self._protocol.state.last_response

    @property
    def reconnects(self) -> int:
        """How many times the connection was reopened (``connect(reconnect=...)``)."""
        return self._reconnects

    @property
    def send_queue(self) -> SendQueue:
        """The send queue's bookkeeping (``queued``, ``peak_bytes``, ``sent_frames``, ``flow``)."""
        return self._queue

    def __repr__(self) -> str:
        status = "closed" if self.closed else "open"
        return f"{type(self).__name__}(model={self._model!r}, session_id={self.session_id!r}, {status})"

    # --- handlers ---
    def on(self, event_type: str, handler: Optional[F] = None) -> Any:
        """Run ``handler(event)`` for every received event of ``event_type`` (``"*"``: every event).

        Handlers run in ``run()``, ``recv()`` and ``iter_events()`` (not in the 0.1.x ``receive()``), in
        registration order, before the event is returned; an exception in one is raised as
        ``RealtimeError`` code ``handler_error``. Without ``handler`` it works as a decorator.
        """
        if handler is None:
            return lambda fn: self._handlers.add(event_type, fn, once=False)
        return self._handlers.add(event_type, handler, once=False)

    def once(self, event_type: str, handler: Optional[F] = None) -> Any:
        """Like :meth:`on`, for the next matching event only."""
        if handler is None:
            return lambda fn: self._handlers.add(event_type, fn, once=True)
        return self._handlers.add(event_type, handler, once=True)

    def off(self, event_type: str, handler: Optional[Callable[..., Any]] = None) -> int:
        """Remove ``handler`` (every handler of ``event_type`` when omitted); returns how many."""
        return self._handlers.remove(event_type, handler)

    # --- shared bookkeeping ---
    def _check_process(self) -> None:
        if os.getpid() != self._pid:
            raise forked_error(self._pid)

    def _in_child(self) -> bool:
        return os.getpid() != self._pid

    def _encode(self, event: Mapping[str, Any]) -> str:
        frame = encode_event(event)
        kind = event.get("type")
        if kind == "session.update" and isinstance(event.get("session"), Mapping):
            self._config.update(dict(event["session"]))
        elif kind == "response.create":
            self._response_pending = ""
        return frame

    def _note(self, message: RealtimeMessage) -> None:
        """Bookkeeping for every received message (before an error event is raised)."""
        event = message.event or {}
        kind = event.get("type")
        if self._attempts is not None:
            self._attempts.observe(kind)
        if kind == "response.created":
            rid = (event.get("response") or {}).get("id") if isinstance(event.get("response"), dict) else None
            self._response_pending = rid if isinstance(rid, str) else ""
        elif kind == "response.done":
            self._response_pending = None
        elif kind == "error":
            error = event.get("error")
            code = error.get("code") if isinstance(error, dict) else None
            self._last_error_code = code if isinstance(code, str) else None

    def _should_reconnect(self, error: RealtimeError) -> bool:
        policy = self._policy
        if policy is None or self._reopen is None or self._protocol.closing or self._in_child():
            return False
        return policy.should_reconnect(error, self._last_error_code)

    def _reconnected_message(
        self, attempt: int, error: RealtimeError, undelivered: List[Any]
    ) -> RealtimeMessage:
        """The ``reconnected`` event handed to the reader, and the state reset for the new connection."""
        self._reconnects += 1
        interrupted = self._response_pending
        self._response_pending = None
        self._last_error_code = None
        self._protocol.state.response_id = None
        event = {
            "type": "reconnected",
            "attempt": attempt,
            "close_code": error.close_code,
            "reason": error.realtime_message,
            "undelivered": [describe_frame(f) for f in undelivered],
            "response_interrupted": interrupted is not None,
            "interrupted_response_id": interrupted or None,
            "session_resent": bool(self._config),
        }
        return RealtimeMessage(text=json.dumps(event), event=event)

    def _config_frame(self) -> Optional[str]:
        if not self._config:
            return None
        return encode_event({"type": "session.update", "session": dict(self._config)})
