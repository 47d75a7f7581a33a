"""The ``meshapi`` argument parser: the global options, then every command module in ``--help`` order.

Why it exists: it is the one list of commands. Each command module adds its own parsers and binds its
handler functions (``register(commands)``, see ``_args.Commands``); the order of ``COMMANDS`` is the
order ``meshapi --help`` shows. Building the parser imports the command modules, so they import
nothing heavy at module level (rich, the gateway, websockets and the SDK's resources load when a
command runs).
"""

from __future__ import annotations

import argparse
from typing import Callable, Tuple

from .._version import __version__
from . import (
    _batches,
    _chat,
    _compare,
    _demo,
    _discovery,
    _gateway,
    _images,
    _map,
    _media,
    _models,
    _rag,
    _realtime,
    _templates,
    _usage,
    _versions,
)
from ._args import Commands, Parser, add_common

__all__ = ["COMMANDS", "build_parser"]

#: The command modules' ``register`` functions, in the order ``meshapi --help`` lists the commands.
COMMANDS: Tuple[Callable[[Commands], None], ...] = (
    _chat.register,  # chat
    _compare.register,  # compare
    _models.register,  # models [search|get]
    _versions.register,  # api-versions
    _rag.register,  # embed, rag
    _batches.register,  # batches
    _map.register,  # map
    _templates.register,  # templates
    _images.register,  # images generate|edit
    _media.register,  # audio, videos
    _discovery.register,  # moderate, search, route
    _realtime.register,  # realtime
    _usage.register,  # usage [events|attempts|trend|rate-limits], cost, balance
    _gateway.register,  # gateway (its arguments are forwarded before parsing)
    _demo.register,  # demo
)

_EPILOG = """\
connection: --base-url/--token, else the MESHAPI_BASE_URL and MESHAPI_TOKEN environment variables.
exit codes: 0 ok, 1 API or network error, 2 usage or configuration error, 130 interrupted.
`meshapi demo` tours every feature against a local gateway started in the process."""


def build_parser() -> argparse.ArgumentParser:
    """A fresh parser (each run builds one, so a handler replaced in its module is the one bound)."""
    parser = Parser(
        prog="meshapi",
        description="Command line for the MeshAPI gateway: chat, compare, embeddings, RAG, batches, ...",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"meshapi {__version__}")
    add_common(parser, suppress=False)
    commands = Commands.root(parser)
    for register in COMMANDS:
        register(commands)
    return parser
