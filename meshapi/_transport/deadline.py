"""``total_timeout``: the deadline of one call, applied to reading bodies and to a stream's first event.

Each read is already bounded by the per-read timeout; these helpers add the end-to-end bound on top,
checked between reads, so a server that drips a byte every few seconds cannot hold a call forever.
"""

from __future__ import annotations

from typing import Any, AsyncIterator, Iterator

import httpx

from .._core.retry import RetryState
from .._errors import APITimeoutError

__all__ = ["FirstEventDeadline", "deadline_error", "iter_within"]


def deadline_error(state: RetryState) -> APITimeoutError:
    return APITimeoutError("The call did not finish within its total_timeout.", error_code="total_timeout")


class FirstEventDeadline(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A streamed body that must deliver its first event (a ``data:`` line) before the deadline.

    Comments and keep-alive bytes do not count; after the first event only the per-read timeout
    bounds the gaps.
    """

    def __init__(self, inner: Any, state: RetryState) -> None:
        self._inner = inner
        self._state = state

    def _check(self, chunk: bytes, waiting: bool) -> bool:
        if not waiting:
            return False
        if b"data:" in chunk:
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
        left = state.remaining()
        if left is not None and left <= 0.0:
            raise httpx.ReadTimeout("total_timeout")
