"""Client options, raw responses and hooks against the local gateway; figures checked against its log."""

from __future__ import annotations

import json
import time
from typing import Any, List

import pytest

import meshapi
from tests.conftest import close, collect, resolve
from tests.integration.test_core import MESSAGES, MODEL, assert_no_connection_checked_out

CHAT = "/v1/chat/completions"


async def test_raw_response_figures_match_the_gateway_log(any_client: Any, gateway: Any) -> None:
    gateway.faults.add(CHAT, status=503, times=2)
    gateway.requests.clear()
    raw = await resolve(any_client.chat.completions.with_raw_response.create(model=MODEL, messages=MESSAGES))
    seen = gateway.requests.filter(path=CHAT)
    assert raw.retries_taken == len(seen) - 1 == 2
    assert raw.request_id == seen[-1].request_id and raw.status_code == 200
    assert [r.headers["x-meshapi-retry-count"] for r in seen] == ["0", "1", "2"]
    assert 0 < raw.elapsed < 10
    assert raw.parse().choices[0].message.content
    assert raw.headers["content-type"].startswith("application/json")
    assert_no_connection_checked_out(any_client)


async def test_streaming_response_is_unread_until_asked(mode: str, any_client: Any, gateway: Any) -> None:
    gateway.requests.clear()
    call = any_client.chat.completions.with_streaming_response.stream(model=MODEL, messages=MESSAGES)
    if mode == "sync":
        with call as response:
            assert not response.http_response.is_stream_consumed
            lines = [line for line in response.iter_lines() if line.startswith("data:")]
    else:
        async with call as response:
            assert not response.http_response.is_stream_consumed
            lines = [line async for line in response.iter_lines() if line.startswith("data:")]
    assert lines[-1] == "data: [DONE]"
    assert json.loads(lines[0][5:])["object"] == "chat.completion.chunk"
    assert response.request_id == gateway.requests.filter(path=CHAT)[-1].request_id
    assert response.http_response.is_closed
    assert_no_connection_checked_out(any_client)


async def test_streaming_response_parse_reads_once(mode: str, any_client: Any, gateway: Any) -> None:
    gateway.requests.clear()
    call = any_client.models.with_streaming_response.list()
    if mode == "sync":
        with call as response:
            models = response.parse()
    else:
        async with call as response:
            models = await response.parse()
    assert any(m.id == MODEL for m in models)
    assert len(gateway.requests.filter(path="/v1/models")) == 1


async def test_per_call_query_headers_and_request_id_reach_the_gateway(any_client: Any, gateway: Any) -> None:
    gateway.requests.clear()
    copy = any_client.with_options(default_query={"origin": "copy"}, default_headers={"X-Team": "core"})
    await resolve(
        copy.chat.completions.create(
            model=MODEL,
            messages=MESSAGES,
            extra_query={"trace": "1"},
            extra_headers={"X-Case": "options"},
            request_id="caller-id.42",
        )
    )
    (record,) = gateway.requests.filter(path=CHAT)
    assert record.query == {"origin": "copy", "trace": "1"}
    assert record.headers["x-team"] == "core" and record.headers["x-case"] == "options"
    assert record.headers["x-request-id"] == "caller-id.42"
    await close(copy)
    # the copy shared the pool: the original still works after the copy is closed
    assert await resolve(any_client.models.list())


async def test_hooks_see_every_attempt(mode: str, gateway: Any) -> None:
    views: List[Any] = []
    gateway.faults.add(CHAT, status=502, times=1)
    kwargs = {"base_url": gateway.base_url, "token": gateway.token, "retry_initial_delay": 0.0}
    if mode == "sync":
        client: Any = meshapi.MeshAPI(on_request=views.append, on_response=views.append, **kwargs)
    else:

        async def hook(view: Any) -> None:
            views.append(view)

        client = meshapi.AsyncMeshAPI(on_request=hook, on_response=hook, **kwargs)
    await resolve(client.chat.completions.create(model=MODEL, messages=MESSAGES))
    await close(client)
    assert [getattr(v, "status_code", None) for v in views] == [None, 502, None, 200]
    assert all(gateway.token not in repr(v) for v in views)


async def test_total_timeout_against_a_slow_first_byte(any_client: Any, gateway: Any) -> None:
    gateway.faults.add(CHAT, delay_first_byte=1.5, times=1)
    started = time.monotonic()
    with pytest.raises(meshapi.APITimeoutError):
        await resolve(any_client.chat.completions.create(model=MODEL, messages=MESSAGES, total_timeout=0.3))
    assert time.monotonic() - started < 1.2
    gateway.faults.add(CHAT, delay_first_byte=1.5, times=1)
    started = time.monotonic()
    with pytest.raises(meshapi.APITimeoutError):
        await collect(any_client.chat.completions.stream(model=MODEL, messages=MESSAGES, total_timeout=0.3))
    assert time.monotonic() - started < 1.2
