"""Reading response bodies under ``max_response_bytes``, for both send loops.

Every response is sent as a stream and read here, through ``meshapi._core.decompress``'s capped
decoder, instead of by httpx (whose read inflates gzip or deflate without limit): a 2xx body past the
cap is ``ResponseTooLargeError``, an error body is cut at the cap so the status error is still
raised, and a compressed stream is decoded under the cap as it is iterated. Putting that decoder on a
response and storing the body read here are the two httpx privates this needs (``_decoder``,
``_content``); they stay in this module. A streamed 2xx body gets its stages from
:func:`install_stream_stages`, the one place they are put on, in a stated order. Sync and async twins
side by side.
"""

from __future__ import annotations

from typing import Any, AsyncIterator, Callable, Iterator, List, Optional

import httpx

from .._core.decompress import BodyTooLarge, CappedDecoder, capped_decoder_for
from .._core.response import request_id_of
from .._core.retry import RetryState, frame_status
from .._core.stream import FirstEventProbe
from .._errors import ResponseTooLargeError, StreamEventError
from . import otel
from .deadline import EventGaps, FirstEventDeadline, aiter_within, iter_within

#: The request extension that carries a stream's ``stream_idle_timeout`` (set by ``base._build``).
IDLE_EXTENSION = "meshapi.stream_idle_timeout"

__all__ = [
    "IDLE_EXTENSION",
    "FirstEventRetry",
    "aread_body",
    "install_cap",
    "install_stream_stages",
    "read_body",
]


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


class Inflated(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A compressed streamed body inflated as it is read (under the cap of ``decoder``), so the stages
    above it see events, not compressed bytes; the response itself then decodes nothing more."""

    def __init__(self, inner: Any, decoder: CappedDecoder) -> None:
        self._inner, self._decoder = inner, decoder

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._inner:
            data = self._decoder.decode(chunk)
            if data:
                yield data
        tail = self._decoder.flush()
        if tail:
            yield tail

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            data = self._decoder.decode(chunk)
            if data:
                yield data
        tail = self._decoder.flush()
        if tail:
            yield tail

    def close(self) -> None:
        self._inner.close()

    async def aclose(self) -> None:
        await self._inner.aclose()


def install_stream_stages(response: httpx.Response, limit: int, state: RetryState) -> None:
    """Put the transport's stages on a streamed 2xx body, in this order (from the socket up):

    1. the pool's timing wrapper (``meshapi._transport.pool``, already on every response it sends);
       a compressed body is inflated right above it, under ``limit`` bytes (:class:`Inflated`,
       ``meshapi._core.decompress``), so every later stage sees decoded events;
    2. the longest gap between events, comments and keep-alives not counted: the call's
       ``stream_idle_timeout`` (the request's ``IDLE_EXTENSION``), else its read timeout
       (``meshapi._transport.deadline.EventGaps``); then ``state.deadline`` (the call's
       ``total_timeout``, when it has one): the first event must arrive before it
       (``meshapi._transport.deadline.FirstEventDeadline``);
    3. ``state.span`` (OpenTelemetry, when tracing): ended when the body is closed, with the usage of
       the last event seen and ``state.retries`` (``meshapi._transport.otel.watch_stream``).

    Then the ``Stream`` reads it (``meshapi._streaming``): SSE lines and events under the cap the
    resource passed it (the same ``max_response_bytes``), the one frame decoder (``meshapi._core.frames``),
    the endpoint's pure accumulator, and after the end marker a bounded drain (``pool.drain``). Every
    foreign exception on the way is mapped by one ``foreign_errors`` (``meshapi._core.response``).
    Called once per stream, by the send loops of ``meshapi._transport.client`` when a 2xx arrives.
    """
    if _is_encoded(response):
        response.stream = Inflated(response.stream, install_cap(response, limit))
        response._decoder = CappedDecoder([], limit)  # type: ignore[assignment]  # identity: decoded below
    extensions = response.request.extensions
    idle = extensions.get(IDLE_EXTENSION)
    read = idle if idle is not None else (extensions.get("timeout") or {}).get("read")
    if read is not None:
        response.stream = EventGaps(response.stream, read, "stream_idle_timeout" if idle else "read timeout")
    if state.deadline is not None:
        response.stream = FirstEventDeadline(response.stream, state)
    if state.span is not None:
        otel.watch_stream(state.span, response, state.retries)


class FirstEventRetry(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A streamed 2xx body whose first event is looked at as it is read (the outermost stage, put on by
    the send loops once per call).

    When that event is an in-band error frame whose code is retryable (``meshapi._core.retry``'s
    ``FRAME_CODE_STATUS``), nothing has reached the caller yet: the attempt is closed and
    ``resend(error)`` makes the next one under the same retry state and fallback chain (the send loops:
    backoff or the frame's hint, retry count header, same idempotency key, events and log lines), or
    raises. The body then goes on with that answer's, and ``response`` takes its headers and request
    (so its request id). Any other first event, and every byte after it, passes through untouched. A
    body already in memory (``httpx.MockTransport``, a replayed cassette) is looked at the same way. A
    compressed body is looked at inflated (:class:`Inflated` sits below this stage).
    """

    def __init__(
        self, response: httpx.Response, limit: int, resend: Callable[[StreamEventError], Any]
    ) -> None:
        self._response, self._limit, self._resend = response, limit, resend
        self._inner: Any = response.stream
        if hasattr(response, "_content"):  # read already (an httpx.MockTransport's bytes, a cassette's)
            # httpx reads an in-memory body when the response is made and then never looks at
            # ``stream`` again: the body becomes unread bytes again, read through this stage
            self._inner = httpx.ByteStream(response._content)
            del response._content
            response.is_stream_consumed = response.is_closed = False
            response._decoder = CappedDecoder([], limit)  # type: ignore[assignment]  # decoded already

    def _probe(self) -> FirstEventProbe:
        return FirstEventProbe(request_id_of(self._response), self._limit)

    def _switch(self, answer: httpx.Response) -> None:
        self._inner = answer.stream
        self._response.headers, self._response.request = answer.headers, answer.request

    def __iter__(self) -> Iterator[bytes]:
        while True:
            probe, head, chunks = self._probe(), [], iter(self._inner)
            for chunk in chunks:
                head.append(chunk)
                probe.feed(chunk)
                if probe.decided:
                    break
            error = _retryable(probe)
            if error is None:
                yield from head
                yield from chunks
                return
            otel.detach(self._inner)
            self._inner.close()
            self._switch(self._resend(error))

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            probe, head, chunks = self._probe(), [], self._inner.__aiter__()
            async for chunk in chunks:
                head.append(chunk)
                probe.feed(chunk)
                if probe.decided:
                    break
            error = _retryable(probe)
            if error is None:
                for chunk in head:
                    yield chunk
                async for chunk in chunks:
                    yield chunk
                return
            otel.detach(self._inner)
            await self._inner.aclose()
            self._switch(await self._resend(error))

    def close(self) -> None:
        self._inner.close()

    async def aclose(self) -> None:
        await self._inner.aclose()


def _retryable(probe: FirstEventProbe) -> Optional[StreamEventError]:
    error = probe.error
    return error if error is not None and frame_status(error.error_code) else None


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
