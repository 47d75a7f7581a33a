"""The realtime protocol without the socket: handshake, frames in and out, closes, session state.

Everything here is pure (no socket, no event loop, no clock), so the sync and asyncio sessions
(:mod:`meshapi.realtime.sync_session`, :mod:`meshapi.realtime.async_session`) are thin loops around it
and this module is unit-tested frame by frame.

* :func:`build_handshake` (from :mod:`meshapi.realtime.handshake`, re-exported here) gives the
  upgrade request; the token goes in the URL only in ``auth="query"`` mode (or an opted-in fallback).
* :func:`encode_event` / :func:`encode_audio_append` give the text frames a client sends.
* :class:`RealtimeProtocol` decodes what the gateway sends (:meth:`RealtimeProtocol.receive_frame`),
  tracks the session (id, model, current response) and turns the end of the connection into the error
  to raise (:meth:`RealtimeProtocol.connection_closed`).
* :class:`ResponseCollector` (from :mod:`meshapi.realtime.collect`) gathers one response (text,
  transcript, audio) until ``response.done``.

Errors: a session reports :class:`~meshapi._errors.RealtimeError` with a code from this table

============== ============================================================== ==================
code           when                                                           ``close_code``
============== ============================================================== ==================
(server code)  an ``error`` event (0.1.4 defaults: ``unknown`` / ``realtime   ``None``
               error``); the session stays open unless the gateway closes it
malformed_event a text frame that is not JSON (or nested too deeply to decode),  ``None``
               JSON that is not an object, or an audio delta that is not base64
session_closed the session ended normally (1000/1001, or :meth:`close` was     1000 / 1001
               called); iteration ends quietly on it
abnormal_close the gateway closed the socket with any other code               that code
connection_lost the connection dropped without a close frame                  1006
send_queue_full the blocking session's send queue stayed full past           ``None``
               ``FlowControl.send_timeout`` (:mod:`meshapi.realtime.flow`)
handler_error  a handler registered with ``on``/``once`` raised (``__cause__``) ``None``
response_      the connection dropped during ``send_text()``/``iter_audio()``  1006 / the code
interrupted    and the session reconnected; the response was not re-sent
forked_process the session is used in a process forked after it was opened    ``None``
============== ============================================================== ==================
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Dict, List, Mapping, Optional, Union

from .._errors import InvalidParamsError, RealtimeError
from .collect import ResponseCollector
from .handshake import (
    AUTH_MODES,
    FALLBACK_STATUSES,
    REALTIME_PATH,
    SUBPROTOCOL,
    Handshake,
    build_handshake,
    handshake_error,
    query_fallback,
    realtime_url,
    scrub,
)
from .messages import (
    AUDIO_DELTA_TYPES,
    NORMAL_CLOSE_CODES,
    TEXT_DELTA_TYPES,
    TRANSCRIPT_DELTA_TYPES,
    RealtimeMessage,
)

__all__ = [
    "AUDIO_DELTA_TYPES",
    "AUTH_MODES",
    "FALLBACK_STATUSES",
    "NORMAL_CLOSE_CODES",
    "REALTIME_PATH",
    "SUBPROTOCOL",
    "TEXT_DELTA_TYPES",
    "TRANSCRIPT_DELTA_TYPES",
    "Handshake",
    "RealtimeMessage",
    "RealtimeProtocol",
    "ResponseCollector",
    "SessionState",
    "build_handshake",
    "close_error",
    "decode_frame",
    "encode_audio_append",
    "encode_event",
    "error_from_event",
    "handshake_error",
    "is_quiet_end",
    "query_fallback",
    "realtime_url",
    "scrub",
    "session_update_event",
    "text_turn_events",
]

_SNIPPET = 80


# --- client events ----------------------------------------------------------------------------------


def encode_event(event: Mapping[str, Any]) -> str:
    """``event`` as the JSON text of one frame; ``InvalidParamsError`` if it is not a JSON object."""
    if not isinstance(event, Mapping):
        raise InvalidParamsError(f"a realtime event must be a dict, got {type(event).__name__}")
    try:
        return json.dumps(dict(event), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidParamsError(f"the realtime event is not JSON-serialisable: {exc}") from None
    except RecursionError:
        raise InvalidParamsError("the realtime event is nested too deeply to encode") from None


def _audio_bytes(audio: Any) -> bytes:
    if not isinstance(audio, (bytes, bytearray, memoryview)):
        raise InvalidParamsError(f"audio must be bytes (PCM16 little-endian), got {type(audio).__name__}")
    return bytes(audio)


def encode_audio_append(audio: Union[bytes, bytearray, memoryview]) -> str:
    """The GA ``input_audio_buffer.append`` event carrying ``audio`` as base64."""
    data = base64.b64encode(_audio_bytes(audio)).decode("ascii")
    return encode_event({"type": "input_audio_buffer.append", "audio": data})


def session_update_event(fields: Mapping[str, Any]) -> Dict[str, Any]:
    """A GA ``session.update`` (``session.type`` defaults to ``"realtime"``)."""
    session: Dict[str, Any] = {"type": "realtime"}
    session.update(fields)
    return {"type": "session.update", "session": session}


def text_turn_events(text: str) -> List[Dict[str, Any]]:
    """The two events of a text turn: the user message, then ``response.create``."""
    if not isinstance(text, str):
        raise InvalidParamsError(f"text must be a string, got {type(text).__name__}")
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
    return [{"type": "conversation.item.create", "item": item}, {"type": "response.create"}]


# --- server frames ----------------------------------------------------------------------------------


def _snippet(text: str) -> str:
    return text if len(text) <= _SNIPPET else text[:_SNIPPET] + "…"


def _malformed(message: str, frame: str) -> RealtimeError:
    return RealtimeError("malformed_event", message, details=[{"frame": frame[:1000]}])


def error_from_event(event: Mapping[str, Any]) -> RealtimeError:
    """The ``RealtimeError`` for an ``error`` event (0.1.4 defaults: ``unknown`` / ``realtime error``)."""
    error = event.get("error")
    if not isinstance(error, Mapping):
        error = {}
    code = error.get("code")
    message = error.get("message")
    param = error.get("param")
    request_id = event.get("request_id")
    details = error.get("details")
    err = RealtimeError(
        code if isinstance(code, str) and code else "unknown",
        message if isinstance(message, str) and message else "realtime error",
        param if isinstance(param, str) else None,
        request_id if isinstance(request_id, str) else None,
        details=details if isinstance(details, list) else None,
    )
    err.body = dict(event)
    return err


def decode_frame(data: Union[str, bytes, bytearray, memoryview]) -> RealtimeMessage:
    """One received frame as a message; raises ``RealtimeError`` (``malformed_event``) for a text frame
    that is not a JSON object or an audio delta that is not base64. ``error`` events are returned as
    messages (:meth:`RealtimeProtocol.receive_frame` raises them)."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return RealtimeMessage(audio=bytes(data))
    try:
        event = json.loads(data)
    except ValueError:
        raise _malformed(
            f"the gateway sent a text frame that is not JSON: {_snippet(data)!r}", data
        ) from None
    except RecursionError:
        raise _malformed("the gateway sent a JSON frame nested too deeply to decode", data) from None
    if not isinstance(event, dict):
        raise _malformed(
            f"the gateway sent a JSON {type(event).__name__} where an event object was expected: "
            f"{_snippet(data)!r}",
            data,
        )
    audio: Optional[bytes] = None
    if event.get("type") in AUDIO_DELTA_TYPES and isinstance(event.get("delta"), str):
        try:
            audio = base64.b64decode(event["delta"], validate=True)
        except (binascii.Error, ValueError):
            raise _malformed(f"{event['type']} carries a delta that is not base64", data) from None
    return RealtimeMessage(text=data, audio=audio, event=event)


