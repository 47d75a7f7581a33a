"""Live tests: the public API against a gateway.

Safe by default: a local gateway is started for the session (``meshapi[gateway]``), so ``pytest
livetests`` passes offline and costs nothing. Only a dedicated setting sends them elsewhere:
``MESHAPI_LIVETEST_BASE_URL`` + ``MESHAPI_LIVETEST_TOKEN`` (or ``--livetest-base-url`` /
``--livetest-token``). The ordinary ``MESHAPI_BASE_URL`` / ``MESHAPI_TOKEN`` / ``MESHAPI_API_KEY`` are
ignored and removed from the environment, so a key exported for other work is never billed by a test run.
Only public imports are used (``from meshapi import ...`` and the 0.1.4 module paths).
"""

from __future__ import annotations

import os
from typing import Any, AsyncIterator, Iterator, Optional, Tuple

import pytest

from meshapi import AsyncMeshAPI, MeshAPI

BASE_URL_VARIABLE = "MESHAPI_LIVETEST_BASE_URL"
TOKEN_VARIABLE = "MESHAPI_LIVETEST_TOKEN"

for _name in ("MESHAPI_BASE_URL", "MESHAPI_TOKEN", "MESHAPI_API_KEY"):
    os.environ.pop(_name, None)

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


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("livetests")
    group.addoption(
        "--livetest-base-url", help=f"run livetests against this gateway (or ${BASE_URL_VARIABLE})"
    )
    group.addoption("--livetest-token", help=f"its API token (or ${TOKEN_VARIABLE})")


def _named_target(config: pytest.Config) -> Tuple[Optional[str], Optional[str]]:
    base_url = config.getoption("--livetest-base-url", None) or os.environ.get(BASE_URL_VARIABLE) or None
    token = config.getoption("--livetest-token", None) or os.environ.get(TOKEN_VARIABLE) or None
    return base_url, token


def pytest_report_header(config: pytest.Config) -> str:
    base_url, _ = _named_target(config)
    if base_url:
        return f"livetests: against {base_url} (billed)"
    return f"livetests: local gateway (set {BASE_URL_VARIABLE} and {TOKEN_VARIABLE} for a real one)"


@pytest.fixture(scope="session")
def target(pytestconfig: pytest.Config) -> Iterator[Target]:
    base_url, token = _named_target(pytestconfig)
    if base_url:
        if not token:
            pytest.exit(f"{BASE_URL_VARIABLE} is set but {TOKEN_VARIABLE} is not", returncode=2)
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
