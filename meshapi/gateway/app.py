"""The Starlette application of the local gateway.

``create_app()`` builds the app; its shared state is ``app.state.gateway``, a
:class:`~meshapi.gateway.state.GatewayState` with these attributes (relied on by ``realtime.py``):

* ``tokens`` (set of valid bearer tokens) and ``owner_for(token)``;
* ``catalog`` (``catalog.get(model_id)`` -> entry with ``supports_realtime`` etc., or ``None``);
* ``faults`` (:class:`~meshapi.gateway.faults.FaultPlan`) and ``requests``
  (:class:`~meshapi.gateway.faults.RequestLog`);
* ``latency`` (seconds between streamed events) and ``new_request_id()``.

:class:`GatewayMiddleware` does what every route needs, in this order: pick the request id (the
inbound ``X-Request-Id`` or a fresh ``req_<ULID>``) and add it to every response; reject bodies over
32 MiB with an HTML 413 (no request id, like the production edge); read and log the request; check
the bearer token on ``/v1`` routes (401) and the optional RPM/RPD limits (429); then apply a planned
fault, if one matches, around the real handler.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Dict, List, MutableMapping, Optional, Tuple
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute

from . import admin, routes_batches, routes_chat, routes_files, routes_media, routes_models, routes_templates
from .common import SCOPE_BODY, SCOPE_JSON, SCOPE_OWNER, SCOPE_REQUEST_ID, BadJson, parse_json_bytes
from .errors import ApiError, DetailError, code_for_status, dumps, envelope
from .faults import Fault, FaultPlan, RequestLog, RequestRecord
from .inspector import ROUTES as _INSPECTOR_ROUTES
from .proxy import ProxyLayer, ProxySettings
from .realtime import realtime_endpoint
from .sse import DONE, error_event
from .state import GatewayState

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_BODY_BYTES = 32 * 1024 * 1024
_DRAIN_LIMIT = 8 * MAX_BODY_BYTES

_HTML_413 = (
    b"<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n"
    b"<center><h1>413 Request Entity Too Large</h1></center>\r\n</body>\r\n</html>\r\n"
)


class FaultAbort(Exception):
    """Raised to make the server drop the connection on purpose (a planned fault)."""


class _StreamEnded(Exception):
    """Raised into the handler once a fault has already finished the response."""


class _QuietFaultAborts(logging.Filter):
    """Keeps uvicorn from logging a traceback for connections we drop on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, FaultAbort)


_quiet_filter = _QuietFaultAborts()
logging.getLogger("uvicorn.error").addFilter(_quiet_filter)


def _contains(exc: BaseException, kind: type) -> bool:
    if isinstance(exc, kind):
        return True
    inner = getattr(exc, "exceptions", None)
    if isinstance(inner, (list, tuple)):
        return any(_contains(e, kind) for e in inner if isinstance(e, BaseException))
    return False


def _bearer(headers: Dict[str, str]) -> Optional[str]:
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _unlogged(method: str, path: str) -> bool:
    """The inspector's own files and reads of the log itself are not logged (they would flood it)."""
    return path.startswith("/_inspector") or (method == "GET" and path.startswith("/_admin/requests"))


def _header_dict(raw: List[Tuple[bytes, bytes]]) -> Dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in raw}


def _header_list(headers: Dict[str, str]) -> List[Tuple[bytes, bytes]]:
    return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]


def _error_message(status: int, code: str, message: str, request_id: str, **extra: Any) -> bytes:
    error: Dict[str, Any] = {"code": code, "message": message}
    error.update(extra)
    return dumps(envelope(error, request_id))


async def _send_simple(
    send: Send, status: int, body: bytes, content_type: str, extra: Optional[Dict[str, str]] = None
) -> None:
    headers = {"content-type": content_type, "content-length": str(len(body))}
    headers.update(extra or {})
    await send({"type": "http.response.start", "status": status, "headers": _header_list(headers)})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _is_event(block: bytes) -> bool:
    return any(line and not line.startswith(b":") for line in block.split(b"\n"))