def close_error(
    code: Optional[int],
    reason: str = "",
    *,
    sent_code: Optional[int] = None,
    sent_reason: str = "",
    closed_by_client: bool = False,
) -> RealtimeError:
    """The error that stands for a closed connection.

    ``code``/``reason`` come from the close frame received (``None`` when there was none), ``sent_*``
    from the one the client library sent (e.g. 1009 for an oversized message, 1011 after a keepalive
    timeout). A normal end (1000/1001, or the user closed the session) gives ``session_closed``, which
    iteration treats as the quiet end of the stream (:func:`is_quiet_end`).
    """
    if closed_by_client or (code in NORMAL_CLOSE_CODES):
        final = code if code in NORMAL_CLOSE_CODES else 1000
        return RealtimeError(
            "session_closed", f"the realtime session is closed (code {final})", close_code=final
        )
    if code is None and sent_code is not None and sent_code not in NORMAL_CLOSE_CODES:
        code, reason = sent_code, sent_reason
    if code is None or code == 1006:
        return RealtimeError(
            "connection_lost",
            "the realtime connection was lost without a close frame (code 1006)",
            close_code=1006,
            details=[{"close_code": 1006, "close_reason": ""}],
        )
    text = f"the realtime session was closed with code {code}"
    if reason:
        text += f": {reason}"
    return RealtimeError(
        "abnormal_close", text, close_code=code, details=[{"close_code": code, "close_reason": reason}]
    )


