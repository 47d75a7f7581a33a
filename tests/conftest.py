"""Shared test helpers: one test body for both client flavours, and byte streams that record closing.

Safe by default: the suite never reads the ordinary ``MESHAPI_BASE_URL`` / ``MESHAPI_TOKEN`` /
``MESHAPI_API_KEY``. They are removed from the environment when this file is imported (before any test
or fixture runs), so a real key exported in the shell cannot send traffic anywhere; tests that need them
set them explicitly.
"""

from __future__ import annotations

import inspect
import os
import socket
from typing import Any, AsyncIterator, Callable, Iterator, List

import httpx
import pytest

for _name in ("MESHAPI_BASE_URL", "MESHAPI_TOKEN", "MESHAPI_API_KEY"):
    os.environ.pop(_name, None)


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


class Sentinel:
    """A listening socket on 127.0.0.1 that nothing should ever connect to (``.url``, ``.connections()``)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.setblocking(False)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def connections(self) -> int:
        count = 0
        while True:
            try:
                conn, _ = self.sock.accept()
            except BlockingIOError:
                return count
            conn.close()
            count += 1

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def sentinel() -> Iterator[Sentinel]:
    """A URL that must stay untouched (stands in for a real, billed gateway)."""
    guard = Sentinel()
    try:
        yield guard
    finally:
        guard.close()


_UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


@pytest.fixture(autouse=True)
def _uvicorn_logging_kept() -> Iterator[None]:
    """Each test leaves uvicorn's loggers as it found them. Running ``meshapi gateway``'s ``main()`` in the
    test process makes uvicorn point ``uvicorn.access`` at that test's captured (then closed) stdout, and a
    gateway logs access lines whenever that logger has handlers: every later connection to a shared test
    gateway then printed "--- Logging error ---" into whichever test's stderr was being read."""
    import logging

    kept = {name: list(logging.getLogger(name).handlers) for name in _UVICORN_LOGGERS}
    yield
    for name, handlers in kept.items():
        logging.getLogger(name).handlers[:] = handlers
