"""``meshapi batches ...``: create from JSONL, list (with request counts), get, watch, cancel.

``batches list`` fetches each listed batch's own record when the list omits its request counts (the
list endpoint does), so the "requests" column is always filled. ``batches cancel`` on a batch that
has already ended says which state it ended in (exit 1) instead of showing a bare 409.
"""

from __future__ import annotations

import itertools
import pathlib
import time
from typing import Any, Dict, List

from .._errors import ConflictError
from ._args import Commands, add_budget, existing_file, jsonl_values, positive_float, positive_int
from ._context import Context
from ._failures import EXIT_API, EXIT_OK, UsageError
from ._ui import Steps, dump, one_line, when

__all__ = [
    "load_batch_requests",
    "register",
    "run_batches_cancel",
    "run_batches_create",
    "run_batches_get",
    "run_batches_list",
    "run_batches_watch",
]


def register(commands: Commands) -> None:
    batches = commands.group("batches", help="batches of chat requests", dest="batches_command")
    create = batches.leaf(
        "create",
        help="create a batch from a JSONL file",
        handler=run_batches_create,
        action="creating the batch",
    )
    create.add_argument(
        "file",
        metavar="FILE.jsonl",
        help='one request per line: {"custom_id": ..., "body": {...}} or a full request item',
    )
    create.add_argument("--completion-window", help="e.g. 24h")
    create.add_argument("--watch", action="store_true", help="then follow it until it ends")
    create.add_argument(
        "--interval", type=positive_float, default=1.0, metavar="SECONDS", help="with --watch"
    )
    add_budget(create)
    listing = batches.leaf("list", help="list batches", handler=run_batches_list, action="listing batches")
    listing.add_argument("--limit", type=positive_int, default=20, help="show at most this many (default 20)")
    get = batches.leaf(
        "get", help="show a batch and its results", handler=run_batches_get, action="getting the batch"
    )
    get.add_argument("batch_id", metavar="ID", help="the batch id (batch_...)")
    watch = batches.leaf(
        "watch",
        help="follow a batch until it ends",
        handler=run_batches_watch,
        action="watching the batch",
    )
    watch.add_argument("batch_id", metavar="ID", help="the batch id (batch_...)")
    watch.add_argument(
        "--interval", type=positive_float, default=1.0, metavar="SECONDS", help="poll interval (default 1)"
    )
    watch.add_argument(
        "--wait-timeout",
        type=positive_float,
        default=3600.0,
        metavar="SECONDS",
        help="give up after (default 3600)",
    )
    cancel = batches.leaf(
        "cancel", help="cancel a batch", handler=run_batches_cancel, action="cancelling the batch"
    )
    cancel.add_argument("batch_id", metavar="ID", help="the batch id (batch_...)")


def load_batch_requests(path: pathlib.Path) -> List[Dict[str, Any]]:
    """Request items from a JSONL file: ``{"custom_id", "body"}`` or a full item per line.

    A line that is a bare chat request (it has ``messages``) becomes the body of an item whose
    ``custom_id`` is ``line-<n>``. Blank lines and ``#`` comments are skipped.
    """
    items: List[Dict[str, Any]] = []
    for number, value in jsonl_values(path):
        if not isinstance(value, dict):
            raise UsageError(f"{path}:{number}: each line must be a JSON object")
        if "body" not in value:
            if "messages" not in value:
                raise UsageError(
                    f'{path}:{number}: expected {{"custom_id": ..., "body": {{...}}}} or a chat request'
                )
            value = {"custom_id": f"line-{number}", "body": value}
        value.setdefault("custom_id", f"line-{number}")
        items.append(value)
    if not items:
        raise UsageError(f"{path}: no requests found")
    return items


def _counts(batch: Any) -> str:
    counts = batch.request_counts
    if counts is None or counts.total is None:
        return "-"
    done = (counts.completed or 0) + (counts.failed or 0)
    failed = f", {counts.failed} failed" if counts.failed else ""
    return f"{done}/{counts.total}{failed}"


def _show_batch(context: Context, batch: Any) -> None:
    context.ui.fields(
        [
            ("id", batch.id),
            ("status", batch.status),
            ("model", batch.model),
            ("requests", _counts(batch)),
            ("created", when(batch.created_at)),
            ("completed", when(batch.completed_at) if batch.completed_at else None),
        ],
    )
    if batch.results:
        rows = []
        for result in batch.results:
            if result.error is not None:
                rows.append(
                    [result.custom_id, "error", one_line(f"{result.error.code}: {result.error.message}", 70)]
                )
                continue
            response = result.response
            body = response.body if response is not None else None
            content = ""
            if isinstance(body, dict):
                choices = body.get("choices") or []
                if choices and isinstance(choices[0], dict):
                    message = choices[0].get("message") or {}
                    content = str(message.get("content") or "")
            status = response.status_code if response is not None else None
            rows.append([result.custom_id, status, one_line(content, 70)])
        context.ui.line()
        context.ui.table(["custom id", "status", "reply"], rows, title="results")


