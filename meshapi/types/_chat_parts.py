"""The content parts of a chat message (text, image, audio, video), the part of ``meshapi.types.chat``
that travels both ways inside messages.

Why a module of its own: it keeps ``chat.py`` within the size limit. ``meshapi.types.chat`` exports
every name here (import them from there, as 0.1.4 did); the base models and ``cache_control`` are
``_base.py``'s and ``caching.py``'s.
"""

from typing import Literal, Optional, Union

from ._base import SharedModel
from .caching import CacheControlledPart

__all__ = [
    "ContentPart",
    "ContentPartAudio",
    "ContentPartImage",
    "ContentPartText",
    "ContentPartVideo",
    "ImageDetail",
    "InputAudio",
    "VideoUrl",
]


class ImageDetail(SharedModel):
    url: str
    detail: Optional[Literal["auto", "low", "high"]] = None


class ContentPartText(CacheControlledPart):
    type: Literal["text"]
    text: str


class ContentPartImage(CacheControlledPart):
    type: Literal["image_url"]
    image_url: ImageDetail


class InputAudio(SharedModel):
    # ``data`` was required at 0.1.4; later the audio may be referenced by ``uri``/``url`` instead.
    data: Optional[str] = None
    format: Literal["wav", "mp3", "aiff", "aac", "ogg", "flac", "m4a", "pcm16", "pcm24"]
    uri: Optional[str] = None
    url: Optional[str] = None


class ContentPartAudio(CacheControlledPart):
    type: Literal["input_audio"]
    input_audio: InputAudio


class VideoUrl(SharedModel):
    url: str


class ContentPartVideo(CacheControlledPart):
    type: Literal["video_url"]
    video_url: VideoUrl
    fps: Optional[str] = None


ContentPart = Union[ContentPartText, ContentPartImage, ContentPartAudio, ContentPartVideo]
