"""What every request goes through before its route: one pure ASGI middleware per concern, in one list.

:data:`MIDDLEWARE` is installed outside everything else, even Starlette's 500 handler (``app.py``), in
this order, outermost first:

1. :class:`RequestIdMiddleware` - the request id: the caller's ``X-Request-Id`` when it matches
   ``^[A-Za-z0-9._:-]{1,64}$``, else a fresh ``req_<ULID>``; put on every response and log entry.
2. :class:`HostMiddleware` - the ``Host`` header: a loopback name or a configured one (``hosts.py``),
   else a 421 for every request and WebSocket handshake alike (DNS rebinding).
3. :class:`VersionMiddleware` - ``X-Mesh-Version`` on ``/v1`` HTTP routes (``versioning.py``): a 400
   ``invalid_api_version`` before authentication, else the version served in the scope and echoed (with
   ``Deprecation`` / ``Sunset`` for a deprecated one) on every response.
4. :class:`AuthMiddleware` - the bearer token on ``/v1`` routes: a 401 before the body is read (an
   unauthenticated body is drained, bounded, so the client reads the 401, but never parsed or kept).
5. :class:`BodyMiddleware` - the body, read whole under 32 MiB (past it an HTML 413 with no request
   id, like the production edge) and within the body timeout, counted for the whole body so a client
   that dribbles it byte by byte is cut off too (a 408, then the connection is closed).
6. :class:`JsonMiddleware` - a JSON body parsed once, strictly (``json_input.py``); routes reuse it.
   A body over 1 MiB is parsed in a worker thread, so other requests are served meanwhile.
7. :class:`RequestLogMiddleware` - the request and its response (or streamed events) in the log
   (a body over 1 MiB is redacted for it in a worker thread too).
8. :class:`RateLimitMiddleware` - the RPM/RPD limits per caller (429; ``ratelimit.py``).
9. :class:`BillingMiddleware` (``billing.py``) - 402 when the balance is exhausted; usage rows.
10. :class:`FaultMiddleware` - a planned fault, if one matches, applied to the exchange.
11. :class:`IdempotencyMiddleware` - a POST to ``/v1`` with an ``Idempotency-Key``: replay, conflict
   or run once (``store/idempotency.py``).

Inside them: the record/replay proxy when it is on (``record/proxy.py``), then Starlette's own stack
(500 handler, exception handlers, router). Requests that a middleware refuses (421, 400, 401, 408, 413) are
logged by it with :func:`log_refused`, since they never reach the request log's layer. WebSocket connections
get a request id and a log entry; everything else about them is the realtime endpoint's. Pure ASGI
(no ``BaseHTTPMiddleware``): streamed responses go out chunk by chunk, untouched.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any, Callable, List, Optional, Tuple
from urllib.parse import parse_qsl

from ..errors import ApiError, dumps, envelope
from ..faults.exchange import run_with_fault
from ..record.reqlog import RequestRecord
from ..store.state import GatewayState
from . import versioning
from .asgi import (
    SCOPE_API_VERSION,
    SCOPE_BODY,
    SCOPE_JSON,
    SCOPE_OWNER,
    SCOPE_RECORD,
    SCOPE_REQUEST_ID,
    SCOPE_SERVER_SEND,
    ASGIApp,
    Message,
    Receive,
    Scope,
    Send,
    adding_headers,
    error_body,
    header,
    header_dict,
    is_api,
    send_reply,
)
from .billing import BillingMiddleware
from .hosts import refusal, served_names
from .json_input import OFF_LOOP_BYTES, BadJson, parse_request_json
from .refusals import HTML_413, MAX_BODY_BYTES, closing_headers, drain, receive_by, refuse_handshake

__all__ = [
    "MAX_BODY_BYTES",
    "MIDDLEWARE",
    "AuthMiddleware",
    "BodyMiddleware",
    "FaultMiddleware",
    "HostMiddleware",
    "IdempotencyMiddleware",
    "JsonMiddleware",
    "RateLimitMiddleware",
    "RequestIdMiddleware",
    "RequestLogMiddleware",
    "VersionMiddleware",
    "log_refused",
]

_CALLER_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


class _Layer:
    """A middleware of the gateway: the app inside it and the gateway's shared state."""

    def __init__(self, app: ASGIApp, state: GatewayState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # pragma: no cover
        raise NotImplementedError


class RequestIdMiddleware(_Layer):
    """Picks the request id and adds ``X-Request-Id`` to every response that has none (a proxied one has)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http" and kind != "websocket":
            await self.app(scope, receive, send)
            return
        # a caller's id is honoured when valid (reply, errors, log); an invalid one is ignored silently
        rid = header(scope, b"x-request-id") or ""
        if not _CALLER_ID.fullmatch(rid):
            rid = self.state.new_request_id()
        scope[SCOPE_REQUEST_ID] = rid
        if kind == "websocket":
            await self.app(scope, receive, send)
            return
        scope[SCOPE_SERVER_SEND] = send
        stamp = (b"x-request-id", rid.encode("latin-1"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = list(message.get("headers", ()))
                if not any(k.lower() == b"x-request-id" for k, _ in raw):
                    raw.append(stamp)
                    message = {**message, "headers": raw}
            await send(message)

        await self.app(scope, receive, send_with_id)


class HostMiddleware(_Layer):
    """Serves a request or WebSocket handshake only when its ``Host`` is one the gateway answers for.

    Anything else (another name, no ``Host`` on HTTP/1.1, several) gets a 421 ``misdirected_request``
    envelope, before authentication: a web page that rebinds its own name to this machine reaches
    neither the API, nor the admin routes, nor the inspector, nor the realtime socket.
    """

    def __init__(self, app: ASGIApp, state: GatewayState) -> None:
        super().__init__(app, state)
        settings = state.settings
        self.served = served_names(settings.host, settings.allowed_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http" and kind != "websocket":
            await self.app(scope, receive, send)
            return
        hosts = [v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"host"]
        reason = refusal(hosts, scope.get("http_version", "1.1"), self.served)
        if reason is None:
            await self.app(scope, receive, send)
            return
        body = error_body("misdirected_request", reason, scope[SCOPE_REQUEST_ID])
        if kind == "websocket":
            log_refused(self.state, scope, 0, 421)
            await refuse_handshake(scope, send, 421, body)
            return
        size, complete = await drain(receive, 0, self.state.settings.body_timeout)
        log_refused(self.state, scope, size, 421)
        await send_reply(send, 421, body, "application/json", closing_headers(complete))


class VersionMiddleware(_Layer):
    """``/v1`` over HTTP: the version served into the scope and every response, or a 400 (body drained)."""

    def __init__(self, app: ASGIApp, state: GatewayState) -> None:
        super().__init__(app, state)
        self.deprecated = versioning.check_deprecated(state.settings.deprecated_versions)
        self.pins = versioning.check_pins(state.settings.api_version_pins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_api(scope["path"]):
            await self.app(scope, receive, send)  # the realtime socket ignores the header
            return
        pin = self.pins.get(bearer(header(scope, b"authorization")) or "") if self.pins else None
        served = versioning.resolve(scope.get("headers", ()), pin)
        label = served if isinstance(served, str) else versioning.BASELINE
        send_with_version = adding_headers(send, versioning.version_headers(label, self.deprecated))
        if isinstance(served, versioning.Refusal):
            size, complete = await drain(receive, 0, self.state.settings.body_timeout)
            log_refused(self.state, scope, size, 400)
            rid, versions = scope[SCOPE_REQUEST_ID], served.supported_versions
            body = error_body("invalid_api_version", served.message, rid, supported_versions=versions)
            await send_reply(send_with_version, 400, body, "application/json", closing_headers(complete))
            return
        scope[SCOPE_API_VERSION] = label
        await self.app(scope, receive, send_with_version)


class AuthMiddleware(_Layer):
    """On ``/v1``: the owner of the bearer token into the scope, or a 401 (the body drained, not read)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_api(scope["path"]):
            await self.app(scope, receive, send)
            return
        owner = self.state.owner_for(bearer(header(scope, b"authorization")))
        if owner is None:
            size, complete = await drain(receive, 0, self.state.settings.body_timeout)
            log_refused(self.state, scope, size, 401)
            body = error_body("unauthorized", "Invalid or missing API key.", scope[SCOPE_REQUEST_ID])
            await send_reply(send, 401, body, "application/json", closing_headers(complete))
            return
        scope[SCOPE_OWNER] = owner
        await self.app(scope, receive, send)


def bearer(authorization: Optional[str]) -> Optional[str]:
    """The token of an ``Authorization: Bearer <token>`` value, or ``None``."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class BodyMiddleware(_Layer):
    """Reads the whole body (bounded in size and time) into the scope, then replays it to the app."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        timeout = self.state.settings.body_timeout
        deadline = asyncio.get_running_loop().time() + timeout  # for the whole body, not each piece
        declared = header(scope, b"content-length") or ""
        too_big = declared.isdigit() and len(declared) < 20 and int(declared) > MAX_BODY_BYTES
        chunks: List[bytes] = []
        size = 0
        while not too_big:
            try:
                message = await receive_by(receive, deadline)
            except asyncio.TimeoutError:
                await self._timed_out(scope, size, send)
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
            # failing on a write to a closed connection. The edge's reply bypasses the request id.
            size, _ = await drain(receive, size, timeout)
            log_refused(self.state, scope, size, 413)
            await send_reply(scope[SCOPE_SERVER_SEND], 413, HTML_413, "text/html", {"connection": "close"})
            return
        body = scope[SCOPE_BODY] = b"".join(chunks)
        del chunks
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _timed_out(self, scope: Scope, size: int, send: Send) -> None:
        """A client that did not send its whole body within the body timeout: a 408 envelope, and the
        connection is closed."""
        log_refused(self.state, scope, size, 408)
        message = f"The request body did not arrive within {self.state.settings.body_timeout:g} s."
        body = error_body("request_timeout", message, scope[SCOPE_REQUEST_ID])
        await send_reply(send, 408, body, "application/json", {"connection": "close"})


class JsonMiddleware(_Layer):
    """Parses a JSON body once (raw uploads are left alone); handlers read it from the scope."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            body: bytes = scope[SCOPE_BODY]
            content_type = header(scope, b"content-type") or ""
            looks_json = "json" in content_type or (not content_type and body[:1] in (b"{", b"["))
            if len(body) > OFF_LOOP_BYTES and looks_json:  # seconds of work: other requests go on meanwhile
                scope[SCOPE_JSON] = await asyncio.get_running_loop().run_in_executor(
                    None, parse_request_json, body
                )
            elif looks_json or not body:
                scope[SCOPE_JSON] = parse_request_json(body) if body else None
        await self.app(scope, receive, send)


def _unlogged(method: str, path: str) -> bool:
    """The inspector's own files and reads of the log itself are not logged (they would flood it)."""
    return path.startswith("/_inspector") or (method == "GET" and path.startswith("/_admin/requests"))


def _record(state: GatewayState, scope: Scope, parsed: Any, size: int) -> RequestRecord:
    """A record of the request in ``scope``, appended to the log unless it is one of the unlogged reads."""
    record = RequestRecord.received(
        method="GET" if scope["type"] == "websocket" else scope["method"],
        path=scope["path"],
        query=dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)),
        headers=header_dict(scope.get("headers", ())),
        json=None if isinstance(parsed, BadJson) else parsed,
        request_id=scope[SCOPE_REQUEST_ID],
        body_size=size,
    )
    if not _unlogged(record.method, record.path):
        state.requests.append(record)
    return record


