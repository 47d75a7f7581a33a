"""The realtime protocol without the socket: handshake, frames in and out, closes, session state.

Everything here is pure (no socket, no event loop, no clock), so the sync and asyncio sessions in
:mod:`meshapi.resources.realtime` are thin loops around it and this module is unit-tested frame by frame.

* :func:`build_handshake` turns (base URL, model, token, auth mode) into the URL, subprotocols and
  headers of the upgrade request. The token goes in the URL only in ``auth="query"`` mode.
* :func:`encode_event` / :func:`encode_audio_append` give the text frames a client sends.
* :class:`RealtimeProtocol` decodes what the gateway sends (:meth:`RealtimeProtocol.receive_frame`),
  tracks the session (id, model, current response) and turns the end of the connection into the error
  to raise (:meth:`RealtimeProtocol.connection_closed`).
* :class:`ResponseCollector` gathers one response (text, transcript, audio) until ``response.done``.
* :func:`handshake_error` maps a refused upgrade (HTTP status, headers, body) to the SDK's status errors.

Errors: a session reports :class:`~meshapi._errors.RealtimeError` with a code from this table

============== ============================================================== ==================
code           when                                                           ``close_code``
============== ============================================================== ==================
(server code)  an ``error`` event (0.1.4 defaults: ``unknown`` / ``realtime   ``None``
               error``); the session stays open unless the gateway closes it
malformed_event a text frame that is not JSON, JSON that is not an object,     ``None``
               or an audio delta that is not base64; the session stays open
session_closed the session ended normally (1000/1001, or :meth:`close` was     1000 / 1001
               called); iteration ends quietly on it
abnormal_close the gateway closed the socket with any other code               that code
connection_lost the connection dropped without a close frame                  1006
============== ============================================================== ==================
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple, Union
from urllib.parse import quote

import httpx

from .._errors import InvalidParamsError, MeshAPIError, RealtimeError, error_from_response

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
    "realtime_url",
    "scrub",
    "session_update_event",
    "text_turn_events",
]

REALTIME_PATH = "/v1/realtime"
SUBPROTOCOL = "openai-realtime"
#: ``auto``: key in a ``Bearer.<key>`` subprotocol and an ``Authorization`` header, falling back to the
#: query form once when the upgrade is refused with one of :data:`FALLBACK_STATUSES`.
AUTH_MODES = ("auto", "subprotocol", "header", "query")
#: Statuses after which ``auto`` retries the handshake with ``?api_key=`` (a gateway that rejects the
#: subprotocol form answers 400, as the node SDK recorded in production; API.md §7.2).
FALLBACK_STATUSES = frozenset({400})
NORMAL_CLOSE_CODES = frozenset({1000, 1001})
AUDIO_DELTA_TYPES = frozenset({"response.output_audio.delta", "response.audio.delta"})
TEXT_DELTA_TYPES = frozenset({"response.output_text.delta", "response.text.delta"})
TRANSCRIPT_DELTA_TYPES = frozenset(
    {"response.output_audio_transcript.delta", "response.audio_transcript.delta"}
)

# RFC 9110 token characters: what one Sec-WebSocket-Protocol value may contain.
_TOKEN_CHARS = frozenset("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_SNIPPET = 80


def scrub(text: str, secret: str) -> str:
    """``text`` with every occurrence of ``secret`` (raw or URL-encoded) replaced by ``***``."""
    if not secret:
        return text
    for form in {secret, quote(secret, safe="")}:
        text = text.replace(form, "***")
    return text


# --- messages ---------------------------------------------------------------------------------------


class RealtimeMessage:
    """One message received on a realtime session.

    ``event`` is the parsed JSON event of a text frame (``text`` keeps the raw frame); ``audio`` holds
    the bytes of a binary frame, or the decoded base64 ``delta`` of a ``response.output_audio.delta`` /
    ``response.audio.delta`` event (then ``event`` and ``text`` are set too).
    """

    __slots__ = ("audio", "event", "text")

    def __init__(
        self,
        *,
        text: Optional[str] = None,
        audio: Optional[bytes] = None,
        event: Optional[Dict[str, Any]] = None,
    ) -> None:
        self.text = text
        self.audio = audio
        self.event = event

    @property
    def type(self) -> Optional[str]:
        """The event's ``type`` (``None`` for a binary frame)."""
        if self.event is None:
            return None
        kind = self.event.get("type")
        return kind if isinstance(kind, str) else None

    def __repr__(self) -> str:
        parts = []
        if self.event is not None:
            parts.append(f"type={self.type!r}")
        if self.audio is not None:
            parts.append(f"audio=<{len(self.audio)}B>")
        if not parts:
            text = self.text or ""
            shown = text if len(text) <= _SNIPPET else text[:_SNIPPET] + "…"
            parts.append(f"text={shown!r}")
        return f"RealtimeMessage({', '.join(parts)})"


