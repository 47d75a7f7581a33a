"""Realtime (WebSocket) sessions: ``client.realtime.connect(model=...)``.

The sessions are thin loops over the sans-I/O core in :mod:`meshapi.realtime.protocol` (URL and
handshake, frame encoding and decoding, close classification, session state); the blocking twin uses
``websockets.sync.client`` and the asyncio twin ``websockets.asyncio.client``. ``websockets`` (>= 13.0)
is an optional extra, imported on the first ``connect``: ``pip install 'meshapi[realtime]'``.

Authentication (``connect(auth=...)``). API.md §7.2: the docs prefer the key in the
``Sec-WebSocket-Protocol`` header (``openai-realtime`` plus ``Bearer.<key>``), while every SDK up to
0.1.12 sends it as ``?api_key=`` in the URL, where proxies and access logs record it. The default,
``"auto"``, keeps the key out of the URL: it offers the ``Bearer.<key>`` subprotocol and sends
``Authorization: Bearer <key>`` on the upgrade. If the gateway refuses that upgrade with HTTP 400 (how
production was recorded to reject the subprotocol form), the handshake is retried once with the query
form and the client remembers to use it; any other refusal (401, 403, 404, ...) is raised as is, so a
wrong key is never re-sent in a URL. ``"subprotocol"``, ``"header"`` and ``"query"`` pick one form with no
fallback (``"query"`` is exactly what 0.1.4 sent). The key never appears in a repr, an exception, a log
line of the ``meshapi`` or ``websockets`` loggers, or, outside ``"query"``, the URL.

Errors. Opening a session fails like any API call: a refused upgrade raises the status error of
:mod:`meshapi._errors` (``AuthenticationError`` 401, ``PermissionDeniedError`` 403, ``NotFoundError`` 404
for an unknown or non-realtime model, ``RateLimitError``, ``InternalServerError``...), with ``status`` and
``request_id`` from the rejection; an unreachable gateway raises ``APIConnectionError`` and a handshake
slower than the timeout ``APITimeoutError``. Once open, everything the session reports is a
:class:`RealtimeError` (see the code table in :mod:`meshapi.realtime.protocol`): an ``error`` event
raises (as in 0.1.4; the session stays open unless the gateway closes it, so catch it and keep
receiving), a malformed frame raises ``malformed_event``, an abnormal close raises with ``close_code``.
A receive that outlives its ``timeout`` raises ``APITimeoutError`` and leaves the session open.
websockets' own exceptions never escape.

Closing. Iteration ends quietly when the session ends normally (close code 1000/1001, or ``close()``);
after that ``receive()`` and ``send()`` raise ``RealtimeError`` code ``session_closed``. ``close()``
sends a 1000 close frame, waits briefly for the gateway's answer and never raises. ``client.close()`` /
``await client.aclose()`` close every session the client opened.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import math
import socket
import threading
from typing import (
    TYPE_CHECKING,
    Any,
    AsyncIterable,
    AsyncIterator,
    Dict,
    FrozenSet,
    Generator,
    Iterable,
    Iterator,
    List,
    Mapping,
    MutableMapping,
    Optional,
    Set,
    Tuple,
    Union,
)

import httpx

from .._core.request import _check_headers
from .._errors import (
    APIConnectionError,
    APITimeoutError,
    InvalidParamsError,
    MeshAPIError,
    RealtimeError,
)
from .._http import SDK_HEADER_VALUE, MeshAPIConfig
from ..realtime.protocol import (
    FALLBACK_STATUSES,
    Handshake,
    RealtimeMessage,
    RealtimeProtocol,
    ResponseCollector,
    build_handshake,
    encode_audio_append,
    encode_event,
    handshake_error,
    is_quiet_end,
    query_fallback,
    scrub,
    session_update_event,
    text_turn_events,
)

__all__ = [
    "AsyncRealtimeResource",
    "AsyncRealtimeSession",
    "RealtimeError",
    "RealtimeMessage",
    "RealtimeResource",
    "RealtimeSession",
]

log = logging.getLogger("meshapi")

INSTALL_HINT = "pip install 'meshapi[realtime]'"
DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024  # audio deltas of a long response can pass websockets' 1 MiB
CLOSE_TIMEOUT = 5.0
KEEPALIVE_INTERVAL = 20.0
AudioChunk = Union[bytes, bytearray, memoryview]

if TYPE_CHECKING:
    _AdapterBase = logging.LoggerAdapter[logging.Logger]
else:
    _AdapterBase = logging.LoggerAdapter


# --- shared helpers ---------------------------------------------------------------------------------


class _CrossOriginRedirect(Exception):
    """Raised by the connection guard before a handshake is sent to another origin."""


def _guarded(connection_cls: Any, url: str) -> Any:
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


def _sync_websockets() -> Tuple[Any, Any, Any]:
    try:
        import websockets.exceptions as ws_exceptions
        from websockets.sync.client import ClientConnection, connect
    except ImportError as exc:
        raise _import_error(exc) from exc
    return connect, ws_exceptions, ClientConnection


def _async_websockets() -> Tuple[Any, Any, Any]:
    try:
        import websockets.exceptions as ws_exceptions
        from websockets.asyncio.client import ClientConnection, connect
    except ImportError as exc:  # websockets < 13 has no asyncio client
        raise _import_error(exc) from exc
    return connect, ws_exceptions, ClientConnection


class _RedactingLogger(_AdapterBase):
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


def _connect_timeout(config: MeshAPIConfig, timeout: Optional[float]) -> Optional[float]:
    if timeout is not None:
        return _check_timeout(timeout, name="timeout")
    if config.realtime_connect_timeout is not None:
        return float(config.realtime_connect_timeout)
    value = config.timeout
    if isinstance(value, httpx.Timeout):
        return value.connect if value.connect is not None else value.read
    return float(value)


def _check_timeout(timeout: Optional[float], *, name: str = "timeout") -> Optional[float]:
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not math.isfinite(timeout):
        raise InvalidParamsError(f"{name} must be a number of seconds or None, got {timeout!r}")
    if timeout < 0:
        raise InvalidParamsError(f"{name} must not be negative, got {timeout!r}")
    return float(timeout)


def _prepare(
    config: MeshAPIConfig, model: str, auth: str, extra_headers: Optional[Mapping[str, str]], query: bool
) -> Handshake:
    headers: Dict[str, str] = dict(config.default_headers or {})
    if extra_headers is not None:
        _check_headers(extra_headers)
        headers.update(extra_headers)
    headers["X-MeshAPI-SDK"] = SDK_HEADER_VALUE
    if auth == "auto" and query:
        auth = "query"  # this client already learned that the gateway only takes the query form
    return build_handshake(config.base_url, model, config.token, auth=auth, headers=headers)


@functools.cache
def _accepted_options(connect: Any) -> FrozenSet[str]:
    return frozenset(inspect.signature(connect).parameters)


def _connect_options(
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
        "logger": _RedactingLogger(config.token),
        "create_connection": _guarded(connection_cls, handshake.url),
    }
    accepted = _accepted_options(connect)
    return {k: v for k, v in options.items() if k in accepted}


def _is_timeout(exc: BaseException) -> bool:
    return isinstance(exc, (TimeoutError, socket.timeout, asyncio.TimeoutError))


def _refused_status(exc: BaseException, ws_exceptions: Any) -> Optional[int]:
    if isinstance(exc, ws_exceptions.InvalidStatus):
        response = getattr(exc, "response", None)
        status = getattr(response, "status_code", None)
        return status if isinstance(status, int) else None
    return None


def _connect_error(
    exc: BaseException, handshake: Handshake, token: str, timeout: Optional[float], ws_exceptions: Any
) -> MeshAPIError:
    """Map what opening the socket raised to the SDK's errors (the key is scrubbed from any text)."""
    if _refused_status(exc, ws_exceptions) is not None:
        response = exc.response  # type: ignore[attr-defined]
        headers = [(str(k), str(v)) for k, v in response.headers.raw_items()]
        return handshake_error(response.status_code, headers, response.body or b"", handshake)
    if isinstance(exc, _CrossOriginRedirect):
        return APIConnectionError(
            f"The gateway redirected the realtime handshake for {handshake.safe_url} to another origin; "
            "the SDK does not follow it (the key would go along): check base_url."
        )
    if _is_timeout(exc):
        return APITimeoutError(f"Opening the realtime session timed out after {timeout} s.")
    detail = scrub(str(exc), token) or "no details"
    return APIConnectionError(
        f"Could not open the realtime session at {handshake.safe_url}: {type(exc).__name__}: {detail}"
    )


