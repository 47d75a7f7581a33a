"""What every command module registers its parsers with: ``Commands``, the argument types, file checks.

Why it exists: each command module adds its own subcommand (``register(commands)``) and binds its
handler function there, and ``_parser`` only lists the modules; this module holds what they share, so
no command module imports the parser that lists it.

Connection options (``--base-url``, ``--token``, ``--timeout``, ``--max-retries``, ``--api-version``) and
``--json`` are
accepted both before the subcommand and after it: every leaf parser has a parent parser whose defaults
are suppressed, so a value given before the subcommand is not overwritten by an absent one after it.
Each leaf sets ``handler`` (the function that runs it) and ``action`` (the words used in the error
line when it fails).
"""

from __future__ import annotations

import argparse
import datetime
import json
import pathlib
import re
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Iterator, List, NoReturn, Optional, Tuple

from .._api_version import is_api_version
from ._context import Context
from ._failures import UsageError
from ._ui import redact_secrets

__all__ = [
    "Commands",
    "Handler",
    "Parser",
    "add_budget",
    "add_common",
    "existing_file",
    "non_negative_int",
    "output_path",
    "positive_float",
    "positive_int",
    "temperature",
    "usd",
    "window",
]

#: A command's handler: runs with the run's ``Context`` and returns the exit code.
Handler = Callable[[Context], int]


# --- argument types ------------------------------------------------------------------------------------


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text!r}")
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text!r}")
    return value


def _api_version(text: str) -> Optional[str]:
    """``--api-version``: a ``YYYY-MM`` label, or ``none`` (no header: the gateway's baseline)."""
    if text.strip().lower() == "none":
        return None
    if not is_api_version(text):
        raise argparse.ArgumentTypeError(
            f"must be a version label such as 2026-08 (YYYY-MM) or none, got {text!r}"
        )
    return text


def usd(text: str) -> Decimal:
    """An amount of US dollars, exact (``0.50``); more than 0."""
    try:
        value = Decimal(text.strip().lstrip("$"))
    except (InvalidOperation, ValueError):
        raise argparse.ArgumentTypeError(f"not an amount of dollars: {text!r}") from None
    if not value.is_finite() or value <= 0:
        raise argparse.ArgumentTypeError(f"must be an amount of dollars above 0, got {text!r}")
    return value


