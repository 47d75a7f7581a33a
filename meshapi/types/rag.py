"""Files / RAG (``/v1/files``): upload registration, file status, bulk embedding and search.

Requests derive from ``RequestModel`` (unknown keys raise); responses ignore unknown keys.
"""

from typing import Any, Dict, List, Mapping, Optional, Sequence, TypedDict

from pydantic import Field

from ._base import MeshModel, MeshResult, RequestModel

__all__ = [
    "BulkEmbedRequest",
    "BulkEmbedResponse",
    "BulkEmbedResult",
    "InitUploadRequest",
    "InitUploadResponse",
    "RagFileListResponse",
    "RagFileStatus",
    "SearchRequest",
    "SearchResponse",
    "SearchResult",
]


class InitUploadRequest(RequestModel):
    file_name: str
    mime_type: str
    embed: Optional[bool] = None
    metadata: Optional[Dict[str, Any]] = None


class InitUploadResponse(MeshResult):
    file_id: str
    signed_url: str
    expires_at: str


class RagFileStatus(MeshResult):
    file_id: str
    upload_status: str
    file_name: str
    file_type: str
    mime_type: str
    size_bytes: Optional[int] = None
    asset_url: Optional[str] = None
    signed_url: Optional[str] = None
    signed_url_expires_at: Optional[str] = None
    embedding_status: str
    created_at: str
    updated_at: str
    total_tokens: Optional[int] = None
    total_cost_usd: Optional[float] = None
    last_error_code: Optional[str] = None


class RagFileListResponse(MeshResult):
    files: List[RagFileStatus]
    total: int
    limit: int
    offset: int


class BulkEmbedRequest(RequestModel):
    file_ids: List[str] = Field(min_length=1, max_length=100)
    wait: Optional[bool] = None
    metadata: Optional[Dict[str, Any]] = None


class BulkEmbedResult(MeshModel):
    file_id: str
    embedding_status: str
    chunk_count: Optional[int] = None
    error: Optional[str] = None


class BulkEmbedResponse(MeshResult):
    results: List[BulkEmbedResult]


class SearchRequest(RequestModel):
    query: str
    top_k: Optional[int] = None
    file_ids: Optional[List[str]] = None
    filter: Optional[Dict[str, Any]] = None
    date_from: Optional[int] = None
    date_to: Optional[int] = None


class SearchResult(MeshModel):
    score: float
    text: str
    parent_text: str
    file_id: Optional[str] = None
    file_name: Optional[str] = None
    file_type: Optional[str] = None
    mime_type: Optional[str] = None
    chunk_index: Optional[int] = None
    created_at: Optional[int] = None
    metadata: Dict[str, Any] = Field(default_factory=dict)


class SearchResponse(MeshResult):
    results: List[SearchResult]


class InitUploadFields(TypedDict, total=False):
    """``InitUploadRequest``'s fields as keyword arguments, typed (a test keeps both in step)."""

    file_name: str
    mime_type: str
    embed: Optional[bool]
    metadata: Optional[Mapping[str, Any]]


class BulkEmbedFields(TypedDict, total=False):
    """``BulkEmbedRequest``'s fields as keyword arguments, typed (a test keeps both in step)."""

    file_ids: Sequence[str]
    wait: Optional[bool]
    metadata: Optional[Mapping[str, Any]]


class SearchFields(TypedDict, total=False):
    """``SearchRequest``'s fields as keyword arguments, typed (a test keeps both in step)."""

    query: str
    top_k: Optional[int]
    file_ids: Optional[Sequence[str]]
    filter: Optional[Mapping[str, Any]]
    date_from: Optional[int]
    date_to: Optional[int]
