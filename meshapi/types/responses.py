"""Responses API (``/v1/responses``): params, tools, the response object and stream events.

``ResponsesParams``, ``ResponsesFunctionTool`` derive from ``RequestModel`` (unknown keys raise).
``ResponsesResponse.output`` holds typed items (``types/response_items.py``). ``BuiltinTool`` keeps ``extra="allow"``: a built-in tool's own options (``search_context_size``,
``vector_store_ids``, ...) are kept and sent as given. ``ResponsesResponse``,
``ResponsesStreamEvent`` and the list models keep every key the server sends (``extra="allow"``),
as 0.1.4 did; ``ResponsesUsage`` ignores unknown keys.
"""

from typing import Any, Dict, Generic, List, Literal, Mapping, Optional, Sequence, TypedDict, TypeVar, Union

from pydantic import ConfigDict, Field, SerializerFunctionWrapHandler, field_validator, model_serializer

from ._base import MeshModel, MeshResult, RequestModel
from .caching import PromptTokensDetails
from .response_items import ResponseOutputItem, output_text_of

__all__ = [
    "BuiltinTool",
    "ParsedResponse",
    "ResponsesFunctionTool",
    "ResponsesListItem",
    "ResponsesListResponse",
    "ResponsesParams",
    "ResponsesResponse",
    "ResponsesStreamEvent",
    "ResponsesUsage",
]


class BuiltinTool(RequestModel):
    """A hosted tool the provider runs (``web_search``, ``file_search``, ``mcp``, ``code_interpreter``, ...).

    Any ``type`` but ``"function"`` (that is ``ResponsesFunctionTool``): new hosted tool types appear faster
    than SDK releases, and the gateway or provider is the one to judge them. Every option is sent exactly
    as given, ``None`` values included.
    """

    model_config = ConfigDict(extra="allow")

    type: str

    @field_validator("type")
    @classmethod
    def _not_function(cls, value: str) -> str:
        if value == "function":
            raise ValueError(
                "a function tool is a ResponsesFunctionTool (name, parameters), not a BuiltinTool"
            )
        return value

    @model_serializer(mode="wrap")
    def _as_given(self, handler: SerializerFunctionWrapHandler) -> Dict[str, Any]:
        dumped: Dict[str, Any] = handler(self)
        for key, value in (self.model_extra or {}).items():
            if value is None:
                dumped.setdefault(key, None)  # exclude_none drops it; a hosted tool's options go untouched
        return dumped


class ResponsesFunctionTool(RequestModel):
    type: Literal["function"] = "function"
    name: str
    description: Optional[str] = None
    parameters: Optional[Dict[str, Any]] = None
    strict: Optional[bool] = None


class ResponsesParams(RequestModel):
    model: Optional[str] = None
    input: Union[str, List[Any]]
    template: Optional[str] = None
    variables: Optional[Dict[str, str]] = None
    session_id: Optional[str] = None
    stream: bool = False
    max_output_tokens: Optional[int] = Field(default=None, ge=1)
    temperature: Optional[float] = Field(default=None, ge=0.0, le=2.0)
    top_p: Optional[float] = Field(default=None, ge=0.0, le=1.0)
    seed: Optional[int] = None
    reasoning: Optional[Dict[str, Any]] = None
    tools: Optional[List[Union[ResponsesFunctionTool, BuiltinTool]]] = None
    tool_choice: Optional[Union[str, Dict[str, Any]]] = None
    response_format: Optional[Dict[str, Any]] = None
    user: Optional[str] = Field(default=None, max_length=256)
    # Later additions: all optional, absent from the body unless set.
    timeout: Optional[float] = Field(default=None, gt=0)  # upstream timeout in seconds, sent in the body
    previous_response_id: Optional[str] = None
    instructions: Optional[str] = None
    store: Optional[bool] = None
    include: Optional[List[str]] = None
    background: Optional[bool] = None
    text: Optional[Dict[str, Any]] = None
    max_tool_calls: Optional[int] = Field(default=None, ge=1, le=10)
    thinking: Optional[Dict[str, Any]] = None
    caching: Optional[Dict[str, Any]] = None
    expire_at: Optional[int] = None
    context_management: Optional[Dict[str, Any]] = None
    plugins: Optional[List[Dict[str, Any]]] = None
    # API 2026-08: "default", "flex" or "auto" (docs/protocol.md §V4); absent means "default".
    service_tier: Optional[str] = None


