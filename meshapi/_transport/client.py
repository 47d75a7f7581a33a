"""``SyncHttpClient`` / ``AsyncHttpClient``: the only two send -> ask the retry state -> sleep loops.

The twins differ only in ``await`` and the sleep. Each call builds one ``httpx.Request``
(``meshapi._transport.base``) and sends it, then a fresh copy per retry (same idempotency key, same body
bytes: ``hooks.next_request``), until the pure retry state (``meshapi._core.retry.RetryState``) says
stop; what an answer or a failure means is decided in ``base`` too, so the loops here hold only the I/O.
Streams go through the same loop, so they are retried only while nothing has reached the caller (an
error frame as the first event too: ``reading.FirstEventRetry`` sends the next attempt through here).
Every failure leaves here as a ``MeshAPIError`` subclass; the response of every failed attempt is
closed, so no connection stays checked out. ``meshapi._http`` (0.1.4's path) re-exports these classes.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any, Callable, Mapping, Optional, Union

import httpx

from .._config import MeshAPIConfig
from .._core.request import RequestOptions
from .._core.retry import RetryState
from .._errors import ConfigurationError, MeshAPIError, StreamEventError
from . import fork as _fork
from . import hooks as _hooks
from . import pool as _pool
from .base import Begun, HttpClientBase
from .calls import Call, as_stream, call_answered, call_failed, first_event_retried
from .capture import Capture, Spending
from .direct import closed_error
from .hooks import aend_attempt, astart_attempt, end_attempt, next_request, start_attempt
from .loops import UNBOUND as _UNBOUND
from .loops import LoopPools, anyio_sleep, loop_error, running_loop
from .methods import AsyncMethods, SyncMethods
from .reading import aread_body, install_stream_stages, read_body

__all__ = ["AsyncHttpClient", "SyncHttpClient"]

log = logging.getLogger("meshapi")

_NO_OPTIONS = RequestOptions()


class SyncHttpClient(HttpClientBase, SyncMethods):
    """The blocking HTTP client, over an ``httpx.Client``.

    ``shared_client``: an ``httpx.Client`` owned by another HTTP client (``with_options`` copies), used
    as is and never closed here.
    """

    _client: httpx.Client

    def __init__(self, config: MeshAPIConfig, *, shared_client: Optional[httpx.Client] = None) -> None:
        self._setup(config)
        given = shared_client or config.httpx_client
        self._owns_client = given is None
        self._injected = shared_client is None and given is not None
        self._use(given or self._new_client())
        self._sleep: Callable[[float], None] = time.sleep

    def _new_client(self) -> httpx.Client:
        return _pool.new_sync_client(self._timeout, self._config.limits, self._config.http2)

    def _after_fork(self) -> None:
        """In a forked child: a fresh pool; the inherited sockets closed without a byte (``_fork``)."""
        if self._injected and not self._config.new_pool_after_fork:
            raise _fork.fork_error("httpx_client (yours, passed to MeshAPI)")
        if self._owns_client:
            _fork.close_inherited(self._client)
        self._use(self._new_client())
        self._owns_client, self._injected = True, False
        self._forks = _fork.generation()

    def send(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Optional[Mapping[str, Any]] = None,
        options: Optional[RequestOptions] = None,
        stream: bool = False,
        content: Optional[bytes] = None,
    ) -> httpx.Response:
        """Send with retries; return a 2xx response (open when ``stream``), or raise a typed error.
        ``content``: bytes sent as is instead of ``body`` (an encoded multipart body), replayed on a retry."""
        begun = self._begin(method, path, body, params, options or _NO_OPTIONS, stream, content)
        if isinstance(begun, httpx.Response):  # replayed for with_raw_response
            return begun
        return self._answer(begun) if begun[5] is None else Spending.module.watched(self, begun[5], begun)

    def _answer(self, begun: Begun) -> httpx.Response:
        request, state, stream, capture, call, _ = begun
        if call is None:  # the fast path: no tracing, no fallback chain, not a stream
            return self._send_with_retries(request, state, stream=stream, capture=capture)
        return first_event_retried(call, self._send_call(call, None), lambda f: self._send_call(call, f))

    def _send_call(self, call: Call, frame: Optional[StreamEventError]) -> httpx.Response:
        """``call`` along its fallback chain; ``frame``: the error frame its last answer began with."""
        try:
            while True:
                try:
                    response = self._send_with_retries(
                        call.request, call.state, stream=call.stream, capture=call.capture, frame=frame
                    )
                    break
                except MeshAPIError as exc:
                    frame = None
                    blocking = self._next_hop(call, exc)  # raises when the chain is over
                    if blocking is not None:  # stream_fallback_to_blocking: the reply as the stream
                        reply = self._send_with_retries(blocking.request, blocking.state, stream=False)
                        response = as_stream(call, reply)
                        break
        except BaseException as exc:
            call_failed(call, exc)
            raise
        return call_answered(call, response)

    def send_url(
        self,
        method: str,
        url: str,
        *,
        content: bytes,
        headers: Mapping[str, str],
        options: Optional[RequestOptions] = None,
    ) -> httpx.Response:
        """Send raw ``content`` to an absolute ``url`` outside the API (a signed upload URL).

        Only ``headers`` are sent: never the API key, the SDK headers or default headers (an
        ``Authorization`` configured on an injected client is removed too). Same retries and timeout as
        every call; a relative ``url`` is resolved against the base URL.
        """
        request, state = self._external_call(method, url, content, headers, options or _NO_OPTIONS)
        return self._send_with_retries(request, state, stream=False, external=True)

    def _send_with_retries(
        self,
        request: httpx.Request,
        state: RetryState,
        *,
        stream: bool,
        capture: Optional[Capture] = None,
        external: bool = False,
        frame: Optional[StreamEventError] = None,
    ) -> httpx.Response:
        """The loop: send, ask the retry state, maybe sleep and send a copy of the request (same key, same body).
        ``frame``: the error frame the last answer to ``request`` began with, judged first."""
        debug = log.isEnabledFor(logging.DEBUG)  # skip building log arguments nobody reads
        bounded = state.deadline is not None
        # token provider, hooks, deadline or a retry: the attempt needs preparing (else skip the call)
        slow = self._slow or bounded
        read_here = bounded and not stream  # read the body ourselves, under the deadline
        limit = self._config.max_response_bytes
        if frame is not None:
            self._judge_frame(request, state, frame)  # raises, or logs the retry to come
            self._sleep(state.delay or 0.0)
        while True:
            if state.retries:
                request = next_request(request)  # each attempt its own request object (same key, same bytes)
            attempt = start_attempt(self, request, state, external) if slow or state.retries else None
            if debug:
                log.debug("%s %s (attempt %d)", request.method, request.url.path, state.retries + 1)
            started = time.monotonic()
            try:
                # Always streamed, then read here: the body is decoded under the size cap (httpx's own
                # read would inflate a compressed body without limit). Redirects are never followed,
                # even by an injected client: default headers and the body stay with this origin.
                direct = self._direct  # the SDK's own pool: straight to its httpx transport
                if direct is not None:
                    response = direct.send(request)
                else:
                    response = self._client.send(request, stream=True, follow_redirects=False)
                if not stream:
                    read_body(response, limit, state if read_here else None)
            except BaseException as caught:  # the limiter's grant given back; not a transport error: raised
                if (exc := _hooks.attempt_failed(attempt, caught)) is None:
                    raise
                self._judge_failure(request, state, exc)  # raises, or logs the retry to come
                self._sleep(state.delay or 0.0)
                continue
            _hooks.attempt_answered(attempt, response, stream)  # the grant released (a stream's: on close)
            elapsed = time.monotonic() - started
            if attempt is not None and attempt.hooked:
                end_attempt(self._config, response, attempt, elapsed)
            if response.status_code < 300:  # a redirect that was not followed is an error, not a body
                failed = self._deprecated(request, response) if "deprecation" in response.headers else None
                if failed is not None:  # warnings are errors here: the response is not left open
                    response.close()
                    raise failed
                if stream:
                    install_stream_stages(response, limit, state)
                return self._accept(request, response, state, capture, elapsed)
            try:
                if stream:
                    read_body(response, limit, None)
            except httpx.HTTPError:
                pass  # the error body is lost, the status still says what happened
            finally:
                response.close()
            self._judge_status(request, response, state)  # raises, or logs the retry to come
            self._sleep(state.delay or 0.0)

    def close(self) -> None:
        """Close the connection pool (an injected or shared client stays open: it is not ours)."""
        if self._owns_client:
            self._client.close()


class AsyncHttpClient(HttpClientBase, AsyncMethods):
    """The async HTTP client, over an ``httpx.AsyncClient`` (the twin of ``SyncHttpClient``; asyncio or trio).

    ``http_transport`` is the httpx transport of the ``httpx.AsyncClient`` this object creates (not of
    one passed in the config): ``"aiohttp"`` selects :class:`meshapi._transport.aiohttp.AiohttpTransport`.
    The pools this object makes follow the running event loop (one per loop: ``meshapi._transport.loops``)
    and are made when a loop first sends; ``shared``: the client whose pools (or whose one httpx client) a
    ``with_options`` copy sends through.
    """

    _client: httpx.AsyncClient  # set by _use: in __init__, or when a loop first sends (see __getattr__)
    _http_transport: Optional[Union[str, httpx.AsyncBaseTransport]]
    _pools: Optional[LoopPools]

    def __init__(
        self,
        config: MeshAPIConfig,
        *,
        http_transport: Optional[Union[str, httpx.AsyncBaseTransport]] = None,
        shared: Optional[AsyncHttpClient] = None,
    ) -> None:
        if http_transport is not None and config.async_httpx_client is not None:
            raise ConfigurationError(
                "Pass either async_httpx_client or http_transport, not both "
                "(configure the transport on your own httpx.AsyncClient)."
            )
        self._setup(config)
        self._loop: Any = _UNBOUND  # the event loop self._client's connections belong to
        self._sleep: Callable[[float], Any] = anyio_sleep
        if shared is not None:  # with_options: the owner's pools (or its one client), never closed here
            self._owns_client = self._injected = False
            self._http_transport, self._pools = shared._http_transport, shared._pools
            if self._pools is None:
                self._use(shared._client)
            return
        given = config.async_httpx_client
        self._owns_client, self._injected = given is None, given is not None
        self._http_transport = http_transport
        self._pools = self._own_pools()
        if self._pools is None:  # yours, or the SDK's over your transport object: one client, made now
            self._use(given or self._new_client(http_transport))
        elif http_transport not in (None, "httpx"):  # "aiohttp" (its extra) or a wrong name: checked now
            self._use(self._pools.first())
        # else: made when a loop first sends, not here (its TLS context: ~20 ms of a running loop's step)

    if not TYPE_CHECKING:  # a fallback for two attributes only: the type checker sees them declared

        def __getattr__(self, name):  # _client / _direct before any loop sent: the first pool, made now
            pools = self.__dict__.get("_pools")
            if name not in ("_client", "_direct") or pools is None:
                raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
            self._use(pools.first())
            return self.__dict__[name]

    def _own_pools(self) -> Optional[LoopPools]:
        """A pool per event loop when the SDK makes the pool and its transport; else ``None`` (yours)."""
        choice = self._http_transport
        if not self._owns_client or not (choice is None or isinstance(choice, str)):
            return None
        return LoopPools(lambda: self._new_client(choice))

    def _check_open(self) -> None:
        loop = running_loop()
        if loop is not self._loop and self._forks == _fork._generation:  # after a fork: that swap first
            self._follow(loop)
        HttpClientBase._check_open(self)

    def _follow(self, loop: Any) -> None:
        """Send through ``loop``'s pool from now on (made on its first call; see ``loops``)."""
        pools = self._pools
        if pools is None:  # one pool that is not ours: usable from another loop only while empty
            if self._loop is not _UNBOUND and _fork.has_connections(self._client):
                yours = "async_httpx_client" if self._injected else "http_transport object"
                raise loop_error(f"{yours} (yours, passed to AsyncMeshAPI)")
        elif pools.closed:
            raise closed_error()
        else:
            self._use(pools.for_loop(loop))
        self._loop = loop

    def _new_client(self, choice: Optional[Union[str, httpx.AsyncBaseTransport]]) -> httpx.AsyncClient:
        return _pool.new_async_client(self._timeout, self._config.limits, choice, self._config.http2)

    def _after_fork(self) -> None:
        """In a forked child: a fresh pool if the inherited one is empty, else a typed error (``_fork``)."""
        if self._injected and not self._config.new_pool_after_fork:
            raise _fork.fork_error("async_httpx_client (yours, passed to AsyncMeshAPI)")
        choice = self._http_transport
        mine = self.__dict__.get("_client") if self._owns_client else None  # a pool never made: none open
        ours = choice is None or isinstance(choice, str)
        if (mine is not None and _fork.has_connections(mine)) or not ours:
            raise _fork.fork_error("AsyncMeshAPI client (its connections belong to the parent's event loop)")
        self._owns_client, self._injected = True, False
        self._pools, self._loop = LoopPools(lambda: self._new_client(choice)), _UNBOUND
        self._use(self._pools.first())
        self._forks = _fork.generation()

    async def send(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Optional[Mapping[str, Any]] = None,
        options: Optional[RequestOptions] = None,
        stream: bool = False,
        content: Optional[bytes] = None,
    ) -> httpx.Response:
        """Send with retries; return a 2xx response (open when ``stream``), or raise a typed error.
        ``content``: bytes sent as is instead of ``body`` (an encoded multipart body), replayed on a retry."""
        begun = self._begin(method, path, body, params, options or _NO_OPTIONS, stream, content)
        if isinstance(begun, httpx.Response):  # replayed for with_raw_response
            return begun
        return await (
            self._answer(begun) if begun[5] is None else Spending.module.awatched(self, begun[5], begun)
        )

    async def _answer(self, begun: Begun) -> httpx.Response:
        request, state, stream, capture, call, _ = begun
        if call is None:
            return await self._send_with_retries(request, state, stream=stream, capture=capture)
        response = await self._send_call(call, None)
        return first_event_retried(call, response, lambda f: self._send_call(call, f))

    async def _send_call(self, call: Call, frame: Optional[StreamEventError]) -> httpx.Response:
        """Async twin of ``SyncHttpClient._send_call``."""
        try:
            while True:
                try:
                    response = await self._send_with_retries(
                        call.request, call.state, stream=call.stream, capture=call.capture, frame=frame
                    )
                    break
                except MeshAPIError as exc:
                    frame = None
                    blocking = self._next_hop(call, exc)
                    if blocking is not None:
                        reply = await self._send_with_retries(blocking.request, blocking.state, stream=False)
                        response = as_stream(call, reply)
                        break
        except BaseException as exc:
            call_failed(call, exc)
            raise
        return call_answered(call, response)

    async def send_url(
        self,
        method: str,
        url: str,
        *,
        content: bytes,
        headers: Mapping[str, str],
        options: Optional[RequestOptions] = None,
    ) -> httpx.Response:
        """Send raw ``content`` to an absolute ``url`` outside the API (a signed upload URL).

        Only ``headers`` are sent: never the API key, the SDK headers or default headers (an
        ``Authorization`` configured on an injected client is removed too). Same retries and timeout as
        every call; a relative ``url`` is resolved against the base URL.
        """
        request, state = self._external_call(method, url, content, headers, options or _NO_OPTIONS)
        return await self._send_with_retries(request, state, stream=False, external=True)

    async def _send_with_retries(
        self,
        request: httpx.Request,
        state: RetryState,
        *,
        stream: bool,
        capture: Optional[Capture] = None,
        external: bool = False,
        frame: Optional[StreamEventError] = None,
    ) -> httpx.Response:
        """The loop: send, ask the retry state, maybe sleep and send a copy of the request (same key, same body).
        ``frame``: the error frame the last answer to ``request`` began with, judged first."""
        debug = log.isEnabledFor(logging.DEBUG)  # skip building log arguments nobody reads
        bounded = state.deadline is not None
        # token provider, hooks, deadline or a retry: the attempt needs preparing (else skip the call)
        slow = self._slow or bounded
        read_here = bounded and not stream  # read the body ourselves, under the deadline
        limit = self._config.max_response_bytes
        if frame is not None:
            self._judge_frame(request, state, frame)
            await self._sleep(state.delay or 0.0)
        while True:
            if state.retries:
                request = next_request(request)  # each attempt its own request object (see the sync twin)
            attempt = None
            if slow or state.retries:
                attempt = await astart_attempt(self, request, state, external)
            if debug:
                log.debug("%s %s (attempt %d)", request.method, request.url.path, state.retries + 1)
            started = time.monotonic()
            try:
                # Always streamed, then read here (see the sync twin): size cap, no redirects.
                direct = self._direct
                if direct is not None:
                    response = await direct.asend(request)
                else:
                    response = await self._client.send(request, stream=True, follow_redirects=False)
                if not stream:
                    await aread_body(response, limit, state if read_here else None)
            except BaseException as caught:
                if (exc := _hooks.attempt_failed(attempt, caught)) is None:
                    raise
                self._judge_failure(request, state, exc)
                await self._sleep(state.delay or 0.0)
                continue
            _hooks.attempt_answered(attempt, response, stream)
            elapsed = time.monotonic() - started
            if attempt is not None and attempt.hooked:
                await aend_attempt(self._config, response, attempt, elapsed)
            if response.status_code < 300:  # a redirect that was not followed is an error, not a body
                failed = self._deprecated(request, response) if "deprecation" in response.headers else None
                if failed is not None:  # warnings are errors here: the response is not left open
                    await response.aclose()
                    raise failed
                if stream:
                    install_stream_stages(response, limit, state)
                return self._accept(request, response, state, capture, elapsed)
            try:
                if stream:
                    await aread_body(response, limit, None)
            except httpx.HTTPError:
                pass
            finally:
                await response.aclose()
            self._judge_status(request, response, state)
            await self._sleep(state.delay or 0.0)

    async def aclose(self) -> None:
        """Close the connection pools (an injected or shared client stays open: it is not ours); those
        of other event loops are dropped (``loops.LoopPools.aclose``)."""
        if self._owns_client:
            if self._pools is not None:
                await self._pools.aclose(running_loop())
            else:
                await self._client.aclose()

    close = aclose
