"""Chat streaming: the chunk decoder and the chat stream objects.

Why it exists: it joins the chat-specific stages of the stream pipeline. ``ChatChunkDecoder`` turns one
SSE event into a ``ChatCompletionChunk``: frames of a learned plain-content shape are built without
parsing (``_chat_fast_path``, the decoder's fast case), every other frame goes through the one frame
decoder (``meshapi._core.frames``); each chunk is added to the pure ``ChatCompletionAccumulator``
(``chat_state``). ``ChatCompletionStream`` adds the chat helpers (``events()``, whose typed events come
from ``chat_events`` reading that same accumulator, ``get_final_completion()``, ...).
"""

from __future__ import annotations

import json
from typing import Any, AsyncIterator, Dict, Iterator, List, Optional, Type

import httpx
from pydantic import BaseModel

from .._core.frames import DONE, decode_frame, decode_item
from .._core.response import parse_json_response
from .._core.sse import ServerSentEvent
from .._core.stream import EventDecoder
from .._errors import APIResponseValidationError
from .._streaming import AsyncStream, Stream
from ..types.chat import ChatCompletionChunk, ChatCompletionResponse
from ._chat_fast_path import FAST_PATH, ContentShape, plain_content
from ._parsing import ResponseFormat, apply_parsed
from .chat_events import ChatEventState, ChatStreamEvent
from .chat_state import ChatCompletionAccumulator

__all__ = [
    "AsyncChatCompletionStream",
    "ChatChunkDecoder",
    "blocking_as_stream",
    "ChatCompletionAccumulator",
    "ChatCompletionStream",
]


_LEARN_ATTEMPTS = 4


class ChatChunkDecoder(EventDecoder[ChatCompletionChunk]):
    """Chat SSE: one ``ChatCompletionChunk`` per ``data:`` frame, ``[DONE]`` at the end.

    Stages, in order: a frame of the learned plain-content shape is built without parsing
    (``_chat_fast_path``); any other frame goes through the one frame decoder (``decode_item``:
    ``[DONE]``, error frames, validation); the chunk is added to ``accumulator``.
    """

    def __init__(
        self,
        response_format: Optional[ResponseFormat] = None,
        tools: Optional[Dict[str, Type[BaseModel]]] = None,
    ) -> None:
        super().__init__()
        self.accumulator = ChatCompletionAccumulator()
        self.response_format = response_format
        self.tools = tools or {}
        self._shape: Optional[ContentShape] = None
        self._learn_attempts = _LEARN_ATTEMPTS if FAST_PATH else 0

    def _learn(self, data: str, chunk: Optional[ChatCompletionChunk]) -> None:
        """Learn the content shape from ``data`` (already validated as ``chunk``, or not yet: the text
        path, which validates a few likely frames only)."""
        state = self.accumulator.choice(0)
        if state is None:
            return
        if chunk is None:
            self._learn_attempts -= 1
            try:
                chunk = ChatCompletionChunk.model_validate_json(data)
            except ValueError:
                return
        shape = self._shape = ContentShape.learn(data, chunk, state.content)
        if shape is not None:
            self.fast, self.fast_text = shape.decoder(self.accumulator), shape.text_decoder(self.accumulator)
        if (
            self._shape is None
            and chunk.choices
            and chunk.choices[0].delta
            and chunk.choices[0].delta.content
        ):
            # a content frame that does not qualify (escapes: JSON answers): stop trying after a few
            self._learn_attempts -= 1

    def decode(self, event: ServerSentEvent) -> Optional[ChatCompletionChunk]:
        fast = self.fast  # the learned shape's own decoder (``ContentShape.decoder``)
        if fast is not None:
            built = fast(event.data)
            if built is not None:
                return built
        data, shape = event.data, self._shape
        chunk = decode_item(event, ChatCompletionChunk, self.request_id, copy_event_name=False)
        if not isinstance(chunk, ChatCompletionChunk):  # None, or DONE
            if chunk is DONE:
                self.stop = self.complete = True
            return None
        self.accumulator.add(chunk)
        if shape is None and self._learn_attempts > 0:  # cheap here: the chunk is already validated
            self._learn(data, chunk)
        return chunk

    def decode_text(self, event: ServerSentEvent) -> Optional[str]:
        """The text-only path: parse the JSON, accumulate it, return choice 0's content."""
        data = event.data
        shape = self._shape
        if shape is not None:
            content = shape.content(data)
            if content is not None:
                self.accumulator.chunk_count += 1
                if content:
                    shape.text.add(content)
                    return content
                return None
        payload = decode_frame(event, self.request_id, copy_event_name=False)
        if not isinstance(payload, dict):
            if payload is DONE:
                self.stop = self.complete = True
            return None
        if not isinstance(payload.get("choices", []), list):
            raise APIResponseValidationError(
                f"A stream frame is not a chat completion chunk: {data[:200]!r}", request_id=self.request_id
            )
        self.accumulator.add_raw(payload)
        if shape is None and self._learn_attempts > 0 and plain_content(payload):
            self._learn(data, None)
        for choice in payload.get("choices") or ():
            if choice.get("index", 0) == 0:
                delta = choice.get("delta")
                return (delta.get("content") or None) if delta else None
        return None

    def text(self, item: ChatCompletionChunk) -> Optional[str]:
        for choice in item.choices:
            if choice.index == 0 and choice.delta is not None:
                return choice.delta.content
        return None

    def final(self, *, parse: bool = True) -> ChatCompletionResponse:
        """The merged completion; with ``parse``, its ``parsed`` / ``parsed_arguments`` filled in."""
        completion = self.accumulator.completion()
        if parse and (self.response_format is not None or self.tools):
            apply_parsed(completion, self.response_format, self.tools)
        return completion

    def partial(self) -> Optional[ChatCompletionResponse]:
        """The completion so far (not parsed) once a chunk arrived, for ``StreamInterruptedError.partial``."""
        return self.final(parse=False) if self.accumulator.chunk_count else None

    def event_state(self) -> ChatEventState:
        return ChatEventState(self.accumulator, self.response_format, self.tools)


