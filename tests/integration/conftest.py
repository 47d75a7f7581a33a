"""Integration fixtures: a local gateway over real sockets, and clients bound to it."""

from __future__ import annotations

import os
from typing import Any, AsyncIterator, Iterator, Tuple

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


@pytest.fixture(scope="module")  # module: SSL_CERT_FILE is set only while its tests run
def tls_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tuple[Any, Any]]:
    """(server, app): the gateway app behind hypercorn on https://127.0.0.1:<port>, HTTP/2 and HTTP/1.1."""
    pytest.importorskip("h2")
    pytest.importorskip("hypercorn")
    pytest.importorskip("cryptography")  # the self-signed certificate
    from meshapi_gateway.http.app import create_app
    from meshapi_gateway.http.tls import self_signed, serve_tls

    cert, key = self_signed(str(tmp_path_factory.mktemp("tls")))
    before = os.environ.get("SSL_CERT_FILE")
    os.environ["SSL_CERT_FILE"] = cert  # the SDK's shared TLS context (one per value) trusts it
    app = create_app(tokens=[TOKEN])
    try:
        with serve_tls(app, cert, key) as server:
            yield server, app
    finally:
        app.state.gateway.close()
        if before is None:
            del os.environ["SSL_CERT_FILE"]
        else:
            os.environ["SSL_CERT_FILE"] = before


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
