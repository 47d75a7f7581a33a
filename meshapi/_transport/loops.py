"""One pool per event loop for ``AsyncMeshAPI``, and the one way to drop connections whose loop is over.

An asyncio connection belongs to the event loop that opened it. A module-level ``AsyncMeshAPI`` used by
one ``asyncio.run`` per job, or by a test runner's function-scoped loops (pytest-asyncio, anyio), would
otherwise hand the next loop a connection of a closed one (``RuntimeError: Event loop is closed``, a
leaked socket). So, as after ``fork()`` (``meshapi._transport.fork``), the async client swaps its pool:

* :class:`LoopPools` keeps the SDK's own ``httpx.AsyncClient`` per running loop (one integer-cheap
  identity check per call); the first loop takes the pool made with the client, later loops get new
  ones (same settings, same transport choice, httpx's or aiohttp's).
* A pool whose loop is closed (or whose trio run is over) is dropped without touching that loop
  (:func:`abandon`, the only place that does this): its sockets are closed directly (a dead loop cannot
  run a close; the peer sees the same TCP close) and the asyncio transports and aiohttp objects around
  them are marked closed, so nothing warns ``unclosed transport`` later. It runs when a new loop takes
  over and in ``aclose()``, which closes the pool of the loop it runs on and drops the others: so a
  client can be closed from any later loop, which is all the pytest plugin's teardown does.
* What the SDK did not make (an ``async_httpx_client`` you passed in, an ``http_transport`` object)
  cannot be copied for another loop: used from a new loop while it holds connections of the old one,
  it raises :func:`loop_error`, a ``ConfigurationError`` saying what to do.

Under trio there is no asyncio loop (``None``): one pool, as before.

Those pools are made when first needed, not in ``AsyncMeshAPI()``: httpx's TLS context loads the CA bundle
(about 20 ms), which a constructor called inside a running loop would spend in one loop step. They share
one TLS context (``meshapi._transport.fork.ssl_context``), which ``meshapi._warmup`` makes in its thread, so the first call
(which waits for that thread) makes its pool in well under a millisecond.
"""

from __future__ import annotations

import socket
import sys
import threading
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterator, Optional

import httpx

from .._errors import ConfigurationError
from . import fork as _fork

if TYPE_CHECKING:
    import asyncio

__all__ = ["UNBOUND", "LoopPools", "abandon", "anyio_sleep", "close_sockets", "loop_error", "running_loop"]


def running_loop() -> Optional[asyncio.AbstractEventLoop]:
    """The running asyncio loop or ``None`` (trio, or no loop); no exception on the fast path. asyncio is
    not imported here (a sync program never needs it, about 20 ms of its cold start): no loop runs
    before something imported it."""
    module = sys.modules.get("asyncio")
    return None if module is None else module._get_running_loop()  # type: ignore[no-any-return]


UNBOUND = object()  # an async client's loop before any event loop has sent through it


async def anyio_sleep(seconds: float) -> None:
    """The async client's sleep between attempts."""
    import anyio  # httpx's own dependency: the sleep works under asyncio and trio alike

    await anyio.sleep(seconds)


def loop_error(what: str) -> ConfigurationError:
    return ConfigurationError(
        f"This {what} holds connections of another event loop (an earlier asyncio.run, or another test's "
        "loop) and cannot be used from this one. Create the httpx.AsyncClient inside the event loop that "
        "uses it and close it (await client.aclose()) before that loop ends, or pass no async_httpx_client "
        "/ http_transport object: the pool AsyncMeshAPI makes itself follows each event loop.",
        error_code="client_used_across_event_loops",
    )


# How a pooled connection reaches its socket: httpcore's connection wrappers, the SDK's stream wrapper
# (pool._AsyncStream._inner), httpcore's AnyIOStream / TrioStream ._stream, anyio's TLS wrapper, then an
# asyncio transport (``_transport``) or a trio socket (trio.SocketStream.socket, anyio's _trio_socket).
_WRAPPERS = (
    "_connection",
    "_network_stream",
    "_inner",
    "_stream",
    "transport_stream",
    "socket",
    "_trio_socket",
)


def _socket_holders(node: Any) -> Iterator[Any]:
    """The asyncio transports (a TLS one, then the one under it) or the trio socket under ``node``."""
    import asyncio  # an async pool's sockets: asyncio is loaded when it made them (or trio, which needs it too)

    for _ in range(10):
        if node is None:
            return
        transport = node if isinstance(node, asyncio.BaseTransport) else getattr(node, "_transport", None)
        if isinstance(transport, asyncio.BaseTransport):
            yield transport
            ssl = getattr(transport, "_ssl_protocol", None)  # asyncio's TLS: the socket is one level down
            if ssl is not None:
                yield from _socket_holders(getattr(ssl, "_transport", None))
            return
        if isinstance(getattr(node, "_sock", None), socket.socket):  # trio's socket wrapper
            yield node
            return
        node = next(
            (getattr(node, name) for name in _WRAPPERS if getattr(node, name, None) is not None), None
        )


