"""What ``timeout``, ``total_timeout`` and ``stream_idle_timeout`` each bound, on calls and on streams,
held against the gateway's slow-generation scenarios (keep-alive comments only, a late first event),
sync and async (also on the aiohttp transport). One row per statement of the README's "Timeouts"."""

from __future__ import annotations

import time
from typing import Any, List

import pytest
from pydantic import BaseModel

import meshapi
from tests.conftest import resolve
from tests.faults.conftest import Harness
from tests.faults.helpers import CHAT, MESSAGES, MODEL, drain, stream_chat, text_of
from tests.faults.test_matrix import attempts


async def failing_stream(client: Any, **kwargs: Any) -> Any:
    got: List[Any] = []
    started = time.monotonic()
    with pytest.raises(meshapi.StreamIdleTimeoutError) as info:
        await drain(client.chat.completions.stream(model=MODEL, messages=MESSAGES, **kwargs), got)
    assert got == []
    return info.value, time.monotonic() - started


@pytest.mark.parametrize("where", ["client", "call"])
async def test_keepalives_do_not_reset_stream_idle_timeout(
    tharness: Harness, gateway: Any, where: str
) -> None:
    gateway.faults.add(CHAT, keepalive_seconds=4, keepalive_interval=0.1)
    if where == "client":
        client = tharness.client(gateway.base_url, timeout=10, stream_idle_timeout=0.5)
        error, elapsed = await failing_stream(client)
    else:
        client = tharness.client(gateway.base_url, timeout=10)
        error, elapsed = await failing_stream(client, stream_idle_timeout=0.5)
    assert 0.5 <= elapsed < 1.5, elapsed  # keep-alives every 0.1 s for 4 s held nothing open
    assert isinstance(error, meshapi.APITimeoutError) and isinstance(error, meshapi.StreamInterruptedError)
    assert (error.timeout_name, error.idle_seconds, error.error_code) == (
        "stream_idle_timeout",
        0.5,
        "stream_idle_timeout",
    )
    assert "no event arrived within the 0.5 s stream_idle_timeout (only comments or keep-alives)" in str(
        error
    )
    assert error.request_id == attempts(gateway)[0].request_id and len(attempts(gateway)) == 1
    assert tharness.sleeps == [] and error.partial is None
    await tharness.assert_released(client)


async def test_without_it_the_read_timeout_is_the_gap(tharness: Harness, gateway: Any) -> None:
    gateway.faults.add(CHAT, keepalive_seconds=4, keepalive_interval=0.1)
    client = tharness.client(gateway.base_url, timeout=0.5)
    error, elapsed = await failing_stream(client)
    assert 0.5 <= elapsed < 1.5, elapsed
    assert (error.timeout_name, error.idle_seconds) == ("timeout", 0.5)
    assert "no event arrived within the 0.5 s read timeout" in str(error)
    await tharness.assert_released(client)


async def test_a_silent_first_token_past_stream_idle_timeout(tharness: Harness, gateway: Any) -> None:
    gateway.faults.add(CHAT, first_event_delay=2.0)
    client = tharness.client(gateway.base_url, timeout=10)
    error, elapsed = await failing_stream(client, stream_idle_timeout=0.4)
    assert 0.4 <= elapsed < 1.4, elapsed
    assert "no data arrived within the 0.4 s stream_idle_timeout" in str(error)
    assert error.timeout_name == "stream_idle_timeout"
    await tharness.assert_released(client)


async def test_stream_idle_timeout_replaces_the_read_timeout_of_a_stream(
    tharness: Harness, gateway: Any
) -> None:
    gateway.faults.add(CHAT, first_event_delay=0.8)
    client = tharness.client(gateway.base_url, timeout=0.3, stream_idle_timeout=2)
    _, chunks = await stream_chat(client)  # a first token after 0.8 s: past timeout, within the idle one
    assert text_of(chunks)
    gateway.faults.add(CHAT, keepalive_seconds=0.6, keepalive_interval=0.1)
    _, chunks = await stream_chat(client)  # comments for 0.6 s, then events: within 2 s
    gateway.faults.add(CHAT, delay_first_byte=0.8)
    _, chunks = await stream_chat(client)  # the headers after 0.8 s: the wait for them too
    assert text_of(chunks) and len(attempts(gateway)) == 3
    await tharness.assert_released(client)


async def test_calls_are_not_bounded_by_stream_idle_timeout(tharness: Harness, gateway: Any) -> None:
    gateway.faults.add(CHAT, delay_first_byte=0.5)
    client = tharness.client(gateway.base_url, stream_idle_timeout=0.1)
    reply = await resolve(client.chat.completions.create(model=MODEL, messages=MESSAGES))
    assert reply.choices[0].message.content
    gateway.faults.add(CHAT, delay_first_byte=0.6)
    with pytest.raises(meshapi.APITimeoutError) as info:  # a call's read: ``timeout``
        await resolve(client.chat.completions.create(model=MODEL, messages=MESSAGES, timeout=0.2))
    assert not isinstance(info.value, meshapi.StreamInterruptedError)
    await tharness.assert_released(client)


