"""The realtime WebSocket endpoint of the local gateway (``/v1/realtime``, API.md §7).

One connection is one session of a deterministic stand-in for the OpenAI GA realtime protocol:

* Handshake: the key is read from the ``Bearer.<key>`` subprotocol, else an ``Authorization: Bearer``
  header, else the ``api_key`` query parameter (the docs say the subprotocol wins). The ``model`` query
  parameter must name a realtime model of the catalog. Failures are refused before the upgrade with an
  HTTP error (401 ``unauthorized``, 404 ``model_not_found``, 400 ``invalid_request``) carrying the
  standard JSON envelope and ``X-Request-Id``; a server without the denial-response extension accepts,
  sends the ``error`` event and closes with 1008 instead. The subprotocol ``openai-realtime`` is
  selected when offered.
* ``session.created`` is always the first event. ``session.update`` must have the GA shape
  (``session.type == "realtime"``); anything else is answered with an ``error`` event (the session
  stays open), a good one with ``session.updated``.
* Input audio: base64 ``input_audio_buffer.append`` events and, for 0.1.4 clients, binary frames
  (treated as an append). ``input_audio_buffer.commit`` turns the buffer into a user item whose
  transcript says how many bytes arrived; ``input_audio_buffer.clear`` empties it.
* ``conversation.item.create`` adds an item; ``response.create`` answers the last user item with a
  text made by the gateway's deterministic engine: ``response.output_text.delta`` events when the
  output modalities are text, else ``response.output_audio_transcript.delta`` plus
  ``response.output_audio.delta`` (base64 PCM16 derived from the text), then ``response.done`` with usage.
* Bad input (not JSON, not an object, unknown type, bad fields) gets an ``error`` event with
  ``error.type == "invalid_request_error"`` and the session stays open.
* Fault plan: ``faults.take("GET", "/v1/realtime")`` once a connection is authorised; ``ws_close_code``
  closes the socket with that code once ``ws_close_after_events`` server events have been sent
  (0 = right after the upgrade); ``status`` refuses the upgrade with that status; ``delay_first_byte``
  delays the upgrade.

The connection's record in ``state.requests`` (written by the middleware) gets ``status`` 101 when
the upgrade is accepted, or the refusal status.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import logging
import random
import re
import struct
from contextvars import ContextVar
from typing import Any, Dict, List, Optional, Tuple

from starlette.websockets import WebSocket, WebSocketDisconnect

from . import engine
from .common import SCOPE_REQUEST_ID, pace
from .errors import code_for_status, dumps, envelope
from .faults import Fault
from .ids import hex_id
from .state import GatewayState

__all__ = [
    "SUBPROTOCOL",
    "CredentialFilter",
    "credential",
    "install_log_filter",
    "pcm_for",
    "realtime_endpoint",
    "redact_credentials",
]

SUBPROTOCOL = "openai-realtime"
PATH = "/v1/realtime"
_BEARER_PREFIX = "bearer."
_SAMPLES_PER_CHAR = 12
_CLIENT_EVENTS = (
    "session.update",
    "input_audio_buffer.append",
    "input_audio_buffer.commit",
    "input_audio_buffer.clear",
    "conversation.item.create",
    "response.create",
    "response.cancel",
)
_BETA_SESSION_KEYS = ("modalities", "voice", "input_audio_format", "output_audio_format", "turn_detection")


# --- logs ------------------------------------------------------------------------------------------

# uvicorn's websockets-sansio protocol logs this after a handshake refused with an HTTP response
# (``websocket.http.response``), although the refusal was sent; the flag is set in the connection's
# task by ``_refuse`` and read by the filter, which runs in the same task when uvicorn logs the line.
_SPURIOUS = "ASGI callable returned without completing handshake."
_DENIED: ContextVar[bool] = ContextVar("meshapi_realtime_denied", default=False)
_CREDENTIALS = re.compile(r"(?i)(bearer[ .]|api_key=)[^\s,&\"']+")


def redact_credentials(text: str) -> str:
    """``text`` with bearer keys (header or subprotocol form) and ``api_key=`` values replaced by ``***``."""
    return _CREDENTIALS.sub(r"\1***", text)


class CredentialFilter(logging.Filter):
    """Scrubs keys from log records, and drops uvicorn's false alarm after a refused upgrade.

    uvicorn hands its ``uvicorn.error`` logger to websockets, whose DEBUG lines echo every upgrade
    request header (``Authorization``, ``Sec-WebSocket-Protocol``) and the path (``?api_key=``); uvicorn's
    own INFO line for each WebSocket shows the path with its query. Installed on ``uvicorn.error`` when
    this module is imported.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg == _SPURIOUS and _DENIED.get():
            return False
        if isinstance(record.msg, str):
            record.msg = redact_credentials(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact_credentials(a) if isinstance(a, str) else a for a in record.args)
        return True


