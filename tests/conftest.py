"""Shared test helpers: one test body for both client flavours, and byte streams that record closing."""

from __future__ import annotations

import inspect
from typing import Any, AsyncIterator, Callable, Iterator, List

import httpx
import pytest


async def resolve(value: Any) -> Any:
    """Await ``value`` if the async client returned an awaitable; sync results pass through."""
    if inspect.isawaitable(value):
        return await value
    return value


async def collect(stream: Any) -> List[Any]:
    """All items of a sync or async stream."""
    if hasattr(stream, "__aiter__"):
        return [item async for item in stream]
    return list(stream)


async def close(obj: Any) -> None:
    closer = getattr(obj, "aclose", None) or obj.close
    await resolve(closer())


class RecordingStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body from a list of chunks that can fail after them and records whether it was closed."""

    def __init__(self, chunks: List[bytes], error: Exception | None = None) -> None:
        self.chunks = chunks
        self.error = error
        self.closed = False
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            self.sent += 1
            yield chunk
        if self.error is not None:
            raise self.error

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            self.sent += 1
            yield chunk
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def make_client(mode: str) -> AsyncIterator[Callable[..., Any]]:
    """``make_client(handler, **kwargs)``: a MeshAPI or AsyncMeshAPI over an httpx.MockTransport."""
    from meshapi import AsyncMeshAPI, MeshAPI

    made: List[Any] = []

    def factory(handler: Callable[[httpx.Request], httpx.Response], **kwargs: Any) -> Any:
        kwargs.setdefault("base_url", "http://gateway.test")
        kwargs.setdefault("token", "rsk_unit_test_token")
        kwargs.setdefault("retry_initial_delay", 0.0)
        kwargs.setdefault("retry_max_delay", 0.0)
        transport = httpx.MockTransport(handler)
        if mode == "sync":
            inner: Any = httpx.Client(transport=transport)
            client: Any = MeshAPI(httpx_client=inner, **kwargs)
        else:
            inner = httpx.AsyncClient(transport=transport)
            client = AsyncMeshAPI(async_httpx_client=inner, **kwargs)
        made.append(inner)
        return client

    yield factory
    for inner in made:
        if isinstance(inner, httpx.Client):
            inner.close()
        else:
            await inner.aclose()
