"""``meshapi embed`` and ``meshapi rag upload|list|search``: vectors for texts, and files to retrieve from.

Why it exists: the two retrieval commands (embeddings shown with their cosine similarities; files
uploaded, listed and searched). Input files are checked before any request is sent, so a missing file
is a usage error (exit 2) that leaves nothing half-created on the gateway. Results go to stdout (a
table, or JSON with ``--json``); progress and notes go to stderr.
"""

from __future__ import annotations

import itertools
import math
import pathlib
from typing import Any, Dict, List, Optional, Sequence

from ._args import Commands, add_budget, existing_file, positive_float, positive_int
from ._context import Context
from ._failures import EXIT_OK
from ._ui import Steps, dump, one_line

__all__ = [
    "DEFAULT_EMBEDDING_MODEL",
    "cosine",
    "register",
    "run_embed",
    "run_rag_list",
    "run_rag_search",
    "run_rag_upload",
]

DEFAULT_EMBEDDING_MODEL = "openai/text-embedding-3-small"


def register(commands: Commands) -> None:
    embed = commands.leaf("embed", help="embed texts", handler=run_embed, action="embedding")
    add_budget(embed)
    embed.add_argument("texts", nargs="+", metavar="TEXT", help="text to embed (several: similarities shown)")
    embed.add_argument(
        "-m", "--model", default=DEFAULT_EMBEDDING_MODEL, help=f"model id (default {DEFAULT_EMBEDDING_MODEL})"
    )
    embed.add_argument("--dimensions", type=positive_int, help="vector size, when the model supports it")

    rag = commands.group("rag", help="files for retrieval: upload, list, search", dest="rag_command")
    upload = rag.leaf(
        "upload", help="upload files (embedded unless --no-embed)", handler=run_rag_upload, action="uploading"
    )
    upload.add_argument("files", nargs="+", metavar="FILE", help="text files to upload (several at once)")
    upload.add_argument("--no-embed", action="store_true", help="store only; embed later")
    upload.add_argument("--wait", action="store_true", help="wait until each file is ready")
    upload.add_argument("--mime-type", help="content type for every file (default: guessed from the name)")
    upload.add_argument(
        "--wait-timeout",
        type=positive_float,
        default=300.0,
        metavar="SECONDS",
        help="with --wait (default 300)",
    )
    listing = rag.leaf("list", help="list your files", handler=run_rag_list, action="listing files")
    listing.add_argument("--limit", type=positive_int, help="show at most this many")
    search = rag.leaf(
        "search", help="search your embedded files", handler=run_rag_search, action="searching files"
    )
    search.add_argument("query", help="the question to find passages for")
    search.add_argument("-k", "--top-k", type=positive_int, default=5, help="number of results (default 5)")
    search.add_argument(
        "--file-id", dest="file_ids", action="append", metavar="ID", help="only this file (repeat)"
    )


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
        ui.emit_json(dump(result))
        return EXIT_OK
    vectors = [item.floats() for item in sorted(result.data, key=lambda item: item.index)]
    rows = []
    for index, (text, vector) in enumerate(zip(args.texts, vectors)):
        preview = ", ".join(f"{value:.4f}" for value in vector[:4]) + (", …" if len(vector) > 4 else "")
        rows.append([index, one_line(text, 50), len(vector), f"[{preview}]"])
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
    import mimetypes  # here, not at the top: every `meshapi` start imports this module

    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or _EXTRA_TYPES.get(path.suffix.lower(), "application/octet-stream")


def run_rag_upload(context: Context) -> int:
    args, ui = context.args, context.ui
    paths = [existing_file(raw) for raw in args.files]
    rag = context.client().rag
    embed = not args.no_embed
    results: List[Dict[str, Any]] = []
    steps = Steps(ui, len(paths) * (2 if args.wait else 1), "uploading")
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


def run_rag_list(context: Context) -> int:
    args, ui = context.args, context.ui
    pages = context.client().rag.iter_files(page_size=min(200, args.limit or 50))
    files = list(itertools.islice(pages, args.limit))
    if ui.json_mode:
        ui.emit_json([dump(item) for item in files])
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
        ui.emit_json(dump(result))
        return EXIT_OK
    ui.table(
        ["#", "score", "file", "text"],
        [
            [rank, f"{hit.score:.3f}", hit.file_name or hit.file_id, one_line(hit.text, 90)]
            for rank, hit in enumerate(result.results, 1)
        ],
        right=("#", "score"),
    )
    if not result.results:
        ui.note("no matches (are the files embedded yet? `meshapi rag list` shows their status)")
    return EXIT_OK
