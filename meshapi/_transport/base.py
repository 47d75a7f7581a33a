"""What the two HTTP clients share: building a request, judging each attempt, resilience events.

``meshapi._transport.client`` keeps only the two send loops (sync and async); everything they do the
same way, without I/O, is here: the merged headers (which ones: ``meshapi._transport.headers``), the query (``default_query``
under ``extra_query``), the JSON body with its size limit, the call's timeout and deadline (rules in ``meshapi._core.timeouts``),
what an answer or a failure of one attempt means (return it, retry, or raise), and the retry / fallback /
routing events. The hooks around each attempt are ``meshapi._transport.hooks``; the default pool limits
and ``httpx_async_transport`` (re-exported here) live with the pools, in ``meshapi._transport.pool``.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import time
from typing import Any, Dict, Mapping, Optional, Tuple, Union

import httpx

from .._api_version import warn_if_deprecated
from .._config import MeshAPIConfig
from .._core.request import RequestOptions
from .._core.response import error_from_response, map_transport_error
from .._core.retry import RetrySchedule, RetryState, frame_status
from .._core.timeouts import call_deadline, call_timeout, deadline_error, httpx_timeout, stream_timeout
from .._errors import InvalidParamsError, MeshAPIError, StreamEventError
from .._resilience import (
    DEFAULT_FALLBACK_STATUSES,
    FallbackEvent,
    Hops,
    Observer,
    ResilienceEvent,
    RetryEvent,
    routing_event,
)
from . import fork as _fork
from . import otel as _otel
from .calls import Blocking, Call, blocking_fits, is_event_stream
from .capture import CAPTURE, Capture, Spending, StopAfterResponse, replayed
from .direct import Direct, closed_error
from .headers import SDK_HEADER_VALUE, call_headers, client_headers, drop_unpinned
from .hooks import RequestView, ResponseView
from .http2 import check_config as check_http2
from .pool import ASYNC_DEFAULT_LIMITS, DEFAULT_LIMITS, httpx_async_transport
from .reading import IDLE_EXTENSION

__all__ = [
    "ASYNC_DEFAULT_LIMITS",
    "DEFAULT_LIMITS",
    "MAX_BODY_BYTES",
    "SDK_HEADER_VALUE",
    "HttpClientBase",
    "RequestView",
    "ResponseView",
    "httpx_async_transport",
]

log = logging.getLogger("meshapi")

# What ``_begin`` hands a ``send`` twin: request, retry state, stream, capture, the ``Call`` (or ``None``)
# and the call's ``spend.SpendWatch`` (``None`` unless a tracker or a budget watches it).
Begun = Tuple[httpx.Request, RetryState, bool, Optional[Capture], Optional[Call], Optional[Any]]

MAX_BODY_BYTES = (
    32 * 1024 * 1024
)  # the gateway's edge limit (docs/protocol.md §1.9); bigger bodies get an HTML 413


@functools.lru_cache(maxsize=256)
def _parse_url(url: str) -> httpx.URL:
    return httpx.URL(url)  # immutable, so one parsed URL can serve every request to it


class HttpClientBase:
    """What ``SyncHttpClient`` and ``AsyncHttpClient`` share. No I/O here.

    ``_client`` is the httpx client sent through (the SDK's own, or one passed in); ``_direct`` sends
    straight to its httpx transport when the SDK made it (``meshapi._transport.direct``).
    """

    _config: MeshAPIConfig
    _client: Union[httpx.Client, httpx.AsyncClient]
    _headers: Dict[str, str]
    _timeout: httpx.Timeout
    _schedule: RetrySchedule
    _owns_client: bool
    _direct: Optional[Direct]

    def _setup(self, config: MeshAPIConfig) -> None:
        check_http2(config)  # a bool, not with your own client, its extra installed: before anything is sent
        self._config = config
        self._timeout = httpx_timeout(config.timeout)
        self._schedule = config.retry_schedule
        self._headers = self._base_headers()
        self._forks = _fork.generation()
        self._slow = callable(config.token) or config.on_request is not None or config.on_response is not None
        self._slow = self._slow or config.limiter is not None  # each attempt waits for the limiter first
        watching = config.logger is not None or config.debug
        self._observer: Optional[Observer] = Observer(config.logger, config.debug) if watching else None
        self._prices: Dict[str, Any] = {}  # catalog prices a budget needed, by model (``spend``)
        if config.budget is not None and Spending.module is None:
            from . import spend  # noqa: F401  (importing it switches the watch on: ``capture.Spending``)

    def _use(self, client: Any) -> None:
        """Send through the httpx ``client`` from now on (straight to its httpx transport when the SDK made it)."""
        self._client = client
        self._direct = Direct.of(client)

    @property
    def config(self) -> MeshAPIConfig:
        return self._config

    def _after_fork(self) -> None:  # pragma: no cover - each twin has its own
        raise NotImplementedError

    def _base_headers(self) -> Dict[str, str]:
        return client_headers(self._config)

    def _begin(
        self,
        method: str,
        path: str,
        body: Any,
        params: Optional[Mapping[str, Any]],
        options: RequestOptions,
        stream: bool,
        content: Optional[bytes],
    ) -> Union[httpx.Response, Begun]:
        """What both ``send`` twins do before any I/O: the response ``with_raw_response`` recorded (returned
        as is), else the pool checked and the request built: ``(request, state, stream, capture, call,
        watch)``, ``call`` ``None`` on the fast path (``_call_of``), ``watch`` the spend watch (``spend``)."""
        capture = CAPTURE.get()
        if capture is not None:
            recorded = replayed(capture)
            if recorded is not None:
                return recorded
            stream = stream or capture.mode == "stream"
        self._check_open()
        request, state = self._build(method, path, body, params, options, stream, content)
        call = self._call_of(method, path, body, params, options, content, stream, capture, request, state)
        spend = Spending.module
        watch = None if spend is None else spend.watch_of(self._config, method, path, body, stream)
        return request, state, stream, capture, call, watch

    def _url(self, path: str) -> httpx.URL:
        # Parsing the URL is a quarter of httpx's request building; most calls reuse a few paths.
        return _parse_url(self._config.base_url + path)

    def _build(
        self,
        method: str,
        path: str,
        body: Any,
        params: Optional[Mapping[str, Any]],
        options: RequestOptions,
        stream: bool,
        content: Optional[bytes] = None,
    ) -> Tuple[httpx.Request, RetryState]:
        """The request of one call and the retry state that judges its attempts (a retry sends a copy of
        the request: ``hooks.next_request``).

        ``content`` replaces the JSON ``body``: bytes already encoded (a multipart upload).
        """
        headers = call_headers(method, options, stream)  # this call's own headers, over the client's
        query = params
        if self._config.default_query or options.extra_query:
            query = {**(self._config.default_query or {}), **(params or {}), **(options.extra_query or {})}
        if body is None and options.extra_body:
            body = dict(options.extra_body)  # a method without a body of its own: send what was asked
        url = self._url(path)
        data = self._encode(body) if content is None else content
        query = ({k: v for k, v in query.items() if v is not None} or None) if query else None
        timeout = call_timeout(options.timeout, self._timeout)
        idle = (options.stream_idle_timeout or self._config.stream_idle_timeout) if stream else None
        if idle is not None:  # a stream's read phase is its idle timeout (``timeouts.stream_timeout``)
            timeout = stream_timeout(timeout, idle)
        direct = self._direct
        if direct is not None and direct.stateless():  # our pool: no cookies or params to merge
            merged = direct.headers(self._headers)
            merged.update(headers)
            drop_unpinned(merged, options)
            request = httpx.Request(
                method, url, content=data, params=query, headers=merged, extensions=direct.timeout(timeout)
            )
        else:
            sent = {**self._headers, **headers}
            drop_unpinned(sent, options)
            request = self._client.build_request(
                method, url, content=data, params=query, headers=sent, timeout=timeout
            )
        if idle is not None:
            request.extensions[IDLE_EXTENSION] = idle  # what the gap between events is named after
        return request, self._state(method, options)

    def _state(self, method: str, options: RequestOptions) -> RetryState:
        schedule = self._schedule
        if options.max_retries is not None and options.max_retries != schedule.max_retries:
            schedule = dataclasses.replace(schedule, max_retries=options.max_retries)
        deadline = call_deadline(options.total_timeout, self._config.total_timeout, time.monotonic())
        return RetryState(schedule, method=method, deadline=deadline)

    @staticmethod
    def _encode(body: Any) -> Optional[bytes]:
        if body is None:
            return None
        try:
            content = json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode(
                "utf-8"
            )
        except (TypeError, ValueError) as exc:
            raise InvalidParamsError(f"The request body is not valid JSON: {exc}") from None
        except RecursionError:  # e.g. extra_body nested thousands of levels deep
            raise InvalidParamsError(
                "The request body is nested too deeply to encode as JSON (check extra_body)"
            ) from None
        if len(content) > MAX_BODY_BYTES:
            # the gateway's edge would answer 413 with an HTML page, after the whole upload
            raise InvalidParamsError(
                f"The request body is {len(content) / 2**20:.1f} MiB; the gateway accepts at most "
                f"{MAX_BODY_BYTES // 2**20} MiB. Split the input (e.g. fewer items per call)."
            )
        return content

    def _check_open(self) -> None:
        if self._forks != _fork._generation:  # this process was forked since the pool was made
            with _fork.swap_lock():
                if self._forks != _fork._generation:  # not already swapped by another thread
                    self._after_fork()
        if self._client.is_closed:
            raise closed_error()

    def _external_call(
        self, method: str, url: str, content: bytes, headers: Mapping[str, str], options: RequestOptions
    ) -> Tuple[httpx.Request, RetryState]:
        """What both ``send_url`` twins do before any I/O: the pool checked, the request and its retry state."""
        self._check_open()
        return self._external_request(method, url, content, headers, options), self._state(method, options)

    def _external_request(
        self, method: str, url: str, content: bytes, headers: Mapping[str, str], options: RequestOptions
    ) -> httpx.Request:
        try:
            target = httpx.URL(url)
            if not target.is_absolute_url:
                target = httpx.URL(self._config.base_url + "/").join(url)
            timeout = call_timeout(options.timeout, self._timeout)
            request = self._client.build_request(
                method, target, content=content, headers=dict(headers), timeout=timeout
            )
        except (httpx.InvalidURL, ValueError, TypeError) as exc:
            raise InvalidParamsError(f"The URL cannot be used: {type(exc).__name__}") from None
        request.headers.pop("Authorization", None)
        return request

    @staticmethod
    def _log_ok(request: httpx.Request, response: httpx.Response) -> None:
        log.debug(
            "%s %s -> %d (request id %s)",
            request.method,
            request.url.path,
            response.status_code,
            response.headers.get("x-request-id"),
        )

    # --- what the outcome of one attempt means ---------------------------------------------------------
    def _accept(
        self,
        request: httpx.Request,
        response: httpx.Response,
        state: RetryState,
        capture: Optional[Capture],
        elapsed: float,
    ) -> httpx.Response:
        """A 2xx answer: logged, its routing event emitted, captured for ``with_raw_response`` (and in
        ``with_streaming_response``'s mode, the method stopped with ``StopAfterResponse``)."""
        if log.isEnabledFor(logging.DEBUG):
            self._log_ok(request, response)
        if self._observer is not None or state.span is not None:
            self._routed(response, state)
        if capture is not None:
            capture.response, capture.retries, capture.elapsed = response, state.retries, elapsed
            if capture.mode == "stream" and not is_event_stream(response):
                raise StopAfterResponse()  # an event stream stops once its first-event stage is on (calls.py)
        return response

    @staticmethod
    def _deprecated(request: httpx.Request, response: httpx.Response) -> Optional[Exception]:
        """The ``Deprecation`` warning of a 2xx answer (``meshapi._api_version``), given once per route and
        version. Returns what it raised when warnings are errors: the loop closes the response, then raises."""
        try:
            warn_if_deprecated(request.method, request.url.path, response.headers)
        except Exception as exc:
            return exc
        return None

    def _judge_status(self, request: httpx.Request, response: httpx.Response, state: RetryState) -> None:
        """An error status (body read, response closed): raise its typed error, or log the retry to come."""
        error = error_from_response(response)
        if "deprecation" in response.headers:  # on errors too: a 429 of a deprecated route says so
            warn_if_deprecated(request.method, request.url.path, response.headers)
        if state.after_response(response.status_code, response.headers, error.body) is None:
            log.debug("%s %s -> %d %s", request.method, request.url.path, error.status, error.error_code)
            raise error
        self._log_retry(request, state, f"-> {response.status_code}", error.request_id)

    def _judge_frame(self, request: httpx.Request, state: RetryState, error: StreamEventError) -> None:
        """An in-band error frame as a stream's first event (response closed, nothing reached the caller):
        raise it, or log the retry to come (judged like the status its code stands for)."""
        if state.after_frame(error.error_code, error.headers, error.body) is None:
            log.debug("%s %s -> in-band error %s", request.method, request.url.path, error.error_code)
            raise error
        self._log_retry(request, state, f"-> in-band error {error.error_code}", error.request_id)

    def _call_of(
        self,
        method: str,
        path: str,
        body: Any,
        params: Optional[Mapping[str, Any]],
        options: RequestOptions,
        content: Optional[bytes],
        stream: bool,
        capture: Optional[Capture],
        request: httpx.Request,
        state: RetryState,
    ) -> Optional[Call]:
        """The ``Call`` a send goes through, or ``None`` for the fast path (no span, no chain, no stream)."""
        span = _otel.start(method, path, body, request.url) if _otel._tracer is not None else None
        hops = self._hops(body, options) if options.fallback else None
        if span is None and hops is None and not stream:
            return None
        state.span = span
        limit = self._config.max_response_bytes
        return Call(
            method, path, body, params, options, content, stream, capture, request, state, hops, span, limit
        )

    def _next_hop(self, call: Call, exc: MeshAPIError) -> Optional[Blocking]:
        """Move ``call`` to the next model of its fallback chain after ``exc`` (one deadline for the
        whole chain) and return ``None``; at the chain's end, the one non-streaming call of a stream
        that asked for it (``stream_fallback_to_blocking``, ``calls.blocking_fits``), else raise ``exc``."""
        body = self._advance(call.hops, exc, call.state) if call.hops is not None else None
        if body is None:
            on = call.options.stream_fallback_to_blocking
            if not (on if on is not None else self._config.stream_fallback_to_blocking) or not blocking_fits(
                call, exc
            ):
                raise exc
            log.info(
                "%s %s stream not opened (%s); one non-streaming call instead",
                call.method,
                call.path,
                exc.error_code,
            )
            request, state = self._build(
                call.method, call.path, {**call.body, "stream": False}, call.params, call.options, False, None
            )
            state.deadline, state.span = call.state.deadline, call.span
            return Blocking(request, state)
        deadline = call.state.deadline
        call.body = body
        call.request, call.state = self._build(
            call.method, call.path, body, call.params, call.options, call.stream, call.content
        )
        call.state.deadline, call.state.span = deadline, call.span
        return None

    def _judge_failure(self, request: httpx.Request, state: RetryState, exc: httpx.HTTPError) -> None:
        """A transport error: raise its typed error (``map_transport_error``, the one table; past the
        deadline the ``total_timeout`` error), or log the retry to come."""
        if state.deadline is not None and not state.remaining():
            raise deadline_error() from exc
        if state.after_exception(exc) is None:
            raise map_transport_error(exc) from exc
        self._log_retry(request, state, f"failed ({type(exc).__name__})")

    # --- resilience events ------------------------------------------------------------------------------
    def _emit(self, event: ResilienceEvent, state: RetryState) -> None:
        if state.span is not None:
            _otel.add_event(state.span, event)
        if self._observer is not None:
            self._observer.emit(event)

    def _routed(self, response: httpx.Response, state: RetryState) -> None:
        """A ``GatewayRoutingEvent`` when the response carries the gateway's routing outcome."""
        if self._observer is None and state.span is None:
            return
        event = routing_event(response.request.url.path, response.headers)
        if event is not None:
            self._emit(event, state)

    def _hops(self, body: Any, options: RequestOptions) -> Optional[Hops]:
        """The fallback chain of this call, or ``None`` (not a chat call, or no chain)."""
        if not options.fallback or not isinstance(body, dict):
            return None
        config = self._config.fallback
        models = options.fallback_models
        if models is None:
            models = tuple(config.models) if config is not None else ()
        on_status = tuple(config.on_status) if config is not None else DEFAULT_FALLBACK_STATUSES
        primary = body.get("model")
        chain = tuple(m for m in dict.fromkeys(models) if m != primary)
        return Hops(body, chain, on_status) if chain else None

    def _advance(self, hops: Hops, exc: MeshAPIError, state: RetryState) -> Optional[Dict[str, Any]]:
        """The body of the next hop after ``exc`` (and its ``FallbackEvent``), or ``None`` to raise."""
        body = hops.advance(exc)
        if body is not None:
            event = FallbackEvent(
                from_model=hops.previous,
                to_model=hops.current,
                chain_index=hops.position,
                chain_length=len(hops.chain),
                status=exc.status or frame_status(exc.error_code),  # an error frame: its code's status
                error_code=exc.error_code,
                request_id=exc.request_id,
            )
            log.info("falling back from %s to %s after %d", event.from_model, event.to_model, event.status)
            self._emit(event, state)
        return body

    def _log_retry(self, request: httpx.Request, state: RetryState, what: str, request_id: str = "") -> None:
        if self._observer is not None or state.span is not None:
            event = RetryEvent(
                method=request.method,
                path=request.url.path,
                attempt=state.retries,
                max_retries=state.schedule.max_retries,
                delay_ms=round((state.delay or 0.0) * 1000),
                reason=state.reason,
                status=state.status or None,
                request_id=request_id or request.headers.get("x-request-id", ""),
            )
            self._emit(event, state)
        log.info(
            "%s %s %s; retrying in %.2fs (retry %d%s)",
            request.method,
            request.url.path,
            what,
            state.delay or 0.0,
            state.retries,
            f", request id {request_id}" if request_id else "",
        )
