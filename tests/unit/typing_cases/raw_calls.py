"""Checked by ``mypy --strict`` in test_typing_cases.py (never imported): lines marked ``# wrong`` must be
reported, every other line must pass. ``with_raw_response`` / ``with_streaming_response`` keep each
method's parameters and result, sub-resources included."""

from __future__ import annotations

from typing import Any, List, Sequence

from pydantic import BaseModel

from meshapi import (
    AsyncChatCompletionStream,
    AsyncMeshAPI,
    AsyncStreamedResponse,
    ChatCompletionResponse,
    ChatCompletionStream,
    CompareResponse,
    EmbeddingsResponse,
    ImageGenerationResponse,
    MeshAPI,
    RawResponse,
    ResponsesResponse,
    StreamedResponse,
)
from meshapi.types.batches import BatchObject
from meshapi.types.models import ModelInfo

HI = [{"role": "user", "content": "hi"}]


class City(BaseModel):
    name: str


def sync_calls(client: MeshAPI) -> None:
    raw: RawResponse[EmbeddingsResponse] = client.embeddings.with_raw_response.create(model="m", input="a")
    vectors: EmbeddingsResponse = raw.parse()
    reply: ChatCompletionResponse = client.chat.completions.with_raw_response.create(messages=HI).parse()
    nested: RawResponse[ChatCompletionResponse] = client.chat.with_raw_response.completions.create(
        model="m", messages=HI, timeout=2.0
    )
    stream: ChatCompletionStream = client.chat.completions.with_raw_response.stream(messages=HI).parse()
    batch: RawResponse[BatchObject] = client.batches.with_raw_response.get("b1", max_retries=0)
    structured: RawResponse[Any] = client.chat.completions.with_raw_response.parse(
        messages=HI, response_format=City
    )
    with client.embeddings.with_streaming_response.create(input="a") as response:
        typed: StreamedResponse[EmbeddingsResponse] = response
        lines: List[str] = list(response.iter_lines())
        parsed: EmbeddingsResponse = response.parse()
    with client.chat.with_streaming_response.completions.stream(messages=HI) as streamed:
        chat_stream: ChatCompletionStream = streamed.parse()
    print(vectors, reply, nested, stream, batch, structured, typed, lines, parsed, chat_stream)
    # create / generate with stream=True: the raw views are typed with the plain (first) overload
    raw_reply: RawResponse[ResponsesResponse] = client.responses.with_raw_response.create(input="a")
    raw_compare: RawResponse[CompareResponse] = client.compare.with_raw_response.create(
        models=["a"], messages=[]
    )
    raw_images: RawResponse[ImageGenerationResponse] = client.images.with_raw_response.generate(prompt="a")
    print(raw_reply, raw_compare, raw_images)
    client.responses.with_raw_response.create(input="a", stream=True)  # wrong
    client.images.with_streaming_response.generate(prompt="a", stream=True)  # wrong
    client.embeddings.with_raw_response.craete(model="m", input="a")  # wrong
    client.embeddings.with_raw_response.create(model="m", inputs="a")  # wrong
    client.embeddings.with_streaming_response.create(model="m", input="a", timeout="soon")  # wrong
    client.chat.with_raw_response.completion.create(messages=HI)  # wrong
    client.chat.completions.with_raw_response.create(messages=HI, temperature="hot")  # wrong
    client.models.with_raw_response.get()  # wrong
    client.batches.with_raw_response.iter_batches()  # wrong
    not_raw: EmbeddingsResponse = client.embeddings.with_raw_response.create(input="a")  # wrong
    not_a_reply: int = client.chat.completions.with_raw_response.create(messages=HI).parse()  # wrong
    with client.models.with_streaming_response.list() as listed:
        not_models: int = listed.parse()  # wrong
    print(not_raw, not_a_reply, not_models)


async def async_calls(client: AsyncMeshAPI) -> None:
    raw: RawResponse[EmbeddingsResponse] = await client.embeddings.with_raw_response.create(input="a")
    nested = await client.chat.with_raw_response.completions.create(messages=HI, max_retries=1)
    reply: ChatCompletionResponse = nested.parse()
    stream = await client.chat.completions.with_raw_response.stream(messages=HI)
    chat_stream: AsyncChatCompletionStream = stream.parse()
    async with client.models.with_streaming_response.list(free=True) as response:
        typed: AsyncStreamedResponse[Any] = response
        models: Sequence[ModelInfo] = await response.parse()
    async with client.chat.with_streaming_response.completions.stream(messages=HI) as streamed:
        again: AsyncChatCompletionStream = await streamed.parse()
    print(raw, reply, chat_stream, typed, models, again)
    await client.embeddings.with_raw_response.create(input="a", dimensions="8")  # wrong
    await client.rag.with_raw_response.serch(query="q")  # wrong
    not_awaited: RawResponse[EmbeddingsResponse] = client.embeddings.with_raw_response.create()  # wrong
    with client.models.with_streaming_response.list() as not_async:  # wrong
        print(not_async, not_awaited)
