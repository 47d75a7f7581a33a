"""The pure core of a typed SSE stream: bytes in, items out, and the rules for how a stream may end.

Why it exists: ``Stream`` and ``AsyncStream`` (``meshapi._streaming``) are twins that differ only in how
they read bytes; everything they decide is here, once, with no I/O, so it can be tested by cutting a
transcript at every byte. The stages, in order:

1. :class:`~meshapi._core.sse.SSEDecoder` (bytes -> events), each line and event under the cap the
   stream was given (``max_event_bytes``: the client's ``max_response_bytes``);
2. the endpoint's :class:`EventDecoder` (event -> item): its ``decode`` runs the one frame decoder
   (``meshapi._core.frames``) and feeds the endpoint's pure accumulator;
3. the end-of-stream rules of :class:`StreamCore`: stop at the end marker, and a stream that ends
   before it is ``StreamInterruptedError``.

Foreign exceptions (httpx, an event past the cap, JSON nested past the stack) are mapped by the
loops' one ``with foreign_errors(decoder):`` (``meshapi._core.response``).
"""

from __future__ import annotations

from typing import Any, Callable, Generic, Iterator, Optional, TypeVar

import httpx

from .._errors import APIResponseValidationError, MeshAPIError, StreamEventError
from .frames import decode_frame
from .response import stream_interrupted
from .sse import ServerSentEvent, SSEDecoder, SSELimitError

__all__ = ["EventDecoder", "FirstEventProbe", "StreamCore", "not_an_event_stream"]

T = TypeVar("T")


class EventDecoder(Generic[T]):
    """Turns SSE events of one endpoint into items. Pure; subclasses override :meth:`decode`.

    ``stop``: the end marker was seen, stop reading now. ``complete``: the stream may end here without
    being considered cut. ``request_id`` is set by the stream once the response headers arrived;
    ``count`` is the number of items delivered (with ``end_marker``, what the stream's errors say).
    """

    stop: bool = False
    complete: bool = False
    end_marker: str = "[DONE]"
    #: Optional fast cases the stream tries first for a plain event (data only), given its data string:
    #: ``fast`` returns the item, ``fast_text`` the non-empty text ``decode_text`` would return, and
    #: both ``None`` for "not mine" (the event then takes ``decode`` / ``decode_text``); what they
    #: return they have accumulated. A decoder sets them once it has learned a frame shape.
    fast: Optional[Callable[[str], Optional[T]]] = None
    fast_text: Optional[Callable[[str], Optional[str]]] = None

    def __init__(self) -> None:
        self.request_id = ""
        self.count = 0

    def decode(self, event: ServerSentEvent) -> Optional[T]:
        raise NotImplementedError

    def text(self, item: T) -> Optional[str]:
        """The text an item adds (for ``text_stream``); ``None`` when it adds none."""
        return None

    def decode_text(self, event: ServerSentEvent) -> Optional[str]:
        """The text an event adds, for ``text_stream``; decoders may override it with a faster path
        that skips building the item (it must still accumulate and detect errors and the end)."""
        item = self.decode(event)
        return (self.text(item) or None) if item is not None else None

    def partial(self) -> Any:
        """What the stream accumulated so far, typed, for a ``StreamInterruptedError`` (``None``: nothing)."""
        return None

    def final(self) -> Any:
        """The accumulated result after the stream ended."""
        raise NotImplementedError(f"{type(self).__name__} does not accumulate a final result")


