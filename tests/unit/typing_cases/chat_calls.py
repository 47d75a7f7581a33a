"""Checked by ``mypy --strict`` in test_typing_cases.py (never imported): lines marked ``# wrong`` must be
reported, every other line must pass."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Union

from pydantic import BaseModel

from meshapi import (
    APIError,
    AsyncChatCompletionStream,
    AsyncMeshAPI,
    ChatCompletionChunk,
    ChatCompletionChunkDelta,
    ChatCompletionMessage,
    ChatCompletionParams,
    ChatCompletionResponse,
    ChatCompletionStream,
    ChatMessage,
    MeshAPI,
)


class City(BaseModel):
    name: str


HI = [{"role": "user", "content": "hi"}]
HI_MODELS = [ChatMessage(role="user", content="hi")]


def sync_calls(client: MeshAPI) -> None:
    reply: ChatCompletionResponse = client.chat.completions.create(model="m", messages=HI)
    stream: ChatCompletionStream = client.chat.completions.create(model="m", messages=HI, stream=True)
    also: ChatCompletionStream = client.chat.completions.stream(messages=HI, temperature=0.5, seed=3)
    city: City = client.chat.completions.parse(model="m", messages=HI, response_format=City)
    again: City = client.chat.completions.parse(ChatCompletionParams(messages=HI_MODELS), City)
    params = ChatCompletionParams(messages=HI_MODELS, model="m")
    old_style: ChatCompletionResponse = client.chat.completions.create(params, timeout=3.0)
    fields: ChatCompletionResponse = client.chat.completions.create(
        messages=HI, max_completion_tokens=5, store=True
    )
    print(reply, stream, also, city, again, old_style, fields)
    client.chat.completions.create(model="m", mesages=HI)  # wrong
    client.chat.completions.create(model="m", messages=HI, temperature="hot")  # wrong
    client.chat.completions.stream(model="m", messages=HI, max_tokens="10")  # wrong
    client.chat.completions.parse(messages=HI, response_format=City, sed=1)  # wrong
    not_a_stream: ChatCompletionResponse = client.chat.completions.create(messages=HI, stream=True)  # wrong
    not_a_city: int = client.chat.completions.parse(messages=HI, response_format=City)  # wrong
    print(not_a_stream, not_a_city)


async def async_calls(client: AsyncMeshAPI) -> None:
    reply: ChatCompletionResponse = await client.chat.completions.create(model="m", messages=HI)
    stream: AsyncChatCompletionStream = await client.chat.completions.create(messages=HI, stream=True)
    city: City = await client.chat.completions.parse(messages=HI, response_format=City)
    print(reply, stream, city)
    await client.chat.completions.create(model="m", mesages=HI)  # wrong
    await client.chat.completions.parse(messages=HI, response_format=City, top_p="high")  # wrong


def reading_replies(reply: ChatCompletionResponse, chunk: ChatCompletionChunk) -> None:
    message: ChatCompletionMessage = reply.choices[0].message
    content: Optional[str] = reply.choices[0].message.content
    delta: ChatCompletionChunkDelta = chunk.choices[0].delta
    text: Optional[str] = chunk.choices[0].delta.content
    total: int = reply.usage.total_tokens if reply.usage is not None else 0
    print(message, content, delta, text, total)
    not_always_text: str = reply.choices[0].message.content  # wrong
    not_any: int = chunk.choices[0].delta  # wrong
    print(not_always_text, not_any)


def openai_habits(client: MeshAPI, reply: ChatCompletionResponse) -> None:
    history: List[Union[ChatMessage, ChatCompletionMessage, Dict[str, Any]]] = [
        {"role": "user", "content": "hi"}
    ]
    history.append(reply.choices[0].message)
    again: ChatCompletionResponse = client.chat.completions.create(model="m", messages=history)
    as_dict: Dict[str, object] = again.to_dict(mode="json")
    text: str = again.to_json(indent=None)
    try:
        MeshAPI(api_key="rsk_x", http_client=None)
    except APIError as error:
        status: int = error.status_code
        code: str = error.code
        print(status, code)
    print(as_dict, text)


async def async_openai_habits(client: AsyncMeshAPI) -> None:
    copy = client.with_options(api_key="rsk_y")
    await copy.close()
    await client.aclose()