def _pad_json(body: bytes, size: int) -> bytes:
    missing = size - len(body)
    if missing <= 0:
        return body
    stripped = body.rstrip()
    if stripped.endswith(b"}") and stripped.lstrip().startswith(b"{"):
        inner = stripped[:-1].rstrip()
        head = inner + (b"" if inner.endswith(b"{") else b",") + b'"_padding":"'
        filler = max(0, size - len(head) - 2)
        return head + b"x" * filler + b'"}'
    return body + b" " * missing


async def _drop_connection(raw_send: Send) -> bool:
    """Close the client connection under the server's feet (no response, or a cut-off one).

    uvicorn's ``send`` is a bound method of its request cycle, which holds the transport; closing it
    and waiting for the server to notice makes uvicorn drop the request without logging an error.
    Returns False when the transport cannot be reached (another server), so callers fall back to
    raising :class:`FaultAbort`.
    """
    cycle = getattr(raw_send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None or not callable(getattr(transport, "close", None)):
        return False
    transport.close()
    for _ in range(500):
        if getattr(cycle, "disconnected", False):
            break
        await asyncio.sleep(0.001)
    return True


async def _abort(raw_send: Send, send: Send, pending_start: Optional[Message]) -> None:
    """Drop the connection; always raises (``_StreamEnded`` when done quietly, else ``FaultAbort``)."""
    if await _drop_connection(raw_send):
        raise _StreamEnded()
    if pending_start is not None:
        await send(pending_start)
    raise FaultAbort()


class _FaultedSend:
    """Wraps ``send`` to apply the streaming/body parts of a fault to the real response."""

    def __init__(self, fault: Fault, send: Send, raw_send: Send, request_id: str) -> None:
        self.fault = fault
        self.send = send
        self.raw_send = raw_send
        self.request_id = request_id
        self.sse = False
        self.buffering = False
        self.start: Optional[Message] = None
        self.parts: List[bytes] = []
        self.buffer = b""
        self.events = 0
        self.finished = False
        self.stalled = False

    def _adjust_start(self, message: Message) -> Message:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in message.get("headers", [])}
        self.sse = headers.get("content-type", "").startswith("text/event-stream")
        headers.update(self.fault.extra_headers())
        if self.fault.content_type is not None:
            headers["content-type"] = self.fault.content_type
        return {**message, "headers": _header_list(headers)}

    async def __call__(self, message: Message) -> None:
        if self.finished:
            raise _StreamEnded()
        kind = message["type"]
        fault = self.fault
        if kind == "http.response.start":
            message = self._adjust_start(message)
            if self.sse:
                await self.send(message)
                await self._after_events(0)
                return
            if fault.drop_after_events is not None:
                await _abort(self.raw_send, self.send, message)
            if fault.truncate_body or fault.huge_body_bytes is not None:
                self.buffering = True
                self.start = message
                return
            await self.send(message)
            return
        if kind != "http.response.body":
            await self.send(message)
            return
        if self.sse:
            await self._sse_body(message)
        elif self.buffering:
            self.parts.append(message.get("body", b""))
            if not message.get("more_body", False):
                await self._send_buffered()
        else:
            if fault.stall_after_events is not None and not self.stalled:
                self.stalled = True
                await asyncio.sleep(fault.stall_seconds)
            await self.send(message)

    async def _send_buffered(self) -> None:
        assert self.start is not None
        body = b"".join(self.parts)
        if self.fault.huge_body_bytes is not None:
            body = _pad_json(body, self.fault.huge_body_bytes)
        headers = [(k, v) for k, v in self.start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode("ascii")))
        await self.send({**self.start, "headers": headers})
        if self.fault.truncate_body:
            await self.send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
            await _abort(self.raw_send, self.send, None)
        await self.send({"type": "http.response.body", "body": body, "more_body": False})
        self.finished = True

    async def _sse_body(self, message: Message) -> None:
        self.buffer += message.get("body", b"")
        while b"\n\n" in self.buffer:
            block, self.buffer = self.buffer.split(b"\n\n", 1)
            await self.send({"type": "http.response.body", "body": block + b"\n\n", "more_body": True})
            if _is_event(block):
                self.events += 1
                await self._after_events(self.events)
        if not message.get("more_body", False):
            fault = self.fault
            if fault.drop_after_events is not None:
                await _abort(self.raw_send, self.send, None)
            if fault.error_event_after is not None:
                await self._error_and_done()
                return
            if fault.malformed_after_events is not None and self.events < fault.malformed_after_events:
                await self.send({"type": "http.response.body", "body": _MALFORMED, "more_body": True})
            await self.send({"type": "http.response.body", "body": self.buffer, "more_body": False})
            self.finished = True

    async def _after_events(self, count: int) -> None:
        fault = self.fault
        if fault.drop_after_events is not None and count >= fault.drop_after_events:
            await _abort(self.raw_send, self.send, None)
        if fault.error_event_after is not None and count >= fault.error_event_after:
            await self._error_and_done()
            raise _StreamEnded()
        if fault.stall_after_events is not None and count == fault.stall_after_events:
            await asyncio.sleep(fault.stall_seconds)
        if fault.malformed_after_events is not None and count == fault.malformed_after_events:
            await self.send({"type": "http.response.body", "body": _MALFORMED, "more_body": True})

    async def _error_and_done(self) -> None:
        frame = error_event(
            self.fault.error_code, "Injected fault: the upstream stream failed.", self.request_id
        )
        await self.send({"type": "http.response.body", "body": frame + DONE, "more_body": False})
        self.finished = True


