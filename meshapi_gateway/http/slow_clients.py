"""Protection against slow clients: a header deadline uvicorn itself does not have.

uvicorn closes idle keep-alive connections, but its keep-alive timer stops at the first byte, so a
client that trickles a request line and headers one byte at a time holds its connection (and a slot
of the connection cap) for as long as it likes. :class:`GuardedH11Protocol` is uvicorn's h11
protocol with one more timer: from the moment a connection opens, or a response completes, the
client has ``header_timeout`` seconds to finish its request headers; otherwise the connection is
closed. Body reads are bounded by ``BodyMiddleware`` (a 408) and the connection cap by uvicorn's
``limit_concurrency`` (a 503); :func:`protocol_for` binds the timeout into a protocol class.
"""

from __future__ import annotations

import asyncio
from typing import Any, Optional, Type

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for the request line and headers."""

    header_timeout: float = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: Optional[asyncio.TimerHandle] = None

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


def protocol_for(header_timeout: float) -> Type[GuardedH11Protocol]:
    """A :class:`GuardedH11Protocol` subclass with ``header_timeout`` bound (uvicorn wants a class)."""
    return type("GuardedH11Protocol", (GuardedH11Protocol,), {"header_timeout": float(header_timeout)})