def log_refused(state: GatewayState, scope: Scope, size: int, status: int) -> None:
    """Log a request a middleware answered before the log's layer (421, 401, 408, 413): no body kept."""
    record = _record(state, scope, None, size)
    record.status = status
    record.finish()


class RequestLogMiddleware(_Layer):
    """Logs the request (redacted), then its response as it goes out: status, headers, body or events."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "websocket":
            scope[SCOPE_RECORD] = _record(self.state, scope, None, 0)
            await self.app(scope, receive, send)
            return
        if kind != "http":
            await self.app(scope, receive, send)
            return
        body: bytes = scope[SCOPE_BODY]
        parsed, size = scope.get(SCOPE_JSON), len(body)
        if size > OFF_LOOP_BYTES:  # redacting a large body walks all of it: in a worker thread too
            loop = asyncio.get_running_loop()
            record = await loop.run_in_executor(None, _record, self.state, scope, parsed, size)
        else:
            record = _record(self.state, scope, parsed, size)
        scope[SCOPE_RECORD] = record

        async def send_logged(message: Message) -> None:
            kind = message["type"]
            if kind == "http.response.start":
                headers = header_dict(message.get("headers", ()))
                # the id the client reads: a proxied answer's own, else this request's (RequestIdMiddleware)
                record.request_id = headers.setdefault("x-request-id", record.request_id)
                record.response_started(message["status"], headers)
            elif kind == "http.response.body":
                record.response_chunk(message.get("body", b""), bool(message.get("more_body", False)))
            await send(message)

        try:
            await self.app(scope, receive, send_logged)
        finally:
            record.finish()


class RateLimitMiddleware(_Layer):
    """The RPM/RPD limits per caller (the owner of the token; ``ratelimit.py``): a 429 envelope past them."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        owner = scope.get(SCOPE_OWNER)
        if owner is not None and scope["type"] == "http":
            try:
                self.state.limiter.hit(owner)
            except ApiError as exc:
                body = dumps(envelope(exc.error_object(), scope[SCOPE_REQUEST_ID]))
                await send_reply(send, exc.status, body, "application/json", exc.headers)
                return
            self.state.webhooks.counted(
                owner, self.state.limiter
            )  # rate_limit.threshold (webhooks/alerts.py)
        await self.app(scope, receive, send)


