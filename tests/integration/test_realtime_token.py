"""A token given as a callable (issue 12) also authenticates realtime handshakes, fetched at connect time."""

from __future__ import annotations

from typing import List

import pytest

pytest.importorskip("websockets")
pytest.importorskip("starlette")

import meshapi
from meshapi_gateway import serve

TOKEN = "rsk_realtime_callable_token"


def test_callable_token_opens_a_realtime_session() -> None:
    calls: List[int] = []

    def provider() -> str:
        calls.append(1)
        return TOKEN

    with serve(tokens=[TOKEN]) as gw, meshapi.MeshAPI(base_url=gw.base_url, token=provider) as client:
        with client.realtime.connect(model="openai/gpt-realtime-mini") as session:
            assert session.send_text("hello")
        assert len(calls) == 1, "the provider is asked once per handshake (redaction uses the same key)"


def test_async_token_provider_on_the_sync_client_is_a_clear_error() -> None:
    async def provider() -> str:
        return TOKEN

    with serve(tokens=[TOKEN]) as gw, meshapi.MeshAPI(base_url=gw.base_url, token=provider) as client:
        pending = pytest.raises(meshapi.ConfigurationError, match="async")
        with pending:
            client.realtime.connect(model="openai/gpt-realtime-mini")
