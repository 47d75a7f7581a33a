"""What runs around each attempt of a call: the limiter, the token provider, the retry count, the time left,
the hooks.

Both send loops (``meshapi._transport.client``) call :func:`start_attempt` before sending an attempt and
:func:`end_attempt` when its headers arrived (the ``a``-prefixed twins await an async token provider or
hook). With a ``limiter=`` the attempt first waits for its grant (``meshapi._transport.limiting``), so the
token and the time left are those after the wait; :func:`attempt_answered` / :func:`attempt_failed` give
the grant back. The ``on_request`` / ``on_response`` hooks see redacted views (:class:`RequestView`,
:class:`ResponseView`), never the live request; a hook or a token provider that raises becomes a typed
error (``HookError`` / ``ConfigurationError``) with the cause chained, and nothing is sent. So is a
provider that returns no usable token (``None``, ``""``, not a string: ``meshapi._config.provided_token``)
or, on the sync client, an ``async def`` provider (its coroutine is closed, never left unawaited).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Dict, Optional

import httpx

from .._config import MeshAPIConfig, check_token, provided_token
from .._core.retry import RetryState
from .._core.timeouts import attempt_timeouts, deadline_error
from .._errors import ConfigurationError, HookError, MeshAPIError

if TYPE_CHECKING:
    from . import limiting  # imported when a client has a limiter (``_limiter()``), never before

__all__ = [
    "RETRY_COUNT_HEADER",
    "Attempt",
    "RequestView",
    "ResponseView",
    "aend_attempt",
    "astart_attempt",
    "attempt_answered",
    "attempt_failed",
    "end_attempt",
    "next_request",
    "start_attempt",
]

RETRY_COUNT_HEADER = "X-MeshAPI-Retry-Count"


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


class Attempt:
    """One attempt's view (when a hook wants it), whether ``on_response`` is to be called, and the
    limiter's grant it holds (``None`` without a limiter)."""

    __slots__ = ("grant", "hooked", "view")

    def __init__(self, view: Optional[RequestView], hooked: bool) -> None:
        self.view = view
        self.hooked = hooked
        self.grant: Optional[limiting.Grant] = None


def attempt_failed(attempt: Optional[Attempt], exc: BaseException) -> Optional[httpx.HTTPError]:
    """The attempt raised ``exc`` before its answer: the grant given back; ``exc`` when it is a transport
    failure (the send loop judges it), ``None`` for anything else (raised as is)."""
    if attempt is not None and attempt.grant is not None:
        attempt.grant.settle(None, False)
    return exc if isinstance(exc, httpx.HTTPError) else None


def attempt_answered(attempt: Optional[Attempt], response: httpx.Response, stream: bool) -> None:
    """The attempt's answer arrived: its grant released (an open stream's when its body is closed)."""
    if attempt is not None and attempt.grant is not None:
        attempt.grant.settle(response, stream)


def _redacted(headers: httpx.Headers) -> Dict[str, str]:
    return {k: ("<redacted>" if k.lower() == "authorization" else v) for k, v in headers.items()}


def _token_error(exc: BaseException) -> MeshAPIError:
    if isinstance(exc, MeshAPIError):
        return exc
    return ConfigurationError(f"The token provider raised {type(exc).__name__}; no request was sent")


def _hook_error(name: str, exc: BaseException) -> MeshAPIError:
    return HookError(f"The {name} hook raised {type(exc).__name__}: {exc}")


def next_request(request: httpx.Request) -> httpx.Request:
    """A fresh ``httpx.Request`` for a retry: the same method, URL, headers (so the same idempotency key)
    and body bytes, never re-encoded; what the attempt changes is set on the copy only.

    So whatever keeps the requests sent (respx's call history, a transport's log, an event hook) sees
    each attempt's own ``X-MeshAPI-Retry-Count`` and ``Authorization``.
    """
    fresh = httpx.Request(
        request.method,
        request.url,
        headers=request.headers,  # copied by httpx.Headers
        stream=request.stream,  # bytes (a JSON body or an encoded upload): replayable as is
        extensions=dict(request.extensions),
    )
    content = getattr(request, "_content", None)
    if content is not None:
        fresh._content = content  # request.content stays readable without reading the stream again
    return fresh