def is_quiet_end(error: BaseException) -> bool:
    """True for the error of a normally closed session (iteration ends without raising)."""
    return isinstance(error, RealtimeError) and error.code == "session_closed"


# --- state ------------------------------------------------------------------------------------------


class SessionState:
    """What the client knows about the session from the events it has seen."""

    def __init__(self) -> None:
        self.session_id: Optional[str] = None
        self.model: Optional[str] = None
        self.session: Dict[str, Any] = {}
        self.response_id: Optional[str] = None  # the response in progress
        self.last_response: Optional[Dict[str, Any]] = None  # the last ``response.done`` payload
        self.events_received = 0

    def feed(self, message: RealtimeMessage) -> None:
        self.events_received += 1
        event = message.event
        if event is None:
            return
        kind = event.get("type")
        if kind in ("session.created", "session.updated"):
            session = event.get("session")
            if isinstance(session, dict):
                self.session = session
                if isinstance(session.get("id"), str):
                    self.session_id = session["id"]
                if isinstance(session.get("model"), str):
                    self.model = session["model"]
        elif kind == "response.created":
            response = event.get("response")
            if isinstance(response, dict) and isinstance(response.get("id"), str):
                self.response_id = response["id"]
        elif kind == "response.done":
            response = event.get("response")
            if isinstance(response, dict):
                self.last_response = response
            self.response_id = None


class RealtimeProtocol:
    """The state machine of one session: encode what is sent, decode what arrives, remember the end.

    The I/O wrappers call :meth:`receive_frame` with every frame, :meth:`connection_closed` when the
    library reports the connection closed, and :meth:`check_open` before sending.
    """

    def __init__(self) -> None:
        self.state = SessionState()
        self.closing = False  # the user asked to close
        self.close_exc: Optional[RealtimeError] = None

    @property
    def closed(self) -> bool:
        return self.close_exc is not None

    def check_open(self) -> None:
        """Raise the session's close error if it has ended (sending on a closed session)."""
        if self.close_exc is not None:
            raise _copy(self.close_exc)
        if self.closing:
            raise close_error(None, closed_by_client=True)

    def receive_frame(self, data: Union[str, bytes, bytearray, memoryview]) -> RealtimeMessage:
        """Decode one frame; raises ``RealtimeError`` for an ``error`` event or a malformed frame."""
        message = self.decode(data)
        self.raise_for_error(message)
        return message

    def decode(self, data: Union[str, bytes, bytearray, memoryview]) -> RealtimeMessage:
        """Decode one frame and update the state; raises only for a malformed frame."""
        message = decode_frame(data)
        self.state.feed(message)
        return message

    @staticmethod
    def raise_for_error(message: RealtimeMessage) -> None:
        """Raise the ``RealtimeError`` of an ``error`` event (what 0.1.x ``receive()`` does)."""
        if message.type == "error":
            raise error_from_event(message.event or {})

    error_of = staticmethod(error_from_event)

    def connection_closed(
        self,
        code: Optional[int],
        reason: str = "",
        *,
        sent_code: Optional[int] = None,
        sent_reason: str = "",
    ) -> RealtimeError:
        """Record the end of the connection (first report wins) and return the error to raise."""
        if self.close_exc is None:
            self.close_exc = close_error(
                code, reason, sent_code=sent_code, sent_reason=sent_reason, closed_by_client=self.closing
            )
        return _copy(self.close_exc)


def _copy(error: RealtimeError) -> RealtimeError:
    # a fresh exception object per raise: re-raising one instance would chain its tracebacks
    return RealtimeError(
        error.code,
        error.realtime_message,
        error.param,
        error.request_id,
        status=error.status,
        close_code=error.close_code,
        details=error.details,
    )
