"""The realtime WebSocket endpoint of the local gateway (``/v1/realtime``, docs/protocol.md §7).

One connection is one session of a deterministic stand-in for the OpenAI GA realtime protocol:

* Handshake: the key is read from the ``Bearer.<key>`` subprotocol, else an ``Authorization: Bearer``
  header, else the ``api_key`` query parameter (the docs say the subprotocol wins). The ``model`` query
  parameter must name a realtime model of the catalog. Failures are refused before the upgrade with an
  HTTP error (401 ``unauthorized``, 404 ``model_not_found``, 400 ``invalid_request``) carrying the
  standard JSON envelope and ``X-Request-Id``; a server without the denial-response extension accepts,
  sends the ``error`` event and closes with 1008 instead. The subprotocol ``openai-realtime`` is
  selected when offered.
* The session itself (events, audio, voice activity detection, responses, cancel, rate limits, the
  realtime fault plan) is :mod:`meshapi_gateway.realtime.session`.

The connection's record in ``state.requests`` (written by ``RequestLogMiddleware``) gets ``status`` 101 when
the upgrade is accepted, or the refusal status.
"""

from __future__ import annotations

import asyncio
import logging
import re
from contextvars import ContextVar
from typing import List, Optional, Tuple

from starlette.websockets import WebSocket, WebSocketDisconnect

from ..errors import ApiError, code_for_status, dumps, envelope
from ..faults.plan import Fault
from ..http.asgi import SCOPE_RECORD, SCOPE_REQUEST_ID
from ..store.balance import REALTIME_HOLD
from ..store.state import GatewayState
from .session import RealtimeSession, SessionClosed, event_id, pcm_for

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
    try:
        entry = state.catalog.find(model)
    except ApiError as exc:
        return exc.status, exc.code, exc.message
    if not entry.supports_realtime:
        return 404, "model_not_found", f"Model '{model}' is not a realtime model."
    who = state.owner_for(token)
    if who is not None and state.balance.available(who) < REALTIME_HOLD:
        return 402, "insufficient_quota", f"A realtime session needs {REALTIME_HOLD} USD available."
    return None


def _request_id(state: GatewayState, websocket: WebSocket) -> str:
    rid = websocket.scope.get(SCOPE_REQUEST_ID)
    if not rid:
        rid = state.new_request_id()
        websocket.scope[SCOPE_REQUEST_ID] = rid
    return str(rid)


def _set_status(websocket: WebSocket, status: int, fault: Optional[Fault] = None) -> None:
    """The connection's log entry (``RequestLogMiddleware`` wrote it) gets the upgrade's outcome."""
    record = websocket.scope.get(SCOPE_RECORD)
    if record is not None:
        record.status = status
        if fault is not None:
            record.fault = fault


async def _refuse(websocket: WebSocket, request_id: str, status: int, code: str, message: str) -> None:
    _set_status(websocket, status)
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
    event = {"type": "error", "event_id": event_id(), "error": error, "request_id": request_id}
    await websocket.send_text(dumps(event).decode("utf-8"))
    await websocket.close(code=1008, reason=code)


async def realtime_endpoint(websocket: WebSocket) -> None:
    """Serve one realtime connection (see the module docstring)."""
    state: GatewayState = websocket.app.state.gateway
    request_id = _request_id(state, websocket)
    refusal = _refusal(state, websocket)
    if refusal is not None:
        await _refuse(websocket, request_id, *refusal)
        return
    fault = state.faults.take("GET", PATH)
    if fault is not None and fault.delay_first_byte:
        await asyncio.sleep(fault.delay_first_byte)
    if fault is not None and fault.status is not None:
        status = fault.status
        await _refuse(
            websocket, request_id, status, code_for_status(status), f"Fault injected: HTTP {status}."
        )
        return
    entry = state.catalog.resolve(websocket.query_params["model"])
    assert entry is not None
    await websocket.accept(subprotocol=_selected(websocket))
    _set_status(websocket, 101, fault)
    who = state.owner_for(credential(websocket)[0]) or ""
    session = RealtimeSession(websocket, state, entry.id, request_id, fault, owner=who)
    held = state.balance.hold(who, "realtime", REALTIME_HOLD)  # while the session runs
    try:
        await session.run()
    except (SessionClosed, WebSocketDisconnect):
        pass
    finally:
        state.balance.release(who, held)
        await session.stop()
