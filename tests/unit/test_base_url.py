"""The base URL rule: a trailing ``/v1`` (openai-python's habit) is dropped once, for HTTP and realtime."""

from __future__ import annotations

from typing import List

import httpx
import pytest

from meshapi import AsyncMeshAPI, MeshAPI
from meshapi._config import without_api_version
from meshapi.realtime.handshake import build_handshake, realtime_url

TOKEN = "rsk_base_url_test_token"


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("http://host/v1", "http://host"),
        ("http://host/v1/", "http://host"),
        (" https://host:8443/v1/ ", "https://host:8443"),
        ("http://host/proxy/v1", "http://host/proxy"),
        ("http://host/v1/v1", "http://host/v1"),  # dropped once
        ("http://host", "http://host"),
        ("http://host/", "http://host"),
        ("http://v1", "http://v1"),  # a host named v1 stays
        ("http://host/api-v1", "http://host/api-v1"),
        ("http://host/v10", "http://host/v10"),
    ],
)
def test_a_trailing_v1_is_dropped_once(given: str, used: str) -> None:
    assert without_api_version(given.strip()) == used
    assert MeshAPI(base_url=given, token=TOKEN).base_url == used
    assert AsyncMeshAPI(base_url=given, token=TOKEN).base_url == used


def test_the_environment_variable_follows_the_same_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MESHAPI_BASE_URL", "http://host/v1/")
    monkeypatch.setenv("MESHAPI_TOKEN", TOKEN)
    assert MeshAPI().base_url == "http://host"
    assert MeshAPI().with_options(base_url="http://other/v1").base_url == "http://other"


def test_requests_go_to_one_v1() -> None:
    seen: List[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"object": "list", "data": []})

    sync = MeshAPI(
        base_url="http://host/v1",
        token=TOKEN,
        httpx_client=httpx.Client(transport=httpx.MockTransport(answer)),
    )
    sync.models.list()
    assert seen == ["http://host/v1/models"]


async def test_async_requests_go_to_one_v1() -> None:
    seen: List[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"object": "list", "data": []})

    transport = httpx.MockTransport(answer)
    async with AsyncMeshAPI(
        base_url="http://host/v1/", token=TOKEN, async_httpx_client=httpx.AsyncClient(transport=transport)
    ) as client:
        await client.models.list()
    assert seen == ["http://host/v1/models"]


@pytest.mark.parametrize(
    ("given", "url"),
    [
        ("http://host/v1", "ws://host/v1/realtime?model=m"),
        ("https://host/v1/", "wss://host/v1/realtime?model=m"),
        ("https://host/proxy/v1", "wss://host/proxy/v1/realtime?model=m"),
        ("wss://host/v1", "wss://host/v1/realtime?model=m"),
        ("http://v1", "ws://v1/v1/realtime?model=m"),
    ],
)
def test_the_realtime_url_follows_the_same_rule(given: str, url: str) -> None:
    assert realtime_url(given, "m") == url
    assert build_handshake(given, "m", TOKEN).safe_url == url
