"""``total_timeout`` applied to what is read: bodies, and a stream's first event.

The rules are ``meshapi._core.timeouts``; this module puts them on the byte streams httpx reads. Each
read is already bounded by the per-read timeout; these wrappers add the end-to-end bound on top,
checked between reads, so a server that drips a byte every few seconds cannot hold a call forever.
Running out raises ``httpx.ReadTimeout``, which the send loop turns into the ``total_timeout`` error.
"""

from __future__ import annotations

from typing import Any, AsyncIterator, Iterator

import httpx

from .._core.retry import RetryState
from .._core.timeouts import before_first_event

__all__ = ["FirstEventDeadline", "aiter_within", "iter_within"]


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
            raise httpx.ReadTimeout("total_timeout: no event before the deadline")
        return True

    def __iter__(self) -> Iterator[bytes]:
        waiting = True
        for chunk in self._inner:
            waiting = self._check(chunk, waiting)
            yield chunk

    async def __aiter__(self) -> AsyncIterator[bytes]:
        waiting = True
        async for chunk in self._inner:
            waiting = self._check(chunk, waiting)
            yield chunk

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
