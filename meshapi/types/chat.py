"""Chat completion models: messages, content parts, tools, params, responses and stream chunks.

Which base each model uses:

* Params the user builds and that never come back from the server derive from ``RequestModel``
  (unknown keys raise): ``ChatCompletionParams``, ``ChatMessage``, ``Tool``, ``ToolFunction``,
  ``ToolChoiceObject``, ``ToolChoiceFunction``, ``ImageOptions``, ``AudioOutputOptions``.
* Models that travel both ways derive from ``SharedModel``: the content parts (``ContentPartText``,
  ``ContentPartImage``, ``ContentPartAudio``, ``ContentPartVideo`` and their ``ImageDetail``,
  ``InputAudio``, ``VideoUrl``) and ``ToolCall`` / ``ToolCallFunction``, which are sent inside
  ``ChatMessage`` and parsed back inside ``ChatCompletionMessage`` (``cache_control``: ``caching.py``). Parsing a response ignores keys
  the server adds, so a richer response never fails; constructing one of them directly with an
  unknown keyword raises. A dict handed to ``ChatMessage`` (``content=[{"type": "text", ...}]``,
  ``tool_calls=[{...}]``) is checked key by key by ``ChatMessage`` itself, so a typo inside a
  message part raises too.
* Pure response models derive from ``MeshModel``. The chat ones keep keys they do not know
  (``extra="allow"``: read them from ``model_extra``), and string enums coming back (``finish_reason``,
  a tool call's ``type``) are plain strings, so a new value from the server is never an error.
  They are typed as openai-python's, so typed code reads them without ``None`` checks that never fire:
  a choice's ``message`` and a chunk choice's ``delta`` are never ``None`` (absent or null on the wire
  gives an empty one), and a reply's ``content`` is ``Optional[str]`` for type checkers.

Structured outputs add two attributes that are never sent nor dumped: ``ChatCompletionMessage.parsed``
(the reply validated as the ``response_format`` type) and ``ToolCallFunction.parsed_arguments`` (the
arguments validated as the model of a ``pydantic_function_tool``).

``ChatCompletionFields`` lists every keyword the chat methods accept, with its type, so that
``mypy --strict`` rejects a misspelled or wrongly typed keyword (the methods take ``**fields`` typed with
it); at runtime ``ChatCompletionParams`` checks the same names.

``ChatMessage`` also accepts ``audio`` (the assistant audio reference), so an assistant reply can be
appended to the history with ``ChatMessage(**reply.model_dump())``, or as it is: a
``ChatCompletionMessage`` in ``messages=`` becomes a ``ChatMessage`` of the fields a request carries.
"""

from typing import (
    TYPE_CHECKING,
    Any,
    Dict,
    Iterable,
    List,
    Literal,
    Mapping,
    Optional,
    Sequence,
    Type,
    TypedDict,
    Union,
)

from pydantic import ConfigDict, Field, PrivateAttr, field_validator, model_validator

from ._base import MeshModel, MeshResult, RequestModel, SharedModel, reject_unknown_keys
from ._chat_parts import (
    ContentPart,
    ContentPartAudio,
    ContentPartImage,
    ContentPartText,
    ContentPartVideo,
    ImageDetail,
    InputAudio,
    VideoUrl,
)
from .caching import CacheControlledRequest, PromptTokensDetails

__all__ = [
    "AudioOutputOptions",
    "ChatCompletionChoice",
    "ChatCompletionChunk",
    "ChatCompletionChunkChoice",
    "ChatCompletionChunkDelta",
    "ChatCompletionFields",
    "ChatCompletionMessage",
    "ChatCompletionParams",
    "ChatCompletionResponse",
    "ChatMessage",
    "ChatRole",
    "ContentPart",
    "ContentPartAudio",
    "ContentPartImage",
    "ContentPartText",
    "ContentPartVideo",
    "ImageDetail",
    "ImageOptions",
    "InputAudio",
    "Tool",
    "ToolCall",
    "ToolCallChunk",
    "ToolCallFunction",
    "ToolCallFunctionChunk",
    "ToolChoice",
    "ToolChoiceFunction",
    "ToolChoiceObject",
    "ToolFunction",
    "UsageInfo",
    "VideoUrl",
]