class ResponsesUsage(MeshModel):
    input_tokens: Optional[int] = None
    output_tokens: Optional[int] = None
    total_tokens: Optional[int] = None
    prompt_tokens: Optional[int] = None
    completion_tokens: Optional[int] = None
    prompt_tokens_details: Optional[PromptTokensDetails] = None
    completion_tokens_details: Optional[Dict[str, Any]] = None
    classifier_tokens: Optional[int] = None
    input_tokens_details: Optional[PromptTokensDetails] = None  # cached input tokens


class ResponsesResponse(MeshResult):
    model_config = ConfigDict(extra="allow")

    id: Optional[str] = None
    object: Optional[str] = None
    model: Optional[str] = None
    status: Optional[str] = None
    # Always a list (``reply.output[-1]`` needs no None check): absent or null (a queued background
    # response) is an empty one. Typed items (``types/response_items.py``) that still index like dicts.
    output: List[ResponseOutputItem] = Field(default_factory=list)
    usage: Optional[ResponsesUsage] = None
    service_tier: Optional[str] = None  # the tier that served the call

    @field_validator("output", mode="before")
    @classmethod
    def _null_output(cls, value: Any) -> Any:
        return [] if value is None else value

    @property
    def output_text(self) -> str:
        """The text of the ``message`` items (their ``output_text`` parts), joined; ``""`` when none."""
        return output_text_of(self.output)


T = TypeVar("T")


class ParsedResponse(ResponsesResponse, Generic[T]):
    """What ``responses.parse(text_format=...)`` returns: the response and ``output_parsed``, its text
    validated into the requested type (``None`` only for a response with no text)."""

    output_parsed: Optional[T] = None


class ResponsesStreamEvent(MeshModel):
    model_config = ConfigDict(extra="allow")

    type: Optional[str] = None
    response: Optional[Dict[str, Any]] = None
    usage: Optional[ResponsesUsage] = None
    # the SSE ``event:`` name, copied in by the stream (0.1.4 kept it as an extra key)
    event: Optional[str] = None


class ResponsesListItem(MeshModel):
    model_config = ConfigDict(extra="allow")

    id: str
    object: Optional[str] = None
    model: Optional[str] = None
    provider: Optional[str] = None
    status: Optional[str] = None
    created_at: Optional[int] = None
    completed_at: Optional[int] = None
    usage_synced: Optional[bool] = None


class ResponsesListResponse(MeshResult):
    model_config = ConfigDict(extra="allow")

    object: Optional[str] = None
    data: List[ResponsesListItem] = Field(default_factory=list)
    has_more: bool = False
    first_id: Optional[str] = None
    last_id: Optional[str] = None


class ResponsesFields(TypedDict, total=False):
    """``ResponsesParams``'s fields as keyword arguments but ``stream``, typed (``create`` takes ``stream``
    as a parameter of its own; a test keeps these and the model in step)."""

    model: Optional[str]
    input: Union[str, Sequence[Any]]
    template: Optional[str]
    variables: Optional[Mapping[str, str]]
    session_id: Optional[str]
    max_output_tokens: Optional[int]
    temperature: Optional[float]
    top_p: Optional[float]
    seed: Optional[int]
    reasoning: Optional[Mapping[str, Any]]
    tools: Optional[Sequence[Union[ResponsesFunctionTool, BuiltinTool, Mapping[str, Any]]]]
    tool_choice: Union[str, Mapping[str, Any], None]
    response_format: Optional[Mapping[str, Any]]
    user: Optional[str]
    previous_response_id: Optional[str]
    instructions: Optional[str]
    store: Optional[bool]
    include: Optional[Sequence[str]]
    background: Optional[bool]
    text: Optional[Mapping[str, Any]]
    max_tool_calls: Optional[int]
    thinking: Optional[Mapping[str, Any]]
    caching: Optional[Mapping[str, Any]]
    expire_at: Optional[int]
    context_management: Optional[Mapping[str, Any]]
    plugins: Optional[Sequence[Mapping[str, Any]]]
    service_tier: Optional[str]


class ResponsesStreamFields(ResponsesFields, total=False):
    """``ResponsesFields`` and ``stream``: the keywords of ``stream()`` (its body always streams)."""

    stream: bool
