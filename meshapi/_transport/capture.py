"""What ``with_raw_response`` / ``with_streaming_response`` share with the send loops.

The proxies (``meshapi._response``) put a ``Capture`` in ``CAPTURE`` for the length of one method call;
the send loop fills it in (the last response, the retries it took) or, in ``stream`` mode, stops the
method with ``StopAfterResponse`` once the headers arrived. A context variable, so concurrent calls on
one client (threads, tasks) never see each other's capture. ``Spending`` is the other per-call switch
the send loops read before any I/O: whether a spend watch can exist (``meshapi._transport.spend``).
"""

from __future__ import annotations

import contextvars
from typing import Any, Optional

import httpx

__all__ = ["CAPTURE", "Capture", "Spending", "StopAfterResponse", "replayed"]


class Capture:
    """Filled by the send loop while a ``with_raw_response`` / ``with_streaming_response`` call runs.

    ``mode``: ``"raw"`` records the last response; ``"stream"`` sends the first request as a stream,
    records it unread and stops the method (``StopAfterResponse``); ``"replay"`` hands the recorded
    (now read) response to the method's first request instead of sending it again.
    """

    __slots__ = ("elapsed", "mode", "response", "retries")

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.response: Optional[httpx.Response] = None
        self.retries = 0
        self.elapsed = 0.0


class StopAfterResponse(BaseException):
    """Raised by the send loop in ``stream`` capture mode once the response headers arrived.

    A ``BaseException`` so no resource's ``except Exception`` swallows it; only the proxy catches it.
    """


CAPTURE: contextvars.ContextVar[Optional[Capture]] = contextvars.ContextVar("meshapi_capture", default=None)


def replayed(capture: Optional[Capture]) -> Optional[httpx.Response]:
    """The recorded response a ``with_streaming_response`` ``parse()`` hands back to the method."""
    if capture is None or capture.mode != "replay" or capture.response is None:
        return None
    response, capture.response, capture.mode = capture.response, None, "done"
    return response


class Spending:
    """The spend watch's switch: ``module`` is ``meshapi._transport.spend`` once this process has made a
    tracker or a client with a budget (importing ``spend`` sets it), else ``None``. Until then a call asks
    this one attribute and neither ``spend`` nor the budget and usage modules behind it are imported."""

    module: Any = None
