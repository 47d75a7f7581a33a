"""One call on its way through the send loops: what its fallback hops rebuild, what an error frame as
its stream's first event re-sends from, and the one non-streaming call a stream may fall back to.

``meshapi._transport.client``'s loops hold the I/O; ``meshapi._transport.base`` decides hops; this
module keeps the state they share (:class:`Call`) and the small steps around it, without I/O.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Mapping, Optional

import httpx

from .._core.request import RequestOptions
from .._core.retry import RetryState
from .._errors import APIConnectionError, APIStatusError, MeshAPIError, StreamEventError
from .._resilience import Hops
from . import otel as _otel
from .capture import Capture, StopAfterResponse
from .reading import FirstEventRetry

__all__ = [
    "Blocking",
    "Call",
    "as_stream",
    "blocking_fits",
    "call_answered",
    "call_failed",
    "first_event_retried",
    "is_event_stream",
]


@dataclasses.dataclass
class Call:
    """One call on its way (all but a plain call's fast path): what its fallback hops rebuild, and what
    an error frame as its stream's first event sends the next attempt from (``reading.FirstEventRetry``).
    ``request`` and ``state`` are those of the latest attempt and hop."""

    method: str
    path: str
    body: Any
    params: Optional[Mapping[str, Any]]
    options: RequestOptions
    content: Optional[bytes]
    stream: bool
    capture: Optional[Capture]
    request: httpx.Request
    state: RetryState
    hops: Optional[Hops]
    span: Any
    limit: int  # max_response_bytes, for the first event's look


@dataclasses.dataclass
class Blocking:
    """The one non-streaming call a stream that could not be opened makes instead (its request and
    retry state); the chat resource's ``options.blocking_as_stream`` turns the reply into the stream."""

    request: httpx.Request
    state: RetryState


def as_stream(call: Call, reply: httpx.Response) -> httpx.Response:
    """The blocking ``reply`` (read) as the stream's response; its span ends when that is read."""
    response: httpx.Response = call.options.blocking_as_stream(reply)  # type: ignore[misc]
    if call.span is not None:
        _otel.watch_stream(call.span, response, call.state.retries)
    return response


def blocking_fits(call: Call, exc: MeshAPIError) -> bool:
    """Whether ``exc`` ended a stream that a non-streaming call may still answer: a transport failure,
    429 or 5xx, or an error frame as the first event (another 4xx would fail the same way)."""
    if not call.stream or call.options.blocking_as_stream is None or not isinstance(call.body, dict):
        return False
    if isinstance(exc, (APIConnectionError, StreamEventError)):
        return True
    return isinstance(exc, APIStatusError) and (exc.status == 429 or exc.status >= 500)


def is_event_stream(response: httpx.Response) -> bool:
    """Whether ``response`` is an SSE body (``text/event-stream``)."""
    return str(response.headers.get("content-type", "")).lower().startswith("text/event-stream")


def first_event_retried(
    call: Call, response: httpx.Response, resend: Callable[[StreamEventError], Any]
) -> httpx.Response:
    """``response``; a stream's body gets ``FirstEventRetry`` (``resend``: the send loop again).

    Under ``with_streaming_response`` an event stream is handed over here, with that stage on (its
    capture holds the response; ``StopAfterResponse`` stops the method), so its raw bytes get the same
    first-event retry as a typed stream's.
    """
    if call.stream:
        response.stream = FirstEventRetry(response, call.limit, resend)
        capture = call.capture
        if capture is not None and capture.mode == "stream" and is_event_stream(response):
            raise StopAfterResponse()
    return response


def call_failed(call: Call, exc: BaseException) -> None:
    if call.span is not None:
        _otel.failed(call.span, exc, call.capture, call.state.retries)


def call_answered(call: Call, response: httpx.Response) -> httpx.Response:
    """``response`` of ``call`` (its span ended, unless a stream's; the attempt that answered kept)."""
    if call.span is not None:
        _otel.ended(call.span, response, call.state.retries, call.stream)
    call.request = response.request
    return response
