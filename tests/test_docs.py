"""The docs name what exists: every module under meshapi/ and meshapi_gateway/ in CLAUDE.md's layout,
every test folder in TESTING.md, every exported error in the README's error tree.

Failure messages list what is missing (or listed but gone), so whoever adds a module sees what to add.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import List, Set

ROOT = Path(__file__).resolve().parent.parent


def _layout_block() -> List[str]:
    text = (ROOT / "CLAUDE.md").read_text(encoding="utf-8")
    match = re.search(r"^## Layout\n.*?^```\n(.*?)^```", text, re.S | re.M)
    assert match, "CLAUDE.md has no '## Layout' code block"
    return match.group(1).splitlines()


def _layout_paths() -> Set[str]:
    """Paths written in the layout tree: indentation (two spaces a level) gives the parent folder."""
    paths: Set[str] = set()
    stack: List[str] = []
    for line in _layout_block():
        if not line.strip():
            continue
        indent = (len(line) - len(line.lstrip(" "))) // 2
        entry = line.strip().split()[0]
        del stack[indent:]
        path = "".join(stack) + entry
        paths.add(path.rstrip("/"))
        if entry.endswith("/"):
            stack.append(entry)
    return paths


def test_every_module_is_in_the_claude_md_layout() -> None:
    listed = _layout_paths()
    packages = ("meshapi", "meshapi_gateway")
    modules = {
        path.relative_to(ROOT).as_posix()
        for package in packages
        for path in (ROOT / package).rglob("*.py")
        if path.name != "__init__.py" and "__pycache__" not in path.parts
    }
    missing = sorted(modules - listed)
    stale = sorted(
        p for p in listed if p.split("/")[0] in packages and p.endswith(".py") and p not in modules
    )
    stale = [p for p in stale if not p.endswith("/__init__.py")]
    assert not missing and not stale, (
        f"CLAUDE.md layout is out of date. Missing modules: {missing or 'none'}; "
        f"listed but not found: {stale or 'none'}"
    )


def test_every_test_folder_is_in_testing_md() -> None:
    text = (ROOT / "TESTING.md").read_text(encoding="utf-8")
    wanted = [
        f"tests/{path.name}"
        for path in sorted((ROOT / "tests").iterdir())
        if path.is_dir() and any(path.glob("test_*.py"))
    ]
    wanted += [f"tests/{path.name}" for path in sorted((ROOT / "tests").glob("test_*.py"))]
    wanted += ["livetests", "benchmarks"]
    missing = [name for name in wanted if name not in text]
    assert not missing, f"TESTING.md does not mention these test folders/files: {missing}"
    layout = _layout_paths()
    folders = [n for n in wanted if not n.endswith(".py")]
    not_in_layout = [n for n in folders if n not in layout]
    assert not not_in_layout, f"CLAUDE.md layout does not list these test folders: {not_in_layout}"


def test_the_readme_error_tree_lists_every_exported_error() -> None:
    import meshapi

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^```\nMeshAPIError\n(.*?)^```", readme, re.S | re.M)
    assert match, "README.md lost its error tree (a ``` block starting with MeshAPIError)"
    tree = match.group(0)
    exported = [
        name
        for name in meshapi.__all__
        if inspect.isclass(getattr(meshapi, name))
        and issubclass(getattr(meshapi, name), meshapi.MeshAPIError)
    ]
    missing = [name for name in exported if not re.search(rf"\b{name}\b", tree)]
    assert not missing, f"README.md's error tree does not show: {missing}"


def _extra_requirements(extras: dict, name: str) -> Set[str]:
    """Distribution names an extra installs, following ``meshapi[...]`` self-references."""
    names: Set[str] = set()
    for requirement in extras[name]:
        inner = re.fullmatch(r"meshapi\[([a-z0-9,_-]+)\]", requirement)
        if inner:
            for other in inner.group(1).split(","):
                names |= _extra_requirements(extras, other)
        else:
            names.add(re.split(r"[<>=!~ \[;]", requirement, maxsplit=1)[0].lower())
    return names


def test_the_all_extra_installs_what_the_readme_imports() -> None:
    """``pip install -e ".[all]"`` (the README's set-up) brings every package a README example imports."""
    import ast
    import sys

    import pytest

    if sys.version_info < (3, 11):  # pragma: no cover - tomllib and sys.stdlib_module_names
        pytest.skip("reads pyproject.toml with tomllib (Python 3.11+); the newest Python in CI runs it")
    from importlib.metadata import packages_distributions

    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    installed = {d.split("[")[0].lower() for d in project["dependencies"]}
    installed = {re.split(r"[<>=!~ ;]", d, maxsplit=1)[0] for d in installed}
    installed |= _extra_requirements(project["optional-dependencies"], "all")
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    modules: Set[str] = set()
    for block in re.findall(r"^```python\n(.*?)^```", text, re.S | re.M):
        for node in ast.walk(ast.parse(block)):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules.add(node.module.split(".")[0])
    distributions = packages_distributions()
    missing = []
    # pytest: the "Testing your app" example is a test file, run by the reader's own pytest
    ours = {"meshapi", "meshapi_gateway", "pytest"}
    for module in sorted(modules - set(sys.stdlib_module_names) - ours):
        names = {d.lower() for d in distributions.get(module, [module])}
        if not names & installed:
            missing.append(f"{module} ({', '.join(sorted(names))})")
    assert not missing, f"README examples import what `.[all]` does not install: {missing}"


def test_the_request_log_record_is_documented_field_by_field() -> None:
    """README's table of ``RequestRecord`` names every public field, and nothing that is not one."""
    import dataclasses

    from meshapi_gateway.record.reqlog import RequestRecord

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("What one record (`RequestRecord`) holds:")
    table = text[start : text.index("\n\n", text.index("| field |", start))]
    documented = set(
        re.findall(r"`([a-z_]+)`", "\n".join(row.split("|")[1] for row in table.splitlines()[3:]))
    )
    fields = {f.name for f in dataclasses.fields(RequestRecord) if not f.name.startswith("_")}
    assert documented == fields, (sorted(fields - documented), sorted(documented - fields))


def test_the_readme_lists_every_example_script() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Examples") : text.index("\n## ", text.index("## Examples") + 1)]
    listed = set(re.findall(r"`([a-z_]+\.py)`", section)) - {"test_examples.py"}
    scripts = {path.name for path in (ROOT / "examples").glob("*.py")}
    assert listed == scripts, (sorted(scripts - listed), sorted(listed - scripts))


def test_contributor_docs_speak_of_the_repository_only() -> None:
    """CLAUDE.md and TESTING.md: no path outside the repository, no tracker issue numbers."""
    for name in ("CLAUDE.md", "TESTING.md"):
        text = (ROOT / name).read_text(encoding="utf-8")
        outside = re.findall(r"\.\./shared\b|(?<![\w.])/(?:work|root|home|Users)/\S*", text)
        assert not outside, f"{name} points outside the repository: {outside}"
        found = re.findall(r"\bissues? \d+|#\d+\b", text, re.I)
        assert not found, f"{name} names tracker issues: {found}"


def test_the_changelog_carries_the_released_version() -> None:
    """The newest released section of CHANGELOG.md is this package's version, with its date."""
    import meshapi

    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    released = re.findall(r"^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$", text, re.M)
    assert released, "CHANGELOG.md has no released version"
    assert released[0][0] == meshapi.__version__
    sections = re.findall(
        r"^### (\w+)", text.split(f"## [{released[0][0]}]", 1)[1].split("\n## [", 1)[0], re.M
    )
    assert sections[0] == "Added", sections
