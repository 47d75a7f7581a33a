"""The websockets adapter of realtime sessions: the only module that imports ``websockets``.

Everything that touches the library lives here, so the sessions (:mod:`meshapi.realtime.sync_session`,
:mod:`meshapi.realtime.async_session`) and the pure core (:mod:`meshapi.realtime.protocol`) never see
its types or exceptions: the lazy imports (a missing extra names it), the options given to ``connect``
(limited to what the installed version takes), TLS for ``wss://`` verified against certifi's CA bundle
(as 0.1.10 did and as httpx does), a guard that refuses to send the upgrade to another origin after a
redirect, a logger that scrubs the key, the opening of a connection with the opted-in query fallback,
and the mapping of every library exception to :mod:`meshapi._errors`.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import math
import socket
import ssl
from typing import TYPE_CHECKING, Any, Dict, FrozenSet, Mapping, MutableMapping, Optional, Tuple

import httpx

from .._config import MeshAPIConfig
from .._core.request import _check_headers
from .._errors import APIConnectionError, APITimeoutError, InvalidParamsError, MeshAPIError, RealtimeError
from .._transport.base import SDK_HEADER_VALUE
from .handshake import FALLBACK_STATUSES, Handshake, build_handshake, handshake_error, query_fallback, scrub
from .protocol import RealtimeProtocol, close_error

log = logging.getLogger("meshapi")

INSTALL_HINT = "pip install 'meshapi[realtime]'"
DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024  # audio deltas of a long response can pass websockets' 1 MiB
CLOSE_TIMEOUT = 5.0
KEEPALIVE_INTERVAL = 20.0

if TYPE_CHECKING:
    _AdapterBase = logging.LoggerAdapter[logging.Logger]
else:
    _AdapterBase = logging.LoggerAdapter


class _CrossOriginRedirect(Exception):
    """Raised by the connection guard before a handshake is sent to another origin."""


def guarded(connection_cls: Any, url: str) -> Any:
    """A subclass of websockets' ``ClientConnection`` that refuses to send the upgrade to another origin.

    websockets follows redirects; across origins it drops the ``Authorization`` header but would still
    offer the ``Bearer.<key>`` subprotocol. Same-origin redirects proceed.
    """
    from websockets.uri import parse_uri

    def origin(uri: Any) -> Tuple[bool, str, int]:
        return (bool(uri.secure), str(uri.host), int(uri.port))

    expected = origin(parse_uri(url))

    def check(connection: Any) -> None:
        protocol = connection.protocol
        target = getattr(protocol, "uri", None) or getattr(protocol, "wsuri", None)  # renamed in 14.0
        if target is not None and origin(target) != expected:
            raise _CrossOriginRedirect()

    if asyncio.iscoroutinefunction(connection_cls.handshake):

        class AsyncGuard(connection_cls):  # type: ignore[misc,valid-type]
            async def handshake(self, *args: Any, **kwargs: Any) -> Any:
                check(self)
                return await super().handshake(*args, **kwargs)

        return AsyncGuard

    class SyncGuard(connection_cls):  # type: ignore[misc,valid-type]
        def handshake(self, *args: Any, **kwargs: Any) -> Any:
            check(self)
            return super().handshake(*args, **kwargs)

    return SyncGuard


def _import_error(exc: ImportError) -> ImportError:
    return ImportError(f"realtime sessions need the websockets package (>= 13.0): {INSTALL_HINT}")


def sync_websockets() -> Tuple[Any, Any, Any]:
    try:
        import websockets.exceptions as ws_exceptions
        from websockets.sync.client import ClientConnection, connect
    except ImportError as exc:
        raise _import_error(exc) from exc
    return connect, ws_exceptions, ClientConnection


def async_websockets() -> Tuple[Any, Any, Any]:
    try:
        import websockets.exceptions as ws_exceptions
        from websockets.asyncio.client import ClientConnection, connect
    except ImportError as exc:  # websockets < 13 has no asyncio client
        raise _import_error(exc) from exc
    return connect, ws_exceptions, ClientConnection


class RedactingLogger(_AdapterBase):
    """The ``websockets.client`` logger with the key removed from every record (its DEBUG lines echo
    the upgrade headers, which carry the key in every auth mode)."""

    def __init__(self, secret: str) -> None:
        super().__init__(logging.getLogger("websockets.client"), {})
        self._secret = secret

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        if not self.isEnabledFor(level):
            return
        if isinstance(msg, str):
            msg = scrub(msg, self._secret)
        clean = tuple(scrub(a, self._secret) if isinstance(a, str) else a for a in args)
        super().log(level, msg, *clean, **kwargs)

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> Tuple[Any, MutableMapping[str, Any]]:
        return msg, kwargs


def connect_timeout(config: MeshAPIConfig, timeout: Optional[float]) -> Optional[float]:
    if timeout is not None:
        return check_timeout(timeout, name="timeout")
    if config.realtime_connect_timeout is not None:
        return float(config.realtime_connect_timeout)
    value = config.timeout
    if isinstance(value, httpx.Timeout):
        return value.connect if value.connect is not None else value.read
    return float(value)


def check_timeout(timeout: Optional[float], *, name: str = "timeout") -> Optional[float]:
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not math.isfinite(timeout):
        raise InvalidParamsError(f"{name} must be a number of seconds or None, got {timeout!r}")
    if timeout < 0:
        raise InvalidParamsError(f"{name} must not be negative, got {timeout!r}")
    return float(timeout)


def prepare(
    config: MeshAPIConfig,
    model: str,
    auth: str,
    extra_headers: Optional[Mapping[str, str]],
    query: bool,
    allow_query_auth: bool = False,
) -> Handshake:
    headers: Dict[str, str] = dict(config.default_headers or {})
    if extra_headers is not None:
        _check_headers(extra_headers)
        headers.update(extra_headers)
    headers["X-MeshAPI-SDK"] = SDK_HEADER_VALUE
    if not isinstance(allow_query_auth, bool):
        raise InvalidParamsError(f"allow_query_auth must be True or False, got {allow_query_auth!r}")
    if auth == "auto" and query and allow_query_auth:
        auth = "query"  # this client already learned that the gateway only takes the query form
    return build_handshake(
        config.base_url,
        model,
        config.current_token(),
        auth=auth,
        headers=headers,
        allow_query_auth=allow_query_auth,
    )


@functools.lru_cache(maxsize=1)
def tls_context() -> ssl.SSLContext:
    """The TLS context of ``wss://`` sessions: certificates verified against certifi's CA bundle."""
    import certifi  # a dependency of httpx, so always present

    return ssl.create_default_context(cafile=certifi.where())


