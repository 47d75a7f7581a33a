"""The stream rows of the fault matrix: what the gateway's providers do inside a 200 stream, over real
sockets, sync and async (also on the aiohttp transport): an error frame as the first event (chat and
Responses; retried under the policy, then along the fallback chain), one after content
(``StreamInterruptedError`` with ``partial``), tool-call deltas without ``index`` or ids. Same checks as ``test_matrix.py``: attempts,
fake-sleep delays, one Idempotency-Key, typed errors with request ids, nothing left behind."""

from __future__ import annotations

import logging
from typing import Any, List

import pytest

import meshapi
from meshapi import FallbackEvent, RetryEvent
from tests.conftest import resolve
from tests.faults.conftest import Harness
from tests.faults.helpers import (
    CHAT,
    MESSAGES,
    MODEL,
    assert_backoff,
    assert_hinted,
    drain,
    stream_chat,
    text_of,
)
from tests.faults.test_matrix import LONG, attempts, one_key, reference

BACKUP = "anthropic/claude-3.5-haiku"


def retry_counts(seen: List[Any]) -> List[str]:
    return [r.headers.get("x-meshapi-retry-count") for r in seen]


@pytest.mark.parametrize("opened", ["stream", "create"])
async def test_error_frame_first_is_retried_with_backoff(
    tharness: Harness, gateway: Any, opened: str
) -> None:
    expected = await reference(tharness, gateway)
    gateway.faults.add(CHAT, error_event_after=0, times=2, error_code="provider_overloaded")
    events: List[Any] = []
    client = tharness.client(gateway.base_url, logger=events.append)
    if opened == "stream":
        stream, chunks = await stream_chat(client)
    else:
        stream = await resolve(client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True))
        chunks = []
        await drain(stream, chunks)
    assert text_of(chunks) == expected.choices[0].message.content
    seen = attempts(gateway)
    assert len(seen) == 3 and retry_counts(seen) == ["0", "1", "2"]
    one_key(seen)
    assert_backoff(tharness.sleeps, 2)
    assert stream.request_id == seen[2].request_id
    assert [(e.reason, e.status, e.attempt, e.request_id) for e in events if isinstance(e, RetryEvent)] == [
        ("stream-error", 503, 1, seen[0].request_id),
        ("stream-error", 503, 2, seen[1].request_id),
    ]
    await tharness.assert_released(client)


async def test_error_frame_first_honours_its_retry_hint(tharness: Harness, gateway: Any) -> None:
    gateway.faults.add(CHAT, error_event_after=0, error_code="rate_limit_exceeded", error_retry_after=1)
    client = tharness.client(gateway.base_url)
    _, chunks = await stream_chat(client)
    assert text_of(chunks)
    seen = attempts(gateway)
    assert len(seen) == 2
    one_key(seen)
    assert_hinted(tharness.sleeps, 1.0, 1)
    await tharness.assert_released(client)


async def test_error_frame_first_every_time_raises_after_the_retries(tharness: Harness, gateway: Any) -> None:
    gateway.faults.add(CHAT, error_event_after=0, times=-1, error_code="gateway_timeout")
    client = tharness.client(gateway.base_url)
    got: List[Any] = []
    with pytest.raises(meshapi.StreamEventError) as info:
        await drain(client.chat.completions.stream(model=MODEL, messages=LONG), got)
    seen = attempts(gateway)
    assert got == [] and len(seen) == 4
    one_key(seen)
    assert_backoff(tharness.sleeps, 3)
    assert info.value.error_code == "gateway_timeout" and info.value.status == 0
    assert info.value.request_id == seen[-1].request_id
    await tharness.assert_released(client)


async def test_error_frame_first_with_a_code_that_is_not_retryable(tharness: Harness, gateway: Any) -> None:
    gateway.faults.add(CHAT, error_event_after=0, error_code="content_policy_violation")
    client = tharness.client(gateway.base_url)
    got: List[Any] = []
    with pytest.raises(meshapi.StreamEventError) as info:
        await drain(client.chat.completions.stream(model=MODEL, messages=LONG), got)
    assert got == [] and len(attempts(gateway)) == 1 and tharness.sleeps == []
    assert info.value.error_code == "content_policy_violation"
    await tharness.assert_released(client)


async def test_error_frame_first_falls_back_after_the_retries(
    tharness: Harness, gateway: Any, caplog: pytest.LogCaptureFixture
) -> None:
    gateway.faults.add(CHAT, error_event_after=0, times=2, error_code="upstream_error")
    events: List[Any] = []
    client = tharness.client(gateway.base_url, max_retries=1, logger=events.append)
    with caplog.at_level(logging.DEBUG, logger="meshapi"):
        stream, chunks = await stream_chat(client, fallback_models=[BACKUP])
    seen = attempts(gateway)
    assert [r.json["model"] for r in seen] == [MODEL, MODEL, BACKUP]
    assert chunks[0].model == BACKUP and stream.request_id == seen[2].request_id
    keys = [r.headers["idempotency-key"] for r in seen]
    assert keys[0] == keys[1] != keys[2]
    retry, hop = events
    assert isinstance(retry, RetryEvent) and (retry.reason, retry.status) == ("stream-error", 502)
    assert hop == FallbackEvent(MODEL, BACKUP, 1, 1, 502, "upstream_error", seen[1].request_id)
    lines = [r.getMessage() for r in caplog.records if r.name == "meshapi"]
    assert any(
        line.startswith("POST /v1/chat/completions -> in-band error upstream_error; retrying in")
        for line in lines
    )
    assert f"falling back from {MODEL} to {BACKUP} after 502" in lines
    await tharness.assert_released(client)


