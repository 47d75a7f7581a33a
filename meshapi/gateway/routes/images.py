"""``/v1/images/generations`` (SDK ``client.images``; API.md §3.5, §4.7): real PNGs, plain and streamed."""

from __future__ import annotations

import asyncio
import base64
import time
from typing import Any, AsyncIterator, Dict, List

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .. import engine, png
from ..common import chat_model, gateway, json_body, json_response, pace, require_capability
from ..ids import hex_id
from ..sse import DONE, KEEP_ALIVE, data_event, sse_response
from ..state import GatewayState
from ..validation import Bool, Int, Literal, Obj, Str, opt, req

DEFAULT_IMAGE_MODEL = "openai/gpt-image-1"

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
    Route("/v1/images/generations", generate_images, methods=["POST"]),
]
