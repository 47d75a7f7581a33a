"""``meshapi gateway``: its arguments belong to the gateway's own parser, so they are split off first.

Why it exists: ``main`` hands everything after ``gateway`` to the gateway unparsed (``split_gateway``),
and only ``--token`` of the global options means something there (``gateway_argv``); ``register`` lists
the command in ``meshapi --help``. The gateway itself is imported by ``main`` only when it runs.
"""

from __future__ import annotations

from typing import List, Optional, Sequence

from ._args import Commands
from ._context import Context
from ._failures import UsageError

__all__ = ["gateway_argv", "register", "run_unsplit", "split_gateway"]

_WITH_VALUE = frozenset({"--base-url", "--token", "--timeout", "--max-retries"})


def register(commands: Commands) -> None:
    commands.listed(
        "gateway",
        help="run the local gateway (arguments go to the gateway; see `meshapi gateway --help`)",
        handler=run_unsplit,
    )


def split_gateway(argv: Sequence[str]) -> Optional[Sequence[str]]:
    """The arguments after ``gateway`` when that is the command (they are not parsed here), else None."""
    index = 0
    while index < len(argv):
        token = argv[index]
        if token in _WITH_VALUE:
            index += 2
            continue
        if token.startswith("-"):
            index += 1
            continue
        return argv[index + 1 :] if token == "gateway" else None
    return None


def gateway_argv(leading: List[str], forwarded: List[str]) -> List[str]:
    """Global options given before ``gateway``: ``--token`` is the token it accepts; others are refused."""
    argv: List[str] = []
    index = 0
    while index < len(leading):
        flag, _, inline = leading[index].partition("=")
        if flag == "--token":
            value = inline if inline else (leading[index + 1] if index + 1 < len(leading) else "")
            index += 1 if inline else 2
            argv += ["--token", value]
            continue
        hint = {
            "--base-url": " (it serves; choose where with --host and --port)",
            "--json": " (it prints its settings as text)",
        }.get(flag, "")
        raise ValueError(f"{flag} does not apply to `meshapi gateway`{hint}")
    return argv + forwarded


def run_unsplit(context: Context) -> int:
    """``gateway`` reached the parser: a global option before it was abbreviated (``--tok X``), so
    ``split_gateway`` could not tell where the gateway's arguments start."""
    raise UsageError("spell the options before `gateway` in full (e.g. --token), or give them after it")