# --- handshake --------------------------------------------------------------------------------------


def realtime_url(base_url: str, model: str, *, api_key: Optional[str] = None) -> str:
    """The WebSocket URL of the realtime endpoint: ``http`` becomes ``ws``, ``https`` becomes ``wss``.

    ``model`` is percent-encoded as one query value; ``api_key`` is added only when given (query auth).
    """
    if not isinstance(model, str) or not model.strip():
        raise InvalidParamsError("model must be a non-empty string, e.g. 'openai/gpt-realtime'")
    base = base_url.rstrip("/")
    scheme, sep, rest = base.partition("://")
    schemes = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}
    if not sep or scheme.lower() not in schemes:
        raise InvalidParamsError(f"base_url must start with http:// or https://, got {base_url!r}")
    url = f"{schemes[scheme.lower()]}://{rest}{REALTIME_PATH}?model={quote(model, safe='')}"
    if api_key is not None:
        url += f"&api_key={quote(api_key, safe='')}"
    return url


@dataclass(frozen=True, repr=False)
class Handshake:
    """What one upgrade attempt sends. ``safe_url`` is ``url`` without the key (for errors and logs)."""

    url: str
    safe_url: str
    subprotocols: Tuple[str, ...]
    headers: Tuple[Tuple[str, str], ...]
    auth: str

    def __repr__(self) -> str:
        return f"Handshake(url={self.safe_url!r}, auth={self.auth!r})"

    @property
    def can_fall_back(self) -> bool:
        """True when a refusal with one of :data:`FALLBACK_STATUSES` should be retried as ``query``."""
        return self.auth == "auto"


def _is_token(value: str) -> bool:
    return bool(value) and set(value) <= _TOKEN_CHARS


def build_handshake(
    base_url: str,
    model: str,
    token: str,
    *,
    auth: str = "auto",
    headers: Optional[Mapping[str, str]] = None,
) -> Handshake:
    """The upgrade request for ``auth`` (one of :data:`AUTH_MODES`).

    * ``auto`` (default): subprotocols ``openai-realtime`` and ``Bearer.<key>`` plus an
      ``Authorization: Bearer`` header; the URL carries only the model.
    * ``subprotocol``: only the ``Bearer.<key>`` subprotocol (API.md §7.2, the documented preferred form).
    * ``header``: only the ``Authorization`` header.
    * ``query``: ``?api_key=`` in the URL, as every SDK up to 0.1.12 sends it (production-proven, but
      the key ends up in proxy and access logs).

    ``openai-realtime`` is always offered first. ``headers`` are extra headers for the upgrade.
    """
    if auth not in AUTH_MODES:
        raise InvalidParamsError(f"auth must be one of {', '.join(AUTH_MODES)}; got {auth!r}")
    safe_url = realtime_url(base_url, model)
    pairs: List[Tuple[str, str]] = [(k, v) for k, v in (headers or {}).items()]
    subprotocols = [SUBPROTOCOL]
    url = safe_url
    if auth in ("auto", "subprotocol"):
        if _is_token(token):
            subprotocols.append(f"Bearer.{token}")
        elif auth == "subprotocol":
            raise InvalidParamsError(
                "auth='subprotocol' needs a token made of letters, digits and -._~ (use auth='header')"
            )
    if auth in ("auto", "header"):
        pairs = [(k, v) for k, v in pairs if k.lower() != "authorization"]
        pairs.append(("Authorization", f"Bearer {token}"))
    if auth == "query":
        url = realtime_url(base_url, model, api_key=token)
    return Handshake(url, safe_url, tuple(subprotocols), tuple(pairs), auth)


def query_fallback(handshake: Handshake, base_url: str, model: str, token: str) -> Handshake:
    """The ``query`` form of an ``auto`` handshake (same extra headers, no credential headers)."""
    headers = {k: v for k, v in handshake.headers if k.lower() != "authorization"}
    return build_handshake(base_url, model, token, auth="query", headers=headers)


