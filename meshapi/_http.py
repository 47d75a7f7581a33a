"""The transport: ``MeshAPIConfig`` and the only two send -> classify -> sleep loops of the SDK.

``SyncHttpClient`` and ``AsyncHttpClient`` are twins that differ only in ``await`` and the sleep. Each
call builds one ``httpx.Request`` (absolute URL from the SDK's base URL, the SDK's timeout, one
``Idempotency-Key`` for a POST) and sends it up to ``max_retries + 1`` times; the decisions of whether
and how long to wait come from the pure functions in ``meshapi._core.retry``. Streams go through the same
loop, so they are retried only while no byte has reached the caller. Every failure leaves here as a
``MeshAPIError`` subclass; the response of every failed attempt is closed, so no connection stays
checked out.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Callable, Dict, Iterator, List, Mapping, Optional, Type, TypeVar, Union

import httpx
from pydantic import BaseModel, ValidationError

from ._core.request import RequestOptions, _check_headers, new_idempotency_key, validate_timeout
from ._core.retry import (
    RetryPolicy,
    compute_delay,
    is_retryable_exception,
    is_retryable_status,
    parse_retry_after,
    validate_max_retries,
)
from ._core.sse import ServerSentEvent, iter_sse
from ._errors import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    ConfigurationError,
    InvalidParamsError,
    MeshAPIError,
    StreamEventError,
    error_from_response,
)
from ._version import __version__

__all__ = [
    "SDK_HEADER_VALUE",
    "AsyncHttpClient",
    "MeshAPIConfig",
    "SyncHttpClient",
]

log = logging.getLogger("meshapi")

SDK_HEADER_VALUE = f"python/{__version__}"
_DONE_SENTINEL = "[DONE]"
DEFAULT_TIMEOUT = 60.0
DEFAULT_MAX_RETRIES = 3
MAX_BODY_BYTES = 32 * 1024 * 1024  # the gateway's edge limit (API.md 1.9); bigger bodies get an HTML 413
DEFAULT_LIMITS = httpx.Limits(max_connections=256, max_keepalive_connections=64, keepalive_expiry=30.0)
# httpx's async pool (httpcore 1.x) rescans every pooled connection for every idle one on each request,
# so its cost grows with the square of the connections it keeps: at 64 concurrent requests, keeping 64
# alive made each request ~3x slower than httpx's own default of 20 (benchmarks/README.md).
ASYNC_DEFAULT_LIMITS = httpx.Limits(max_connections=256, max_keepalive_connections=20, keepalive_expiry=30.0)

T = TypeVar("T", bound=BaseModel)


def redact_token(token: str) -> str:
    """A recognisable but useless form of the token, for reprs."""
    if not token:
        return "''"
    return f"'{token[:4]}…' (redacted)" if len(token) > 8 else "'…' (redacted)"


class RedactedStr(str):
    """A ``str`` (the token) whose ``repr`` never shows its value: debuggers, ``vars()`` and logs of
    containers print it redacted, while headers and comparisons see the real string."""

    __slots__ = ()

    def __repr__(self) -> str:
        return redact_token(str.__str__(self))


@dataclass(repr=False)
class MeshAPIConfig:
    """Connection settings shared by every resource of one client (0.1.4 fields first).

    ``repr()`` never shows the token. Beyond 0.1.4: ``default_headers`` sent on every call, and the retry
    timing knobs (``retry_initial_delay``, ``retry_max_delay``, ``retry_max_after``; see
    ``meshapi._core.retry``), which tests set near zero.
    """

    base_url: str
    token: str
    timeout: Union[float, httpx.Timeout] = DEFAULT_TIMEOUT
    max_retries: int = DEFAULT_MAX_RETRIES
    httpx_client: Optional[httpx.Client] = None
    async_httpx_client: Optional[httpx.AsyncClient] = None
    default_headers: Optional[Dict[str, str]] = None
    retry_initial_delay: float = 0.5
    retry_max_delay: float = 8.0
    retry_max_after: float = 60.0
    realtime_connect_timeout: Optional[float] = None
    extra: Dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.base_url, str) or not self.base_url.strip():
            raise ConfigurationError("base_url must be a non-empty URL such as https://api.meshapi.ai")
        base = self.base_url.strip()
        if base.endswith("/"):
            base = base[:-1]
        try:
            url = httpx.URL(base)
        except Exception:
            raise ConfigurationError(f"base_url is not a valid URL: {base!r}") from None
        if url.scheme not in ("http", "https") or not url.host:
            raise ConfigurationError(
                f"base_url must start with http:// or https:// and name a host, got {base!r}"
            )
        if url.query or url.fragment:
            raise ConfigurationError("base_url must not contain a query string or fragment")
        self.base_url = base
        if not isinstance(self.token, str) or not self.token.strip():
            raise ConfigurationError("token must be a non-empty string (your MeshAPI key, rsk_...)")
        if any(c in self.token for c in "\r\n\x00") or self.token != self.token.strip():
            raise ConfigurationError("token contains whitespace or a line break; check how it was read")
        if not self.token.isascii() or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in self.token):
            # caught here, not as a UnicodeEncodeError from httpx at the first call (never echo the token)
            raise ConfigurationError("token must be printable ASCII without spaces; check how it was read")
        self.token = RedactedStr(self.token)
        if self.default_headers is not None:
            try:
                _check_headers(self.default_headers, name="default_headers")
            except InvalidParamsError as exc:
                raise ConfigurationError(exc.message) from None
        try:
            self.timeout = validate_timeout(self.timeout)
        except InvalidParamsError as exc:
            raise ConfigurationError(exc.message) from None
        try:
            self.max_retries = validate_max_retries(self.max_retries)
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None
        for name in ("retry_initial_delay", "retry_max_delay", "retry_max_after"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ConfigurationError(f"{name} must be a non-negative number of seconds, got {value!r}")

    def __repr__(self) -> str:
        return (
            f"MeshAPIConfig(base_url={self.base_url!r}, token={redact_token(self.token)}, "
            f"timeout={self.timeout!r}, max_retries={self.max_retries!r})"
        )

    @property
    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_retries=self.max_retries,
            initial_delay=self.retry_initial_delay,
            max_delay=self.retry_max_delay,
            max_retry_after=self.retry_max_after,
        )


def resolve_settings(base_url: Optional[str], token: Optional[str]) -> tuple[str, str]:
    """``base_url``/``token`` or their environment fallbacks, with one error naming what is missing."""
    base_url = base_url if base_url is not None else os.environ.get("MESHAPI_BASE_URL") or None
    token = token if token is not None else os.environ.get("MESHAPI_TOKEN") or None
    missing = []
    if base_url is None:
        missing.append("base_url= (or the MESHAPI_BASE_URL environment variable)")
    if token is None:
        missing.append("token= (or the MESHAPI_TOKEN environment variable)")
    if missing:
        raise ConfigurationError("MeshAPI client needs " + " and ".join(missing))
    assert base_url is not None and token is not None
    return base_url, token


def _timeout_of(value: Union[float, httpx.Timeout]) -> httpx.Timeout:
    return value if isinstance(value, httpx.Timeout) else httpx.Timeout(value)


def map_transport_error(exc: BaseException, *, during: str = "request") -> MeshAPIError:
    """The typed error for a transport failure (``exc`` is chained by the caller)."""
    if isinstance(exc, httpx.TimeoutException):
        kind = type(exc).__name__.replace("Timeout", " timeout").lower().strip()
        return APITimeoutError(f"The {during} timed out ({kind}).")
    detail = str(exc) or type(exc).__name__
    return APIConnectionError(f"Connection error during the {during}: {detail}")


def parse_json_response(response: httpx.Response) -> Any:
    """The JSON body of a 2xx response (``None`` for 204 or an empty body), or a typed error."""
    if response.status_code == 204 or not response.content:
        return None
    try:
        return json.loads(response.content)
    except ValueError:
        raise APIResponseValidationError(
            f"The gateway answered {response.status_code} with a body that is not JSON "
            f"(content type {response.headers.get('content-type', 'none')!r}).",
            status=response.status_code,
            request_id=response.headers.get("x-request-id", ""),
            response=response,
        ) from None


def validate_model(model: Type[T], data: Any, response: Optional[httpx.Response]) -> T:
    """``data`` validated as ``model``; a mismatch becomes ``APIResponseValidationError``."""
    try:
        if isinstance(data, (bytes, str)):
            result = model.model_validate_json(data)
        else:
            result = model.model_validate(data)
    except ValidationError as exc:
        request_id = response.headers.get("x-request-id", "") if response is not None else ""
        first = exc.errors(include_url=False)[:3]
        where = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ())) or '(root)'}: {e.get('msg')}" for e in first
        )
        raise APIResponseValidationError(
            f"The gateway's response does not match {model.__name__}: {where}",
            status=response.status_code if response is not None else 0,
            request_id=request_id,
            response=response,
        ) from None
    if response is not None:
        _attach(result, response)
    return result


def _attach(result: Any, response: httpx.Response) -> None:
    try:
        result._request_id = response.headers.get("x-request-id")
        result._response = response
    except (AttributeError, ValueError):  # a model without the private slots
        pass


class ListResponse(List[T]):
    """A plain ``list`` of models that also remembers ``request_id`` and the raw ``response``."""

    request_id: Optional[str] = None
    response: Optional[httpx.Response] = None


def parse_list(model: Type[T], response: httpx.Response, *, key: str = "data") -> ListResponse[T]:
    """A JSON array of ``model``; a ``{"data": [...]}`` (or ``key``) wrapper is accepted too."""
    data = parse_json_response(response)
    if data is None:
        data = []
    if isinstance(data, dict):
        inner = data.get(key, data.get("data"))
        data = inner if isinstance(inner, list) else None
    if not isinstance(data, list):
        raise APIResponseValidationError(
            f"Expected a JSON array of {model.__name__}, got {type(data).__name__}.",
            status=response.status_code,
            request_id=response.headers.get("x-request-id", ""),
            response=response,
        )
    items: ListResponse[T] = ListResponse(validate_model(model, item, None) for item in data)
    items.request_id = response.headers.get("x-request-id")
    items.response = response
    for item in items:
        _attach(item, response)
    return items


def stream_error_from_frame(payload: Mapping[str, Any], stream_request_id: str) -> StreamEventError:
    """The typed error for an in-band error frame ``{"error": {...}, "request_id": ...}``."""
    error = payload.get("error")
    request_id = payload.get("request_id")
    if not isinstance(request_id, str) or not request_id:
        request_id = stream_request_id
    if isinstance(error, dict):
        message = error.get("message")
        code = error.get("code")
        provider_error = error.get("provider_error")
        details = error.get("details")
        return StreamEventError(
            message if isinstance(message, str) and message else "upstream error",
            error_code=code if isinstance(code, str) and code else "upstream_error",
            request_id=request_id,
            provider_error=provider_error if isinstance(provider_error, dict) else None,
            details=details if isinstance(details, list) else None,
            body=dict(payload),
        )
    return StreamEventError(str(error), request_id=request_id, body=dict(payload))


class _BaseHttpClient:
    """What the two twins share: headers, request building, logging. No I/O."""

    _config: MeshAPIConfig
    _client: Union[httpx.Client, httpx.AsyncClient]
    _headers: Dict[str, str]
    _timeout: httpx.Timeout

    def _base_headers(self) -> Dict[str, str]:
        headers = {
            "Authorization": f"Bearer {self._config.token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "X-MeshAPI-SDK": SDK_HEADER_VALUE,
        }
        if self._config.default_headers:
            headers.update(self._config.default_headers)
        return headers

    def _url(self, path: str) -> httpx.URL:
        # Parsing the URL is a quarter of httpx's request building; most calls reuse a few paths.
        return _parse_url(self._config.base_url + path)

    def _headers_for(self, method: str, stream: bool, options: RequestOptions) -> Dict[str, str]:
        headers = dict(self._headers)
        if stream:
            headers["Accept"] = "text/event-stream"
        if method == "POST":
            headers["Idempotency-Key"] = new_idempotency_key()
        if options.extra_headers:
            headers.update(options.extra_headers)
        return headers

    def _timeout_for(self, options: RequestOptions) -> httpx.Timeout:
        return _timeout_of(options.timeout) if options.timeout is not None else self._timeout

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
        if len(content) > MAX_BODY_BYTES:
            # the gateway's edge would answer 413 with an HTML page, after the whole upload
            raise InvalidParamsError(
                f"The request body is {len(content) / 2**20:.1f} MiB; the gateway accepts at most "
                f"{MAX_BODY_BYTES // 2**20} MiB. Split the input (e.g. fewer items per call)."
            )
        return content

    def _check_open(self) -> None:
        if self._client.is_closed:
            raise APIConnectionError(
                "This client has been closed; create a new one (or do not close it while it is in use)."
            )

    def _max_retries(self, options: RequestOptions) -> int:
        return self._config.max_retries if options.max_retries is None else options.max_retries

    def _retry_delay(
        self,
        retries_done: int,
        max_retries: int,
        *,
        error: Optional[MeshAPIError] = None,
        exc: Optional[BaseException] = None,
    ) -> Optional[float]:
        policy = self._config.retry_policy
        if max_retries != policy.max_retries:
            policy = RetryPolicy(max_retries, policy.initial_delay, policy.max_delay, policy.max_retry_after)
        if exc is not None:
            if not is_retryable_exception(exc):
                return None
            return compute_delay(retries_done, None, policy)
        assert error is not None
        if not is_retryable_status(error.status):
            return None
        hint = parse_retry_after(error.headers)
        if hint is None and error.retry_after_seconds is not None and error.retry_after_seconds >= 0:
            hint = float(error.retry_after_seconds)
        return compute_delay(retries_done, hint, policy)


@functools.lru_cache(maxsize=256)
def _parse_url(url: str) -> httpx.URL:
    return httpx.URL(url)  # immutable, so one parsed URL can serve every request to it


def _params(params: Optional[Mapping[str, Any]]) -> Optional[Dict[str, Any]]:
    if not params:
        return None
    return {k: v for k, v in params.items() if v is not None} or None


class SyncHttpClient(_BaseHttpClient):
    """Blocking transport over ``httpx.Client``."""

    _client: httpx.Client

    def __init__(self, config: MeshAPIConfig) -> None:
        self._config = config
        self._timeout = _timeout_of(config.timeout)
        self._owns_client = config.httpx_client is None
        self._client = config.httpx_client or httpx.Client(timeout=self._timeout, limits=DEFAULT_LIMITS)
        self._headers = self._base_headers()
        self._sleep: Callable[[float], None] = time.sleep

    @property
    def config(self) -> MeshAPIConfig:
        return self._config

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

        ``content`` (instead of ``body``) is sent as is, e.g. an encoded multipart body whose
        ``Content-Type`` comes in ``options.extra_headers``; being bytes, it is replayed on a retry.
        """
        options = options or RequestOptions()
        self._check_open()
        request = self._client.build_request(
            method,
            self._url(path),
            content=self._encode(body) if content is None else content,
            params=_params(params),
            headers=self._headers_for(method, stream, options),
            timeout=self._timeout_for(options),
        )
        return self._send_with_retries(request, self._max_retries(options), stream=stream)

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

        Only ``headers`` are sent: never the API key, the SDK header or default headers (an
        ``Authorization`` configured on an injected client is removed too). Same retries and timeout as
        every call; a relative ``url`` is resolved against the base URL.
        """
        options = options or RequestOptions()
        self._check_open()
        try:
            target = httpx.URL(url)
            if not target.is_absolute_url:
                target = httpx.URL(self._config.base_url + "/").join(url)
            request = self._client.build_request(
                method, target, content=content, headers=dict(headers), timeout=self._timeout_for(options)
            )
        except (httpx.InvalidURL, ValueError, TypeError) as exc:
            raise InvalidParamsError(f"The URL cannot be used: {type(exc).__name__}") from None
        request.headers.pop("Authorization", None)
        return self._send_with_retries(request, self._max_retries(options), stream=False)

    def _send_with_retries(self, request: httpx.Request, max_retries: int, *, stream: bool) -> httpx.Response:
        """The loop: send, classify, maybe sleep and resend the same request (same idempotency key)."""
        method = request.method
        debug = log.isEnabledFor(logging.DEBUG)  # skip building log arguments nobody reads
        retries = 0
        while True:
            if debug:
                log.debug("%s %s (attempt %d)", method, request.url.path, retries + 1)
            try:
                response = self._client.send(request, stream=stream)
            except httpx.HTTPError as exc:
                delay = self._retry_delay(retries, max_retries, exc=exc)
                if delay is None:
                    raise map_transport_error(exc) from exc
                log.info(
                    "%s %s failed (%s); retrying in %.2fs",
                    method,
                    request.url.path,
                    type(exc).__name__,
                    delay,
                )
                self._sleep(delay)
                retries += 1
                continue
            if response.status_code < 300:  # a redirect that was not followed is an error, not a body
                if debug:
                    log.debug(
                        "%s %s -> %d (request id %s)",
                        method,
                        request.url.path,
                        response.status_code,
                        response.headers.get("x-request-id"),
                    )
                return response
            try:
                response.read()
            except httpx.HTTPError:
                pass  # the error body is lost, the status still says what happened
            finally:
                response.close()
            error = error_from_response(response)
            delay = self._retry_delay(retries, max_retries, error=error)
            if delay is None:
                log.debug("%s %s -> %d %s", method, request.url.path, error.status, error.error_code)
                raise error
            log.info(
                "%s %s -> %d; retrying in %.2fs (request id %s)",
                method,
                request.url.path,
                response.status_code,
                delay,
                error.request_id,
            )
            self._sleep(delay)
            retries += 1

    def request_json(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Optional[Mapping[str, Any]] = None,
        options: Optional[RequestOptions] = None,
    ) -> Any:
        return parse_json_response(self.send(method, path, body=body, params=params, options=options))

    def request_model(
        self,
        model: Type[T],
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Optional[Mapping[str, Any]] = None,
        options: Optional[RequestOptions] = None,
    ) -> T:
        response = self.send(method, path, body=body, params=params, options=options)
        if not response.content:
            raise APIResponseValidationError(
                f"The gateway answered {response.status_code} with an empty body; expected {model.__name__}.",
                status=response.status_code,
                request_id=response.headers.get("x-request-id", ""),
                response=response,
            )
        if "json" not in response.headers.get("content-type", "json"):
            parse_json_response(response)  # raises with a clear message unless the body is JSON anyway
        return validate_model(model, response.content, response)

    # 0.1.4 method names, kept for code that used the transport directly
    def get(self, path: str, params: Optional[Dict[str, Any]] = None) -> Any:
        return self.request_json("GET", path, params=params)

    def post(self, path: str, body: Any = None) -> Any:
        return self.request_json("POST", path, body=body)

    def patch(self, path: str, body: Any = None) -> Any:
        return self.request_json("PATCH", path, body=body)

    def delete(self, path: str) -> None:
        self.send("DELETE", path)

    def stream(self, path: str, body: Any) -> Iterator[Dict[str, Any]]:
        """0.1.4: the JSON objects of an SSE POST, until ``[DONE]`` (the chat and image streams)."""
        response = self.send("POST", path, body=body, stream=True)
        try:
            for sse in iter_sse(response.iter_bytes()):
                frame = _try_parse_sse_frame(sse)
                if frame is _DONE:
                    return
                if frame is not None:
                    yield frame
        except httpx.HTTPError as exc:
            raise map_transport_error(exc, during="stream") from exc
        finally:
            response.close()

    def close(self) -> None:
        """Close the connection pool (an injected client stays open: it belongs to the caller)."""
        if self._owns_client:
            self._client.close()


def _async_transport(
    transport: Optional[Union[str, httpx.AsyncBaseTransport]],
) -> Optional[httpx.AsyncBaseTransport]:
    """``None``/``"httpx"``: httpx's own pool; ``"aiohttp"``: ``AiohttpTransport``; or the given one."""
    if transport is None or transport == "httpx":
        return None
    if transport == "aiohttp":
        from ._aiohttp import AiohttpTransport

        return AiohttpTransport(limits=DEFAULT_LIMITS)
    if isinstance(transport, httpx.AsyncBaseTransport):
        return transport
    raise ConfigurationError(
        f"http_transport must be 'httpx', 'aiohttp' or an httpx.AsyncBaseTransport, got {transport!r}"
    )


