"""Router select (``POST /v1/router/select``): which model the auto router would pick, and why.

No inference runs. ``candidate_models`` (restrict the choice) is in the newer docs, not in 0.1.12.
"""

from typing import Any, List, Literal, Mapping, Optional, Sequence, TypedDict, Union

from pydantic import ConfigDict, Field

from ._base import MeshModel, MeshResult, RequestModel
from .chat import ChatMessage

__all__ = ["AutoRouterMeta", "RouterSelectParams", "RouterSelectResponse"]


class RouterSelectParams(RequestModel):
    messages: List[ChatMessage] = Field(min_length=1)
    api_type: Literal["completions", "responses", "embeddings"] = "completions"
    exclude_models: Optional[List[str]] = None
    candidate_models: Optional[List[str]] = None


class AutoRouterMeta(MeshModel):
    model_config = ConfigDict(extra="allow")

    fallback_used: bool = False
    fallback_reason: Optional[str] = None


class RouterSelectResponse(MeshResult):
    model_config = ConfigDict(extra="allow")

    model: str
    auto_router: AutoRouterMeta
    reasoning_effort: Optional[str] = None


class RouterSelectFields(TypedDict, total=False):
    """``RouterSelectParams``'s fields as keyword arguments, typed (a test keeps both in step)."""

    messages: Sequence[Union[ChatMessage, Mapping[str, Any]]]
    api_type: Literal["completions", "responses", "embeddings"]
    exclude_models: Optional[Sequence[str]]
    candidate_models: Optional[Sequence[str]]
