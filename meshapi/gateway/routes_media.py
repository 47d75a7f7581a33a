"""Embeddings (API.md §4.4) and image generation (§3.5, §4.7)."""

from __future__ import annotations

import asyncio
import base64
import time
from typing import Any, AsyncIterator, Dict, List

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import engine, png, vectors
from .common import chat_model, gateway, json_body, json_response, pace, require_capability
from .errors import ApiError
from .ids import hex_id
from .sse import DONE, KEEP_ALIVE, data_event, sse_response
from .state import GatewayState
from .validation import AnyValue, Bool, Int, ListOf, Literal, MapOf, Obj, OneOf, Str, opt, req

DEFAULT_EMBEDDING_MODEL = "openai/text-embedding-3-small"
DEFAULT_IMAGE_MODEL = "openai/gpt-image-1"

EMBEDDINGS = Obj(
    {
        "input": req(OneOf(Str(), ListOf(AnyValue(), min_length=1))),
        "model": opt(Str()),
        "dimensions": opt(Int(ge=1)),
        "encoding_format": opt(Literal("float", "base64")),
        "input_type": opt(Str()),
        "provider": opt(OneOf(Str(), MapOf())),
        "user": opt(Str(max_length=256)),
        "instructions": opt(Str()),
    }
)
IMAGES = Obj(
    {
        "prompt": req(Str()),
        "model": opt(Str()),
        "n": opt(Int(ge=1, le=10)),
        "size": opt(Str()),
        "quality": opt(Str()),
        "response_format": opt(Literal("url", "b64_json")),
        "output_format": opt(Literal("png", "jpeg", "webp")),
        "stream": opt(Bool()),
        "background": opt(Literal("transparent", "opaque", "auto")),
        "partial_images": opt(Int(ge=0, le=3)),
        "seed": opt(Int(ge=-1, le=2147483647)),
        "output_compression": opt(Int(ge=0, le=100)),
    }
)


def _input_texts(value: Any) -> List[str]:
    """One text per embedding input (token arrays and multimodal items turned into text)."""
    if isinstance(value, str):
        return [value]
    if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return [" ".join(f"tok{v}" for v in value)]
    texts = []
    for item in value:
        if isinstance(item, str):
            texts.append(item)
        elif isinstance(item, list):
            texts.append(" ".join(f"tok{v}" for v in item))
        elif isinstance(item, dict):
            if isinstance(item.get("text"), str):
                texts.append(item["text"])
            else:
                media = item.get("image_url") or item.get("video_url") or {}
                texts.append(str(media.get("url", "")) if isinstance(media, dict) else str(media))
        else:
            raise ApiError(
                422,
                "validation_error",
                "Request validation failed.",
                details=[
                    {
                        "type": "string_type",
                        "loc": ["body", "input"],
                        "msg": "Input should be a valid string",
                        "input": item,
                    }
                ],
            )
    return texts


async def create_embeddings(request: Request) -> Response:
    body = await json_body(request, EMBEDDINGS)
    entry = chat_model(request, body.get("model") or DEFAULT_EMBEDDING_MODEL)
    require_capability(entry, entry.supports_embeddings, "embeddings")
    native = entry.embedding_dimensions or 1536
    dims = body.get("dimensions") or native
    if dims > native:
        raise ApiError(
            400,
            "invalid_request",
            f"dimensions must be at most {native} for {entry.id}.",
            param="dimensions",
        )
    texts = _input_texts(body["input"])
    as_base64 = body.get("encoding_format") == "base64"
    data = []
    tokens = 0
    for index, text in enumerate(texts):
        vector = vectors.embedding(text, dims)
        tokens += engine.count_tokens(text)
        encoded: Any = vectors.to_base64(vector) if as_base64 else vector
        data.append({"object": "embedding", "index": index, "embedding": encoded})
    return json_response(
        {
            "object": "list",
            "data": data,
            "model": entry.id,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
    )


def _images(body: Dict[str, Any]) -> List[Dict[str, Any]]:
    prompt = body["prompt"]
    size = body.get("size") or "1024x1024"
    as_url = body.get("response_format", "url") == "url"
    seed = body.get("seed")
    items = []
    for i in range(body.get("n") or 1):
        encoded = base64.b64encode(png.picture(prompt, size, i if seed is None else seed * 31 + i)).decode(
            "ascii"
        )
        item: Dict[str, Any] = {"revised_prompt": None}
        if as_url:
            item["url"] = "data:image/png;base64," + encoded
        else:
            item["b64_json"] = encoded
        items.append(item)
    return items


async def generate_images(request: Request) -> Response:
    state = gateway(request)
    body = await json_body(request, IMAGES)
    entry = chat_model(request, body.get("model") or DEFAULT_IMAGE_MODEL)
    require_capability(entry, entry.supports_images, "image generation")
    created = int(time.time())
    if body.get("stream"):
        return sse_response(_image_stream(state, entry.id, created, body))
    if state.latency > 0:
        await asyncio.sleep(state.latency)
    prompt_tokens = engine.count_tokens(body["prompt"])
    images = _images(body)
    completion_tokens = 4160 * len(images)
    return json_response(
        {
            "created": created,
            "data": images,
            "background": body.get("background") or "opaque",
            "output_format": "png",
            "quality": body.get("quality") or "high",
            "size": body.get("size") or "1024x1024",
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
    )


async def _image_stream(
    state: GatewayState, model: str, created: int, body: Dict[str, Any]
) -> AsyncIterator[bytes]:
    head = {"id": hex_id("imgstream_", 12), "object": "image.chunk", "created": created, "model": model}
    yield data_event({**head, "status": "processing", "data": []})
    await pace(state)
    yield KEEP_ALIVE
    for _ in range(body.get("partial_images") or 0):
        await pace(state)
        yield data_event({**head, "status": "partial", "data": []})
    await pace(state)
    yield data_event({**head, "status": "completed", "data": _images(body)})
    yield DONE


ROUTES = [
    Route("/v1/embeddings", create_embeddings, methods=["POST"]),
    Route("/v1/images/generations", generate_images, methods=["POST"]),
]
