"""Reading response bodies under ``max_response_bytes``, for both send loops.

Every response is sent as a stream and read here, through ``meshapi._core.decompress``'s capped
decoder, instead of by httpx (whose read inflates gzip or deflate without limit): a 2xx body past the
cap is ``ResponseTooLargeError``, an error body is cut at the cap so the status error is still
raised, and a compressed stream is decoded under the cap as it is iterated. Putting that decoder on a
response and storing the body read here are the two httpx privates this needs (``_decoder``,
``_content``); they stay in this module. The SSE line / event cap travels to the stream in the
response's extensions. Sync and async twins side by side.
"""

from __future__ import annotations

from typing import List, Optional

import httpx

from .._core.decompress import BodyTooLarge, CappedDecoder, capped_decoder_for
from .._core.retry import RetryState
from .._errors import ResponseTooLargeError
from .deadline import aiter_within, iter_within

__all__ = ["aread_body", "cap_stream", "install_cap", "read_body"]


def install_cap(response: httpx.Response, limit: int, *, keep_prefix: bool = False) -> CappedDecoder:
    """Make ``response`` decode its body through a ``CappedDecoder`` (before it is read).

    httpx builds its decoder once, on first use, and keeps it in ``response._decoder``; setting that
    attribute first is how another decoder is put in its place.
    """
    httpx_decoder = response._get_content_decoder()
    encodings = response.headers.get_list("content-encoding", split_commas=True)
    capped = capped_decoder_for(encodings, limit, httpx_decoder, keep_prefix=keep_prefix)
    response._decoder = capped  # type: ignore[assignment]
    return capped


def _is_encoded(response: httpx.Response) -> bool:
    """Whether the response declares a ``Content-Encoding`` other than identity."""
    values = response.headers.get_list("content-encoding", split_commas=True)
    return any(v.strip().lower() not in ("", "identity") for v in values)


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
    if response.status_code < 300 and _is_encoded(response):
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
        chunks = response.aiter_bytes()
        async for chunk in aiter_within(chunks, state) if state is not None and ok else chunks:
            pieces.append(chunk)
    except BodyTooLarge as exc:
        if ok:
            raise _too_large(response, exc) from None
        pieces.append(capped.prefix or b"")
    finally:
        await response.aclose()
    response._content = b"".join(pieces)
