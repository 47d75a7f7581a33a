"""Sync and async twins expose the same surface; every 0.1.4 method of SURFACE.md §3 exists."""

from __future__ import annotations

import importlib
import inspect
import re
from typing import Any, AsyncIterator, Callable, Dict, List, Tuple

import pytest

from meshapi import AsyncMeshAPI, MeshAPI

RESOURCES = [
    "chat.completions",
    "responses",
    "embeddings",
    "compare",
    "batches",
    "models",
    "templates",
    "images",
    "rag",
]
try:
    importlib.import_module("meshapi.resources.realtime")
except ImportError:  # a colleague's module; included automatically once it imports
    pass
else:
    RESOURCES.append("realtime")

# SURFACE.md §3: the 0.1.4 methods per resource (28 per client flavour).
SURFACE_014: Dict[str, List[str]] = {
    "chat.completions": ["create", "stream"],
    "responses": ["create", "stream"],
    "embeddings": ["create"],
    "compare": ["create", "stream"],
    "batches": ["create", "list", "get", "cancel"],
    "models": ["list", "free", "paid"],
    "templates": ["create", "list", "get", "update", "delete"],
    "images": ["generate", "stream"],
    "rag": ["init_upload", "list", "get", "embed", "search", "upload_file"],
    "realtime": ["connect"],
}


@pytest.fixture
async def clients() -> AsyncIterator[Tuple[Any, Any]]:
    sync = MeshAPI(base_url="http://127.0.0.1:9", token="rsk_parity_token")
    asyn = AsyncMeshAPI(base_url="http://127.0.0.1:9", token="rsk_parity_token")
    yield sync, asyn
    sync.close()
    await asyn.aclose()


