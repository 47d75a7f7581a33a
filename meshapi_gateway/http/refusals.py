"""How the gateway's middleware says no to a request it will not read: bounded drains, closing replies.

A refusal (421, 400, 401, 408, 413) is sent before the body is read. The client only reads it if the
body it is still sending is consumed, so the rest is drained and dropped, bounded in bytes and time; a
body not read to its end leaves the connection in an unknown state, so that reply closes it. A refused
WebSocket handshake gets an HTTP response where the server can send one. Kept apart from
``middleware.py``, whose layers use these, so each file stays one screenful of concerns.
"""

from __future__ import annotations

import asyncio
from typing import Dict, Optional, Tuple

from .asgi import SCOPE_REQUEST_ID, Message, Receive, Scope, Send

__all__ = ["HTML_413", "MAX_BODY_BYTES", "closing_headers", "drain", "receive_by", "refuse_handshake"]

MAX_BODY_BYTES = 32 * 1024 * 1024
DRAIN_LIMIT = 8 * MAX_BODY_BYTES
HTML_413 = (
    b"<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n"
    b"<center><h1>413 Request Entity Too Large</h1></center>\r\n</body>\r\n</html>\r\n"
)


def closing_headers(complete: bool) -> Optional[Dict[str, str]]:
    """The extra header of a reply sent before the body was read to its end: close the connection."""
    return None if complete else {"connection": "close"}


async def receive_by(receive: Receive, deadline: float) -> Message:
    """The next message of the request, or ``asyncio.TimeoutError`` once the loop's clock passes ``deadline``."""
    left = deadline - asyncio.get_running_loop().time()
    if left <= 0:
        raise asyncio.TimeoutError
    return await asyncio.wait_for(receive(), left)


async def drain(receive: Receive, size: int, timeout: float) -> Tuple[int, bool]:
    """Read and drop the rest of a body (at most ``DRAIN_LIMIT``, within ``timeout`` seconds in all):
    ``(bytes seen, read to the end)``."""
    deadline = asyncio.get_running_loop().time() + timeout
    while size <= DRAIN_LIMIT:
        try:
            message = await receive_by(receive, deadline)
        except asyncio.TimeoutError:
            return size, False
        if message["type"] == "http.disconnect":
            return size, False
        size += len(message.get("body", b""))
        if not message.get("more_body", False):
            return size, True
    return size, False


async def refuse_handshake(scope: Scope, send: Send, status: int, body: bytes) -> None:
    """A WebSocket upgrade refused with an HTTP response when the server can send one, else a 403."""
    if "websocket.http.response" not in (scope.get("extensions") or {}):
        await send({"type": "websocket.close", "code": 1008})
        return
    headers = [
        (b"content-type", b"application/json"),
        (b"x-request-id", scope[SCOPE_REQUEST_ID].encode("latin-1")),
    ]
    await send({"type": "websocket.http.response.start", "status": status, "headers": headers})
    await send({"type": "websocket.http.response.body", "body": body, "more_body": False})
