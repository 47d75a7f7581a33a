"""When a stream sends its request: ``create(stream=True)`` / ``open()`` at once, ``.stream()`` when read.

A web handler must see a 404 / 429 at the call it awaits, before it answers 200 and starts a streamed
body; the ``.stream()`` methods keep 0.1.4's laziness. Also: a stream opened and never read gives its
connection back on ``close()``, on leaving ``with``, and when it is garbage collected (sync and async).
"""

from __future__ import annotations

import gc
import json
from typing import Any, Callable, Dict, List

import httpx
import pytest

import meshapi
from tests._poll import async_wait_until
from tests.conftest import RecordingStream, close, collect, resolve
from tests.unit import _payloads as P

MESSAGES = [{"role": "user", "content": "hi"}]
CHAT_SSE = (
    b'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m",'
    b'"choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":"stop"}]}\n\n'
    b"data: [DONE]\n\n"
)
RATE_LIMITED = {"error": {"code": "rate_limit_exceeded", "message": "Slow down"}, "request_id": "req_429"}

# every family's lazy stream; ``open()`` on it is the eager step ``create(stream=True)`` takes
STREAMS: Dict[str, Callable[[Any], Any]] = {
    "chat": lambda c: c.chat.completions.stream(model="m", messages=MESSAGES),
    "responses": lambda c: c.responses.stream(model="openai/o4-mini", input="hi"),
    "compare": lambda c: c.compare.stream(models=P.MODELS, messages=MESSAGES),
    "images": lambda c: c.images.stream(model="m", prompt="p"),
}
# each family's eager call: ``create(stream=True)`` (images: ``generate``)
CREATED: Dict[str, Callable[[Any], Any]] = {
    "chat": lambda c: c.chat.completions.create(model="m", messages=MESSAGES, stream=True),
    "responses": lambda c: c.responses.create(model="openai/o4-mini", input="hi", stream=True),
    "compare": lambda c: c.compare.create(models=P.MODELS, messages=MESSAGES, stream=True),
    "images": lambda c: c.images.generate(model="m", prompt="p", stream=True),
}
# the calls a web handler may await: the eager call, or ``open()`` on the lazy stream
OPENED: Dict[str, Callable[[Any], Any]] = {
    **CREATED,
    **{f"{family}.stream().open()": (lambda c, f=family: STREAMS[f](c).open()) for family in STREAMS},
}


def rate_limited(seen: List[httpx.Request]) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(429, json=RATE_LIMITED, headers={"x-request-id": "req_429", "retry-after": "7"})

    return handler


def streaming(
    seen: List[httpx.Request], bodies: List[RecordingStream]
) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = RecordingStream([CHAT_SSE])
        bodies.append(body)
        return httpx.Response(
            200, headers={"content-type": "text/event-stream", "x-request-id": "req_ok"}, stream=body
        )

    return handler


def check_rate_limited(error: meshapi.RateLimitError) -> None:
    assert isinstance(error, meshapi.APIStatusError)
    assert error.status == 429 and error.error_code == "rate_limit_exceeded"
    assert error.request_id == "req_429" and error.retry_after_seconds == 7.0
    assert error.response is not None and error.response.status_code == 429


@pytest.mark.parametrize("family", list(OPENED))
async def test_an_error_status_is_raised_by_the_opening_call_before_any_iteration(
    make_client: Any, family: str
) -> None:
    seen: List[httpx.Request] = []
    client = make_client(rate_limited(seen), max_retries=0)
    with pytest.raises(meshapi.RateLimitError) as caught:
        await resolve(OPENED[family](client))
    check_rate_limited(caught.value)
    assert len(seen) == 1


@pytest.mark.parametrize("family", list(STREAMS))
async def test_stream_methods_send_nothing_until_the_first_item(make_client: Any, family: str) -> None:
    seen: List[httpx.Request] = []
    client = make_client(rate_limited(seen), max_retries=0)
    stream = STREAMS[family](client)
    assert seen == [] and stream.response is None and not stream.closed
    with pytest.raises(meshapi.RateLimitError) as caught:
        await collect(stream)
    check_rate_limited(caught.value)
    assert len(seen) == 1


async def test_create_stream_true_opens_once_and_reads_live(make_client: Any) -> None:
    seen: List[httpx.Request] = []
    bodies: List[RecordingStream] = []
    client = make_client(streaming(seen, bodies))
    stream = await resolve(OPENED["chat"](client))
    assert len(seen) == 1 and json.loads(seen[0].content)["stream"] is True
    assert stream.request_id == "req_ok" and bodies[0].sent == 0  # status read, body not yet
    assert stream is await resolve(stream.open())  # already open: nothing sent again
    assert await collect(stream.text_stream) == ["hi"]
    assert len(seen) == 1 and bodies[0].closed and stream.closed