def _receive_timeout_error(timeout: Optional[float]) -> APITimeoutError:
    return APITimeoutError(
        f"No realtime event arrived within {timeout} s (the session is still open).",
        error_code="realtime_receive_timeout",
    )


def _closed(protocol: RealtimeProtocol, exc: BaseException) -> RealtimeError:
    rcvd = getattr(exc, "rcvd", None)
    sent = getattr(exc, "sent", None)
    return protocol.connection_closed(
        getattr(rcvd, "code", None),
        getattr(rcvd, "reason", "") or "",
        sent_code=getattr(sent, "code", None),
        sent_reason=getattr(sent, "reason", "") or "",
    )


def _library_error(exc: BaseException) -> RealtimeError:
    if isinstance(exc, RuntimeError):  # websockets' ConcurrencyError (a RuntimeError before 14.0)
        return RealtimeError(
            "concurrent_receive", "another receive() is already waiting on this session; use one reader"
        )
    return RealtimeError("protocol_error", f"the realtime connection failed: {type(exc).__name__}: {exc}")


def _session_repr(name: str, protocol: RealtimeProtocol, model: str) -> str:
    status = "closed" if (protocol.closed or protocol.closing) else "open"
    return f"{name}(model={model!r}, session_id={protocol.state.session_id!r}, {status})"


