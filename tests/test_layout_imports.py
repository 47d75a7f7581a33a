"""The import contract, checked on the source itself: which module may import which.

Why this exists: lazy imports (inside a function, under ``if TYPE_CHECKING:``, or by name through a
lazy ``__getattr__`` table) keep a circle from failing at import time, so a circle can grow unseen. This
test reads every module of the SDK (and of the gateway) with ``ast``, takes every import wherever it is
written, and checks the rules on the resulting graph:

- no circle between modules (each one is reported as a chain ``a -> b -> a``);
- the gateway imports nothing of ``meshapi``;
- ``meshapi._core`` (pure code) imports no private module or name of httpx/httpcore and touches no
  private attribute of their objects;
- a resource module imports no other resource module (the package's private ``_base``-like modules
  aside) and no shim;
- a resource module stays within the project's size limit (its parts move to private modules);
- nothing inside ``meshapi`` imports the 0.1.4/0.1.12 shims ``meshapi._http`` / ``meshapi._types``.

Nothing here names today's modules: packages, shims and rules are found from the tree on disk, so the
test keeps working while modules move.
"""

from __future__ import annotations

import ast
import importlib.util
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Set, Tuple

ROOT = Path(__file__).resolve().parent.parent
SDK = "meshapi"
GATEWAY_PACKAGE = "meshapi_gateway"
# The import paths kept for users of 0.1.4 / 0.1.12 only: pure re-exports, never imported inside the SDK.
SHIMS = ("meshapi._http", "meshapi._types")
FOREIGN_PRIVATE_ROOTS = ("httpx", "httpcore")


@dataclass
class Module:
    name: str
    path: Path
    is_package: bool
    tree: ast.Module
    # (imported module, line): every import written anywhere in the module
    imports: List[Tuple[str, int]] = field(default_factory=list)


def _module_name(path: Path) -> Tuple[str, bool]:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def _discover() -> Dict[str, Module]:
    modules: Dict[str, Module] = {}
    for top in (SDK, GATEWAY_PACKAGE):
        if not (ROOT / top / "__init__.py").exists():
            continue
        for path in sorted((ROOT / top).rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            name, is_package = _module_name(path)
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            modules[name] = Module(name, path, is_package, tree)
    return modules


def _absolute(module: Module, level: int, target: Optional[str]) -> str:
    """``from ..x import y`` written in ``module`` -> the absolute name of ``..x``."""
    if level == 0:
        return target or ""
    package = module.name if module.is_package else module.name.rpartition(".")[0]
    parts = package.split(".")
    base = parts[: len(parts) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def _docstring_nodes(tree: ast.Module) -> Set[int]:
    ids: Set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        first = body[0] if isinstance(body, list) and body else None
        if (
            isinstance(first, ast.Expr)
            and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)
        ):
            ids.add(id(first.value))
    return ids


def _raw_imports(module: Module, known: Set[str]) -> Iterator[Tuple[str, int]]:
    """Every module named by an import statement anywhere in the file (functions and TYPE_CHECKING
    blocks included), plus dotted string literals that name one of our modules (lazy tables)."""
    docstrings = _docstring_nodes(module.tree)
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, node.level, node.module)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                if submodule in known or _is_foreign_module(submodule):
                    yield submodule, node.lineno  # `from pkg import submodule`
                else:
                    yield base, node.lineno  # a name of pkg (its __init__ re-exports count)
                    yield f"{base}:{alias.name}", node.lineno  # kept for the foreign-private rule
        elif _names_a_module(node, known) and id(node) not in docstrings:
            yield str(node.value), node.lineno  # importlib.import_module / lazy __getattr__ tables


def _names_a_module(node: ast.AST, known: Set[str]) -> bool:
    """A string literal that is the dotted name of one of our modules (a bare package name such as
    ``"meshapi"`` is more often a logger name, so it does not count)."""
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and "." in node.value
        and node.value in known
    )


def _is_foreign_module(name: str) -> bool:
    if not name.startswith(FOREIGN_PRIVATE_ROOTS):
        return False
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _graph() -> Tuple[Dict[str, Module], Dict[str, Set[str]]]:
    modules = _discover()
    known = set(modules)
    edges: Dict[str, Set[str]] = {name: set() for name in modules}
    for module in modules.values():
        module.imports = list(_raw_imports(module, known))
        for target, _ in module.imports:
            if target in known and target != module.name:
                edges[module.name].add(target)
    return modules, edges


MODULES, EDGES = _graph()