@functools.cache
def accepted_options(connect: Any) -> FrozenSet[str]:
    return frozenset(inspect.signature(connect).parameters)


def connect_options(
    connect: Any,
    connection_cls: Any,
    handshake: Handshake,
    open_timeout: Optional[float],
    config: MeshAPIConfig,
) -> Dict[str, Any]:
    """Keyword arguments for websockets' ``connect``, limited to those the installed version takes
    (the sync client of websockets 13/14 has no keepalive settings, for example)."""
    options: Dict[str, Any] = {
        "subprotocols": list(handshake.subprotocols),
        "additional_headers": list(handshake.headers),
        "open_timeout": open_timeout,
        "close_timeout": CLOSE_TIMEOUT,
        "ping_interval": KEEPALIVE_INTERVAL,
        "ping_timeout": KEEPALIVE_INTERVAL,
        "max_size": DEFAULT_MAX_MESSAGE_BYTES,
        "logger": RedactingLogger(handshake.token),
        "create_connection": guarded(connection_cls, handshake.url),
    }
    if handshake.url.startswith("wss://"):
        options["ssl"] = tls_context()
    accepted = accepted_options(connect)
    return {k: v for k, v in options.items() if k in accepted}


def is_timeout(exc: BaseException) -> bool:
    return isinstance(exc, (TimeoutError, socket.timeout, asyncio.TimeoutError))


def refused_status(exc: BaseException, ws_exceptions: Any) -> Optional[int]:
    if isinstance(exc, ws_exceptions.InvalidStatus):
        response = getattr(exc, "response", None)
        status = getattr(response, "status_code", None)
        return status if isinstance(status, int) else None
    return None


def connect_error(
    exc: BaseException, handshake: Handshake, token: str, timeout: Optional[float], ws_exceptions: Any
) -> MeshAPIError:
    """Map what opening the socket raised to the SDK's errors (the key is scrubbed from any text)."""
    if refused_status(exc, ws_exceptions) is not None:
        response = exc.response  # type: ignore[attr-defined]
        headers = [(str(k), str(v)) for k, v in response.headers.raw_items()]
        return handshake_error(response.status_code, headers, response.body or b"", handshake)
    if isinstance(exc, _CrossOriginRedirect):
        return APIConnectionError(
            f"The gateway redirected the realtime handshake for {handshake.safe_url} to another origin; "
            "the SDK does not follow it (the key would go along): check base_url."
        )
    if is_timeout(exc):
        return APITimeoutError(f"Opening the realtime session timed out after {timeout} s.")
    detail = scrub(str(exc), token) or "no details"
    return APIConnectionError(
        f"Could not open the realtime session at {handshake.safe_url}: {type(exc).__name__}: {detail}"
    )