_MALFORMED = b"data: {not json\n\n"


async def _fault_response(fault: Fault, send: Send, raw_send: Send, request_id: str) -> None:
    status = fault.status if fault.status is not None else 200
    extra = fault.extra_headers()
    body: bytes
    if fault.body is None:
        code = code_for_status(status)
        more: Dict[str, Any] = {}
        if status == 429 and fault.retry_after is not None and fault.retry_after.strip().isdigit():
            more["retry_after_seconds"] = int(fault.retry_after)
        body = _error_message(status, code, f"Injected fault: HTTP {status}.", request_id, **more)
        content_type = "application/json"
    elif isinstance(fault.body, dict):
        body = dumps(fault.body)
        content_type = "application/json"
    else:
        body = fault.body.encode("utf-8") if isinstance(fault.body, str) else bytes(fault.body)
        content_type = "text/plain; charset=utf-8"
    if fault.content_type is not None:
        content_type = fault.content_type
    if fault.huge_body_bytes is not None:
        body = _pad_json(body, fault.huge_body_bytes)
    headers = {"content-type": content_type, "content-length": str(len(body))}
    headers.update(extra)
    start = {"type": "http.response.start", "status": status, "headers": _header_list(headers)}
    if fault.drop_after_events is not None:
        await _abort(raw_send, send, start)
    await send(start)
    if fault.truncate_body:
        await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
        await _abort(raw_send, send, None)
    if fault.stall_after_events is not None:
        await asyncio.sleep(fault.stall_seconds)
    await send({"type": "http.response.body", "body": body, "more_body": False})