def _in(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


# -- cycles ---------------------------------------------------------------------------------------


def _strongly_connected(edges: Dict[str, Set[str]]) -> List[List[str]]:
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on_stack: Set[str] = set()
    components: List[List[str]] = []

    def visit(start: str) -> None:  # iterative Tarjan (no recursion limit on a deep graph)
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        components.append(sorted(component))

    for name in sorted(edges):
        if name not in index:
            visit(name)
    return components


def _shortest_path(edges: Dict[str, Set[str]], start: str, goal: str, inside: Set[str]) -> List[str]:
    previous: Dict[str, str] = {}
    queue = deque([start])
    seen = {start}
    while queue:
        node = queue.popleft()
        if node == goal:
            path = [node]
            while path[-1] != start:
                path.append(previous[path[-1]])
            return path[::-1]
        for child in sorted(edges[node] & inside):
            if child not in seen:
                seen.add(child)
                previous[child] = node
                queue.append(child)
    return []


def find_cycles(edges: Dict[str, Set[str]]) -> List[str]:
    """One chain per distinct circle: for each edge inside a strongly connected group, the shortest
    way back; circles through the same modules in another rotation are reported once."""
    chains: List[str] = []
    for component in _strongly_connected(edges):
        inside = set(component)
        seen: Set[Tuple[str, ...]] = set()
        for source in component:
            for target in sorted(edges[source] & inside):
                back = _shortest_path(edges, target, source, inside)
                cycle = [source, *back]  # source -> target ... -> source
                members = cycle[:-1]
                first = members.index(min(members))
                key = tuple(members[first:] + members[:first])
                if key not in seen:
                    seen.add(key)
                    chains.append(" -> ".join([*key, key[0]]))
    return sorted(chains)


def test_no_import_cycles() -> None:
    cycles = find_cycles(EDGES)
    assert not cycles, "import circles (lazy and TYPE_CHECKING imports included):\n  " + "\n  ".join(cycles)


def test_the_graph_is_real() -> None:
    """A guard that reads nothing passes everything: the graph must see the SDK's main arrows."""
    assert len(MODULES) > 50
    assert sum(len(targets) for targets in EDGES.values()) > 100
    client = next(name for name in MODULES if name.endswith("._client"))
    assert EDGES[client], "the client module imports nothing?"


def test_the_cycle_finder_reports_chains() -> None:
    edges = {"a": {"b"}, "b": {"a", "c"}, "c": {"d"}, "d": {"b"}, "e": {"a"}}
    assert find_cycles(edges) == ["a -> b -> a", "b -> c -> d -> b"]


# -- layering rules -------------------------------------------------------------------------------


def _violations(modules: Dict[str, Module], owner: str, banned: Callable[[str, str], str]) -> List[str]:
    out = []
    for module in modules.values():
        if not _in(module.name, owner):
            continue
        for target, line in module.imports:
            if ":" in target and not _foreign_private(target):
                continue  # `from pkg import name` is judged by its module entry
            reason = banned(module.name, target)
            if reason:
                out.append(
                    f"{module.path.relative_to(ROOT)}:{line} imports {target.replace(':', '.')} ({reason})"
                )
    return sorted(set(out))


def _gateway_package() -> Optional[str]:
    if GATEWAY_PACKAGE in MODULES:
        return GATEWAY_PACKAGE
    inside = f"{SDK}.gateway"  # before the move, the gateway still lives inside the SDK package
    return inside if inside in MODULES else None


def test_the_gateway_imports_nothing_of_meshapi() -> None:
    gateway = _gateway_package()
    assert gateway, "no gateway package found"

    def banned(_: str, target: str) -> str:
        name = target.split(":")[0]
        if _in(name, SDK) and not _in(name, gateway):
            return "the gateway shares no code with the SDK"
        return ""

    problems = _violations(MODULES, gateway, banned)
    assert not problems, "\n".join(problems)


def _foreign_private(target: str) -> bool:
    module, _, name = target.partition(":")
    if not module.startswith(FOREIGN_PRIVATE_ROOTS):
        return False
    parts = module.split(".") + ([name] if name else [])
    return any(part.startswith("_") and not part.startswith("__") for part in parts)


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _mentions_foreign(node: Optional[ast.expr]) -> bool:
    """An annotation or a call that names an httpx/httpcore type (``httpx.Response``, ``"httpx.Client"``)."""
    if node is None:
        return False
    text = ast.unparse(node)
    return any(
        text.startswith(root + ".") or f"[{root}." in text or f"'{root}." in text
        for root in FOREIGN_PRIVATE_ROOTS
    )


def _foreign_typed_names(function: ast.AST) -> Set[str]:
    """Names in ``function`` that hold an httpx/httpcore object, as far as the source says so: an
    annotated parameter or variable, or a variable assigned from ``httpx.X(...)``."""
    names: Set[str] = set()
    if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
        arguments = function.args
        for arg in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]:
            if _mentions_foreign(arg.annotation):
                names.add(arg.arg)
    for node in ast.walk(function):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and _mentions_foreign(node.annotation)
        ):
            names.add(node.target.id)
        elif (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call)
            and _mentions_foreign(node.value.func)
        ):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def test_core_touches_no_private_of_httpx_or_httpcore() -> None:
    core = f"{SDK}._core"
    problems = _violations(
        MODULES, core, lambda _, t: "a private of httpx/httpcore" if _foreign_private(t) else ""
    )
    for module in MODULES.values():
        if not _in(module.name, core):
            continue
        scopes = [
            module.tree,
            *(n for n in ast.walk(module.tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))),
        ]
        for scope in scopes:
            typed = _foreign_typed_names(scope)
            for node in ast.walk(scope):
                if not (isinstance(node, ast.Attribute) and _is_private(node.attr)):
                    continue
                base = node.value
                if (isinstance(base, ast.Name) and base.id in typed) or (
                    isinstance(base, ast.Call) and _mentions_foreign(base.func)
                ):
                    where = f"{module.path.relative_to(ROOT)}:{node.lineno}"
                    problems.append(
                        f"{where} uses {ast.unparse(node)} (a private attribute of an httpx/httpcore object)"
                    )
    assert not problems, "\n".join(sorted(set(problems)))


