"""Planned faults on a realtime WebSocket session, applied event by event.

The realtime endpoint takes its fault from the plan when a connection opens (a WebSocket upgrade is a
``GET /v1/realtime``); the session then calls :meth:`RealtimeFault.after_event` after each server event
it sends. Counts are server events sent:

* ``ws_close_code`` + ``ws_close_after_events``: a close frame with that code (0 events: before
  ``session.created``).
* ``drop_after_events``: the TCP connection is dropped without a close frame (the client sees 1006).
* ``stall_after_events`` + ``stall_seconds``: neither read nor write for that long; the connection's
  receive buffer is pinned small, so a client's sends back up within a few hundred KB.
* ``error_event_after`` + ``error_code``: an ``error`` event with that code; for session-terminating
  codes (docs/protocol.md §7.6: ``service_draining``, ``idle_timeout``...) the socket is then closed with 1000.

(``status`` and ``delay_first_byte`` act on the upgrade itself, in the endpoint.)
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any, Awaitable, Callable, Optional

from starlette.websockets import WebSocket

from .plan import Fault

__all__ = ["TERMINATING_CODES", "RealtimeFault", "SessionClosed"]

#: Error codes after which the provider ends the session (the socket is closed with 1000).
TERMINATING_CODES = frozenset(
    {
        "invalid_api_key",
        "insufficient_quota",
        "concurrent_sessions_exceeded",
        "feature_not_enabled",
        "session_token_cap_exceeded",
        "idle_timeout",
        "connection_timeout",
        "session_duration_exceeded",
        "service_draining",
        "model_not_found",
    }
)


class SessionClosed(Exception):
    """The session ended (fault close or client gone); unwinds the event loop."""


def _transport(websocket: WebSocket) -> Any:
    """The connection's asyncio transport (uvicorn's protocol object owns it), or ``None``."""
    owner = getattr(getattr(websocket, "_receive", None), "__self__", None)
    return getattr(owner, "transport", None)


def _abort(websocket: WebSocket) -> bool:
    """Drop the TCP connection without a close frame."""
    transport = _transport(websocket)
    if transport is None:
        return False
    transport.abort()
    return True


def _small_receive_buffer(websocket: WebSocket) -> None:
    """Pin the socket's receive buffer small (no autotuning, which can grow it to tens of MB on
    loopback), so that a stalled session really pushes back on the client."""
    transport = _transport(websocket)
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        except OSError:  # pragma: no cover - a platform that refuses the option
            pass


class RealtimeFault:
    """The fault (or none) of one realtime session; see the module docstring."""

    def __init__(self, fault: Optional[Fault], websocket: WebSocket) -> None:
        self.fault = fault
        self.ws = websocket
        if fault is not None and fault.stall_after_events is not None:
            _small_receive_buffer(websocket)

    async def at_open(self) -> None:
        """Before the first event: a close planned after 0 events happens now (raises ``SessionClosed``)."""
        fault = self.fault
        if fault is not None and fault.ws_close_code is not None and fault.ws_close_after_events == 0:
            await self.ws.close(code=fault.ws_close_code, reason="fault injected")
            raise SessionClosed()

    async def after_event(
        self, sent: int, resume: asyncio.Event, server_error: Callable[[str, str], Awaitable[None]]
    ) -> None:
        """Apply the fault once ``sent`` server events went out; raises ``SessionClosed`` when it ends the session.

        ``resume`` is the session's gate (cleared for a stall); ``server_error(code, message)`` sends an
        ``error`` event of type ``server_error``.
        """
        fault = self.fault
        if fault is None:
            return
        if fault.ws_close_code is not None and sent >= fault.ws_close_after_events:
            await self.ws.close(code=fault.ws_close_code, reason="fault injected")
            raise SessionClosed()
        if fault.drop_after_events is not None and sent >= fault.drop_after_events:
            if not _abort(self.ws):  # pragma: no cover - a server without a transport to drop
                await self.ws.close(code=1011, reason="fault injected")
            raise SessionClosed()
        if fault.stall_after_events is not None and sent == fault.stall_after_events:
            resume.clear()
            asyncio.get_running_loop().call_later(fault.stall_seconds, resume.set)
        if fault.error_event_after is not None and sent == fault.error_event_after:
            code = fault.error_code
            await server_error(code, f"Fault injected: {code}.")
            if code in TERMINATING_CODES:
                await self.ws.close(code=1000, reason=code)
                raise SessionClosed()
