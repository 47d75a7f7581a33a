"""Live tests: the public API against a gateway.

With ``MESHAPI_BASE_URL`` (and ``MESHAPI_TOKEN``) set, they run against that gateway; otherwise a local
gateway is started for the session (``meshapi[gateway]``), so ``pytest livetests`` passes offline.
Only public imports are used (``from meshapi import ...`` and the 0.1.4 module paths).
"""

from __future__ import annotations

import os
from typing import Any, AsyncIterator, Iterator

import pytest

from meshapi import AsyncMeshAPI, MeshAPI

MODEL = os.environ.get("MESHAPI_MODEL", "openai/gpt-4o-mini")
SECOND_MODEL = os.environ.get("MESHAPI_SECOND_MODEL", "anthropic/claude-haiku-4.5")
EMBEDDINGS_MODEL = os.environ.get("MESHAPI_EMBEDDINGS_MODEL", "openai/text-embedding-3-small")
IMAGE_MODEL = os.environ.get("MESHAPI_IMAGE_GEN_MODEL", "openai/gpt-image-1")
REALTIME_MODEL = os.environ.get("MESHAPI_REALTIME_MODEL", "openai/gpt-realtime-mini")


class Target:
    def __init__(self, base_url: str, token: str, gateway: Any = None) -> None:
        self.base_url = base_url
        self.token = token
        self.gateway = gateway  # the local gateway object, or None against a real one

    @property
    def local(self) -> bool:
        return self.gateway is not None


@pytest.fixture(scope="session")
def target() -> Iterator[Target]:
    base_url = os.environ.get("MESHAPI_BASE_URL")
    if base_url:
        token = os.environ.get("MESHAPI_TOKEN")
        if not token:
            pytest.exit("MESHAPI_BASE_URL is set but MESHAPI_TOKEN is not", returncode=2)
        yield Target(base_url, token)
        return
    from meshapi.gateway import serve

    with serve(tokens=["rsk_livetest_local_token"]) as gateway:
        yield Target(gateway.base_url, gateway.token, gateway)


@pytest.fixture
def local(target: Target) -> Any:
    """The local gateway (tests that need its fault plan); skipped against a real gateway."""
    if not target.local:
        pytest.skip("needs the local gateway's fault plan")
    yield target.gateway
    target.gateway.faults.clear()


@pytest.fixture
def client(target: Target) -> Iterator[MeshAPI]:
    with MeshAPI(
        base_url=target.base_url, token=target.token, retry_initial_delay=0.05, retry_max_delay=0.2
    ) as c:
        yield c


@pytest.fixture
async def async_client(target: Target) -> AsyncIterator[AsyncMeshAPI]:
    async with AsyncMeshAPI(
        base_url=target.base_url, token=target.token, retry_initial_delay=0.05, retry_max_delay=0.2
    ) as c:
        yield c
