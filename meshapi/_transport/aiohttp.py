"""``AiohttpTransport``: an ``httpx`` async transport backed by one ``aiohttp.ClientSession``.

httpx's own async connection pool spends most of its time managing the pool once dozens of requests run
at once (see ``benchmarks/README.md``). This transport keeps the ``httpx`` interface (the SDK, event hooks,
``httpx.Response`` and its exceptions are unchanged) and hands the wire work to aiohttp:

    client = AsyncMeshAPI(http_transport="aiohttp")             # the SDK builds the transport
    httpx.AsyncClient(transport=AiohttpTransport())              # or use it with any httpx client

What the SDK relies on holds here too:

* **Errors** are the matching ``httpx`` exceptions, mapped in :func:`map_aiohttp_error` (connection
  refused -> ``ConnectError``, no data within the read timeout -> ``ReadTimeout``, a body cut short ->
  ``RemoteProtocolError``, ...), so retries and error classes behave as with httpx's transport.
* **Timeouts** come from each request's ``timeout`` extension (set by ``httpx.AsyncClient``): ``connect``
  bounds opening a connection, ``read`` bounds every wait for data (so, in a stream, the gap between
  events), ``pool`` bounds the wait for a free connection. aiohttp has no write timeout; ``write`` is
  ignored.
* **Streaming**: the body is an ``httpx.AsyncByteStream`` reading the aiohttp response as data arrives;
  closing it releases the aiohttp response (a connection whose body was not read to the end is closed,
  not reused). ``aclose()`` closes the session and every pooled connection.

aiohttp is an optional dependency (``pip install "meshapi[aiohttp]"``), imported when the first
transport is created. The session is created on first use, inside the running event loop, and belongs
to that loop.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, AsyncIterator, Dict, List, Optional, Tuple

import httpx

if TYPE_CHECKING:  # pragma: no cover
    import aiohttp

__all__ = ["AiohttpTransport", "map_aiohttp_error"]

_INSTALL_HINT = 'AiohttpTransport needs aiohttp: pip install "meshapi[aiohttp]"'
_DEFAULT_LIMITS = httpx.Limits(max_connections=256, max_keepalive_connections=64, keepalive_expiry=30.0)
_TimeoutKey = Tuple[Optional[float], Optional[float], Optional[float], bool]


def _import_aiohttp() -> Any:
    try:
        import aiohttp
    except ImportError as exc:
        raise ImportError(_INSTALL_HINT) from exc
    return aiohttp


def map_aiohttp_error(
    exc: BaseException, request: httpx.Request, *, waited_for_pool: bool = False
) -> httpx.TransportError:
    """The ``httpx`` exception matching an aiohttp / asyncio failure (the caller chains ``exc``).

    ``waited_for_pool``: every connection was busy when the request started, so a timeout while
    acquiring one is a ``PoolTimeout`` rather than a ``ConnectTimeout``.
    """
    import aiohttp

    message = str(exc) or type(exc).__name__
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        if waited_for_pool:
            return httpx.PoolTimeout(message, request=request)
        return httpx.ConnectTimeout(message, request=request)
    if isinstance(exc, (aiohttp.ServerTimeoutError, asyncio.TimeoutError)):
        return httpx.ReadTimeout(message, request=request)
    if isinstance(exc, aiohttp.ClientConnectorError):  # refused, DNS, TLS handshake
        return httpx.ConnectError(message, request=request)
    if isinstance(exc, (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError)):
        return httpx.RemoteProtocolError(message, request=request)
    if isinstance(exc, aiohttp.ClientResponseError):  # malformed status line or headers
        return httpx.RemoteProtocolError(message, request=request)
    if isinstance(exc, aiohttp.InvalidURL):
        return httpx.UnsupportedProtocol(message, request=request)
    if isinstance(exc, (aiohttp.ClientOSError, OSError)):  # reset or broken pipe on an open connection
        return httpx.ReadError(message, request=request)
    return httpx.NetworkError(message, request=request)


class _Secret(str):
    """A header value whose ``repr`` hides it: tracebacks that show frame locals (error trackers
    capture them) print the header lists of this module and of aiohttp with it redacted."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'[redacted]'"


_SECRET_HEADERS = frozenset({b"authorization", b"proxy-authorization", b"cookie"})


def _headers_for_aiohttp(request: httpx.Request) -> List[Tuple[str, str]]:
    return [
        (
            key.decode("latin-1"),
            _Secret(value.decode("latin-1")) if key.lower() in _SECRET_HEADERS else value.decode("latin-1"),
        )
        for key, value in request.headers.raw
    ]


