"""``Stream`` / ``AsyncStream``: the object every streaming method returns.

Iterating works exactly as with 0.1.4's generators (``for chunk in client.chat.completions.stream(p)``)
and is lazy: nothing is sent before the first item is asked for. ``open()`` is the one "send now" step:
it sends the request and waits for the status line, so an HTTP error (404, 429, ...) is raised by the
call that opened the stream, not by the first iteration; ``chat.completions.create(stream=True)``
returns a stream opened this way (a web handler can catch the error before it answers 200), the
``.stream()`` methods an unopened one. Beyond 0.1.4 the object is a context
manager whose exit (like ``close()``) always releases the connection, even after ``break``; it exposes
``response``, ``headers`` and ``request_id`` once open; ``text_stream`` yields only text; and
``get_final()`` consumes the rest and returns the accumulated result.

One naming scheme for the typed results, on every stream: ``get_final_response()`` is the result the
same request would have returned without streaming (chat: also ``get_final_completion()``; images: the
``ImageGenerationResponse``), ``get_final_text()`` the whole text where the endpoint streams text (chat,
responses, compare's synthesis). Older names stay as aliases (``get_final``, ``get_output_text``,
``get_final_images``; compare's ``get_final()`` still returns its accumulator).

Why this module exists: it holds the only two stream read loops (sync and async twins), a few lines
each over the pure core in ``meshapi._core.stream``. The whole pipeline a chunk passes through, in
order, is stated once in ``meshapi._transport.reading.install_stream_stages``; the cap on one SSE
line / event is given to the stream as ``max_event_bytes`` by the resource that makes it, and every
foreign exception of a read is mapped by one ``with foreign_errors(decoder):``.

What the events mean is decided by a small pure *decoder* per endpoint (see ``EventDecoder``). The
stream ends normally only when the decoder saw the endpoint's end marker (``[DONE]``, compare's
``done`` event, ...): a stream that stops short or breaks raises ``StreamInterruptedError`` with the
request id, after every item that did arrive has been delivered. A read timeout between events is
also a ``StreamInterruptedError`` (and the connection is closed). After the end marker the rest of
the body is drained within ``meshapi._transport.pool.DRAIN_SECONDS`` / ``DRAIN_BYTES``, so the connection is reused.
"""

from __future__ import annotations

import sys
from typing import (
    Any,
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Generic,
    Iterator,
    Optional,
    TypeVar,
)

import httpx

from ._core.response import foreign_errors
from ._core.stream import EventDecoder, StreamCore, not_an_event_stream
from ._transport.pool import adrain, drain

if sys.version_info >= (3, 11):
    from typing import Self
else:  # typing_extensions comes with pydantic
    from typing_extensions import Self

__all__ = ["AsyncStream", "EventDecoder", "Stream"]

T = TypeVar("T")


