"""The first-event retry where the body is not read from a socket by a typed stream: a body already in
memory (an ``httpx.MockTransport`` answer made with ``content=``, as a replayed cassette's), and the raw
bytes of ``with_streaming_response.create(stream=True)``. A retryable error frame as the first event is
retried there too (sync and async, on a mock transport)."""

from __future__ import annotations

from typing import Any, Callable, List

import httpx
import pytest

from tests.conftest import RecordingStream, collect
from tests.unit.test_raw_response import SSE, sse
from tests.unit.test_transport import MESSAGES, sequence

OVERLOADED = b'data: {"error": {"code": "provider_overloaded", "message": "busy"}}\n\n'


def overloaded(request: httpx.Request) -> httpx.Response:
    headers = {"content-type": "text/event-stream", "x-request-id": "req_frame"}
    return httpx.Response(200, headers=headers, content=OVERLOADED)  # in memory, read when made


def overloaded_streamed(request: httpx.Request) -> httpx.Response:
    headers = {"content-type": "text/event-stream", "x-request-id": "req_frame"}
    return httpx.Response(200, headers=headers, stream=RecordingStream([OVERLOADED]))  # as from a socket


async def test_an_in_memory_body_gets_the_first_event_retry(make_client: Any) -> None:
    handler = sequence(overloaded, sse)
    client = make_client(handler)
    stream = client.chat.completions.stream(model="m", messages=MESSAGES)
    chunks = await collect(stream)
    assert [c.choices[0].delta.content for c in chunks] == ["Hi"]
    assert len(handler.seen) == 2
    assert handler.seen[0].headers["idempotency-key"] == handler.seen[1].headers["idempotency-key"]
    assert stream.request_id == "req_sse"


async def test_an_in_memory_body_without_an_error_is_read_once(make_client: Any) -> None:
    handler = sequence(sse)
    client = make_client(handler)
    chunks = await collect(client.chat.completions.stream(model="m", messages=MESSAGES))
    assert [c.choices[0].delta.content for c in chunks] == ["Hi"] and len(handler.seen) == 1


@pytest.mark.parametrize("first", [overloaded, overloaded_streamed], ids=["in-memory", "streamed"])
async def test_with_streaming_response_of_a_created_stream_gets_the_first_event_retry(
    mode: str, make_client: Any, first: Callable[[httpx.Request], httpx.Response]
) -> None:
    handler = sequence(first, sse)
    client = make_client(handler)
    call = client.chat.completions.with_streaming_response.create(model="m", messages=MESSAGES, stream=True)
    body: List[bytes] = []
    if mode == "sync":
        with call as response:
            body = list(response.iter_bytes())
            request_id = response.request_id
    else:
        async with call as response:
            body = [chunk async for chunk in response.iter_bytes()]
            request_id = response.request_id
    assert b"".join(body) == SSE  # the retried answer's bytes, the error frame never shown
    assert len(handler.seen) == 2 and request_id == "req_sse"
    assert response.http_response.is_closed


async def test_with_streaming_response_parse_of_a_created_stream_is_the_retried_stream(
    mode: str, make_client: Any
) -> None:
    handler = sequence(overloaded, sse)
    client = make_client(handler)
    call = client.chat.completions.with_streaming_response.create(model="m", messages=MESSAGES, stream=True)
    if mode == "sync":
        with call as response:
            chunks = list(response.parse())
    else:
        async with call as response:
            chunks = await collect(await response.parse())
    assert [c.choices[0].delta.content for c in chunks] == ["Hi"]
    assert len(handler.seen) == 2