_NOT_COPIED = ("content-type", "content-length", "content-encoding", "transfer-encoding")


def blocking_as_stream(reply: httpx.Response) -> httpx.Response:
    """A non-streaming chat reply (read) as the event stream a streamed answer would have been: one chunk
    per choice carrying its whole message (tool calls with their ``index``), the usage tail, ``[DONE]``.

    Used by ``stream_fallback_to_blocking`` (``meshapi._transport.calls``): the stream's own decoder
    reads it, so the caller gets the same items, events and final completion. The reply's headers
    (request id, routing) are kept.
    """
    completion = parse_json_response(reply)
    head: Dict[str, Any] = {"object": "chat.completion.chunk"}
    for key in ("id", "created", "model", "system_fingerprint", "service_tier"):
        if completion.get(key) is not None:
            head[key] = completion[key]
    frames: List[Dict[str, Any]] = []
    for choice in completion.get("choices") or ():
        message = choice.get("message") or {}
        delta = {k: v for k, v in message.items() if v is not None and k != "tool_calls"}
        calls = message.get("tool_calls")
        if calls:
            delta["tool_calls"] = [{**call, "index": i} for i, call in enumerate(calls)]
        finish = choice.get("finish_reason")
        frames.append(
            {**head, "choices": [{"index": choice.get("index", 0), "delta": delta, "finish_reason": finish}]}
        )
    tail = {k: completion[k] for k in ("usage", "cost") if completion.get(k) is not None}
    if tail:
        frames.append({**head, "choices": [], **tail})
    body = b"".join(b"data: " + json.dumps(f).encode("utf-8") + b"\n\n" for f in frames) + b"data: [DONE]\n\n"
    headers = [(k, v) for k, v in reply.headers.items() if k.lower() not in _NOT_COPIED]
    headers.append(("content-type", "text/event-stream"))
    return httpx.Response(reply.status_code, headers=headers, content=body, request=reply.request)


class ChatCompletionStream(Stream[ChatCompletionChunk]):
    """The stream of ``chat.completions.stream()`` (and ``create(stream=True)``).

    Iterate chunks (as 0.1.4), or ``events()`` for typed events (``lib/chat_events.py``), or
    ``text_stream`` for the text of choice 0. ``get_final_completion()`` consumes the rest and returns the
    merged ``ChatCompletionResponse`` (with ``message.parsed`` when a ``response_format`` type was given),
    ``get_final_text()`` its text; ``current_completion_snapshot`` is the merge so far (not parsed).
    """

    _decoder: ChatChunkDecoder

    def events(self) -> Iterator[ChatStreamEvent]:
        """Typed events for the rest of the stream (``chunk``, ``content.delta``, ... ``*.done``)."""
        state = self._decoder.event_state()
        for chunk in self:
            yield from state.handle(chunk)
        yield from state.finish()

    def get_final_completion(self) -> ChatCompletionResponse:
        self.until_done()
        return self._decoder.final()

    get_final = get_final_response = get_final_completion

    def get_final_text(self, index: int = 0) -> str:
        self.until_done()
        return self._decoder.accumulator.text(index)

    @property
    def current_completion_snapshot(self) -> ChatCompletionResponse:
        return self._decoder.final(parse=False)


class AsyncChatCompletionStream(AsyncStream[ChatCompletionChunk]):
    """Asyncio twin of :class:`ChatCompletionStream`."""

    _decoder: ChatChunkDecoder

    async def events(self) -> AsyncIterator[ChatStreamEvent]:
        """Typed events for the rest of the stream (``chunk``, ``content.delta``, ... ``*.done``)."""
        state = self._decoder.event_state()
        async for chunk in self:
            for event in state.handle(chunk):
                yield event
        for event in state.finish():
            yield event

    async def get_final_completion(self) -> ChatCompletionResponse:
        await self.until_done()
        return self._decoder.final()

    get_final = get_final_response = get_final_completion

    async def get_final_text(self, index: int = 0) -> str:
        await self.until_done()
        return self._decoder.accumulator.text(index)

    @property
    def current_completion_snapshot(self) -> ChatCompletionResponse:
        return self._decoder.final(parse=False)