class AsyncHttpClient(_BaseHttpClient):
    """Asyncio transport over ``httpx.AsyncClient`` (the twin of ``SyncHttpClient``).

    ``transport`` applies to the ``httpx.AsyncClient`` this object creates (not to one passed in the
    config): ``"aiohttp"`` selects :class:`meshapi._aiohttp.AiohttpTransport`.
    """

    _client: httpx.AsyncClient

    def __init__(
        self, config: MeshAPIConfig, *, transport: Optional[Union[str, httpx.AsyncBaseTransport]] = None
    ) -> None:
        if transport is not None and config.async_httpx_client is not None:
            raise ConfigurationError(
                "Pass either async_httpx_client or http_transport, not both "
                "(configure the transport on your own httpx.AsyncClient)."
            )
        self._config = config
        self._timeout = _timeout_of(config.timeout)
        self._owns_client = config.async_httpx_client is None
        self._client = config.async_httpx_client or httpx.AsyncClient(
            timeout=self._timeout, limits=ASYNC_DEFAULT_LIMITS, transport=_async_transport(transport)
        )
        self._headers = self._base_headers()
        self._sleep: Callable[[float], Any] = asyncio.sleep

    @property
    def config(self) -> MeshAPIConfig:
        return self._config

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

        ``content`` (instead of ``body``) is sent as is, e.g. an encoded multipart body whose
        ``Content-Type`` comes in ``options.extra_headers``; being bytes, it is replayed on a retry.
        """
        options = options or RequestOptions()
        self._check_open()
        request = self._client.build_request(
            method,
            self._url(path),
            content=self._encode(body) if content is None else content,
            params=_params(params),
            headers=self._headers_for(method, stream, options),
            timeout=self._timeout_for(options),
        )
        return await self._send_with_retries(request, self._max_retries(options), stream=stream)

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

        Only ``headers`` are sent: never the API key, the SDK header or default headers (an
        ``Authorization`` configured on an injected client is removed too). Same retries and timeout as
        every call; a relative ``url`` is resolved against the base URL.
        """
        options = options or RequestOptions()
        self._check_open()
        try:
            target = httpx.URL(url)
            if not target.is_absolute_url:
                target = httpx.URL(self._config.base_url + "/").join(url)
            request = self._client.build_request(
                method, target, content=content, headers=dict(headers), timeout=self._timeout_for(options)
            )
        except (httpx.InvalidURL, ValueError, TypeError) as exc:
            raise InvalidParamsError(f"The URL cannot be used: {type(exc).__name__}") from None
        request.headers.pop("Authorization", None)
        return await self._send_with_retries(request, self._max_retries(options), stream=False)

    async def _send_with_retries(
        self, request: httpx.Request, max_retries: int, *, stream: bool
    ) -> httpx.Response:
        """The loop: send, classify, maybe sleep and resend the same request (same idempotency key)."""
        method = request.method
        debug = log.isEnabledFor(logging.DEBUG)  # skip building log arguments nobody reads
        retries = 0
        while True:
            if debug:
                log.debug("%s %s (attempt %d)", method, request.url.path, retries + 1)
            try:
                response = await self._client.send(request, stream=stream)
            except httpx.HTTPError as exc:
                delay = self._retry_delay(retries, max_retries, exc=exc)
                if delay is None:
                    raise map_transport_error(exc) from exc
                log.info(
                    "%s %s failed (%s); retrying in %.2fs",
                    method,
                    request.url.path,
                    type(exc).__name__,
                    delay,
                )
                await self._sleep(delay)
                retries += 1
                continue
            if response.status_code < 300:  # a redirect that was not followed is an error, not a body
                if debug:
                    log.debug(
                        "%s %s -> %d (request id %s)",
                        method,
                        request.url.path,
                        response.status_code,
                        response.headers.get("x-request-id"),
                    )
                return response
            try:
                await response.aread()
            except httpx.HTTPError:
                pass
            finally:
                await response.aclose()
            error = error_from_response(response)
            delay = self._retry_delay(retries, max_retries, error=error)
            if delay is None:
                log.debug("%s %s -> %d %s", method, request.url.path, error.status, error.error_code)
                raise error
            log.info(
                "%s %s -> %d; retrying in %.2fs (request id %s)",
                method,
                request.url.path,
                response.status_code,
                delay,
                error.request_id,
            )
            await self._sleep(delay)
            retries += 1

    async def request_json(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Optional[Mapping[str, Any]] = None,
        options: Optional[RequestOptions] = None,
    ) -> Any:
        return parse_json_response(await self.send(method, path, body=body, params=params, options=options))

    async def request_model(
        self,
        model: Type[T],
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Optional[Mapping[str, Any]] = None,
        options: Optional[RequestOptions] = None,
    ) -> T:
        response = await self.send(method, path, body=body, params=params, options=options)
        if not response.content:
            raise APIResponseValidationError(
                f"The gateway answered {response.status_code} with an empty body; expected {model.__name__}.",
                status=response.status_code,
                request_id=response.headers.get("x-request-id", ""),
                response=response,
            )
        if "json" not in response.headers.get("content-type", "json"):
            parse_json_response(response)
        return validate_model(model, response.content, response)

    async def get(self, path: str, params: Optional[Dict[str, Any]] = None) -> Any:
        return await self.request_json("GET", path, params=params)

    async def post(self, path: str, body: Any = None) -> Any:
        return await self.request_json("POST", path, body=body)

    async def patch(self, path: str, body: Any = None) -> Any:
        return await self.request_json("PATCH", path, body=body)

    async def delete(self, path: str) -> None:
        await self.send("DELETE", path)

    async def stream(self, path: str, body: Any) -> AsyncIterator[Dict[str, Any]]:
        """0.1.4: the JSON objects of an SSE POST, until ``[DONE]``."""
        from ._core.sse import aiter_sse

        response = await self.send("POST", path, body=body, stream=True)
        try:
            async for sse in aiter_sse(response.aiter_bytes()):
                frame = _try_parse_sse_frame(sse)
                if frame is _DONE:
                    return
                if frame is not None:
                    yield frame
        except httpx.HTTPError as exc:
            raise map_transport_error(exc, during="stream") from exc
        finally:
            await response.aclose()

    async def aclose(self) -> None:
        """Close the connection pool (an injected client stays open: it belongs to the caller)."""
        if self._owns_client:
            await self._client.aclose()

    close = aclose


