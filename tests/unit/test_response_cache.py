"""The gateway response cache from the client: ``cache_hit`` on raw responses and ``response_cache=False``
(per call, client, ``with_options``) as ``X-Mesh-Cache: no-store`` (MockTransport)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import httpx
import pytest

import meshapi
from meshapi._response_cache import cache_hit, check_response_cache
from tests.conftest import resolve

MESSAGES = [{"role": "user", "content": "hi"}]
COMPLETION = {
    "id": "c1",
    "object": "chat.completion",
    "created": 1,
    "model": "openai/gpt-4o-mini",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
}


class Recorder:
    """A MockTransport handler that records requests and answers ``COMPLETION`` with ``headers``."""

    def __init__(self, headers: Optional[Dict[str, str]] = None) -> None:
        self.requests: List[httpx.Request] = []
        self.headers = headers or {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        body = COMPLETION if request.url.path.endswith("/completions") else {"object": "list", "data": []}
        return httpx.Response(200, json=body, headers={"x-request-id": "req_c", **self.headers})

    @property
    def sent(self) -> Optional[str]:
        return self.requests[-1].headers.get("x-mesh-cache")


def chat(client: Any, **options: Any) -> Any:
    return client.chat.completions.create(model="a/x", messages=MESSAGES, **options)


async def test_raw_response_cache_hit(make_client: Any) -> None:
    client = make_client(Recorder({"X-Cache": "HIT"}))
    raw = await resolve(client.chat.completions.with_raw_response.create(model="a/x", messages=MESSAGES))
    assert raw.cache_hit is True and raw.parse().id == "c1"
    assert (
        await resolve(
            make_client(Recorder()).chat.completions.with_raw_response.create(model="a/x", messages=MESSAGES)
        )
    ).cache_hit is False


def test_cache_hit_reads_only_hit() -> None:
    assert cache_hit(httpx.Headers({"X-Cache": "HIT"})) and cache_hit(httpx.Headers({"x-cache": " hit "}))
    assert not cache_hit(httpx.Headers({"X-Cache": "MISS"})) and not cache_hit(httpx.Headers({}))


async def test_per_call_no_store(make_client: Any) -> None:
    rec = Recorder()
    client = make_client(rec)
    await resolve(chat(client))
    assert rec.sent is None  # nothing by default
    await resolve(chat(client, response_cache=False))
    assert rec.sent == "no-store"
    await resolve(chat(client, response_cache=True))
    assert rec.sent is None
    await resolve(client.models.list(response_cache=False))  # a per-call option: every method takes it
    assert rec.sent == "no-store"
    await resolve(chat(client, cache=False))  # the body field stays a body field
    assert rec.sent is None and b'"cache":false' in rec.requests[-1].content


async def test_client_option_and_with_options(make_client: Any) -> None:
    rec = Recorder()
    client = make_client(rec, response_cache=False)
    assert client.config.response_cache is False
    await resolve(chat(client))
    assert rec.sent == "no-store"
    await resolve(chat(client, response_cache=True))  # the call uses the cache the client opted out of
    assert rec.sent is None
    await resolve(chat(client, response_cache=None))
    assert rec.sent == "no-store"
    await resolve(chat(client.with_options(response_cache=True)))
    assert rec.sent is None


@pytest.mark.parametrize("value", [0, "no-store", 1.0])
async def test_bad_values_are_refused_before_sending(make_client: Any, value: Any) -> None:
    rec = Recorder()
    client = make_client(rec)
    with pytest.raises(meshapi.InvalidParamsError, match="response_cache must be True, False or None"):
        await resolve(chat(client, response_cache=value))
    with pytest.raises(meshapi.ConfigurationError, match="response_cache must be"):
        make_client(rec, response_cache=value)
    with pytest.raises(meshapi.ConfigurationError, match="response_cache must be True or False"):
        make_client(rec, response_cache=None)
    assert rec.requests == []


def test_check_response_cache() -> None:
    assert [check_response_cache(v) for v in (True, False, None)] == [True, False, None]