class FaultMiddleware(_Layer):
    """Takes the first matching planned fault (never on ``/_admin``) and applies it (``faults/``)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_admin"):
            await self.app(scope, receive, send)
            return
        fault = self.state.faults.take(scope["method"], scope["path"])
        if fault is None:
            await self.app(scope, receive, send)
            return
        record = scope.get(SCOPE_RECORD)
        if record is not None:
            record.fault = fault
        rid = scope[SCOPE_REQUEST_ID]
        await run_with_fault(fault, self.app, scope, receive, send, scope[SCOPE_SERVER_SEND], rid)


class IdempotencyMiddleware(_Layer):
    """A POST to ``/v1/...`` with an ``Idempotency-Key`` runs behind the gateway's idempotency cache."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"].startswith("/v1/"):
            key = header(scope, b"idempotency-key")
            if key is not None:
                content_type = header(scope, b"content-type") or ""
                guarded = self.state.idempotency.wrap(self.app, key, scope[SCOPE_BODY], content_type)
                await guarded(scope, receive, send)
                return
        await self.app(scope, receive, send)


#: The gateway's middlewares, outermost first (the order of the module docstring).
MIDDLEWARE: Tuple[Callable[[ASGIApp, GatewayState], ASGIApp], ...] = (
    RequestIdMiddleware,
    HostMiddleware,
    VersionMiddleware,
    AuthMiddleware,
    BodyMiddleware,
    JsonMiddleware,
    RequestLogMiddleware,
    RateLimitMiddleware,
    BillingMiddleware,
    FaultMiddleware,
    IdempotencyMiddleware,
)


def install(app: ASGIApp, state: GatewayState) -> ASGIApp:
    """``app`` wrapped in :data:`MIDDLEWARE` (the first of the list ends up outermost)."""
    for layer in reversed(MIDDLEWARE):
        app = layer(app, state)
    return app
