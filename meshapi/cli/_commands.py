"""The resource commands: models, embed, rag, batches, templates, images, realtime.

Each ``run_*`` takes the ``Context`` and returns the exit code. Results go to stdout (a table, or JSON
with ``--json``); progress and notes go to stderr. Input files are checked before any request is sent,
so a missing file is a usage error (exit 2) that leaves nothing half-created on the gateway.
"""

from __future__ import annotations

import json
import math
import mimetypes
import pathlib
import time
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from ._context import Context
from ._failures import EXIT_API, EXIT_OK, UsageError
from ._pricing import format_usd, per_million

__all__ = [
    "cosine",
    "load_batch_requests",
    "run_batches_cancel",
    "run_batches_create",
    "run_batches_get",
    "run_batches_list",
    "run_batches_watch",
    "run_embed",
    "run_images_generate",
    "run_models",
    "run_rag_list",
    "run_rag_search",
    "run_rag_upload",
    "run_realtime",
    "run_templates_create",
    "run_templates_delete",
    "run_templates_get",
    "run_templates_list",
    "run_templates_update",
]


def _dump(model: Any) -> Any:
    return model.model_dump(mode="json", exclude_none=True)


def _one_line(text: Optional[str], limit: int = 80) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _when(timestamp: Optional[int]) -> str:
    if not timestamp:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp))


def _fields(context: Context, pairs: Sequence[Tuple[str, Any]]) -> None:
    """``key: value`` lines, keys aligned (values that are ``None`` are skipped)."""
    shown = [(key, value) for key, value in pairs if value is not None]
    width = max((len(key) for key, _ in shown), default=0)
    for key, value in shown:
        context.ui.line(f"{key.ljust(width)}  {value}")


def _existing_files(paths: Sequence[str]) -> List[pathlib.Path]:
    found = []
    for raw in paths:
        path = pathlib.Path(raw)
        if not path.is_file():
            raise UsageError(f"no such file: {raw}" if not path.exists() else f"not a file: {raw}")
        found.append(path)
    return found


# --- models -------------------------------------------------------------------------------------------


def _price(value: Any) -> str:
    if value is None:
        return "-"
    return format_usd(value)


def run_models(context: Context) -> int:
    args, ui = context.args, context.ui
    free: Optional[bool] = True if args.free else (False if args.paid else None)
    models = list(context.client().models.list(free=free))
    if args.search:
        needle = args.search.lower()
        models = [
            info
            for info in models
            if needle in info.id.lower()
            or needle in info.name.lower()
            or needle in (info.description or "").lower()
        ]
    if ui.json_mode:
        ui.emit_json([_dump(info) for info in models])
        return EXIT_OK
    rows = []
    for info in models:
        prompt, completion = per_million(info.pricing)
        rows.append(
            [
                info.id,
                info.name,
                info.is_free,
                f"{info.context_length:,}" if info.context_length else None,
                _price(prompt),
                _price(completion),
            ]
        )
    ui.table(
        ["id", "name", "free", "context", "prompt $/1M", "completion $/1M"],
        rows,
        right=("context", "prompt $/1M", "completion $/1M"),
    )
    ui.note(f"{len(models)} model{'s' if len(models) != 1 else ''}")
    return EXIT_OK


