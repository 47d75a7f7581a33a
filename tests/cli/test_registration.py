"""Each command module registers its own subcommands, bound to handler functions it defines.

Everything here is derived from the parser ``main`` builds and from the command modules' source; no
list of commands is kept by hand.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import pathlib
import re
from typing import Any, Callable, Dict, Iterator, List, Tuple

import pytest

from meshapi import cli
from meshapi.cli import _parser
from meshapi.cli._args import Commands, Parser

from .conftest import Result

Run = Callable[..., Result]
CLI_DIR = pathlib.Path(cli.__file__).parent


def _levels(parser: argparse.ArgumentParser) -> Iterator[Any]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            yield action


def _commands(parser: argparse.ArgumentParser, prefix: Tuple[str, ...] = ()) -> Iterator[Tuple[str, ...]]:
    """Every command path below ``parser`` (``("rag", "upload")``, ...), in the order help shows them."""
    for level in _levels(parser):
        for name, child in level.choices.items():
            yield (*prefix, name)
            yield from _commands(child, (*prefix, name))


def _child(parser: argparse.ArgumentParser, path: Tuple[str, ...]) -> argparse.ArgumentParser:
    for name in path:
        parser = next(level.choices[name] for level in _levels(parser) if name in level.choices)
    return parser


def _registered_by() -> Dict[Tuple[str, ...], Any]:
    """Command path -> the module whose ``register`` added it (each one called on a parser of its own)."""
    owners: Dict[Tuple[str, ...], Any] = {}
    for register in _parser.COMMANDS:
        root = Parser(prog="meshapi")
        register(Commands.root(root))
        module = importlib.import_module(register.__module__)
        for path in _commands(root):
            assert path not in owners, f"{' '.join(path)} is registered twice"
            owners[path] = module
    return owners


def _help_commands(text: str) -> List[str]:
    """The command names the ``commands:`` section of a ``--help`` text lists."""
    section = text.split("\ncommands:\n", 1)[1]
    return re.findall(r"^    (\S+)", section, flags=re.MULTILINE)


def test_every_command_in_help_has_a_handler_defined_in_the_module_that_registers_it(run: Run) -> None:
    parser = _parser.build_parser()
    owners = _registered_by()
    listed = _help_commands(run("--help").out)
    top = [path[0] for path in _commands(parser) if len(path) == 1]
    assert listed == top  # --help shows exactly the parser's commands, in the parser's order
    assert [path for path in owners if len(path) == 1] == [(name,) for name in top]
    assert set(owners) == set(_commands(parser))

    handled = 0
    for path, module in owners.items():
        command = _child(parser, path)
        handler = command.get_default("handler")
        if handler is None:  # a group: one of its subcommands is required, and each has a handler
            assert all(level.required for level in _levels(command)), " ".join(path)
            assert any(True for _ in _levels(command)), f"{' '.join(path)} has neither handler nor commands"
            continue
        where = f"`meshapi {' '.join(path)}`"
        assert inspect.isfunction(handler), f"{where}: handler {handler!r} is not a function"
        assert handler.__module__ == module.__name__, f"{where}: handler from {handler.__module__}"
        assert getattr(module, handler.__name__) is handler, f"{where}: {handler.__name__} not defined there"
        assert inspect.signature(handler).parameters.keys() == {"context"}, where
        assert isinstance(command.get_default("action"), str) and command.get_default("action"), where
        handled += 1
    assert handled >= len(top)


def test_a_handler_replaced_in_its_module_is_the_one_that_runs(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The parser binds the function object the module holds when main builds it: no name lookup later.
    seen: List[str] = []
    for path, module in _registered_by().items():
        handler = _child(_parser.build_parser(), path).get_default("handler")
        if handler is None or path[0] == "gateway":
            continue

        def stand_in(context: Any, path: Tuple[str, ...] = path) -> int:
            seen.append(" ".join(path))
            return 0

        monkeypatch.setattr(module, handler.__name__, stand_in)
        assert _child(_parser.build_parser(), path).get_default("handler") is stand_in
    assert run("models", "get", "x").code == 0
    assert run("rag", "list").code == 0
    assert seen == ["models get", "rag list"]


def test_no_handler_is_looked_up_by_name() -> None:
    """No module of the CLI imports by name, and every ``handler=`` passed is a function, not text."""
    for path in sorted(CLI_DIR.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [alias.name for alias in node.names] + [getattr(node, "module", None) or ""]
                assert "importlib" not in names, f"{path.name}:{node.lineno} imports importlib"
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                assert name not in ("__import__", "import_module"), f"{path.name}:{node.lineno}"
                for keyword in node.keywords:
                    if keyword.arg == "handler":
                        assert not isinstance(keyword.value, ast.Constant), (
                            f"{path.name}:{node.lineno}: handler given as {keyword.value.value!r}"
                        )


def test_gateway_after_an_abbreviated_option_is_a_usage_error(run: Run) -> None:
    # ``--tok X`` is read as --token by argparse, but it hides where the gateway's own arguments start.
    result = run("--tok", "rsk_abbreviated_token", "gateway")
    assert result.code == 2
    assert result.err_lines == [
        "meshapi: spell the options before `gateway` in full (e.g. --token), or give them after it"
    ]
