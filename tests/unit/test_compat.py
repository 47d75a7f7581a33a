"""Code written for upstream 0.1.4 imports unchanged: names, module paths, version source."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
import typing

import pytest

import meshapi

UPSTREAM_ALL = [
    "__version__",
    "MeshAPI",
    "AsyncMeshAPI",
    "MeshAPIConfig",
    "MeshAPIError",
    "ChatRole",
    "ChatMessage",
    "ContentPart",
    "ContentPartAudio",
    "ContentPartText",
    "ContentPartImage",
    "ImageDetail",
    "InputAudio",
    "ImageOptions",
    "ImageGenerationParams",
    "ImageGenerationResponse",
    "ImageItem",
    "ImageUsage",
    "AudioOutputOptions",
    "ToolFunction",
    "Tool",
    "ToolCall",
    "ToolCallFunction",
    "ToolChoice",
    "ToolChoiceFunction",
    "ToolChoiceObject",
    "ChatCompletionParams",
    "ChatCompletionResponse",
    "ChatCompletionChoice",
    "ChatCompletionMessage",
    "ChatCompletionChunk",
    "ChatCompletionChunkChoice",
    "ChatCompletionChunkDelta",
    "UsageInfo",
    "ModelPricing",
    "ModelInfo",
    "ListModelsParams",
    "EmbeddingsParams",
    "EmbeddingItem",
    "EmbeddingsUsage",
    "EmbeddingsResponse",
    "ResponsesFunctionTool",
    "BuiltinTool",
    "ResponsesParams",
    "ResponsesUsage",
    "ResponsesResponse",
    "ResponsesStreamEvent",
    "ModelOverride",
    "CompareParams",
    "TokenUsage",
    "CompareResponse",
    "CompareStreamEvent",
    "BatchRequestItem",
    "CreateBatchParams",
    "BatchObject",
    "BatchListResponse",
    "ProviderPreferences",
    "CreateTemplateParams",
    "UpdateTemplateParams",
    "TemplateSummary",
    "ApiErrorBody",
    "ApiErrorEnvelope",
    "RealtimeResource",
    "AsyncRealtimeResource",
    "RealtimeSession",
    "AsyncRealtimeSession",
    "RealtimeMessage",
    "RealtimeError",
    "RagResource",
    "AsyncRagResource",
    "InitUploadRequest",
    "InitUploadResponse",
    "RagFileStatus",
    "RagFileListResponse",
    "BulkEmbedRequest",
    "BulkEmbedResult",
    "BulkEmbedResponse",
    "SearchRequest",
    "SearchResult",
    "SearchResponse",
]

NOT_IN_ALL = [
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
]

MODULE_PATHS = {
    "meshapi._types": [
        "CreateTemplateParams",
        "UpdateTemplateParams",
        "BulkEmbedRequest",
        "InitUploadRequest",
        "SearchRequest",
        "ChatCompletionChunk",
        "ToolCallFunctionChunk",
        "ToolCallChunk",
        "TemplateMessage",
        "ModelCompareResult",
        "ImageGenerationChunk",
    ],
    "meshapi._errors": ["MeshAPIError"],
    "meshapi._http": [
        "MeshAPIConfig",
        "SyncHttpClient",
        "AsyncHttpClient",
        "_try_parse_sse_frame",
        "_iter_sse",
        "_DONE_SENTINEL",
    ],
    "meshapi.resources.chat": [
        "CompletionsResource",
        "ChatResource",
        "AsyncCompletionsResource",
        "AsyncChatResource",
    ],
    "meshapi.resources.models": ["ModelsResource", "AsyncModelsResource"],
}


def test_upstream_all_has_80_names_and_all_import() -> None:
    assert len(UPSTREAM_ALL) == 80
    missing = [name for name in UPSTREAM_ALL if name not in meshapi.__all__]
    assert missing == []


@pytest.mark.parametrize("name", UPSTREAM_ALL + NOT_IN_ALL)
def test_name_resolves(name: str) -> None:
    try:
        assert getattr(meshapi, name) is not None
    except ModuleNotFoundError as exc:  # pragma: no cover - a resource module still being written
        pytest.fail(f"{name}: {exc}")


def test_all_is_sorted_and_star_import_works() -> None:
    assert meshapi.__all__ == sorted(meshapi.__all__)
    namespace: dict = {}
    exec("from meshapi import *", namespace)
    assert "MeshAPI" in namespace and "ChatCompletionParams" in namespace


@pytest.mark.parametrize(("module", "names"), sorted(MODULE_PATHS.items()))
def test_module_paths(module: str, names: list) -> None:
    mod = importlib.import_module(module)
    for name in names:
        assert hasattr(mod, name), f"{module}.{name}"


def test_version_is_single_sourced() -> None:
    from importlib.metadata import version

    from meshapi._http import SDK_HEADER_VALUE

    assert meshapi.__version__ == version("meshapi")
    assert f"python/{meshapi.__version__}" == SDK_HEADER_VALUE


def test_get_type_hints_on_public_callables() -> None:
    # Python 3.9 cannot evaluate `X | None`; every public signature must stay evaluable. The classes of
    # features a client may not use (budget, limiter, tracker, the tool runners, map's results) are named
    # by the public package, not imported by meshapi._client or chat's load (a first call never loads
    # them), so they resolve from there.
    from meshapi import _client, _errors, _http, _streaming
    from meshapi.resources import chat, models

    optional = {
        name: getattr(meshapi, name)
        for name in (
            "AsyncUsageTracker",
            "Budget",
            "RateLimiter",
            "UsageTracker",
            "ToolRunner",
            "ToolStreamRunner",
            "AsyncToolRunner",
            "AsyncToolStreamRunner",
            "MapResult",
        )
    }
    for module in (_client, _errors, _http, _streaming, chat, models):
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if obj.__module__ != module.__name__:
                continue
            for _, fn in inspect.getmembers(obj, inspect.isfunction):
                typing.get_type_hints(fn, {**optional, **vars(sys.modules[fn.__module__])})


def test_import_is_lazy_and_warning_free() -> None:
    code = (
        "import sys, warnings; warnings.simplefilter('error'); import meshapi; "
        "assert 'meshapi._types' not in sys.modules; assert 'pydantic' not in sys.modules; "
        "from meshapi import MeshAPI, ChatCompletionParams; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