# --- embeddings ---------------------------------------------------------------------------------------


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity of two vectors (0.0 when either is all zeros)."""
    dot = sum(x * y for x, y in zip(a, b))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


def run_embed(context: Context) -> int:
    args, ui = context.args, context.ui
    fields: Dict[str, Any] = {"model": args.model, "input": list(args.texts)}
    if args.dimensions is not None:
        fields["dimensions"] = args.dimensions
    result = context.client().embeddings.create(**fields)
    if ui.json_mode:
        ui.emit_json(_dump(result))
        return EXIT_OK
    vectors = [item.floats() for item in sorted(result.data, key=lambda item: item.index)]
    rows = []
    for index, (text, vector) in enumerate(zip(args.texts, vectors)):
        preview = ", ".join(f"{value:.4f}" for value in vector[:4]) + (", …" if len(vector) > 4 else "")
        rows.append([index, _one_line(text, 50), len(vector), f"[{preview}]"])
    ui.table(["#", "text", "dims", "vector"], rows, right=("#", "dims"))
    if 1 < len(vectors) <= 8:
        header = ["", *(str(i) for i in range(len(vectors)))]
        matrix = [[str(i), *(f"{cosine(a, b):.3f}" for b in vectors)] for i, a in enumerate(vectors)]
        ui.table(header, matrix, title="cosine similarity", right=tuple(header[1:]))
    if result.usage is not None and result.usage.total_tokens is not None:
        ui.note(f"[{result.model} · {result.usage.total_tokens} tokens]")
    return EXIT_OK


# --- rag ----------------------------------------------------------------------------------------------

_EXTRA_TYPES = {".md": "text/markdown", ".markdown": "text/markdown", ".jsonl": "application/jsonl"}


def _mime_type(path: pathlib.Path, override: Optional[str]) -> str:
    if override:
        return override
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or _EXTRA_TYPES.get(path.suffix.lower(), "application/octet-stream")


class _Steps:
    """Progress over a few named items: a rich progress bar on a terminal, plain lines otherwise.

    Progress goes to stderr, so stdout keeps only the results.
    """

    def __init__(self, context: Context, total: int, description: str) -> None:
        self.ui = context.ui
        self.progress: Any = None
        self.task: Any = None
        if self.ui.use_rich and not self.ui.json_mode and _stderr_tty(self.ui):
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

            self.progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                console=Console(file=self.ui.err, highlight=False),
                transient=True,
            )
            self.progress.start()
            self.task = self.progress.add_task(description, total=total)

    def status(self, text: str) -> None:
        if self.progress is not None:
            self.progress.update(self.task, description=text)
        elif not self.ui.json_mode:
            self.ui.note(text)

    def advance(self) -> None:
        if self.progress is not None:
            self.progress.advance(self.task)

    def set(self, completed: int, total: Optional[int], text: str) -> None:
        if self.progress is not None:
            self.progress.update(self.task, completed=completed, total=total, description=text)
        elif not self.ui.json_mode:
            self.ui.note(text)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


def _stderr_tty(ui: Any) -> bool:
    try:
        return bool(ui.err.isatty())
    except (AttributeError, ValueError):
        return False


def run_rag_upload(context: Context) -> int:
    args, ui = context.args, context.ui
    paths = _existing_files(args.files)
    rag = context.client().rag
    embed = not args.no_embed
    results: List[Dict[str, Any]] = []
    steps = _Steps(context, len(paths) * (2 if args.wait else 1), "uploading")
    try:
        for path in paths:
            context.action = f"uploading {path}"
            steps.status(f"uploading {path.name}")
            created = rag.upload_file(
                file_name=path.name,
                mime_type=_mime_type(path, args.mime_type),
                content=path,
                embed=embed,
            )
            steps.advance()
            row: Dict[str, Any] = {"file": str(path), "file_id": created.file_id}
            if args.wait:
                context.action = f"waiting for {path} ({created.file_id})"
                steps.status(f"{'embedding' if embed else 'storing'} {path.name}")
                status = rag.wait_until_ready(
                    created.file_id,
                    until="embedded" if embed else "uploaded",
                    timeout=args.wait_timeout,
                    poll_interval=0.25,
                )
                steps.advance()
                row.update(upload_status=status.upload_status, embedding_status=status.embedding_status)
            results.append(row)
    finally:
        steps.close()
    if ui.json_mode:
        ui.emit_json(results)
        return EXIT_OK
    columns = ["file", "file id"] + (["upload", "embedding"] if args.wait else [])
    rows = [
        [row["file"], row["file_id"], *([row["upload_status"], row["embedding_status"]] if args.wait else [])]
        for row in results
    ]
    ui.table(columns, rows)
    if embed and not args.wait:
        ui.note("embedding runs in the background; `meshapi rag list` shows when the files are ready")
    return EXIT_OK


def _take(items: Iterator[Any], limit: Optional[int]) -> List[Any]:
    taken: List[Any] = []
    for item in items:
        if limit is not None and len(taken) >= limit:
            break
        taken.append(item)
    return taken


def run_rag_list(context: Context) -> int:
    args, ui = context.args, context.ui
    files = _take(context.client().rag.iter_files(page_size=min(200, args.limit or 50)), args.limit)
    if ui.json_mode:
        ui.emit_json([_dump(item) for item in files])
        return EXIT_OK
    ui.table(
        ["file id", "name", "type", "bytes", "upload", "embedding", "created"],
        [
            [
                f.file_id,
                f.file_name,
                f.mime_type,
                f.size_bytes,
                f.upload_status,
                f.embedding_status,
                f.created_at,
            ]
            for f in files
        ],
        right=("bytes",),
    )
    ui.note(f"{len(files)} file{'s' if len(files) != 1 else ''}")
    return EXIT_OK


def run_rag_search(context: Context) -> int:
    args, ui = context.args, context.ui
    fields: Dict[str, Any] = {"query": args.query, "top_k": args.top_k}
    if args.file_ids:
        fields["file_ids"] = args.file_ids
    result = context.client().rag.search(**fields)
    if ui.json_mode:
        ui.emit_json(_dump(result))
        return EXIT_OK
    ui.table(
        ["#", "score", "file", "text"],
        [
            [rank, f"{hit.score:.3f}", hit.file_name or hit.file_id, _one_line(hit.text, 90)]
            for rank, hit in enumerate(result.results, 1)
        ],
        right=("#", "score"),
    )
    if not result.results:
        ui.note("no matches (are the files embedded yet? `meshapi rag list` shows their status)")
    return EXIT_OK


# --- batches ------------------------------------------------------------------------------------------


def load_batch_requests(path: pathlib.Path) -> List[Dict[str, Any]]:
    """Request items from a JSONL file: ``{"custom_id", "body"}`` or a full item per line.

    A line that is a bare chat request (it has ``messages``) becomes the body of an item whose
    ``custom_id`` is ``line-<n>``. Blank lines and ``#`` comments are skipped.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    items: List[Dict[str, Any]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            value = json.loads(line)
        except ValueError as exc:
            raise UsageError(f"{path}:{number}: not valid JSON ({exc.args[0]})") from None
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
    _fields(
        context,
        [
            ("id", batch.id),
            ("status", batch.status),
            ("model", batch.model),
            ("requests", _counts(batch)),
            ("created", _when(batch.created_at)),
            ("completed", _when(batch.completed_at) if batch.completed_at else None),
        ],
    )
    if batch.results:
        rows = []
        for result in batch.results:
            if result.error is not None:
                rows.append(
                    [result.custom_id, "error", _one_line(f"{result.error.code}: {result.error.message}", 70)]
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
            rows.append([result.custom_id, status, _one_line(content, 70)])
        context.ui.line()
        context.ui.table(["custom id", "status", "reply"], rows, title="results")


def run_batches_create(context: Context) -> int:
    args, ui = context.args, context.ui
    (path,) = _existing_files([args.file])
    requests = load_batch_requests(path)
    fields: Dict[str, Any] = {"requests": requests}
    if args.completion_window:
        fields["completion_window"] = args.completion_window
    batch = context.client().batches.create(**fields)
    if args.watch:
        return _watch(context, batch.id, args.interval, 3600.0)
    if ui.json_mode:
        ui.emit_json(_dump(batch))
        return EXIT_OK
    _show_batch(context, batch)
    ui.note(f"follow it with: meshapi batches watch {batch.id}")
    return EXIT_OK


def run_batches_list(context: Context) -> int:
    args, ui = context.args, context.ui
    batches = _take(context.client().batches.iter_batches(page_size=min(100, args.limit)), args.limit)
    if ui.json_mode:
        ui.emit_json([_dump(batch) for batch in batches])
        return EXIT_OK
    ui.table(
        ["id", "status", "model", "requests", "created"],
        [[b.id, b.status, b.model, _counts(b), _when(b.created_at)] for b in batches],
    )
    return EXIT_OK


def run_batches_get(context: Context) -> int:
    batch = context.client().batches.get(context.args.batch_id)
    if context.ui.json_mode:
        context.ui.emit_json(_dump(batch))
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
    steps = _Steps(context, 1, f"batch {batch_id}")
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
        ui.emit_json(_dump(batch))
    else:
        _show_batch(context, batch)
    if batch.status != "completed":
        ui.note(f"meshapi: batch {batch_id} ended {batch.status}")
        return EXIT_API
    return EXIT_OK


def run_batches_cancel(context: Context) -> int:
    batch = context.client().batches.cancel(context.args.batch_id)
    if context.ui.json_mode:
        context.ui.emit_json(_dump(batch))
    else:
        _show_batch(context, batch)
    return EXIT_OK


# --- templates ----------------------------------------------------------------------------------------


def _show_template(context: Context, template: Any) -> None:
    _fields(
        context,
        [
            ("id", template.id),
            ("name", template.name),
            ("model", template.model),
            ("description", template.description),
            ("system", template.system),
            ("variables", ", ".join(template.variables) if template.variables else None),
            ("updated", template.updated_at),
        ],
    )


def run_templates_list(context: Context) -> int:
    ui = context.ui
    templates = list(context.client().templates.list())
    if ui.json_mode:
        ui.emit_json([_dump(t) for t in templates])
        return EXIT_OK
    ui.table(
        ["id", "name", "model", "description", "updated"],
        [[t.id, t.name, t.model, _one_line(t.description, 50) or None, t.updated_at] for t in templates],
    )
    return EXIT_OK


def run_templates_get(context: Context) -> int:
    template = context.client().templates.get(context.args.template_id)
    if context.ui.json_mode:
        context.ui.emit_json(_dump(template))
    else:
        _show_template(context, template)
    return EXIT_OK


def _template_fields(args: Any) -> Dict[str, Any]:
    return {
        key: getattr(args, key)
        for key in ("name", "system", "model", "description")
        if getattr(args, key, None) is not None
    }


def run_templates_create(context: Context) -> int:
    template = context.client().templates.create(**_template_fields(context.args))
    if context.ui.json_mode:
        context.ui.emit_json(_dump(template))
    else:
        _show_template(context, template)
    return EXIT_OK


def run_templates_update(context: Context) -> int:
    fields = _template_fields(context.args)
    if not fields:
        raise UsageError("nothing to update: give --name, --system, --model or --description")
    template = context.client().templates.update(context.args.template_id, **fields)
    if context.ui.json_mode:
        context.ui.emit_json(_dump(template))
    else:
        _show_template(context, template)
    return EXIT_OK


def run_templates_delete(context: Context) -> int:
    template_id = context.args.template_id
    context.client().templates.delete(template_id)
    if context.ui.json_mode:
        context.ui.emit_json({"id": template_id, "deleted": True})
    else:
        context.ui.line(f"deleted template {template_id}")
    return EXIT_OK


# --- images -------------------------------------------------------------------------------------------


def _image_bytes(context: Context, item: Any) -> bytes:
    try:
        data: bytes = item.image_bytes()
        return data
    except ValueError:
        if not item.url:
            raise
    # Hosted at a URL: fetch it without the API key (it is a plain download).
    import httpx

    from .._errors import APIConnectionError

    context.action = "downloading the image"
    try:
        response = httpx.get(item.url, timeout=60.0, follow_redirects=True)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise APIConnectionError(f"could not download the image from its URL: {type(exc).__name__}") from None
    return response.content


def _output_paths(output: str, count: int) -> List[pathlib.Path]:
    path = pathlib.Path(output)
    if count == 1:
        return [path]
    return [path.with_name(f"{path.stem}-{index}{path.suffix}") for index in range(1, count + 1)]


def run_images_generate(context: Context) -> int:
    args, ui = context.args, context.ui
    target = pathlib.Path(args.output)
    if not target.parent.is_dir():
        raise UsageError(f"no such directory: {target.parent}")
    fields: Dict[str, Any] = {"prompt": args.prompt, "model": args.model, "response_format": "b64_json"}
    if args.size:
        fields["size"] = args.size
    if args.n != 1:
        fields["n"] = args.n
    result = context.client().images.generate(**fields)
    if not result.data:
        from .._errors import APIResponseValidationError

        raise APIResponseValidationError("the gateway returned no image", request_id=result._request_id or "")
    written = []
    for item, path in zip(result.data, _output_paths(args.output, len(result.data))):
        path.write_bytes(_image_bytes(context, item))
        written.append(
            {"path": str(path), "bytes": path.stat().st_size, "revised_prompt": item.revised_prompt}
        )
    if ui.json_mode:
        ui.emit_json({"model": args.model, "images": written})
        return EXIT_OK
    for entry in written:
        ui.line(f"wrote {entry['path']} ({entry['bytes']:,} bytes)")
    return EXIT_OK


# --- realtime -----------------------------------------------------------------------------------------


def run_realtime(context: Context) -> int:
    args, ui = context.args, context.ui
    client = context.client()
    with client.realtime.connect(model=args.model) as session:
        reply = session.send_text(args.text)
    if ui.json_mode:
        ui.emit_json({"model": args.model, "text": args.text, "reply": reply})
    else:
        ui.line(str(reply))
    return EXIT_OK
