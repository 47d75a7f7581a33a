"""What the two transports share: building a request, per-attempt preparation, hooks, deadlines.

``meshapi._transport.client`` keeps only the two send loops (sync and async); everything they do the same way,
without I/O, is here: the merged headers (token, SDK header, ``X-MeshAPI-Retry-Count``, idempotency
key, caller's ``X-Request-Id``), the query (``default_query`` under ``extra_query``), the JSON body with
its size limit, the timeout of each attempt under a ``total_timeout`` deadline, the redacted views
given to ``on_request`` / ``on_response`` hooks, and the raw-response capture the
``with_raw_response`` proxies read (a context variable, so every resource gets it without changes).
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import json
import logging
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, Mapping, Optional, Tuple, Union

import httpx

from .._config import MeshAPIConfig, check_token, custom_headers_from_env
from .._core.request import RequestOptions, new_idempotency_key
from .._core.retry import RetryPolicy, RetryState
from .._errors import (
    ConfigurationError,
    InvalidParamsError,
    MeshAPIError,
)
from .._resilience import (
    DEFAULT_FALLBACK_STATUSES,
    FallbackEvent,
    Hops,
    Observer,
    ResilienceEvent,
    RetryEvent,
    routing_event,
)
from .._version import __version__
from . import fork as _fork
from .capture import Capture
from .deadline import deadline_error
from .pool import Direct, closed_error

__all__ = ["MAX_BODY_BYTES", "SDK_HEADER_VALUE", "Capture", "RequestView", "ResponseView", "TransportBase"]

log = logging.getLogger("meshapi")

SDK_HEADER_VALUE = f"python/{__version__}"
RETRY_COUNT_HEADER = "X-MeshAPI-Retry-Count"
MAX_BODY_BYTES = 32 * 1024 * 1024  # the gateway's edge limit (API.md 1.9); bigger bodies get an HTML 413


DEFAULT_LIMITS = httpx.Limits(max_connections=256, max_keepalive_connections=64, keepalive_expiry=30.0)
# The same as the sync pool's now. httpcore's own pool planning grows with the square of the connections
# it keeps (64 kept alive made each call ~3x slower than its default of 20); the pools the SDK builds plan
# in linear time instead (meshapi._transport.pool), so keeping 64 alive costs nothing per call.
ASYNC_DEFAULT_LIMITS = DEFAULT_LIMITS


def _async_transport(
    transport: Optional[Union[str, httpx.AsyncBaseTransport]],
    limits: httpx.Limits = DEFAULT_LIMITS,
) -> Optional[httpx.AsyncBaseTransport]:
    """``None``/``"httpx"``: httpx's own pool; ``"aiohttp"``: ``AiohttpTransport``; or the given one."""
    if transport is None or transport == "httpx":
        return None
    if transport == "aiohttp":
        from .aiohttp import AiohttpTransport

        return AiohttpTransport(limits=limits)
    if isinstance(transport, httpx.AsyncBaseTransport):
        return transport
    raise ConfigurationError(
        f"http_transport must be 'httpx', 'aiohttp' or an httpx.AsyncBaseTransport, got {transport!r}"
    )


@dataclass(frozen=True)
class RequestView:
    """What an ``on_request`` hook sees of one attempt (``Authorization`` redacted)."""

    method: str
    url: str
    headers: Dict[str, str]
    attempt: int  # 0 for the first attempt, then 1, 2, ... (the X-MeshAPI-Retry-Count sent)


@dataclass(frozen=True)
class ResponseView:
    """What an ``on_response`` hook sees of one attempt's answer (headers as received)."""

    status_code: int
    headers: Dict[str, str]
    request_id: str
    elapsed: float  # seconds from sending to the response headers
    request: RequestView


class _Attempt:
    __slots__ = ("hooked", "view")

    def __init__(self, view: Optional[RequestView], hooked: bool) -> None:
        self.view = view
        self.hooked = hooked


@functools.lru_cache(maxsize=256)
def _parse_url(url: str) -> httpx.URL:
    return httpx.URL(url)  # immutable, so one parsed URL can serve every request to it


def _timeout_of(value: Union[float, httpx.Timeout]) -> httpx.Timeout:
    return value if isinstance(value, httpx.Timeout) else httpx.Timeout(value)


def _redacted(headers: httpx.Headers) -> Dict[str, str]:
    return {k: ("<redacted>" if k.lower() == "authorization" else v) for k, v in headers.items()}


