"""Every resource method that sends has its typed ``with_raw_response`` / ``with_streaming_response`` line.

Why this exists: the views' types are declared by hand (one ``view(...)`` line per method, in a ``Views``
class per resource module: ``meshapi/resources/_base.py`` says why), while the run-time proxies forward
any method. Without a check, a new method would work raw at run time but be unknown to the type
checker, or a line could name the wrong twin. The list of resources comes from the parity walk of
``MeshAPI`` / ``AsyncMeshAPI`` (``test_parity.TWINS``); the methods and sub-resources expected of each
come from the classes themselves.
"""

from __future__ import annotations

import asyncio
import collections.abc
import inspect
import sys
import typing
from typing import Any, Dict, List, Optional, Tuple

import pytest

from meshapi import AsyncMeshAPI, MeshAPI
from meshapi.lib.bulk import MapResult
from meshapi.lib.tool_runner import RunnerBase
from meshapi.resources._base import (
    AsyncAPIResource,
    AsyncRaw,
    AsyncStreaming,
    M,
    NamedViews,
    Raw,
    Streaming,
    SubViews,
    SyncAPIResource,
    ViewMethod,
    Views,
)
from meshapi.resources.chat import AsyncCompletionsResource, CompletionsResource
from tests.unit.test_parity import TWINS

RESOURCES = [twin for twin in TWINS if issubclass(twin[1], SyncAPIResource)]


def declared_views(cls: type) -> Tuple[Optional[type], Tuple[Any, ...]]:
    """The ``Views`` class a resource names in its base (``SyncAPIResource["XViews[Raw]", ...]``) and
    the modes it applies, or ``(None, ())`` when the base is not subscripted."""
    for base in getattr(cls, "__orig_bases__", ()):
        if isinstance(base, NamedViews):
            namespace = vars(sys.modules[cls.__module__])
            applied = [eval(name, namespace) for name in base.views]
            origins = {typing.get_origin(a) for a in applied}
            assert len(origins) == 1, f"{cls.__name__}: two Views classes {origins}"
            return origins.pop(), tuple(typing.get_args(a)[0] for a in applied)
    return None, ()


def _sends(function: Any) -> bool:
    """False for a method returning an iterator (``iter_batches``) or a tool runner (``run_tools``): it
    sends nothing when called, so a raw view of it could only fail; and for ``map``'s list of results."""
    hints = typing.get_type_hints(function)
    returned = hints.get("return")
    options = typing.get_args(returned) if typing.get_origin(returned) is typing.Union else (returned,)
    classes = [typing.get_origin(option) or option for option in options]  # ToolRunner[X] -> ToolRunner
    if all(isinstance(option, type) and issubclass(option, RunnerBase) for option in classes):
        return False
    if all(option is list for option in classes) and MapResult in typing.get_args(options[0]):
        return False  # a bulk run (``map``): one result per request, no one raw response to view
    origin = typing.get_origin(returned)
    return origin not in (collections.abc.Iterator, collections.abc.AsyncIterator)


def _methods(cls: type) -> Dict[str, Any]:
    return {
        name: function
        for name, function in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_") and _sends(function)
    }


def view_problems(sync_cls: type, async_cls: type, subresources: Dict[str, Tuple[type, type]]) -> List[str]:
    """Every way the twins' declared views differ from their methods and sub-resources."""
    name = sync_cls.__name__
    views, modes = declared_views(sync_cls)
    async_views, async_modes = declared_views(async_cls)
    if views is None or async_views is None:
        return [f"{name}: no Views named in the base class of both twins"]
    problems = []
    if views is not async_views:
        problems.append(f"{name}: the twins name different Views ({views.__name__}, {async_views.__name__})")
    if modes != (Raw, Streaming) or async_modes != (AsyncRaw, AsyncStreaming):
        problems.append(f"{name}: modes {modes} / {async_modes}")
    if not issubclass(views, Views):
        problems.append(f"{views.__name__} is not a Views class")
    lines = {k: v for k, v in vars(views).items() if isinstance(v, (ViewMethod, SubViews))}
    expected = set(_methods(sync_cls)) | set(subresources)
    if set(lines) != expected:
        problems.append(
            f"{views.__name__}: missing {sorted(expected - set(lines))}, extra {sorted(set(lines) - expected)}"
        )
    for attr, line in sorted(lines.items()):
        if isinstance(line, ViewMethod):
            twins = (getattr(sync_cls, attr, None), getattr(async_cls, attr, None))
        else:
            twins = subresources.get(attr, (None, None))
        if (line.sync, line.async_) != twins:
            problems.append(f"{views.__name__}.{attr} names {line.sync}, {line.async_}, not {twins}")
    return problems


