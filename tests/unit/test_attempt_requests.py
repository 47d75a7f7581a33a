"""Each attempt of a call is its own ``httpx.Request``: what a recorder keeps is what that attempt sent.

respx's call history (and any transport log or event hook that keeps requests) holds the request objects
themselves; a retry that changed the headers of one shared object showed the last attempt's retry count
and token on every attempt. Checked with respx on the SDK's own pool and on an injected httpx client,
sync and async, with a token provider that hands out a new token per attempt.
"""

from __future__ import annotations

import json
from typing import Any, Iterator

import httpx
import pytest
import respx

from meshapi import AsyncMeshAPI, MeshAPI
from tests.conftest import resolve
from tests.unit.test_transport import COMPLETION, MESSAGES

BASE = "http://gateway.test"


@pytest.fixture(params=["own pool", "injected client"])
def where(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def router(where: str) -> Iterator[respx.MockRouter]:
    # The SDK's own pool is reached through httpcore (respx's default mocker); an httpx client you pass
    # in, through httpx's transport lookup (respx's "httpx" mocker): the request object itself is kept.
    with respx.mock(base_url=BASE, using="httpcore" if where == "own pool" else "httpx") as mock:
        yield mock


def _client(mode: str, where: str) -> Any:
    tokens = iter(["tok_a", "tok_b", "tok_c"])
    kwargs: Any = {"base_url": BASE, "retry_initial_delay": 0.0, "retry_max_delay": 0.0, "max_retries": 2}
    if mode == "sync":
        if where == "injected client":
            kwargs["httpx_client"] = httpx.Client()
        return MeshAPI(token=lambda: next(tokens), **kwargs)

    async def token() -> str:
        return next(tokens)

    if where == "injected client":
        kwargs["async_httpx_client"] = httpx.AsyncClient()
    return AsyncMeshAPI(token=token, **kwargs)


async def test_each_attempt_keeps_its_own_headers(mode: str, where: str, router: respx.MockRouter) -> None:
    route = router.post("/v1/chat/completions").mock(
        side_effect=[httpx.Response(503), httpx.Response(503), httpx.Response(200, json=COMPLETION)]
    )
    client = _client(mode, where)
    try:
        reply = await resolve(client.chat.completions.create(model="openai/gpt-4o-mini", messages=MESSAGES))
    finally:
        await resolve(client.close() if mode == "sync" else client.aclose())
        if where == "injected client":
            injected = client._http._client
            await resolve(injected.close() if mode == "sync" else injected.aclose())
    assert reply.id == "chatcmpl-1"
    sent = [call.request for call in route.calls]
    assert [r.headers["x-meshapi-retry-count"] for r in sent] == ["0", "1", "2"]
    assert [r.headers["authorization"] for r in sent] == ["Bearer tok_a", "Bearer tok_b", "Bearer tok_c"]
    assert len({id(r) for r in sent}) == 3
    # one call: the same idempotency key and the same body bytes on every attempt
    assert len({r.headers["idempotency-key"] for r in sent}) == 1
    assert len({r.content for r in sent}) == 1
    assert json.loads(sent[2].content)["messages"] == MESSAGES
    assert [r.headers["content-length"] for r in sent] == [str(len(sent[0].content))] * 3
