"""The ``meshapi`` command line.

``main(argv)`` runs one command and returns its exit code, so tests call it in process;
``console_main()`` is the console-script entry point (``python -m meshapi`` too). The parser
(``_parser``) lists the command modules; each registers its subcommands with the function that runs
them, which ``main`` calls. ``rich`` (the ``cli`` extra), the gateway, websockets and the SDK's
resources are imported only when a command needs them.

Every failure ends as one line on stderr (see ``_failures.describe``) and an exit code: 1 for API and
network errors, 2 for usage and configuration problems, 130 after Ctrl-C. No traceback is shown unless
``MESHAPI_CLI_DEBUG`` is set. The client and any open stream are closed on every path.
"""

from __future__ import annotations

import os
import sys
import traceback
from typing import List, Optional

from ._context import Context
from ._failures import EXIT_INTERRUPTED, EXIT_USAGE, describe
from ._gateway import gateway_argv, split_gateway
from ._parser import build_parser
from ._ui import UI, retry_notices

__all__ = ["console_main", "main"]


def _run_gateway(argv: List[str]) -> int:
    try:
        from meshapi_gateway import main as gateway_main
    except ImportError as exc:
        sys.stderr.write(
            f"meshapi: the local gateway is not available ({exc}); install it with: pip install 'meshapi[gateway]'\n"
        )
        return EXIT_USAGE
    try:
        result = gateway_main(argv)
    except SystemExit as exc:  # the gateway's own argparse (--help, bad arguments)
        result = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_USAGE)
    return int(result or 0)


def main(argv: Optional[List[str]] = None) -> int:
    """Run ``meshapi`` with ``argv`` (default ``sys.argv[1:]``) and return the exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    forwarded = split_gateway(args_list)
    if forwarded is not None:
        leading = args_list[: len(args_list) - len(forwarded) - 1]
        try:
            for_gateway = gateway_argv(leading, list(forwarded))
        except ValueError as exc:
            sys.stderr.write(f"meshapi: {exc}\n")
            return EXIT_USAGE
        try:
            return _run_gateway(for_gateway)
        except KeyboardInterrupt:
            return EXIT_INTERRUPTED

    parser = build_parser()
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # --help, --version, or a usage error argparse already printed
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_USAGE)

    ui = UI(json_mode=bool(getattr(args, "json", False)))
    context = Context(args, ui)
    try:
        with retry_notices(ui):
            return int(args.handler(context))
    except KeyboardInterrupt:
        ui.note("meshapi: interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return 1
    except Exception as exc:  # every failure becomes one line; no traceback
        if os.environ.get("MESHAPI_CLI_DEBUG"):
            traceback.print_exc()
        line, code = describe(exc, context.action)
        ui.note(line)
        return code
    finally:
        try:
            context.close()
        except Exception:
            pass


def _silence_stdout() -> None:
    # The reader went away (``meshapi models | head``): stop writing, and keep the interpreter from
    # complaining when it flushes stdout at exit.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def console_main() -> None:
    """Entry point of the ``meshapi`` console script."""
    sys.exit(main())