_DONE: Dict[str, Any] = {}


def _try_parse_sse_frame(frame: Union[str, ServerSentEvent]) -> Optional[Dict[str, Any]]:
    """0.1.4 helper: one SSE frame (raw text or a decoded event) as a dict.

    Returns ``None`` for frames without data, the module's ``_DONE`` marker for ``[DONE]``, and raises
    ``StreamEventError`` for an error frame and ``APIResponseValidationError`` for data that is not a JSON
    object (0.1.4 skipped such frames silently).
    """
    if isinstance(frame, ServerSentEvent):
        events = [frame]
    else:
        from ._core.sse import SSEDecoder

        decoder = SSEDecoder()
        events = decoder.feed(frame.encode("utf-8")) + decoder.flush()
    for event in events:
        data = event.data
        if not data.strip():
            continue
        if data.strip() == _DONE_SENTINEL:
            return _DONE
        try:
            payload = json.loads(data)
        except ValueError:
            raise APIResponseValidationError(f"A stream frame is not valid JSON: {data[:200]!r}") from None
        if not isinstance(payload, dict):
            raise APIResponseValidationError(f"A stream frame is not a JSON object: {data[:200]!r}")
        if payload.get("error") is not None:
            raise stream_error_from_frame(payload, "")
        if event.event:
            payload["event"] = event.event
        return payload
    return None


def _iter_sse(chunks: Iterator[bytes]) -> Iterator[Dict[str, Any]]:
    """0.1.4 helper: the JSON objects of an SSE byte stream, until ``[DONE]``."""
    for sse in iter_sse(chunks):
        frame = _try_parse_sse_frame(sse)
        if frame is _DONE:
            return
        if frame is not None:
            yield frame