@pytest.mark.parametrize("code", ["upstream_error", "provider_overloaded"])
async def test_error_frame_after_content_is_an_interruption_with_partial(
    tharness: Harness, gateway: Any, code: str
) -> None:
    gateway.faults.add(CHAT, error_event_after=3, error_code=code)
    client = tharness.client(gateway.base_url)
    got: List[Any] = []
    with pytest.raises(meshapi.StreamInterruptedError) as info:
        await drain(client.chat.completions.stream(model=MODEL, messages=LONG), got)
    seen = attempts(gateway)
    assert len(got) == 3 and len(seen) == 1 and tharness.sleeps == []  # never retried silently
    assert isinstance(info.value, meshapi.StreamEventError) and info.value.error_code == code
    partial = info.value.partial
    assert isinstance(partial, meshapi.types.ChatCompletionResponse)
    assert partial.choices[0].message.content == text_of(got) and partial.id == got[0].id
    assert info.value.request_id == seen[0].request_id
    await tharness.assert_released(client)


async def test_dropped_stream_carries_partial(tharness: Harness, gateway: Any) -> None:
    gateway.faults.add(CHAT, drop_after_events=2)
    client = tharness.client(gateway.base_url)
    got: List[Any] = []
    with pytest.raises(meshapi.StreamInterruptedError) as info:
        await drain(client.chat.completions.stream(model=MODEL, messages=LONG), got)
    assert len(got) == 2 and info.value.partial.choices[0].message.content == text_of(got)
    assert info.value.request_id == attempts(gateway)[0].request_id
    await tharness.assert_released(client)


WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
ROME = [{"role": "user", "content": "Weather in Rome?"}]


async def final_of(stream: Any) -> Any:
    got = stream.get_final_completion()
    return await got if hasattr(got, "__await__") else got


async def test_tool_call_deltas_without_index_or_ids(tharness: Harness, gateway: Any) -> None:
    client = tharness.client(gateway.base_url)
    plain = await final_of(client.chat.completions.stream(model=MODEL, messages=ROME, tools=[WEATHER]))
    tharness.rebaseline()  # the gateway's worker thread for tool answers started with the first call
    gateway.faults.add(CHAT, tool_calls_without_index=True)
    stream = client.chat.completions.stream(model=MODEL, messages=ROME, tools=[WEATHER])
    events: List[Any] = []
    if hasattr(stream, "__aiter__"):
        async for event in stream.events():
            events.append(event)
    else:
        events.extend(stream.events())
    final = await final_of(stream)
    (expected,) = plain.choices[0].message.tool_calls
    (call,) = final.choices[0].message.tool_calls
    assert call.id == "call_0_0" and expected.id != call.id  # the gateway's id was stripped: generated
    assert call.function == expected.function and call.type == "function"
    done = [e for e in events if e.type == "tool_calls.function.arguments.done"]
    assert [(e.index, e.name, e.arguments) for e in done] == [(0, "get_weather", expected.function.arguments)]
    assert final.choices[0].finish_reason == plain.choices[0].finish_reason == "tool_calls"
    await tharness.assert_released(client)


# --- stream_fallback_to_blocking: one non-streaming call answers a stream that could not be opened -------


def same_reply(a: Any, b: Any) -> bool:
    da, db = a.model_dump(), b.model_dump()
    for data in (da, db):
        data.pop("id"), data.pop("created")
    return bool(da == db)


@pytest.mark.parametrize("where", ["client", "with_options", "call"])
async def test_stream_fallback_to_blocking_after_the_retries(
    tharness: Harness, gateway: Any, where: str
) -> None:
    expected = await reference(tharness, gateway)
    gateway.faults.add(CHAT, status=503, times=4)
    client = tharness.client(gateway.base_url, stream_fallback_to_blocking=where == "client")
    used = client.with_options(stream_fallback_to_blocking=True) if where == "with_options" else client
    used._http._sleep = client._http._sleep  # the copy sleeps through the harness's fake too
    extra = {"stream_fallback_to_blocking": True} if where == "call" else {}
    stream, chunks = await stream_chat(used, **extra)
    seen = attempts(gateway)
    assert [r.json["stream"] for r in seen] == [True] * 4 + [False]
    one_key(seen[:4])
    assert seen[4].headers["idempotency-key"] != seen[0].headers["idempotency-key"]
    assert_backoff(tharness.sleeps, 3)
    assert text_of(chunks) == expected.choices[0].message.content
    assert stream.request_id == seen[4].request_id
    final = stream.get_final_completion()
    final = await final if hasattr(final, "__await__") else final
    assert same_reply(final, expected) and final.usage == expected.usage
    await tharness.assert_released(client)


