"""A push-style Server-Sent Events decoder: bytes in, events out, no I/O.

Bytes are split into lines *before* UTF-8 decoding, so a multi-byte character cut across two network
chunks survives. Lines end with LF, CRLF or a lone CR (a CR at the end of one chunk followed by LF at the
start of the next is one line end). Fields follow the WHATWG rules: ``data`` (the space after the colon is
optional, several lines are joined with ``\\n``), ``event``, ``id``, ``retry``, comments (``:`` lines)
ignored, a leading BOM dropped. Unlike a browser, the last event is delivered by :meth:`SSEDecoder.flush`
even when the stream ends without a blank line, so nothing is silently lost.

Memory is bounded: one line (``max_line_bytes``) and the data of one event (``max_event_bytes``)
may each hold at most :data:`DEFAULT_MAX_EVENT_BYTES` (64 MiB) unless configured otherwise; past
either, :meth:`SSEDecoder.feed` raises :class:`SSELimitError` (a ``ValueError``) before buffering
more, so a stream that never ends its line cannot grow without end. The stream layer turns it into
the typed ``meshapi.ResponseTooLargeError``. A ``retry:`` value longer than 18 digits is ignored.

``iter_sse`` / ``aiter_sse`` are the thin loops that drive the decoder from any byte iterator.
"""

from __future__ import annotations

from typing import Any, AsyncIterable, AsyncIterator, Iterable, Iterator, List, Optional, Union

__all__ = [
    "DEFAULT_MAX_EVENT_BYTES",
    "SSEDecoder",
    "SSELimitError",
    "ServerSentEvent",
    "aiter_sse",
    "iter_sse",
]

_BOM = b"\xef\xbb\xbf"
_BIG_LINE = 1 << 16
_PLAIN_BUFFER = 1 << 18  # a buffer up to this size is first cut at blank lines (SSEDecoder._feed_plain)
_RETRY_DIGITS = 18

#: Default cap on one SSE line and on the data of one event, in bytes (64 MiB).
DEFAULT_MAX_EVENT_BYTES = 64 * 1024 * 1024


class SSELimitError(ValueError):
    """One line, or the data of one event, is longer than the decoder's limit."""

    def __init__(self, message: str, limit: int) -> None:
        super().__init__(message)
        self.limit = limit


