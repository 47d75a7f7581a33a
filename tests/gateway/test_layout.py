"""The gateway's layout: its own package grouped by concern, importing nothing of the SDK and with no
import circle; one route module per SDK resource; the middlewares in their documented order; settings
declared once; and ``meshapi.gateway`` giving the very objects of ``meshapi_gateway`` (old paths too)."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Set

import httpx
import pytest
from starlette.routing import BaseRoute

import meshapi_gateway
from meshapi_gateway import GatewaySettings, create_app, serve
from meshapi_gateway.http import middleware
from meshapi_gateway.routes import MODULES, all_routes

PACKAGE = Path(meshapi_gateway.__file__).resolve().parent
GROUPS = {"fakes", "faults", "http", "realtime", "record", "routes", "store", "webhooks"}
TOP_MODULES = {"__init__.py", "__main__.py", "errors.py", "ids.py", "settings.py"}

# SDK resource -> a path its module must register (the endpoint is found by the SDK name).
_EXPECTED = {
    "chat": "/v1/chat/completions",
    "compare": "/v1/chat/compare",
    "responses": "/v1/responses",
    "embeddings": "/v1/embeddings",
    "images": "/v1/images/generations",
    "models": "/v1/models",
    "templates": "/v1/templates",
    "rag": "/v1/files",
    "batches": "/v1/batches",
    "realtime": "/v1/realtime",
}


def _paths(routes: list[BaseRoute]) -> set[str]:
    return {str(getattr(r, "path", "")) for r in routes}


@pytest.mark.parametrize("name", sorted(_EXPECTED))
def test_each_resource_module_registers_its_own_routes(name: str) -> None:
    module = importlib.import_module(f"meshapi_gateway.routes.{name}")
    assert module in MODULES
    assert _EXPECTED[name] in _paths(module.ROUTES)


def test_no_route_is_registered_twice_and_all_reach_the_app() -> None:
    seen = [(getattr(r, "path", ""), tuple(sorted(getattr(r, "methods", None) or ()))) for r in all_routes()]
    assert len(seen) == len(set(seen))
    app = create_app(["rsk_layout"])
    try:
        assert _paths(all_routes()) <= _paths(app.routes)
        assert "/_admin/faults" in _paths(app.routes)
    finally:
        app.state.gateway.close()


def test_settings_are_the_keywords_of_create_app_and_serve() -> None:
    app = create_app(["rsk_a"], latency=0.5, rpm=3, batch_step_seconds=1.5)
    try:
        state = app.state.gateway
        assert state.settings == GatewaySettings(tokens=["rsk_a"], latency=0.5, rpm=3, batch_step_seconds=1.5)
        assert state.latency == 0.5 and state.batch_step_seconds == 1.5 and state.limiter is not None
    finally:
        app.state.gateway.close()
    base = GatewaySettings(latency=0.25, admin_token="adm_fixed")
    with serve(["rsk_b"], settings=base, embed_step_seconds=0.5) as gw:
        assert gw.admin_token == "adm_fixed"
        assert gw.state.settings == dataclasses.replace(base, tokens=["rsk_b"], embed_step_seconds=0.5)
        assert gw.state.latency == 0.25


def test_an_unknown_setting_is_a_type_error_naming_it() -> None:
    with pytest.raises(TypeError, match="serve\\(\\) got an unexpected keyword argument 'latencyy'"):
        serve(latencyy=1.0)
    with pytest.raises(TypeError, match="create_app\\(\\) got an unexpected keyword argument 'bogus'"):
        create_app(bogus=1)


def test_routes_holds_resource_modules_and_private_shared_code_only() -> None:
    names = {p.stem for p in (PACKAGE / "routes").glob("*.py") if p.stem != "__init__"}
    public = {n for n in names if not n.startswith("_")}
    assert public == {m.__name__.rpartition(".")[2] for m in MODULES}


# -- the package: groups, docstrings, sizes, imports ---------------------------------------------------


def _modules() -> Dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def test_the_package_is_grouped_by_concern() -> None:
    groups = {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert groups == GROUPS
    assert {p.name for p in PACKAGE.glob("*.py")} == TOP_MODULES
    for group in GROUPS:
        assert (PACKAGE / group / "__init__.py").is_file(), group


@pytest.mark.parametrize("name", sorted(_modules()))
def test_every_module_says_why_it_exists_and_stays_small(name: str) -> None:
    path = _modules()[name]
    source = path.read_text(encoding="utf-8")
    assert ast.get_docstring(ast.parse(source)), f"{name} has no module docstring"
    assert source.count("\n") <= 450, f"{name} is over 450 lines"


def _imports(name: str, path: Path, known: Set[str]) -> Set[str]:
    """Every module ``name`` imports, wherever the statement is (functions, TYPE_CHECKING blocks)."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: Set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in known else target)
    return found


def _graph() -> Dict[str, Set[str]]:
    modules = _modules()
    return {name: _imports(name, path, set(modules)) for name, path in modules.items()}


