"""Embeddings and images."""

from __future__ import annotations

import base64
import math
import struct
import zlib
from typing import Any, List

import httpx

from .conftest import assert_envelope, sse_json


def embed(client: httpx.Client, **body: Any) -> Any:
    response = client.post("/v1/embeddings", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def cosine(a: List[float], b: List[float]) -> float:
    return sum(x * y for x, y in zip(a, b))


def test_embeddings_are_unit_vectors_with_model_dimensions(client: httpx.Client) -> None:
    body = embed(client, model="openai/text-embedding-3-small", input=["red apple", "green pear"])
    assert body["object"] == "list" and body["model"] == "openai/text-embedding-3-small"
    assert [d["index"] for d in body["data"]] == [0, 1]
    for item in body["data"]:
        assert item["object"] == "embedding" and len(item["embedding"]) == 1536
        assert abs(math.sqrt(sum(v * v for v in item["embedding"])) - 1) < 1e-6
    assert body["usage"]["prompt_tokens"] == 4 and body["usage"]["total_tokens"] == 4
    large = embed(client, model="openai/text-embedding-3-large", input="hello")
    assert len(large["data"][0]["embedding"]) == 3072
    small = embed(client, model="openai/text-embedding-3-small", input="hello", dimensions=64)
    assert len(small["data"][0]["embedding"]) == 64
    default = embed(client, input="hello")
    assert default["model"] == "openai/text-embedding-3-small"


def test_embeddings_are_deterministic_and_similar_texts_are_closer(client: httpx.Client) -> None:
    texts = [
        "The cat sat on the mat.",
        "A cat was sitting on the mat.",
        "Quarterly revenue grew by ten percent.",
    ]
    vectors = [d["embedding"] for d in embed(client, input=texts, dimensions=256)["data"]]
    again = embed(client, input=texts[0], dimensions=256)["data"][0]["embedding"]
    assert again == vectors[0]
    assert cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2]) + 0.2


def test_base64_encoding_is_little_endian_float32(client: httpx.Client) -> None:
    floats = embed(client, input="base64 please", dimensions=32)["data"][0]["embedding"]
    encoded = embed(client, input="base64 please", dimensions=32, encoding_format="base64")["data"][0][
        "embedding"
    ]
    decoded = struct.unpack("<32f", base64.b64decode(encoded))
    assert all(abs(a - b) < 1e-6 for a, b in zip(decoded, floats))


def test_embedding_errors(client: httpx.Client) -> None:
    assert_envelope(
        client.post("/v1/embeddings", json={"input": "x", "model": "acme/none"}), 404, "model_not_found"
    )
    assert_envelope(
        client.post("/v1/embeddings", json={"input": "x", "model": "openai/gpt-4o"}),
        400,
        "model_capability_not_supported",
    )
    assert_envelope(client.post("/v1/embeddings", json={"input": []}), 422, "validation_error")
    assert_envelope(
        client.post("/v1/embeddings", json={"input": "x", "dimensions": 0}), 422, "validation_error"
    )


def check_png(data: bytes) -> tuple:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    width, height, depth, color = struct.unpack(">IIBB", data[16:26])
    assert zlib.crc32(data[12:29]) & 0xFFFFFFFF == struct.unpack(">I", data[29:33])[0]
    assert data.endswith(b"IEND\xaeB`\x82")
    return width, height, depth, color


def test_images_b64_json_and_url(client: httpx.Client) -> None:
    body = {"model": "openai/gpt-image-1", "prompt": "A lighthouse at dusk", "size": "1024x512", "n": 2}
    response = client.post("/v1/images/generations", json=body | {"response_format": "b64_json"})
    assert response.status_code == 200
    result = response.json()
    assert isinstance(result["created"], int) and len(result["data"]) == 2
    first = base64.b64decode(result["data"][0]["b64_json"])
    width, height, depth, color = check_png(first)
    assert (width, height, depth, color) == (64, 32, 8, 2)
    assert result["data"][0]["b64_json"] != result["data"][1]["b64_json"]
    again = client.post("/v1/images/generations", json=body | {"response_format": "b64_json"}).json()
    assert again["data"][0]["b64_json"] == result["data"][0]["b64_json"]
    url = client.post("/v1/images/generations", json=body).json()["data"][0]["url"]
    assert url.startswith("data:image/png;base64,")
    check_png(base64.b64decode(url.split(",", 1)[1]))


def test_image_stream(client: httpx.Client) -> None:
    body = {
        "model": "openai/gpt-image-1",
        "prompt": "A red fox",
        "stream": True,
        "response_format": "b64_json",
    }
    response = client.post("/v1/images/generations", json=body)
    raw = response.content
    assert response.headers["content-type"] == "text/event-stream"
    assert b"\n\n: keep-alive\n\n" in raw
    events = sse_json(raw)
    assert events[-1] == (None, "[DONE]")
    processing, completed = events[0][1], events[-2][1]
    assert processing["status"] == "processing" and processing["data"] == []
    assert processing["object"] == "image.chunk" and isinstance(processing["created"], int)
    assert completed["status"] == "completed" and completed["id"] == processing["id"]
    check_png(base64.b64decode(completed["data"][0]["b64_json"]))


def test_image_errors(client: httpx.Client) -> None:
    assert_envelope(
        client.post("/v1/images/generations", json={"model": "openai/gpt-4o", "prompt": "x"}),
        400,
        "model_capability_not_supported",
    )
    assert_envelope(
        client.post("/v1/images/generations", json={"model": "openai/gpt-image-1"}), 422, "validation_error"
    )
