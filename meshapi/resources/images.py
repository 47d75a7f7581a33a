"""``client.images``: ``POST /v1/images/generations``, plain and streamed."""

from __future__ import annotations

from typing import Any, Mapping, Optional

from .._core.request import coerce_params, dump_body
from ..lib.images import AsyncImageStream, ImageChunkDecoder, ImageStream
from ..types.images import ImageGenerationParams, ImageGenerationResponse
from ._base import AsyncAPIResource, SyncAPIResource, TimeoutArg, options

__all__ = ["AsyncImagesResource", "ImagesResource"]

_PATH = "/v1/images/generations"


class ImagesResource(SyncAPIResource):
    def generate(
        self,
        params: Optional[ImageGenerationParams] = None,
        *,
        timeout: TimeoutArg = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        **fields: Any,
    ) -> ImageGenerationResponse:
        """Generate images (``POST /v1/images/generations``; ``"stream": false`` is always sent).

        Pass an ``ImageGenerationParams`` or its fields as keyword arguments (``model=``, ``prompt=``,
        ``size=``, ``n=``, ...). ``stream=True`` in the params does not change this call (0.1.4 sent a
        streaming request and failed); use :meth:`stream`. ``item.image_bytes()`` / ``item.save(path)``
        give an inline image's bytes.
        """
        opts = options(
            timeout,
            extra_headers,
            extra_body,
            extra_query=extra_query,
            max_retries=max_retries,
            total_timeout=total_timeout,
            request_id=request_id,
        )
        body = dump_body(coerce_params(ImageGenerationParams, params, fields), opts, stream=False)
        return self._http.request_model(ImageGenerationResponse, "POST", _PATH, body=body, options=opts)

    def stream(
        self,
        params: Optional[ImageGenerationParams] = None,
        *,
        timeout: TimeoutArg = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        **fields: Any,
    ) -> ImageStream:
        """Stream an image generation as ``ImageGenerationChunk`` items (``"stream": true``).

        Lazy: nothing is sent before the first item. Keep-alive comments are skipped; the stream ends
        at ``[DONE]``. ``get_final()`` returns the final images as an ``ImageGenerationResponse``.
        """
        opts = options(
            timeout,
            extra_headers,
            extra_body,
            extra_query=extra_query,
            max_retries=max_retries,
            total_timeout=total_timeout,
            request_id=request_id,
        )
        body = dump_body(coerce_params(ImageGenerationParams, params, fields), opts, stream=True)
        http = self._http
        return ImageStream(
            lambda: http.send("POST", _PATH, body=body, options=opts, stream=True), ImageChunkDecoder()
        )


class AsyncImagesResource(AsyncAPIResource):
    async def generate(
        self,
        params: Optional[ImageGenerationParams] = None,
        *,
        timeout: TimeoutArg = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        **fields: Any,
    ) -> ImageGenerationResponse:
        """Generate images (``POST /v1/images/generations``; ``"stream": false`` is always sent).

        Pass an ``ImageGenerationParams`` or its fields as keyword arguments (``model=``, ``prompt=``,
        ``size=``, ``n=``, ...). ``stream=True`` in the params does not change this call (0.1.4 sent a
        streaming request and failed); use :meth:`stream`. ``item.image_bytes()`` / ``item.save(path)``
        give an inline image's bytes.
        """
        opts = options(
            timeout,
            extra_headers,
            extra_body,
            extra_query=extra_query,
            max_retries=max_retries,
            total_timeout=total_timeout,
            request_id=request_id,
        )
        body = dump_body(coerce_params(ImageGenerationParams, params, fields), opts, stream=False)
        return await self._http.request_model(ImageGenerationResponse, "POST", _PATH, body=body, options=opts)

    def stream(
        self,
        params: Optional[ImageGenerationParams] = None,
        *,
        timeout: TimeoutArg = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        **fields: Any,
    ) -> AsyncImageStream:
        """Stream an image generation as ``ImageGenerationChunk`` items (``"stream": true``).

        Lazy: nothing is sent before the first item. Keep-alive comments are skipped; the stream ends
        at ``[DONE]``. ``get_final()`` returns the final images as an ``ImageGenerationResponse``.
        """
        opts = options(
            timeout,
            extra_headers,
            extra_body,
            extra_query=extra_query,
            max_retries=max_retries,
            total_timeout=total_timeout,
            request_id=request_id,
        )
        body = dump_body(coerce_params(ImageGenerationParams, params, fields), opts, stream=True)
        http = self._http
        return AsyncImageStream(
            lambda: http.send("POST", _PATH, body=body, options=opts, stream=True), ImageChunkDecoder()
        )
