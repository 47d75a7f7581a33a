"""Sync and async twins expose the same surface, derived from the two client objects themselves.

Why this exists: a hand-kept list of resources lets a new resource (or a new method) escape the check.
Here the list comes from walking ``MeshAPI`` and ``AsyncMeshAPI``: every public attribute whose value is
one of the SDK's twin objects (``client.chat``, ``client.chat.completions``, ``client.rag``...) is a
resource, and every public method on it is compared with its twin: parameter names, kinds, defaults,
annotations, return annotation (``Async``-prefixed names and awaitable returns normalised), the
``@overload`` variants, the keys and types of a ``**kwargs: Unpack[SomeTypedDict]``, and the docstring.
Separately, every 0.1.4 method of SURFACE.md §3 must still exist.
"""

from __future__ import annotations

import asyncio
import inspect
import re
import typing
from typing import Any, AsyncIterator, Callable, Dict, List, Optional, Set, Tuple

import pytest

from meshapi import AsyncMeshAPI, MeshAPI

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

# The intended differences between twins: async streams and sessions close with ``aclose``; the async
# client has both ``aclose`` and an awaitable ``close`` (openai-python's name).
ASYNC_ONLY = {"aclose", "aiter_bytes", "aiter_lines"}
SYNC_ONLY = {"close"}


def _twin_name(name: str) -> str:
    """``AsyncChatResource`` / ``ChatResource`` / ``SyncProxy`` -> ``ChatResource`` / ``Proxy``."""
    return re.sub(r"^_?(Async|Sync)(?=[A-Z])", "", name)


def _is_sdk_object(value: Any) -> bool:
    return type(value).__module__.split(".")[0] == "meshapi" and not isinstance(value, type)


def _is_forwarder(value: Any) -> bool:
    """A proxy (``with_raw_response``) has no methods of its own: it forwards to the resource's."""
    return any("__getattr__" in vars(klass) for klass in type(value).__mro__)


def _members(obj: Any) -> Tuple[Dict[str, Callable[..., Any]], Dict[str, Any]]:
    """Public methods (from the class) and public attribute values (properties, instance attributes)."""
    methods: Dict[str, Callable[..., Any]] = {}
    values: Dict[str, Any] = {}
    for name in dir(obj):
        if name.startswith("_"):
            continue
        static = inspect.getattr_static(obj, name)
        if isinstance(static, (staticmethod, classmethod)):
            methods[name] = static.__func__
        elif inspect.isfunction(static):
            methods[name] = static
        else:
            values[name] = getattr(obj, name)
    return methods, values


def walk_twins(sync: Any, asyn: Any, path: str = "") -> List[Tuple[str, Any, Any]]:
    """Every (path, sync object, async object) reachable from the two clients through public attributes
    whose values are SDK twin objects (the same class name once ``Async`` is removed)."""
    found: List[Tuple[str, Any, Any]] = [(path or type(sync).__name__, sync, asyn)]
    seen: Set[int] = {id(sync)}
    queue = [(path, sync, asyn)]
    while queue:
        prefix, left, right = queue.pop(0)
        _, left_values = _members(left)
        _, right_values = _members(right)
        for name in sorted(left_values):
            a, b = left_values[name], right_values.get(name)
            if not (_is_sdk_object(a) and _is_sdk_object(b)) or type(a) is type(b) or id(a) in seen:
                continue  # shared settings objects, strings, numbers: not twins
            if _is_forwarder(a) or _is_forwarder(b):
                continue
            assert _twin_name(type(a).__name__) == _twin_name(type(b).__name__), f"{prefix}{name}"
            seen.add(id(a))
            child = f"{prefix}{name}"
            found.append((child, a, b))
            queue.append((child + ".", a, b))
    return found


def _build_twins() -> List[Tuple[str, type, type, List[str], List[str]]]:
    """Walk real clients once at collection; keep classes and attribute names, close the clients."""
    sync = MeshAPI(base_url="http://127.0.0.1:9", token="rsk_parity_token")
    asyn = AsyncMeshAPI(base_url="http://127.0.0.1:9", token="rsk_parity_token")
    try:
        return [
            (path, type(a), type(b), sorted(_members(a)[1]), sorted(_members(b)[1]))
            for path, a, b in walk_twins(sync, asyn)
        ]
    finally:
        sync.close()
        asyncio.run(asyn.aclose())