def prepare_attempt(request: httpx.Request, state: RetryState, token: Any, *, count: bool = True) -> None:
    """Set what changes between attempts: retry count, a refreshed token, the time left."""
    if state.retries and count:
        request.headers[RETRY_COUNT_HEADER] = str(state.retries)
    if token is not None:
        request.headers["Authorization"] = f"Bearer {check_token(token)}"
    if state.deadline is not None:
        left = state.remaining() or 0.0
        if left <= 0.0:
            raise deadline_error()
        request.extensions["timeout"] = attempt_timeouts(request.extensions.get("timeout"), left)


def _begin(
    config: MeshAPIConfig,
    request: httpx.Request,
    state: RetryState,
    token: Any,
    external: bool,
    hook: Optional[Callable[[RequestView], Any]],
) -> Attempt:
    if not external or state.deadline is not None:
        prepare_attempt(request, state, token, count=not external)
    view = None
    if config.on_request is not None or config.on_response is not None:
        view = RequestView(request.method, str(request.url), _redacted(request.headers), state.retries)
        if hook is not None:
            try:
                hook(view)
            except Exception as exc:
                raise _hook_error("on_request", exc) from exc
    return Attempt(view, config.on_response is not None and view is not None)


def _limiter() -> Any:
    """``meshapi._transport.limiting``, imported by the first attempt of a client with a ``limiter``."""
    from . import limiting

    return limiting


def start_attempt(http: Any, request: httpx.Request, state: RetryState, external: bool) -> Attempt:
    """Wait for the limiter, refresh the token, set the retry count and time left, call ``on_request`` (sync).

    ``http``: the sending client (its ``config``); ``external``: a request outside the API (a signed upload
    URL): no limiter, no token, no retry count.
    """
    config: MeshAPIConfig = http.config
    grant = None if external or config.limiter is None else _limiter().limit(http, request, state)
    try:
        token = None
        provider = config.token
        if callable(provider) and not external:
            try:
                token = provider()
            except Exception as exc:
                raise _token_error(exc) from exc
            token = provided_token(token)  # None, "" or an async provider's coroutine: nothing is sent
        attempt = _begin(config, request, state, token, external, config.on_request)
    except BaseException:
        if grant is not None:
            _limiter().give_back(grant)
        raise
    attempt.grant = grant
    return attempt


async def astart_attempt(http: Any, request: httpx.Request, state: RetryState, external: bool) -> Attempt:
    """The async twin of :func:`start_attempt`: the token provider and the hook may be awaitable."""
    config: MeshAPIConfig = http.config
    grant = None if external or config.limiter is None else await _limiter().alimit(http, request, state)
    try:
        token = None
        provider = config.token
        if callable(provider) and not external:
            try:
                token = provider()
                if inspect.isawaitable(token):
                    token = await token
            except Exception as exc:
                raise _token_error(exc) from exc
            token = provided_token(token)
        attempt = _begin(config, request, state, token, external, None)
        hook = config.on_request
        if hook is not None and attempt.view is not None:
            try:
                result = hook(attempt.view)
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:
                raise _hook_error("on_request", exc) from exc
    except BaseException:
        if grant is not None:
            _limiter().give_back(grant)
        raise
    attempt.grant = grant
    return attempt


def _response_view(response: httpx.Response, request: RequestView, elapsed: float) -> ResponseView:
    return ResponseView(
        response.status_code,
        dict(response.headers.items()),
        response.headers.get("x-request-id", ""),
        elapsed,
        request,
    )


def end_attempt(config: MeshAPIConfig, response: httpx.Response, attempt: Attempt, elapsed: float) -> None:
    """Call ``on_response`` with the attempt's answer; a raising hook closes the response."""
    hook = config.on_response
    assert hook is not None and attempt.view is not None
    try:
        hook(_response_view(response, attempt.view, elapsed))
    except Exception as exc:
        response.close()
        raise _hook_error("on_response", exc) from exc


async def aend_attempt(
    config: MeshAPIConfig, response: httpx.Response, attempt: Attempt, elapsed: float
) -> None:
    """The async twin of :func:`end_attempt` (the hook may be awaitable)."""
    hook = config.on_response
    assert hook is not None and attempt.view is not None
    try:
        result = hook(_response_view(response, attempt.view, elapsed))
        if inspect.isawaitable(result):
            await result
    except Exception as exc:
        await response.aclose()
        raise _hook_error("on_response", exc) from exc
