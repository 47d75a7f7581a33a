"""Embeddings helpers: base64 vectors decoded for the caller.

With ``encoding_format="base64"`` the gateway sends each vector as a base64 string of little-endian
float32 values. ``embeddings.create()`` decodes it, so ``item.embedding`` is always a ``List[float]``;
the item is then a ``DecodedEmbeddingItem`` (an ``EmbeddingItem``) whose ``raw_base64`` keeps the string
exactly as received.
"""

from __future__ import annotations

from typing import List, Optional

import httpx
from pydantic import PrivateAttr

from .._errors import APIResponseValidationError
from ..types.embeddings import EmbeddingItem, EmbeddingsResponse

__all__ = ["DecodedEmbeddingItem", "decode_base64_embeddings"]


class DecodedEmbeddingItem(EmbeddingItem):
    """An ``EmbeddingItem`` whose base64 vector was decoded into floats; ``raw_base64`` is the original."""

    _raw_base64: Optional[str] = PrivateAttr(default=None)

    @property
    def raw_base64(self) -> Optional[str]:
        """The base64 string the gateway sent (``None`` if the vector arrived as numbers)."""
        return self._raw_base64


def decode_base64_embeddings(result: EmbeddingsResponse, response: Optional[httpx.Response] = None) -> None:
    """Replace every base64 ``embedding`` of ``result`` by its floats (in place)."""
    if not any(isinstance(item.embedding, str) for item in result.data):
        return
    items: List[EmbeddingItem] = []
    for item in result.data:
        if not isinstance(item.embedding, str):
            items.append(item)
            continue
        try:
            floats = item.floats()
        except ValueError as exc:
            raise APIResponseValidationError(
                f"The gateway's base64 embedding could not be decoded: {exc}",
                status=response.status_code if response is not None else 0,
                request_id=response.headers.get("x-request-id", "") if response is not None else "",
                response=response,
            ) from None
        decoded = DecodedEmbeddingItem(object=item.object, index=item.index, embedding=floats)
        decoded._raw_base64 = item.embedding
        items.append(decoded)
    result.data = items