TWINS = _build_twins()
PATHS = [path for path, *_ in TWINS]


# -- how a method is described ---------------------------------------------------------------------

_AWAITABLE = re.compile(
    r"^(?:typing\.)?(?:Awaitable|Coroutine)\[(?:(?:Any|typing\.Any), (?:Any|typing\.Any), )?(.*)\]$"
)


def _norm(annotation: Any) -> str:
    """An annotation with the sync/async naming difference removed (``AsyncStream`` -> ``Stream``)."""
    if annotation is inspect.Parameter.empty:
        return "<none>"
    text = annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)
    text = re.sub(r"\b_?Async(?=[A-Z])", "", text)
    match = _AWAITABLE.match(text)
    return match.group(1) if match else text


def _resolve(function: Callable[..., Any], annotation: Any) -> Any:
    """An annotation string evaluated where the function was written (``None`` if it cannot be)."""
    if not isinstance(annotation, str):
        return annotation
    namespace = dict(vars(typing))
    namespace.update(getattr(function, "__globals__", {}))
    try:
        return eval(annotation, namespace)
    except Exception:
        return None


def _return(function: Callable[..., Any]) -> str:
    """The return annotation; an awaitable context manager (async ``realtime.connect``) counts as what
    it gives when awaited, as a coroutine's return does."""
    annotation = inspect.signature(function).return_annotation
    resolved = _resolve(function, annotation)
    if isinstance(resolved, type) and hasattr(resolved, "__await__") and hasattr(resolved, "__aenter__"):
        return _norm(inspect.signature(resolved.__aenter__).return_annotation)
    return _norm(annotation)


def _typed_dict(function: Callable[..., Any], annotation: Any) -> Optional[List[Tuple[str, bool, str]]]:
    """``Unpack[SomeTypedDict]`` -> its (key, required, type) rows; ``None`` for any other annotation."""
    text = annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)
    if "Unpack[" not in text:
        return None
    resolved = _resolve(function, annotation)
    assert resolved is not None, f"{function.__qualname__}: cannot resolve {text}"
    (typed_dict,) = typing.get_args(resolved)
    hints = typing.get_type_hints(typed_dict, include_extras=True)
    required = getattr(typed_dict, "__required_keys__", frozenset())
    return [(key, key in required, _norm(hints[key])) for key in sorted(hints)]


def describe(function: Callable[..., Any]) -> List[Tuple[Any, ...]]:
    signature = inspect.signature(function)  # honours __signature__
    rows: List[Tuple[Any, ...]] = []
    for p in signature.parameters.values():
        rows.append((p.name, p.kind, p.default, _norm(p.annotation)))
        if p.kind is inspect.Parameter.VAR_KEYWORD:
            rows.append((f"**{p.name} keys", _typed_dict(function, p.annotation)))
    rows.append(("return", _return(function)))
    return rows


def _overloads(function: Callable[..., Any]) -> List[Callable[..., Any]]:
    get = getattr(typing, "get_overloads", None)  # Python 3.11+
    return list(get(function)) if get else []


def _returns_async_object(function: Callable[..., Any]) -> bool:
    """A plain ``def`` on the async side is right when it hands back an async object to iterate or
    await (``AsyncStream``, ``AsyncIterator``, an awaitable manager)."""
    annotation = inspect.signature(function).return_annotation
    text = annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)
    if re.search(r"Async[A-Z]", text):
        return True
    resolved = _resolve(function, annotation)
    return isinstance(resolved, type) and hasattr(resolved, "__await__")


def _difference(left: List[Tuple[Any, ...]], right: List[Tuple[Any, ...]]) -> str:
    """The rows that differ, ``sync != async``, or the parameters only one side has."""
    pairs = [f"{a} != {b}" for a, b in zip(left, right) if a != b]
    if len(left) != len(right):
        pairs.append(f"extra: {left[len(right) :] or right[len(left) :]}")
    return "; ".join(pairs)


