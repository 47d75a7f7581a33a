"""Embeddings, responses and images."""

from __future__ import annotations

import math

from conftest import EMBEDDINGS_MODEL, IMAGE_MODEL, MODEL

from meshapi import (
    AsyncMeshAPI,
    EmbeddingsParams,
    EmbeddingsResponse,
    ImageGenerationParams,
    MeshAPI,
    ResponsesParams,
    ResponsesResponse,
)


def cosine(a: list, b: list) -> float:
    return sum(x * y for x, y in zip(a, b)) / (
        math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    )


def test_embeddings_list_and_similarity(client: MeshAPI) -> None:
    result = client.embeddings.create(
        EmbeddingsParams(
            model=EMBEDDINGS_MODEL,
            input=["The cat sat on the mat.", "A cat was sitting on the mat.", "Quarterly revenue grew 4%."],
        )
    )
    assert isinstance(result, EmbeddingsResponse) and len(result.data) == 3
    a, b, c = (item.embedding for item in result.data)
    assert cosine(a, b) > cosine(a, c)


def test_embeddings_dimensions_and_base64(client: MeshAPI) -> None:
    floats = client.embeddings.create(model=EMBEDDINGS_MODEL, input="hello world", dimensions=64)
    assert len(floats.data[0].embedding) == 64
    b64 = client.embeddings.create(
        model=EMBEDDINGS_MODEL, input="hello world", dimensions=64, encoding_format="base64"
    )
    decoded = b64.data[0].floats()
    assert len(decoded) == 64
    assert all(abs(x - y) < 1e-5 for x, y in zip(decoded, floats.data[0].embedding))


def test_responses_create(client: MeshAPI) -> None:
    reply = client.responses.create(
        ResponsesParams(model=MODEL, input="Explain recursion in one sentence.", max_output_tokens=64)
    )
    assert isinstance(reply, ResponsesResponse)
    assert reply.status == "completed" and reply.output


def test_image_generation(client: MeshAPI, tmp_path: object) -> None:
    result = client.images.generate(
        ImageGenerationParams(
            model=IMAGE_MODEL, prompt="A watercolor fox", response_format="b64_json", stream=True
        )
    )
    data = result.data[0].image_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")


def test_image_stream(client: MeshAPI) -> None:
    chunks = list(client.images.stream(ImageGenerationParams(model=IMAGE_MODEL, prompt="A red square")))
    assert chunks and chunks[-1].data


async def test_async_embeddings_and_responses(async_client: AsyncMeshAPI) -> None:
    emb = await async_client.embeddings.create(model=EMBEDDINGS_MODEL, input="async hello")
    assert emb.data[0].embedding
    reply = await async_client.responses.create(model=MODEL, input="hi")
    assert reply.output