class ServerSentEvent:
    """One dispatched event. ``event`` is ``None`` when the stream gave no ``event:`` field."""

    __slots__ = ("data", "event", "id", "retry")

    def __init__(
        self,
        data: str = "",
        event: Optional[str] = None,
        id: Optional[str] = None,
        retry: Optional[int] = None,
    ) -> None:
        self.data = data
        self.event = event
        self.id = id
        self.retry = retry

    def __repr__(self) -> str:
        return (
            f"ServerSentEvent(event={self.event!r}, data={self.data!r}, id={self.id!r}, retry={self.retry!r})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ServerSentEvent):
            return NotImplemented
        return (self.data, self.event, self.id, self.retry) == (
            other.data,
            other.event,
            other.id,
            other.retry,
        )

    __hash__ = None  # type: ignore[assignment]


class SSEDecoder:
    """Feed bytes with :meth:`feed`, call :meth:`flush` once at end of stream."""

    __slots__ = (
        "_data",
        "_data_size",
        "_event",
        "_last_id",
        "_parts",
        "_pending",
        "_retry",
        "_skip_lf",
        "_started",
        "max_event_bytes",
        "max_line_bytes",
    )

    def __init__(
        self, *, max_line_bytes: Optional[int] = None, max_event_bytes: Optional[int] = None
    ) -> None:
        #: Longest line / most data in one event (bytes); ``None`` means the 64 MiB default.
        self.max_line_bytes = DEFAULT_MAX_EVENT_BYTES if max_line_bytes is None else max_line_bytes
        self.max_event_bytes = DEFAULT_MAX_EVENT_BYTES if max_event_bytes is None else max_event_bytes
        self._pending = 0  # bytes in self._parts
        self._data_size = 0  # bytes of data lines in the current event
        # The pieces of an incomplete line (none contains CR or LF). They are joined only once the line
        # ends, so a huge line arriving in many chunks costs linear time, not a re-copy per chunk.
        self._parts: List[bytes] = []
        self._skip_lf = False  # the previous chunk ended with CR: a leading LF is part of that line end
        self._started = False  # the BOM check has been done
        self._data: List[str] = []
        self._event: Optional[str] = None
        self._last_id: Optional[str] = None
        self._retry: Optional[int] = None

    def feed(self, chunk: bytes) -> List[ServerSentEvent]:
        """Decode ``chunk`` and return the events it completed (often none or one)."""
        return [ServerSentEvent(e) if isinstance(e, str) else e for e in self.feed_data(chunk)]

    def feed_data(self, chunk: bytes) -> List[Union[str, ServerSentEvent]]:
        """:meth:`feed`, where a plain event (its data alone: no type, id or retry) may come as its data
        string instead of a ``ServerSentEvent`` (``ServerSentEvent(data)`` is that event). The stream
        loop takes this form: a long stream is mostly such events, and it skips an object per event.
        """
        if self._skip_lf:
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        if not chunk:
            return []
        if not self._started:
            chunk = b"".join(self._parts) + chunk  # at most two bytes are waiting here
            self._parts = []
            if len(chunk) < 3 and _BOM.startswith(chunk):
                self._parts.append(chunk)  # wait: this may be the start of a BOM
                return []
            self._started = True
            if chunk.startswith(_BOM):
                chunk = chunk[3:]
        if b"\n" not in chunk and b"\r" not in chunk:
            if chunk:
                self._pending += len(chunk)
                if self._pending > self.max_line_bytes:
                    raise self._fail("one line", self.max_line_bytes)
                self._parts.append(chunk)  # still inside one line
            return []
        if self._parts:
            self._parts.append(chunk)
            buffer = b"".join(self._parts)
        else:
            buffer = chunk
        if b"\r" in buffer:
            self._skip_lf = buffer.endswith(b"\r")
            buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        events: List[Union[str, ServerSentEvent]] = []
        if (
            not self._data
            and self._event is None
            and len(buffer) <= _PLAIN_BUFFER
            and buffer[:6] == b"data: "
        ):
            buffer = self._feed_plain(buffer, events)
        lines = buffer.split(b"\n")
        del buffer
        rest = lines.pop()
        self._parts = [rest] if rest else []
        self._pending = len(rest)
        data = self._data
        line_limit, event_limit = self.max_line_bytes, self.max_event_bytes
        for line in lines:  # blank and data lines inline: nearly every line of a stream is one of them
            if not line:
                if data:
                    events.append(ServerSentEvent("\n".join(data), self._event, self._last_id, self._retry))
                    data = self._data = []
                    self._data_size = 0
                self._event = None
            elif line.startswith(b"data:"):
                if len(line) > line_limit:
                    raise self._fail("one line", line_limit)
                self._data_size += len(line)
                if self._data_size > event_limit:
                    raise self._fail("the data of one event", event_limit)
                start = 6 if line[5:6] == b" " else 5
                if len(line) > _BIG_LINE:  # decode in place instead of copying a huge value first
                    data.append(str(memoryview(line)[start:], "utf-8", "replace"))
                else:
                    data.append(line[start:].decode("utf-8", "replace"))
            else:
                if len(line) > line_limit:
                    raise self._fail("one line", line_limit)
                self._process_line(line, events)
                data = self._data
        if self._pending > line_limit:
            raise self._fail("one line", line_limit)
        return events

    def _feed_plain(self, buffer: bytes, events: List[Union[str, ServerSentEvent]]) -> bytes:
        """The usual case, at once: ``buffer`` holds whole events that are one ``data: `` line each.

        Called between events (no data, no event type pending) with a buffer that starts with
        ``data: ``. The complete events (up to the last blank line) are decoded in one step and split
        at ``\n\ndata: ``; when that gives every line break there is (two per event: no other line in
        any of them) and the buffer is within the limits, those events go to ``events`` and the
        incomplete rest is returned for the line-by-line path; else ``buffer`` is returned whole, for
        that path. The events are the ones that path would build: the same data, no type, the id and
        retry so far; with no id or retry so far they are their data strings (line breaks are ASCII, so
        decoding the whole and decoding each line give the same text).
        """
        if len(buffer) > self.max_line_bytes or len(buffer) > self.max_event_bytes:
            return buffer
        cut = buffer.rfind(b"\n\n") + 2  # the end of the last complete event
        if cut < 2:
            return buffer
        text = (buffer if cut == len(buffer) else buffer[:cut]).decode("utf-8", "replace")
        datas = text[6:-2].split("\n\ndata: ")
        if text.count("\n") != 2 * len(datas):  # a line break inside an event: not one line each
            return buffer
        last_id, retry = self._last_id, self._retry
        if last_id is None and retry is None:
            events.extend(datas)
        else:
            events.extend([ServerSentEvent(data, None, last_id, retry) for data in datas])
        return buffer[cut:]

    def _fail(self, what: str, limit: int) -> SSELimitError:
        """Drop what is buffered (the decoder is unusable afterwards) and build the error."""
        self._parts = []
        self._data = []
        self._pending = self._data_size = 0
        return _too_long(what, limit)

    def flush(self) -> List[ServerSentEvent]:
        """End of stream: deliver a last line and event that had no terminating blank line."""
        events: List[ServerSentEvent] = []
        if self._parts:
            line = b"".join(self._parts)
            self._parts = []
            self._pending = 0
            if not self._started and line.startswith(_BOM):
                line = line[3:]
            self._process_line(line, events)
        self._started = True
        self._process_line(b"", events)
        return events

    def _process_line(self, line: bytes, events: List[Any]) -> None:
        if not line:
            if self._data:
                events.append(ServerSentEvent("\n".join(self._data), self._event, self._last_id, self._retry))
            self._data = []
            self._data_size = 0
            self._event = None
            return
        if line.startswith(b"data:"):  # the hot path: nearly every line of a stream
            self._data_size += len(line)
            if self._data_size > self.max_event_bytes:
                raise self._fail("the data of one event", self.max_event_bytes)
            value = line[5:]
            if value[:1] == b" ":
                value = value[1:]
            self._data.append(value.decode("utf-8", "replace"))
            return
        if line[:1] == b":":
            return  # comment / keep-alive
        field, sep, value = line.partition(b":")
        if sep and value[:1] == b" ":
            value = value[1:]
        if field == b"event":
            self._event = value.decode("utf-8", "replace")
        elif field == b"data":  # "data" with no colon: an empty data line
            self._data.append("")
        elif field == b"id" and b"\x00" not in value:
            self._last_id = value.decode("utf-8", "replace")
        elif field == b"retry" and 0 < len(value) <= _RETRY_DIGITS and value.isdigit():
            self._retry = int(value)  # ASCII digits only (bytes.isdigit); absurd lengths ignored
        # any other field name is ignored, as the specification requires


def _too_long(what: str, limit: int) -> SSELimitError:
    return SSELimitError(f"the event stream sent {what} longer than the {limit}-byte limit", limit)


def iter_sse(chunks: Iterable[bytes], max_event_bytes: Optional[int] = None) -> Iterator[ServerSentEvent]:
    """Events from a byte iterator, including a last event not followed by a blank line.

    ``max_event_bytes`` caps one line and one event's data (``None``: the 64 MiB default).
    """
    decoder = SSEDecoder(max_line_bytes=max_event_bytes, max_event_bytes=max_event_bytes)
    for chunk in chunks:
        yield from decoder.feed(chunk)
    yield from decoder.flush()


async def aiter_sse(
    chunks: AsyncIterable[bytes], max_event_bytes: Optional[int] = None
) -> AsyncIterator[ServerSentEvent]:
    """Async twin of :func:`iter_sse`."""
    decoder = SSEDecoder(max_line_bytes=max_event_bytes, max_event_bytes=max_event_bytes)
    async for chunk in chunks:
        for event in decoder.feed(chunk):
            yield event
    for event in decoder.flush():
        yield event