class StreamCore:
    """The pure part of reading one SSE response: bytes in, items out, end-of-stream rules.

    ``feed(chunk)`` yields the items of the events completed by ``chunk`` (stop reading once
    ``stopped``); ``finish()`` yields what the last, unterminated event held and raises
    ``StreamInterruptedError`` when the endpoint's end marker never came. With ``text`` it yields what
    the decoder's ``decode_text`` returns (``text_stream``), else its items (``decode``); a plain event
    goes to the decoder's fast case first (``fast`` / ``fast_text``). No I/O: the sync and async loops
    only move bytes into it.
    """

    __slots__ = ("_decode", "_sse", "_text", "decoder")

    def __init__(
        self, decoder: EventDecoder[Any], text: bool = False, max_event_bytes: Optional[int] = None
    ) -> None:
        self.decoder = decoder
        self._text = text
        self._decode: Callable[[ServerSentEvent], Any] = decoder.decode_text if text else decoder.decode
        self._sse = SSEDecoder(max_line_bytes=max_event_bytes, max_event_bytes=max_event_bytes)

    @property
    def stopped(self) -> bool:
        return self.decoder.stop

    def feed(self, chunk: bytes) -> Iterator[Any]:
        decoder, decode, text = self.decoder, self._decode, self._text
        fast = decoder.fast_text if text else decoder.fast
        for event in self._sse.feed_data(chunk):
            if isinstance(event, str):
                if fast is not None:
                    item = fast(event)
                    if item is not None:  # a fast case never ends the stream
                        decoder.count += 1
                        yield item
                        continue
                event = ServerSentEvent(event)
            item = decode(event)
            if item is not None:
                decoder.count += 1
                yield item
            if decoder.stop:
                return
            fast = decoder.fast_text if text else decoder.fast

    def finish(self) -> Iterator[Any]:
        decoder = self.decoder
        for event in self._sse.flush():
            try:
                item = self._decode(event)
            except APIResponseValidationError as exc:
                # the connection ended inside this event: what arrived is a fragment
                raise stream_interrupted(decoder, "the stream ended inside an event") from exc
            if item is not None:
                decoder.count += 1
                yield item
            if decoder.stop:
                return
        if not decoder.complete:
            raise stream_interrupted(decoder, "the stream ended early")


class FirstEventProbe:
    """What a stream's first event is, fed the stream's first chunks before anything reaches the caller.

    ``decided`` turns true once an event with data has arrived (or the bytes cannot be events: past the
    cap); ``error`` is then that event's in-band error (``StreamEventError``) when it is the stream's,
    else ``None`` (a compare item's error, string or object, next to its ``model``, is that model's).
    A malformed first frame is not judged here: the stream reports it where it is read. Pure: the
    transport feeds it (``meshapi._transport.reading``).
    """

    __slots__ = ("_sse", "decided", "error", "request_id")

    def __init__(self, request_id: str, max_event_bytes: Optional[int] = None) -> None:
        self._sse = SSEDecoder(max_line_bytes=max_event_bytes, max_event_bytes=max_event_bytes)
        self.request_id = request_id
        self.decided = False
        self.error: Optional[StreamEventError] = None

    def feed(self, chunk: bytes) -> None:
        try:
            events = self._sse.feed(chunk)
        except SSELimitError:
            self.decided = True
            return
        for event in events:
            if not event.data.strip():
                continue
            self.decided = True
            try:
                decode_frame(event, self.request_id, string_errors_fatal=False, copy_event_name=False)
            except StreamEventError as exc:
                if not (isinstance(exc.body, dict) and "model" in exc.body):  # not one compare model's
                    self.error = exc
            except (MeshAPIError, RecursionError):
                pass  # not an error frame: the stream's own decoder raises what it is
            return


def not_an_event_stream(response: httpx.Response) -> Optional[APIResponseValidationError]:
    """The error for a 2xx answer to a stream request that is not SSE (e.g. a proxy's HTML page).

    Without this the body would be parsed as SSE, find no event and end as "interrupted", which
    points at the network instead of at what the gateway sent. A missing content type is tolerated.
    """
    content_type = response.headers.get("content-type")
    if content_type is None:
        return None
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "text/event-stream":
        return None
    return APIResponseValidationError(
        f"Expected an event stream (text/event-stream) but the gateway answered "
        f"{response.status_code} with content type {media!r}.",
        status=response.status_code,
        request_id=response.headers.get("x-request-id", ""),
        response=response,
    )
