"""Connection-pool bookkeeping in linear time, for the pools the SDK creates itself.

httpcore re-plans its whole pool on every request and every response close: it asks each connection
whether it has expired (a ``poll()`` on each idle socket, through anyio's typed attributes) and, for
each idle one, counts the pool again. With 64 connections that is thousands of checks per call, and
it is most of the CPU an async call costs. The
plan below gives the same answers with a fraction of the work:

- the full sweep (closed connections dropped, expired ones closed: a socket poll per idle connection)
  runs at most every ``SWEEP_SECONDS``, and a closed connection is never handed a request meanwhile;
- a response that closes while nobody waits plans nothing;
- a connection is checked for expiry (keep-alive time, or the server having closed it) right before
  it is handed a request, so a dead connection is never reused;
- idle connections beyond ``max_keepalive_connections`` are closed, oldest first (httpcore counts
  every connection there, idle or not, so a pool busier than its keep-alive limit closed and reopened
  connections all the time).

Requests on these pools skip ``httpx.Client.send`` (``meshapi._transport.direct``). Their connections
also accept a deadline on reads (``drain_bound``): after a stream's end marker the
rest of the body (the chunked terminator) is read within a short bound, so the connection goes back
to the pool instead of being closed, and a server that never ends the body cannot hold the caller.
An HTTP/2 stream closed before its end is reset instead (``meshapi._transport.http2``).

The planning function is pure bookkeeping shared by the sync and the async pool; only pools built by
``MeshAPI`` / ``AsyncMeshAPI`` use it (an ``httpx.Client`` you pass in keeps its own pool), and only
when the installed httpcore plans its pool the way this module expects (``supported()``).
The limits those pools are built with (``DEFAULT_LIMITS``), the httpx transport ``http_transport=``
names (``httpx_async_transport``) and the building of the clients themselves (``new_sync_client``,
``new_async_client``) are here too. Unless it is loaded already, those pools load the CA bundle at
their first ``https`` request, not when they are made (``defer_tls``): a client of an ``http://``
gateway never loads it (``AsyncMeshAPI``'s warm-up thread loads it for an ``https`` one, off the loop).
"""

from __future__ import annotations

import time
from typing import Any, AsyncIterator, Callable, Iterator, List, Optional, TypeVar, Union

import httpcore
import httpx

from .._core.decompress import BodyTooLarge
from .._errors import ConfigurationError
from . import fork as _fork
from .http2 import HTTP2, AsyncResetOnClose, ResetOnClose

__all__ = [
    "ASYNC_DEFAULT_LIMITS",
    "DEFAULT_LIMITS",
    "DRAIN_BYTES",
    "DRAIN_SECONDS",
    "SWEEP_SECONDS",
    "adopt",
    "adrain",
    "defer_tls",
    "drain",
    "drain_bound",
    "httpx_async_transport",
    "load_tls",
    "new_async_client",
    "new_sync_client",
    "plan",
    "speed_up",
    "supported",
]

SWEEP_SECONDS = 1.0
_C = TypeVar("_C", httpx.Client, httpx.AsyncClient)


def plan(pool: Any) -> List[Any]:
    """Assign queued requests to connections; return the connections to close (httpcore's contract)."""
    closing: List[Any] = []
    now = time.monotonic()
    if now - getattr(pool, "_meshapi_swept", 0.0) >= SWEEP_SECONDS:
        pool._meshapi_swept = now
        kept = []
        for connection in pool._connections:
            if connection.is_closed():
                continue
            if connection.has_expired():
                closing.append(connection)
            else:
                kept.append(connection)
        pool._connections = kept
    connections: List[Any] = pool._connections
    queued = [request for request in pool._requests if request.connection is None]
    if not queued and len(connections) <= pool._max_keepalive_connections:
        return closing  # a response closed and nobody waits: nothing to plan
    # An HTTP/1.1 connection handed to a request that has not started sending yet still reads as idle;
    # httpcore hands it out again and the second request has to start over (ConnectionNotAvailable).
    reserved = set() if pool._http2 else {id(r.connection) for r in pool._requests if r.connection}
    # a connection whose connect failed reads as closed *and* idle until the next sweep: not idle here
    idle = [c for c in connections if id(c) not in reserved and c.is_idle() and not c.is_closed()]
    surplus = len(idle) - pool._max_keepalive_connections
    if surplus > 0:
        for connection in idle[:surplus]:
            connections.remove(connection)
            closing.append(connection)
        del idle[:surplus]
    for pool_request in queued:
        origin = pool_request.request.url.origin
        chosen = None
        for connection in list(connections):
            if not connection.is_available() or id(connection) in reserved:
                continue
            if not connection.can_handle_request(origin):
                continue
            if connection.is_idle() and connection.has_expired():  # dead: never hand it a request
                connections.remove(connection)
                closing.append(connection)
                if connection in idle:
                    idle.remove(connection)
                continue
            chosen = connection
            break
        if chosen is None:
            if len(connections) >= pool._max_connections:
                connections[:] = [c for c in connections if not c.is_closed()]
            if len(connections) >= pool._max_connections:
                if not idle:
                    continue  # stays queued until a connection frees up
                victim = idle.pop(0)
                connections.remove(victim)
                closing.append(victim)
            chosen = pool.create_connection(origin)
            connections.append(chosen)
        elif chosen in idle:
            idle.remove(chosen)
        if not pool._http2:
            reserved.add(id(chosen))
        _clear_deadline(chosen)
        pool_request.assign_to_connection(chosen)
    return closing


