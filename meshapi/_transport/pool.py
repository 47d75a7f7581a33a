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

Their connections also accept a deadline on reads (``drain_bound``): after a stream's end marker the
rest of the body (the chunked terminator) is read within a short bound, so the connection goes back
to the pool instead of being closed, and a server that never ends the body cannot hold the caller.

The planning function is pure bookkeeping shared by the sync and the async pool; only pools built by
``MeshAPI`` / ``AsyncMeshAPI`` use it (an ``httpx.Client`` you pass in keeps its own pool), and only
when the installed httpcore plans its pool the way this module expects (``supported()``).
"""

from __future__ import annotations

import datetime
import logging
import time
from typing import Any, AsyncIterator, Dict, Iterator, List, Mapping, Optional, Tuple, TypeVar

import httpcore
import httpx

from .._core.decompress import BodyTooLarge
from .._errors import APIConnectionError

__all__ = [
    "DRAIN_BYTES",
    "DRAIN_SECONDS",
    "SWEEP_SECONDS",
    "Direct",
    "adopt",
    "adrain",
    "closed_error",
    "drain",
    "drain_bound",
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


class _LeanAsyncPool(httpcore.AsyncConnectionPool):
    def _assign_requests_to_connections(self) -> List[Any]:
        return plan(self)


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
    """Mark ``client`` as made by the SDK (``Direct`` may skip its no-op layers) and, when ``plan``,
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


# --- sending on our own pools ------------------------------------------------------------------------------
def closed_error() -> APIConnectionError:
    return APIConnectionError(
        "This client has been closed; create a new one (or do not close it while it is in use)."
    )


_httpx_log = logging.getLogger("httpx")


class _Timed(httpx.SyncByteStream, httpx.AsyncByteStream):
    """The response body, setting ``response.elapsed`` when it is closed (as httpx's client does)."""

    __slots__ = ("_response", "_start", "_stream")

    def __init__(self, stream: Any, response: httpx.Response, start: float) -> None:
        self._stream, self._response, self._start = stream, response, start

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._stream)

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._stream.__aiter__()  # type: ignore[no-any-return]

    def close(self) -> None:
        self._response.elapsed = datetime.timedelta(seconds=time.perf_counter() - self._start)
        self._stream.close()

    async def aclose(self) -> None:
        self._response.elapsed = datetime.timedelta(seconds=time.perf_counter() - self._start)
        await self._stream.aclose()


class Direct:
    """Sends a built request straight to the transport of a client the SDK made, when it can.

    ``httpx.Client.send`` wraps every request in an auth flow, a redirect loop, event hooks, a cookie
    jar update and a log line; on a client with no auth, no hooks and no proxy mounts (the SDK's own,
    unless proxy variables are set) all of that is a no-op that costs a tenth of a call. ``of(client)``
    returns ``None`` when anything would differ; then the caller uses ``client.send`` as usual. What
    remains is done here as httpx does it: the request is attached to the response and to transport
    errors, ``elapsed`` is set on close, cookies are kept, and the ``httpx`` logger gets its line.
    """

    __slots__ = ("_client", "_headers", "_timeouts", "_transport")

    def __init__(self, client: Any, transport: Any) -> None:
        self._client, self._transport = client, transport
        self._headers: Optional[Tuple[Mapping[str, str], httpx.Headers]] = None
        self._timeouts: Dict[int, Tuple[httpx.Timeout, Dict[str, Any]]] = {}

    def stateless(self) -> bool:
        """No cookies and no default params on the client: a request can be built without merging."""
        return not self._client.cookies and not self._client.params

    def headers(self, base: Mapping[str, str]) -> httpx.Headers:
        """A copy of the client's headers with ``base`` over them, normalised once per ``base``."""
        cached = self._headers
        if cached is None or cached[0] is not base:
            merged = httpx.Headers(self._client.headers)
            merged.update(base)
            cached = self._headers = (base, merged)
        return cached[1].copy()

    def timeout(self, timeout: httpx.Timeout) -> Dict[str, Any]:
        """The request extensions for ``timeout`` (httpx builds this dict on every call)."""
        cached = self._timeouts.get(id(timeout))
        if cached is None or cached[0] is not timeout:  # keyed by identity: the client's own is reused
            if len(self._timeouts) > 64:
                self._timeouts.clear()
            cached = self._timeouts[id(timeout)] = (timeout, timeout.as_dict())
        return {"timeout": cached[1]}

    @classmethod
    def of(cls, client: Any) -> Optional[Direct]:
        """The direct sender for ``client``, or ``None`` when ``client.send`` must be used."""
        if not getattr(client, "_meshapi_made", False):
            return None  # an httpx client you passed in keeps every layer of its own
        try:
            plain = (
                not client._mounts
                and client._auth is None
                and not any(client._event_hooks.values())
                and (
                    type(client._transport) in (httpx.HTTPTransport, httpx.AsyncHTTPTransport)
                    or getattr(client._transport, "meshapi_direct", False) is True
                )
            )
        except AttributeError:  # another httpx layout: always the public path
            return None
        return cls(client, client._transport) if plain else None

    def _finish(self, request: httpx.Request, response: httpx.Response, start: float) -> httpx.Response:
        response.request = request
        response.stream = _Timed(response.stream, response, start)
        if "set-cookie" in response.headers:
            self._client.cookies.extract_cookies(response)
        response.default_encoding = self._client._default_encoding
        if _httpx_log.isEnabledFor(logging.INFO):
            _httpx_log.info(
                'HTTP Request: %s %s "%s %d %s"',
                request.method,
                request.url,
                response.http_version,
                response.status_code,
                response.reason_phrase,
            )
        return response

    def _usable(self, request: httpx.Request) -> bool:
        """False when ``client.send`` must take this request (credentials in the URL: httpx turns them
        into Basic auth). A client closed meanwhile (another thread, during a retry's wait) raises: the
        pool would otherwise open a connection nothing closes."""
        if self._client.is_closed:
            raise closed_error()
        return not request.url.userinfo

    def send(self, request: httpx.Request) -> httpx.Response:
        if not self._usable(request):
            return self._client.send(request, stream=True, follow_redirects=False)  # type: ignore[no-any-return]
        start = time.perf_counter()
        try:
            response = self._transport.handle_request(request)
        except httpx.RequestError as exc:
            exc.request = request
            raise
        return self._finish(request, response, start)

    async def asend(self, request: httpx.Request) -> httpx.Response:
        if not self._usable(request):
            return await self._client.send(request, stream=True, follow_redirects=False)  # type: ignore[no-any-return]
        start = time.perf_counter()
        try:
            response = await self._transport.handle_async_request(request)
        except httpx.RequestError as exc:
            exc.request = request
            raise
        return self._finish(request, response, start)
