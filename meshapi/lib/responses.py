"""Responses-API streaming: the event decoder, the accumulator and the stream objects.

The gateway relays the provider's event stream verbatim: each SSE event has an ``event:`` line and a
``data:`` JSON object repeating the name in ``type``. Items are ``ResponsesStreamEvent`` with ``event``
copied from the ``event:`` line (as 0.1.4 did). The stream is complete at ``data: [DONE]`` or, since
OpenAI-style streams end without it, at end of stream after a terminal event (``response.completed``,
``response.failed``, ``response.incomplete``). An ``error`` event, or any frame whose JSON has a
non-null top-level ``error``, raises ``StreamEventError`` (code, message, request id, provider error).

``ResponsesAccumulator`` (pure, public) collects the ``response.output_text.delta`` texts and the final
``ResponsesResponse`` carried by the terminal event; when a stream breaks after content,
``StreamInterruptedError.partial`` is its :meth:`~ResponsesAccumulator.partial`, the response so far.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from .._core.frames import DONE, decode_item
from .._core.sse import ServerSentEvent
from .._core.stream import EventDecoder
from .._streaming import AsyncStream, Stream
from ..types.responses import ResponsesResponse, ResponsesStreamEvent, ResponsesUsage
from ._text import TextBuffer

__all__ = [
    "TERMINAL_RESPONSE_EVENTS",
    "event_kind",
    "AsyncResponsesStream",
    "ResponsesAccumulator",
    "ResponsesEventDecoder",
    "ResponsesStream",
]

TERMINAL_RESPONSE_EVENTS = frozenset({"response.completed", "response.failed", "response.incomplete"})
_TEXT_DELTA = "response.output_text.delta"


def event_kind(event: ResponsesStreamEvent) -> Optional[str]:
    """The event's ``type``, else its SSE event name."""
    if event.type:
        return event.type
    name = getattr(event, "event", None)
    return name if isinstance(name, str) else None


class ResponsesAccumulator:
    """Feed events with :meth:`add`; read ``output_text`` and :meth:`response` at any time."""

    def __init__(self) -> None:
        self._text = TextBuffer()
        self._response: Optional[Dict[str, Any]] = None
        self._usage: Optional[ResponsesUsage] = None
        self.terminal_event: Optional[str] = None
        self.event_count = 0

    def add(self, event: ResponsesStreamEvent) -> None:
        self.event_count += 1
        kind = event_kind(event)
        if kind == _TEXT_DELTA:
            delta = getattr(event, "delta", None)
            if isinstance(delta, str):
                self._text.add(delta)
        if event.response is not None:
            self._response = event.response
        if event.usage is not None:
            self._usage = event.usage
        if kind in TERMINAL_RESPONSE_EVENTS:
            self.terminal_event = kind

    @property
    def output_text(self) -> str:
        """The text of every ``response.output_text.delta`` so far (or, when the stream sent no deltas,
        the ``output_text`` parts of the final response)."""
        if self._text:
            return self._text.value()
        if self._response is not None:
            return self.response().output_text
        return ""

    @property
    def completed(self) -> bool:
        return self.terminal_event == "response.completed"

    def response(self) -> ResponsesResponse:
        """The latest ``response`` object of the stream (the final one after a terminal event).

        When no event carried a response object, one is built from the streamed text. A top-level
        ``usage`` frame (sent by some upstreams) fills ``usage`` when the response has none.
        """
        if self._response is not None:
            data = dict(self._response)
        else:
            text = self._text.value()
            output = [
                {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": text}]}
            ]
            data = {"object": "response", "output": output if text else []}
        if data.get("usage") is None and self._usage is not None:
            data["usage"] = self._usage.model_dump(exclude_none=True)
        return ResponsesResponse.model_validate(data)

    def partial(self) -> Optional[ResponsesResponse]:
        """The response so far (``None`` before the first event): the latest response object (its
        ``status`` as the stream last said, e.g. ``in_progress``) holding the text streamed so far."""
        if not self.event_count:
            return None
        response = self.response()
        text = self._text.value()
        if not text or response.output_text == text:
            return response
        data = response.model_dump(exclude_unset=True)
        output = [item for item in data.get("output") or [] if item.get("type") != "message"]
        message = {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": text}]}
        data["output"] = [*output, message]
        return ResponsesResponse.model_validate(data)


class ResponsesEventDecoder(EventDecoder[ResponsesStreamEvent]):
    """Responses SSE: one ``ResponsesStreamEvent`` per frame; ``[DONE]`` or a terminal event ends it."""

    end_marker = "[DONE] or terminal response event"

    def __init__(self) -> None:
        super().__init__()
        self.accumulator = ResponsesAccumulator()

    def decode(self, event: ServerSentEvent) -> Optional[ResponsesStreamEvent]:
        item = decode_item(event, ResponsesStreamEvent, self.request_id)
        if not isinstance(item, ResponsesStreamEvent):  # None, or DONE
            if item is DONE:
                self.stop = self.complete = True
            return None
        self.accumulator.add(item)
        if event_kind(item) in TERMINAL_RESPONSE_EVENTS:
            self.complete = True
        return item

    def text(self, item: ResponsesStreamEvent) -> Optional[str]:
        if event_kind(item) == _TEXT_DELTA:
            delta = getattr(item, "delta", None)
            return delta if isinstance(delta, str) else None
        return None

    def final(self) -> ResponsesResponse:
        return self.accumulator.response()

    def partial(self) -> Optional[ResponsesResponse]:
        return self.accumulator.partial()


class ResponsesStream(Stream[ResponsesStreamEvent]):
    """The stream of ``responses.stream()``: iterate ``ResponsesStreamEvent`` items, or use the helpers.

    ``text_stream`` yields the ``response.output_text.delta`` texts; ``get_final_response()`` (also
    ``get_final()``) consumes the rest and returns the final ``ResponsesResponse``;
    ``get_final_text()`` (also ``get_output_text()``) the whole streamed text; ``accumulator`` is the
    state so far.
    """

    _decoder: ResponsesEventDecoder

    @property
    def accumulator(self) -> ResponsesAccumulator:
        return self._decoder.accumulator

    def get_final_response(self) -> ResponsesResponse:
        self.until_done()
        return self._decoder.final()

    def get_final_text(self) -> str:
        """Consume the rest and return the whole streamed text."""
        self.until_done()
        return self._decoder.accumulator.output_text

    get_final = get_final_response
    get_output_text = get_final_text  # the name before the get_final_* scheme


class AsyncResponsesStream(AsyncStream[ResponsesStreamEvent]):
    """Asyncio twin of :class:`ResponsesStream`."""

    _decoder: ResponsesEventDecoder

    @property
    def accumulator(self) -> ResponsesAccumulator:
        return self._decoder.accumulator

    async def get_final_response(self) -> ResponsesResponse:
        await self.until_done()
        return self._decoder.final()

    async def get_final_text(self) -> str:
        """Consume the rest and return the whole streamed text."""
        await self.until_done()
        return self._decoder.accumulator.output_text

    get_final = get_final_response
    get_output_text = get_final_text  # the name before the get_final_* scheme
