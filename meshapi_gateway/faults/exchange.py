"""Applying a planned fault to one HTTP exchange (the plan itself, :class:`Fault`, is in ``plan.py``).

``FaultMiddleware`` (``http/middleware.py``) takes the matching fault from the plan and hands the exchange to
:func:`run_with_fault`. A fault either replaces the response (``status``/``body``:
:func:`fault_response`) or wraps ``send`` (:class:`FaultedSend`) to change the real handler's
response: extra headers, SSE events dropped, stalled, malformed or replaced by an error frame, a
truncated or padded body. Dropping a connection closes uvicorn's transport directly, so the client
sees a real cut-off; :class:`FaultAbort` is the fallback on other servers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, Awaitable, Dict, List, Optional

from ..errors import CODE_FOR_PROVIDER_CODE, code_for_status, dumps
from ..http.asgi import ASGIApp, Message, Receive, Scope, Send, error_body, header_list
from ..http.sse import DONE, KEEP_ALIVE, data_event, error_event
from .plan import Fault


class FaultAbort(Exception):
    """Raised to make the server drop the connection on purpose (a planned fault)."""


class StreamEnded(Exception):
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
    """Drop the connection; always raises (``StreamEnded`` when done quietly, else ``FaultAbort``)."""
    if await _drop_connection(raw_send):
        raise StreamEnded()
    if pending_start is not None:
        await send(pending_start)
    raise FaultAbort()


class FaultedSend:
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
        return {**message, "headers": header_list(headers)}

    async def __call__(self, message: Message) -> None:
        if self.finished:
            raise StreamEnded()
        kind = message["type"]
        fault = self.fault
        if kind == "http.response.start":
            message = self._adjust_start(message)
            if self.sse:
                await self.send(message)
                await self._before_first_event()
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
            if self.fault.tool_calls_without_index:
                block = _without_tool_call_index(block)
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
            raise StreamEnded()
        if fault.stall_after_events is not None and count == fault.stall_after_events:
            await asyncio.sleep(fault.stall_seconds)
        if fault.malformed_after_events is not None and count == fault.malformed_after_events:
            await self.send({"type": "http.response.body", "body": _MALFORMED, "more_body": True})

    async def _before_first_event(self) -> None:
        """A slow generation: keep-alive comments only for ``keepalive_seconds``, then ``first_event_delay``."""
        fault = self.fault
        if fault.keepalive_seconds:
            until = time.monotonic() + fault.keepalive_seconds
            while time.monotonic() < until:
                await self.send({"type": "http.response.body", "body": KEEP_ALIVE, "more_body": True})
                await asyncio.sleep(min(fault.keepalive_interval, max(0.0, until - time.monotonic())))
        if fault.first_event_delay:
            await asyncio.sleep(fault.first_event_delay)

    async def _error_and_done(self) -> None:
        fault = self.fault
        message = "Injected fault: the upstream stream failed."
        frame = error_event(
            fault.error_code, message, self.request_id, fault.provider_code, fault.error_retry_after
        )
        await self.send({"type": "http.response.body", "body": frame + DONE, "more_body": False})
        self.finished = True


_MALFORMED = b"data: {not json\n\n"


def _without_tool_call_index(block: bytes) -> bytes:
    """A chat chunk event whose tool-call deltas lost their ``index`` and ``id`` (others unchanged)."""
    if not block.startswith(b"data: {") or b'"tool_calls"' not in block:
        return block
    payload = json.loads(block[len(b"data: ") :])
    for choice in payload.get("choices") or ():
        for call in (choice.get("delta") or {}).get("tool_calls") or ():
            call.pop("index", None)
            call.pop("id", None)
    return data_event(payload)[:-2]


async def fault_response(fault: Fault, send: Send, raw_send: Send, request_id: str) -> None:
    status = fault.status if fault.status is not None else 200
    extra = fault.extra_headers()
    body: bytes
    if fault.body is None:
        code = code_for_status(status)
        more: Dict[str, Any] = {}
        if status == 429 and fault.retry_after is not None and fault.retry_after.strip().isdigit():
            more["retry_after_seconds"] = int(fault.retry_after)
        if fault.provider_code:
            code = CODE_FOR_PROVIDER_CODE.get(fault.provider_code, code)
            more["provider_code"] = fault.provider_code
        body = error_body(code, f"Injected fault: HTTP {status}.", request_id, **more)
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
    start = {"type": "http.response.start", "status": status, "headers": header_list(headers)}
    if fault.drop_after_events is not None:
        await _abort(raw_send, send, start)
    await send(start)
    if fault.truncate_body:
        await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
        await _abort(raw_send, send, None)
    if fault.stall_after_events is not None:
        await asyncio.sleep(fault.stall_seconds)
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def guard(work: Awaitable[None]) -> None:
    """Run ``work``; a planned drop surfaces as one :class:`FaultAbort`, a finished stream as nothing."""
    try:
        await work
    except BaseException as exc:
        if _contains(exc, FaultAbort):
            raise FaultAbort("connection dropped by a planned fault") from None
        if _contains(exc, StreamEnded):
            return
        raise


async def run_with_fault(
    fault: Optional[Fault], app: ASGIApp, scope: Scope, receive: Receive, send: Send, raw_send: Send, rid: str
) -> None:
    """Run the handler for one request, with ``fault`` (if any) applied to its response.

    ``send`` is the middleware's wrapped send (it adds the request id); ``raw_send`` is the server's,
    needed to reach the transport when a fault drops the connection.
    """
    if fault is None:
        await guard(app(scope, receive, send))
        return
    if fault.delay_first_byte:
        await asyncio.sleep(fault.delay_first_byte)
    if fault.replaces_response:
        await guard(fault_response(fault, send, raw_send, rid))
        return
    await guard(app(scope, receive, FaultedSend(fault, send, raw_send, rid)))
