"""``/v1/images/*`` (SDK ``client.images``; docs/protocol.md §3.5, §4.7): real PNGs, generated and edited.

Generation draws a deterministic picture per prompt (plain and streamed). Edits decode the given PNG
and change it deterministically: ``edit`` tints the whole image toward a colour taken from the
prompt, ``inpaint`` does so only where the mask is light (mask pixels averaging 128 or more), ``mix``
averages the image with its ``reference_images`` before tinting. Other operations are refused with
``model_capability_not_supported`` unless the model lists them (see ``fakes/catalog.py``).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import struct
import time
from typing import Any, AsyncIterator, Dict, List, Optional, Tuple

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..errors import ApiError
from ..fakes import engine, png
from ..http.context import chat_model, gateway, json_body, json_response, pace, require_capability
from ..http.sse import DONE, KEEP_ALIVE, data_event, sse_response
from ..http.validation import Bool, Int, ListOf, Literal, Num, Obj, OneOf, Str, opt, req
from ..ids import hex_id
from ..store.state import GatewayState

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


# -- edits ----------------------------------------------------------------------------------------------

_IMAGE_REF = OneOf(Str(), Obj({"url": req(Str())}))
EDIT = Obj(
    {
        "model": req(Str()),
        "image": req(_IMAGE_REF),
        "prompt": opt(Str()),
        "operation": opt(
            Literal("edit", "inpaint", "outpaint", "mix", "reframe", "upscale", "remove_background")
        ),
        "mask": opt(_IMAGE_REF),
        "reference_images": opt(ListOf(_IMAGE_REF)),
        "n": opt(Int(ge=1, le=10)),
        "size": opt(Str()),
        "response_format": opt(Literal("url", "b64_json")),
        "background": opt(Literal("transparent", "opaque", "auto")),
        "upscale_factor": opt(Str()),
        "quality_tier": opt(Str()),
        "aspect_ratio": opt(Str()),
        "resolution": opt(Str()),
        "expand_factor": opt(OneOf(Str(), Num())),
        "mask_feather": opt(Int(ge=0)),
    }
)
_NEEDS_PROMPT = ("edit", "outpaint", "mix")
Picture = Tuple[int, int, bytes]


def _decode(value: Any, field: str) -> Picture:
    ref = value.get("url") if isinstance(value, dict) else value
    text = str(ref).strip()
    if text.startswith(("http://", "https://")):
        raise ApiError(
            400,
            "invalid_request",
            f"{field}: remote URLs are not accepted; send a data URL or base64.",
            param=field,
        )
    if text.startswith("data:"):
        text = text.split(",", 1)[1] if "," in text else ""
    try:
        data = base64.b64decode(text, validate=True)
        return png.decode_rgb(data)
    except (binascii.Error, ValueError) as exc:
        raise ApiError(
            400, "invalid_request", f"{field} could not be read as a PNG image: {exc}", param=field
        ) from None


def _resize(picture: Picture, width: int, height: int) -> bytes:
    """Nearest-neighbour resize of an RGB picture."""
    w, h, rgb = picture
    if (w, h) == (width, height):
        return rgb
    out = bytearray()
    for y in range(height):
        row = (y * h // height) * w
        for x in range(width):
            i = (row + x * w // width) * 3
            out += rgb[i : i + 3]
    return bytes(out)


def _tint(prompt: str, variant: int) -> Tuple[int, int, int]:
    seed = hashlib.sha256(f"edit:{variant}:{prompt}".encode()).digest()
    return seed[0], seed[1], seed[2]


def edit_picture(body: Dict[str, Any], variant: int) -> bytes:
    """The edited PNG for a validated edit body (see the module docstring)."""
    operation = body.get("operation") or "edit"
    base = _decode(body["image"], "image")
    width, height = png.scaled_size(body["size"]) if body.get("size") else (base[0], base[1])
    pixels = bytearray(_resize(base, width, height))
    if operation == "mix":
        for index, ref in enumerate(body.get("reference_images") or []):
            other = _resize(_decode(ref, f"reference_images[{index}]"), width, height)
            weight = 1 / (index + 2)
            for i, value in enumerate(other):
                pixels[i] = int(pixels[i] * (1 - weight) + value * weight)
    region: Optional[bytes] = None
    if operation == "inpaint":
        region = _resize(_decode(body["mask"], "mask"), width, height)
    colour = _tint(body.get("prompt") or "", variant)
    for p in range(width * height):
        if region is not None and sum(region[p * 3 : p * 3 + 3]) < 3 * 128:
            continue
        for k in range(3):
            i = p * 3 + k
            pixels[i] = int(pixels[i] * 0.55 + colour[k] * 0.45)
    return png.encode_rgb(width, height, bytes(pixels))


async def edit_images(request: Request) -> Response:
    state = gateway(request)
    body = await json_body(request, EDIT)
    entry = chat_model(request, body["model"])
    operation = body.get("operation") or "edit"
    require_capability(entry, operation in entry.image_operations, f"image {operation.replace('_', ' ')}")
    if operation in _NEEDS_PROMPT and not (body.get("prompt") or "").strip():
        raise ApiError(
            400, "invalid_request", f"prompt is required for the {operation} operation.", param="prompt"
        )
    if operation == "inpaint" and body.get("mask") is None:
        raise ApiError(400, "invalid_request", "mask is required for the inpaint operation.", param="mask")
    if operation == "mix" and not body.get("reference_images"):
        raise ApiError(
            400, "invalid_request", "reference_images are required for mix.", param="reference_images"
        )
    if state.latency > 0:
        await asyncio.sleep(state.latency)
    as_url = body.get("response_format", "b64_json") == "url"
    data = []
    pictures = [edit_picture(body, i) for i in range(body.get("n") or 1)]
    for picture in pictures:
        encoded = base64.b64encode(picture).decode("ascii")
        data.append({"url": "data:image/png;base64," + encoded} if as_url else {"b64_json": encoded})
    width, height = struct.unpack(">II", pictures[0][16:24])
    prompt_tokens = engine.count_tokens(body.get("prompt") or "") + 65
    completion_tokens = 4160 * len(pictures)
    return json_response(
        {
            "created": int(time.time()),
            "data": data,
            "background": body.get("background") or "opaque",
            "output_format": "png",
            "quality": "high",
            "size": f"{width}x{height}",
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
    )


ROUTES = [
    Route("/v1/images/generations", generate_images, methods=["POST"]),
    Route("/v1/images/edits", edit_images, methods=["POST"]),
]
