"""Sending on the SDK's own pools without ``httpx.Client.send``'s layers (``Direct``).

``httpx.Client.send`` wraps every request in an auth flow, a redirect loop, event hooks, a cookie jar
update and a log line. On an httpx client the SDK made (``meshapi._transport.pool.adopt``) with no auth,
no hooks and no proxy mounts all of that is a no-op that costs a tenth of a call, so ``Direct`` hands the
request straight to the client's httpx transport and does by hand what httpx would have done. It reads
the httpx client's private layout (``_transport``, ``_mounts``, ``_auth``, ...) and falls back to the
public path whenever that layout differs.
"""

from __future__ import annotations

import datetime
import logging
import time
from typing import Any, AsyncIterator, Dict, Iterator, Mapping, Optional, Tuple

import httpx

from .._errors import APIConnectionError

__all__ = ["Direct", "closed_error"]


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