def handshake_error(
    status: int,
    headers: Iterable[Tuple[str, str]],
    body: bytes,
    handshake: Handshake,
) -> MeshAPIError:
    """The typed error for an upgrade refused with HTTP ``status`` (same classes as any API call).

    401 → ``AuthenticationError``, 403 → ``PermissionDeniedError``, 404 → ``NotFoundError`` (unknown or
    non-realtime model), 429 → ``RateLimitError``, 5xx → ``InternalServerError``...; ``request_id``
    comes from the JSON envelope or the ``X-Request-Id`` header. The request on ``error.response`` has
    the key-free URL.
    """
    # a repeated header (e.g. the server's default Content-Type next to the application's) keeps its
    # last value, which is the application's
    unique: Dict[str, Tuple[str, str]] = {}
    for name, value in headers:
        unique[name.lower()] = (name, value)
    response = httpx.Response(
        status,
        headers=list(unique.values()),
        content=bytes(body or b""),
        request=httpx.Request("GET", handshake.safe_url),
    )
    error = error_from_response(response)
    if status == 426 or (200 <= status < 300):
        error.message = f"The gateway did not upgrade the realtime connection (HTTP {status})."
        error.args = (error.message,)
    return error


# --- client events ----------------------------------------------------------------------------------


def encode_event(event: Mapping[str, Any]) -> str:
    """``event`` as the JSON text of one frame; ``InvalidParamsError`` if it is not a JSON object."""
    if not isinstance(event, Mapping):
        raise InvalidParamsError(f"a realtime event must be a dict, got {type(event).__name__}")
    try:
        return json.dumps(dict(event), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidParamsError(f"the realtime event is not JSON-serialisable: {exc}") from None


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


def _response_id_of(event: Mapping[str, Any]) -> Optional[str]:
    rid = event.get("response_id")
    if isinstance(rid, str):
        return rid
    response = event.get("response")
    if isinstance(response, Mapping) and isinstance(response.get("id"), str):
        return str(response["id"])
    return None


class ResponseCollector:
    """Gathers one response: text deltas, audio-transcript deltas and audio, until ``response.done``.

    It latches onto the first response it sees (``response.created`` or a delta) and ignores events of
    other responses. :attr:`text` prefers ``output_text`` deltas, then transcript deltas, then the text
    found in the final response's output items.
    """

    def __init__(self) -> None:
        self.response_id: Optional[str] = None
        self.done = False
        self.response: Optional[Dict[str, Any]] = None
        self._text: List[str] = []
        self._transcript: List[str] = []
        self._audio: List[bytes] = []

    def feed(self, message: RealtimeMessage) -> Optional[bytes]:
        """Take one message; returns the audio chunk it carried for this response, if any."""
        event = message.event
        if self.done or event is None:
            return None
        rid = _response_id_of(event)
        kind = event.get("type")
        if rid is not None:
            if self.response_id is None and isinstance(kind, str) and kind.startswith("response."):
                self.response_id = rid
            elif rid != self.response_id:
                return None
        delta = event.get("delta")
        if kind in TEXT_DELTA_TYPES and isinstance(delta, str):
            self._text.append(delta)
        elif kind in TRANSCRIPT_DELTA_TYPES and isinstance(delta, str):
            self._transcript.append(delta)
        elif kind in AUDIO_DELTA_TYPES and message.audio is not None:
            self._audio.append(message.audio)
            return message.audio
        elif kind == "response.done":
            self.done = True
            response = event.get("response")
            self.response = response if isinstance(response, dict) else None
        return None

    @property
    def text(self) -> str:
        if self._text:
            return "".join(self._text)
        if self._transcript:
            return "".join(self._transcript)
        return _output_text(self.response)

    @property
    def audio(self) -> bytes:
        return b"".join(self._audio)

    @property
    def usage(self) -> Optional[Dict[str, Any]]:
        usage = (self.response or {}).get("usage")
        return usage if isinstance(usage, dict) else None


def _output_text(response: Optional[Mapping[str, Any]]) -> str:
    parts: List[str] = []
    output = (response or {}).get("output")
    for item in output if isinstance(output, list) else []:
        content = item.get("content") if isinstance(item, Mapping) else None
        for part in content if isinstance(content, list) else []:
            if not isinstance(part, Mapping):
                continue
            for key in ("text", "transcript"):
                if isinstance(part.get(key), str):
                    parts.append(part[key])
                    break
    return "".join(parts)


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
        message = decode_frame(data)
        self.state.feed(message)
        if message.type == "error":
            raise error_from_event(message.event or {})
        return message

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
