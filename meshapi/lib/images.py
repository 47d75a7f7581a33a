"""Image-generation streaming: the chunk decoder and the stream objects.

``POST /v1/images/generations`` with ``"stream": true`` sends an initial ``status: "processing"`` chunk,
SSE comments as keep-alives while the provider works (ignored), optional partial-image chunks, a final
chunk carrying the images, then ``data: [DONE]``. Items are ``ImageGenerationChunk``. The stream is
complete at ``[DONE]`` (or at end of stream after a ``status: "completed"`` chunk); an error frame
raises ``StreamEventError``. ``get_final()`` returns the images of the final chunk as an
``ImageGenerationResponse``.
"""

from __future__ import annotations

from typing import List, Optional

from .._core.frames import DONE, decode_item
from .._core.sse import ServerSentEvent
from .._core.stream import EventDecoder
from .._streaming import AsyncStream, Stream
from ..types.images import ImageGenerationChunk, ImageGenerationResponse, ImageItem

__all__ = ["AsyncImageStream", "ImageChunkDecoder", "ImageStream"]


class ImageChunkDecoder(EventDecoder[ImageGenerationChunk]):
    """Image SSE: one ``ImageGenerationChunk`` per ``data:`` frame, ``[DONE]`` at the end."""

    def __init__(self) -> None:
        super().__init__()
        self.last_with_images: Optional[ImageGenerationChunk] = None
        self.created: Optional[int] = None

    def decode(self, event: ServerSentEvent) -> Optional[ImageGenerationChunk]:
        chunk = decode_item(event, ImageGenerationChunk, self.request_id, copy_event_name=False)
        if not isinstance(chunk, ImageGenerationChunk):  # None, or DONE
            if chunk is DONE:
                self.stop = self.complete = True
            return None
        self.created = chunk.created
        if chunk.data:
            self.last_with_images = chunk
        if chunk.status == "completed":
            self.complete = True
        return chunk

    def final(self) -> ImageGenerationResponse:
        chunk = self.last_with_images
        images: List[ImageItem] = list(chunk.data) if chunk is not None else []
        created = chunk.created if chunk is not None else (self.created or 0)
        return ImageGenerationResponse(created=created, data=images)


class ImageStream(Stream[ImageGenerationChunk]):
    """The stream of ``images.stream()``: iterate ``ImageGenerationChunk`` items.

    ``get_final()`` / ``get_final_images()`` consume the rest and return the images of the last chunk
    that carried any (as an ``ImageGenerationResponse`` / a list of ``ImageItem``).
    """

    _decoder: ImageChunkDecoder

    def get_final(self) -> ImageGenerationResponse:
        self.until_done()
        return self._decoder.final()

    get_final_response = get_final

    def get_final_images(self) -> List[ImageItem]:
        return self.get_final().data


class AsyncImageStream(AsyncStream[ImageGenerationChunk]):
    """Asyncio twin of :class:`ImageStream`."""

    _decoder: ImageChunkDecoder

    async def get_final(self) -> ImageGenerationResponse:
        await self.until_done()
        return self._decoder.final()

    get_final_response = get_final

    async def get_final_images(self) -> List[ImageItem]:
        return (await self.get_final()).data