async def test_total_timeout_bounds_a_stream_until_its_first_event(tharness: Harness, gateway: Any) -> None:
    gateway.faults.add(CHAT, first_event_delay=1.5)
    client = tharness.client(gateway.base_url, stream_idle_timeout=5)
    started = time.monotonic()
    with pytest.raises(meshapi.StreamInterruptedError) as info:  # the headers came: the stream had begun
        await drain(client.chat.completions.stream(model=MODEL, messages=MESSAGES, total_timeout=0.4), [])
    assert 0.4 <= time.monotonic() - started < 1.2
    assert info.value.error_code == "total_timeout"
    assert "no event arrived before the call's total_timeout (after 0 items" in str(info.value)
    gateway.faults.add(CHAT, delay_first_byte=1.5)
    with pytest.raises(meshapi.APITimeoutError) as timed_out:  # no headers yet: the call's own error
        await drain(client.chat.completions.stream(model=MODEL, messages=MESSAGES, total_timeout=0.4), [])
    assert timed_out.value.error_code == "total_timeout"
    await tharness.assert_released(client)


@pytest.mark.parametrize("bad", [0, -1, float("nan"), "5", True])
def test_bad_values_are_refused(bad: Any) -> None:
    with pytest.raises(meshapi.ConfigurationError, match="stream_idle_timeout"):
        meshapi.MeshAPI(base_url="http://127.0.0.1:9", token="t", stream_idle_timeout=bad)
    client = meshapi.MeshAPI(base_url="http://127.0.0.1:9", token="t")
    with pytest.raises(meshapi.InvalidParamsError, match="stream_idle_timeout"):
        client.chat.completions.create(model=MODEL, messages=MESSAGES, stream_idle_timeout=bad)
    with pytest.raises(meshapi.ConfigurationError, match="stream_idle_timeout"):
        client.with_options(stream_idle_timeout=bad)
    client.close()


# --- stream_internally: a non-streaming create that streams under the hood ------------------------------

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


class Capital(BaseModel):
    city: str
    country: str


def without_ids(reply: Any) -> Any:
    """Everything but what each request gets anew: its id, its time, its tool calls' ids."""
    data = reply.model_dump()
    data.pop("id"), data.pop("created")
    for choice in data["choices"]:
        for call in choice["message"].get("tool_calls") or ():
            call.pop("id")
    return data


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"tools": [WEATHER], "messages": [{"role": "user", "content": "Weather in Rome?"}]},
        {"response_format": Capital},
    ],
    ids=["text", "tools", "parsed"],
)
async def test_stream_internally_returns_what_a_plain_call_returns(
    tharness: Harness, gateway: Any, kwargs: Any
) -> None:
    kwargs = {"model": MODEL, "messages": MESSAGES, **kwargs}
    client = tharness.client(gateway.base_url)
    plain = await resolve(client.chat.completions.create(**kwargs))
    tharness.rebaseline()  # the gateway's worker threads started with the first call
    internal = await resolve(client.chat.completions.create(**kwargs, stream_internally=True))
    assert type(internal) is type(plain) and without_ids(internal) == without_ids(plain)
    assert internal.usage is not None and internal.usage == plain.usage
    assert internal.choices[0].message.parsed == plain.choices[0].message.parsed
    defaulted = tharness.client(gateway.base_url, stream_internally=True)
    assert without_ids(await resolve(defaulted.chat.completions.create(**kwargs))) == without_ids(plain)
    off = await resolve(defaulted.chat.completions.create(**kwargs, stream_internally=False))
    seen = attempts(gateway)
    assert [r.json.get("stream", False) for r in seen] == [False, True, True, False]
    assert all("stream_internally" not in r.json for r in seen) and without_ids(off) == without_ids(plain)
    await tharness.assert_released(defaulted)
    await tharness.assert_released(client)


async def test_a_slow_generation_times_out_unless_streamed_internally(
    tharness: Harness, gateway: Any
) -> None:
    gateway.faults.add(CHAT, delay_first_byte=0.8, times=2)
    client = tharness.client(gateway.base_url, timeout=0.3, stream_idle_timeout=3)
    with pytest.raises(meshapi.APITimeoutError) as info:
        await resolve(client.chat.completions.create(model=MODEL, messages=MESSAGES))
    assert "(read timeout)" in str(info.value) and "stream_internally=True" in str(info.value)
    reply = await resolve(
        client.chat.completions.create(model=MODEL, messages=MESSAGES, stream_internally=True)
    )
    assert reply.choices[0].message.content and len(attempts(gateway)) == 2
    with pytest.raises(meshapi.InvalidParamsError, match="stream_internally"):
        await resolve(client.chat.completions.create(model=MODEL, messages=MESSAGES, stream_internally="yes"))
    await tharness.assert_released(client)
