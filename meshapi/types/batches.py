"""Batches (``/v1/batches``): inline request items, the batch object and its inline results.

``BatchRequestItem`` always sends ``method`` and ``url`` (defaults ``"POST"`` and
``"/v1/chat/completions"``), as 0.1.4 did. ``BatchObject`` and ``BatchListResponse`` keep every key
the server sends (``extra="allow"``). The later typed parts (``request_counts``, ``results``, ...)
are tolerant and all-optional: a batch whose results look different from the documented shape still
parses.

0.1.12 delivered ``results`` and ``request_counts`` as plain dicts, so code written for it indexes them
(``batch.results[0]["response"]["body"]``, ``batch.request_counts["total"]``). The typed parts here are
``DictLikeModel``s: attribute access and that indexing both work, and they compare equal to the dict
0.1.12 would have held.
"""

from typing import Any, Dict, List, Mapping, Optional, Sequence, TypedDict, Union

from pydantic import ConfigDict

from ._base import DictLikeModel, MeshResult, RequestModel

__all__ = [
    "BatchListResponse",
    "BatchObject",
    "BatchRequestCounts",
    "BatchRequestItem",
    "BatchResult",
    "BatchResultError",
    "BatchResultResponse",
    "CreateBatchParams",
    "DictLikeModel",
]


class BatchRequestItem(RequestModel):
    custom_id: str
    method: str = "POST"
    url: str = "/v1/chat/completions"
    body: Dict[str, Any]


class CreateBatchParams(RequestModel):
    requests: List[BatchRequestItem]
    completion_window: Optional[str] = None
    metadata: Optional[Dict[str, Any]] = None


class BatchRequestCounts(DictLikeModel):
    total: Optional[int] = None
    completed: Optional[int] = None
    failed: Optional[int] = None


class BatchResultResponse(DictLikeModel):
    status_code: Optional[int] = None
    body: Optional[Dict[str, Any]] = None  # a chat completion


class BatchResultError(DictLikeModel):
    code: Optional[str] = None
    message: Optional[str] = None


class BatchResult(DictLikeModel):
    custom_id: Optional[str] = None
    response: Optional[BatchResultResponse] = None
    error: Optional[BatchResultError] = None


class BatchObject(MeshResult):
    model_config = ConfigDict(extra="allow")

    id: str
    object: Optional[str] = None
    endpoint: Optional[str] = None
    input_file_id: Optional[str] = None
    output_file_id: Optional[str] = None
    status: Optional[str] = None
    model: Optional[str] = None
    provider: Optional[str] = None
    created_at: Optional[int] = None
    completed_at: Optional[int] = None
    usage_synced: Optional[bool] = None
    # Later additions (0.1.4 delivered them as untyped extra attributes).
    error_file_id: Optional[str] = None
    expires_at: Optional[int] = None
    completion_window: Optional[str] = None
    request_counts: Optional[BatchRequestCounts] = None
    metadata: Optional[Dict[str, Any]] = None
    results: Optional[List[BatchResult]] = None
    errors_detail: Optional[List[Any]] = None


class BatchListResponse(MeshResult):
    model_config = ConfigDict(extra="allow")

    object: str
    data: List[BatchObject]
    has_more: bool
    first_id: Optional[str] = None
    last_id: Optional[str] = None


class CreateBatchFields(TypedDict, total=False):
    """``CreateBatchParams``'s fields as keyword arguments, typed (a test keeps both in step)."""

    requests: Sequence[Union[BatchRequestItem, Mapping[str, Any]]]
    completion_window: Optional[str]
    metadata: Optional[Mapping[str, Any]]
