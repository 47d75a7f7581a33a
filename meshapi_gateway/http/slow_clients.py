"""Protection against slow clients: a header deadline and a clear answer at the connection cap.

uvicorn closes idle keep-alive connections, but its keep-alive timer stops at the first byte, so a
client that trickles a request line and headers one byte at a time holds its connection (and a slot
of the connection cap) for as long as it likes. :class:`GuardedH11Protocol` is uvicorn's h11
protocol with one more timer: from the moment a connection opens, or a response completes, the
client has ``header_timeout`` seconds to finish its request headers; otherwise the connection is
closed. Body reads are bounded by ``BodyMiddleware`` (the whole body within ``body_timeout``, else
a 408).

The connection cap (``max_connections``) is enforced here too, instead of by uvicorn's
``limit_concurrency``, whose answer is a bare ``text/plain`` 503 with no ``Retry-After``: a request
that arrives while the cap is reached (counting open connections and running requests, as uvicorn
does) gets a 503 ``server_busy`` error envelope with ``Retry-After: 1`` and the connection closed, so
a caller's retry logic knows what to do. :func:`protocol_for` binds both settings into a protocol class.
"""

from __future__ import annotations

import asyncio
from typing import Any, Optional, Type

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from ..ids import new_request_id
from .asgi import Receive, Scope, Send, error_body, send_reply

#: Seconds a caller refused at the connection cap is asked to wait (``Retry-After``).
BUSY_RETRY_AFTER = 1


async def server_busy(scope: Scope, receive: Receive, send: Send) -> None:
    """The answer to a request that arrives while the connection cap is reached."""
    rid = new_request_id()
    message = "The local gateway is serving as many connections as it allows; retry shortly."
    extra = {"retry-after": str(BUSY_RETRY_AFTER), "connection": "close", "x-request-id": rid}
    await send_reply(send, 503, error_body("server_busy", message, rid), "application/json", extra)


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for the request line and headers, and a clear 503 at the cap."""

    header_timeout: float = 10.0
    max_connections: Optional[int] = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: Optional[asyncio.TimerHandle] = None
        self._app = self.app

    def handle_events(self) -> None:
        # uvicorn runs ``self.app`` for each request this reads: the busy answer at the cap.
        cap = self.max_connections
        busy = cap is not None and (len(self.connections) >= cap or len(self.tasks) >= cap)
        self.app = server_busy if busy else self._app  # type: ignore[assignment]
        super().handle_events()

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()

    def connection_lost(self, exc: Optional[Exception]) -> None:
        self._disarm()
        super().connection_lost(exc)


def protocol_for(header_timeout: float, max_connections: Optional[int] = None) -> Type[GuardedH11Protocol]:
    """A :class:`GuardedH11Protocol` subclass with the settings bound (uvicorn wants a class)."""
    bound = {"header_timeout": float(header_timeout), "max_connections": max_connections}
    return type("GuardedH11Protocol", (GuardedH11Protocol,), bound)
