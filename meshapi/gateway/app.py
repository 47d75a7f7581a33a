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
the bearer token on ``/v1`` routes (401) and the optional RPM/RPD limits (429); then run the real
handler with a planned fault applied, if one matches (``fault_injection.py``). A POST to ``/v1`` with
an ``Idempotency-Key`` runs the handler behind ``idempotency.py`` (replay, conflict or run once).

The routes themselves are in ``routes/``, one module per SDK resource; the settings in
``settings.py``.
"""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable, Dict, List, MutableMapping, Optional, Tuple
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from . import admin
from .common import SCOPE_BODY, SCOPE_JSON, SCOPE_OWNER, SCOPE_REQUEST_ID, BadJson, parse_json_bytes
from .errors import ApiError, DetailError, code_for_status, dumps, envelope
from .fault_injection import error_message, header_list, run_with_fault
from .faults import FaultPlan, RequestLog, RequestRecord
from .idempotency import cache_for as idempotency_cache
from .inspector import ROUTES as _INSPECTOR_ROUTES
from .proxy import ProxyLayer
from .routes import all_routes
from .settings import GatewaySettings
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


async def _send_simple(
    send: Send, status: int, body: bytes, content_type: str, extra: Optional[Dict[str, str]] = None
) -> None:
    headers = {"content-type": content_type, "content-length": str(len(body))}
    headers.update(extra or {})
    await send({"type": "http.response.start", "status": status, "headers": header_list(headers)})
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
        is_api = path == "/v1" or path.startswith("/v1/")
        body_timeout = state.settings.body_timeout

        # Authentication comes before the body is read: an unauthenticated body is drained (bounded,
        # so the client reads the 401) but neither parsed nor kept.
        token = _bearer(headers) if is_api else None
        owner = state.owner_for(token) if is_api else None
        if is_api and (owner is None or token is None):
            size, complete = await _drain(receive, 0, body_timeout)
            record = self._record(scope, headers, None, size, rid)
            record.status = 401
            record.finish()
            body_401 = error_message(401, "unauthorized", "Invalid or missing API key.", rid)
            extra = {"x-request-id": rid, **({} if complete else {"connection": "close"})}
            await _send_simple(send, 401, body_401, "application/json", extra)
            return

        declared = headers.get("content-length", "")
        too_big = declared.isdigit() and len(declared) < 20 and int(declared) > MAX_BODY_BYTES
        chunks: List[bytes] = []
        size = 0
        while not too_big:
            try:
                message = await asyncio.wait_for(receive(), body_timeout)
            except asyncio.TimeoutError:
                await self._body_timed_out(scope, headers, size, rid, send)
                return
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
            size, _ = await _drain(receive, size, body_timeout)
            record = self._record(scope, headers, None, size, rid)
            record.status = 413
            record.finish()
            await _send_simple(send, 413, _HTML_413, "text/html", {"connection": "close"})
            return
        body = b"".join(chunks)
        del chunks
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

        if is_api and token is not None:
            scope[SCOPE_OWNER] = owner
            if state.limiter is not None:
                try:
                    state.limiter.hit(token)
                except ApiError as exc:
                    limited = dumps(envelope(exc.error_object(), rid))
                    await _send_simple(send_with_id, exc.status, limited, "application/json", exc.headers)
                    return

        fault = None if path.startswith("/_admin") else state.faults.take(method, path)
        if fault is not None:
            record.fault = fault

        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        app = self.app
        if method == "POST" and path.startswith("/v1/") and "idempotency-key" in headers:
            app = idempotency_cache(state).wrap(app, headers["idempotency-key"], body, content_type)
        try:
            await run_with_fault(fault, app, scope, replay, send_with_id, send, rid)
        finally:
            record.finish()

    async def _body_timed_out(
        self, scope: Scope, headers: Dict[str, str], size: int, rid: str, send: Send
    ) -> None:
        """A client that stopped sending its body: a 408 envelope, and the connection is closed."""
        record = self._record(scope, headers, None, size, rid)
        record.status = 408
        record.finish()
        seconds = self.state.settings.body_timeout
        message = f"The request body did not arrive within {seconds:g} s."
        body = error_message(408, "request_timeout", message, rid)
        extra = {"x-request-id": rid, "connection": "close"}
        await _send_simple(send, 408, body, "application/json", extra)


async def _drain(receive: Receive, size: int, timeout: float) -> Tuple[int, bool]:
    """Read and drop the rest of a body (at most ``_DRAIN_LIMIT``): ``(bytes seen, read to the end)``."""
    while size <= _DRAIN_LIMIT:
        try:
            message = await asyncio.wait_for(receive(), timeout)
        except asyncio.TimeoutError:
            return size, False
        if message["type"] == "http.disconnect":
            return size, False
        size += len(message.get("body", b""))
        if not message.get("more_body", False):
            return size, True
    return size, False


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
    """Every route of the gateway: the resource modules' (``routes/``), the admin API's, the inspector's."""
    extra: List[BaseRoute] = list(_INSPECTOR_ROUTES) if inspector else []
    return [*extra, *all_routes(), *admin.ROUTES]


def create_app(
    tokens: Optional[List[str]] = None,
    *,
    settings: Optional[GatewaySettings] = None,
    faults: Optional[FaultPlan] = None,
    requests: Optional[RequestLog] = None,
    **options: Any,
) -> Starlette:
    """Build the gateway app from ``settings`` and/or the :class:`GatewaySettings` fields as keywords.

    Call ``app.state.gateway.close()`` when done if ``data_dir`` was used. ``inspector=False`` leaves
    out the ``/_inspector/`` page (:mod:`meshapi.gateway.inspector`); ``proxy`` puts the gateway in
    front of a real one or a cassette (:mod:`meshapi.gateway.proxy`).
    """
    if tokens is not None:
        options["tokens"] = tokens
    chosen = GatewaySettings.build(settings, caller="create_app", **options)
    proxy = chosen.proxy
    layer = ProxyLayer(proxy) if proxy is not None and proxy.active else None
    state = GatewayState(chosen, faults=faults, requests=requests)
    app = GatewayApp(
        routes=routes(inspector=chosen.inspector),
        exception_handlers={
            ApiError: _api_error,
            DetailError: _detail_error,
            HTTPException: _http_error,
            Exception: _internal_error,
        },
    )
    app.state.gateway = state
    app.state.inspector = chosen.inspector
    app.state.proxy = layer
    return app
