"""The SDK core against the local gateway over real sockets: chat, streams, models, retries, leaks."""

from __future__ import annotations

import re
from typing import Any, List

import httpx
import pytest

import meshapi
from meshapi import ChatCompletionChunk
from tests.conftest import close, collect, resolve

MODEL = "openai/gpt-4o-mini"
# what the local gateway answers: `req_` and a ULID (Crockford base 32), and its catalogue's free models
REQUEST_ID = re.compile(r"req_[0-9A-HJKMNP-TV-Z]{26}")
FREE_MODELS = ["meta-llama/llama-3.3-70b-instruct", "mistralai/mistral-small", "omni-moderation-latest"]
MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]


def pool_connections(client: Any) -> List[Any]:
    transport = client._http._client._transport
    pool = getattr(transport, "_pool", None)
    return list(pool.connections) if pool is not None else []


def assert_no_connection_checked_out(client: Any) -> None:
    for connection in pool_connections(client):
        assert connection.is_idle() or connection.is_closed(), connection


async def test_create_and_stream_agree(any_client: Any) -> None:
    plain = await resolve(any_client.chat.completions.create(model=MODEL, messages=MESSAGES))
    stream = any_client.chat.completions.stream(model=MODEL, messages=MESSAGES)
    chunks = await collect(stream)
    assert all(isinstance(c, ChatCompletionChunk) for c in chunks)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices and c.choices[0].delta)
    assert text == plain.choices[0].message.content
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == plain.usage.total_tokens
    assert stream.request_id and stream.request_id.startswith("req_")
    assert plain._request_id.startswith("req_")
    assert_no_connection_checked_out(any_client)


async def test_final_completion_matches(any_client: Any) -> None:
    plain = await resolve(any_client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=12))
    final = await resolve(
        any_client.chat.completions.stream(
            model=MODEL, messages=MESSAGES, max_tokens=12
        ).get_final_completion()
    )
    assert final.choices[0].message.content == plain.choices[0].message.content
    assert final.choices[0].finish_reason == plain.choices[0].finish_reason


async def test_models(any_client: Any) -> None:
    models = await resolve(any_client.models.list())
    free = await resolve(any_client.models.free())
    paid = await resolve(any_client.models.paid())
    assert {m.id for m in free} | {m.id for m in paid} == {m.id for m in models}
    assert any(m.id == MODEL for m in models)
    assert REQUEST_ID.fullmatch(models.request_id)


async def test_retry_after_429_then_success_with_one_idempotency_key(any_client: Any, gateway: Any) -> None:
    gateway.faults.add("/v1/chat/completions", status=429, retry_after="0", times=2)
    gateway.requests.clear()
    reply = await resolve(any_client.chat.completions.create(model=MODEL, messages=MESSAGES))
    assert reply.choices
    seen = gateway.requests.filter(path="/v1/chat/completions")
    assert len(seen) == 3
    assert len({r.headers["idempotency-key"] for r in seen}) == 1
    assert_no_connection_checked_out(any_client)


async def test_stream_open_retried_before_first_byte(any_client: Any, gateway: Any) -> None:
    gateway.faults.add("/v1/chat/completions", status=503, times=1)
    gateway.requests.clear()
    chunks = await collect(any_client.chat.completions.stream(model=MODEL, messages=MESSAGES))
    assert chunks and len(gateway.requests.filter(path="/v1/chat/completions")) == 2


async def test_errors_carry_request_ids(any_client: Any, gateway: Any) -> None:
    with pytest.raises(meshapi.NotFoundError) as info:
        await resolve(any_client.chat.completions.create(model="nobody/none", messages=MESSAGES))
    assert info.value.error_code == "model_not_found"
    assert info.value.request_id.startswith("req_") and info.value.request_id in str(info.value)
    with pytest.raises(meshapi.UnprocessableEntityError) as info2:
        await resolve(
            any_client.chat.completions.create(model=MODEL, messages=MESSAGES, extra_body={"temperature": 9})
        )
    assert info2.value.details
    assert_no_connection_checked_out(any_client)


async def test_bad_token(mode: str, gateway: Any) -> None:
    cls = meshapi.MeshAPI if mode == "sync" else meshapi.AsyncMeshAPI
    client = cls(base_url=gateway.base_url, token="rsk_wrong")
    try:
        with pytest.raises(meshapi.AuthenticationError):
            await resolve(client.models.list())
    finally:
        await close(client)


async def test_stream_closed_early_releases_connection(any_client: Any, gateway: Any) -> None:
    stream = any_client.chat.completions.stream(
        model=MODEL, messages=[{"role": "user", "content": "Tell me a long story " * 20}], max_tokens=400
    )
    if hasattr(stream, "__aiter__"):
        async for _ in stream:
            break
    else:
        for _ in stream:
            break
    await close(stream)
    assert_no_connection_checked_out(any_client)
    # the pool still works afterwards
    free = await resolve(any_client.models.free())
    assert [m.id for m in free] == FREE_MODELS


async def test_dropped_stream_raises_interrupted(any_client: Any, gateway: Any) -> None:
    gateway.faults.add("/v1/chat/completions", drop_after_events=2)
    got: List[Any] = []
    stream = any_client.chat.completions.stream(model=MODEL, messages=MESSAGES)
    with pytest.raises(meshapi.StreamInterruptedError) as info:
        if hasattr(stream, "__aiter__"):
            async for chunk in stream:
                got.append(chunk)
        else:
            for chunk in stream:
                got.append(chunk)
    assert len(got) == 2
    assert info.value.request_id.startswith("req_")
    assert_no_connection_checked_out(any_client)