def resolve_attr(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def public_methods(obj: Any) -> Dict[str, Callable[..., Any]]:
    methods = {}
    for name in dir(type(obj)):
        if name.startswith("_"):
            continue
        value = getattr(type(obj), name)
        if inspect.isfunction(value):
            methods[name] = value
    return methods


def _norm(annotation: Any) -> str:
    """An annotation with the sync/async naming difference removed (``AsyncStream`` -> ``Stream``)."""
    return re.sub(r"\bAsync(?=[A-Z])", "", str(annotation))


def describe(function: Callable[..., Any]) -> List[Tuple[str, Any, Any, str]]:
    signature = inspect.signature(function)
    params = [(p.name, p.kind, p.default, _norm(p.annotation)) for p in signature.parameters.values()]
    return [*params, ("return", None, None, _norm(signature.return_annotation))]


@pytest.mark.parametrize("path", RESOURCES)
def test_twins_have_the_same_methods_signatures_and_docstrings(clients: Tuple[Any, Any], path: str) -> None:
    sync, asyn = (resolve_attr(c, path) for c in clients)
    sync_methods, async_methods = public_methods(sync), public_methods(asyn)
    assert sorted(sync_methods) == sorted(async_methods), path
    assert sync_methods, path
    for name, function in sync_methods.items():
        twin = async_methods[name]
        if (path, name) == ("realtime", "connect"):  # async: an awaitable manager, as at 0.1.4
            assert describe(function)[:-1] == describe(twin)[:-1], f"{path}.{name}"
        else:
            assert describe(function) == describe(twin), f"{path}.{name}"
        assert inspect.getdoc(function), f"{path}.{name} has no docstring"
        assert inspect.getdoc(function) == inspect.getdoc(twin), f"{path}.{name} docstrings differ"
        assert not inspect.iscoroutinefunction(function), f"{path}.{name}: sync method is async"
        if name in ("stream", "iter_files", "iter_batches"):
            continue  # async streams / iterators are returned by a plain def
        if path != "realtime" or name != "connect":  # realtime.connect is an awaitable manager at 0.1.4
            assert inspect.iscoroutinefunction(twin), f"{path}.{name}: async twin is not a coroutine function"


@pytest.mark.parametrize("path", RESOURCES)
def test_every_0_1_4_method_exists(clients: Tuple[Any, Any], path: str) -> None:
    for client in clients:
        resource = resolve_attr(client, path)
        for name in SURFACE_014[path]:
            assert callable(getattr(resource, name, None)), f"{type(client).__name__}.{path}.{name}"


def test_0_1_4_positional_signatures_are_kept() -> None:
    from meshapi.resources import batches, rag, templates

    for cls in (batches.BatchesResource, batches.AsyncBatchesResource):
        params = inspect.signature(cls.list).parameters
        assert params["after"].kind is inspect.Parameter.KEYWORD_ONLY and params["after"].default is None
        assert params["limit"].kind is inspect.Parameter.KEYWORD_ONLY and params["limit"].default is None
    for cls in (rag.RagResource, rag.AsyncRagResource):
        names = list(inspect.signature(cls.list).parameters)
        assert names[1:3] == ["limit", "offset"]  # positional allowed, as at 0.1.4
        upload = inspect.signature(cls.upload_file).parameters
        assert all(
            upload[n].kind is inspect.Parameter.KEYWORD_ONLY
            for n in ("file_name", "mime_type", "content", "embed", "metadata")
        )
    for cls in (templates.TemplatesResource, templates.AsyncTemplatesResource):
        assert list(inspect.signature(cls.update).parameters)[1:3] == ["template_id", "params"]


# Beyond resources: the clients, every stream class, realtime sessions and the raw-response views.
# Known, intended differences only: the async side closes with ``aclose`` (and keeps aliases), the
# async realtime ``stream_audio`` also takes an async iterable, and async ``connect`` returns an
# awaitable context manager (0.1.4).
ASYNC_ONLY = {"aclose", "aiter_bytes", "aiter_lines"}
SYNC_ONLY = {"close"}
SIGNATURE_EXCEPTIONS = {("RealtimeSession", "stream_audio"), ("RealtimeResource", "connect")}


def _twin_classes() -> List[Tuple[type, type]]:
    from meshapi import _response, _streaming
    from meshapi.lib import chat, compare, images, responses

    pairs: List[Tuple[type, type]] = [
        (MeshAPI, AsyncMeshAPI),
        (_streaming.Stream, _streaming.AsyncStream),
        (chat.ChatCompletionStream, chat.AsyncChatCompletionStream),
        (compare.CompareStream, compare.AsyncCompareStream),
        (images.ImageStream, images.AsyncImageStream),
        (responses.ResponsesStream, responses.AsyncResponsesStream),
        (_response.StreamedResponse, _response.AsyncStreamedResponse),
    ]
    if "realtime" in RESOURCES:
        from meshapi.resources import realtime

        pairs += [(realtime.RealtimeSession, realtime.AsyncRealtimeSession)]
        pairs += [(realtime.RealtimeResource, realtime.AsyncRealtimeResource)]
    return pairs


def _functions(cls: type) -> Dict[str, Callable[..., Any]]:
    return {n: v for n, v in inspect.getmembers(cls, inspect.isfunction) if not n.startswith("_")}


@pytest.mark.parametrize(("sync_cls", "async_cls"), _twin_classes(), ids=lambda c: c.__name__)
def test_clients_streams_and_sessions_are_twins(sync_cls: type, async_cls: type) -> None:
    sync_methods, async_methods = _functions(sync_cls), _functions(async_cls)
    assert set(sync_methods) - set(async_methods) <= SYNC_ONLY, sync_cls.__name__
    assert set(async_methods) - set(sync_methods) <= ASYNC_ONLY, async_cls.__name__
    assert sync_methods, sync_cls.__name__
    for name in set(sync_methods) & set(async_methods):
        if (sync_cls.__name__, name) in SIGNATURE_EXCEPTIONS:
            continue
        assert describe(sync_methods[name]) == describe(async_methods[name]), f"{sync_cls.__name__}.{name}"
        assert not inspect.iscoroutinefunction(sync_methods[name]), f"{sync_cls.__name__}.{name}"