def _close_directly(holder: Any) -> None:
    """Close a socket without running its loop (closed, idle in this thread, or a trio run that is over)."""
    import asyncio

    sock = getattr(holder, "_sock", None)
    if sock is not None:
        loop = getattr(holder, "_loop", None)
        if loop is not None and not loop.is_closed():  # an idle loop keeps a selector: unregister first
            for remove in (loop._remove_reader, loop._remove_writer):
                try:
                    remove(sock.fileno())
                except Exception:  # not registered, or not a selector loop
                    pass
        try:
            sock.close()  # the peer sees the TCP close it would have seen from aclose()
        except OSError:  # already gone on the OS side: nothing left to release
            pass
        if isinstance(holder, asyncio.BaseTransport):
            holder._sock = None  # type: ignore[attr-defined]  # what asyncio's __del__ checks before warning
            # an open loop reuses the descriptor number only once the transport holding it reads as closing
            holder._closing = True  # type: ignore[attr-defined]
    if isinstance(holder, asyncio.BaseTransport) and hasattr(holder, "_closed"):
        holder._closed = True  # type: ignore[attr-defined]  # asyncio's TLS transport warns on this flag


def close_sockets(node: Any) -> None:
    """Close the sockets under a connection (or its stream) without its loop (see :func:`abandon`)."""
    for holder in _socket_holders(node):
        _close_directly(holder)


def abandon(client: httpx.AsyncClient) -> None:
    """Drop a pool whose event loop (or trio run) is over: sockets closed directly, the loop never touched.

    The one way the SDK lets go of async connections it cannot close on their loop: the pool switch of
    :class:`LoopPools`, ``aclose()`` (and so the pytest plugin's teardown), a test's own client. httpx's
    pool (httpcore's, over asyncio or trio) and :class:`~meshapi._transport.aiohttp.AiohttpTransport`.
    """
    transport = getattr(client, "_transport", None)
    drop = getattr(transport, "abandon", None)  # AiohttpTransport: its session and connector
    if callable(drop):
        drop()
    for pool in _fork._pools(client):
        for connection in list(getattr(pool, "_connections", None) or []):
            close_sockets(connection)
        try:
            pool._connections = []
            pool._requests = []
        except Exception:  # a pool that is not httpcore's: leave it alone
            pass
    try:
        from httpx._client import ClientState

        client._state = ClientState.CLOSED  # type: ignore[attr-defined]
    except (ImportError, AttributeError):  # another httpx layout: nothing else to mark
        pass


def _dead(loop: Optional[asyncio.AbstractEventLoop]) -> bool:
    return loop is not None and loop.is_closed()


class LoopPools:
    """The SDK's own ``httpx.AsyncClient`` for each event loop (shared by ``with_options`` copies).

    ``make`` builds a new pool with the client's settings, when a loop first sends (or :meth:`first`
    is asked for the pool before that).
    """

    def __init__(self, make: Callable[[], httpx.AsyncClient]) -> None:
        self._make = make
        self._first: Optional[httpx.AsyncClient] = None  # the first pool made (shown before any send)
        self._unbound: Optional[httpx.AsyncClient] = None  # that pool, while no loop has taken it
        self._pools: Dict[Optional[asyncio.AbstractEventLoop], httpx.AsyncClient] = {}
        self._lock = threading.Lock()
        self.closed = False

    def first(self) -> httpx.AsyncClient:
        """The first pool, made now if no loop has sent yet (it waits, unbound, for the first loop).

        Closed at once when made after :meth:`aclose` (a client closed before it ever sent).
        """
        with self._lock:
            if self._first is None:
                self._first = self._unbound = self._make()
                if self.closed:
                    abandon(self._first)  # nothing open: only marked closed
            return self._first

    def for_loop(self, loop: Optional[asyncio.AbstractEventLoop]) -> httpx.AsyncClient:
        """The pool of ``loop`` (made on its first call); pools of closed loops are dropped here."""
        known = self._pools.get(loop)
        if known is not None:
            return known
        with self._lock:  # two threads' loops arriving at once: one takes the first pool, none a KeyError
            known = self._pools.get(loop)
            if known is not None:
                return known
            for old in [key for key in self._pools if _dead(key)]:
                abandon(self._pools.pop(old))
            client, self._unbound = self._unbound or self._make(), None
            if self._first is None:
                self._first = client
            self._pools[loop] = client
            return client

    async def aclose(self, loop: Optional[asyncio.AbstractEventLoop]) -> None:
        """Close every pool: ``loop``'s (and the unused first one) as usual, the other loops' dropped."""
        self.closed = True
        current = self._pools.pop(loop, None)
        unbound, self._unbound = self._unbound, None
        others, self._pools = list(self._pools.items()), {}
        for old, client in others:
            if old is not None and old.is_running():  # another thread's loop: closed there
                import asyncio

                closing = client.aclose()
                try:
                    asyncio.run_coroutine_threadsafe(closing, old)
                except RuntimeError:  # that loop closed meanwhile: its sockets are dropped instead
                    closing.close()
                    abandon(client)
            elif _dead(old) or _fork.has_connections(client):
                abandon(client)  # its loop cannot be awaited from here
            else:
                await client.aclose()  # nothing open: closing touches no loop
        for mine in (current, unbound):
            if mine is not None:
                await mine.aclose()
