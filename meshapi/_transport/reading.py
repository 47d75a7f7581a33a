"""Reading response bodies under ``max_response_bytes``, for both transport loops.

Every response is sent as a stream and read here, through ``meshapi._core.decompress``'s capped
decoder, instead of by httpx (whose read inflates gzip or deflate without limit): a 2xx body past the
cap is ``ResponseTooLargeError``, an error body is cut at the cap so the status error is still
raised, and a compressed stream is decoded under the cap as it is iterated. The SSE line / event cap
travels to the stream in the response's extensions. Sync and async twins side by side.
"""

from __future__ import annotations

from typing import AsyncIterator, List, Optional

import httpx

from .._core.decompress import BodyTooLarge, install_cap, is_encoded
from .._core.retry import RetryState
from .._errors import ResponseTooLargeError
from .deadline import iter_within

__all__ = ["aread_body", "cap_stream", "read_body"]


def _too_large(response: httpx.Response, exc: BodyTooLarge) -> ResponseTooLargeError:
    return ResponseTooLargeError(
        f"The gateway's reply was refused: {exc}.",
        limit=exc.limit,
        status=response.status_code,
        request_id=str(response.headers.get("x-request-id", "")),
        response=response,
    )


def cap_stream(response: httpx.Response, limit: int) -> None:
    """A stream's body: an error body is read later; a compressed one is decoded under the cap."""
    response.extensions["meshapi.max_event_bytes"] = limit  # the SSE line / event cap
    if response.status_code < 300 and is_encoded(response):
        install_cap(response, limit)


def read_body(response: httpx.Response, limit: int, state: Optional[RetryState]) -> None:
    """Read and close a body, decoded under ``limit`` (and the deadline of ``state``, if any).

    A 2xx body past the cap is ``ResponseTooLargeError``; an error body is cut at the cap instead,
    so the status error is still raised (with the start of the body).
    """
    ok = response.status_code < 300
    capped = install_cap(response, limit, keep_prefix=not ok)
    pieces: List[bytes] = []
    try:
        chunks = response.iter_bytes()
        for chunk in iter_within(chunks, state) if state is not None and ok else chunks:
            pieces.append(chunk)
    except BodyTooLarge as exc:
        if ok:
            raise _too_large(response, exc) from None
        pieces.append(capped.prefix or b"")
    finally:
        response.close()
    response._content = b"".join(pieces)


async def aread_body(response: httpx.Response, limit: int, state: Optional[RetryState]) -> None:
    """Async twin of :func:`read_body`."""
    ok = response.status_code < 300
    capped = install_cap(response, limit, keep_prefix=not ok)
    pieces: List[bytes] = []
    try:
        if state is not None and ok:
            async for chunk in _aiter_within(response, state):
                pieces.append(chunk)
        else:
            async for chunk in response.aiter_bytes():
                pieces.append(chunk)
    except BodyTooLarge as exc:
        if ok:
            raise _too_large(response, exc) from None
        pieces.append(capped.prefix or b"")
    finally:
        await response.aclose()
    response._content = b"".join(pieces)


async def _aiter_within(response: httpx.Response, state: RetryState) -> AsyncIterator[bytes]:
    async for chunk in response.aiter_bytes():
        yield chunk
        if not state.remaining():
            raise httpx.ReadTimeout("total_timeout")
