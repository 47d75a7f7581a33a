"""``client.images``: ``POST /v1/images/generations`` (plain and streamed) and ``POST /v1/images/edits``.

``generate(stream=True)`` is ``stream(...).open()``: it sends and waits for the status, so a web handler
sees a 404 / 429 at the call (``stream()`` stays lazy). Its first ``@overload`` is the plain one: it is
the signature ``with_raw_response`` is typed with (``resources/_base.py``).

Beyond 0.1.12, ``edit`` also takes the image, mask and reference images as raw bytes (or a path): they
are sent as ``data:`` URLs, the form the gateway accepts.
"""

from __future__ import annotations

import base64
import os
import pathlib
from typing import Any, Dict, Literal, Optional, Union, overload

from .._core.request import CallOptions, coerce_params, dump_body, split_options
from .._errors import InvalidParamsError
from ..lib.images import AsyncImageStream, ImageChunkDecoder, ImageStream
from ..types.images import (
    ImageEditFields,
    ImageEditParams,
    ImageGenerationFields,
    ImageGenerationParams,
    ImageGenerationResponse,
    ImageGenerationStreamFields,
)
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

__all__ = ["AsyncImagesResource", "ImagesResource"]

_PATH = "/v1/images/generations"
_EDITS = "/v1/images/edits"
_MAGIC = (
    (b"\x89PNG", "image/png"),
    (b"\xff\xd8", "image/jpeg"),
    (b"GIF8", "image/gif"),
    (b"RIFF", "image/webp"),
)


def _data_url(value: Any, name: str) -> Any:
    """Bytes (or a ``Path``) become a ``data:image/...;base64,`` URL; anything else is left to validation."""
    if isinstance(value, os.PathLike):
        try:
            value = pathlib.Path(value).read_bytes()
        except OSError as exc:
            raise InvalidParamsError(f"{name}: cannot read {os.fspath(value)!r}: {exc.strerror}") from None
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        mime = next((m for magic, m in _MAGIC if data.startswith(magic)), "image/png")
        return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
    return value


def _edit_fields(fields: Dict[str, Any]) -> Dict[str, Any]:
    for name in ("image", "mask"):
        if name in fields:
            fields[name] = _data_url(fields[name], name)
    refs = fields.get("reference_images")
    if isinstance(refs, (list, tuple)):
        fields["reference_images"] = [_data_url(ref, "reference_images") for ref in refs]
    return fields


class ImageGenerationArgs(ImageGenerationFields, CallOptions, total=False):
    """The keywords of ``generate``: ``ImageGenerationParams``' fields (``stream`` apart) and the options."""


class ImageGenerationStreamArgs(ImageGenerationStreamFields, CallOptions, total=False):
    """The keywords of ``stream``: ``ImageGenerationParams``' fields and the per-call options."""


class ImageEditArgs(ImageEditFields, CallOptions, total=False):
    """The keywords of the methods that take a ``ImageEditParams``: its fields and the per-call options."""


class ImagesResource(SyncAPIResource["ImagesViews[Raw]", "ImagesViews[Streaming]"]):
    @overload
    def generate(
        self,
        params: Optional[ImageGenerationParams] = None,
        *,
        stream: Optional[Literal[False]] = None,
        **kwargs: Unpack[ImageGenerationArgs],
    ) -> ImageGenerationResponse: ...
    @overload
    def generate(
        self,
        params: Optional[ImageGenerationParams] = None,
        *,
        stream: Literal[True],
        **kwargs: Unpack[ImageGenerationArgs],
    ) -> ImageStream: ...
    def generate(
        self,
        params: Optional[ImageGenerationParams] = None,
        *,
        stream: Optional[bool] = None,
        **kwargs: Unpack[ImageGenerationArgs],
    ) -> Union[ImageGenerationResponse, ImageStream]:
        """Generate images (``POST /v1/images/generations``).

        With ``stream=True``: the stream of :meth:`stream`, already open. The request is sent and its
        status awaited before this returns, so an HTTP error (``RateLimitError``, ``NotFoundError``, ...)
        is raised here, not at the first chunk (:meth:`stream` stays lazy). Close the stream (or read it
        to the end) to release the connection.

        Pass an ``ImageGenerationParams`` or its fields as keyword arguments (``model=``, ``prompt=``,
        ``size=``, ``n=``, ...). An ``ImageGenerationParams(stream=True)`` without the keyword does not
        change this call (``"stream": false`` is sent; 0.1.4 sent a streaming request and failed).
        ``item.image_bytes()`` / ``item.save(path)`` give an inline image's bytes.
        """
        if stream:
            return self.stream(params, **kwargs).open()
        opts, fields = split_options(kwargs)
        body = dump_body(coerce_params(ImageGenerationParams, params, fields), opts, stream=False)
        return self._http.request_model(ImageGenerationResponse, "POST", _PATH, body=body, options=opts)

    def edit(
        self,
        params: Optional[ImageEditParams] = None,
        **kwargs: Unpack[ImageEditArgs],
    ) -> ImageGenerationResponse:
        """Edit an image (``POST /v1/images/edits``): same response shape as :meth:`generate`.

        Pass an ``ImageEditParams`` or its fields: ``model=``, ``image=`` (a ``data:`` URL, bare
        base64, ``{"url": ...}``, or raw bytes / a ``Path``), ``prompt=``, ``operation=`` (``edit``,
        ``inpaint``, ``outpaint``, ``mix``, ``reframe``, ``upscale``, ``remove_background``), ``mask=``.
        """
        opts, fields = split_options(kwargs)
        body = dump_body(coerce_params(ImageEditParams, params, _edit_fields(dict(fields))), opts)
        return self._http.request_model(ImageGenerationResponse, "POST", _EDITS, body=body, options=opts)

    def stream(
        self,
        params: Optional[ImageGenerationParams] = None,
        **kwargs: Unpack[ImageGenerationStreamArgs],
    ) -> ImageStream:
        """Stream an image generation as ``ImageGenerationChunk`` items (``"stream": true``).

        Lazy: nothing is sent before the first item (``open()`` sends it now). Keep-alive comments are
        skipped; the stream ends at ``[DONE]``. ``get_final()`` returns the final images as an
        ``ImageGenerationResponse``.
        """
        opts, fields = split_options(kwargs)
        body = dump_body(coerce_params(ImageGenerationParams, params, fields), opts, stream=True)
        http = self._http
        return ImageStream(
            lambda: http.send("POST", _PATH, body=body, options=opts, stream=True),
            ImageChunkDecoder(),
            max_event_bytes=http.config.max_response_bytes,
        )