class GatewayMiddleware:
    """Request ids, size guard, request log, auth, rate limits and faults (see the module docstring)."""

    def __init__(self, app: ASGIApp, state: GatewayState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            self._record(scope, {}, None, 0, self._request_id(scope, self._headers(scope)))
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self._http(scope, receive, send)

    @staticmethod
    def _headers(scope: Scope) -> Dict[str, str]:
        return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}

    def _request_id(self, scope: Scope, headers: Dict[str, str]) -> str:
        rid = headers.get("x-request-id") or self.state.new_request_id()
        scope[SCOPE_REQUEST_ID] = rid
        return rid

    def _record(
        self, scope: Scope, headers: Dict[str, str], parsed: Any, size: int, rid: str
    ) -> RequestRecord:
        query_string = scope.get("query_string", b"").decode("latin-1")
        record = RequestRecord.received(
            method="GET" if scope["type"] == "websocket" else scope["method"],
            path=scope["path"],
            query=dict(parse_qsl(query_string, keep_blank_values=True)),
            headers=headers or self._headers(scope),
            json=None if isinstance(parsed, BadJson) else parsed,
            request_id=rid,
            body_size=size,
        )
        if not _unlogged(record.method, record.path):
            self.state.requests.append(record)
        return record

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = self.state
        headers = self._headers(scope)
        rid = self._request_id(scope, headers)
        method, path = scope["method"], scope["path"]

        declared = headers.get("content-length", "")
        too_big = declared.isdigit() and int(declared) > MAX_BODY_BYTES
        chunks: List[bytes] = []
        size = 0
        while not too_big:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                too_big = True
                break
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        if too_big:
            # Drain what the client is still sending (bounded) so it reads the 413 instead of
            # failing on a write to a closed connection.
            while size <= _DRAIN_LIMIT:
                message = await receive()
                if message["type"] == "http.disconnect":
                    break
                size += len(message.get("body", b""))
                if not message.get("more_body", False):
                    break
            record = self._record(scope, headers, None, size, rid)
            record.status = 413
            record.finish()
            await _send_simple(send, 413, _HTML_413, "text/html", {"connection": "close"})
            return
        body = b"".join(chunks)
        content_type = headers.get("content-type", "")
        # Parse once here (handlers reuse it from the scope); raw uploads are left alone.
        looks_json = "json" in content_type or (not content_type and body[:1] in (b"{", b"["))
        parsed: Any = parse_json_bytes(body) if body and looks_json else None
        scope[SCOPE_BODY] = body
        if looks_json or not body:
            scope[SCOPE_JSON] = parsed
        record = self._record(scope, headers, parsed, size, rid)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = list(message.get("headers", []))
                if not any(k.lower() == b"x-request-id" for k, _ in raw):
                    raw.append((b"x-request-id", rid.encode("latin-1")))
                message = {**message, "headers": raw}
                response_headers = _header_dict(raw)
                record.request_id = response_headers.get("x-request-id", rid)  # a proxied answer's own id
                record.response_started(message["status"], response_headers)
            elif message["type"] == "http.response.body":
                record.response_chunk(message.get("body", b""), bool(message.get("more_body", False)))
            await send(message)

        if path == "/v1" or path.startswith("/v1/"):
            token = _bearer(headers)
            owner = state.owner_for(token)
            if owner is None or token is None:
                body_401 = _error_message(401, "unauthorized", "Invalid or missing API key.", rid)
                await _send_simple(send_with_id, 401, body_401, "application/json")
                return
            scope[SCOPE_OWNER] = owner
            if state.limiter is not None:
                try:
                    state.limiter.hit(token)
                except ApiError as exc:
                    limited = dumps(envelope(exc.error_object(), rid))
                    await _send_simple(send_with_id, exc.status, limited, "application/json", exc.headers)
                    return

        fault = None if path.startswith("/_admin") else state.faults.take(method, path)
        inner_send: Send = send_with_id
        if fault is not None:
            record.fault = fault
            if fault.delay_first_byte:
                await asyncio.sleep(fault.delay_first_byte)
            if fault.replaces_response:
                await self._guard(_fault_response(fault, send_with_id, send, rid))
                return
            inner_send = _FaultedSend(fault, send_with_id, send, rid)

        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        try:
            await self._guard(self.app(scope, replay, inner_send))
        finally:
            record.finish()

    @staticmethod
    async def _guard(work: Awaitable[None]) -> None:
        try:
            await work
        except BaseException as exc:
            if _contains(exc, FaultAbort):
                raise FaultAbort("connection dropped by a planned fault") from None
            if _contains(exc, _StreamEnded):
                return
            raise