def _event_filter(types: Tuple[str, ...]) -> Tuple[str, ...]:
    for kind in types:
        if not isinstance(kind, str):
            raise InvalidParamsError(f"event types must be strings, got {kind!r}")
    return types


# --- sessions ---------------------------------------------------------------------------------------


class RealtimeSession:
    """A blocking realtime session (returned by ``client.realtime.connect(model=...)``).

    Iterate it (``for message in session``) to receive until the session ends; use it as a context
    manager to close it on exit. One thread should receive at a time; sending from another is fine.
    """

    def __init__(self, ws: Any, *, model: str = "", _on_close: Any = None) -> None:
        self._ws = ws
        self._model = model
        self._on_close = _on_close
        self._protocol = RealtimeProtocol()

    # --- state ---
    @property
    def session_id(self) -> Optional[str]:
        """The id from ``session.created`` (``None`` until that event has been received)."""
        return self._protocol.state.session_id

    @property
    def model(self) -> str:
        return self._protocol.state.model or self._model

    @property
    def closed(self) -> bool:
        """True once the session has ended or ``close()`` was called."""
        return self._protocol.closed or self._protocol.closing

    @property
    def close_code(self) -> Optional[int]:
        """The close code once the connection has ended (1000 after ``close()``)."""
        exc = self._protocol.close_exc
        return exc.close_code if exc is not None else None

    @property
    def last_response(self) -> Optional[Dict[str, Any]]:
        """The ``response`` object of the last ``response.done`` received (status, output, usage)."""
        return self._protocol.state.last_response

    def __repr__(self) -> str:
        return _session_repr("RealtimeSession", self._protocol, self._model)

    # --- sending ---
    def send(self, event: Mapping[str, Any]) -> None:
        """Send one client event (a dict with a ``type``) as a JSON text frame."""
        self._send(encode_event(event))

    def send_audio(self, audio: AudioChunk, *, binary: bool = False) -> None:
        """Append PCM16 audio to the input buffer.

        By default as the GA ``input_audio_buffer.append`` event (base64 text, what the gateway accepts);
        ``binary=True`` sends a raw binary frame as 0.1.4 did.
        """
        if binary:
            if not isinstance(audio, (bytes, bytearray, memoryview)):
                raise InvalidParamsError(f"audio must be bytes, got {type(audio).__name__}")
            self._send(bytes(audio))
        else:
            self._send(encode_audio_append(audio))

    def _send(self, frame: Union[str, bytes]) -> None:
        self._protocol.check_open()
        _, ws_exceptions, _ = _sync_websockets()
        try:
            self._ws.send(frame)
        except ws_exceptions.ConnectionClosed as exc:
            raise _closed(self._protocol, exc) from None
        except (ws_exceptions.WebSocketException, RuntimeError, OSError) as exc:
            raise _library_error(exc) from None

    # --- receiving ---
    def receive(self, timeout: Optional[float] = None) -> RealtimeMessage:
        """Wait for the next message.

        ``timeout``: seconds to wait (``None`` waits as long as it takes); when it passes,
        ``APITimeoutError`` is raised and the session stays open. Raises ``RealtimeError`` for an
        ``error`` event, a malformed frame, or a session that has ended (``session_closed`` after a
        normal close, ``abnormal_close`` / ``connection_lost`` with ``close_code`` otherwise).
        """
        timeout = _check_timeout(timeout)
        self._protocol.check_open()
        _, ws_exceptions, _ = _sync_websockets()
        try:
            data = self._ws.recv(timeout)
        except ws_exceptions.ConnectionClosed as exc:
            raise _closed(self._protocol, exc) from None
        except TimeoutError:
            raise _receive_timeout_error(timeout) from None
        except (ws_exceptions.WebSocketException, RuntimeError, OSError) as exc:
            raise _library_error(exc) from None
        return self._protocol.receive_frame(data)

    def __iter__(self) -> Iterator[RealtimeMessage]:
        """Receive until the session ends: quietly after a normal close, raising ``RealtimeError`` after
        an abnormal one, an ``error`` event or a malformed frame (catch it to keep going)."""
        while True:
            try:
                message = self.receive()
            except RealtimeError as exc:
                if is_quiet_end(exc):
                    return
                raise
            yield message

    def events(self, *types: str, timeout: Optional[float] = None) -> Iterator[RealtimeMessage]:
        """Iterate only the messages whose event type is one of ``types`` (all when none is given).

        Other messages are consumed and dropped. Ends like iteration; ``timeout`` bounds each wait.
        """
        wanted = _event_filter(types)
        while True:
            try:
                message = self.receive(timeout)
            except RealtimeError as exc:
                if is_quiet_end(exc):
                    return
                raise
            if not wanted or message.type in wanted:
                yield message

    # --- helpers ---
    def update_session(self, **fields: Any) -> None:
        """Send a GA ``session.update`` with ``fields`` (``type="realtime"`` is filled in).

        The gateway answers ``session.updated`` (or an ``error`` event for a bad configuration).
        """
        self.send(session_update_event(fields))

    def send_text(self, text: str, *, timeout: Optional[float] = None) -> str:
        """Send a user message, ask for a response, and return its text once ``response.done`` arrives.

        The text is the ``response.output_text`` deltas, or the audio transcript when the response is
        spoken. Other events received meanwhile are consumed; ``last_response`` holds the final response.
        ``timeout`` bounds each wait for an event.
        """
        for event in text_turn_events(text):
            self.send(event)
        collector = ResponseCollector()
        while not collector.done:
            collector.feed(self.receive(timeout))
        return collector.text

    def stream_audio(self, chunks: Iterable[AudioChunk], *, commit: bool = False) -> None:
        """Append every chunk of ``chunks`` to the input buffer (GA base64 events); ``commit=True`` then
        sends ``input_audio_buffer.commit``."""
        for chunk in chunks:
            self.send_audio(chunk)
        if commit:
            self.send({"type": "input_audio_buffer.commit"})

    def iter_audio(self, *, timeout: Optional[float] = None) -> Iterator[bytes]:
        """Yield the decoded audio of the next (or current) response until its ``response.done``.

        Other events are consumed; ``timeout`` bounds each wait for an event.
        """
        collector = ResponseCollector()
        while not collector.done:
            chunk = collector.feed(self.receive(timeout))
            if chunk:
                yield chunk

    # --- closing ---
    def close(self) -> None:
        """Close the session (close code 1000). Idempotent; never raises."""
        if self._protocol.closing:
            return
        self._protocol.closing = True
        try:
            self._ws.close()
        except Exception as exc:  # the socket may already be gone; closing must not fail
            log.debug("realtime: error while closing the session: %s", type(exc).__name__)
        finally:
            self._protocol.connection_closed(None)
            if self._on_close is not None:
                self._on_close(self)

    def __enter__(self) -> RealtimeSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncRealtimeSession:
    """An asyncio realtime session (``await client.realtime.connect(model=...)``).

    Iterate it (``async for message in session``) to receive until the session ends; use it as an async
    context manager to close it on exit. One task should receive at a time; sending from another is fine.
    """

    def __init__(self, ws: Any, *, model: str = "", _on_close: Any = None) -> None:
        self._ws = ws
        self._model = model
        self._on_close = _on_close
        self._protocol = RealtimeProtocol()

    # --- state ---
    @property
    def session_id(self) -> Optional[str]:
        """The id from ``session.created`` (``None`` until that event has been received)."""
        return self._protocol.state.session_id

    @property
    def model(self) -> str:
        return self._protocol.state.model or self._model

    @property
    def closed(self) -> bool:
        """True once the session has ended or ``close()`` was called."""
        return self._protocol.closed or self._protocol.closing

    @property
    def close_code(self) -> Optional[int]:
        """The close code once the connection has ended (1000 after ``close()``)."""
        exc = self._protocol.close_exc
        return exc.close_code if exc is not None else None

    @property
    def last_response(self) -> Optional[Dict[str, Any]]:
        """The ``response`` object of the last ``response.done`` received (status, output, usage)."""
        return self._protocol.state.last_response

    def __repr__(self) -> str:
        return _session_repr("AsyncRealtimeSession", self._protocol, self._model)

    # --- sending ---
    async def send(self, event: Mapping[str, Any]) -> None:
        """Send one client event (a dict with a ``type``) as a JSON text frame."""
        await self._send(encode_event(event))

    async def send_audio(self, audio: AudioChunk, *, binary: bool = False) -> None:
        """Append PCM16 audio to the input buffer.

        By default as the GA ``input_audio_buffer.append`` event (base64 text, what the gateway accepts);
        ``binary=True`` sends a raw binary frame as 0.1.4 did.
        """
        if binary:
            if not isinstance(audio, (bytes, bytearray, memoryview)):
                raise InvalidParamsError(f"audio must be bytes, got {type(audio).__name__}")
            await self._send(bytes(audio))
        else:
            await self._send(encode_audio_append(audio))

    async def _send(self, frame: Union[str, bytes]) -> None:
        self._protocol.check_open()
        _, ws_exceptions, _ = _async_websockets()
        try:
            await self._ws.send(frame)
        except ws_exceptions.ConnectionClosed as exc:
            raise _closed(self._protocol, exc) from None
        except (ws_exceptions.WebSocketException, RuntimeError, OSError) as exc:
            raise _library_error(exc) from None

    # --- receiving ---
    async def receive(self, timeout: Optional[float] = None) -> RealtimeMessage:
        """Wait for the next message.

        ``timeout``: seconds to wait (``None`` waits as long as it takes); when it passes,
        ``APITimeoutError`` is raised and the session stays open. Raises ``RealtimeError`` for an
        ``error`` event, a malformed frame, or a session that has ended (``session_closed`` after a
        normal close, ``abnormal_close`` / ``connection_lost`` with ``close_code`` otherwise).
        """
        timeout = _check_timeout(timeout)
        self._protocol.check_open()
        _, ws_exceptions, _ = _async_websockets()
        try:
            if timeout is None:
                data = await self._ws.recv()
            else:
                data = await asyncio.wait_for(self._ws.recv(), timeout)
        except ws_exceptions.ConnectionClosed as exc:
            raise _closed(self._protocol, exc) from None
        except asyncio.TimeoutError:
            raise _receive_timeout_error(timeout) from None
        except (ws_exceptions.WebSocketException, RuntimeError, OSError) as exc:
            raise _library_error(exc) from None
        return self._protocol.receive_frame(data)

    async def __aiter__(self) -> AsyncIterator[RealtimeMessage]:
        """Receive until the session ends: quietly after a normal close, raising ``RealtimeError`` after
        an abnormal one, an ``error`` event or a malformed frame (catch it to keep going)."""
        while True:
            try:
                message = await self.receive()
            except RealtimeError as exc:
                if is_quiet_end(exc):
                    return
                raise
            yield message

    async def events(self, *types: str, timeout: Optional[float] = None) -> AsyncIterator[RealtimeMessage]:
        """Iterate only the messages whose event type is one of ``types`` (all when none is given).

        Other messages are consumed and dropped. Ends like iteration; ``timeout`` bounds each wait.
        """
        wanted = _event_filter(types)
        while True:
            try:
                message = await self.receive(timeout)
            except RealtimeError as exc:
                if is_quiet_end(exc):
                    return
                raise
            if not wanted or message.type in wanted:
                yield message

    # --- helpers ---
    async def update_session(self, **fields: Any) -> None:
        """Send a GA ``session.update`` with ``fields`` (``type="realtime"`` is filled in).

        The gateway answers ``session.updated`` (or an ``error`` event for a bad configuration).
        """
        await self.send(session_update_event(fields))

    async def send_text(self, text: str, *, timeout: Optional[float] = None) -> str:
        """Send a user message, ask for a response, and return its text once ``response.done`` arrives.

        The text is the ``response.output_text`` deltas, or the audio transcript when the response is
        spoken. Other events received meanwhile are consumed; ``last_response`` holds the final response.
        ``timeout`` bounds each wait for an event.
        """
        for event in text_turn_events(text):
            await self.send(event)
        collector = ResponseCollector()
        while not collector.done:
            collector.feed(await self.receive(timeout))
        return collector.text

    async def stream_audio(
        self, chunks: Union[Iterable[AudioChunk], AsyncIterable[AudioChunk]], *, commit: bool = False
    ) -> None:
        """Append every chunk of ``chunks`` to the input buffer (GA base64 events); ``commit=True`` then
        sends ``input_audio_buffer.commit``."""
        if isinstance(chunks, AsyncIterable):
            async for chunk in chunks:
                await self.send_audio(chunk)
        else:
            for chunk in chunks:
                await self.send_audio(chunk)
        if commit:
            await self.send({"type": "input_audio_buffer.commit"})

    async def iter_audio(self, *, timeout: Optional[float] = None) -> AsyncIterator[bytes]:
        """Yield the decoded audio of the next (or current) response until its ``response.done``.

        Other events are consumed; ``timeout`` bounds each wait for an event.
        """
        collector = ResponseCollector()
        while not collector.done:
            chunk = collector.feed(await self.receive(timeout))
            if chunk:
                yield chunk

    # --- closing ---
    async def close(self) -> None:
        """Close the session (close code 1000). Idempotent; never raises."""
        if self._protocol.closing:
            return
        self._protocol.closing = True
        try:
            await self._ws.close()
        except Exception as exc:  # the socket may already be gone; closing must not fail
            log.debug("realtime: error while closing the session: %s", type(exc).__name__)
        finally:
            self._protocol.connection_closed(None)
            if self._on_close is not None:
                self._on_close(self)

    async def __aenter__(self) -> AsyncRealtimeSession:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