_WINDOW = re.compile(r"^([1-9][0-9]{0,5})([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def window(text: str) -> datetime.timedelta:
    """A time window back from now: a number and a unit, ``30m``, ``1h``, ``24h``, ``7d``, ``2w``."""
    match = _WINDOW.match(text.strip().lower())
    if match is None:
        raise argparse.ArgumentTypeError(f"must be a number and m, h, d or w (30m, 24h, 7d), got {text!r}")
    return datetime.timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def temperature(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 2.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 2, got {text!r}")
    return value


# --- files named on the command line (checked before anything is sent) ---------------------------------


def existing_file(raw: str) -> pathlib.Path:
    """``raw`` as a path to an existing file; a ``UsageError`` (exit 2) otherwise."""
    path = pathlib.Path(raw)
    if not path.is_file():
        raise UsageError(f"no such file: {raw}" if not path.exists() else f"not a file: {raw}")
    return path


def jsonl_values(path: pathlib.Path) -> Iterator[Tuple[int, Any]]:
    """Each JSON value of a JSONL file with its line number; blank lines and ``#`` comments skipped. A file
    that cannot be read or a line that is not JSON is a ``UsageError`` naming it (``meshapi map``,
    ``meshapi batches create``: each checks its own line shape)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            yield number, json.loads(line)
        except ValueError as exc:
            raise UsageError(f"{path}:{number}: not valid JSON ({exc.args[0]})") from None


def output_path(raw: str) -> pathlib.Path:
    """``raw`` as a path to write; a ``UsageError`` when its folder does not exist."""
    path = pathlib.Path(raw)
    if not path.parent.is_dir():
        raise UsageError(f"no such directory: {path.parent}")
    return path


# --- parsers -------------------------------------------------------------------------------------------


def add_common(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """The connection and output options (``suppress``: no defaults, for the leaves' parent)."""
    default: Any = argparse.SUPPRESS if suppress else None
    group = parser.add_argument_group("connection and output")
    group.add_argument(
        "--base-url", default=default, metavar="URL", help="gateway URL (env MESHAPI_BASE_URL)"
    )
    group.add_argument("--token", default=default, metavar="TOKEN", help="API token (env MESHAPI_TOKEN)")
    group.add_argument(
        "--timeout",
        type=positive_float,
        default=default,
        metavar="SECONDS",
        help="HTTP timeout (default 60)",
    )
    group.add_argument(
        "--max-retries",
        type=non_negative_int,
        default=default,
        metavar="N",
        help="retries on 429/5xx and connection errors (default 3)",
    )
    group.add_argument(
        "--api-version",
        type=_api_version,
        default=argparse.SUPPRESS,  # absent from the namespace unless given: None means `none`
        metavar="LABEL",
        help="API version to pin, YYYY-MM (default 2026-08; 'none': the gateway's baseline)",
    )
    group.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help="print machine-readable JSON on stdout (nothing else)",
    )


def add_budget(parser: argparse.ArgumentParser) -> None:
    """``--budget USD`` on a command that spends: the run's calls share one ``meshapi.Budget``, each
    call's worst case checked before it is sent (``Context.client``)."""
    parser.add_argument(
        "--budget",
        type=usd,
        metavar="USD",
        help="spend at most this many US dollars in this run: a call whose worst case does not fit is not sent",
    )


_ARGV: List[str] = []  # the words being parsed, so an error can hide the value after a mistyped --tokn


class Parser(argparse.ArgumentParser):
    """argparse, except that a usage error never repeats a token the user typed (``redact_secrets``)."""

    def parse_args(self, args: Any = None, namespace: Any = None) -> Any:  # type: ignore[override]
        _ARGV[:] = [str(a) for a in (args or [])]
        return super().parse_args(args, namespace)

    def error(self, message: str) -> NoReturn:
        super().error(redact_secrets(message, _ARGV))


class Commands:
    """One level of subcommands: ``leaf`` adds a command bound to its handler, ``group`` a level below."""

    def __init__(self, subparsers: Any, common: argparse.ArgumentParser) -> None:
        self._subparsers = subparsers
        self._common = common

    def leaf(
        self,
        name: str,
        *,
        help: str,
        handler: Handler,
        action: str,
        description: Optional[str] = None,
    ) -> argparse.ArgumentParser:
        """A command that runs ``handler``; ``action`` names it in the error line when it fails."""
        parser: argparse.ArgumentParser = self._subparsers.add_parser(
            name, help=help, description=description or help, parents=[self._common]
        )
        parser.set_defaults(handler=handler, action=action)
        return parser

    def group(self, name: str, *, help: str, dest: str) -> Commands:
        """A command whose subcommands (one of which is required) are added to the returned level."""
        parser: argparse.ArgumentParser = self._subparsers.add_parser(name, help=help, description=help)
        return self.below(parser, dest=dest, required=True)

    def below(self, parser: argparse.ArgumentParser, *, dest: str, required: bool) -> Commands:
        """Subcommands under ``parser`` (a leaf too: ``models`` lists, ``models search`` searches)."""
        children = parser.add_subparsers(dest=dest, metavar="COMMAND", title="commands")
        children.required = required
        return Commands(children, self._common)

    def listed(self, name: str, *, help: str, handler: Handler) -> argparse.ArgumentParser:
        """A command whose own arguments are not parsed here (``gateway``), with the handler that
        runs if the parser ever reaches it."""
        parser: argparse.ArgumentParser = self._subparsers.add_parser(name, help=help, add_help=False)
        parser.set_defaults(handler=handler, action=name)
        return parser

    @classmethod
    def root(cls, parser: argparse.ArgumentParser) -> Commands:
        """The top level of ``parser``, with the connection options added to every leaf."""
        common = Parser(add_help=False)
        add_common(common, suppress=True)
        subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
        subparsers.required = True
        return cls(subparsers, common)
