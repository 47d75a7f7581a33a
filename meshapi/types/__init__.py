"""Every pydantic model of the SDK, by family (see the modules of this package).

The families are imported on first use (PEP 562): a program that only chats does not build the models
of audio, video or batches at start-up, which is most of what a cold start used to pay here. Type
checkers see ordinary imports.

Which family gives which name is therefore known without importing the families: ``_FAMILIES`` and
``__all__`` below are generated from each family module's own ``__all__`` (every module of this package
but ``_NOT_FAMILIES``, every name but ``_KEPT_OUT``). Nobody edits them by hand:
``tests/unit/test_types.py::test_the_family_table_is_generated_from_the_families`` derives them again
and, on any difference, fails printing the text to paste between the two ``generated`` lines.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Dict, List, Tuple

# Modules of this package that are not families of ``meshapi.types`` names: the realtime events keep
# their own namespaces (``meshapi.realtime`` documents them there); ``_base`` holds the base classes.
_NOT_FAMILIES = ("_base", "_chat_parts", "realtime", "realtime_client", "realtime_server")

# Names in a family's ``__all__`` that this package does not offer: the chat keywords' TypedDict (the
# resources' ``Unpack`` type, not a model), a constant and a helper function.
_KEPT_OUT = ("ChatCompletionFields", "TERMINAL_VIDEO_STATUSES", "output_text_of")

# --- generated from the families' __all__: do not edit (see the module docstring) ---
# fmt: off
_FAMILIES: Dict[str, Tuple[str, ...]] = {
    "api_versions": (
        "APIVersionInfo",
    ),
    "audio": (
        "AudioTranslationsParams", "ListVoicesParams", "PronunciationDictionaryLocator", "SpeechParams",
        "TranscriptionParams", "TranscriptionResponse", "TranscriptionTranslateParams", "Voice",
        "VoiceSettings", "VoicesResponse",
    ),
    "batches": (
        "BatchListResponse", "BatchObject", "BatchRequestCounts", "BatchRequestItem", "BatchResult",
        "BatchResultError", "BatchResultResponse", "CreateBatchParams", "DictLikeModel",
    ),
    "caching": (
        "CacheControl", "PromptTokensDetails",
    ),
    "chat": (
        "AudioOutputOptions", "ChatCompletionChoice", "ChatCompletionChunk", "ChatCompletionChunkChoice",
        "ChatCompletionChunkDelta", "ChatCompletionMessage", "ChatCompletionParams", "ChatCompletionResponse",
        "ChatMessage", "ChatRole", "ContentPart", "ContentPartAudio", "ContentPartImage", "ContentPartText",
        "ContentPartVideo", "ImageDetail", "ImageOptions", "InputAudio", "Tool", "ToolCall", "ToolCallChunk",
        "ToolCallFunction", "ToolCallFunctionChunk", "ToolChoice", "ToolChoiceFunction", "ToolChoiceObject",
        "ToolFunction", "UsageInfo", "VideoUrl",
    ),
    "compare": (
        "CompareParams", "CompareResponse", "CompareStreamEvent", "ModelCompareResult", "ModelOverride",
        "TokenUsage",
    ),
    "embeddings": (
        "EmbeddingItem", "EmbeddingsParams", "EmbeddingsResponse", "EmbeddingsUsage", "ImageEmbeddingUrl",
        "MultimodalEmbeddingInput", "ProviderPreferences", "VideoEmbeddingUrl",
    ),
    "errors": (
        "ApiErrorBody", "ApiErrorEnvelope",
    ),
    "images": (
        "ImageEditParams", "ImageGenerationChunk", "ImageGenerationParams", "ImageGenerationResponse",
        "ImageItem", "ImageRef", "ImageUsage",
    ),
    "memories": (
        "CreateMemoryItemParams", "CreateMemoryParams", "Memory", "MemoryItem", "UpdateMemoryItemParams",
        "UpdateMemoryParams",
    ),
    "models": (
        "ListModelsParams", "ModelInfo", "ModelPricing", "ModelProvider", "ModelProvidersResponse",
        "ModelSearchParams", "ModelsPage",
    ),
    "moderations": (
        "ModerationImageUrl", "ModerationInputItem", "ModerationParams", "ModerationResponse",
        "ModerationResult",
    ),
    "rag": (
        "BulkEmbedRequest", "BulkEmbedResponse", "BulkEmbedResult", "InitUploadRequest", "InitUploadResponse",
        "RagFileListResponse", "RagFileStatus", "SearchRequest", "SearchResponse", "SearchResult",
    ),
    "response_items": (
        "ResponseContentPart", "ResponseFunctionCall", "ResponseOutputItem", "ResponseOutputMessage",
        "ResponseOutputRefusal", "ResponseOutputText", "ResponseReasoningItem", "ResponseUnknownContent",
        "ResponseUnknownItem", "ResponseWebSearchCall",
    ),
    "responses": (
        "BuiltinTool", "ParsedResponse", "ResponsesFunctionTool", "ResponsesListItem",
        "ResponsesListResponse", "ResponsesParams", "ResponsesResponse", "ResponsesStreamEvent",
        "ResponsesUsage",
    ),
    "router": (
        "AutoRouterMeta", "RouterSelectParams", "RouterSelectResponse",
    ),
    "templates": (
        "CreateTemplateParams", "TemplateMessage", "TemplateSummary", "UpdateTemplateParams",
    ),
    "usage": (
        "Balance", "CostHint", "CostLookup", "RateLimitMetric", "RateLimitScope", "RateLimits", "RequestCost",
        "SpendTrend", "SpendTrendBucket", "TokenEstimate", "UsageAttempts", "UsageEvent", "UsageEventsPage",
        "UsageModelRow", "UsageQueryFields", "UsageQueryParams", "UsageSummary",
    ),
    "videos": (
        "CreateVideoGenerationResponse", "ListVideoGenerationsParams", "VideoContentItem",
        "VideoGenerationParams", "VideoTaskContent", "VideoTaskError", "VideoTaskListResponse",
        "VideoTaskResponse", "VideoTaskUsage",
    ),
    "web": (
        "WebSearchParams", "WebSearchResponse", "WebSearchResultItem",
    ),
    "webhooks": (
        "BalanceLowData", "BalanceLowEvent", "LimitEventData", "RateLimitThresholdData",
        "RateLimitThresholdEvent", "SpendCapApproachingEvent", "SpendCapData", "SpendCapHitEvent",
        "UnknownWebhookEvent", "WebhookEvent",
    ),
}
__all__ = [
    "APIVersionInfo", "ApiErrorBody", "ApiErrorEnvelope", "AudioOutputOptions", "AudioTranslationsParams",
    "AutoRouterMeta", "Balance", "BalanceLowData", "BalanceLowEvent", "BatchListResponse", "BatchObject",
    "BatchRequestCounts", "BatchRequestItem", "BatchResult", "BatchResultError", "BatchResultResponse",
    "BuiltinTool", "BulkEmbedRequest", "BulkEmbedResponse", "BulkEmbedResult", "CacheControl",
    "ChatCompletionChoice", "ChatCompletionChunk", "ChatCompletionChunkChoice", "ChatCompletionChunkDelta",
    "ChatCompletionMessage", "ChatCompletionParams", "ChatCompletionResponse", "ChatMessage", "ChatRole",
    "CompareParams", "CompareResponse", "CompareStreamEvent", "ContentPart", "ContentPartAudio",
    "ContentPartImage", "ContentPartText", "ContentPartVideo", "CostHint", "CostLookup", "CreateBatchParams",
    "CreateMemoryItemParams", "CreateMemoryParams", "CreateTemplateParams", "CreateVideoGenerationResponse",
    "DictLikeModel", "EmbeddingItem", "EmbeddingsParams", "EmbeddingsResponse", "EmbeddingsUsage",
    "ImageDetail", "ImageEditParams", "ImageEmbeddingUrl", "ImageGenerationChunk", "ImageGenerationParams",
    "ImageGenerationResponse", "ImageItem", "ImageOptions", "ImageRef", "ImageUsage", "InitUploadRequest",
    "InitUploadResponse", "InputAudio", "LimitEventData", "ListModelsParams", "ListVideoGenerationsParams",
    "ListVoicesParams", "Memory", "MemoryItem", "ModelCompareResult", "ModelInfo", "ModelOverride",
    "ModelPricing", "ModelProvider", "ModelProvidersResponse", "ModelSearchParams", "ModelsPage",
    "ModerationImageUrl", "ModerationInputItem", "ModerationParams", "ModerationResponse", "ModerationResult",
    "MultimodalEmbeddingInput", "ParsedResponse", "PromptTokensDetails", "PronunciationDictionaryLocator",
    "ProviderPreferences", "RagFileListResponse", "RagFileStatus", "RateLimitMetric", "RateLimitScope",
    "RateLimitThresholdData", "RateLimitThresholdEvent", "RateLimits", "RequestCost", "ResponseContentPart",
    "ResponseFunctionCall", "ResponseOutputItem", "ResponseOutputMessage", "ResponseOutputRefusal",
    "ResponseOutputText", "ResponseReasoningItem", "ResponseUnknownContent", "ResponseUnknownItem",
    "ResponseWebSearchCall", "ResponsesFunctionTool", "ResponsesListItem", "ResponsesListResponse",
    "ResponsesParams", "ResponsesResponse", "ResponsesStreamEvent", "ResponsesUsage", "RouterSelectParams",
    "RouterSelectResponse", "SearchRequest", "SearchResponse", "SearchResult", "SpeechParams",
    "SpendCapApproachingEvent", "SpendCapData", "SpendCapHitEvent", "SpendTrend", "SpendTrendBucket",
    "TemplateMessage", "TemplateSummary", "TokenEstimate", "TokenUsage", "Tool", "ToolCall", "ToolCallChunk",
    "ToolCallFunction", "ToolCallFunctionChunk", "ToolChoice", "ToolChoiceFunction", "ToolChoiceObject",
    "ToolFunction", "TranscriptionParams", "TranscriptionResponse", "TranscriptionTranslateParams",
    "UnknownWebhookEvent", "UpdateMemoryItemParams", "UpdateMemoryParams", "UpdateTemplateParams",
    "UsageAttempts", "UsageEvent", "UsageEventsPage", "UsageInfo", "UsageModelRow", "UsageQueryFields",
    "UsageQueryParams", "UsageSummary", "VideoContentItem", "VideoEmbeddingUrl", "VideoGenerationParams",
    "VideoTaskContent", "VideoTaskError", "VideoTaskListResponse", "VideoTaskResponse", "VideoTaskUsage",
    "VideoUrl", "Voice", "VoiceSettings", "VoicesResponse", "WebSearchParams", "WebSearchResponse",
    "WebSearchResultItem", "WebhookEvent",
]
# fmt: on
# --- end of the generated text ---
_MODULE_OF: Dict[str, str] = {name: family for family, names in _FAMILIES.items() for name in names}


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
    from .caching import *  # noqa: F403
    from .chat import *  # noqa: F403
    from .compare import *  # noqa: F403
    from .embeddings import *  # noqa: F403
    from .errors import *  # noqa: F403
    from .images import *  # noqa: F403
    from .memories import *  # noqa: F403
    from .models import *  # noqa: F403
    from .moderations import *  # noqa: F403
    from .rag import *  # noqa: F403
    from .response_items import *  # noqa: F403
    from .responses import *  # noqa: F403
    from .router import *  # noqa: F403
    from .templates import *  # noqa: F403
    from .usage import *  # noqa: F403
    from .videos import *  # noqa: F403
    from .web import *  # noqa: F403
    from .webhooks import *  # noqa: F403
