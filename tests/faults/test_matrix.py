"""The fault matrix against the local gateway over real sockets: one test body, sync and async.

Each row names a fault the gateway's plan injects, where it hits (a plain call, the opening of a
stream, or the middle of one) and asserts the exact outcome: the attempts the gateway saw, the delays
the client chose (a recording fake sleep, so nothing waits for real), one Idempotency-Key across
attempts, the typed error and its request id, what the caller already received, and that no
connection, thread, task or file descriptor is left behind. Transport faults the gateway cannot make
(refused, RST before or after the headers) are in test_raw_peers.py.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from typing import Any, List

import pytest

import meshapi
from tests.conftest import close
from tests.faults.conftest import Harness
from tests.faults.helpers import (
    CHAT,
    assert_backoff,
    assert_hinted,
    create,
    drain,
    stream_chat,
    text_of,
)

LONG = [{"role": "user", "content": "Tell me a long story about the sea " * 8}]


def attempts(gateway: Any) -> List[Any]:
    return list(gateway.requests.filter(path=CHAT, method="POST"))


def one_key(seen: List[Any]) -> None:
    keys = {r.headers.get("idempotency-key") for r in seen}
    assert len(keys) == 1 and None not in keys, keys


async def reference(tharness: Harness, gateway: Any) -> Any:
    """The fault-free answer, to compare what a retried call finally returned."""
    client = tharness.client(gateway.base_url)
    reply = await create(client)
    await close(client)
    gateway.requests.clear()
    tharness.rebaseline()  # the reference client's sockets are gone; measure leaks from here
    return reply


# --- retryable statuses, with and without hints ----------------------------------------------------


@pytest.mark.parametrize("call", ["create", "stream"])
async def test_429_retry_after_seconds(tharness: Harness, gateway: Any, call: str) -> None:
    expected = await reference(tharness, gateway)
    gateway.faults.add(CHAT, status=429, retry_after=1, times=2)
    client = tharness.client(gateway.base_url)
    if call == "create":
        reply = await create(client)
        assert reply.choices[0].message.content == expected.choices[0].message.content
    else:
        _, chunks = await stream_chat(client)
        assert text_of(chunks) == expected.choices[0].message.content
    seen = attempts(gateway)
    assert len(seen) == 3
    one_key(seen)
    assert_hinted(tharness.sleeps, 1.0, 2)
    await tharness.assert_released(client)


@pytest.mark.parametrize("call", ["create", "stream"])
async def test_429_retry_after_http_date(tharness: Harness, gateway: Any, call: str) -> None:
    when = email.utils.formatdate(time.time() + 3, usegmt=True)
    gateway.faults.add(CHAT, status=429, headers={"Retry-After": when}, times=1)
    client = tharness.client(gateway.base_url)
    if call == "create":
        await create(client)
    else:
        await stream_chat(client)
    assert len(attempts(gateway)) == 2
    one_key(attempts(gateway))
    # a whole-second date three seconds ahead: between 2 and 3 s from now, plus at most 20 % jitter
    assert len(tharness.sleeps) == 1 and 1.5 <= tharness.sleeps[0] <= 3.0 * 1.2, tharness.sleeps
    await tharness.assert_released(client)


@pytest.mark.parametrize("call", ["create", "stream"])
async def test_429_retry_after_ms(tharness: Harness, gateway: Any, call: str) -> None:
    gateway.faults.add(CHAT, status=429, retry_after_ms=250, retry_after=30, times=1)
    client = tharness.client(gateway.base_url)
    if call == "create":
        await create(client)
    else:
        await stream_chat(client)
    assert len(attempts(gateway)) == 2
    assert_hinted(tharness.sleeps, 0.25, 1)  # retry-after-ms wins over Retry-After
    await tharness.assert_released(client)


@pytest.mark.parametrize("call", ["create", "stream"])
async def test_429_exhausted_raises_rate_limit_error(tharness: Harness, gateway: Any, call: str) -> None:
    gateway.faults.add(CHAT, status=429, retry_after=0, times=10)
    client = tharness.client(gateway.base_url, max_retries=2)
    got: List[Any] = []
    with pytest.raises(meshapi.RateLimitError) as info:
        if call == "create":
            await create(client)
        else:
            await drain(client.chat.completions.stream(model="openai/gpt-4o-mini", messages=LONG), got)
    seen = attempts(gateway)
    assert len(seen) == 3 and got == []
    one_key(seen)
    assert info.value.status == 429 and info.value.retry_after_seconds == 0
    assert info.value.request_id == seen[-1].request_id  # the last attempt's id
    assert info.value.request_id in str(info.value)
    assert_hinted(tharness.sleeps, 0.0, 2)
    await tharness.assert_released(client)


async def test_429_hint_beyond_the_cap_is_not_waited(tharness: Harness, gateway: Any) -> None:
    gateway.faults.add(CHAT, status=429, retry_after=3600, times=1)
    client = tharness.client(gateway.base_url)
    with pytest.raises(meshapi.RateLimitError) as info:
        await create(client)
    assert info.value.retry_after_seconds == 3600
    assert len(attempts(gateway)) == 1 and tharness.sleeps == []
    await tharness.assert_released(client)


@pytest.mark.parametrize("call", ["create", "stream"])
async def test_500_is_not_retried(tharness: Harness, gateway: Any, call: str) -> None:
    gateway.faults.add(CHAT, status=500, times=1)
    client = tharness.client(gateway.base_url)
    with pytest.raises(meshapi.InternalServerError) as info:
        if call == "create":
            await create(client)
        else:
            await stream_chat(client)
    seen = attempts(gateway)
    assert len(seen) == 1 and tharness.sleeps == []
    assert info.value.status == 500 and info.value.request_id == seen[0].request_id
    await tharness.assert_released(client)


@pytest.mark.parametrize("status", [502, 503, 504])
@pytest.mark.parametrize("call", ["create", "stream"])
async def test_5xx_then_success(tharness: Harness, gateway: Any, call: str, status: int) -> None:
    expected = await reference(tharness, gateway)
    gateway.faults.add(CHAT, status=status, times=2)
    client = tharness.client(gateway.base_url)
    if call == "create":
        reply = await create(client)
        assert reply.choices[0].message.content == expected.choices[0].message.content
    else:
        stream, chunks = await stream_chat(client)
        assert text_of(chunks) == expected.choices[0].message.content
        assert stream.request_id == attempts(gateway)[-1].request_id
    seen = attempts(gateway)
    assert len(seen) == 3
    one_key(seen)
    assert_backoff(tharness.sleeps, 2)
    await tharness.assert_released(client)


@pytest.mark.parametrize("status", [502, 503, 504])
async def test_5xx_exhausted(tharness: Harness, gateway: Any, status: int) -> None:
    gateway.faults.add(CHAT, status=status, times=10)
    client = tharness.client(gateway.base_url)
    with pytest.raises(meshapi.InternalServerError) as info:
        await create(client)
    seen = attempts(gateway)
    assert len(seen) == 4
    one_key(seen)
    assert info.value.status == status and info.value.request_id == seen[-1].request_id
    assert_backoff(tharness.sleeps, 3)
    await tharness.assert_released(client)


# --- timeouts ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("call", ["create", "stream"])
@pytest.mark.parametrize("resend", [False, True])
async def test_slow_first_byte_times_out_and_is_retried(
    tharness: Harness, gateway: Any, call: str, resend: bool
) -> None:
    # A POST that was sent but not answered in time may still be running (and billed): it is re-sent
    # only when the caller opts in with retry_read_timeouts=True.
    gateway.faults.add(CHAT, delay_first_byte=0.6, times=2)
    client = tharness.client(gateway.base_url, timeout=0.15, max_retries=1, retry_read_timeouts=resend)
    started = time.monotonic()
    with pytest.raises(meshapi.APITimeoutError) as info:
        if call == "create":
            await create(client)
        else:
            await stream_chat(client)
    assert time.monotonic() - started < 1.5
    assert info.value.error_code == "timeout" and info.value.request_id == ""
    seen = attempts(gateway)
    assert len(seen) == (2 if resend else 1)
    one_key(seen)
    assert_backoff(tharness.sleeps, 1 if resend else 0)
    await tharness.assert_released(client)


async def test_slow_first_byte_within_the_timeout_succeeds(tharness: Harness, gateway: Any) -> None:
    gateway.faults.add(CHAT, delay_first_byte=0.1, times=1)
    client = tharness.client(gateway.base_url, timeout=2.0)
    assert (await create(client)).choices
    assert len(attempts(gateway)) == 1
    await tharness.assert_released(client)


async def test_stall_between_events_past_the_read_timeout(tharness: Harness, gateway: Any) -> None:
    gateway.faults.add(CHAT, stall_after_events=2, stall_seconds=0.8)
    client = tharness.client(gateway.base_url, timeout=0.2)
    stream = client.chat.completions.stream(model="openai/gpt-4o-mini", messages=LONG)
    got: List[Any] = []
    with pytest.raises(meshapi.StreamInterruptedError) as info:
        await drain(stream, got)
    assert len(got) == 2
    assert "read timeout" in str(info.value) and "after 2 items" in str(info.value)
    assert info.value.request_id == attempts(gateway)[0].request_id
    assert len(attempts(gateway)) == 1 and tharness.sleeps == []
    assert stream.closed
    await tharness.assert_released(client)


# --- cut and broken streams -------------------------------------------------------------------------


@pytest.mark.parametrize("after", [0, 1, 3])
async def test_dropped_connection_after_n_events(tharness: Harness, gateway: Any, after: int) -> None:
    gateway.faults.add(CHAT, drop_after_events=after)
    client = tharness.client(gateway.base_url)
    stream = client.chat.completions.stream(model="openai/gpt-4o-mini", messages=LONG)
    got: List[Any] = []
    with pytest.raises(meshapi.StreamInterruptedError) as info:
        await drain(stream, got)
    assert len(got) == after
    assert info.value.request_id == attempts(gateway)[0].request_id
    assert f"after {after} item" in str(info.value)
    assert len(attempts(gateway)) == 1 and tharness.sleeps == []  # never replayed mid-stream
    await tharness.assert_released(client)


async def test_malformed_frame_mid_stream(tharness: Harness, gateway: Any) -> None:
    gateway.faults.add(CHAT, malformed_after_events=2)
    client = tharness.client(gateway.base_url)
    got: List[Any] = []
    with pytest.raises(meshapi.APIResponseValidationError) as info:
        await drain(client.chat.completions.stream(model="openai/gpt-4o-mini", messages=LONG), got)
    assert len(got) == 2
    assert info.value.request_id == attempts(gateway)[0].request_id
    assert len(attempts(gateway)) == 1
    await tharness.assert_released(client)


@pytest.mark.parametrize("code", ["upstream_error", "gateway_timeout", "rate_limit_exceeded"])
async def test_error_event_mid_stream(tharness: Harness, gateway: Any, code: str) -> None:
    gateway.faults.add(CHAT, error_event_after=2, error_code=code)
    client = tharness.client(gateway.base_url)
    got: List[Any] = []
    with pytest.raises(meshapi.StreamEventError) as info:
        await drain(client.chat.completions.stream(model="openai/gpt-4o-mini", messages=LONG), got)
    assert len(got) == 2
    assert info.value.error_code == code and info.value.status == 0
    assert info.value.request_id == attempts(gateway)[0].request_id
    assert len(attempts(gateway)) == 1 and tharness.sleeps == []  # an in-band error is not retried
    await tharness.assert_released(client)


# --- bodies that are not what they claim -----------------------------------------------------------


async def test_truncated_json_body(tharness: Harness, gateway: Any) -> None:
    gateway.faults.add(CHAT, truncate_body=True, times=10)
    client = tharness.client(gateway.base_url)
    with pytest.raises(meshapi.MeshAPIError) as info:
        await create(client)
    seen = attempts(gateway)
    if isinstance(info.value, meshapi.APIResponseValidationError):
        # a complete HTTP message whose JSON stops half-way: not retried, the request id is kept
        assert len(seen) == 1 and info.value.request_id == seen[0].request_id
    else:
        # fewer bytes than Content-Length promised: a transport failure, retried like one
        assert isinstance(info.value, meshapi.APIConnectionError)
        assert len(seen) == 4
        one_key(seen)
    await tharness.assert_released(client)


@pytest.mark.parametrize("call", ["create", "stream"])
async def test_wrong_content_type(tharness: Harness, gateway: Any, call: str) -> None:
    gateway.faults.add(
        CHAT, content_type="text/html", body=b"<html><body>Bad gateway page</body></html>", status=200
    )
    client = tharness.client(gateway.base_url)
    with pytest.raises(meshapi.APIResponseValidationError) as info:
        if call == "create":
            await create(client)
        else:
            await stream_chat(client)
    assert "text/html" in str(info.value)
    assert info.value.request_id == attempts(gateway)[0].request_id
    assert len(attempts(gateway)) == 1
    await tharness.assert_released(client)


async def test_huge_body(tharness: Harness, gateway: Any) -> None:
    # 8 MiB of valid JSON (the answer plus a padding field): parsed; chat replies keep unknown fields,
    # so the padding is in model_extra, and nothing is kept once the reply is dropped
    expected = await reference(tharness, gateway)
    gateway.faults.add(CHAT, huge_body_bytes=8 * 1024 * 1024)
    client = tharness.client(gateway.base_url)
    reply = await create(client)
    assert len(reply._response.content) >= 8 * 1024 * 1024
    assert reply.choices[0].message.content == expected.choices[0].message.content
    assert len((reply.model_extra or {})["_padding"]) > 7 * 1024 * 1024
    assert len(attempts(gateway)) == 1
    del reply
    await tharness.assert_released(client)


# --- cancellation (async only) ----------------------------------------------------------------------


async def test_cancel_a_call_releases_its_connection(tharness: Harness, gateway: Any) -> None:
    if not tharness.is_async:
        pytest.skip("cancellation is an asyncio feature")
    gateway.faults.add(CHAT, delay_first_byte=1.0)
    client = tharness.client(gateway.base_url)
    task = asyncio.ensure_future(create(client))
    for _ in range(200):  # until the gateway has the request
        if attempts(gateway):
            break
        await asyncio.sleep(0.005)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(attempts(gateway)) == 1
    await tharness.assert_released(client)


async def test_cancel_a_stream_mid_way_releases_its_connection(tharness: Harness, gateway: Any) -> None:
    if not tharness.is_async:
        pytest.skip("cancellation is an asyncio feature")
    gateway.faults.add(CHAT, stall_after_events=2, stall_seconds=2.0)
    client = tharness.client(gateway.base_url)
    got: List[Any] = []
    stream = client.chat.completions.stream(model="openai/gpt-4o-mini", messages=LONG)
    task = asyncio.ensure_future(drain(stream, got))
    for _ in range(200):
        if len(got) == 2:
            break
        await asyncio.sleep(0.005)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(got) == 2
    assert stream.closed  # the cancelled iteration ran the stream's cleanup itself
    await tharness.assert_released(client)
