"""Checked by ``mypy --strict`` in test_typing_cases.py (never imported): lines marked ``# wrong`` must
be reported, every other line must pass. Fields and per-call options of every resource are typed;
``create(stream=True)`` (images: ``generate``) is typed to return the stream ``stream()`` returns."""

from __future__ import annotations

import pathlib
from typing import Any, Optional

from pydantic import BaseModel

from meshapi import (
    AsyncCompareStream,
    AsyncImageStream,
    AsyncMeshAPI,
    AsyncResponsesStream,
    CompareResponse,
    CompareStream,
    EmbeddingsParams,
    EmbeddingsResponse,
    ImageGenerationResponse,
    ImageStream,
    MeshAPI,
    ResponsesResponse,
    ResponsesStream,
)
from meshapi.types import ParsedResponse
from meshapi.types.batches import BatchObject
from meshapi.types.rag import SearchResponse


class City(BaseModel):
    name: str


def sync_calls(client: MeshAPI) -> None:
    vectors: EmbeddingsResponse = client.embeddings.create(model="m", input=["a", "b"], dimensions=8)
    old_style: EmbeddingsResponse = client.embeddings.create(EmbeddingsParams(input="a"), timeout=3.0)
    batch: BatchObject = client.batches.get("b1", max_retries=0, request_id="req-1")
    found: SearchResponse = client.rag.search(query="q", top_k=3, extra_headers={"X-A": "1"})
    client.models.list(free=True, total_timeout=5.0)
    client.models.search(q="gpt", limit=5, extra_query={"x": "1"})
    client.images.generate(prompt="a cat", size="256x256", extra_body={"k": 1})
    client.images.edit(model="m", image=b"\x89PNG", prompt="hat")
    saved: pathlib.Path = client.audio.synthesize_to_file("out.wav", input="hi", voice="v")
    client.audio.transcribe(b"RIFF", model="whisper", language_code="en")
    client.videos.generate(model="m", prompt="waves", duration=5)
    client.templates.update("t1", name="n", description="d")
    client.web.search("news", max_results=3)
    client.rag.list(10, 0, timeout=2.0)
    print(vectors, old_style, batch, found, saved)
    events: ResponsesStream = client.responses.create(input="hi", stream=True)
    reply: ResponsesResponse = client.responses.create(input="hi", stream=False)
    lazy: ResponsesStream = client.responses.stream(input="hi", max_output_tokens=5)
    compared: CompareStream = client.compare.create(models=["a"], messages=[], stream=True)
    compare_reply: CompareResponse = client.compare.create(models=["a"], messages=[])
    images: ImageStream = client.images.generate(prompt="a cat", stream=True)
    image_reply: ImageGenerationResponse = client.images.generate(prompt="a cat", n=1)
    print(events, reply, lazy, compared, compare_reply, images, image_reply)
    parsed: ParsedResponse[City] = client.responses.parse(input="hi", text_format=City, max_retries=1)
    city: Optional[City] = parsed.output_parsed
    decoded: ParsedResponse[Any] = client.responses.parse(input="hi", text_format={"type": "object"})
    print(city, decoded)
    not_parsed: ParsedResponse[int] = client.responses.parse(input="hi", text_format=City)  # wrong
    client.responses.parse(input="hi", text_format=City, max_output_tokens="5")  # wrong
    print(not_parsed)
    typed_run = client.responses.run_tools(input="hi", tools=[], text_format=City).until_done()
    answer: Optional[City] = typed_run.output_parsed
    plain_run: ResponsesResponse = client.responses.run_tools(input="hi", tools=[]).until_done()
    print(plain_run.output_parsed)  # wrong
    print(answer)
    not_a_stream: ResponsesResponse = client.responses.create(input="hi", stream=True)  # wrong
    not_a_reply: CompareStream = client.compare.create(models=["a"], messages=[])  # wrong
    not_images: ImageGenerationResponse = client.images.generate(prompt="a cat", stream=True)  # wrong
    print(not_a_stream, not_a_reply, not_images)
    client.embeddings.create(model="m", inputs="a")  # wrong
    client.embeddings.create(model="m", input="a", dimensions="8")  # wrong
    client.embeddings.create(model="m", input="a", timeout="soon")  # wrong
    client.batches.get("b1", max_retry=0)  # wrong
    client.models.free(request_id=7)  # wrong
    client.rag.search(query="q", top_k="3")  # wrong
    client.images.generate(prompt="a cat", extra_headers={"X-A": 1})  # wrong
    client.audio.synthesize(input="hi", voise="v")  # wrong
    client.videos.retrieve("t1", total_timout=1.0)  # wrong
    client.templates.create(name="n", sytem="s")  # wrong
    not_a_batch: int = client.batches.cancel("b1")  # wrong
    print(not_a_batch)


async def async_calls(client: AsyncMeshAPI) -> None:
    vectors: EmbeddingsResponse = await client.embeddings.create(model="m", input="a", max_retries=1)
    await client.moderations.create("text", model="omni-moderation-latest")
    await client.router.select(messages=[{"role": "user", "content": "hi"}], api_type="completions")
    events: AsyncResponsesStream = await client.responses.create(input="hi", stream=True)
    compared: AsyncCompareStream = await client.compare.create(models=["a"], messages=[], stream=True)
    images: AsyncImageStream = await client.images.generate(prompt="a cat", stream=True)
    print(vectors, events, compared, images)
    parsed: ParsedResponse[City] = await client.responses.parse(input="hi", text_format=City)
    print(parsed.output_parsed)
    run = client.responses.run_tools(input="hi", tools=[], text_format=City, stream=True)
    final: ParsedResponse[City] = await run.until_done()
    print(final.output_parsed)
    sync_stream: ImageStream = await client.images.generate(prompt="a cat", stream=True)  # wrong
    print(sync_stream)
    await client.embeddings.create(model="m", input="a", encoding_format="hex")  # wrong
    await client.batches.list(after="b0", limit="10")  # wrong
    await client.responses.create(input="hi", max_output_tokens="5")  # wrong
    await client.compare.create(models=["a"], messages=[], extra_query=["x"])  # wrong
