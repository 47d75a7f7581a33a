"""Fault-suite fixtures: a local gateway, clients with a recording fake sleep, and leak checks.

Every client made through ``harness.client(...)`` replaces the transport's sleep with a fake that only
records the delay (so retry timing is asserted exactly and never waited for real), and is closed when
the test ends. ``harness.assert_released(client)`` checks that nothing the call opened is left behind:
no pooled connection checked out, then, after closing the client, the open file descriptors and
threads back to the test's baseline and (async) no task but the current one.
"""

from __future__ import annotations

import asyncio
import gc
import os
import threading
import time
from typing import Any, AsyncIterator, Iterator, List, Optional

import pytest

from meshapi import AsyncMeshAPI, MeshAPI
from tests.conftest import close

# A recognisable token: the secrets tests scan everything they capture for it.
TOKEN = "rsk_FAULTSUITE_7Q2Z_SECRET_TOKEN_do_not_leak"


def aiohttp_available() -> bool:
    """True when the optional aiohttp transport module has landed and aiohttp is installed."""
    import importlib.util

    return all(
        importlib.util.find_spec(name) is not None for name in ("aiohttp", "meshapi._transport.aiohttp")
    )


@pytest.fixture(scope="session")
def gateway() -> Iterator[Any]:
    pytest.importorskip("starlette")
    pytest.importorskip("uvicorn")
    from meshapi_gateway import serve

    with serve(tokens=[TOKEN]) as gw:
        yield gw


@pytest.fixture(autouse=True)
def _clean_gateway(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "gateway" in request.fixturenames:
        gw = request.getfixturevalue("gateway")
        gw.faults.clear()
        gw.requests.clear()


def fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


def _threads() -> List[threading.Thread]:
    # asyncio's default executor (getaddrinfo) threads belong to the test's event loop, which
    # pytest-asyncio shuts down after the test; they are not ours to count.
    return [t for t in threading.enumerate() if not t.name.startswith("asyncio_")]


def pool_connections(client: Any) -> List[Any]:
    transport = client._http._client._transport
    pool = getattr(transport, "_pool", None)
    return list(pool.connections) if pool is not None else []


def assert_pool_idle(client: Any) -> None:
    """No connection of the client's pool is still checked out by a request or stream."""
    transport = client._http._client._transport
    if hasattr(transport, "_in_flight"):  # the aiohttp transport counts responses not yet released
        assert transport._in_flight == 0, f"{transport._in_flight} aiohttp responses not released"
    for connection in pool_connections(client):
        assert connection.is_idle() or connection.is_closed(), f"connection still in use: {connection!r}"


class Harness:
    """Builds sync or async clients (by ``mode``) and checks they leave nothing behind."""

    def __init__(self, mode: str, transport: str = "httpx") -> None:
        self.mode = mode
        self.transport = transport
        self.sleeps: List[float] = []
        self._clients: List[Any] = []
        self.rebaseline()

    def rebaseline(self) -> None:
        """Take the fd and thread baseline again (after a helper client was closed)."""
        gc.collect()
        self.fd_baseline = fd_count()
        self.thread_baseline = {t.ident for t in _threads()}

    @property
    def is_async(self) -> bool:
        return self.mode == "async"

    def client(self, base_url: str, token: str = TOKEN, **kwargs: Any) -> Any:
        if self.mode == "sync":
            made: Any = MeshAPI(base_url=base_url, token=token, **kwargs)

            def fake_sleep(delay: float) -> None:
                self.sleeps.append(delay)

            made._http._sleep = fake_sleep
        else:
            if self.transport != "httpx":
                kwargs.setdefault("http_transport", self.transport)
            made = AsyncMeshAPI(base_url=base_url, token=token, **kwargs)

            async def fake_async_sleep(delay: float) -> None:
                self.sleeps.append(delay)

            made._http._sleep = fake_async_sleep
        self._clients.append(made)
        return made

    async def assert_released(self, client: Optional[Any] = None, *, timeout: float = 3.0) -> None:
        """Pool idle, then (client closed) fds, threads and tasks back to the baseline."""
        if client is not None:
            assert_pool_idle(client)
            await close(client)
        deadline = time.monotonic() + timeout
        if self.is_async:
            # An async generator dropped mid-iteration (httpx's own aiter_bytes/aiter_raw chain) is
            # finalised by a task the loop schedules when it is collected: such a task ends within a
            # tick or two. A task still running at the deadline is a leak.
            current = asyncio.current_task()
            while True:
                gc.collect()
                others = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
                if not others or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.01)
            assert not others, f"tasks left running: {others}"
        while True:
            gc.collect()
            fds = fd_count()
            extra_threads = [t for t in _threads() if t.ident not in self.thread_baseline]
            if fds <= self.fd_baseline and not extra_threads:
                return
            if time.monotonic() > deadline:
                break
            if self.is_async:
                await asyncio.sleep(0.02)
            else:
                time.sleep(0.02)
        assert not extra_threads, f"threads left running: {extra_threads}"
        assert fds <= self.fd_baseline, f"open file descriptors: {fds}, baseline {self.fd_baseline}"

    async def close_all(self) -> None:
        for made in self._clients:
            await close(made)


@pytest.fixture
async def harness(mode: str) -> AsyncIterator[Harness]:
    h = Harness(mode)
    try:
        yield h
    finally:
        await h.close_all()


TRANSPORTS = ["httpx", "aiohttp"] if aiohttp_available() else ["httpx"]


@pytest.fixture(
    params=[("sync", "httpx")] + [("async", t) for t in TRANSPORTS],
    ids=lambda p: p[0] if p[1] == "httpx" else f"{p[0]}-{p[1]}",
)
async def tharness(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    """Like ``harness``, also run on the optional aiohttp transport when it exists."""
    h = Harness(*request.param)
    try:
        yield h
    finally:
        await h.close_all()
