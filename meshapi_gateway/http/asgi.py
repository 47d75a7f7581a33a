"""ASGI plumbing that the gateway's layers share: the callable types, the scope keys, headers, short replies.

The middlewares (``middleware.py``) hand what they learn about a request to the layers inside them
through the ASGI scope, under these keys (the values are kept from earlier releases):

==================  ==========================================  =====================================
key                 value                                       set by
==================  ==========================================  =====================================
SCOPE_REQUEST_ID    the request id (``req_<ULID>`` or caller's)  ``RequestIdMiddleware``
SCOPE_SERVER_SEND   the server's own ``send``, unwrapped         ``RequestIdMiddleware``
SCOPE_API_VERSION   the API version served (``YYYY-MM``)          ``VersionMiddleware``
SCOPE_OWNER         owner id of the bearer token                 ``AuthMiddleware``
SCOPE_BODY          the whole request body (bytes)               ``BodyMiddleware``
SCOPE_JSON          parsed JSON, ``None`` or ``BadJson``         ``JsonMiddleware``
SCOPE_RECORD        the request's :class:`RequestRecord`         ``RequestLogMiddleware``
==================  ==========================================  =====================================

``SCOPE_SERVER_SEND`` serves the two replies that must bypass every wrapper: the edge's 413 (no
request id, like the production edge) and a planned fault that drops the connection (it reaches the
server's transport through it).
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Dict, List, MutableMapping, Optional, Tuple

from ..errors import dumps, envelope

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SCOPE_REQUEST_ID = "meshapi.request_id"
SCOPE_SERVER_SEND = "meshapi.server_send"
SCOPE_API_VERSION = "meshapi.api_version"
SCOPE_OWNER = "meshapi.owner"
SCOPE_BODY = "meshapi.body"
SCOPE_JSON = "meshapi.json"
SCOPE_RECORD = "meshapi.record"


def is_api(path: str) -> bool:
    """``/v1`` and everything below it: the routes that need a data-plane token."""
    return path == "/v1" or path.startswith("/v1/")


def header(scope: Scope, name: bytes) -> Optional[str]:
    """The value of the request header ``name`` (the last one wins), or ``None``.

    ``name`` is lower case, as ASGI servers must give header names.
    """
    found: Optional[bytes] = None
    for key, value in scope.get("headers", ()):
        if key == name:
            found = value
    return None if found is None else found.decode("latin-1")


def header_dict(raw: Any) -> Dict[str, str]:
    """ASGI headers (pairs of bytes) as a dict with lower-case names."""
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in raw}


def header_list(headers: Dict[str, str]) -> List[Tuple[bytes, bytes]]:
    """A dict of headers as ASGI pairs of bytes."""
    return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]


def adding_headers(send: Send, pairs: List[Tuple[bytes, bytes]]) -> Send:
    """``send`` that adds ``pairs`` (lower-case names) to the response start, unless already there (a
    proxied answer keeps its own)."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            raw = list(message.get("headers", ()))
            names = {k.lower() for k, _ in raw}
            raw.extend((k, v) for k, v in pairs if k not in names)
            message = {**message, "headers": raw}
        await send(message)

    return sending


def error_body(code: str, message: str, request_id: Optional[str], **extra: Any) -> bytes:
    """The standard error envelope (``{"error": {...}, "request_id": ...}``) as JSON bytes."""
    error: Dict[str, Any] = {"code": code, "message": message}
    error.update(extra)
    return dumps(envelope(error, request_id))


async def send_reply(
    send: Send, status: int, body: bytes, content_type: str, extra: Optional[Dict[str, str]] = None
) -> None:
    """A whole response in two messages (``Content-Type``, ``Content-Length`` and ``extra`` headers)."""
    headers = {"content-type": content_type, "content-length": str(len(body))}
    headers.update(extra or {})
    await send({"type": "http.response.start", "status": status, "headers": header_list(headers)})
    await send({"type": "http.response.body", "body": body, "more_body": False})
