"""Chat completions: basic, multi-turn, tools, parameters — sync and async."""

from __future__ import annotations

import json

from conftest import MODEL

from meshapi import (
    AsyncMeshAPI,
    ChatCompletionParams,
    ChatCompletionResponse,
    ChatMessage,
    MeshAPI,
    Tool,
    ToolFunction,
)

WEATHER_TOOL = Tool(
    type="function",
    function=ToolFunction(
        name="get_weather",
        description="Get current weather for a city",
        parameters={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    ),
)


def test_basic_completion(client: MeshAPI) -> None:
    reply = client.chat.completions.create(
        ChatCompletionParams(model=MODEL, messages=[ChatMessage(role="user", content="Say hello in French.")])
    )
    assert isinstance(reply, ChatCompletionResponse)
    assert reply.choices[0].message.content
    assert reply.usage is not None and reply.usage.total_tokens > 0


def test_keyword_form_and_dict_messages(client: MeshAPI) -> None:
    reply = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Name a colour."}], max_tokens=16
    )
    assert reply.choices[0].message.content
    assert reply._request_id


def test_multi_turn(client: MeshAPI) -> None:
    messages = [
        ChatMessage(role="system", content="You are concise."),
        ChatMessage(role="user", content="Pick a number."),
        ChatMessage(role="assistant", content="Seven."),
        ChatMessage(role="user", content="Double it."),
    ]
    reply = client.chat.completions.create(ChatCompletionParams(model=MODEL, messages=messages))
    assert reply.choices[0].message.role == "assistant"


def test_tool_call(client: MeshAPI) -> None:
    reply = client.chat.completions.create(
        ChatCompletionParams(
            model=MODEL,
            messages=[ChatMessage(role="user", content="What is the weather in Paris?")],
            tools=[WEATHER_TOOL],
            tool_choice="required",
        )
    )
    calls = reply.choices[0].message.tool_calls
    assert calls and calls[0].function.name == "get_weather"
    assert isinstance(json.loads(calls[0].function.arguments)["city"], str)


def test_max_tokens_is_honoured(client: MeshAPI) -> None:
    reply = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Tell me a long story about the sea."}],
        max_tokens=5,
    )
    assert reply.usage is not None and reply.usage.completion_tokens <= 5


async def test_async_completion(async_client: AsyncMeshAPI) -> None:
    reply = await async_client.chat.completions.create(
        ChatCompletionParams(model=MODEL, messages=[ChatMessage(role="user", content="Hello!")])
    )
    assert reply.choices[0].message.content
