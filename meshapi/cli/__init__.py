"""The ``meshapi`` command line.

``main(argv)`` runs one command and returns its exit code, so tests call it in process;
``console_main()`` is the console-script entry point (``python -m meshapi`` too). Commands are imported
only when they run, and ``rich`` (the ``cli`` extra) only when a table or live view is drawn.

Every failure ends as one line on stderr (see ``_failures.describe``) and an exit code: 1 for API and
network errors, 2 for usage and configuration problems, 130 after Ctrl-C. No traceback is shown unless
``MESHAPI_CLI_DEBUG`` is set. The client and any open stream are closed on every path.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from typing import Callable, List, Optional

from ._failures import EXIT_INTERRUPTED, EXIT_USAGE, describe

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


def _gateway_argv(leading: List[str], forwarded: List[str]) -> List[str]:
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


def _handler(spec: str) -> Callable[..., int]:
    module_name, _, function = spec.partition(":")
    module = importlib.import_module(f"{__name__}.{module_name}")
    handler: Callable[..., int] = getattr(module, function)
    return handler


def main(argv: Optional[List[str]] = None) -> int:
    """Run ``meshapi`` with ``argv`` (default ``sys.argv[1:]``) and return the exit code."""
    from ._context import Context
    from ._parser import build_parser, split_gateway
    from ._ui import UI, retry_notices

    args_list = list(sys.argv[1:] if argv is None else argv)
    forwarded = split_gateway(args_list)
    if forwarded is not None:
        leading = args_list[: len(args_list) - len(forwarded) - 1]
        try:
            gateway_argv = _gateway_argv(leading, list(forwarded))
        except ValueError as exc:
            sys.stderr.write(f"meshapi: {exc}\n")
            return EXIT_USAGE
        try:
            return _run_gateway(gateway_argv)
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
            return _handler(args.handler)(context)
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
