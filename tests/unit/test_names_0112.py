"""Code written for upstream 0.1.12 imports unchanged: its 133 names, both module paths, its client attributes.

Also the sync/async parity of the resources 0.1.5 .. 0.1.12 added (the shared parity test covers the
0.1.4 ones) and the 0.1.12 method signatures: positional parameters keep their names and order.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any, AsyncIterator, Dict, List, Tuple

import pydantic
import pytest

import meshapi
from meshapi import AsyncMeshAPI, MeshAPI

# SURFACE.md section 7, in 0.1.12's order.
UPSTREAM_ALL_0112 = [
    "__version__",
    "MeshAPI",
    "AsyncMeshAPI",
    "MeshAPIConfig",
    "MeshAPIError",
    "StructuredOutputError",
    "ChatRole",
    "ChatMessage",
    "ContentPart",
    "ContentPartAudio",
    "ContentPartText",
    "ContentPartImage",
    "ContentPartVideo",
    "VideoUrl",
    "ImageDetail",
    "InputAudio",
    "ImageOptions",
    "ImageEditParams",
    "ImageRef",
    "ImageGenerationChunk",
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
    "ImageEmbeddingUrl",
    "VideoEmbeddingUrl",
    "MultimodalEmbeddingInput",
    "ResponsesFunctionTool",
    "BuiltinTool",
    "ResponsesParams",
    "ResponsesUsage",
    "ResponsesResponse",
    "ResponsesStreamEvent",
    "ModelOverride",
    "ModelSearchParams",
    "ModelsPage",
    "ResponsesListItem",
    "ResponsesListResponse",
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
    "ModerationsResource",
    "AsyncModerationsResource",
    "ModerationParams",
    "ModerationImageUrl",
    "ModerationInputItem",
    "ModerationResult",
    "ModerationResponse",
    "WebResource",
    "AsyncWebResource",
    "WebSearchParams",
    "WebSearchResultItem",
    "WebSearchResponse",
    "RouterResource",
    "AsyncRouterResource",
    "RouterSelectParams",
    "AutoRouterMeta",
    "RouterSelectResponse",
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
    "VideosResource",
    "AsyncVideosResource",
    "CreateVideoGenerationResponse",
    "ListVideoGenerationsParams",
    "VideoContentItem",
    "VideoGenerationParams",
    "VideoTaskContent",
    "VideoTaskError",
    "VideoTaskListResponse",
    "VideoTaskResponse",
    "VideoTaskUsage",
    "AudioResource",
    "AsyncAudioResource",
    "SpeechParams",
    "VoiceSettings",
    "PronunciationDictionaryLocator",
    "TranscriptionParams",
    "TranscriptionTranslateParams",
    "AudioTranslationsParams",
    "TranscriptionResponse",
    "ListVoicesParams",
    "Voice",
    "VoicesResponse",
]

# Which module each non-type name lives in at 0.1.12 (besides ``meshapi`` itself).
RESOURCE_MODULES = {
    "ModerationsResource": "meshapi.resources.moderations",
    "WebResource": "meshapi.resources.web",
    "RouterResource": "meshapi.resources.router",
    "VideosResource": "meshapi.resources.videos",
    "AudioResource": "meshapi.resources.audio",
    "RagResource": "meshapi.resources.rag",
    "RealtimeResource": "meshapi.resources.realtime",
}
NOT_TYPES = {
    "__version__",
    "MeshAPI",
    "AsyncMeshAPI",
    "MeshAPIConfig",
    "MeshAPIError",
    "StructuredOutputError",
    "RealtimeSession",
    "AsyncRealtimeSession",
    "RealtimeMessage",
    "RealtimeError",
}
NOT_TYPES |= set(RESOURCE_MODULES) | {"Async" + name for name in RESOURCE_MODULES}

HEAD_ATTRIBUTES = ["chat", "responses", "embeddings", "compare", "batches", "models", "templates", "images",
                   "videos", "audio", "rag", "moderations", "web", "router", "realtime"]  # fmt: skip

NEW_RESOURCES: Dict[str, List[str]] = {
    "audio": ["synthesize", "transcribe", "get_transcription", "translate", "audio_translate", "list_voices",
              "get_voice"],
    "videos": ["generate", "list", "retrieve"],
    "moderations": ["create"],
    "web": ["search"],
    "router": ["select"],
    "models": ["search", "get", "list"],
    "images": ["edit"],
    "responses": ["list", "get"],
}  # fmt: skip

# 0.1.12's positional parameters (after ``self``), which our methods must keep in this order.
POSITIONAL_0112 = {
    ("audio", "synthesize"): ["params"],
    ("audio", "transcribe"): ["file", "params"],
    ("audio", "get_transcription"): ["transcription_id"],
    ("audio", "translate"): ["file", "params"],
    ("audio", "audio_translate"): ["file", "params"],
    ("audio", "list_voices"): ["params"],
    ("audio", "get_voice"): ["voice_id"],
    ("videos", "generate"): ["params"],
    ("videos", "list"): ["params"],
    ("videos", "retrieve"): ["task_id"],
    ("moderations", "create"): ["params"],
    ("web", "search"): ["params"],
    ("router", "select"): ["params"],
    ("models", "search"): ["params"],
    ("models", "get"): ["model_id"],
    ("images", "edit"): ["params"],
    ("responses", "get"): ["response_id"],
}
KEYWORDS_0112 = {
    ("audio", "transcribe"): ["filename"],
    ("audio", "translate"): ["filename"],
    ("audio", "audio_translate"): ["filename"],
    ("models", "list"): ["free", "type", "provider"],
    ("responses", "list"): ["after", "limit"],
}
PER_CALL = [
    "timeout",
    "max_retries",
    "extra_headers",
    "extra_query",
    "extra_body",
    "total_timeout",
    "request_id",
]


def test_the_upstream_list_has_133_names_and_every_one_is_exported() -> None:
    assert len(UPSTREAM_ALL_0112) == len(set(UPSTREAM_ALL_0112)) == 133
    assert [name for name in UPSTREAM_ALL_0112 if name not in meshapi.__all__] == []
    namespace: Dict[str, Any] = {}
    exec("from meshapi import *", namespace)
    assert [name for name in UPSTREAM_ALL_0112 if name not in namespace] == []


@pytest.mark.parametrize("name", UPSTREAM_ALL_0112)
def test_every_name_imports_from_meshapi(name: str) -> None:
    exec(f"from meshapi import {name}", {})
    assert getattr(meshapi, name) is not None


@pytest.mark.parametrize("name", [n for n in UPSTREAM_ALL_0112 if n not in NOT_TYPES])
def test_every_type_also_imports_from_meshapi_types(name: str) -> None:
    namespace: Dict[str, Any] = {}
    exec(f"from meshapi._types import {name}", namespace)
    assert namespace[name] is getattr(meshapi, name)


@pytest.mark.parametrize("name", sorted(RESOURCE_MODULES))
def test_resource_classes_live_at_their_module_paths(name: str) -> None:
    module = importlib.import_module(RESOURCE_MODULES[name])
    assert getattr(module, name) is getattr(meshapi, name)
    assert getattr(module, "Async" + name) is getattr(meshapi, "Async" + name)


@pytest.fixture
async def clients() -> AsyncIterator[Tuple[Any, Any]]:
    sync = MeshAPI(base_url="http://127.0.0.1:9", token="rsk_names_token")
    asyn = AsyncMeshAPI(base_url="http://127.0.0.1:9", token="rsk_names_token")
    yield sync, asyn
    sync.close()
    await asyn.aclose()


async def test_client_attributes_of_0112(clients: Tuple[Any, Any]) -> None:
    for client in clients:
        for name in HEAD_ATTRIBUTES:
            assert getattr(client, name) is getattr(client, name), name  # created once


def _describe(function: Any) -> List[Tuple[str, Any, Any]]:
    return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]


@pytest.mark.parametrize("attr", ["audio", "videos", "moderations", "web", "router"])
async def test_new_resources_have_equal_twins(clients: Tuple[Any, Any], attr: str) -> None:
    sync, asyn = (type(getattr(c, attr)) for c in clients)
    names = sorted(n for n, v in vars(sync).items() if inspect.isfunction(v) and not n.startswith("_"))
    assert names == sorted(
        n for n, v in vars(asyn).items() if inspect.isfunction(v) and not n.startswith("_")
    )
    for name in names:
        one, two = getattr(sync, name), getattr(asyn, name)
        assert _describe(one) == _describe(two), name
        assert inspect.getdoc(one) and inspect.getdoc(one) == inspect.getdoc(two), name
        assert not inspect.iscoroutinefunction(one) and inspect.iscoroutinefunction(two), name


@pytest.mark.parametrize(("attr", "method"), sorted(POSITIONAL_0112))
async def test_0112_positional_parameters_and_per_call_options(
    clients: Tuple[Any, Any], attr: str, method: str
) -> None:
    for client in clients:
        function = getattr(type(getattr(client, attr)), method)
        params = inspect.signature(function).parameters
        positional = [n for n, p in params.items() if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]
        assert positional[1:] == POSITIONAL_0112[(attr, method)]
        keywords = [n for n, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY]
        for name in KEYWORDS_0112.get((attr, method), []):
            assert name in keywords, name
        new = attr in ("audio", "videos", "moderations", "web", "router") or method in (
            "search",
            "get",
            "edit",
        )
        if new and (attr, method) != ("responses", "get"):
            assert [n for n in keywords if n in PER_CALL] == PER_CALL, f"{attr}.{method}"


async def test_every_new_method_exists_on_both_clients(clients: Tuple[Any, Any]) -> None:
    for client in clients:
        for attr, methods in NEW_RESOURCES.items():
            for method in methods:
                assert callable(getattr(getattr(client, attr), method)), f"{attr}.{method}"


def test_0112_defaults_of_the_new_param_models() -> None:
    assert meshapi.ModerationParams(input="x").model == "omni-moderation-latest"
    web = meshapi.WebSearchParams(query="q")
    assert (web.max_results, web.search_depth, web.include_answer) == (5, "basic", False)
    assert meshapi.RouterSelectParams(messages=[{"role": "user", "content": "x"}]).api_type == "completions"
    assert meshapi.ImageEditParams(model="m", image="AA==").operation == "edit"
    assert meshapi.ModelInfo(id="a", name="b", is_free=True).is_composite is False
    assert meshapi.WebSearchResponse(query="q", provider="native").request_id == ""
    with pytest.raises(pydantic.ValidationError):
        meshapi.RouterSelectParams(messages=[])
    with pytest.raises(pydantic.ValidationError):
        meshapi.WebSearchParams(query="q", max_results=21)
    with pytest.raises(pydantic.ValidationError):  # 0.1.10: request models forbid unknown keys
        meshapi.SpeechParams(input="x", voyce="v")


def test_batch_results_index_like_the_dicts_of_0112() -> None:
    raw = {
        "id": "batch_1",
        "status": "completed",
        "request_counts": {"total": 2, "completed": 1, "failed": 1},
        "results": [
            {"custom_id": "a", "response": {"status_code": 200, "body": {"id": "c1"}}, "error": None},
            {"custom_id": "b", "response": None, "error": {"code": "bad", "message": "no"}, "note": 1},
        ],
    }
    batch = meshapi.BatchObject.model_validate(raw)
    first, second = batch.results or []
    assert first["custom_id"] == "a" and first.custom_id == "a"
    assert first["response"]["body"]["id"] == "c1" and first["response"]["status_code"] == 200
    assert second["error"]["code"] == "bad" and second["note"] == 1 and second.get("missing") is None
    assert batch.request_counts is not None and batch.request_counts["total"] == 2
    assert batch.request_counts == raw["request_counts"] and second == raw["results"][1]
    assert list(first) == ["custom_id", "response", "error"] and "error" in first and "nope" not in first
    assert dict(first.items())["custom_id"] == "a" and len(second) == 4
    with pytest.raises(KeyError):
        first["missing"]