# -- exception handlers -------------------------------------------------------------------------------


def _rid(request: Request) -> str:
    rid = request.scope.get(SCOPE_REQUEST_ID)
    return str(rid) if rid else request.app.state.gateway.new_request_id()


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    body = dumps(envelope(exc.error_object(), _rid(request)))
    return Response(body, status_code=exc.status, headers=exc.headers, media_type="application/json")


async def _detail_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DetailError)
    return Response(dumps({"detail": exc.detail}), status_code=exc.status, media_type="application/json")


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    message = {404: "Not found.", 405: "Method not allowed."}.get(status, str(exc.detail))
    body = dumps(envelope({"code": code_for_status(status), "message": message}, _rid(request)))
    return Response(body, status_code=status, headers=exc.headers, media_type="application/json")


async def _internal_error(request: Request, exc: Exception) -> Response:
    body = dumps(envelope({"code": "internal_error", "message": "Internal server error."}, _rid(request)))
    return Response(body, status_code=500, media_type="application/json")


class GatewayApp(Starlette):
    """Starlette with :class:`GatewayMiddleware` outside everything, even the 500 handler.

    Being outermost lets the middleware add the request id to 500 responses and drop connections
    before Starlette's error middleware could answer for them.
    """

    def build_middleware_stack(self) -> ASGIApp:
        inner: ASGIApp = super().build_middleware_stack()
        proxy = getattr(self.state, "proxy", None)
        if proxy is not None:
            inner = proxy.wrap(inner)  # record/replay in front of a real gateway (proxy.py)
        return GatewayMiddleware(inner, self.state.gateway)


def routes(*, inspector: bool = True) -> List[BaseRoute]:
    extra: List[BaseRoute] = list(_INSPECTOR_ROUTES) if inspector else []
    return [
        *extra,
        *routes_models.ROUTES,
        *routes_chat.ROUTES,
        *routes_media.ROUTES,
        *routes_templates.ROUTES,
        *routes_files.ROUTES,
        *routes_batches.ROUTES,
        *admin.ROUTES,
        WebSocketRoute("/v1/realtime", realtime_endpoint),
        Route("/v1/realtime", routes_models.upgrade_required, methods=["GET"]),
    ]


def create_app(
    tokens: Optional[List[str]] = None,
    *,
    data_dir: Optional[str] = None,
    latency: float = 0.0,
    admin_token: Optional[str] = None,
    rpm: Optional[int] = None,
    rpd: Optional[int] = None,
    batch_step_seconds: float = 0.05,
    embed_step_seconds: float = 0.02,
    faults: Optional[FaultPlan] = None,
    requests: Optional[RequestLog] = None,
    inspector: bool = True,
    proxy: Optional[ProxySettings] = None,
) -> Starlette:
    """Build the gateway app. Call ``app.state.gateway.close()`` when done if ``data_dir`` was used.

    ``inspector=False`` leaves out the ``/_inspector/`` page (see :mod:`meshapi.gateway.inspector`);
    ``proxy`` puts the gateway in front of a real one or a cassette (see :mod:`meshapi.gateway.proxy`).
    """
    layer = ProxyLayer(proxy) if proxy is not None and proxy.active else None
    state = GatewayState(
        tokens,
        data_dir=data_dir,
        latency=latency,
        admin_token=admin_token,
        rpm=rpm,
        rpd=rpd,
        batch_step_seconds=batch_step_seconds,
        embed_step_seconds=embed_step_seconds,
        faults=faults,
        requests=requests,
    )
    app = GatewayApp(
        routes=routes(inspector=inspector),
        exception_handlers={
            ApiError: _api_error,
            DetailError: _detail_error,
            HTTPException: _http_error,
            Exception: _internal_error,
        },
    )
    app.state.gateway = state
    app.state.inspector = inspector
    app.state.proxy = layer
    return app
