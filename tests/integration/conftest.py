"""Integration fixtures: a local gateway over real sockets, and clients bound to it."""

from __future__ import annotations

from typing import Any, AsyncIterator, Iterator

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from meshapi import AsyncMeshAPI, MeshAPI

TOKEN = "rsk_integration_token"
FAST = {"retry_initial_delay": 0.0, "retry_max_delay": 0.0}


@pytest.fixture(scope="session")
def gateway() -> Iterator[Any]:
    from meshapi_gateway import serve

    with serve(tokens=[TOKEN]) as gw:
        yield gw


@pytest.fixture(autouse=True)
def _clean_faults(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "gateway" in request.fixturenames:
        gw = request.getfixturevalue("gateway")
        gw.faults.clear()
        gw.state.response_cache.clear()  # one test's answers are not the next one's hits


@pytest.fixture
def client(gateway: Any) -> Iterator[MeshAPI]:
    with MeshAPI(base_url=gateway.base_url, token=gateway.token, **FAST) as c:
        yield c


@pytest.fixture
async def async_client(gateway: Any) -> AsyncIterator[AsyncMeshAPI]:
    async with AsyncMeshAPI(base_url=gateway.base_url, token=gateway.token, **FAST) as c:
        yield c


@pytest.fixture
async def any_client(mode: str, gateway: Any) -> AsyncIterator[Any]:
    """A sync or async client (one test body for both; see tests.conftest.resolve)."""
    if mode == "sync":
        with MeshAPI(base_url=gateway.base_url, token=gateway.token, **FAST) as c:
            yield c
    else:
        async with AsyncMeshAPI(base_url=gateway.base_url, token=gateway.token, **FAST) as c:
            yield c
