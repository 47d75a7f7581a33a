"""Embeddings: params (with ``ProviderPreferences``), the list response and its items.

``EmbeddingItem.floats()`` returns the vector whether the server sent a JSON array of numbers or,
with ``encoding_format="base64"``, a base64 string of little-endian float32 values.
"""

import base64
import binascii
import struct
from typing import Any, Dict, List, Literal, Mapping, Optional, Sequence, TypedDict, Union

from pydantic import Field

from ._base import MeshModel, MeshResult, RequestModel

__all__ = [
    "EmbeddingItem",
    "EmbeddingsParams",
    "EmbeddingsResponse",
    "EmbeddingsUsage",
    "ImageEmbeddingUrl",
    "MultimodalEmbeddingInput",
    "ProviderPreferences",
    "VideoEmbeddingUrl",
]


class ProviderPreferences(RequestModel):
    order: Optional[List[str]] = None
    allow_fallbacks: Optional[bool] = None
    require_parameters: Optional[bool] = None
    data_collection: Optional[Literal["allow", "deny"]] = None


class ImageEmbeddingUrl(RequestModel):
    url: str


class VideoEmbeddingUrl(RequestModel):
    url: str


class MultimodalEmbeddingInput(RequestModel):
    type: Literal["text", "image_url", "video_url"]
    text: Optional[str] = None
    image_url: Optional[ImageEmbeddingUrl] = None
    video_url: Optional[VideoEmbeddingUrl] = None


class EmbeddingsParams(RequestModel):
    model: Optional[str] = None
    input: Union[str, List[str], List[int], List[List[int]], List[MultimodalEmbeddingInput]]
    dimensions: Optional[int] = Field(default=None, ge=1)
    encoding_format: Optional[Literal["float", "base64"]] = None
    input_type: Optional[str] = None
    provider: Optional[Union[str, ProviderPreferences]] = None
    user: Optional[str] = Field(default=None, max_length=256)
    # Later additions.
    instructions: Optional[str] = None
    sparse_embedding: Optional[Dict[str, Any]] = None


class EmbeddingItem(MeshModel):
    object: str
    index: int
    embedding: Union[List[float], str]

    def floats(self) -> List[float]:
        """The vector as floats, decoding a base64 little-endian float32 payload if needed."""
        if not isinstance(self.embedding, str):
            return list(self.embedding)
        try:
            raw = base64.b64decode(self.embedding, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError(f"embedding {self.index} is not valid base64: {exc}") from None
        if len(raw) % 4:
            raise ValueError(
                f"embedding {self.index} decodes to {len(raw)} bytes, not a whole number of float32 values"
            )
        return list(struct.unpack(f"<{len(raw) // 4}f", raw))


class EmbeddingsUsage(MeshModel):
    # Required at 0.1.4; optional since a BYOK response may carry only the two flags below.
    prompt_tokens: Optional[int] = None
    total_tokens: Optional[int] = None
    byok_used: Optional[bool] = None
    fallback_triggered: Optional[bool] = None


class EmbeddingsResponse(MeshResult):
    object: str
    data: List[EmbeddingItem]
    model: str
    usage: Optional[EmbeddingsUsage] = None


class EmbeddingsFields(TypedDict, total=False):
    """``EmbeddingsParams``'s fields as keyword arguments, typed (a test keeps both in step)."""

    model: Optional[str]
    input: Union[
        str,
        Sequence[str],
        Sequence[int],
        Sequence[Sequence[int]],
        Sequence[Union[MultimodalEmbeddingInput, Mapping[str, Any]]],
    ]
    dimensions: Optional[int]
    encoding_format: Optional[Literal["float", "base64"]]
    input_type: Optional[str]
    provider: Union[str, ProviderPreferences, Mapping[str, Any], None]
    user: Optional[str]
    instructions: Optional[str]
    sparse_embedding: Optional[Mapping[str, Any]]
