"""The resource commands: models, embed, rag (batches, templates, images and realtime have their own).

Each ``run_*`` takes the ``Context`` and returns the exit code. Results go to stdout (a table, or JSON
with ``--json``); progress and notes go to stderr. Input files are checked before any request is sent,
so a missing file is a usage error (exit 2) that leaves nothing half-created on the gateway.
"""

from __future__ import annotations

import math
import mimetypes
import pathlib
import time
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from ._context import Context
from ._failures import EXIT_OK, UsageError
from ._pricing import format_usd, per_million

__all__ = [
    "cosine",
    "run_embed",
    "run_models",
    "run_rag_list",
    "run_rag_search",
    "run_rag_upload",
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