class Stream(Generic[T]):
    """A lazy, closable stream of items of one SSE response (sync)."""

    def __init__(
        self,
        open_response: Callable[[], httpx.Response],
        decoder: EventDecoder[T],
        *,
        max_event_bytes: Optional[int] = None,
    ) -> None:
        self._open_response = open_response
        self._decoder = decoder
        self._response: Optional[httpx.Response] = None
        self._iterator: Optional[Iterator[Any]] = None
        self._closed = False
        #: Cap on one SSE line / one event's data in bytes (``None``: the 64 MiB default); the
        #: resources pass the client's ``max_response_bytes``.
        self.max_event_bytes = max_event_bytes

    # --- response metadata --------------------------------------------------------------------------
    @property
    def response(self) -> Optional[httpx.Response]:
        """The HTTP response, once the stream is open (``None`` before)."""
        return self._response

    @property
    def headers(self) -> httpx.Headers:
        return self._response.headers if self._response is not None else httpx.Headers()

    @property
    def request_id(self) -> Optional[str]:
        return self._response.headers.get("x-request-id") if self._response is not None else None

    @property
    def closed(self) -> bool:
        return self._closed

    # --- opening and iteration ----------------------------------------------------------------------
    def open(self) -> Self:
        """Send the request now and wait for the status line; return the stream, open (no-op if open).

        Raises the HTTP error (``RateLimitError``, ``NotFoundError``, ... with ``request_id`` and
        ``response``) here rather than at the first item. The connection is held until the stream is
        read to its end, closed, left by ``with``, or garbage collected. A closed stream stays closed.
        """
        if not self._closed:
            self._open()
        return self

    def _open(self) -> httpx.Response:
        if self._response is None:
            response = self._open_response()
            error = not_an_event_stream(response)
            if error is not None:
                response.close()
                self._closed = True
                raise error
            self._response = response
            self._decoder.request_id = response.headers.get("x-request-id", "")
        return self._response

    def _run(self, text: bool = False) -> Iterator[Any]:
        """The read loop: bytes into the pure core (``meshapi._core.stream``), items out; after the
        end marker the rest of the body is drained so the connection is reused."""
        if self._closed:
            return
        try:
            response = self._open()
            core = StreamCore(self._decoder, text, self.max_event_bytes)
            chunks = response.iter_bytes()
            fresh = True
            with foreign_errors(self._decoder):
                for chunk in chunks:
                    if fresh:  # an error frame retried first (transport's FirstEventRetry) changes the answer
                        self._decoder.request_id, fresh = response.headers.get("x-request-id", ""), False
                    yield from core.feed(chunk)
                    if core.stopped:
                        drain(chunks, response)
                        return
                yield from core.finish()
        finally:
            self._release()

    def _items(self) -> Iterator[T]:
        return self._run()

    def _get_iterator(self) -> Iterator[T]:
        if self._iterator is None:
            self._iterator = self._items()
        return self._iterator

    def __iter__(self) -> Iterator[T]:
        return self._get_iterator()

    def __next__(self) -> T:
        return next(self._get_iterator())

    @property
    def text_stream(self) -> Iterator[str]:
        """Only the text of the items (e.g. each chat delta's content), skipping empty pieces.

        Started before any item was read, it takes the decoder's text-only path (no model per item);
        the accumulated final result is the same either way.
        """
        if self._iterator is None and not self._closed:
            self._iterator = self._run(text=True)
            return self._iterator
        return self._texts_of_items()

    def _texts_of_items(self) -> Iterator[str]:
        text = self._decoder.text
        for item in self:
            piece = text(item)
            if piece:
                yield piece

    def until_done(self) -> Stream[T]:
        """Consume the rest of the stream (the accumulated result stays available)."""
        for _ in self:
            pass
        return self

    def get_final(self) -> Any:
        """Consume the rest of the stream and return the accumulated result."""
        self.until_done()
        return self._decoder.final()

    # --- closing --------------------------------------------------------------------------------------
    def close(self) -> None:
        """Release the connection. Safe to call at any time, any number of times."""
        iterator, self._iterator = self._iterator, None
        if iterator is not None:
            iterator.close()  # type: ignore[attr-defined]  # runs the generator's cleanup
        self._release()

    def _release(self) -> None:
        self._closed = True
        if self._response is not None:
            self._response.close()

    def __enter__(self) -> Self:
        return self.open()  # a closed stream stays closed: nothing is sent

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        # A stream dropped half-read must not keep its connection checked out.
        response = getattr(self, "_response", None)
        if response is not None and not getattr(self, "_closed", True):
            try:
                response.close()
            except Exception:
                pass

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("open" if self._response is not None else "not started")
        return f"<{type(self).__name__} {state} request_id={self.request_id!r}>"


