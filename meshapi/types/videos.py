"""Video generation (``/v1/video/generations``): an asynchronous task API.

``VideoGenerationParams`` starts a task (the answer is only its id); ``VideoTaskResponse`` is the task
as it moves through ``queued`` -> ``running`` -> ``succeeded`` / ``failed`` / ``expired`` /
``cancelled``. A succeeded task's ``content.video_url`` is where the file can be downloaded.
"""

from typing import Any, Dict, List, Mapping, Optional, Sequence, TypedDict, Union

from pydantic import ConfigDict, Field

from ._base import MeshModel, MeshResult, RequestModel

__all__ = [
    "TERMINAL_VIDEO_STATUSES",
    "CreateVideoGenerationResponse",
    "ListVideoGenerationsParams",
    "VideoContentItem",
    "VideoGenerationParams",
    "VideoTaskContent",
    "VideoTaskError",
    "VideoTaskListResponse",
    "VideoTaskResponse",
    "VideoTaskUsage",
]

TERMINAL_VIDEO_STATUSES = frozenset({"succeeded", "failed", "expired", "cancelled"})


class VideoContentItem(RequestModel):
    """One input: ``type`` is ``text``, ``image_url``, ``video_url``, ``audio_url`` or ``draft_task``."""

    type: str
    text: Optional[str] = None
    role: Optional[str] = None
    image_url: Optional[Dict[str, Any]] = None
    video_url: Optional[Dict[str, Any]] = None
    audio_url: Optional[Dict[str, Any]] = None
    draft_task: Optional[Dict[str, Any]] = None


class VideoGenerationParams(RequestModel):
    model: str
    content: List[VideoContentItem]
    callback_url: Optional[str] = None
    return_last_frame: Optional[bool] = None
    service_tier: Optional[str] = None
    execution_expires_after: Optional[int] = None
    generate_audio: Optional[bool] = None
    draft: Optional[bool] = None
    resolution: Optional[str] = None
    ratio: Optional[str] = None
    duration: Optional[int] = None
    frames: Optional[int] = None
    seed: Optional[int] = None
    camera_fixed: Optional[bool] = None
    watermark: Optional[bool] = None
    safety_identifier: Optional[str] = None
    priority: Optional[int] = None


class CreateVideoGenerationResponse(MeshResult):
    model_config = ConfigDict(extra="allow")

    id: str


class VideoTaskError(MeshModel):
    code: str
    message: str


class VideoTaskContent(MeshModel):
    video_url: Optional[str] = None
    last_frame_url: Optional[str] = None


class VideoTaskUsage(MeshModel):
    completion_tokens: int
    total_tokens: int


class VideoTaskResponse(MeshResult):
    model_config = ConfigDict(extra="allow")

    id: str
    status: str
    model: Optional[str] = None
    error: Optional[VideoTaskError] = None
    created_at: Optional[int] = None
    updated_at: Optional[int] = None
    content: Optional[VideoTaskContent] = None
    seed: Optional[int] = None
    resolution: Optional[str] = None
    ratio: Optional[str] = None
    duration: Optional[int] = None
    frames: Optional[int] = None
    framespersecond: Optional[int] = None
    generate_audio: Optional[bool] = None
    safety_identifier: Optional[str] = None
    priority: Optional[int] = None
    draft: Optional[bool] = None
    draft_task_id: Optional[str] = None
    service_tier: Optional[str] = None
    execution_expires_after: Optional[int] = None
    usage: Optional[VideoTaskUsage] = None
    #: API version 2026-09 and later: the request id of the call that created the task (a 2026-08 body has none)
    request_id: Optional[str] = None

    @property
    def done(self) -> bool:
        """``True`` once the task reached a terminal status (it will not change any more)."""
        return self.status in TERMINAL_VIDEO_STATUSES


class ListVideoGenerationsParams(RequestModel):
    """Query of ``GET /v1/video/generations``; ``status`` and ``model`` may be lists (repeated)."""

    status: Optional[Union[str, List[str]]] = None
    model: Optional[Union[str, List[str]]] = None
    created_after: Optional[str] = None
    created_before: Optional[str] = None
    limit: Optional[int] = Field(default=None, ge=1)
    offset: Optional[int] = Field(default=None, ge=0)


class VideoTaskListResponse(MeshResult):
    model_config = ConfigDict(extra="allow")

    object: Optional[str] = None
    data: List[VideoTaskResponse]
    has_more: bool
    total: int
    limit: int
    offset: int


class VideoGenerationFields(TypedDict, total=False):
    """``VideoGenerationParams``'s fields as keyword arguments, typed (a test keeps both in step)."""

    model: str
    content: Sequence[Union[VideoContentItem, Mapping[str, Any]]]
    callback_url: Optional[str]
    return_last_frame: Optional[bool]
    service_tier: Optional[str]
    execution_expires_after: Optional[int]
    generate_audio: Optional[bool]
    draft: Optional[bool]
    resolution: Optional[str]
    ratio: Optional[str]
    duration: Optional[int]
    frames: Optional[int]
    seed: Optional[int]
    camera_fixed: Optional[bool]
    watermark: Optional[bool]
    safety_identifier: Optional[str]
    priority: Optional[int]


class ListVideoGenerationsFields(TypedDict, total=False):
    """``ListVideoGenerationsParams``'s fields as keyword arguments, typed (a test keeps both in step)."""

    status: Union[str, Sequence[str], None]
    model: Union[str, Sequence[str], None]
    created_after: Optional[str]
    created_before: Optional[str]
    limit: Optional[int]
    offset: Optional[int]