def _is_self(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id in ("self", "cls")


def test_resources_import_neither_each_other_nor_the_shims() -> None:
    resources = f"{SDK}.resources"
    assert resources in MODULES, "no resources package"

    def banned(source: str, target: str) -> str:
        name = target.split(":")[0]
        if name in SHIMS or any(_in(name, shim) for shim in SHIMS):
            return "a shim kept for users only"
        # a resource is a public module of the package; private ones (``_base``...) are what they share
        if (
            _in(name, resources)
            and name not in (resources, source)
            and not name.rpartition(".")[2].startswith("_")
        ):
            return "resources do not import one another"
        return ""

    problems = _violations(MODULES, resources, banned)
    assert not problems, "\n".join(problems)


# A resource module grows with each endpoint; past what a reader takes in at once, its parts move to
# private modules of the package (``_base``, ``_lazy``, the ``run_tools`` mixins), which the rule above
# lets every resource share.
RESOURCE_MODULE_MAX_LINES = 450


def test_resource_modules_stay_within_the_size_limit() -> None:
    """Resources, the transport and the client settings: split into a module of its own, not grown."""
    resources, transport, config = f"{SDK}.resources", f"{SDK}._transport", f"{SDK}._config"
    sizes = {
        name: len(module.path.read_text(encoding="utf-8").splitlines())
        for name, module in MODULES.items()
        if (_in(name, resources) and name != resources) or _in(name, transport) or name == config
    }
    assert len([n for n in sizes if _in(n, resources)]) > 10, (
        f"the resource modules were not found: {sorted(sizes)}"
    )
    assert len([n for n in sizes if _in(n, transport)]) > 10, (
        f"the transport modules were not found: {sorted(sizes)}"
    )
    assert config in sizes, f"{config} was not found: {sorted(sizes)}"
    too_long = {name: lines for name, lines in sizes.items() if lines > RESOURCE_MODULE_MAX_LINES}
    assert not too_long, f"over {RESOURCE_MODULE_MAX_LINES} lines (split into private modules): {too_long}"


def test_no_module_of_the_sdk_or_the_gateway_is_over_the_size_limit() -> None:
    """The same limit everywhere (types, lib, the gateway): a module a reader can take in at once."""
    sizes = {
        name: len(module.path.read_text(encoding="utf-8").splitlines()) for name, module in MODULES.items()
    }
    assert len([n for n in sizes if _in(n, GATEWAY_PACKAGE)]) > 20, "the gateway's modules were not found"
    assert len([n for n in sizes if _in(n, f"{SDK}.types")]) > 10, "the types modules were not found"
    too_long = {name: lines for name, lines in sizes.items() if lines > RESOURCE_MODULE_MAX_LINES}
    assert not too_long, f"over {RESOURCE_MODULE_MAX_LINES} lines (split into private modules): {too_long}"


def test_nothing_inside_the_sdk_imports_the_shims() -> None:
    present = [shim for shim in SHIMS if shim in MODULES]
    assert present, "the 0.1.4/0.1.12 shims are gone? they are public import paths"

    def banned(source: str, target: str) -> str:
        name = target.split(":")[0]
        if source in SHIMS:
            return ""  # a shim may re-export another shim's names
        return "a shim kept for users only" if name in SHIMS else ""

    problems = _violations(MODULES, SDK, banned)
    assert not problems, "\n".join(problems)