def run_batches_create(context: Context) -> int:
    args, ui = context.args, context.ui
    path = existing_file(args.file)
    requests = load_batch_requests(path)
    fields: Dict[str, Any] = {"requests": requests}
    if args.completion_window:
        fields["completion_window"] = args.completion_window
    batch = context.client().batches.create(**fields)
    if args.watch:
        return _watch(context, batch.id, args.interval, 3600.0)
    if ui.json_mode:
        ui.emit_json(dump(batch))
        return EXIT_OK
    _show_batch(context, batch)
    ui.note(f"follow it with: meshapi batches watch {batch.id}")
    return EXIT_OK


def run_batches_list(context: Context) -> int:
    args, ui = context.args, context.ui
    resource = context.client().batches
    batches = list(itertools.islice(resource.iter_batches(page_size=min(100, args.limit)), args.limit))
    # The list endpoint leaves out request counts; each batch's own record has them.
    batches = [b if b.request_counts is not None else resource.get(b.id) for b in batches]
    if ui.json_mode:
        ui.emit_json([dump(batch) for batch in batches])
        return EXIT_OK
    ui.table(
        ["id", "status", "model", "requests", "created"],
        [[b.id, b.status, b.model, _counts(b), when(b.created_at)] for b in batches],
    )
    return EXIT_OK


def run_batches_get(context: Context) -> int:
    batch = context.client().batches.get(context.args.batch_id)
    if context.ui.json_mode:
        context.ui.emit_json(dump(batch))
    else:
        _show_batch(context, batch)
    return EXIT_OK


def run_batches_watch(context: Context) -> int:
    args = context.args
    return _watch(context, args.batch_id, args.interval, args.wait_timeout)


def _watch(context: Context, batch_id: str, interval: float, timeout: float) -> int:
    """Poll the batch until it is terminal, showing its progress; exit 1 unless it completed."""
    from ..resources.batches import TERMINAL_BATCH_STATUSES

    ui = context.ui
    context.action = f"watching batch {batch_id}"
    batches = context.client().batches
    deadline = time.monotonic() + timeout
    steps = Steps(ui, 1, f"batch {batch_id}")
    last_seen = ""
    try:
        while True:
            batch = batches.get(batch_id)
            counts = batch.request_counts
            total = counts.total if counts is not None else None
            done = ((counts.completed or 0) + (counts.failed or 0)) if counts is not None else 0
            seen = f"batch {batch_id}: {batch.status} ({_counts(batch)})"
            if seen != last_seen:
                steps.set(done, total or 1, seen)
                last_seen = seen
            if batch.status in TERMINAL_BATCH_STATUSES:
                break
            if time.monotonic() + interval > deadline:
                raise UsageError(
                    f"batch {batch_id} is still {batch.status} after {timeout:g}s; watch it again later"
                )
            time.sleep(interval)
    finally:
        steps.close()
    if ui.json_mode:
        ui.emit_json(dump(batch))
    else:
        _show_batch(context, batch)
    if batch.status != "completed":
        ui.note(f"meshapi: batch {batch_id} ended {batch.status}")
        return EXIT_API
    return EXIT_OK


def run_batches_cancel(context: Context) -> int:
    """Cancel a batch; one that has already ended is reported as such (exit 1), whether the gateway
    refuses with a 409 or answers with the ended batch unchanged."""
    from ..resources.batches import TERMINAL_BATCH_STATUSES

    batch_id = context.args.batch_id
    batches = context.client().batches
    try:
        batch = batches.cancel(batch_id)
    except ConflictError:
        batch = batches.get(batch_id)
        if batch.status not in TERMINAL_BATCH_STATUSES:
            raise
    if context.ui.json_mode:
        context.ui.emit_json(dump(batch))
    else:
        _show_batch(context, batch)
    if batch.status in TERMINAL_BATCH_STATUSES and batch.status != "cancelled":
        context.ui.note(
            f"meshapi: batch {batch_id} already ended ({batch.status}); there is nothing to cancel"
        )
        return EXIT_API
    return EXIT_OK
