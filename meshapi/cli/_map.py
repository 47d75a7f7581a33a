"""``meshapi map FILE.jsonl``: one chat request per line, run in bulk, one JSON line per result, in order.

Why it exists: ``client.chat.completions.map()`` from the shell. The requests are read and checked before
anything is sent (a bad line is a usage error naming it, exit 2); they run ``--concurrency`` at a time,
under ``--rpm`` (a ``meshapi.RateLimiter``) when given, with a progress bar on stderr when it is a
terminal and ``rich`` is installed. Results go to stdout (or ``--output``) as JSON Lines in input order:
``{"index", "request_id", "cost_usd", "completion"}``; with ``--return-exceptions`` a failed request is
``{"index", "error": {...}}`` at its place and the exit code is 1 when any failed. Without it the first
error stops the run (exit 1, nothing written). Money is a decimal string.
"""

from __future__ import annotations

import json
import pathlib
from decimal import Decimal
from typing import Any, Dict, List, TextIO

from ._args import (
    Commands,
    add_budget,
    existing_file,
    jsonl_values,
    output_path,
    positive_float,
    positive_int,
)
from ._context import Context
from ._failures import EXIT_API, EXIT_OK, UsageError
from ._ui import Steps, dump

__all__ = ["load_chat_requests", "register", "result_line", "run_map"]


def register(commands: Commands) -> None:
    parser = commands.leaf(
        "map",
        help="run the chat requests of a JSONL file in bulk; results as JSONL in input order",
        handler=run_map,
        action="running the requests",
    )
    parser.add_argument("file", metavar="FILE.jsonl", help="one chat request (a JSON object) per line")
    parser.add_argument("--output", "-o", metavar="PATH", help="write the results here instead of stdout")
    parser.add_argument("--concurrency", type=positive_int, default=8, help="requests at once (default 8)")
    parser.add_argument("--rpm", type=positive_float, metavar="N", help="at most N requests per minute")
    parser.add_argument(
        "--return-exceptions",
        action="store_true",
        help="write a failed request as an error line at its place instead of stopping",
    )
    add_budget(parser)


def load_chat_requests(path: pathlib.Path) -> List[Dict[str, Any]]:
    """The chat requests of a JSONL file, one JSON object per line (blank lines and ``#`` comments skipped)."""
    requests: List[Dict[str, Any]] = []
    for number, value in jsonl_values(path):
        if not isinstance(value, dict) or "messages" not in value:
            raise UsageError(
                f"{path}:{number}: each line must be a chat request (a JSON object with messages)"
            )
        if value.get("stream"):
            raise UsageError(f'{path}:{number}: map runs whole completions; remove "stream"')
        requests.append(value)
    if not requests:
        raise UsageError(f"{path}: no requests found")
    return requests


def result_line(index: int, result: Any) -> Dict[str, Any]:
    """One output line: a ``MapResult`` or, at its index, the error of a failed request."""
    if isinstance(result, BaseException):
        error: Dict[str, Any] = {"type": type(result).__name__, "message": str(result)}
        for name in ("status", "error_code", "request_id"):
            value = getattr(result, name, None)
            if value not in (None, ""):
                error[name] = value
        return {"index": index, "error": error}
    cost = result.cost_usd
    return {
        "index": index,
        "request_id": result.request_id,
        "cost_usd": None if cost is None else str(cost),
        "completion": dump(result.completion),
    }


def _write(out: TextIO, results: List[Any]) -> None:
    for index, result in enumerate(results):
        out.write(json.dumps(result_line(index, result), ensure_ascii=False) + "\n")
    out.flush()


def run_map(context: Context) -> int:
    args, ui = context.args, context.ui
    requests = load_chat_requests(existing_file(args.file))
    target = output_path(args.output) if args.output else None
    overrides: Dict[str, Any] = {}
    if args.rpm is not None:
        from .._rate_limiter import RateLimiter

        overrides["limiter"] = RateLimiter(rpm=args.rpm)
    client = context.client(**overrides)
    steps = Steps(ui, len(requests), "requests")

    def progress(done: int, total: int) -> None:
        if steps.progress is not None:  # a bar on a terminal; no line per request otherwise
            steps.set(done, total, f"{done}/{total} requests")

    try:
        results = client.chat.completions.map(
            requests,
            concurrency=args.concurrency,
            return_exceptions=bool(args.return_exceptions),
            on_progress=progress,
        )
    finally:
        steps.close()
    if target is not None:
        with target.open("w", encoding="utf-8") as handle:
            _write(handle, results)
    else:
        ui.end_line()
        _write(ui.out, results)
    failed = sum(isinstance(r, BaseException) for r in results)
    cost = sum((r.cost_usd for r in results if not isinstance(r, BaseException) and r.cost_usd), Decimal(0))
    ui.note(f"{len(results)} requests, {failed} failed, {cost} USD")
    return EXIT_API if failed else EXIT_OK