async def test_stream_fallback_to_blocking_after_error_frames(tharness: Harness, gateway: Any) -> None:
    client = tharness.client(gateway.base_url, max_retries=1)
    plain = await final_of(client.chat.completions.stream(model=MODEL, messages=ROME, tools=[WEATHER]))
    tharness.rebaseline()
    gateway.requests.clear()
    gateway.faults.add(CHAT, error_event_after=0, times=2, error_code="provider_overloaded")
    stream = client.chat.completions.stream(
        model=MODEL, messages=ROME, tools=[WEATHER], stream_fallback_to_blocking=True
    )
    events: List[Any] = []
    if hasattr(stream, "__aiter__"):
        async for event in stream.events():
            events.append(event)
    else:
        events.extend(stream.events())
    final = await final_of(stream)
    assert [r.json["stream"] for r in attempts(gateway)] == [True, True, False]
    assert final.choices[0].message.tool_calls[0].function == plain.choices[0].message.tool_calls[0].function
    assert final.choices[0].finish_reason == "tool_calls" and final.usage == plain.usage
    done = [e for e in events if e.type == "tool_calls.function.arguments.done"]
    assert [(e.index, e.name) for e in done] == [(0, "get_weather")]
    await tharness.assert_released(client)


@pytest.mark.parametrize("status", [400, 422])
async def test_no_blocking_call_for_what_it_would_fail_the_same_way(
    tharness: Harness, gateway: Any, status: int
) -> None:
    gateway.faults.add(CHAT, status=status, times=-1)
    client = tharness.client(gateway.base_url, stream_fallback_to_blocking=True)
    with pytest.raises(meshapi.APIStatusError) as info:
        await stream_chat(client)
    assert info.value.status == status and len(attempts(gateway)) == 1
    await tharness.assert_released(client)


async def test_without_the_option_an_unopened_stream_raises(tharness: Harness, gateway: Any) -> None:
    gateway.faults.add(CHAT, status=503, times=-1)
    client = tharness.client(gateway.base_url)
    with pytest.raises(meshapi.InternalServerError):
        await stream_chat(client)
    assert [r.json["stream"] for r in attempts(gateway)] == [True] * 4
    with pytest.raises(meshapi.InvalidParamsError, match="stream_fallback_to_blocking"):
        await stream_chat(client, stream_fallback_to_blocking="yes")
    await tharness.assert_released(client)


RESPONSES = "/v1/responses"


def _streamed_text(events: List[Any]) -> str:
    return "".join(e.delta for e in events if e.type == "response.output_text.delta")


@pytest.mark.parametrize("fault", ["error_event_after", "drop_after_events"])
async def test_a_responses_stream_broken_after_content_carries_partial(
    tharness: Harness, gateway: Any, fault: str
) -> None:
    plan = {"error_event_after": 6, "error_code": "upstream_error"} if fault == "error_event_after" else {}
    gateway.faults.add(RESPONSES, **(plan or {"drop_after_events": 6}))
    client = tharness.client(gateway.base_url)
    got: List[Any] = []
    with pytest.raises(meshapi.StreamInterruptedError) as info:
        await drain(
            client.responses.stream(model=MODEL, input="Tell me a long story about the sea " * 8), got
        )
    seen = list(gateway.requests.filter(path=RESPONSES, method="POST"))
    assert len(got) == 6 and len(seen) == 1 and tharness.sleeps == []  # never retried silently
    text = _streamed_text(got)
    assert text  # content had reached the caller
    partial = info.value.partial
    assert isinstance(partial, meshapi.types.ResponsesResponse)
    assert partial.output_text == text
    assert partial.id == got[0].response["id"] and partial.status == "in_progress"
    assert info.value.request_id == seen[0].request_id
    await tharness.assert_released(client)


async def test_a_responses_stream_whose_first_event_is_an_error_frame_is_retried(
    tharness: Harness, gateway: Any
) -> None:
    ask = {"model": MODEL, "input": "Tell me about the sea"}
    events: List[Any] = []
    client = tharness.client(gateway.base_url, logger=events.append)
    plain: List[Any] = []
    await drain(client.responses.stream(**ask), plain)
    gateway.requests.clear()
    gateway.faults.add(RESPONSES, error_event_after=0, times=2, error_code="provider_overloaded")
    got: List[Any] = []
    await drain(client.responses.stream(**ask), got)
    seen = list(gateway.requests.filter(path=RESPONSES, method="POST"))
    assert _streamed_text(got) == _streamed_text(plain) and len(seen) == 3
    assert retry_counts(seen) == ["0", "1", "2"]
    one_key(seen)
    assert_backoff(tharness.sleeps, 2)
    assert [(e.reason, e.status, e.request_id) for e in events if isinstance(e, RetryEvent)] == [
        ("stream-error", 503, seen[0].request_id),
        ("stream-error", 503, seen[1].request_id),
    ]
    await tharness.assert_released(client)