class _AiohttpByteStream(httpx.AsyncByteStream):
    """The body of one aiohttp response, read as it arrives; ``aclose`` releases the response."""

    def __init__(self, response: aiohttp.ClientResponse, transport: AiohttpTransport, request: httpx.Request):
        self._response = response
        self._transport = transport
        self._request = request
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        content = self._response.content
        try:
            while True:
                chunk = await content.readany()
                if not chunk:
                    return
                yield chunk
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if isinstance(exc, httpx.HTTPError):
                raise
            raise map_aiohttp_error(exc, self._request) from exc

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        response = self._response
        if response.content.at_eof():
            response.release()  # fully read: the connection goes back to the pool
        else:
            response.close()  # half read: the connection cannot be reused
        self._transport._in_flight -= 1


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An ``httpx.AsyncBaseTransport`` that sends requests through one ``aiohttp.ClientSession``.

    ``limits``: ``max_connections`` caps the open connections (``None``: no cap) and
    ``keepalive_expiry`` how long an idle one is kept; aiohttp has no separate keep-alive count.
    Raises ``ImportError`` naming the extra to install when aiohttp is missing.
    """

    #: ``meshapi._transport.direct.Direct`` may send to it without httpx.AsyncClient's layers (it has no state there).
    meshapi_direct = True

    def __init__(self, *, limits: httpx.Limits = _DEFAULT_LIMITS) -> None:
        self._aiohttp = _import_aiohttp()
        self._limits = limits
        self._session: Optional[aiohttp.ClientSession] = None
        self._closed = False
        self._in_flight = 0
        self._timeouts: Dict[_TimeoutKey, aiohttp.ClientTimeout] = {}

    def _get_session(self) -> aiohttp.ClientSession:
        session = self._session
        if session is None:
            aiohttp = self._aiohttp
            limits = self._limits
            connector = aiohttp.TCPConnector(
                limit=limits.max_connections or 0,
                limit_per_host=0,
                keepalive_timeout=limits.keepalive_expiry,
                enable_cleanup_closed=False,
            )
            session = self._session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),  # httpx.AsyncClient keeps the cookies
                auto_decompress=False,  # httpx.Response decodes Content-Encoding itself
                trust_env=False,
                timeout=aiohttp.ClientTimeout(total=None),
                skip_auto_headers=("User-Agent", "Accept-Encoding", "Accept", "Content-Type"),
            )
        return session

    def _timeout_of(self, request: httpx.Request, waited_for_pool: bool) -> aiohttp.ClientTimeout:
        timeout = request.extensions.get("timeout") or {}
        key = (timeout.get("connect"), timeout.get("read"), timeout.get("pool"), waited_for_pool)
        cached = self._timeouts.get(key)
        if cached is None:
            connect, read, pool, _ = key
            # aiohttp's ``connect`` bounds getting a connection (waiting for a free one included) and
            # ``sock_connect`` opening one: the pool timeout applies only when every connection is busy.
            cached = self._timeouts[key] = self._aiohttp.ClientTimeout(
                total=None, connect=pool if waited_for_pool else None, sock_connect=connect, sock_read=read
            )
        return cached

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._closed:
            raise RuntimeError("Cannot send a request, as the transport has been closed.")
        session = self._get_session()
        try:
            data: Any = request.content
        except httpx.RequestNotRead:
            data = request.stream  # an async byte iterator: aiohttp sends it as it is produced
        headers = _headers_for_aiohttp(request)
        limit = self._limits.max_connections
        waited_for_pool = limit is not None and self._in_flight >= limit
        self._in_flight += 1
        try:
            response = await session.request(
                request.method,
                str(request.url),
                headers=headers,
                data=data or None,
                allow_redirects=False,
                timeout=self._timeout_of(request, waited_for_pool),
            )
        except BaseException as exc:
            self._in_flight -= 1
            if isinstance(exc, (asyncio.CancelledError, KeyboardInterrupt, SystemExit)):
                raise
            raise map_aiohttp_error(exc, request, waited_for_pool=waited_for_pool) from exc
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=_AiohttpByteStream(response, self, request),
            extensions={
                "http_version": b"HTTP/%d.%d" % (response.version.major, response.version.minor)
                if response.version is not None
                else b"HTTP/1.1",
                "reason_phrase": (response.reason or "").encode("latin-1", "replace"),
            },
        )

    def abandon(self) -> None:
        """Drop the session of an event loop that is closed, without touching that loop: the sockets
        are closed directly and aiohttp's objects marked closed (``meshapi._transport.loops``)."""
        from .loops import close_sockets

        self._closed = True
        session, self._session = self._session, None
        connector = getattr(session, "_connector", None)
        if session is None or connector is None:
            return
        try:
            protocols = [proto for conns in connector._conns.values() for proto, _ in conns]
            protocols.extend(connector._acquired)
            for proto in protocols:
                close_sockets(proto.transport)
            connector._conns.clear()
            connector._acquired.clear()
            connector._closed = True
            session._connector = None  # the session reads as closed: no "unclosed" warning later
        except AttributeError:  # another aiohttp layout: left to aiohttp
            pass

    async def aclose(self) -> None:
        """Close the session and every connection it holds. Idempotent."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None:
            await session.close()