def receive_timeout_error(timeout: Optional[float]) -> APITimeoutError:
    return APITimeoutError(
        f"No realtime event arrived within {timeout} s (the session is still open).",
        error_code="realtime_receive_timeout",
    )


def close_report(exc: BaseException) -> Tuple[Optional[int], str, Optional[int], str]:
    """(received code, reason, sent code, reason) of websockets' ``ConnectionClosed``."""
    rcvd = getattr(exc, "rcvd", None)
    sent = getattr(exc, "sent", None)
    return (
        getattr(rcvd, "code", None),
        getattr(rcvd, "reason", "") or "",
        getattr(sent, "code", None),
        getattr(sent, "reason", "") or "",
    )


def closed(protocol: RealtimeProtocol, exc: BaseException) -> RealtimeError:
    """Record the close that ``exc`` reports on ``protocol`` and return the error to raise."""
    code, reason, sent_code, sent_reason = close_report(exc)
    return protocol.connection_closed(code, reason, sent_code=sent_code, sent_reason=sent_reason)


def peek_close(protocol: RealtimeProtocol, exc: BaseException) -> RealtimeError:
    """The error for the close that ``exc`` reports, without recording it (a reconnect may follow)."""
    code, reason, sent_code, sent_reason = close_report(exc)
    return close_error(
        code, reason, sent_code=sent_code, sent_reason=sent_reason, closed_by_client=protocol.closing
    )


def library_error(exc: BaseException) -> RealtimeError:
    if isinstance(exc, RuntimeError):  # websockets' ConcurrencyError (a RuntimeError before 14.0)
        return RealtimeError(
            "concurrent_receive", "another receive() is already waiting on this session; use one reader"
        )
    return RealtimeError("protocol_error", f"the realtime connection failed: {type(exc).__name__}: {exc}")


def _open_failed(
    exc: BaseException,
    handshake: Handshake,
    config: MeshAPIConfig,
    timeout: Optional[float],
    ws_exceptions: Any,
) -> Optional[MeshAPIError]:
    """The error to raise for a failed upgrade, or ``None`` when an opted-in query retry should follow."""
    status = refused_status(exc, ws_exceptions)
    if handshake.can_fall_back and status in FALLBACK_STATUSES:
        log.debug("realtime: upgrade refused with HTTP %s; retrying with the query-parameter key", status)
        return None
    return connect_error(exc, handshake, handshake.token, timeout, ws_exceptions)


def open_sync(
    config: MeshAPIConfig, model: str, handshake: Handshake, timeout: Optional[float]
) -> Tuple[Any, Handshake]:
    """Open a blocking connection; returns it and the handshake that worked (the fallback's if used)."""
    connect, ws_exceptions, connection_cls = sync_websockets()
    for attempt in (handshake, None):
        if attempt is None:
            handshake = query_fallback(handshake, config.base_url, model, handshake.token)
        log.debug("realtime: connecting to %s (auth=%s)", handshake.safe_url, handshake.auth)
        try:
            ws = connect(
                handshake.url, **connect_options(connect, connection_cls, handshake, timeout, config)
            )
        except Exception as exc:
            error = _open_failed(exc, handshake, config, timeout, ws_exceptions)
            if error is not None:
                raise error from None
            continue
        ws.__enter__()  # the session owns the connection (websockets >= 17.1 warns about bare use)
        return ws, handshake
    raise AssertionError("unreachable")  # pragma: no cover


async def open_async(
    config: MeshAPIConfig, model: str, handshake: Handshake, timeout: Optional[float]
) -> Tuple[Any, Handshake]:
    """Open an asyncio connection; returns it and the handshake that worked (the fallback's if used)."""
    connect, ws_exceptions, connection_cls = async_websockets()
    for attempt in (handshake, None):
        if attempt is None:
            handshake = query_fallback(handshake, config.base_url, model, handshake.token)
        log.debug("realtime: connecting to %s (auth=%s)", handshake.safe_url, handshake.auth)
        try:
            ws = await connect(
                handshake.url, **connect_options(connect, connection_cls, handshake, timeout, config)
            )
        except Exception as exc:
            error = _open_failed(exc, handshake, config, timeout, ws_exceptions)
            if error is not None:
                raise error from None
            continue
        return ws, handshake
    raise AssertionError("unreachable")  # pragma: no cover
