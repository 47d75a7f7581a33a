"""The README's Python blocks and every script in examples/ pass ``mypy --strict``, in one mypy run.

A reader copies these into typed code bases; a ``None`` check needed only because of a loose type, or an
example that does not type-check, is a defect of the SDK or of the example.

README blocks run in order in one namespace (tests/test_readme.py), so a block may use a name an
earlier block bound (``client``, ``Trip``, ``serve``...). Each block becomes its own module whose first
line brings in exactly those names: the earlier block's import statement when the name came from an
import, else ``from <earlier block> import name``. Line N of a block's module is line N - 1 of the
block's code, so an error is reported at its README line.
"""

from __future__ import annotations

import ast
import builtins
import importlib.util
import re
import subprocess
import symtable
import sys
from pathlib import Path
from typing import Dict, List, Set, Tuple

import pytest

from tests.test_readme import python_blocks

pytest.importorskip("mypy")

ROOT = Path(__file__).resolve().parent.parent
# an example of an extra that cannot install here (mcp needs Python 3.10+) is left out where it is missing
_EXTRA_OF = {"mcp_tools.py": "mcp"}
EXAMPLES = sorted(
    path
    for path in (ROOT / "examples").glob("*.py")
    if path.name not in _EXTRA_OF or importlib.util.find_spec(_EXTRA_OF[path.name]) is not None
)


def _free_names(code: str) -> Set[str]:
    """Names the block reads at module level (or as globals in its functions) but never binds."""
    top = symtable.symtable(code, "block", "exec")
    bound = {
        s.get_name() for s in top.get_symbols() if s.is_assigned() or s.is_imported() or s.is_namespace()
    }
    free: Set[str] = set()
    pending = [top]
    while pending:
        table = pending.pop()
        pending.extend(table.get_children())
        for symbol in table.get_symbols():
            is_global = table is top or symbol.is_global()
            if is_global and symbol.is_referenced() and symbol.get_name() not in bound:
                free.add(symbol.get_name())
    return {name for name in free if not hasattr(builtins, name)}


def _bindings(code: str) -> Dict[str, str]:
    """Module-level name -> the import statement that binds it, or "" when an assignment / def binds it."""
    found: Dict[str, str] = {}
    for node in ast.parse(code).body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                single = type(node)(**{**vars(node), "names": [alias]})
                found[(alias.asname or alias.name).split(".")[0]] = ast.unparse(single)
    table = symtable.symtable(code, "block", "exec")
    for symbol in table.get_symbols():
        if (symbol.is_assigned() or symbol.is_namespace()) and symbol.get_name() not in found:
            found[symbol.get_name()] = ""
    return found


def readme_modules() -> List[Tuple[str, int, str]]:
    """(module name, README line of the block's first code line, module text) for every README block."""
    modules: List[Tuple[str, int, str]] = []
    earlier: List[Tuple[str, Dict[str, str]]] = []
    for fence_line, code in python_blocks(ROOT / "README.md"):
        name = f"readme_{fence_line:05d}"
        head: List[str] = []
        for free in sorted(_free_names(code)):
            source = next(((mod, b[free]) for mod, b in reversed(earlier) if free in b), None)
            if source is not None:
                head.append(source[1] or f"from {source[0]} import {free}")
        modules.append((name, fence_line + 1, "; ".join(head) + "\n" + code))
        earlier.append((name, _bindings(code)))
    return modules


def test_readme_blocks_and_examples_pass_mypy_strict(tmp_path: Path) -> None:
    modules = readme_modules()
    assert len(modules) >= 10 and len(EXAMPLES) >= 10
    first_lines = {}
    for name, first_line, text in modules:
        (tmp_path / f"{name}.py").write_text(text, encoding="utf-8")
        first_lines[name] = first_line
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "--show-error-codes"]
        + [str(tmp_path / f"{name}.py") for name in first_lines]
        + [str(path) for path in EXAMPLES],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )

    def where(match: re.Match[str]) -> str:
        module, line = match.group(1), int(match.group(2))
        return f"README.md:{first_lines[module] + line - 2}:" if module in first_lines else match.group(0)

    report = re.sub(r"^\S*?(readme_\d+)\.py:(\d+):", where, out.stdout, flags=re.M)
    assert out.returncode == 0 and not report.strip(), report + out.stderr