def _subresources(path: str) -> Dict[str, Tuple[type, type]]:
    prefix = path + "."
    return {
        child[len(prefix) :]: (sync_cls, async_cls)
        for child, sync_cls, async_cls, *_ in RESOURCES
        if child.startswith(prefix) and "." not in child[len(prefix) :]
    }


@pytest.mark.parametrize(
    ("path", "sync_cls", "async_cls", "_a", "_b"), RESOURCES, ids=[t[0] for t in RESOURCES]
)
def test_every_method_that_sends_has_its_typed_views(
    path: str, sync_cls: type, async_cls: type, _a: Any, _b: Any
) -> None:
    problems = view_problems(sync_cls, async_cls, _subresources(path))
    assert not problems, "\n".join(problems)


def test_the_walk_reaches_the_resources() -> None:
    paths = {path for path, *_ in RESOURCES}
    assert {"chat", "chat.completions", "embeddings", "batches", "rag", "audio", "videos"} <= paths
    assert _subresources("chat") == {"completions": (CompletionsResource, AsyncCompletionsResource)}
    assert _subresources("embeddings") == {}


def test_the_check_sees_a_missing_line_and_a_wrong_twin() -> None:
    class WidgetViews(Views[M]):
        pass

    class Widget(SyncAPIResource["WidgetViews[Raw]", "WidgetViews[Streaming]"]):
        def make(self) -> int:
            """Make one."""
            raise NotImplementedError

    class AsyncWidget(AsyncAPIResource["WidgetViews[AsyncRaw]", "WidgetViews[AsyncStreaming]"]):
        async def make(self) -> int:
            """Make one."""
            raise NotImplementedError

    namespace = vars(sys.modules[__name__])
    namespace["WidgetViews"] = WidgetViews
    try:
        assert view_problems(Widget, AsyncWidget, {}) == ["WidgetViews: missing ['make'], extra []"]
        WidgetViews.make = ViewMethod(Widget.make, Widget.make)  # type: ignore[attr-defined]
        (problem,) = view_problems(Widget, AsyncWidget, {})
        assert problem.startswith("WidgetViews.make names")
    finally:
        del namespace["WidgetViews"]


@pytest.fixture(scope="module")
def clients() -> Any:
    sync = MeshAPI(base_url="http://127.0.0.1:9", token="rsk_views_token")
    asyn = AsyncMeshAPI(base_url="http://127.0.0.1:9", token="rsk_views_token")
    yield sync, asyn
    sync.close()
    asyncio.run(asyn.aclose())


def _resolve(obj: Any, path: str) -> Any:
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


@pytest.mark.parametrize(
    ("path", "sync_cls", "async_cls", "_a", "_b"), RESOURCES, ids=[t[0] for t in RESOURCES]
)
def test_the_run_time_views_serve_the_declared_lines(
    clients: Tuple[Any, Any], path: str, sync_cls: type, async_cls: type, _a: Any, _b: Any
) -> None:
    """What the type checker is told is what the proxies do: each declared method is the resource's own
    method wrapped, each declared sub-resource a view of the sub-resource."""
    views, _ = declared_views(sync_cls)
    assert views is not None
    for client in clients:
        resource = _resolve(client, path)
        for view_name in ("with_raw_response", "with_streaming_response"):
            proxy = getattr(resource, view_name)
            for attr, line in vars(views).items():
                if isinstance(line, ViewMethod):
                    wrapped = getattr(proxy, attr).__wrapped__
                    assert wrapped.__func__ is getattr(type(resource), attr), f"{path}.{view_name}.{attr}"
                elif isinstance(line, SubViews):
                    sub = getattr(proxy, attr)
                    assert sub._resource is getattr(resource, attr), f"{path}.{view_name}.{attr}"