@pytest.mark.parametrize("family", list(CREATED))
async def test_create_stream_true_returns_the_stream_class_already_open(
    make_client: Any, family: str
) -> None:
    seen: List[httpx.Request] = []
    bodies: List[RecordingStream] = []
    client = make_client(streaming(seen, bodies))
    stream = await resolve(CREATED[family](client))
    assert type(stream) is type(STREAMS[family](client))  # the class .stream() returns
    assert len(seen) == 1 and json.loads(seen[0].content)["stream"] is True
    assert stream.response is not None and stream.request_id == "req_ok" and bodies[0].sent == 0
    await close(stream)
    assert stream.closed and bodies[0].closed and len(seen) == 1


@pytest.mark.parametrize("family", ["responses", "compare", "images"])
async def test_raw_view_of_create_stream_true_hands_over_the_stream(
    make_client: Any, mode: str, family: str
) -> None:
    seen: List[httpx.Request] = []
    bodies: List[RecordingStream] = []
    client = make_client(streaming(seen, bodies))
    resource = client.images if family == "images" else getattr(client, family)
    method = "generate" if family == "images" else "create"
    args = {"responses": {"input": "hi"}, "compare": {"models": P.MODELS, "messages": MESSAGES}}
    raw = await resolve(
        getattr(resource.with_raw_response, method)(**args.get(family, {"prompt": "p"}), stream=True)
    )
    assert raw.status_code == 200 and len(seen) == 1 and bodies[0].sent == 0
    stream = raw.parse()
    assert type(stream) is type(STREAMS[family](client))
    await close(stream)
    assert bodies[0].closed and len(seen) == 1


async def test_open_on_a_closed_stream_sends_nothing(make_client: Any) -> None:
    seen: List[httpx.Request] = []
    client = make_client(streaming(seen, []))
    stream = STREAMS["chat"](client)
    await close(stream)
    assert await resolve(stream.open()) is stream
    assert seen == [] and stream.closed and await collect(stream) == []


async def test_with_on_a_closed_stream_sends_nothing(make_client: Any, mode: str) -> None:
    seen: List[httpx.Request] = []
    client = make_client(streaming(seen, []))
    stream = STREAMS["chat"](client)
    await close(stream)
    if mode == "async":
        async with stream as entered:
            assert entered is stream
    else:
        with stream as entered:
            assert entered is stream
    assert seen == [] and stream.closed


@pytest.mark.parametrize("how", ["close", "with", "garbage"])
async def test_an_opened_stream_never_read_releases_its_connection(
    make_client: Any, mode: str, how: str
) -> None:
    bodies: List[RecordingStream] = []
    client = make_client(streaming([], bodies))
    stream = await resolve(OPENED["chat"](client))
    assert not bodies[0].closed
    if how == "close":
        await close(stream)
        assert stream.closed
    elif how == "with":
        if mode == "sync":
            with stream:
                pass
        else:
            async with stream:
                pass
        assert stream.closed
    else:
        del stream
        gc.collect()
    # async garbage: the loop's async-generator finaliser closes it in a task of its own
    await async_wait_until(lambda: bodies[0].closed, timeout=5.0, what="response body closed")
    assert bodies[0].sent == 0


async def test_raw_and_streaming_views_of_create_stream_true_send_once(make_client: Any, mode: str) -> None:
    seen: List[httpx.Request] = []
    bodies: List[RecordingStream] = []
    client = make_client(streaming(seen, bodies))
    raw = await resolve(
        client.chat.completions.with_raw_response.create(model="m", messages=MESSAGES, stream=True)
    )
    assert raw.status_code == 200 and len(seen) == 1
    assert await collect(raw.parse().text_stream) == ["hi"]

    view = client.chat.completions.with_streaming_response.create(model="m", messages=MESSAGES, stream=True)
    if mode == "sync":
        with view as response:
            stream = response.parse()
            assert bodies[1].sent == 0  # handed over unread: the stream reads it live
            texts = await collect(stream.text_stream)
    else:
        async with view as response:
            stream = await response.parse()
            assert bodies[1].sent == 0
            texts = await collect(stream.text_stream)
    assert texts == ["hi"] and len(seen) == 2 and bodies[1].closed and stream.closed
