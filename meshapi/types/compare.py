"""Compare (``/v1/chat/compare``): params, the per-model results and stream events.

``CompareParams`` / ``ModelOverride`` derive from ``RequestModel`` (unknown keys raise); the body
always carries ``"stream"`` and ``"skip_comparison"`` (both default ``False``), as 0.1.4 sent them.
``CompareStreamEvent`` keeps every key (``extra="allow"``): the ``model_done`` event's ``results``
list, for instance, is only an extra attribute. A result a compare stream built carries the failed
model's typed error as ``failure``.
"""

from typing import Any, Dict, List, Mapping, Optional, Sequence, TypedDict, Union

from pydantic import ConfigDict, Field, PrivateAttr

from .._errors import StreamEventError
from ._base import MeshModel, MeshResult, RequestModel
from .chat import ChatMessage

__all__ = [
    "CompareParams",
    "CompareResponse",
    "CompareStreamEvent",
    "ModelCompareResult",
    "ModelOverride",
    "TokenUsage",
]


class ModelOverride(RequestModel):
    model: str
    temperature: Optional[float] = Field(default=None, ge=0.0, le=2.0)
    max_tokens: Optional[int] = Field(default=None, ge=1)
    system_prompt: Optional[str] = None


class CompareParams(RequestModel):
    models: List[str]
    messages: List[ChatMessage]
    model_overrides: Optional[List[ModelOverride]] = None
    comparison_model: Optional[str] = None
    comparison_instructions: Optional[str] = None
    temperature: Optional[float] = Field(default=None, ge=0.0, le=2.0)
    max_tokens: Optional[int] = Field(default=None, ge=1)
    stream: bool = False
    template: Optional[str] = None
    variables: Optional[Dict[str, str]] = None
    skip_comparison: bool = False
    # Later addition.
    cache: Optional[bool] = None


class TokenUsage(MeshModel):
    prompt_tokens: Optional[int] = None
    completion_tokens: Optional[int] = None
    total_tokens: Optional[int] = None


class ModelCompareResult(MeshModel):
    model: str
    response_body: Optional[Dict[str, Any]] = None
    content: Optional[str] = None
    latency_ms: int
    error: Optional[str] = None
    error_code: Optional[str] = None
    usage: Optional[TokenUsage] = None
    request_id: str
    # set by a compare stream's accumulator for a failed model (never dumped)
    _failure: Optional[StreamEventError] = PrivateAttr(default=None)

    @property
    def failure(self) -> Optional[StreamEventError]:
        """This model's failure as a typed error, on results built from a stream (``to_response()``)."""
        return self._failure


class CompareResponse(MeshResult):
    comparison_id: str
    object: str
    created: int
    models: List[str]
    results: List[ModelCompareResult]
    comparison: Optional[str] = None
    comparison_model: Optional[str] = None
    comparison_usage: Optional[TokenUsage] = None
    comparison_fallback_used: bool = False
    total_latency_ms: int
    partial: bool = False
    skip_comparison: bool = False


class CompareStreamEvent(MeshModel):
    model_config = ConfigDict(extra="allow")

    event: Optional[str] = None
    data: Optional[Dict[str, Any]] = None
    delta: Optional[str] = None
    model: Optional[str] = None
    comparison_id: Optional[str] = None
    comparison_model: Optional[str] = None
    models: Optional[List[str]] = None
    latency_ms: Optional[int] = None
    total_latency_ms: Optional[int] = None
    finish_reason: Optional[str] = None
    error: Optional[Any] = None
    error_code: Optional[str] = None
    usage: Optional[Dict[str, Any]] = None
    skip_comparison: Optional[bool] = None
    partial: Optional[bool] = None
    comparison_fallback_used: Optional[bool] = None


class CompareFields(TypedDict, total=False):
    """``CompareParams``'s fields as keyword arguments but ``stream``, typed (``create`` takes ``stream``
    as a parameter of its own; a test keeps these and the model in step)."""

    models: Sequence[str]
    messages: Sequence[Union[ChatMessage, Mapping[str, Any]]]
    model_overrides: Optional[Sequence[Union[ModelOverride, Mapping[str, Any]]]]
    comparison_model: Optional[str]
    comparison_instructions: Optional[str]
    temperature: Optional[float]
    max_tokens: Optional[int]
    template: Optional[str]
    variables: Optional[Mapping[str, str]]
    skip_comparison: bool
    cache: Optional[bool]


class CompareStreamFields(CompareFields, total=False):
    """``CompareFields`` and ``stream``: the keywords of ``stream()`` (its body always streams)."""

    stream: bool