ChatRole = Literal["system", "developer", "user", "assistant", "tool"]

# Response models of this family keep what they do not know (see the module docstring).
_KEEP_EXTRA = ConfigDict(extra="allow", protected_namespaces=())


# --- tool calls (shared) and their stream fragments ----------------------------------------------


class ToolCallFunction(SharedModel):
    model_config = _KEEP_EXTRA

    name: str
    arguments: str  # JSON text
    # The arguments validated as the tool's model (``pydantic_function_tool``); never sent or dumped.
    parsed_arguments: Optional[Any] = Field(default=None, exclude=True)


class ToolCall(SharedModel):
    model_config = _KEEP_EXTRA

    id: str
    type: str  # "function" today; another value from a newer server is kept, not an error
    function: ToolCallFunction
    thought_signature: Optional[str] = None


class ToolCallFunctionChunk(MeshModel):
    model_config = _KEEP_EXTRA

    name: Optional[str] = None
    arguments: Optional[str] = None


class ToolCallChunk(MeshModel):
    model_config = _KEEP_EXTRA

    # Some providers behind a gateway send no ``index``: the chat accumulator sets the one it resolved
    # (``None`` stays only on a fragment it dropped). Another ``type`` and its payload are kept as extras.
    index: Optional[int] = None
    id: Optional[str] = None
    type: Optional[str] = None
    function: Optional[ToolCallFunctionChunk] = None


# --- request side ---------------------------------------------------------------------------------

_PART_MODELS: Dict[str, Type[SharedModel]] = {
    "text": ContentPartText,
    "image_url": ContentPartImage,
    "input_audio": ContentPartAudio,
    "video_url": ContentPartVideo,
}


class ChatMessage(CacheControlledRequest):
    role: ChatRole
    content: Optional[Union[str, List[ContentPart]]] = None
    name: Optional[str] = None
    tool_call_id: Optional[str] = None
    tool_calls: Optional[List[ToolCall]] = None
    reasoning_details: Optional[List[Dict[str, Any]]] = None
    audio: Optional[Dict[str, Any]] = None
    refusal: Optional[str] = None

    @model_validator(mode="before")
    @classmethod
    def _strict_nested_dicts(cls, data: Any) -> Any:
        if isinstance(data, ChatCompletionMessage):  # a reply appended as it is to the history
            return data._request_fields()
        if isinstance(data, dict):
            content = data.get("content")
            if isinstance(content, list):
                for i, part in enumerate(content):
                    if isinstance(part, dict):
                        model = _PART_MODELS.get(part.get("type"))  # type: ignore[arg-type]
                        if model is not None:
                            reject_unknown_keys(model, part, f"content[{i}]")
            tool_calls = data.get("tool_calls")
            if isinstance(tool_calls, list):
                for i, call in enumerate(tool_calls):
                    reject_unknown_keys(ToolCall, call, f"tool_calls[{i}]")
        return data


class ToolFunction(RequestModel):
    name: str
    description: Optional[str] = None
    parameters: Optional[Dict[str, Any]] = None
    strict: Optional[bool] = None


class Tool(CacheControlledRequest):
    type: Literal["function"]
    function: ToolFunction
    # The model a ``pydantic_function_tool`` validates this tool's call arguments into (never sent).
    _parse_as: Any = PrivateAttr(default=None)


class ToolChoiceFunction(RequestModel):
    name: str


class ToolChoiceObject(RequestModel):
    type: Literal["function"]
    function: ToolChoiceFunction


ToolChoice = Union[Literal["auto", "none", "required"], ToolChoiceObject]


class AudioOutputOptions(RequestModel):
    voice: str = "alloy"
    format: Literal["wav", "mp3", "flac", "opus", "pcm16"] = "wav"


class ImageOptions(RequestModel):
    n: int = Field(default=1, ge=1, le=10)
    size: str = "1024x1024"
    quality: str = "high"
    response_format: Literal["url", "b64_json"] = "url"


