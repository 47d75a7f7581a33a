"""Time limits applied to what is read: ``total_timeout`` on bodies and a stream's first event, and
the read ``timeout`` on the gaps between a stream's events.

The rules are ``meshapi._core.timeouts``; this module puts them on the byte streams httpx reads. Each
read is already bounded by the per-read timeout; these wrappers add the bounds on top, checked as
chunks arrive, so a server that drips a byte (or a ``: ping`` comment) every few seconds cannot hold a
call forever. Running out raises ``httpx.ReadTimeout``: the send loop turns it into the
``total_timeout`` error, a typed stream into its ``StreamInterruptedError`` (``error_code`` ``total_timeout``
for a first event the deadline did not see: ``FirstEventTimeout``; ``StreamIdleTimeoutError`` for a gap).
"""

from __future__ import annotations

import time
from typing import Any, AsyncIterator, Iterator

import httpx

from .._core.retry import RetryState
from .._core.timeouts import EventGap, EventGapTimeout, FirstEventTimeout, before_first_event

__all__ = ["EventGaps", "FirstEventDeadline", "aiter_within", "iter_within"]


class FirstEventDeadline(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A streamed body that must deliver its first event (a ``data:`` line) before the deadline.

    Comments and keep-alive bytes do not count; after the first event only the per-read timeout
    bounds the gaps.
    """

    def __init__(self, inner: Any, state: RetryState) -> None:
        self._inner = inner
        self._state = state

    def _check(self, chunk: bytes, waiting: bool) -> bool:
        if not waiting or not before_first_event(chunk):
            return False
        if not self._state.remaining():
            raise FirstEventTimeout("total_timeout: no event before the deadline")
        return True

    def _timed_out(self, exc: httpx.ReadTimeout, waiting: bool) -> BaseException:
        """A read that timed out while waiting for the first event, with the deadline gone: that."""
        return FirstEventTimeout(str(exc)) if waiting and not self._state.remaining() else exc

    def __iter__(self) -> Iterator[bytes]:
        waiting = True
        try:
            for chunk in self._inner:
                waiting = self._check(chunk, waiting)
                yield chunk
        except httpx.ReadTimeout as exc:
            raise self._timed_out(exc, waiting) from None

    async def __aiter__(self) -> AsyncIterator[bytes]:
        waiting = True
        try:
            async for chunk in self._inner:
                waiting = self._check(chunk, waiting)
                yield chunk
        except httpx.ReadTimeout as exc:
            raise self._timed_out(exc, waiting) from None

    def close(self) -> None:
        self._inner.close()

    async def aclose(self) -> None:
        await self._inner.aclose()


class EventGaps(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A streamed body whose events may be at most ``limit`` seconds apart (``EventGap``: comments and
    blank keep-alive lines do not count), from the moment the response arrived. A read that timed out
    after waiting that long is the same gap (``EventGap.silent``); ``name`` is the setting the limit is."""

    def __init__(self, inner: Any, limit: float, name: str = "read timeout") -> None:
        self._inner = inner
        self._gap = EventGap(limit, time.monotonic(), name)

    def _timed_out(self, exc: httpx.ReadTimeout) -> BaseException:
        return exc if isinstance(exc, EventGapTimeout) else (self._gap.silent(time.monotonic()) or exc)

    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in self._inner:
                self._gap.feed(chunk, time.monotonic())
                yield chunk
        except httpx.ReadTimeout as exc:
            raise self._timed_out(exc) from None

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._inner:
                self._gap.feed(chunk, time.monotonic())
                yield chunk
        except httpx.ReadTimeout as exc:
            raise self._timed_out(exc) from None

    def close(self) -> None:
        self._inner.close()

    async def aclose(self) -> None:
        await self._inner.aclose()


def iter_within(chunks: Iterator[bytes], state: RetryState) -> Iterator[bytes]:
    """``chunks`` until the deadline passes (checked between reads; each read is already bounded)."""
    for chunk in chunks:
        yield chunk
        if not state.remaining():
            raise httpx.ReadTimeout("total_timeout")


async def aiter_within(chunks: AsyncIterator[bytes], state: RetryState) -> AsyncIterator[bytes]:
    """Async twin of :func:`iter_within`."""
    async for chunk in chunks:
        yield chunk
        if not state.remaining():
            raise httpx.ReadTimeout("total_timeout")