class AsyncStream(Generic[T]):
    """A lazy, closable stream of items of one SSE response (asyncio twin of :class:`Stream`)."""

    def __init__(
        self,
        open_response: Callable[[], Awaitable[httpx.Response]],
        decoder: EventDecoder[T],
        *,
        max_event_bytes: Optional[int] = None,
    ) -> None:
        self._open_response = open_response
        self._decoder = decoder
        self._response: Optional[httpx.Response] = None
        self._iterator: Optional[AsyncIterator[Any]] = None
        self._guard: Optional[AsyncGenerator[None, None]] = None
        self._closed = False
        #: Cap on one SSE line / one event's data in bytes (``None``: the 64 MiB default); the
        #: resources pass the client's ``max_response_bytes``.
        self.max_event_bytes = max_event_bytes

    @property
    def response(self) -> Optional[httpx.Response]:
        """The HTTP response, once the stream is open (``None`` before)."""
        return self._response

    @property
    def headers(self) -> httpx.Headers:
        return self._response.headers if self._response is not None else httpx.Headers()

    @property
    def request_id(self) -> Optional[str]:
        return self._response.headers.get("x-request-id") if self._response is not None else None

    @property
    def closed(self) -> bool:
        return self._closed

    async def open(self) -> Self:
        """Send the request now and wait for the status line; return the stream, open (no-op if open).

        Raises the HTTP error (``RateLimitError``, ``NotFoundError``, ... with ``request_id`` and
        ``response``) here rather than at the first item. The connection is held until the stream is
        read to its end, closed, left by ``async with``, or garbage collected. A closed stream stays closed.
        """
        if not self._closed:
            await self._open()
        return self

    async def _open(self) -> httpx.Response:
        if self._response is None:
            response = await self._open_response()
            error = not_an_event_stream(response)
            if error is not None:
                await response.aclose()
                self._closed = True
                raise error
            self._response = response
            self._decoder.request_id = response.headers.get("x-request-id", "")
            self._guard = _closed_when_collected(response)
            await self._guard.__anext__()
        return self._response

    async def _run(self, text: bool = False) -> AsyncIterator[Any]:
        """Asyncio twin of ``Stream._run``."""
        if self._closed:
            return
        try:
            response = await self._open()
            core = StreamCore(self._decoder, text, self.max_event_bytes)
            chunks = response.aiter_bytes()
            try:
                fresh = True
                with foreign_errors(self._decoder):
                    async for chunk in chunks:
                        if fresh:  # see the sync twin
                            self._decoder.request_id, fresh = response.headers.get("x-request-id", ""), False
                        for item in core.feed(chunk):
                            yield item
                        if core.stopped:
                            await adrain(chunks, response)
                            return
            finally:
                # closed now, not by a finaliser task scheduled whenever it is collected
                await chunks.aclose()  # type: ignore[attr-defined]
            with foreign_errors(self._decoder):
                for item in core.finish():
                    yield item
        finally:
            await self._release()

    def _items(self) -> AsyncIterator[T]:
        return self._run()

    def _get_iterator(self) -> AsyncIterator[T]:
        if self._iterator is None:
            self._iterator = self._items()
        return self._iterator

    def __aiter__(self) -> AsyncIterator[T]:
        return self._get_iterator()

    async def __anext__(self) -> T:
        return await self._get_iterator().__anext__()

    @property
    def text_stream(self) -> AsyncIterator[str]:
        """Only the text of the items, skipping empty pieces (``async for text in stream.text_stream``).

        Started before any item was read, it takes the decoder's text-only path (no model per item).
        """
        if self._iterator is None and not self._closed:
            self._iterator = self._run(text=True)
            return self._iterator
        return self._text_stream()

    async def _text_stream(self) -> AsyncIterator[str]:
        text = self._decoder.text
        async for item in self:
            piece = text(item)
            if piece:
                yield piece

    async def until_done(self) -> AsyncStream[T]:
        """Consume the rest of the stream (the accumulated result stays available)."""
        async for _ in self:
            pass
        return self

    async def get_final(self) -> Any:
        """Consume the rest of the stream and return the accumulated result."""
        await self.until_done()
        return self._decoder.final()

    async def aclose(self) -> None:
        """Release the connection. Safe to call at any time, any number of times."""
        iterator, self._iterator = self._iterator, None
        if iterator is not None:
            await iterator.aclose()  # type: ignore[attr-defined]  # runs the generator's cleanup
        await self._release()

    async def _release(self) -> None:
        self._closed = True
        guard, self._guard = self._guard, None
        if guard is not None:
            await guard.aclose()  # closes the response
        elif self._response is not None:
            await self._response.aclose()

    close = aclose

    async def __aenter__(self) -> Self:
        return await self.open()  # a closed stream stays closed: nothing is sent

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("open" if self._response is not None else "not started")
        return f"<{type(self).__name__} {state} request_id={self.request_id!r}>"


async def _closed_when_collected(response: httpx.Response) -> AsyncGenerator[None, None]:
    """Closes ``response`` when an open ``AsyncStream`` is dropped unread (the async ``__del__``).

    An async response cannot be closed from ``__del__``; a started async generator can: when it is
    collected, the event loop's async-generator finaliser (asyncio's and trio's) runs its ``finally``
    in a task, and ``asyncio.run`` closes any still alive when it ends. The stream starts one when it
    opens and closes it with itself.
    """
    try:
        yield
    finally:
        await response.aclose()