class ChatCompletionParams(RequestModel):
    messages: List[ChatMessage]
    model: Optional[str] = None
    stream: Optional[bool] = None
    template: Optional[str] = None
    variables: Optional[Dict[str, str]] = None
    session_id: Optional[str] = None
    temperature: Optional[float] = None
    max_tokens: Optional[int] = None
    top_p: Optional[float] = None
    frequency_penalty: Optional[float] = None
    presence_penalty: Optional[float] = None
    stop: Optional[Union[str, List[str]]] = None
    seed: Optional[int] = None
    tools: Optional[List[Tool]] = None
    tool_choice: Optional[ToolChoice] = None
    user: Optional[str] = None
    modality: Optional[Literal["text", "image"]] = None
    image: Optional[ImageOptions] = None
    async_mode: Optional[bool] = None
    modalities: Optional[List[Literal["text", "audio"]]] = None
    audio: Optional[AudioOutputOptions] = None
    # Later additions: all optional, absent from the body unless set.
    response_format: Optional[Dict[str, Any]] = None
    timeout: Optional[float] = Field(default=None, gt=0)  # upstream timeout in seconds, sent in the body
    models: Optional[List[str]] = None
    cache: Optional[bool] = None
    transforms: Optional[List[str]] = None
    reasoning_effort: Optional[Literal["high", "medium", "low", "none"]] = None
    n: Optional[int] = Field(default=None, ge=1)
    logprobs: Optional[bool] = None
    top_logprobs: Optional[int] = Field(default=None, ge=0)
    parallel_tool_calls: Optional[bool] = None
    stream_options: Optional[Dict[str, Any]] = None
    # OpenAI chat fields the gateway forwards as they are.
    max_completion_tokens: Optional[int] = Field(default=None, ge=1)
    store: Optional[bool] = None
    metadata: Optional[Dict[str, str]] = None
    prediction: Optional[Dict[str, Any]] = None
    service_tier: Optional[str] = None
    logit_bias: Optional[Dict[str, int]] = None
    weight_profile: Optional[str] = None


# --- responses ------------------------------------------------------------------------------------


class UsageInfo(MeshModel):
    model_config = _KEEP_EXTRA

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    prompt_tokens_details: Optional[PromptTokensDetails] = None  # reads like the 0.1.12 dict too
    completion_tokens_details: Optional[Dict[str, Any]] = None
    classifier_prompt_tokens: Optional[int] = None
    classifier_completion_tokens: Optional[int] = None
    classifier_tokens: Optional[int] = None


class ChatCompletionMessage(MeshModel):
    model_config = _KEEP_EXTRA

    role: str
    if TYPE_CHECKING:
        # What chat models answer: text or nothing. A server reply with content parts (docs/protocol.md
        # §4.1 allows them) still validates and keeps its list, as in 0.1.12.
        content: Optional[str] = None
    else:
        content: Optional[Union[str, List[ContentPart]]] = None
    tool_calls: Optional[List[ToolCall]] = None
    audio: Optional[Dict[str, Any]] = None
    refusal: Optional[str] = None
    # The content validated as the requested ``response_format`` type; never sent or dumped.
    parsed: Optional[Any] = Field(default=None, exclude=True)

    def to_message(self) -> ChatMessage:
        """This reply as a ``ChatMessage`` for the next turn's history (fields it does not know dropped)."""
        return ChatMessage.model_validate(self._request_fields())

    def _request_fields(self) -> Dict[str, Any]:
        """What of this reply a request's message carries (role, content, tool calls, ...), as a dict.

        Appending the reply itself to ``messages=`` sends exactly this (openai-python's tool-loop habit).
        """
        data = self.model_dump(exclude_none=True, include=set(ChatMessage.model_fields))
        if "tool_calls" in data:
            data["tool_calls"] = [
                {k: v for k, v in call.items() if k in ToolCall.model_fields} for call in data["tool_calls"]
            ]
            for call in data["tool_calls"]:
                call["function"] = {
                    k: v for k, v in call["function"].items() if k in ToolCallFunction.model_fields
                }
        return data


class ChatCompletionChoice(MeshModel):
    model_config = _KEEP_EXTRA

    index: int
    # Always a message: one the server left out or sent as null is an empty assistant message.
    message: ChatCompletionMessage = Field(default_factory=lambda: ChatCompletionMessage(role="assistant"))
    finish_reason: Optional[str] = None
    logprobs: Optional[Any] = None

    @field_validator("message", mode="before")
    @classmethod
    def _null_message(cls, value: Any) -> Any:
        return {"role": "assistant"} if value is None else value