async def test_error_event_mid_stream(any_client: Any, gateway: Any) -> None:
    gateway.faults.add("/v1/chat/completions", error_event_after=1, error_code="gateway_timeout")
    with pytest.raises(meshapi.StreamEventError) as info:
        await collect(any_client.chat.completions.stream(model=MODEL, messages=MESSAGES))
    assert info.value.error_code == "gateway_timeout" and REQUEST_ID.fullmatch(info.value.request_id)


def test_upstream_0_1_4_script_runs_unchanged(gateway: Any) -> None:
    # Written exactly as 0.1.4's README teaches (param models, positional, plain iteration).
    from meshapi import ChatCompletionParams, ChatMessage, MeshAPI, MeshAPIError

    client = MeshAPI(base_url=gateway.base_url, token=gateway.token)
    reply = client.chat.completions.create(
        ChatCompletionParams(
            model="openai/gpt-4o-mini",
            messages=[
                ChatMessage(role="system", content="You are a concise assistant."),
                ChatMessage(role="user", content="What is the capital of France?"),
            ],
            temperature=0.7,
            max_tokens=256,
        )
    )
    # the local gateway's stand-in model is deterministic: the same prompt gives the same text
    assert (
        reply.choices[0].message.content
        == "France in brief. When France meets capital, the idea becomes small."
    )
    pieces = []
    for chunk in client.chat.completions.stream(
        ChatCompletionParams(
            model="openai/gpt-4o-mini",
            messages=[ChatMessage(role="user", content="Write a haiku about Python.")],
        )
    ):
        if chunk.choices and chunk.choices[0].delta:
            pieces.append(chunk.choices[0].delta.content or "")
    assert "".join(pieces) == (
        "Here is a short answer about Python. One small system is that Python supports haiku. "
        "When haiku meets Python, the balance becomes reliable. Consider haiku: it affects a simple signal."
    )
    all_models = client.models.list()
    free = client.models.free()
    paid = client.models.paid()
    assert len(all_models) == len(free) + len(paid)
    try:
        client.chat.completions.create(
            ChatCompletionParams(model="nobody/none", messages=[ChatMessage(role="user", content="x")])
        )
    except MeshAPIError as e:
        assert e.status == 404 and e.error_code == "model_not_found" and REQUEST_ID.fullmatch(e.request_id)
    else:
        pytest.fail("an unknown model must raise MeshAPIError")
    client.close()


def test_raw_wire_body_is_as_0_1_4(gateway: Any, client: Any) -> None:
    gateway.requests.clear()
    client.chat.completions.create(model=MODEL, messages=MESSAGES, temperature=0)
    seen = gateway.requests.filter(path="/v1/chat/completions")[-1]
    assert seen.json == {"model": MODEL, "messages": MESSAGES, "temperature": 0.0, "stream": False}
    assert seen.bearer_is(gateway.token) and gateway.token not in repr(seen.as_dict())
    assert seen.headers["x-meshapi-sdk"] == f"python/{meshapi.__version__}"


def test_injected_httpx_client_over_real_socket(gateway: Any) -> None:
    inner = httpx.Client()
    with meshapi.MeshAPI(base_url=gateway.base_url, token=gateway.token, httpx_client=inner) as client:
        assert client.models.list()
    assert not inner.is_closed
    inner.close()
    # the calls went through the injected client with the SDK's URL and headers
    seen = gateway.requests.filter(path="/v1/models")[-1]
    assert seen.bearer_is(gateway.token) and seen.headers["authorization"] == "Bearer rsk_…redacted"
    assert seen.headers["x-meshapi-sdk"] == f"python/{meshapi.__version__}"


async def test_tool_loop_appends_the_reply_message_as_it_is(mode: str, gateway: Any) -> None:
    """openai-python's tool loop, spelled with its names (api_key=, close()), against the real gateway."""
    cls: Any = meshapi.MeshAPI if mode == "sync" else meshapi.AsyncMeshAPI
    client = cls(base_url=gateway.base_url, api_key=gateway.token)
    weather = {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
    messages: List[Any] = [{"role": "user", "content": "What is the weather in Paris?"}]
    first = await resolve(client.chat.completions.create(model=MODEL, messages=messages, tools=[weather]))
    message = first.choices[0].message
    assert first.choices[0].finish_reason == "tool_calls" and len(message.tool_calls) == 1
    call = message.tool_calls[0]
    messages.append(message)
    messages.append({"role": "tool", "tool_call_id": call.id, "content": "18 C and sunny"})
    second = await resolve(client.chat.completions.create(model=MODEL, messages=messages, tools=[weather]))
    assert second.choices[0].finish_reason == "stop"
    assert second.choices[0].message.content.startswith("Based on the tool result, ")
    sent = gateway.requests.filter(path="/v1/chat/completions")[-1].json["messages"]
    function = {"name": "get_weather", "arguments": call.function.arguments}
    assert sent[1] == {
        "role": "assistant",
        "tool_calls": [{"id": call.id, "type": "function", "function": function}],
    }
    assert sent[2] == {"role": "tool", "content": "18 C and sunny", "tool_call_id": call.id}
    await resolve(client.close())
