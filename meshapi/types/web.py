"""Web search (``POST /v1/web/search``): ranked results and an optional short answer.

``include_page_content`` (API 2026-08) is sent only when set; only the ``tinyfish`` engine returns page
text (``page_content``, ``page_content_truncated``), so pin ``provider="tinyfish"`` for it
(docs/protocol.md §V5). ``content`` stays the snippet.
"""

from typing import List, Literal, Optional, Sequence, TypedDict

from pydantic import ConfigDict, Field

from ._base import MeshModel, MeshResult, RequestModel

__all__ = ["WebSearchParams", "WebSearchResponse", "WebSearchResultItem"]


class WebSearchParams(RequestModel):
    query: str = Field(min_length=1, max_length=2000)
    model: Optional[str] = None
    provider: Optional[Literal["native", "tavily", "tinyfish"]] = None
    max_results: int = Field(default=5, ge=1, le=20)
    search_depth: Literal["basic", "advanced"] = "basic"
    include_domains: Optional[List[str]] = None
    exclude_domains: Optional[List[str]] = None
    include_answer: bool = False
    include_page_content: Optional[bool] = None


class WebSearchResultItem(MeshModel):
    model_config = ConfigDict(extra="allow")

    title: str
    url: str
    content: str = ""
    score: Optional[float] = None
    published_date: Optional[str] = None
    page_content: Optional[str] = None
    page_content_truncated: bool = False


class WebSearchResponse(MeshResult):
    model_config = ConfigDict(extra="allow")

    query: str
    answer: Optional[str] = None
    results: List[WebSearchResultItem] = Field(default_factory=list)
    provider: str
    request_id: str = ""


class WebSearchFields(TypedDict, total=False):
    """``WebSearchParams``'s fields as keyword arguments, typed (a test keeps both in step)."""

    query: str
    model: Optional[str]
    provider: Optional[Literal["native", "tavily", "tinyfish"]]
    max_results: int
    search_depth: Literal["basic", "advanced"]
    include_domains: Optional[Sequence[str]]
    exclude_domains: Optional[Sequence[str]]
    include_answer: bool
    include_page_content: Optional[bool]