def test_the_gateway_imports_nothing_of_the_sdk() -> None:
    offenders = {
        name: sorted(i for i in imports if i == "meshapi" or i.startswith("meshapi."))
        for name, imports in _graph().items()
    }
    assert {k: v for k, v in offenders.items() if v} == {}
    code = (
        "import sys, meshapi_gateway; print(sorted(m for m in sys.modules if m.split('.')[0] == 'meshapi'))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "[]"


def _cycles(graph: Dict[str, Set[str]]) -> List[List[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    edges = {m: sorted(d for d in deps if d in graph and d != m) for m, deps in graph.items()}
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    found: List[List[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in edges[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in edges:
        if node not in index:
            visit(node)
    return found


def test_no_import_circle_inside_the_gateway() -> None:
    graph = _graph()
    assert _cycles(graph) == []
    # the check itself can fail: a made-up circle is found
    assert _cycles({**graph, "meshapi_gateway.settings": {"meshapi_gateway.store.state"}}) != []


# -- the middlewares -----------------------------------------------------------------------------------


def test_middlewares_are_installed_in_the_documented_order() -> None:
    documented = re.findall(r"^\d+\. :class:`(\w+)`", middleware.__doc__ or "", re.M)
    assert documented == [cls.__name__ for cls in middleware.MIDDLEWARE]
    app = create_app(["rsk_layout"])
    try:
        layer = app.build_middleware_stack()
        installed = []
        while isinstance(layer, tuple(middleware.MIDDLEWARE)):
            installed.append(type(layer))
            layer = layer.app
        assert installed == list(middleware.MIDDLEWARE)
        assert type(layer).__module__.startswith("starlette.")  # then Starlette's own stack
    finally:
        app.state.gateway.close()


def test_streams_pass_the_middlewares_event_by_event() -> None:
    """Pure ASGI layers: each SSE event reaches the client when it is sent, not with the last one."""
    body = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "Tell me a story"}]}
    with serve(["rsk_stream"], latency=0.05) as gw, httpx.Client(base_url=gw.base_url, timeout=10) as client:
        headers = {"Authorization": "Bearer rsk_stream"}
        arrivals = []
        with client.stream(
            "POST", "/v1/chat/completions", json={**body, "stream": True}, headers=headers
        ) as r:
            assert r.status_code == 200 and r.headers["x-request-id"].startswith("req_")
            for line in r.iter_lines():
                if line.startswith("data: "):
                    arrivals.append(time.monotonic())
    assert len(arrivals) >= 6
    # the role and content events are each followed by a 0.05 s pause on the server (all but the
    # finish, usage and [DONE] events): buffered, they would all arrive at once
    assert arrivals[-1] - arrivals[0] >= 0.045 * (len(arrivals) - 3)


# -- meshapi.gateway: the 0.1.x import path ------------------------------------------------------------


def test_meshapi_gateway_re_exports_the_same_objects() -> None:
    import meshapi.gateway as old

    assert old.__all__ == meshapi_gateway.__all__
    for name in meshapi_gateway.__all__:
        assert getattr(old, name) is getattr(meshapi_gateway, name), name
    for previous, current in old.MOVED.items():
        module = importlib.import_module(f"meshapi_gateway.{current}")
        assert importlib.import_module(f"meshapi.gateway.{previous}") is module, previous
        assert getattr(old, previous) is module
    for module in MODULES:
        leaf = module.__name__.rpartition(".")[2]
        assert importlib.import_module(f"meshapi.gateway.routes.{leaf}") is module


def test_documented_old_paths_work_in_a_fresh_interpreter() -> None:
    code = (
        "from meshapi.gateway.routing import RoutingPolicy, parse_policy\n"
        "from meshapi.gateway.proxy import ProxySettings\n"
        "from meshapi.gateway.server import Gateway, main, serve\n"
        "from meshapi.gateway.faults import FaultPlan, RequestLog\n"
        "import meshapi.gateway.routes.chat, meshapi_gateway as new\n"
        "from meshapi_gateway.fakes import routing\n"
        "assert (RoutingPolicy, parse_policy) == (routing.RoutingPolicy, routing.parse_policy)\n"
        "assert ProxySettings is new.ProxySettings and main is new.main\n"
        "assert (Gateway, serve, FaultPlan, RequestLog) == (new.Gateway, new.serve, new.FaultPlan, new.RequestLog)\n"
        "assert meshapi.gateway.routes.chat is new.routes.chat\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("module", ["meshapi_gateway", "meshapi.gateway"])
def test_a_missing_extra_is_named_from_both_paths(module: str) -> None:
    code = (
        "import sys\n"
        "sys.modules['starlette'] = None  # as if the 'gateway' extra were not installed\n"
        "try:\n"
        f"    import {module}\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "needs the 'gateway' extra: pip install 'meshapi[gateway]'" in done.stdout
