"""Streaming chat and responses: plain iteration (0.1.4), context managers, text and final helpers."""

from __future__ import annotations

from typing import Any

from conftest import MODEL

from meshapi import AsyncMeshAPI, ChatCompletionParams, ChatMessage, MeshAPI, ResponsesParams
from meshapi._types import ChatCompletionChunk

PARAMS = ChatCompletionParams(
    model=MODEL, messages=[ChatMessage(role="user", content="Write a haiku about Python.")]
)


def test_stream_iterates_chunks(client: MeshAPI) -> None:
    chunks = list(client.chat.completions.stream(PARAMS))
    assert chunks and all(isinstance(c, ChatCompletionChunk) for c in chunks)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices and c.choices[0].delta)
    assert text
    assert any(c.usage is not None for c in chunks)


def test_stream_context_manager_and_final(client: MeshAPI) -> None:
    with client.chat.completions.stream(PARAMS) as stream:
        assert stream.request_id
        pieces = list(stream.text_stream)
        final = stream.get_final_completion()
    assert "".join(pieces) == final.choices[0].message.content
    assert stream.closed


def test_stream_and_plain_answers_have_the_same_shape(client: MeshAPI, target: Any) -> None:
    # A real model samples: a streamed and a plain answer to one prompt need not be equal. What must
    # hold everywhere is the shape; only the deterministic local gateway promises the same text.
    plain = client.chat.completions.create(PARAMS)
    with client.chat.completions.stream(PARAMS) as stream:
        pieces = list(stream.text_stream)
        streamed = stream.get_final_completion()
    assert plain.choices[0].message.content and streamed.choices[0].message.content
    assert "".join(pieces) == streamed.choices[0].message.content
    assert streamed.choices[0].finish_reason and plain.choices[0].finish_reason
    assert streamed.model and plain.model
    if target.local:
        assert streamed.choices[0].message.content == plain.choices[0].message.content


def test_break_early_then_new_request(client: MeshAPI) -> None:
    for _ in client.chat.completions.stream(PARAMS):
        break
    assert client.chat.completions.create(PARAMS).choices


async def test_async_stream(async_client: AsyncMeshAPI) -> None:
    chunks = [c async for c in async_client.chat.completions.stream(PARAMS)]
    assert chunks
    async with async_client.chat.completions.stream(PARAMS) as stream:
        text = "".join([piece async for piece in stream.text_stream])
    assert text


def test_responses_stream(client: MeshAPI) -> None:
    events = list(client.responses.stream(ResponsesParams(model=MODEL, input="Say hi.")))
    assert events
    assert events[-1].type in ("response.completed", "response.done", None) or any(
        e.type == "response.completed" for e in events
    )