def compare_twins(path: str, sync_cls: type, async_cls: type) -> List[str]:
    """Every difference between two twin classes' public methods, as readable lines."""
    sync_methods, _ = _members(sync_cls)
    async_methods, _ = _members(async_cls)
    problems = []
    only_sync = set(sync_methods) - set(async_methods) - SYNC_ONLY
    only_async = set(async_methods) - set(sync_methods) - ASYNC_ONLY
    if only_sync or only_async:
        problems.append(f"{path}: only sync {sorted(only_sync)}, only async {sorted(only_async)}")
    for name in sorted(set(sync_methods) & set(async_methods)):
        left, right = sync_methods[name], async_methods[name]
        where = f"{path}.{name}"
        if describe(left) != describe(right):
            problems.append(f"{where}: signatures differ: {_difference(describe(left), describe(right))}")
        left_overloads, right_overloads = _overloads(left), _overloads(right)
        if [describe(f) for f in left_overloads] != [describe(f) for f in right_overloads]:
            problems.append(f"{where}: @overload variants differ: {[describe(f) for f in right_overloads]}")
        if not inspect.getdoc(left):
            problems.append(f"{where}: no docstring")
        elif inspect.getdoc(left) != inspect.getdoc(right):
            problems.append(f"{where}: docstrings differ")
        if inspect.iscoroutinefunction(left):
            problems.append(f"{where}: the sync method is a coroutine function")
        if not inspect.iscoroutinefunction(right) and not _returns_async_object(right):
            problems.append(
                f"{where}: the async twin neither is a coroutine function nor returns an async object"
            )
    return problems


@pytest.mark.parametrize(("path", "sync_cls", "async_cls", "sync_attrs", "async_attrs"), TWINS, ids=PATHS)
def test_twins_have_the_same_methods_signatures_and_docstrings(
    path: str, sync_cls: type, async_cls: type, sync_attrs: List[str], async_attrs: List[str]
) -> None:
    assert sync_attrs == async_attrs, f"{path}: public attributes differ"
    problems = compare_twins(path, sync_cls, async_cls)
    assert not problems, "\n".join(problems)


def test_the_walk_reaches_every_resource() -> None:
    """The derived list is not empty by accident: each 0.1.4 resource is reached, and every resource
    reached has methods or sub-resources."""
    assert set(SURFACE_014) <= set(PATHS), sorted(set(SURFACE_014) - set(PATHS))
    children = {path.rpartition(".")[0] for path in PATHS if "." in path}
    for path, sync_cls, _, _, _ in TWINS:
        assert _members(sync_cls)[0] or path in children, f"{path}: no methods and no sub-resources"


def test_the_comparison_sees_a_drift() -> None:
    """The comparison itself can fail: a twin whose parameter default drifted is reported."""

    class Widget:
        def create(self, name: str, *, limit: int = 10) -> Widget:
            """Make one."""
            raise NotImplementedError

    class AsyncWidget:
        async def create(self, name: str, *, limit: int = 20) -> AsyncWidget:
            """Make one."""
            raise NotImplementedError

    problems = compare_twins("widgets", Widget, AsyncWidget)
    assert len(problems) == 1 and "widgets.create: signatures differ" in problems[0]


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


@pytest.mark.parametrize("path", sorted(SURFACE_014))
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


# Beyond what the clients' attributes reach: every stream class, realtime sessions and the raw-response
# views (what resource methods return). Known, intended difference: the async realtime ``stream_audio``
# also takes an async iterable.
SIGNATURE_EXCEPTIONS = {("RealtimeSession", "stream_audio")}


def _twin_classes() -> List[Tuple[type, type]]:
    from meshapi import _response, _streaming
    from meshapi.lib import chat, compare, images, responses
    from meshapi.resources import realtime

    pairs: List[Tuple[type, type]] = [
        (_streaming.Stream, _streaming.AsyncStream),
        (chat.ChatCompletionStream, chat.AsyncChatCompletionStream),
        (compare.CompareStream, compare.AsyncCompareStream),
        (images.ImageStream, images.AsyncImageStream),
        (responses.ResponsesStream, responses.AsyncResponsesStream),
        (_response.StreamedResponse, _response.AsyncStreamedResponse),
        (realtime.RealtimeSession, realtime.AsyncRealtimeSession),
    ]
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