class AsyncImagesResource(AsyncAPIResource["ImagesViews[AsyncRaw]", "ImagesViews[AsyncStreaming]"]):
    @overload
    async def generate(
        self,
        params: Optional[ImageGenerationParams] = None,
        *,
        stream: Optional[Literal[False]] = None,
        **kwargs: Unpack[ImageGenerationArgs],
    ) -> ImageGenerationResponse: ...
    @overload
    async def generate(
        self,
        params: Optional[ImageGenerationParams] = None,
        *,
        stream: Literal[True],
        **kwargs: Unpack[ImageGenerationArgs],
    ) -> AsyncImageStream: ...
    async def generate(
        self,
        params: Optional[ImageGenerationParams] = None,
        *,
        stream: Optional[bool] = None,
        **kwargs: Unpack[ImageGenerationArgs],
    ) -> Union[ImageGenerationResponse, AsyncImageStream]:
        """Generate images (``POST /v1/images/generations``).

        With ``stream=True``: the stream of :meth:`stream`, already open. The request is sent and its
        status awaited before this returns, so an HTTP error (``RateLimitError``, ``NotFoundError``, ...)
        is raised here, not at the first chunk (:meth:`stream` stays lazy). Close the stream (or read it
        to the end) to release the connection.

        Pass an ``ImageGenerationParams`` or its fields as keyword arguments (``model=``, ``prompt=``,
        ``size=``, ``n=``, ...). An ``ImageGenerationParams(stream=True)`` without the keyword does not
        change this call (``"stream": false`` is sent; 0.1.4 sent a streaming request and failed).
        ``item.image_bytes()`` / ``item.save(path)`` give an inline image's bytes.
        """
        if stream:
            return await self.stream(params, **kwargs).open()
        opts, fields = split_options(kwargs)
        body = dump_body(coerce_params(ImageGenerationParams, params, fields), opts, stream=False)
        return await self._http.request_model(ImageGenerationResponse, "POST", _PATH, body=body, options=opts)

    async def edit(
        self,
        params: Optional[ImageEditParams] = None,
        **kwargs: Unpack[ImageEditArgs],
    ) -> ImageGenerationResponse:
        """Edit an image (``POST /v1/images/edits``): same response shape as :meth:`generate`.

        Pass an ``ImageEditParams`` or its fields: ``model=``, ``image=`` (a ``data:`` URL, bare
        base64, ``{"url": ...}``, or raw bytes / a ``Path``), ``prompt=``, ``operation=`` (``edit``,
        ``inpaint``, ``outpaint``, ``mix``, ``reframe``, ``upscale``, ``remove_background``), ``mask=``.
        """
        opts, fields = split_options(kwargs)
        body = dump_body(coerce_params(ImageEditParams, params, _edit_fields(dict(fields))), opts)
        return await self._http.request_model(
            ImageGenerationResponse, "POST", _EDITS, body=body, options=opts
        )

    def stream(
        self,
        params: Optional[ImageGenerationParams] = None,
        **kwargs: Unpack[ImageGenerationStreamArgs],
    ) -> AsyncImageStream:
        """Stream an image generation as ``ImageGenerationChunk`` items (``"stream": true``).

        Lazy: nothing is sent before the first item (``open()`` sends it now). Keep-alive comments are
        skipped; the stream ends at ``[DONE]``. ``get_final()`` returns the final images as an
        ``ImageGenerationResponse``.
        """
        opts, fields = split_options(kwargs)
        body = dump_body(coerce_params(ImageGenerationParams, params, fields), opts, stream=True)
        http = self._http
        return AsyncImageStream(
            lambda: http.send("POST", _PATH, body=body, options=opts, stream=True),
            ImageChunkDecoder(),
            max_event_bytes=http.config.max_response_bytes,
        )


class ImagesViews(Views[M]):
    """The typed ``with_raw_response`` / ``with_streaming_response`` of ``ImagesResource`` and its twin."""

    generate = view(ImagesResource.generate, AsyncImagesResource.generate)
    edit = view(ImagesResource.edit, AsyncImagesResource.edit)
    stream = view(ImagesResource.stream, AsyncImagesResource.stream)