def install_log_filter(logger_name: str = "uvicorn.error") -> None:
    """Attach :class:`CredentialFilter` to ``logger_name`` once (idempotent)."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, CredentialFilter) for f in logger.filters):
        logger.addFilter(CredentialFilter())


install_log_filter()


class _Closed(Exception):
    """The session ended (fault close or client gone); unwinds the event loop."""


class _BadEvent(Exception):
    """A client event the gateway answers with an ``error`` event."""

    def __init__(self, code: str, message: str, param: Optional[str] = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.param = param


# --- handshake --------------------------------------------------------------------------------------


def _offered(websocket: WebSocket) -> List[str]:
    # some uvicorn versions pass the raw header value ("a, b") as one entry
    offered: List[str] = []
    for value in websocket.scope.get("subprotocols") or []:
        offered.extend(p.strip() for p in str(value).split(",") if p.strip())
    return offered


def _selected(websocket: WebSocket) -> Optional[str]:
    return SUBPROTOCOL if SUBPROTOCOL in _offered(websocket) else None


def credential(websocket: WebSocket) -> Tuple[Optional[str], str]:
    """The key the client sent and where: subprotocol, then Authorization header, then query."""
    for proto in _offered(websocket):
        if proto.lower().startswith(_BEARER_PREFIX) and len(proto) > len(_BEARER_PREFIX):
            return proto[len(_BEARER_PREFIX) :], "subprotocol"
    scheme, _, value = websocket.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip(), "header"
    key = websocket.query_params.get("api_key")
    if key:
        return key, "query"
    return None, "none"


def _refusal(state: GatewayState, websocket: WebSocket) -> Optional[Tuple[int, str, str]]:
    token, _ = credential(websocket)
    if token is None:
        return (
            401,
            "unauthorized",
            "Missing API key (Bearer.<key> subprotocol, Authorization header or api_key).",
        )
    if token not in state.tokens:
        return 401, "unauthorized", "Invalid API key."
    model = websocket.query_params.get("model")
    if not model:
        return 400, "invalid_request", "The 'model' query parameter is required."
    entry = state.catalog.resolve(model)
    if entry is None:
        return 404, "model_not_found", f"Model '{model}' not found."
    if not entry.supports_realtime:
        return 404, "model_not_found", f"Model '{model}' is not a realtime model."
    return None


def _request_id(state: GatewayState, websocket: WebSocket) -> str:
    rid = websocket.scope.get(SCOPE_REQUEST_ID)
    if not rid:
        rid = state.new_request_id()
        websocket.scope[SCOPE_REQUEST_ID] = rid
    return str(rid)


def _set_status(state: GatewayState, request_id: str, status: int, fault: Optional[Fault] = None) -> None:
    for record in reversed(list(state.requests)):
        if record.request_id == request_id:
            record.status = status
            if fault is not None:
                record.fault = fault
            return


async def _refuse(
    websocket: WebSocket, state: GatewayState, request_id: str, status: int, code: str, message: str
) -> None:
    _set_status(state, request_id, status)
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        # Raw ASGI messages rather than a Starlette Response: some uvicorn versions add their own
        # Content-Length to a denial, and a second one makes clients reject the response.
        body = dumps(envelope({"code": code, "message": message}, request_id))
        headers = [(b"content-type", b"application/json"), (b"x-request-id", request_id.encode("ascii"))]
        await websocket.send({"type": "websocket.http.response.start", "status": status, "headers": headers})
        await websocket.send({"type": "websocket.http.response.body", "body": body, "more_body": False})
        _DENIED.set(True)
        return
    # the server cannot refuse an upgrade with a response: report in-band instead
    await websocket.accept(subprotocol=_selected(websocket))
    error = {"type": "invalid_request_error", "code": code, "message": message}
    event = {"type": "error", "event_id": _event_id(), "error": error, "request_id": request_id}
    await websocket.send_text(dumps(event).decode("utf-8"))
    await websocket.close(code=1008, reason=code)


async def realtime_endpoint(websocket: WebSocket) -> None:
    """Serve one realtime connection (see the module docstring)."""
    state: GatewayState = websocket.app.state.gateway
    request_id = _request_id(state, websocket)
    refusal = _refusal(state, websocket)
    if refusal is not None:
        await _refuse(websocket, state, request_id, *refusal)
        return
    fault = state.faults.take("GET", PATH)
    if fault is not None and fault.delay_first_byte:
        await asyncio.sleep(fault.delay_first_byte)
    if fault is not None and fault.status is not None:
        status = fault.status
        await _refuse(
            websocket, state, request_id, status, code_for_status(status), f"Fault injected: HTTP {status}."
        )
        return
    entry = state.catalog.resolve(websocket.query_params["model"])
    assert entry is not None
    await websocket.accept(subprotocol=_selected(websocket))
    _set_status(state, request_id, 101, fault)
    session = _Session(websocket, state, entry.id, request_id, fault)
    try:
        await session.run()
    except (_Closed, WebSocketDisconnect):
        pass


# --- the session ------------------------------------------------------------------------------------


def _event_id() -> str:
    return hex_id("evt_", 20)


def pcm_for(text: str) -> bytes:
    """Deterministic PCM16 little-endian "speech" for ``text`` (12 samples per character)."""
    out = bytearray()
    for index, char in enumerate(text):
        level = ((ord(char) * 131 + index * 17) % 2048 - 1024) * 16
        for sample in range(_SAMPLES_PER_CHAR):
            out += struct.pack("<h", level if sample % 2 == 0 else -level)
    return bytes(out)


def _default_session(model: str) -> Dict[str, Any]:
    return {
        "id": hex_id("sess_", 24),
        "object": "realtime.session",
        "type": "realtime",
        "model": model,
        "output_modalities": ["audio"],
        "instructions": "",
        "tools": [],
        "tool_choice": "auto",
        "max_output_tokens": "inf",
        "audio": {
            "input": {
                "format": {"type": "audio/pcm", "rate": 24000},
                "transcription": None,
                "turn_detection": None,
            },
            "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "alloy", "speed": 1.0},
        },
    }


def _merge(target: Dict[str, Any], update: Dict[str, Any]) -> None:
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


def _item_text(item: Dict[str, Any]) -> str:
    parts = []
    for part in item.get("content") or []:
        if isinstance(part, dict):
            for key in ("text", "transcript"):
                if isinstance(part.get(key), str):
                    parts.append(part[key])
                    break
    return " ".join(parts)


class _Session:
    def __init__(
        self, websocket: WebSocket, state: GatewayState, model: str, request_id: str, fault: Optional[Fault]
    ) -> None:
        self.ws = websocket
        self.state = state
        self.model = model
        self.request_id = request_id
        self.session = _default_session(model)
        self.audio = bytearray()
        self.items: List[Dict[str, Any]] = []
        self.sent = 0
        self.close_code = fault.ws_close_code if fault is not None else None
        self.close_after = fault.ws_close_after_events if fault is not None else 0

    # --- output ---
    async def _maybe_close(self) -> None:
        if self.close_code is not None and self.sent >= self.close_after:
            await self.ws.close(code=self.close_code, reason="fault injected")
            raise _Closed()

    async def emit(self, event: Dict[str, Any]) -> None:
        payload = {"type": event.pop("type"), "event_id": _event_id(), **event}
        await self.ws.send_text(json.dumps(payload, separators=(",", ":"), ensure_ascii=False))
        self.sent += 1
        await self._maybe_close()

    async def error(
        self, code: str, message: str, param: Optional[str] = None, event_id: Optional[str] = None
    ) -> None:
        error: Dict[str, Any] = {
            "type": "invalid_request_error",
            "code": code,
            "message": message,
            "param": param,
        }
        if event_id is not None:
            error["event_id"] = event_id
        await self.emit({"type": "error", "error": error, "request_id": self.request_id})

    # --- input ---
    async def run(self) -> None:
        await self._maybe_close()
        await self.emit({"type": "session.created", "session": dict(self.session)})
        while True:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                raise _Closed()
            if message.get("bytes") is not None:
                self.audio += message["bytes"]  # 0.1.4 clients send raw audio frames
                continue
            await self.handle_text(message.get("text") or "")

    async def handle_text(self, text: str) -> None:
        try:
            event = json.loads(text)
        except ValueError:
            await self.error("invalid_json", "The event is not valid JSON.")
            return
        if not isinstance(event, dict):
            await self.error("invalid_event", f"An event must be a JSON object, got {type(event).__name__}.")
            return
        client_event_id = event.get("event_id") if isinstance(event.get("event_id"), str) else None
        kind = event.get("type")
        try:
            if not isinstance(kind, str) or not kind:
                raise _BadEvent("missing_type", "The event has no 'type'.", "type")
            if kind not in _CLIENT_EVENTS:
                raise _BadEvent("unknown_event_type", f"Unknown event type '{kind}'.", "type")
            handler = getattr(self, "on_" + kind.replace(".", "_"))
            await handler(event)
        except _BadEvent as bad:
            await self.error(bad.code, bad.message, bad.param, client_event_id)

    async def on_session_update(self, event: Dict[str, Any]) -> None:
        update = event.get("session")
        if not isinstance(update, dict):
            raise _BadEvent("invalid_value", "'session' must be an object.", "session")
        if update.get("type") != "realtime":
            beta = [k for k in _BETA_SESSION_KEYS if k in update]
            hint = f" (beta fields {', '.join(beta)} are not supported)" if beta else ""
            raise _BadEvent(
                "invalid_value",
                "session.type must be 'realtime' (GA session shape)" + hint + ".",
                "session.type",
            )
        modalities = update.get("output_modalities")
        if modalities is not None and (
            not isinstance(modalities, list) or not modalities or not set(modalities) <= {"text", "audio"}
        ):
            raise _BadEvent(
                "invalid_value",
                "output_modalities must be ['text'] or ['audio'].",
                "session.output_modalities",
            )
        update = {k: v for k, v in update.items() if k not in ("id", "object", "model")}
        _merge(self.session, update)
        await self.emit({"type": "session.updated", "session": dict(self.session)})

    async def on_input_audio_buffer_append(self, event: Dict[str, Any]) -> None:
        data = event.get("audio")
        if not isinstance(data, str):
            raise _BadEvent("invalid_value", "'audio' must be a base64 string.", "audio")
        try:
            self.audio += base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise _BadEvent("invalid_value", "'audio' is not valid base64.", "audio") from None

    async def on_input_audio_buffer_commit(self, event: Dict[str, Any]) -> None:
        if not self.audio:
            raise _BadEvent("input_audio_buffer_commit_empty", "The input audio buffer is empty.")
        size = len(self.audio)
        self.audio.clear()
        item = {
            "id": hex_id("item_", 20),
            "type": "message",
            "role": "user",
            "status": "completed",
            "content": [{"type": "input_audio", "transcript": f"({size} bytes of audio)"}],
        }
        previous = self.items[-1]["id"] if self.items else None
        self.items.append(item)
        await self.emit(
            {"type": "input_audio_buffer.committed", "previous_item_id": previous, "item_id": item["id"]}
        )
        await self.emit({"type": "conversation.item.added", "previous_item_id": previous, "item": item})
        await self.emit({"type": "conversation.item.done", "previous_item_id": previous, "item": item})

    async def on_input_audio_buffer_clear(self, event: Dict[str, Any]) -> None:
        self.audio.clear()
        await self.emit({"type": "input_audio_buffer.cleared"})

    async def on_conversation_item_create(self, event: Dict[str, Any]) -> None:
        item = event.get("item")
        if not isinstance(item, dict):
            raise _BadEvent("invalid_value", "'item' must be an object.", "item")
        kind = item.get("type", "message")
        if kind == "message":
            if item.get("role") not in ("user", "assistant", "system"):
                raise _BadEvent(
                    "invalid_value", "item.role must be 'user', 'assistant' or 'system'.", "item.role"
                )
            if not isinstance(item.get("content"), list):
                raise _BadEvent(
                    "invalid_value", "item.content must be a list of content parts.", "item.content"
                )
        stored = dict(item, id=item.get("id") or hex_id("item_", 20), type=kind, status="completed")
        previous = self.items[-1]["id"] if self.items else None
        self.items.append(stored)
        await self.emit({"type": "conversation.item.added", "previous_item_id": previous, "item": stored})
        await self.emit({"type": "conversation.item.done", "previous_item_id": previous, "item": stored})

    async def on_response_cancel(self, event: Dict[str, Any]) -> None:
        raise _BadEvent("response_cancel_not_active", "There is no response in progress to cancel.")

    async def on_response_create(self, event: Dict[str, Any]) -> None:
        overrides = event.get("response")
        if overrides is not None and not isinstance(overrides, dict):
            raise _BadEvent("invalid_value", "'response' must be an object.", "response")
        overrides = overrides or {}
        modalities = overrides.get("output_modalities") or self.session.get("output_modalities") or ["audio"]
        spoken = "audio" in modalities
        prompt = next((_item_text(i) for i in reversed(self.items) if i.get("role") == "user"), "")
        seed = hashlib.sha256(f"{self.model}\x00{prompt}".encode()).hexdigest()
        text = engine.compose(prompt or "hello", random.Random(seed), sentences=1)
        response_id = hex_id("resp_", 20)
        item_id = hex_id("item_", 20)
        base = {"response_id": response_id, "item_id": item_id, "output_index": 0, "content_index": 0}
        created = {"id": response_id, "object": "realtime.response", "status": "in_progress", "output": []}
        await self.emit({"type": "response.created", "response": created})
        added = {
            "id": item_id,
            "type": "message",
            "role": "assistant",
            "status": "in_progress",
            "content": [],
        }
        await self.emit(
            {
                "type": "response.output_item.added",
                "response_id": response_id,
                "output_index": 0,
                "item": added,
            }
        )
        for chunk in engine.stream_chunks(text):
            await pace(self.state)
            if spoken:
                await self.emit({"type": "response.output_audio_transcript.delta", **base, "delta": chunk})
                audio = base64.b64encode(pcm_for(chunk)).decode("ascii")
                await self.emit({"type": "response.output_audio.delta", **base, "delta": audio})
            else:
                await self.emit({"type": "response.output_text.delta", **base, "delta": chunk})
        if spoken:
            await self.emit({"type": "response.output_audio.done", **base})
            await self.emit({"type": "response.output_audio_transcript.done", **base, "transcript": text})
            part = {"type": "output_audio", "transcript": text}
        else:
            await self.emit({"type": "response.output_text.done", **base, "text": text})
            part = {"type": "output_text", "text": text}
        item = {
            "id": item_id,
            "type": "message",
            "role": "assistant",
            "status": "completed",
            "content": [part],
        }
        self.items.append(item)
        await self.emit(
            {"type": "response.output_item.done", "response_id": response_id, "output_index": 0, "item": item}
        )
        input_tokens = sum(engine.count_tokens(_item_text(i)) for i in self.items[:-1]) or 1
        output_tokens = engine.count_tokens(text)
        usage = {
            "total_tokens": input_tokens + output_tokens,
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "input_token_details": {"text_tokens": input_tokens, "audio_tokens": 0, "cached_tokens": 0},
            "output_token_details": {
                "text_tokens": 0 if spoken else output_tokens,
                "audio_tokens": output_tokens if spoken else 0,
            },
        }
        response = {
            "id": response_id,
            "object": "realtime.response",
            "status": "completed",
            "output_modalities": list(modalities),
            "output": [item],
            "usage": usage,
        }
        await self.emit({"type": "response.done", "response": response})
