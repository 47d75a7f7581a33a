"""Server-sent event framing exactly as docs/protocol.md §3.1 asks: LF only, ``data: `` with one space, one
data line per event, every event closed by a blank line."""

from __future__ import annotations

from typing import Any, AsyncIterator, Dict, Optional

from starlette.responses import StreamingResponse

from ..errors import dumps

DONE = b"data: [DONE]\n\n"
KEEP_ALIVE = b": keep-alive\n\n"


def data_event(payload: Any) -> bytes:
    return b"data: " + dumps(payload) + b"\n\n"


def named_event(name: str, payload: Any) -> bytes:
    return b"event: " + name.encode("utf-8") + b"\ndata: " + dumps(payload) + b"\n\n"


def error_event(
    code: str,
    message: str,
    request_id: Optional[str],
    provider_code: Optional[str] = None,
    retry_after_seconds: Optional[float] = None,
) -> bytes:
    """The in-band error frame of a stream that fails once started (docs/protocol.md §3.1): the error
    envelope as one ``data:`` event; ``provider_code`` and ``retry_after_seconds`` only when given."""
    error: Dict[str, Any] = {"code": code, "message": message}
    if provider_code:
        error["provider_code"] = provider_code
    if retry_after_seconds is not None:
        error["retry_after_seconds"] = retry_after_seconds
    return data_event({"error": error, "request_id": request_id})


def sse_response(events: AsyncIterator[bytes], headers: Optional[Dict[str, str]] = None) -> StreamingResponse:
    # The content type is set as a header so Starlette does not append "; charset=utf-8".
    all_headers = {
        "content-type": "text/event-stream",
        "cache-control": "no-cache",
        "x-accel-buffering": "no",
    }
    all_headers.update(headers or {})
    return StreamingResponse(events, headers=all_headers)
