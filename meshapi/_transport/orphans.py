"""Connections whose event loop is gone: their sockets closed without it, and without a ResourceWarning.

An ``AsyncMeshAPI``'s pool opens its connections on the loop (or trio run) of its first call. A test runner closes
that loop when the test ends (pytest-asyncio's function-scoped loop, anyio's runner), before the
fixtures' synchronous teardown runs; a plain ``aclose()`` then fails (``Event loop is closed``), and
leaving the connections to the garbage collector warns ``unclosed transport``. Nothing can be sent on
such a connection any more, so it is dropped: the socket is closed directly (the peer sees the TCP close
it would have seen from ``aclose()``) and the pool forgets it. Connections of a loop that is still open
are left alone: close those with ``aclose()`` on their loop.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any, Iterator, List

import httpx

__all__ = ["drop_connections_of_closed_loops"]

# How a pooled connection reaches its socket: httpcore's connection wrappers, the SDK's stream wrapper
# (pool._AsyncStream._inner), httpcore's AnyIOStream / TrioStream ._stream, anyio's TLS wrapper, then
# an asyncio transport (``_transport``) or a trio socket (trio.SocketStream.socket, anyio's _trio_socket).
_WRAPPERS = (
    "_connection",
    "_network_stream",
    "_inner",
    "_stream",
    "transport_stream",
    "socket",
    "_trio_socket",
)


def _pools(client: httpx.AsyncClient) -> Iterator[Any]:
    for transport in [getattr(client, "_transport", None), *getattr(client, "_mounts", {}).values()]:
        pool = getattr(transport, "_pool", None)
        if pool is not None:
            yield pool


def _socket_holder(connection: Any) -> Any:
    """The asyncio transport (or trio socket) under a pooled connection, or None."""
    node, seen = connection, 0
    while node is not None and seen < 8:
        transport = getattr(node, "_transport", None)
        if isinstance(transport, asyncio.BaseTransport):
            return transport
        trio = sys.modules.get("trio")  # loaded if a connection was ever opened under trio
        if trio is not None and isinstance(node, trio.socket.SocketType):
            return node
        node = next(
            (getattr(node, name) for name in _WRAPPERS if getattr(node, name, None) is not None), None
        )
        seen += 1
    return None


def _orphaned(holder: Any) -> bool:
    if isinstance(holder, asyncio.BaseTransport):
        loop = getattr(holder, "_loop", None)
        return loop is not None and loop.is_closed()
    import trio  # a trio socket: orphaned when no trio run is active in this thread

    try:
        trio.lowlevel.current_trio_token()
    except RuntimeError:
        return True
    return False


def drop_connections_of_closed_loops(client: httpx.AsyncClient) -> List[asyncio.AbstractEventLoop]:
    """Close the sockets of the pooled connections whose event loop (or trio run) is over.

    Returns the open asyncio loops that still hold connections of this pool (close those on their loop).
    """
    still_open: List[asyncio.AbstractEventLoop] = []
    for pool in _pools(client):
        kept: List[Any] = []
        dropped = 0
        for connection in list(getattr(pool, "_connections", None) or []):
            holder = _socket_holder(connection)
            if holder is None or not _orphaned(holder):
                kept.append(connection)
                loop = getattr(holder, "_loop", None)
                if isinstance(loop, asyncio.AbstractEventLoop) and loop not in still_open:
                    still_open.append(loop)
                continue
            sock = getattr(holder, "_sock", None)
            if sock is not None:
                try:
                    sock.close()
                except OSError:  # already gone on the OS side: nothing left to release
                    pass
                if isinstance(holder, asyncio.BaseTransport):
                    # what asyncio's __del__ checks before warning "unclosed transport"
                    setattr(holder, "_sock", None)  # noqa: B010 (a private of asyncio's transports)
                    setattr(holder, "_closing", True)  # noqa: B010
            dropped += 1
        if dropped:
            pool._connections = kept
    return still_open
