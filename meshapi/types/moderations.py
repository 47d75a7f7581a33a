"""Moderation (``POST /v1/moderations``): flags and per-category scores, one result per input.

Results keep every key the server sends (``extra="allow"``), as 0.1.12's do.
"""

from typing import Any, Dict, List, Literal, Mapping, Optional, Sequence, TypedDict, Union

from pydantic import ConfigDict, Field

from ._base import MeshModel, MeshResult, RequestModel

__all__ = [
    "ModerationImageUrl",
    "ModerationInputItem",
    "ModerationParams",
    "ModerationResponse",
    "ModerationResult",
]


class ModerationImageUrl(RequestModel):
    url: str


class ModerationInputItem(RequestModel):
    type: Literal["text", "image_url"]
    text: Optional[str] = None
    image_url: Optional[ModerationImageUrl] = None


class ModerationParams(RequestModel):
    input: Union[str, List[str], List[ModerationInputItem]]
    model: str = "omni-moderation-latest"


class ModerationResult(MeshModel):
    model_config = ConfigDict(extra="allow")

    flagged: bool
    categories: Dict[str, bool] = Field(default_factory=dict)
    category_scores: Dict[str, float] = Field(default_factory=dict)

    @property
    def flagged_categories(self) -> List[str]:
        """The names of the categories that were flagged, in the server's order."""
        return [name for name, hit in self.categories.items() if hit]


class ModerationResponse(MeshResult):
    model_config = ConfigDict(extra="allow")

    id: Optional[str] = None
    model: Optional[str] = None
    results: List[ModerationResult] = Field(default_factory=list)

    @property
    def flagged(self) -> bool:
        """``True`` when any input was flagged."""
        return any(result.flagged for result in self.results)


class ModerationFields(TypedDict, total=False):
    """``ModerationParams``'s fields as keyword arguments, typed (a test keeps both in step)."""

    input: Union[str, Sequence[str], Sequence[Union[ModerationInputItem, Mapping[str, Any]]]]
    model: str
