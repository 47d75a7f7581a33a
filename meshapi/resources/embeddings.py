"""``client.embeddings``: ``POST /v1/embeddings``."""

from __future__ import annotations

from typing import Optional

import httpx

from .._core.request import CallOptions, coerce_params, dump_body, split_options
from .._core.response import parse_json_response, validate_model
from ..lib.embeddings import decode_base64_embeddings
from ..types.embeddings import EmbeddingsFields, EmbeddingsParams, EmbeddingsResponse
from ._base import (
    AsyncAPIResource,
    AsyncRaw,
    AsyncStreaming,
    M,
    Raw,
    Streaming,
    SyncAPIResource,
    Unpack,
    Views,
    view,
)

__all__ = ["AsyncEmbeddingsResource", "EmbeddingsResource"]

_PATH = "/v1/embeddings"


class EmbeddingsArgs(EmbeddingsFields, CallOptions, total=False):
    """The keywords of the methods that take a ``EmbeddingsParams``: its fields and the per-call options."""


class EmbeddingsResource(SyncAPIResource["EmbeddingsViews[Raw]", "EmbeddingsViews[Streaming]"]):
    def create(
        self,
        params: Optional[EmbeddingsParams] = None,
        **kwargs: Unpack[EmbeddingsArgs],
    ) -> EmbeddingsResponse:
        """Embed one input or a list of inputs (``POST /v1/embeddings``).

        Pass an ``EmbeddingsParams`` or its fields as keyword arguments (``model=``, ``input=``,
        ``dimensions=``, ``encoding_format=``, ...). With ``encoding_format="base64"`` each vector
        arrives as base64 little-endian float32 and is decoded for you: ``item.embedding`` is always a
        ``List[float]``, and ``item.raw_base64`` keeps the string as received.
        """
        opts, fields = split_options(kwargs)
        body = dump_body(coerce_params(EmbeddingsParams, params, fields), opts)
        response = self._http.send("POST", _PATH, body=body, options=opts)
        return _parse(response)


class AsyncEmbeddingsResource(
    AsyncAPIResource["EmbeddingsViews[AsyncRaw]", "EmbeddingsViews[AsyncStreaming]"]
):
    async def create(
        self,
        params: Optional[EmbeddingsParams] = None,
        **kwargs: Unpack[EmbeddingsArgs],
    ) -> EmbeddingsResponse:
        """Embed one input or a list of inputs (``POST /v1/embeddings``).

        Pass an ``EmbeddingsParams`` or its fields as keyword arguments (``model=``, ``input=``,
        ``dimensions=``, ``encoding_format=``, ...). With ``encoding_format="base64"`` each vector
        arrives as base64 little-endian float32 and is decoded for you: ``item.embedding`` is always a
        ``List[float]``, and ``item.raw_base64`` keeps the string as received.
        """
        opts, fields = split_options(kwargs)
        body = dump_body(coerce_params(EmbeddingsParams, params, fields), opts)
        response = await self._http.send("POST", _PATH, body=body, options=opts)
        return _parse(response)


class EmbeddingsViews(Views[M]):
    """The typed ``with_raw_response`` / ``with_streaming_response`` of ``EmbeddingsResource`` and its twin."""

    create = view(EmbeddingsResource.create, AsyncEmbeddingsResource.create)


def _parse(response: httpx.Response) -> EmbeddingsResponse:
    result = validate_model(EmbeddingsResponse, parse_json_response(response), response)
    decode_base64_embeddings(result, response)
    return result
