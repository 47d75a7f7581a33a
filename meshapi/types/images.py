"""Image generation and edits: params, the response, its items and stream chunks.

Params derive from ``RequestModel`` (unknown keys raise); responses ignore unknown keys.
``ImageItem.image_bytes()`` / ``ImageItem.save()`` give the image's bytes when the server sent them
inline (``b64_json`` or a ``data:`` URL).
"""

import base64
import binascii
import os
import pathlib
import urllib.parse
from typing import Any, Dict, List, Literal, Mapping, Optional, Sequence, TypedDict, Union

from pydantic import Field

from ._base import MeshModel, MeshResult, RequestModel

__all__ = [
    "ImageEditParams",
    "ImageGenerationChunk",
    "ImageGenerationParams",
    "ImageGenerationResponse",
    "ImageItem",
    "ImageRef",
    "ImageUsage",
]


class ImageGenerationParams(RequestModel):
    prompt: str
    model: Optional[str] = None
    n: Optional[int] = None
    size: Optional[str] = None
    quality: Optional[str] = None
    response_format: Optional[Literal["url", "b64_json"]] = None
    output_format: Optional[Literal["png", "jpeg", "webp"]] = None
    stream: Optional[bool] = None
    # Later additions: all optional, absent from the body unless set.
    aspect_ratio: Optional[str] = None
    resolution: Optional[str] = None
    output_compression: Optional[int] = Field(default=None, ge=0, le=100)
    background: Optional[Literal["transparent", "opaque", "auto"]] = None
    moderation: Optional[Literal["low", "auto"]] = None
    partial_images: Optional[int] = Field(default=None, ge=0, le=3)
    image: Optional[Union[str, List[str]]] = None
    seed: Optional[int] = Field(default=None, ge=-1, le=2147483647)
    sequential_image_generation: Optional[Literal["auto", "disabled"]] = None
    sequential_image_generation_options: Optional[Dict[str, Any]] = None
    guidance_scale: Optional[float] = Field(default=None, ge=1, le=10)
    watermark: Optional[bool] = None
    optimize_prompt_options: Optional[Dict[str, Any]] = None


class ImageRef(RequestModel):
    url: str


class ImageEditParams(RequestModel):
    model: str
    image: Union[str, ImageRef]
    prompt: str = ""
    operation: Literal["edit", "inpaint", "outpaint", "mix", "reframe", "upscale", "remove_background"] = (
        "edit"
    )
    mask: Optional[Union[str, ImageRef]] = None
    reference_images: Optional[List[Union[str, ImageRef]]] = None
    n: Optional[int] = None
    size: Optional[str] = None
    response_format: Optional[Literal["url", "b64_json"]] = None
    background: Optional[str] = None
    upscale_factor: Optional[str] = None
    quality_tier: Optional[str] = None
    aspect_ratio: Optional[str] = None
    resolution: Optional[str] = None
    expand_factor: Optional[Union[str, float]] = None
    mask_feather: Optional[int] = None


class ImageItem(MeshModel):
    url: Optional[str] = None
    b64_json: Optional[str] = None
    revised_prompt: Optional[str] = None

    def image_bytes(self) -> bytes:
        """The image's bytes, from ``b64_json`` or a ``data:`` URL.

        Raises ``ValueError`` when the image is only available at a remote URL (fetch it yourself;
        the URL is in ``.url``) or when the item carries no image at all.
        """
        if self.b64_json:
            return _b64decode(self.b64_json, "b64_json")
        if self.url:
            if self.url[:5].lower() == "data:":
                header, comma, payload = self.url[5:].partition(",")
                if not comma:
                    raise ValueError("image data: URL has no ',' separating its header from the data")
                if header.lower().endswith(";base64"):
                    return _b64decode(payload, "data: URL")
                return urllib.parse.unquote_to_bytes(payload)
            scheme = urllib.parse.urlsplit(self.url).scheme or "relative"
            raise ValueError(
                f"image is hosted at a remote {scheme} URL, not inline; download .url, "
                'or request response_format="b64_json"'
            )
        raise ValueError("image item carries no image data (neither b64_json nor url is set)")

    def save(self, path: Union[str, os.PathLike[str]]) -> pathlib.Path:
        """Write ``image_bytes()`` to ``path`` and return it as a ``pathlib.Path``."""
        target = pathlib.Path(path)
        target.write_bytes(self.image_bytes())
        return target


def _b64decode(text: str, where: str) -> bytes:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"image {where} is not valid base64: {exc}") from None


class ImageUsage(MeshModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    input_tokens_details: Optional[Dict[str, Any]] = None
    output_tokens_details: Optional[Dict[str, Any]] = None


class ImageGenerationResponse(MeshResult):
    created: int
    data: List[ImageItem]
    background: Optional[str] = None
    output_format: Optional[str] = None
    quality: Optional[str] = None
    size: Optional[str] = None
    usage: Optional[ImageUsage] = None


class ImageGenerationChunk(MeshModel):
    id: Optional[str] = None
    object: Optional[str] = "image.chunk"
    created: int
    data: List[ImageItem] = Field(default_factory=list)
    status: Optional[str] = None
    model: Optional[str] = None


class ImageGenerationFields(TypedDict, total=False):
    """``ImageGenerationParams``'s fields as keyword arguments but ``stream``, typed (``generate`` takes
    ``stream`` as a parameter of its own; a test keeps these and the model in step)."""

    prompt: str
    model: Optional[str]
    n: Optional[int]
    size: Optional[str]
    quality: Optional[str]
    response_format: Optional[Literal["url", "b64_json"]]
    output_format: Optional[Literal["png", "jpeg", "webp"]]
    aspect_ratio: Optional[str]
    resolution: Optional[str]
    output_compression: Optional[int]
    background: Optional[Literal["transparent", "opaque", "auto"]]
    moderation: Optional[Literal["low", "auto"]]
    partial_images: Optional[int]
    image: Union[str, Sequence[str], None]
    seed: Optional[int]
    sequential_image_generation: Optional[Literal["auto", "disabled"]]
    sequential_image_generation_options: Optional[Mapping[str, Any]]
    guidance_scale: Optional[float]
    watermark: Optional[bool]
    optimize_prompt_options: Optional[Mapping[str, Any]]


class ImageGenerationStreamFields(ImageGenerationFields, total=False):
    """``ImageGenerationFields`` and ``stream``: the keywords of ``stream()`` (its body always streams)."""

    stream: Optional[bool]


class ImageEditFields(TypedDict, total=False):
    """``ImageEditParams``'s fields as keyword arguments, typed (a test keeps both in step)."""

    model: str
    image: Union[str, ImageRef, Mapping[str, Any], bytes, "os.PathLike[str]"]
    prompt: str
    operation: Literal["edit", "inpaint", "outpaint", "mix", "reframe", "upscale", "remove_background"]
    mask: Union[str, ImageRef, Mapping[str, Any], bytes, "os.PathLike[str]", None]
    reference_images: Optional[Sequence[Union[str, ImageRef, Mapping[str, Any], bytes, "os.PathLike[str]"]]]
    n: Optional[int]
    size: Optional[str]
    response_format: Optional[Literal["url", "b64_json"]]
    background: Optional[str]
    upscale_factor: Optional[str]
    quality_tier: Optional[str]
    aspect_ratio: Optional[str]
    resolution: Optional[str]
    expand_factor: Union[str, float, None]
    mask_feather: Optional[int]