class ChatCompletionResponse(MeshResult):
    model_config = _KEEP_EXTRA

    id: str
    object: str
    created: int
    model: str
    choices: List[ChatCompletionChoice]
    usage: Optional[UsageInfo] = None
    system_fingerprint: Optional[str] = None
    service_tier: Optional[str] = None


class ChatCompletionChunkDelta(MeshModel):
    model_config = _KEEP_EXTRA

    role: Optional[str] = None
    content: Optional[str] = None
    tool_calls: Optional[List[ToolCallChunk]] = None
    audio: Optional[Dict[str, Any]] = None
    refusal: Optional[str] = None


class ChatCompletionChunkChoice(MeshModel):
    model_config = _KEEP_EXTRA

    index: int
    # Always a delta: one the server left out or sent as null is an empty delta.
    delta: ChatCompletionChunkDelta = Field(default_factory=ChatCompletionChunkDelta)
    finish_reason: Optional[str] = None
    logprobs: Optional[Any] = None

    @field_validator("delta", mode="before")
    @classmethod
    def _null_delta(cls, value: Any) -> Any:
        return {} if value is None else value


class ChatCompletionChunk(MeshModel):
    model_config = _KEEP_EXTRA

    id: str
    object: str
    created: int
    model: str
    choices: List[ChatCompletionChunkChoice]
    usage: Optional[UsageInfo] = None
    cost: Optional[str] = None
    system_fingerprint: Optional[str] = None
    service_tier: Optional[str] = None


# --- the chat methods' keywords (after the reply message, which ``messages=`` also takes) ---------------


class ChatCompletionFields(TypedDict, total=False):
    """The keyword arguments of ``chat.completions.create`` / ``stream`` / ``parse``, typed.

    The same names as ``ChatCompletionParams`` except ``stream`` and ``response_format``, which those
    methods take as explicit parameters, and ``timeout``, which as a keyword is the HTTP timeout (the
    body field is set with ``ChatCompletionParams(timeout=...)``). Typing only: the runtime checks are
    ``ChatCompletionParams``'.
    """

    messages: Iterable[Union[ChatMessage, ChatCompletionMessage, Mapping[str, Any]]]
    model: Optional[str]
    template: Optional[str]
    variables: Optional[Mapping[str, str]]
    session_id: Optional[str]
    temperature: Optional[float]
    max_tokens: Optional[int]
    top_p: Optional[float]
    frequency_penalty: Optional[float]
    presence_penalty: Optional[float]
    stop: Optional[Union[str, Sequence[str]]]
    seed: Optional[int]
    tools: Optional[Iterable[Union[Tool, Mapping[str, Any]]]]
    tool_choice: Optional[Union[Literal["auto", "none", "required"], ToolChoiceObject, Mapping[str, Any]]]
    user: Optional[str]
    modality: Optional[Literal["text", "image"]]
    image: Optional[Union[ImageOptions, Mapping[str, Any]]]
    async_mode: Optional[bool]
    modalities: Optional[Sequence[Literal["text", "audio"]]]
    audio: Optional[Union[AudioOutputOptions, Mapping[str, Any]]]
    models: Optional[Sequence[str]]
    cache: Optional[bool]
    transforms: Optional[Sequence[str]]
    reasoning_effort: Optional[Literal["high", "medium", "low", "none"]]
    n: Optional[int]
    logprobs: Optional[bool]
    top_logprobs: Optional[int]
    parallel_tool_calls: Optional[bool]
    stream_options: Optional[Mapping[str, Any]]
    max_completion_tokens: Optional[int]
    store: Optional[bool]
    metadata: Optional[Mapping[str, str]]
    prediction: Optional[Mapping[str, Any]]
    service_tier: Optional[str]
    logit_bias: Optional[Mapping[str, int]]
    weight_profile: Optional[str]
    #: client-side model-fallback chain of this call (overrides the client's; never sent on the wire)
    fallback_models: Sequence[str]