class TransportBase:
    """What the two twins share. No I/O here."""

    _config: MeshAPIConfig
    _client: Union[httpx.Client, httpx.AsyncClient]
    _headers: Dict[str, str]
    _timeout: httpx.Timeout
    _policy: RetryPolicy
    _owns_client: bool
    _direct: Optional[Direct] = None

    def _setup(self, config: MeshAPIConfig) -> None:
        self._config = config
        self._timeout = _timeout_of(config.timeout)
        self._policy = config.retry_policy
        self._headers = self._base_headers()
        self._forks = _fork.generation()
        self._slow = callable(config.token) or config.on_request is not None or config.on_response is not None
        watching = config.logger is not None or config.debug
        self._observer: Optional[Observer] = Observer(config.logger, config.debug) if watching else None

    def _use(self, client: Any) -> None:
        """Send through ``client`` from now on (straight to its transport when it is the SDK's own)."""
        self._client = client
        self._direct = Direct.of(client)

    @property
    def config(self) -> MeshAPIConfig:
        return self._config

    def _after_fork(self) -> None:  # pragma: no cover - each twin has its own
        raise NotImplementedError

    def _base_headers(self) -> Dict[str, str]:
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "X-MeshAPI-SDK": SDK_HEADER_VALUE,
            RETRY_COUNT_HEADER: "0",
        }
        if not callable(self._config.token):
            headers["Authorization"] = f"Bearer {self._config.token}"
        headers.update(custom_headers_from_env())  # under the explicit default headers
        if self._config.default_headers:
            headers.update(self._config.default_headers)
        return headers

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
        """The request of one call (sent as is by every attempt) and the retry state that judges them.

        ``content`` replaces the JSON ``body``: bytes already encoded (a multipart upload).
        """
        headers: Dict[str, str] = {}  # this call's own headers, over the client's
        if stream:
            headers["Accept"] = "text/event-stream"
        if method == "POST":
            headers["Idempotency-Key"] = new_idempotency_key()
        if options.request_id is not None:
            headers["X-Request-Id"] = options.request_id
        if options.extra_headers:
            headers.update(options.extra_headers)
        query = params
        if self._config.default_query or options.extra_query:
            query = {**(self._config.default_query or {}), **(params or {}), **(options.extra_query or {})}
        if body is None and options.extra_body:
            body = dict(options.extra_body)  # a method without a body of its own: send what was asked
        url = self._url(path)
        data = self._encode(body) if content is None else content
        query = ({k: v for k, v in query.items() if v is not None} or None) if query else None
        timeout = _timeout_of(options.timeout) if options.timeout is not None else self._timeout
        direct = self._direct
        if direct is not None and direct.stateless():  # our pool: no cookies or params to merge
            merged = direct.headers(self._headers)
            merged.update(headers)
            request = httpx.Request(
                method, url, content=data, params=query, headers=merged, extensions=direct.timeout(timeout)
            )
        else:
            request = self._client.build_request(
                method, url, content=data, params=query, headers={**self._headers, **headers}, timeout=timeout
            )
        return request, self._state(method, options)

    def _state(self, method: str, options: RequestOptions) -> RetryState:
        policy = self._policy
        if options.max_retries is not None and options.max_retries != policy.max_retries:
            policy = dataclasses.replace(policy, max_retries=options.max_retries)
        total = options.total_timeout if options.total_timeout is not None else self._config.total_timeout
        deadline = time.monotonic() + total if total is not None else None
        return RetryState(policy, method=method, deadline=deadline)

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

    # --- per attempt ----------------------------------------------------------------------------------
    def _start_attempt(self, request: httpx.Request, state: RetryState, external: bool) -> _Attempt:
        """Refresh the token, set the retry count and time left, call ``on_request`` (sync)."""
        token = None
        provider = self._config.token
        if callable(provider) and not external:
            try:
                token = provider()
            except Exception as exc:
                raise self._token_error(exc) from exc
        return self._begin(request, state, token, external, self._config.on_request)

    async def _astart_attempt(self, request: httpx.Request, state: RetryState, external: bool) -> _Attempt:
        """The async twin of ``_start_attempt``: the token provider and the hook may be awaitable."""
        token = None
        provider = self._config.token
        if callable(provider) and not external:
            try:
                token = provider()
                if inspect.isawaitable(token):
                    token = await token
            except Exception as exc:
                raise self._token_error(exc) from exc
        attempt = self._begin(request, state, token, external, None)
        hook = self._config.on_request
        if hook is not None and attempt.view is not None:
            try:
                result = hook(attempt.view)
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:
                raise self._hook_error("on_request", exc) from exc
        return attempt

    def _begin(
        self,
        request: httpx.Request,
        state: RetryState,
        token: Any,
        external: bool,
        hook: Optional[Callable[[RequestView], Any]],
    ) -> _Attempt:
        if not external or state.deadline is not None:
            self._prepare_attempt(request, state, token, count=not external)
        config = self._config
        view = None
        if config.on_request is not None or config.on_response is not None:
            view = self._request_view(request, state.retries)
            if hook is not None:
                try:
                    hook(view)
                except Exception as exc:
                    raise self._hook_error("on_request", exc) from exc
        return _Attempt(view, config.on_response is not None and view is not None)

    def _end_attempt(self, response: httpx.Response, attempt: _Attempt, elapsed: float) -> None:
        hook = self._config.on_response
        assert hook is not None and attempt.view is not None
        try:
            hook(self._response_view(response, attempt.view, elapsed))
        except Exception as exc:
            response.close()
            raise self._hook_error("on_response", exc) from exc

    async def _aend_attempt(self, response: httpx.Response, attempt: _Attempt, elapsed: float) -> None:
        hook = self._config.on_response
        assert hook is not None and attempt.view is not None
        try:
            result = hook(self._response_view(response, attempt.view, elapsed))
            if inspect.isawaitable(result):
                await result
        except Exception as exc:
            await response.aclose()
            raise self._hook_error("on_response", exc) from exc

    @staticmethod
    def _prepare_attempt(
        request: httpx.Request, state: RetryState, token: Any, *, count: bool = True
    ) -> None:
        """Set what changes between attempts: retry count, a refreshed token, the time left."""
        if state.retries and count:
            request.headers[RETRY_COUNT_HEADER] = str(state.retries)
        if token is not None:
            request.headers["Authorization"] = f"Bearer {check_token(token)}"
        if state.deadline is not None:
            left = state.remaining() or 0.0
            if left <= 0.0:
                raise deadline_error(state)
            timeout = request.extensions.get("timeout") or {}
            request.extensions["timeout"] = {
                k: (left if v is None else min(v, left)) for k, v in timeout.items()
            } or {"connect": left, "read": left, "write": left, "pool": left}

    def _external_request(
        self, method: str, url: str, content: bytes, headers: Mapping[str, str], options: RequestOptions
    ) -> httpx.Request:
        try:
            target = httpx.URL(url)
            if not target.is_absolute_url:
                target = httpx.URL(self._config.base_url + "/").join(url)
            timeout = _timeout_of(options.timeout) if options.timeout is not None else self._timeout
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

    @staticmethod
    def _token_error(exc: BaseException) -> MeshAPIError:
        if isinstance(exc, MeshAPIError):
            return exc
        return ConfigurationError(f"The token provider raised {type(exc).__name__}; no request was sent")

    @staticmethod
    def _request_view(request: httpx.Request, attempt: int) -> RequestView:
        return RequestView(request.method, str(request.url), _redacted(request.headers), attempt)

    @staticmethod
    def _response_view(response: httpx.Response, request: RequestView, elapsed: float) -> ResponseView:
        return ResponseView(
            response.status_code,
            dict(response.headers.items()),
            response.headers.get("x-request-id", ""),
            elapsed,
            request,
        )

    @staticmethod
    def _hook_error(name: str, exc: BaseException) -> MeshAPIError:
        from .._errors import HookError

        return HookError(f"The {name} hook raised {type(exc).__name__}: {exc}")

    # --- resilience events ------------------------------------------------------------------------------
    def _emit(self, event: ResilienceEvent, state: RetryState) -> None:
        if self._observer is not None:
            self._observer.emit(event, state.span)
        elif state.span is not None:
            Observer(None, False).emit(event, state.span)

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
                status=exc.status,
                error_code=exc.error_code,
                request_id=exc.request_id,
            )
            log.info("falling back from %s to %s after %d", event.from_model, event.to_model, exc.status)
            self._emit(event, state)
        return body

    def _log_retry(self, request: httpx.Request, state: RetryState, what: str, request_id: str = "") -> None:
        if self._observer is not None or state.span is not None:
            event = RetryEvent(
                method=request.method,
                path=request.url.path,
                attempt=state.retries,
                max_retries=state.policy.max_retries,
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
