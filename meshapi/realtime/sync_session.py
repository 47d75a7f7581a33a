"""The blocking realtime session: a thin loop over :mod:`meshapi.realtime.protocol` with websockets' sync
client (its asyncio twin, :mod:`meshapi.realtime.async_session`, has the same methods and docstrings;
the two live in separate files only to keep each under the size limit, and a parity test holds them
together).

Sending goes through the bounded send queue (:mod:`meshapi.realtime.flow`) drained by one writer
thread, started on the first send and joined by ``close()``. Receiving happens on the caller's thread;
with ``reconnect`` enabled, a dropped connection is reopened there (see :mod:`meshapi.realtime.flow`).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Any, Callable, Iterable, Iterator, List, Mapping, Optional, Union

from .._errors import APIStatusError, InvalidParamsError, MeshAPIError, RealtimeError
from ..types.realtime_server import RealtimeServerEvent
from . import _ws
from ._base import SessionBase
from .flow import Frame, queue_full_error
from .handlers import handler_error
from .messages import RealtimeMessage, typed_event
from .protocol import (
    ResponseCollector,
    encode_audio_append,
    is_quiet_end,
    session_update_event,
    text_turn_events,
)
from .senders import ConversationSender, InputAudioBufferSender, ResponseSender, SessionSender

__all__ = ["RealtimeSession"]

log = logging.getLogger("meshapi")
AudioChunk = Union[bytes, bytearray, memoryview]
FLUSH_TIMEOUT = 2.0  # close() waits this long for queued frames to reach the socket


def event_filter(types: Any) -> Any:
    for kind in types:
        if not isinstance(kind, str):
            raise InvalidParamsError(f"event types must be strings, got {kind!r}")
    return types


class RealtimeSession(SessionBase):
    """A blocking realtime session (returned by ``client.realtime.connect(model=...)``).

    Iterate it (``for message in session``) to receive until the session ends; use it as a context
    manager to close it on exit. One thread should receive at a time; sending from another is fine.
    """

    def __init__(self, ws: Any, *, model: str = "", _on_close: Any = None, **options: Any) -> None:
        super().__init__(ws, model=model, _on_close=_on_close, **options)
        self._cond = threading.Condition()
        self._writer: Optional[threading.Thread] = None
        self._writer_error: Optional[RealtimeError] = None
        self._stopping = False
        self.session = SessionSender(self.send)
        self.conversation = ConversationSender(self.send)
        self.response = ResponseSender(self.send)
        self.input_audio_buffer = InputAudioBufferSender(self.send)

    # --- sending ---
    def send(self, event: Mapping[str, Any]) -> None:
        """Send one client event (a dict with a ``type``) as a JSON text frame.

        The frame is queued for the writer; past the queue's bounds this waits up to
        ``FlowControl.send_timeout`` and raises ``RealtimeError`` code ``send_queue_full`` (blocking
        session) or waits for room (asyncio session).
        """
        self._check_process()
        self._send(self._encode(event))

    def send_audio(self, audio: AudioChunk, *, binary: bool = False) -> None:
        """Append PCM16 audio to the input buffer.

        By default as the GA ``input_audio_buffer.append`` event (base64 text, what the gateway accepts);
        ``binary=True`` sends a raw binary frame as 0.1.4 did.
        """
        self._check_process()
        if binary:
            if not isinstance(audio, (bytes, bytearray, memoryview)):
                raise InvalidParamsError(f"audio must be bytes, got {type(audio).__name__}")
            self._send(bytes(audio))
        else:
            self._send(encode_audio_append(audio))

    def _send(self, frame: Frame) -> None:
        self._protocol.check_open()
        flow = self._flow
        deadline = None if flow.send_timeout is None else time.monotonic() + flow.send_timeout
        with self._cond:
            while True:
                if self._writer_error is not None and self._policy is None:
                    raise _copy(self._writer_error)
                self._protocol.check_open()
                if self._queue.has_room(len(frame)):
                    break
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise queue_full_error(flow, self._queue.queued)
                self._cond.wait(remaining)
            self._queue.push(frame)
            self._cond.notify_all()
            if self._writer_error is None and (self._writer is None or not self._writer.is_alive()):
                self._start_writer()

    def _write_loop(self, ws: Any) -> None:
        _, ws_exceptions, _ = _ws.sync_websockets()
        while True:
            with self._cond:
                while not self._queue and not self._stopping:
                    self._cond.wait()
                frame = self._queue.peek()
                if frame is None:
                    return
            try:
                ws.send(frame)
            except ws_exceptions.ConnectionClosed as exc:
                error = _ws.peek_close(self._protocol, exc)
            except (ws_exceptions.WebSocketException, RuntimeError, OSError) as exc:
                error = _ws.library_error(exc)
            else:
                with self._cond:
                    self._queue.pop()
                    self._cond.notify_all()
                continue
            with self._cond:
                self._writer_error = error
                self._cond.notify_all()
            return

    def _stop_writer(self, timeout: float) -> None:
        """Let the writer flush for up to ``timeout`` s, then unblock it by shutting the socket down."""
        writer = self._writer
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if writer is None or writer is threading.current_thread():
            return
        writer.join(timeout)
        if writer.is_alive():
            sock = getattr(self._ws, "socket", None)
            try:
                if sock is not None:
                    sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            writer.join(1.0)
        self._writer = None

    # --- receiving ---
    def receive(self, timeout: Optional[float] = None) -> RealtimeMessage:
        """Wait for the next message.

        ``timeout``: seconds to wait (``None`` waits as long as it takes); when it passes,
        ``APITimeoutError`` is raised and the session stays open. Raises ``RealtimeError`` for an
        ``error`` event, a malformed frame, or a session that has ended (``session_closed`` after a
        normal close, ``abnormal_close`` / ``connection_lost`` with ``close_code`` otherwise).
        """
        message = self._next(timeout)
        self._protocol.raise_for_error(message)
        return message

    def _next(self, timeout: Optional[float]) -> RealtimeMessage:
        timeout = _ws.check_timeout(timeout)
        self._check_process()
        self._protocol.check_open()
        _, ws_exceptions, _ = _ws.sync_websockets()
        try:
            data = self._ws.recv(timeout)
        except ws_exceptions.ConnectionClosed as exc:
            error = _ws.peek_close(self._protocol, exc)
            if self._should_reconnect(error):
                message = self._reconnect(error)
                if message is not None:
                    return message
            raise _ws.closed(self._protocol, exc) from None
        except TimeoutError:
            raise _ws.receive_timeout_error(timeout) from None
        except (ws_exceptions.WebSocketException, RuntimeError, OSError) as exc:
            raise _ws.library_error(exc) from None
        message = self._protocol.decode(data)
        self._note(message)
        return message

    def _reconnect(self, error: RealtimeError) -> Optional[RealtimeMessage]:
        policy, attempts = self._policy, self._attempts
        assert policy is not None and attempts is not None
        attempts.dropped(self._clock())
        self._stop_writer(0.5)
        with self._cond:
            undelivered: List[Frame] = self._queue.drain()
        try:
            self._ws.close()
        except Exception:  # the old connection is gone; closing it must not fail the reconnect
            pass
        attempt = attempts.next_attempt()
        while attempt is not None:
            self._sleep(policy.delay(attempt, self._rng))
            if self._protocol.closing:
                return None
            try:
                ws = self._reopen()
            except MeshAPIError as exc:
                log.debug("realtime: reconnect attempt %d failed: %s", attempt, type(exc).__name__)
                if isinstance(exc, APIStatusError) and exc.status in (401, 403, 404):
                    break
                attempts.failed()
                attempt = attempts.next_attempt()
                continue
            attempts.opened(self._clock())
            log.debug("realtime: reconnected (attempt %d)", attempt)
            with self._cond:
                self._ws = ws
                self._writer_error = None
                self._stopping = False
                config = self._config_frame()
                if config is not None:
                    self._queue.push_front(config)
                if self._queue:
                    self._start_writer()
            return self._reconnected_message(attempt, error, undelivered)
        return None

    def _start_writer(self) -> None:  # called with the condition held
        self._stopping = False
        self._writer = threading.Thread(
            target=self._write_loop, args=(self._ws,), name="meshapi-realtime-writer", daemon=True
        )
        self._writer.start()

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
        wanted = event_filter(types)
        while True:
            try:
                message = self.receive(timeout)
            except RealtimeError as exc:
                if is_quiet_end(exc):
                    return
                raise
            if not wanted or message.type in wanted:
                yield message

    # --- typed events and handlers ---
    def recv(self, timeout: Optional[float] = None) -> RealtimeServerEvent:
        """The next server event as a typed model (``event.type`` narrows it), after its handlers ran.

        Unlike ``receive()``, an ``error`` event is returned as ``ErrorEvent`` rather than raised; a
        session that has ended raises ``RealtimeError`` as ``receive()`` does. ``timeout`` as there.
        """
        message = self._next(timeout)
        event = typed_event(message)
        self._dispatch(event)
        return event

    def iter_events(self, *, timeout: Optional[float] = None) -> Iterator[RealtimeServerEvent]:
        """Yield typed events (see :meth:`recv`) until the session ends normally."""
        while True:
            try:
                event = self.recv(timeout)
            except RealtimeError as exc:
                if is_quiet_end(exc):
                    return
                raise
            yield event

    def run(self, *, until: Optional[Callable[[Any], bool]] = None, timeout: Optional[float] = None) -> None:
        """Receive and run handlers until the session ends normally or ``until(event)`` is true.

        An ``error`` event that no ``"error"`` handler took raises ``RealtimeError``; so does a failing
        handler (``handler_error``). ``timeout`` bounds each wait for an event.
        """
        for event in self.iter_events(timeout=timeout):
            if event.type == "error" and not self._handlers.wants("error"):
                raise self._protocol.error_of(event.model_dump(exclude_none=True))
            if until is not None and until(event):
                return

    def _dispatch(self, event: RealtimeServerEvent) -> None:
        for handler in self._handlers.take(event.type):
            try:
                handler(event)
            except Exception as exc:
                raise handler_error(event.type, handler, exc) from exc

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
        """Close the session (close code 1000) after flushing queued events briefly. Idempotent; never
        raises. In a process forked from the one that opened it, only marks the session closed."""
        if self._protocol.closing:
            return
        if self._in_child():
            self._protocol.closing = True
            self._protocol.connection_closed(None)
            return
        try:
            self._stop_writer(FLUSH_TIMEOUT)
        finally:
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


def _copy(error: RealtimeError) -> RealtimeError:
    return RealtimeError(
        error.code, error.realtime_message, error.param, error.request_id, close_code=error.close_code
    )
