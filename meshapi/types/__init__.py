"""Every pydantic model of the SDK, by family (see the modules of this package).

The families are imported on first use (PEP 562): a program that only chats does not build the models
of audio, video or batches at start-up, which is most of what a cold start used to pay here. Type
checkers see ordinary imports.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Dict, List, Tuple

_FAMILIES: Dict[str, Tuple[str, ...]] = {
    "api_versions": ("APIVersionInfo",),
    "audio": (
        "AudioTranslationsParams",
        "ListVoicesParams",
        "PronunciationDictionaryLocator",
        "SpeechParams",
        "TranscriptionParams",
        "TranscriptionResponse",
        "TranscriptionTranslateParams",
        "Voice",
        "VoiceSettings",
        "VoicesResponse",
    ),
    "batches": (
        "BatchListResponse",
        "BatchObject",
        "BatchRequestCounts",
        "BatchRequestItem",
        "BatchResult",
        "BatchResultError",
        "BatchResultResponse",
        "CreateBatchParams",
        "DictLikeModel",
    ),
    "chat": (
        "AudioOutputOptions",
        "ChatCompletionChoice",
        "ChatCompletionChunk",
        "ChatCompletionChunkChoice",
        "ChatCompletionChunkDelta",
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
    ),
    "compare": (
        "CompareParams",
        "CompareResponse",
        "CompareStreamEvent",
        "ModelCompareResult",
        "ModelOverride",
        "TokenUsage",
    ),
    "embeddings": (
        "EmbeddingItem",
        "EmbeddingsParams",
        "EmbeddingsResponse",
        "EmbeddingsUsage",
        "ImageEmbeddingUrl",
        "MultimodalEmbeddingInput",
        "ProviderPreferences",
        "VideoEmbeddingUrl",
    ),
    "errors": (
        "ApiErrorBody",
        "ApiErrorEnvelope",
    ),
    "images": (
        "ImageEditParams",
        "ImageGenerationChunk",
        "ImageGenerationParams",
        "ImageGenerationResponse",
        "ImageItem",
        "ImageRef",
        "ImageUsage",
    ),
    "models": (
        "ListModelsParams",
        "ModelInfo",
        "ModelPricing",
        "ModelSearchParams",
        "ModelsPage",
    ),
    "moderations": (
        "ModerationImageUrl",
        "ModerationInputItem",
        "ModerationParams",
        "ModerationResponse",
        "ModerationResult",
    ),
    "rag": (
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
    ),
    "responses": (
        "BuiltinTool",
        "ResponsesFunctionTool",
        "ResponsesListItem",
        "ResponsesListResponse",
        "ResponsesParams",
        "ResponsesResponse",
        "ResponsesStreamEvent",
        "ResponsesUsage",
    ),
    "router": (
        "AutoRouterMeta",
        "RouterSelectParams",
        "RouterSelectResponse",
    ),
    "templates": (
        "CreateTemplateParams",
        "TemplateMessage",
        "TemplateSummary",
        "UpdateTemplateParams",
    ),
    "usage": (
        "Balance",
        "RateLimitMetric",
        "RateLimitScope",
        "RateLimits",
        "SpendTrend",
        "SpendTrendBucket",
        "UsageAttempts",
        "UsageEvent",
        "UsageEventsPage",
        "UsageModelRow",
        "UsageQueryFields",
        "UsageQueryParams",
        "UsageSummary",
    ),
    "videos": (
        "CreateVideoGenerationResponse",
        "ListVideoGenerationsParams",
        "VideoContentItem",
        "VideoGenerationParams",
        "VideoTaskContent",
        "VideoTaskError",
        "VideoTaskListResponse",
        "VideoTaskResponse",
        "VideoTaskUsage",
    ),
    "web": (
        "WebSearchParams",
        "WebSearchResponse",
        "WebSearchResultItem",
    ),
}
_MODULE_OF: Dict[str, str] = {name: family for family, names in _FAMILIES.items() for name in names}

# The same names as _FAMILIES, spelled out for type checkers (tests/unit/test_types.py compares them).
__all__ = [
    "APIVersionInfo",
    "ApiErrorBody",
    "ApiErrorEnvelope",
    "AudioOutputOptions",
    "AudioTranslationsParams",
    "AutoRouterMeta",
    "Balance",
    "BatchListResponse",
    "BatchObject",
    "BatchRequestCounts",
    "BatchRequestItem",
    "BatchResult",
    "BatchResultError",
    "BatchResultResponse",
    "BuiltinTool",
    "BulkEmbedRequest",
    "BulkEmbedResponse",
    "BulkEmbedResult",
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
    "CreateBatchParams",
    "CreateTemplateParams",
    "CreateVideoGenerationResponse",
    "DictLikeModel",
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
    "ModelCompareResult",
    "ModelInfo",
    "ModelOverride",
    "ModelPricing",
    "ModelSearchParams",
    "ModelsPage",
    "ModerationImageUrl",
    "ModerationInputItem",
    "ModerationParams",
    "ModerationResponse",
    "ModerationResult",
    "MultimodalEmbeddingInput",
    "PronunciationDictionaryLocator",
    "ProviderPreferences",
    "RagFileListResponse",
    "RagFileStatus",
    "RateLimitMetric",
    "RateLimitScope",
    "RateLimits",
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
    "SpendTrendBucket",
    "TemplateMessage",
    "TemplateSummary",
    "TokenUsage",
    "Tool",
    "ToolCall",
    "ToolCallChunk",
    "ToolCallFunction",
    "ToolCallFunctionChunk",
    "ToolChoice",
    "ToolChoiceFunction",
    "ToolChoiceObject",
    "ToolFunction",
    "TranscriptionParams",
    "TranscriptionResponse",
    "TranscriptionTranslateParams",
    "UpdateTemplateParams",
    "UsageAttempts",
    "UsageEvent",
    "UsageEventsPage",
    "UsageInfo",
    "UsageModelRow",
    "UsageQueryFields",
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


def __getattr__(name: str) -> Any:
    if name in _FAMILIES:  # ``meshapi.types.chat`` as an attribute, as when every family was imported
        return importlib.import_module(f"{__name__}.{name}")
    family = _MODULE_OF.get(name)
    if family is None:
        raise AttributeError(f"module 'meshapi.types' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{family}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> List[str]:
    return sorted({*globals(), *_MODULE_OF})


if TYPE_CHECKING:  # pragma: no cover - what type checkers and IDEs see
    from .api_versions import *  # noqa: F403
    from .audio import *  # noqa: F403
    from .batches import *  # noqa: F403
    from .chat import *  # noqa: F403
    from .compare import *  # noqa: F403
    from .embeddings import *  # noqa: F403
    from .errors import *  # noqa: F403
    from .images import *  # noqa: F403
    from .models import *  # noqa: F403
    from .moderations import *  # noqa: F403
    from .rag import *  # noqa: F403
    from .responses import *  # noqa: F403
    from .router import *  # noqa: F403
    from .templates import *  # noqa: F403
    from .usage import *  # noqa: F403
    from .videos import *  # noqa: F403
    from .web import *  # noqa: F403