class _Bounded:
    """What both network-stream wrappers share: an optional deadline on reads (``drain_until``)."""

    drain_deadline: Optional[float] = None

    def _timeout(self, timeout: Optional[float]) -> Optional[float]:
        deadline = self.drain_deadline
        if deadline is None:
            return timeout
        left = deadline - time.monotonic()
        if left <= 0:
            raise httpcore.ReadTimeout("the rest of the stream did not arrive in time")
        return left if timeout is None else min(timeout, left)


class _Stream(_Bounded, httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: Optional[float] = None) -> bytes:
        return self._inner.read(max_bytes, self._timeout(timeout))

    def write(self, buffer: bytes, timeout: Optional[float] = None) -> None:
        self._inner.write(buffer, timeout)

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        return _Stream(self._inner.start_tls(*args, **kwargs))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _AsyncStream(_Bounded, httpcore.AsyncNetworkStream):
    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner

    async def read(self, max_bytes: int, timeout: Optional[float] = None) -> bytes:
        return await self._inner.read(max_bytes, self._timeout(timeout))

    async def write(self, buffer: bytes, timeout: Optional[float] = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(self, *args: Any, **kwargs: Any) -> httpcore.AsyncNetworkStream:
        return _AsyncStream(await self._inner.start_tls(*args, **kwargs))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        return _Stream(self._inner.connect_tcp(*args, **kwargs))

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        return _Stream(self._inner.connect_unix_socket(*args, **kwargs))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _AsyncBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self._inner = inner

    async def connect_tcp(self, *args: Any, **kwargs: Any) -> httpcore.AsyncNetworkStream:
        return _AsyncStream(await self._inner.connect_tcp(*args, **kwargs))

    async def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.AsyncNetworkStream:
        return _AsyncStream(await self._inner.connect_unix_socket(*args, **kwargs))

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def drain_bound(response: httpx.Response) -> Optional[_Bounded]:
    """The connection of ``response`` if it can bound its reads (a pool of ours), else ``None``.

    Not for HTTP/2: its network stream carries every request of the connection, and a deadline there
    would cut the others' reads.
    """
    stream = response.extensions.get("network_stream")
    if not isinstance(stream, _Bounded) or response.http_version != "HTTP/1.1":
        return None
    return stream


def _clear_deadline(connection: Any) -> None:
    """A connection handed to a request reads without the drain deadline of the stream before it
    (which is cleared right after the drain, but the connection is back in the pool a moment earlier)."""
    stream = getattr(getattr(connection, "_connection", None), "_network_stream", None)
    if isinstance(stream, _Bounded):
        stream.drain_deadline = None


class _LeanPool(httpcore.ConnectionPool):
    def _assign_requests_to_connections(self) -> List[Any]:
        return plan(self)

    def handle_request(self, request: httpcore.Request) -> httpcore.Response:
        if "_meshapi_tls_later" in self.__dict__ and request.url.scheme == b"https":
            load_tls(self)  # before the request queues: outside the pool's lock, raised to this caller
        response = super().handle_request(request)
        if response.extensions.get("http_version") == HTTP2:  # closed early: reset (``http2``)
            response.stream = ResetOnClose(response.stream)
        return response


class _LeanAsyncPool(httpcore.AsyncConnectionPool):
    def _assign_requests_to_connections(self) -> List[Any]:
        return plan(self)

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        if "_meshapi_tls_later" in self.__dict__ and request.url.scheme == b"https":
            load_tls(self)
        response = await super().handle_async_request(request)
        if response.extensions.get("http_version") == HTTP2:
            response.stream = AsyncResetOnClose(response.stream)
        return response


def supported() -> bool:
    """True when httpcore's pools have the planning step this module replaces (httpcore >= 1.0.3)."""
    return all(
        hasattr(cls, "_assign_requests_to_connections") and hasattr(cls, "create_connection")
        for cls in (httpcore.ConnectionPool, httpcore.AsyncConnectionPool)
    )


def speed_up(client: Any) -> bool:
    """Give the default pool of an ``httpx.Client`` / ``AsyncClient`` the linear plan; True if done.

    Only the plain pool of httpx's default transport is changed (not a proxy's, not a transport you
    configured); the switch adds no state, so the pool keeps every setting it was built with.
    """
    transport = getattr(client, "_transport", None)
    if not supported() or type(transport) not in (httpx.HTTPTransport, httpx.AsyncHTTPTransport):
        return False
    pool = getattr(transport, "_pool", None)
    if type(pool) is httpcore.ConnectionPool:
        pool.__class__ = _LeanPool
        pool._network_backend = _Backend(pool._network_backend)
    elif type(pool) is httpcore.AsyncConnectionPool:
        pool.__class__ = _LeanAsyncPool
        pool._network_backend = _AsyncBackend(pool._network_backend)
    else:
        return False
    return True


def adopt(client: _C, *, plan: bool) -> _C:
    """Mark ``client`` as made by the SDK (``direct.Direct`` may skip its no-op layers) and, when ``plan``,
    give its default pool the linear plan (``speed_up``). Returns ``client``."""
    marked: Any = client
    marked._meshapi_made = True
    if plan:
        speed_up(client)
    return client


#: After the end marker, the rest of a body (a chunked terminator) is read for at most this long and
#: this many bytes, so the connection returns to the pool; past either bound it is closed instead.
DRAIN_SECONDS = 0.25
DRAIN_BYTES = 64 * 1024


def drain(chunks: Iterator[bytes], response: httpx.Response) -> None:
    bound = drain_bound(response)
    if bound is None:  # a connection we cannot bound (your own client, aiohttp): closed, as before
        return
    bound.drain_deadline = time.monotonic() + DRAIN_SECONDS
    try:
        seen = 0
        for chunk in chunks:
            seen += len(chunk)
            if seen > DRAIN_BYTES:
                return
    except (httpx.HTTPError, BodyTooLarge):
        pass  # the connection is closed with the response; what mattered has been delivered
    finally:
        bound.drain_deadline = None


async def adrain(chunks: AsyncIterator[bytes], response: httpx.Response) -> None:
    bound = drain_bound(response)
    if bound is None:
        return
    bound.drain_deadline = time.monotonic() + DRAIN_SECONDS
    try:
        seen = 0
        async for chunk in chunks:
            seen += len(chunk)
            if seen > DRAIN_BYTES:
                return
    except (httpx.HTTPError, BodyTooLarge):
        pass
    finally:
        bound.drain_deadline = None


DEFAULT_LIMITS = httpx.Limits(max_connections=256, max_keepalive_connections=64, keepalive_expiry=30.0)
# The same as the sync pool's now. httpcore's own pool planning grows with the square of the connections
# it keeps (64 kept alive made each call ~3x slower than its default of 20); the pools the SDK builds plan
# in linear time instead (``plan`` below), so keeping 64 alive costs nothing per call.
ASYNC_DEFAULT_LIMITS = DEFAULT_LIMITS


def httpx_async_transport(
    choice: Optional[Union[str, httpx.AsyncBaseTransport]],
    limits: httpx.Limits = DEFAULT_LIMITS,
) -> Optional[httpx.AsyncBaseTransport]:
    """The httpx transport ``http_transport=`` names: ``None``/``"httpx"``: httpx's own pool (``None``);
    ``"aiohttp"``: ``AiohttpTransport``; or the ``httpx.AsyncBaseTransport`` given."""
    if choice is None or choice == "httpx":
        return None
    if choice == "aiohttp":
        from .aiohttp import AiohttpTransport

        return AiohttpTransport(limits=limits)
    if isinstance(choice, httpx.AsyncBaseTransport):
        return choice
    raise ConfigurationError(
        f"http_transport must be 'httpx', 'aiohttp' or an httpx.AsyncBaseTransport, got {choice!r}"
    )


def defer_tls(client: Union[httpx.Client, httpx.AsyncClient], http2: bool) -> bool:
    """Leave the CA bundle of ``client``'s pool unloaded until its first ``https`` request; True if done.

    Loading it is most of what ``httpx.Client()`` costs (about a fifth of a cold start), and a client of
    a gateway on ``http://`` (the local one) never needs it. Only a pool of ours can: its first ``https``
    request loads it (:func:`load_tls`, from ``handle_request``, before the request is queued); until
    then the pool holds ``fork.unloaded_ssl_context()``, which refuses every handshake. A client with
    proxy transports mounted (``HTTPS_PROXY`` and the like: httpx's pools, not ours) cannot, and gets
    its context at once from the caller.
    """
    pool: Any = getattr(getattr(client, "_transport", None), "_pool", None)
    mounts = getattr(client, "_mounts", None)
    if type(pool) not in (_LeanPool, _LeanAsyncPool) or mounts is None or any(mounts.values()):
        return False
    pool._meshapi_tls_later = http2
    return True


def load_tls(pool: Any) -> None:
    """Give ``pool`` (deferred by :func:`defer_tls`) the SDK's shared TLS context of its kind, once.

    The context is set before the mark goes, so a thread that sees no mark finds the context in place.
    A CA file that cannot be loaded (``SSL_CERT_FILE`` / ``SSL_CERT_DIR``) is a ``ConfigurationError``
    for the request that needed it; the mark stays, so the next ``https`` request tries again."""
    http2 = pool.__dict__.get("_meshapi_tls_later")
    if http2 is None:
        return
    try:
        context = _fork.ssl_context(http2)
    except OSError as exc:  # ssl.SSLError included: a file that is not a CA bundle
        raise ConfigurationError(
            f"Could not load the CA certificates for TLS ({type(exc).__name__}: {exc}); check "
            "SSL_CERT_FILE and SSL_CERT_DIR, which name the files httpx and the SDK trust."
        ) from exc
    pool._ssl_context = context
    pool.__dict__.pop("_meshapi_tls_later", None)


def _with_tls(make: Callable[[Any], _C], http2: bool) -> _C:
    """``make(verify)``, adopted with the linear plan: its CA bundle deferred to the first ``https``
    request (:func:`defer_tls`) unless the context is loaded already or the client cannot defer it."""
    if not _fork.ssl_ready(http2):
        client = adopt(make(_fork.unloaded_ssl_context()), plan=True)
        if defer_tls(client, http2):
            return client
        if isinstance(client, httpx.Client):  # proxies, or an httpcore we do not plan for: as httpx would
            client.close()  # (an AsyncClient that never connected holds nothing to close)
    return adopt(make(_fork.ssl_context(http2)), plan=True)


def new_sync_client(
    timeout: httpx.Timeout, limits: Optional[httpx.Limits], http2: bool = False
) -> httpx.Client:
    """The ``httpx.Client`` a ``SyncHttpClient`` makes for itself (``limits``: the config's, else the default;
    ``http2``: HTTP/2 offered over TLS, the ``h2`` package checked by the config)."""
    limits = limits or DEFAULT_LIMITS
    return _with_tls(
        lambda verify: httpx.Client(timeout=timeout, limits=limits, verify=verify, http2=http2), http2
    )


def new_async_client(
    timeout: httpx.Timeout,
    limits: Optional[httpx.Limits],
    choice: Optional[Union[str, httpx.AsyncBaseTransport]],
    http2: bool = False,
) -> httpx.AsyncClient:
    """The ``httpx.AsyncClient`` an ``AsyncHttpClient`` makes for one event loop, over ``choice``'s transport
    (``http2``: on httpx's own pool only; the client refuses it with another transport)."""
    if http2 and choice not in (None, "httpx"):  # made when the client is (see AsyncHttpClient.__init__)
        raise ConfigurationError("http2=True needs httpx's own transport (http_transport='httpx')")
    limits = limits or ASYNC_DEFAULT_LIMITS
    transport = httpx_async_transport(choice, limits)
    if transport is not None:  # aiohttp, or one you configured: its own TLS, no linear plan
        return adopt(httpx.AsyncClient(timeout=timeout, limits=limits, transport=transport), plan=False)
    return _with_tls(
        lambda verify: httpx.AsyncClient(timeout=timeout, limits=limits, verify=verify, http2=http2), http2
    )