# --- resources --------------------------------------------------------------------------------------


class RealtimeResource:
    """``client.realtime``: opens realtime sessions and closes them all on ``client.close()``."""

    def __init__(self, config: MeshAPIConfig) -> None:
        self._cfg = config
        self._sessions: Set[RealtimeSession] = set()
        self._lock = threading.Lock()
        self._query_only = False  # set when the gateway accepted only ``?api_key=`` (auth="auto")

    def __repr__(self) -> str:
        return f"RealtimeResource(base_url={self._cfg.base_url!r}, open_sessions={len(self._sessions)})"

    def connect(
        self,
        *,
        model: str,
        auth: str = "auto",
        timeout: Optional[float] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> RealtimeSession:
        """Open a realtime session for ``model`` (a realtime-capable model such as ``openai/gpt-realtime``).

        ``auth``: ``"auto"`` (default), ``"subprotocol"``, ``"header"`` or ``"query"`` (see the module
        documentation; only ``"query"`` puts the key in the URL). ``timeout``: seconds for the whole
        handshake (default: the client's ``realtime_connect_timeout``, else its ``timeout``).
        Raises ``AuthenticationError``/``NotFoundError``/... for a refused upgrade, ``APITimeoutError``
        and ``APIConnectionError`` when the gateway cannot be reached in time.
        """
        open_timeout = _connect_timeout(self._cfg, timeout)
        handshake = _prepare(self._cfg, model, auth, extra_headers, self._query_only)
        connect, ws_exceptions, connection_cls = _sync_websockets()
        try:
            ws = self._open(connect, connection_cls, handshake, open_timeout)
        except Exception as exc:
            status = _refused_status(exc, ws_exceptions)
            if not (handshake.can_fall_back and status in FALLBACK_STATUSES):
                raise _connect_error(exc, handshake, self._cfg.token, open_timeout, ws_exceptions) from None
            log.debug("realtime: upgrade refused with HTTP %s; retrying with the query-parameter key", status)
            handshake = query_fallback(handshake, self._cfg.base_url, model, self._cfg.token)
            try:
                ws = self._open(connect, connection_cls, handshake, open_timeout)
            except Exception as exc2:
                raise _connect_error(exc2, handshake, self._cfg.token, open_timeout, ws_exceptions) from None
            self._query_only = True
        session = RealtimeSession(ws, model=model, _on_close=self._forget)
        with self._lock:
            self._sessions.add(session)
        return session

    def _open(
        self, connect: Any, connection_cls: Any, handshake: Handshake, open_timeout: Optional[float]
    ) -> Any:
        log.debug("realtime: connecting to %s (auth=%s)", handshake.safe_url, handshake.auth)
        ws = connect(
            handshake.url, **_connect_options(connect, connection_cls, handshake, open_timeout, self._cfg)
        )
        ws.__enter__()  # the session owns the connection (websockets >= 17.1 warns about bare use)
        return ws

    def _forget(self, session: RealtimeSession) -> None:
        with self._lock:
            self._sessions.discard(session)

    def close_all(self) -> None:
        """Close every session opened through this resource that is still open (``client.close()``)."""
        with self._lock:
            sessions = list(self._sessions)
        for session in sessions:
            session.close()


class _AsyncConnectionManager:
    """What ``AsyncRealtimeResource.connect`` returns: ``await`` it for the session, or use it in
    ``async with`` to close the session on exit. Nothing is opened until one of the two happens."""

    def __init__(self, opener: Any) -> None:
        self._opener = opener
        self._session: Optional[AsyncRealtimeSession] = None

    def __await__(self) -> Generator[Any, None, AsyncRealtimeSession]:
        return self._opener().__await__()  # type: ignore[no-any-return]

    async def __aenter__(self) -> AsyncRealtimeSession:
        self._session = await self._opener()
        return self._session

    async def __aexit__(self, *exc_info: object) -> None:
        if self._session is not None:
            await self._session.close()


class AsyncRealtimeResource:
    """``client.realtime``: opens realtime sessions and closes them all on ``client.aclose()``."""

    def __init__(self, config: MeshAPIConfig) -> None:
        self._cfg = config
        self._sessions: Set[AsyncRealtimeSession] = set()
        self._query_only = False  # set when the gateway accepted only ``?api_key=`` (auth="auto")

    def __repr__(self) -> str:
        return f"AsyncRealtimeResource(base_url={self._cfg.base_url!r}, open_sessions={len(self._sessions)})"

    def connect(
        self,
        *,
        model: str,
        auth: str = "auto",
        timeout: Optional[float] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> _AsyncConnectionManager:
        """Open a realtime session for ``model`` (a realtime-capable model such as ``openai/gpt-realtime``).

        ``auth``: ``"auto"`` (default), ``"subprotocol"``, ``"header"`` or ``"query"`` (see the module
        documentation; only ``"query"`` puts the key in the URL). ``timeout``: seconds for the whole
        handshake (default: the client's ``realtime_connect_timeout``, else its ``timeout``).
        Raises ``AuthenticationError``/``NotFoundError``/... for a refused upgrade, ``APITimeoutError``
        and ``APIConnectionError`` when the gateway cannot be reached in time.
        """
        open_timeout = _connect_timeout(self._cfg, timeout)
        handshake = _prepare(self._cfg, model, auth, extra_headers, self._query_only)
        _async_websockets()  # fail here, not at the first await, when websockets is missing

        async def opener() -> AsyncRealtimeSession:
            return await self._connect(model, handshake, open_timeout)

        return _AsyncConnectionManager(opener)

    async def _connect(
        self, model: str, handshake: Handshake, open_timeout: Optional[float]
    ) -> AsyncRealtimeSession:
        connect, ws_exceptions, connection_cls = _async_websockets()
        try:
            ws = await self._open(connect, connection_cls, handshake, open_timeout)
        except Exception as exc:
            status = _refused_status(exc, ws_exceptions)
            if not (handshake.can_fall_back and status in FALLBACK_STATUSES):
                raise _connect_error(exc, handshake, self._cfg.token, open_timeout, ws_exceptions) from None
            log.debug("realtime: upgrade refused with HTTP %s; retrying with the query-parameter key", status)
            handshake = query_fallback(handshake, self._cfg.base_url, model, self._cfg.token)
            try:
                ws = await self._open(connect, connection_cls, handshake, open_timeout)
            except Exception as exc2:
                raise _connect_error(exc2, handshake, self._cfg.token, open_timeout, ws_exceptions) from None
            self._query_only = True
        session = AsyncRealtimeSession(ws, model=model, _on_close=self._sessions.discard)
        self._sessions.add(session)
        return session

    async def _open(
        self, connect: Any, connection_cls: Any, handshake: Handshake, open_timeout: Optional[float]
    ) -> Any:
        log.debug("realtime: connecting to %s (auth=%s)", handshake.safe_url, handshake.auth)
        return await connect(
            handshake.url, **_connect_options(connect, connection_cls, handshake, open_timeout, self._cfg)
        )

    async def close_all(self) -> None:
        """Close every session opened through this resource that is still open (``client.close()``)."""
        sessions: List[AsyncRealtimeSession] = list(self._sessions)
        if sessions:
            await asyncio.gather(*(session.close() for session in sessions))
