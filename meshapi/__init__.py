"""Typed sync + async client for the MeshAPI gateway.

``from meshapi import MeshAPI`` and every name of 0.1.4's ``__all__`` work as before. Names are
resolved on first access (PEP 562), so ``import meshapi`` stays cheap and optional parts (realtime,
the local gateway, the CLI) are only imported when used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Dict, List

from . import _forksafe as _forksafe  # registers the fork hooks (a fork at any moment)
from ._version import __version__ as __version__

_TYPES = [
    "APIVersionInfo",
    "ApiErrorBody",
    "ApiErrorEnvelope",
    "AudioOutputOptions",
    "AudioTranslationsParams",
    "AutoRouterMeta",
    "Balance",
    "BatchListResponse",
    "BatchObject",
    "BatchRequestItem",
    "BuiltinTool",
    "BulkEmbedRequest",
    "BulkEmbedResponse",
    "BulkEmbedResult",
    "CacheControl",
    "ChatCompletionChoice",
    "ChatCompletionChunk",
    "ChatCompletionChunkChoice",
    "ChatCompletionChunkDelta",
    "ChatCompletionMessage",
    "ChatCompletionParams",
    "ChatCompletionResponse",
    "ChatMessage",
    "ChatRole",
    "CompareParams",
    "CompareResponse",
    "CompareStreamEvent",
    "ContentPart",
    "ContentPartAudio",
    "ContentPartImage",
    "ContentPartText",
    "ContentPartVideo",
    "CostHint",
    "CostLookup",
    "CreateBatchParams",
    "CreateMemoryItemParams",
    "CreateMemoryParams",
    "CreateTemplateParams",
    "CreateVideoGenerationResponse",
    "EmbeddingItem",
    "EmbeddingsParams",
    "EmbeddingsResponse",
    "EmbeddingsUsage",
    "ImageDetail",
    "ImageEditParams",
    "ImageEmbeddingUrl",
    "ImageGenerationChunk",
    "ImageGenerationParams",
    "ImageGenerationResponse",
    "ImageItem",
    "ImageOptions",
    "ImageRef",
    "ImageUsage",
    "InitUploadRequest",
    "InitUploadResponse",
    "InputAudio",
    "ListModelsParams",
    "ListVideoGenerationsParams",
    "ListVoicesParams",
    "Memory",
    "MemoryItem",
    "ModelCompareResult",
    "ModelInfo",
    "ModelOverride",
    "ModelPricing",
    "ModelProvider",
    "ModelProvidersResponse",
    "ModelSearchParams",
    "ModelsPage",
    "ModerationImageUrl",
    "ModerationInputItem",
    "ModerationParams",
    "ModerationResponse",
    "ModerationResult",
    "MultimodalEmbeddingInput",
    "PromptTokensDetails",
    "PronunciationDictionaryLocator",
    "ProviderPreferences",
    "RagFileListResponse",
    "RagFileStatus",
    "RateLimits",
    "RequestCost",
    "ResponsesFunctionTool",
    "ResponsesListItem",
    "ResponsesListResponse",
    "ResponsesParams",
    "ResponsesResponse",
    "ResponsesStreamEvent",
    "ResponsesUsage",
    "RouterSelectParams",
    "RouterSelectResponse",
    "SearchRequest",
    "SearchResponse",
    "SearchResult",
    "SpeechParams",
    "SpendTrend",
    "TemplateSummary",
    "TokenEstimate",
    "TokenUsage",
    "Tool",
    "ToolCall",
    "ToolCallFunction",
    "ToolChoice",
    "ToolChoiceFunction",
    "ToolChoiceObject",
    "ToolFunction",
    "TranscriptionParams",
    "TranscriptionResponse",
    "TranscriptionTranslateParams",
    "UpdateMemoryItemParams",
    "UpdateMemoryParams",
    "UpdateTemplateParams",
    "UsageAttempts",
    "UsageEvent",
    "UsageEventsPage",
    "UsageInfo",
    "UsageQueryParams",
    "UsageSummary",
    "VideoContentItem",
    "VideoEmbeddingUrl",
    "VideoGenerationParams",
    "VideoTaskContent",
    "VideoTaskError",
    "VideoTaskListResponse",
    "VideoTaskResponse",
    "VideoTaskUsage",
    "VideoUrl",
    "Voice",
    "VoiceSettings",
    "VoicesResponse",
    "WebSearchParams",
    "WebSearchResponse",
    "WebSearchResultItem",
]

_ERRORS = [
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "BudgetExceededError",
    "ConfigurationError",
    "ConflictError",
    "ContentPolicyViolationError",
    "ContextWindowExceededError",
    "HookError",
    "InternalServerError",
    "InvalidAPIVersionError",
    "InvalidParamsError",
    "MeshAPIError",
    "ModelCapabilityNotSupportedError",
    "ModelNotFoundError",
    "NotFoundError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "ProcessingFailedError",
    "RateLimitError",
    "RateLimiterFullError",
    "ResponseTooLargeError",
    "StreamEventError",
    "StreamIdleTimeoutError",
    "StreamInterruptedError",
    "StructuredOutputError",
    "ToolLoopError",
    "ToolLoopLimitError",
    "UnprocessableEntityError",
    "WaitTimeoutError",
    "WebhookVerificationError",
]

# meshapi.types resolves each name from its own family, so one model does not load all of them
_LAZY: Dict[str, str] = {name: "meshapi.types" for name in _TYPES}
_LAZY.update({name: "meshapi._errors" for name in _ERRORS})
_LAZY["APIError"] = "meshapi._errors"  # openai-python's name for MeshAPIError
_LAZY["RateLimiter"] = "meshapi._rate_limiter"  # a client-side limit shared by clients
_LAZY["MapResult"] = "meshapi.lib.bulk"  # one result of chat.completions.map()
# client options, raw responses and hook views (issue 12)
_LAZY.update(
    {name: "meshapi._response" for name in ("AsyncStreamedResponse", "RawResponse", "StreamedResponse")}
)
_LAZY.update({name: "meshapi._transport.base" for name in ("RequestView", "ResponseView")})
# retry policy, model fallback and resilience events (issue 21)
_LAZY.update(
    {
        name: "meshapi._resilience"
        for name in (
            "FallbackConfig",
            "FallbackEvent",
            "GatewayRoutingEvent",
            "ResilienceEvent",
            "ResilienceLogger",
            "RetryEvent",
            "RetryPolicy",
        )
    }
)
# usage tracking and budgets
_LAZY.update({"Budget": "meshapi._budget", "BudgetWarning": "meshapi._budget"})
_LAZY.update(
    {
        name: "meshapi._usage_track"
        for name in ("AsyncUsageTracker", "ModelUsage", "UsageRecord", "UsageTracker")
    }
)
# API version pinning
_LAZY.update(
    {
        name: "meshapi._api_version"
        for name in ("API_VERSION_HEADER", "MESH_API_VERSION", "MeshAPIDeprecationWarning")
    }
)
_LAZY.update(
    {
        "MeshAPI": "meshapi._client",
        "AsyncMeshAPI": "meshapi._client",
        "MeshAPIConfig": "meshapi._config",
        "SyncHttpClient": "meshapi._transport.client",
        "AsyncHttpClient": "meshapi._transport.client",
        "Stream": "meshapi._streaming",
        "AsyncStream": "meshapi._streaming",
        "ChatCompletionAccumulator": "meshapi.lib.chat",
        "ChatCompletionStream": "meshapi.lib.chat",
        "AsyncChatCompletionStream": "meshapi.lib.chat",
        "ResponsesStream": "meshapi.lib.responses",
        "AsyncResponsesStream": "meshapi.lib.responses",
        "ResponsesAccumulator": "meshapi.lib.responses",
        "CompareStream": "meshapi.lib.compare",
        "AsyncCompareStream": "meshapi.lib.compare",
        "CompareAccumulator": "meshapi.lib.compare",
        "ImageStream": "meshapi.lib.images",
        "AsyncImageStream": "meshapi.lib.images",
        "DecodedEmbeddingItem": "meshapi.lib.embeddings",
        "pydantic_function_tool": "meshapi.lib._parsing",
        "tool": "meshapi.lib.tool_schema",
        "FunctionTool": "meshapi.lib.tool_schema",
        "ToolContext": "meshapi.lib.tool_schema",
        "PendingToolCall": "meshapi.lib.tool_calls",
        "ToolDecision": "meshapi.lib.tool_calls",
        "ToolResult": "meshapi.lib.tool_calls",
        "ToolRunner": "meshapi.lib.tool_runner",
        "ToolStreamRunner": "meshapi.lib.tool_runner",
        "AsyncToolRunner": "meshapi.lib.tool_runner_async",
        "AsyncToolStreamRunner": "meshapi.lib.tool_runner_async",
        "ContentDelta": "meshapi.lib.tool_events",
        "ToolCallStarted": "meshapi.lib.tool_events",
        "ToolCallFinished": "meshapi.lib.tool_events",
        "TurnFinished": "meshapi.lib.tool_events",
        "ToolRunEvent": "meshapi.lib.tool_events",
        "RealtimeResource": "meshapi.resources.realtime",
        "AsyncRealtimeResource": "meshapi.resources.realtime",
        "RealtimeSession": "meshapi.resources.realtime",
        "AsyncRealtimeSession": "meshapi.resources.realtime",
        "RealtimeMessage": "meshapi.resources.realtime",
        "RealtimeError": "meshapi._errors",
        "RagResource": "meshapi.resources.rag",
        "AsyncRagResource": "meshapi.resources.rag",
        "VideosResource": "meshapi.resources.videos",
        "AsyncVideosResource": "meshapi.resources.videos",
        "AudioResource": "meshapi.resources.audio",
        "AsyncAudioResource": "meshapi.resources.audio",
        "ModerationsResource": "meshapi.resources.moderations",
        "AsyncModerationsResource": "meshapi.resources.moderations",
        "WebResource": "meshapi.resources.web",
        "AsyncWebResource": "meshapi.resources.web",
        "RouterResource": "meshapi.resources.router",
        "AsyncRouterResource": "meshapi.resources.router",
        # importable but (as in 0.1.4) not in __all__
        "ChatResource": "meshapi.resources.chat",
        "AsyncChatResource": "meshapi.resources.chat",
        "ResponsesResource": "meshapi.resources.responses",
        "AsyncResponsesResource": "meshapi.resources.responses",
        "EmbeddingsResource": "meshapi.resources.embeddings",
        "AsyncEmbeddingsResource": "meshapi.resources.embeddings",
        "CompareResource": "meshapi.resources.compare",
        "AsyncCompareResource": "meshapi.resources.compare",
        "BatchesResource": "meshapi.resources.batches",
        "AsyncBatchesResource": "meshapi.resources.batches",
        "ModelsResource": "meshapi.resources.models",
        "AsyncModelsResource": "meshapi.resources.models",
        "TemplatesResource": "meshapi.resources.templates",
        "AsyncTemplatesResource": "meshapi.resources.templates",
        "ImagesResource": "meshapi.resources.images",
        "AsyncImagesResource": "meshapi.resources.images",
    }
)

_NOT_IN_ALL = {
    "SyncHttpClient",
    "AsyncHttpClient",
    "ChatResource",
    "AsyncChatResource",
    "ResponsesResource",
    "AsyncResponsesResource",
    "EmbeddingsResource",
    "AsyncEmbeddingsResource",
    "CompareResource",
    "AsyncCompareResource",
    "BatchesResource",
    "AsyncBatchesResource",
    "ModelsResource",
    "AsyncModelsResource",
    "TemplatesResource",
    "AsyncTemplatesResource",
    "ImagesResource",
    "AsyncImagesResource",
}

__all__: List[str] = sorted(["__version__", *(name for name in _LAZY if name not in _NOT_IN_ALL)])


# submodules reached as attributes (``meshapi.webhooks.verify``) without ``import meshapi`` loading them
_SUBMODULES = ("webhooks",)


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"meshapi.{name}")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'meshapi' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> List[str]:
    return sorted({*globals(), *_LAZY})


if TYPE_CHECKING:  # pragma: no cover - what type checkers and IDEs see
    from ._api_version import API_VERSION_HEADER as API_VERSION_HEADER
    from ._api_version import MESH_API_VERSION as MESH_API_VERSION
    from ._api_version import MeshAPIDeprecationWarning as MeshAPIDeprecationWarning
    from ._budget import Budget as Budget
    from ._budget import BudgetWarning as BudgetWarning
    from ._client import AsyncMeshAPI as AsyncMeshAPI
    from ._client import MeshAPI as MeshAPI
    from ._config import MeshAPIConfig as MeshAPIConfig
    from ._errors import *  # noqa: F403
    from ._rate_limiter import RateLimiter as RateLimiter
    from ._resilience import FallbackConfig as FallbackConfig
    from ._resilience import FallbackEvent as FallbackEvent
    from ._resilience import GatewayRoutingEvent as GatewayRoutingEvent
    from ._resilience import ResilienceEvent as ResilienceEvent
    from ._resilience import ResilienceLogger as ResilienceLogger
    from ._resilience import RetryEvent as RetryEvent
    from ._resilience import RetryPolicy as RetryPolicy
    from ._response import AsyncStreamedResponse as AsyncStreamedResponse
    from ._response import RawResponse as RawResponse
    from ._response import StreamedResponse as StreamedResponse
    from ._streaming import AsyncStream as AsyncStream
    from ._streaming import Stream as Stream
    from ._transport.base import RequestView as RequestView
    from ._transport.base import ResponseView as ResponseView
    from ._transport.client import AsyncHttpClient as AsyncHttpClient
    from ._transport.client import SyncHttpClient as SyncHttpClient
    from ._usage_track import AsyncUsageTracker as AsyncUsageTracker
    from ._usage_track import ModelUsage as ModelUsage
    from ._usage_track import UsageRecord as UsageRecord
    from ._usage_track import UsageTracker as UsageTracker
    from .lib._parsing import pydantic_function_tool as pydantic_function_tool
    from .lib.bulk import MapResult as MapResult
    from .lib.chat import AsyncChatCompletionStream as AsyncChatCompletionStream
    from .lib.chat import ChatCompletionAccumulator as ChatCompletionAccumulator
    from .lib.chat import ChatCompletionStream as ChatCompletionStream
    from .lib.compare import AsyncCompareStream as AsyncCompareStream
    from .lib.compare import CompareAccumulator as CompareAccumulator
    from .lib.compare import CompareStream as CompareStream
    from .lib.embeddings import DecodedEmbeddingItem as DecodedEmbeddingItem
    from .lib.images import AsyncImageStream as AsyncImageStream
    from .lib.images import ImageStream as ImageStream
    from .lib.responses import AsyncResponsesStream as AsyncResponsesStream
    from .lib.responses import ResponsesAccumulator as ResponsesAccumulator
    from .lib.responses import ResponsesStream as ResponsesStream
    from .lib.tool_calls import PendingToolCall as PendingToolCall
    from .lib.tool_calls import ToolDecision as ToolDecision
    from .lib.tool_calls import ToolResult as ToolResult
    from .lib.tool_events import ContentDelta as ContentDelta
    from .lib.tool_events import ToolCallFinished as ToolCallFinished
    from .lib.tool_events import ToolCallStarted as ToolCallStarted
    from .lib.tool_events import ToolRunEvent as ToolRunEvent
    from .lib.tool_events import TurnFinished as TurnFinished
    from .lib.tool_runner import ToolRunner as ToolRunner
    from .lib.tool_runner import ToolStreamRunner as ToolStreamRunner
    from .lib.tool_runner_async import AsyncToolRunner as AsyncToolRunner
    from .lib.tool_runner_async import AsyncToolStreamRunner as AsyncToolStreamRunner
    from .lib.tool_schema import FunctionTool as FunctionTool
    from .lib.tool_schema import ToolContext as ToolContext
    from .lib.tool_schema import tool as tool
    from .resources.audio import AsyncAudioResource as AsyncAudioResource
    from .resources.audio import AudioResource as AudioResource
    from .resources.batches import AsyncBatchesResource as AsyncBatchesResource
    from .resources.batches import BatchesResource as BatchesResource
    from .resources.chat import AsyncChatResource as AsyncChatResource
    from .resources.chat import ChatResource as ChatResource
    from .resources.compare import AsyncCompareResource as AsyncCompareResource
    from .resources.compare import CompareResource as CompareResource
    from .resources.embeddings import AsyncEmbeddingsResource as AsyncEmbeddingsResource
    from .resources.embeddings import EmbeddingsResource as EmbeddingsResource
    from .resources.images import AsyncImagesResource as AsyncImagesResource
    from .resources.images import ImagesResource as ImagesResource
    from .resources.models import AsyncModelsResource as AsyncModelsResource
    from .resources.models import ModelsResource as ModelsResource
    from .resources.moderations import AsyncModerationsResource as AsyncModerationsResource
    from .resources.moderations import ModerationsResource as ModerationsResource
    from .resources.rag import AsyncRagResource as AsyncRagResource
    from .resources.rag import RagResource as RagResource
    from .resources.realtime import AsyncRealtimeResource as AsyncRealtimeResource
    from .resources.realtime import AsyncRealtimeSession as AsyncRealtimeSession
    from .resources.realtime import RealtimeMessage as RealtimeMessage
    from .resources.realtime import RealtimeResource as RealtimeResource
    from .resources.realtime import RealtimeSession as RealtimeSession
    from .resources.responses import AsyncResponsesResource as AsyncResponsesResource
    from .resources.responses import ResponsesResource as ResponsesResource
    from .resources.router import AsyncRouterResource as AsyncRouterResource
    from .resources.router import RouterResource as RouterResource
    from .resources.templates import AsyncTemplatesResource as AsyncTemplatesResource
    from .resources.templates import TemplatesResource as TemplatesResource
    from .resources.videos import AsyncVideosResource as AsyncVideosResource
    from .resources.videos import VideosResource as VideosResource
    from .resources.web import AsyncWebResource as AsyncWebResource
    from .resources.web import WebResource as WebResource
    from .types import *  # noqa: F403
