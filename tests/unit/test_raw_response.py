"""``with_raw_response`` / ``with_streaming_response`` on a mock transport, sync and async."""

from __future__ import annotations

import json
from typing import Any, List

import httpx
import pytest

import meshapi
from tests.conftest import collect, resolve
from tests.unit.test_transport import COMPLETION, MESSAGES, ok, sequence, status

SSE = (
    b'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m",'
    b'"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}\n\n'
    b"data: [DONE]\n\n"
)


def sse(request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        200, content=SSE, headers={"content-type": "text/event-stream", "x-request-id": "req_sse"}
    )


def models(request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        200, json={"data": [{"id": "a/b", "name": "B", "is_free": True}]}, headers={"x-request-id": "req_m"}
    )


async def test_raw_response_of_a_call_after_a_retry(make_client: Any) -> None:
    handler = sequence(status(503), ok)
    client = make_client(handler)
    raw = await resolve(client.chat.completions.with_raw_response.create(model="m", messages=MESSAGES))
    assert isinstance(raw, meshapi.RawResponse)
    assert raw.status_code == 200 and raw.request_id == "req_ok" and raw.headers["x-request-id"] == "req_ok"
    assert raw.retries_taken == 1 and raw.elapsed >= 0
    assert isinstance(raw.http_response, httpx.Response)
    assert json.loads(raw.content) == COMPLETION
    parsed = raw.parse()
    assert isinstance(parsed, meshapi.ChatCompletionResponse) and parsed.id == "chatcmpl-1"
    assert len(handler.seen) == 2
    assert "req_ok" in repr(raw)


async def test_raw_response_on_a_list_method_and_nested_resources(make_client: Any) -> None:
    handler = sequence(models)
    client = make_client(handler)
    raw = await resolve(client.models.with_raw_response.list())
    assert raw.retries_taken == 0 and raw.request_id == "req_m"
    assert [m.id for m in raw.parse()] == ["a/b"]
    # the chat namespace forwards to its sub-resource
    handler2 = sequence(ok)
    raw2 = await resolve(
        make_client(handler2).chat.with_raw_response.completions.create(model="m", messages=MESSAGES)
    )
    assert raw2.parse().id == "chatcmpl-1"
    with pytest.raises(AttributeError):
        _ = client.models.with_raw_response._http


async def test_raw_response_of_a_stream_opens_it(make_client: Any) -> None:
    handler = sequence(sse)
    client = make_client(handler)
    raw = await resolve(client.chat.completions.with_raw_response.stream(model="m", messages=MESSAGES))
    assert raw.status_code == 200 and raw.request_id == "req_sse"
    assert len(handler.seen) == 1  # opened by the proxy, before iterating
    stream = raw.parse()
    chunks = await collect(stream)
    assert [c.choices[0].delta.content for c in chunks] == ["Hi"]


async def test_streaming_response_reads_unread_body_then_parse_does_not_resend(
    mode: str, make_client: Any
) -> None:
    handler = sequence(ok)
    client = make_client(handler)
    call = client.chat.completions.with_streaming_response.create(model="m", messages=MESSAGES)
    if mode == "sync":
        with call as response:
            assert isinstance(response, meshapi.StreamedResponse)
            body = b"".join(response.iter_bytes())
            parsed = response.parse()
        assert response.http_response.is_closed
    else:
        async with call as response:
            assert isinstance(response, meshapi.AsyncStreamedResponse)
            body = b"".join([chunk async for chunk in response.iter_bytes()])
            parsed = await response.parse()
        assert response.http_response.is_closed
    assert json.loads(body) == COMPLETION
    assert parsed.id == "chatcmpl-1" and parsed._request_id == "req_ok"
    assert len(handler.seen) == 1


async def test_streaming_response_parse_without_reading(mode: str, make_client: Any) -> None:
    handler = sequence(models, models)
    client = make_client(handler)
    call = client.models.with_streaming_response.list()
    if mode == "sync":
        with call as response:
            first = response.parse()
            assert response.parse() is first
    else:
        async with call as response:
            first = await response.parse()
    assert [m.id for m in first] == ["a/b"]
    assert len(handler.seen) == 1


async def test_streaming_response_of_a_stream_gives_its_lines(mode: str, make_client: Any) -> None:
    handler = sequence(sse)
    client = make_client(handler)
    call = client.chat.completions.with_streaming_response.stream(model="m", messages=MESSAGES)
    lines: List[str] = []
    if mode == "sync":
        with call as response:
            lines = [line for line in response.iter_lines() if line]
        assert response.parse().closed
    else:
        async with call as response:
            lines = [line async for line in response.iter_lines() if line]
        assert (await response.parse()).closed
    assert lines[-1] == "data: [DONE]" and len(lines) == 2
    assert response.http_response.is_closed


async def test_errors_still_raise_through_the_proxies(mode: str, make_client: Any) -> None:
    handler = sequence(status(404))
    client = make_client(handler)
    with pytest.raises(meshapi.NotFoundError):
        await resolve(client.models.with_raw_response.list())
    call = client.models.with_streaming_response.list()
    with pytest.raises(meshapi.NotFoundError):
        if mode == "sync":
            with call:
                pass
        else:
            async with call:
                pass
