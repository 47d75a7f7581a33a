"""RAG files (docs/protocol.md §5): register, signed upload, (re)embed, status, list and vector search.

Status changes are computed from timestamps whenever a file is looked at ("lazy" background work):
after the upload lands, an ``embed=true`` file is ``queued``; one ``embed_step_seconds`` later it is
``processing``; after another step its text is chunked and embedded and it becomes ``ready`` (or
``failed`` with ``last_error_code`` when no text could be extracted). Nothing runs between requests,
nothing is lost on a restart, and polling clients see the same transitions as with the real service.

The signed upload URL points at this server (``/_upload/<file_id>?expires=..&signature=..``); like a
storage bucket it needs no bearer token, checks the signature, the expiry and the declared
``Content-Type``, and answers errors with an XML body.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
import time
from array import array
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..errors import not_found
from ..fakes import engine, vectors
from ..fakes.extract import ExtractionBudgetError, check_text_budget, chunk_text, extract_text
from ..http.context import gateway, json_body, json_response, owner
from ..http.validation import Bool, Int, ListOf, MapOf, Obj, Str, check_query, opt, req
from ..ids import iso_timestamp, new_uuid
from ..store.state import GatewayState
from ..store.storage import Record, public

UPLOAD_TTL_SECONDS = 600
RAG_DIMENSIONS = 512
EMBED_USD_PER_1K = 0.00002

INIT = Obj(
    {
        "file_name": req(Str(min_length=1)),
        "mime_type": req(Str(min_length=1)),
        "embed": opt(Bool()),
        "metadata": opt(MapOf()),
    }
)
EMBED = Obj(
    {
        "file_ids": req(ListOf(Str(), min_length=1, max_length=100)),
        "wait": opt(Bool()),
        "metadata": opt(MapOf()),
    }
)
SEARCH = Obj(
    {
        "query": req(Str(min_length=1)),
        "top_k": opt(Int(ge=1, le=50)),
        "file_ids": opt(ListOf(Str(), min_length=1)),
        "filter": opt(MapOf()),
        "date_from": opt(Int()),
        "date_to": opt(Int()),
    }
)

KIND, TEXT, CHUNKS = "file", "file_text", "chunks"


# -- state transitions ----------------------------------------------------------------------------------


def _touch(record: Record, at: float) -> None:
    record["updated_at"] = iso_timestamp(at)


#: One chunk's vector, compact: feature indices and their values (a dict costs ~10x more).
Compact = Tuple["array[int]", "array[float]"]


def _compact(vector: vectors.Sparse) -> Compact:
    return array("H", vector.keys()), array("d", vector.values())


def _score(query: List[float], vector: Compact) -> float:
    indices, values = vector
    return sum(query[i] * v for i, v in zip(indices, values))


def _chunk_vectors(state: GatewayState, file_id: str) -> List[Compact]:
    cache: Dict[str, List[Compact]] = state.cache.setdefault("rag_vectors", {})
    found = cache.get(file_id)
    if found is None:
        stored = state.store.get(CHUNKS, file_id)
        chunks = stored[1]["chunks"] if stored else []
        found = [_compact(vectors.sparse_embedding(c["text"], RAG_DIMENSIONS)) for c in chunks]
        cache[file_id] = found
    return found


def _lock(state: GatewayState) -> threading.Lock:
    lock: threading.Lock = state.cache.setdefault("rag_lock", threading.Lock())
    return lock


def _finish_embedding(state: GatewayState, who: str, record: Record, at: float) -> None:
    stored = state.store.get(TEXT, record["file_id"])
    text = stored[1]["text"] if stored else ""
    pairs = chunk_text(text)
    if not pairs:
        record["embedding_status"] = "failed"
        record["last_error_code"] = "no_text_extracted"
        _touch(record, at)
        return
    created = int(at)
    metadata = dict(record.get("_metadata") or {})
    chunks = [
        {"chunk_index": i, "text": child, "parent_text": parent, "created_at": created, "metadata": metadata}
        for i, (child, parent) in enumerate(pairs)
    ]
    state.store.put(CHUNKS, who, record["file_id"], {"chunks": chunks})
    state.cache.setdefault("rag_vectors", {}).pop(record["file_id"], None)
    tokens = sum(engine.count_tokens(child) for child, _ in pairs)
    record["embedding_status"] = "ready"
    record["last_error_code"] = None
    record["total_tokens"] = tokens
    record["total_cost_usd"] = round(tokens / 1000 * EMBED_USD_PER_1K, 10)
    record["_chunk_count"] = len(chunks)
    _touch(record, at)


def advance(state: GatewayState, who: str, record: Record, *, force: bool = False) -> Record:
    """Bring an embedding job up to date with the clock (``force`` finishes it now).

    Finishing a job chunks and embeds the whole text, so callers run this off the event loop
    (``run_in_threadpool``); the lock keeps two threads from finishing the same job twice.
    """
    with _lock(state):
        return _advance(state, who, record, force=force)


def _advance(state: GatewayState, who: str, record: Record, *, force: bool = False) -> Record:
    status = record["embedding_status"]
    started = record.get("_embed_started")
    if status not in ("queued", "processing") or started is None:
        return record
    step = state.embed_step_seconds
    elapsed = time.time() - started
    if force or elapsed >= 2 * step:
        _finish_embedding(state, who, record, started + (0 if force else 2 * step))
    elif elapsed >= step and status == "queued":
        record["embedding_status"] = "processing"
        _touch(record, started + step)
    else:
        return record
    state.store.put(KIND, who, record["file_id"], record)
    return record


def _queue(record: Record, at: float) -> None:
    record["embedding_status"] = "queued"
    record["last_error_code"] = None
    record["_embed_started"] = at
    _touch(record, at)


# -- routes ---------------------------------------------------------------------------------------------


def _signature(state: GatewayState, file_id: str, expires: int) -> str:
    message = f"{file_id}\n{expires}".encode()
    return hmac.new(state.signing_key, message, hashlib.sha256).hexdigest()


async def init_upload(request: Request) -> Response:
    body = await json_body(request, INIT)
    state, who = gateway(request), owner(request)
    at = time.time()
    file_id = new_uuid()
    expires = int(at) + UPLOAD_TTL_SECONDS
    query = urlencode({"expires": expires, "signature": _signature(state, file_id, expires)})
    signed_url = f"{str(request.base_url).rstrip('/')}/_upload/{file_id}?{query}"
    mime = body["mime_type"]
    major = mime.split("/", 1)[0].lower()
    record: Record = {
        "file_id": file_id,
        "upload_status": "pending",
        "file_name": body["file_name"],
        "file_type": major if major in ("image", "audio", "video") else "document",
        "mime_type": mime,
        "size_bytes": None,
        "asset_url": None,
        "signed_url": None,
        "signed_url_expires_at": None,
        "embedding_status": "pending",
        "created_at": iso_timestamp(at),
        "updated_at": iso_timestamp(at),
        "total_tokens": None,
        "total_cost_usd": None,
        "last_error_code": None,
        "_embed": body.get("embed", True) is not False,
        "_metadata": body.get("metadata") or {},
    }
    state.store.put(KIND, who, file_id, record)
    return json_response({"file_id": file_id, "signed_url": signed_url, "expires_at": iso_timestamp(expires)})


def _storage_error(status: int, code: str, message: str) -> Response:
    body = (
        "<?xml version='1.0' encoding='UTF-8'?>"
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    )
    return Response(body, status_code=status, media_type="application/xml")


#: Longest ``expires`` accepted on a signed upload URL (12 digits reach the year 33658).
_EXPIRES_DIGITS = 12
_ASCII_DIGITS = re.compile(r"[0-9]+")


async def upload(request: Request) -> Response:
    state = gateway(request)
    file_id = request.path_params["file_id"]
    params = request.query_params
    expires_text, signature = params.get("expires", ""), params.get("signature", "")
    if expires_text and (len(expires_text) > _EXPIRES_DIGITS or not _ASCII_DIGITS.fullmatch(expires_text)):
        return _storage_error(
            400, "InvalidArgument", "expires must be a Unix time in seconds (at most 12 digits)."
        )
    if not expires_text or not hmac.compare_digest(
        signature.encode("utf-8", "replace"), _signature(state, file_id, int(expires_text)).encode()
    ):
        return _storage_error(403, "SignatureDoesNotMatch", "The request signature does not match.")
    if int(expires_text) < time.time():
        return _storage_error(403, "ExpiredToken", "The signed URL has expired.")
    found = state.store.get(KIND, file_id)
    if found is None:
        return _storage_error(404, "NoSuchKey", "The specified key does not exist.")
    who, record = found
    declared = record["mime_type"].split(";")[0].strip().lower()
    sent = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if sent != declared:
        return _storage_error(
            403, "SignatureDoesNotMatch", f"Content-Type '{sent}' does not match the signed '{declared}'."
        )
    data = await request.body()
    embed = bool(record.get("_embed"))
    try:
        text = await run_in_threadpool(_extract, data, declared, embed)
    except ExtractionBudgetError as exc:
        return _storage_error(413, "EntityTooLarge", f"The upload cannot be processed: {exc}.")
    at = time.time()
    state.store.put(TEXT, who, file_id, {"text": text})
    record["upload_status"] = "ready"
    record["size_bytes"] = len(data)
    record["asset_url"] = f"local://files/{file_id}/{record['file_name']}"
    _touch(record, at)
    if embed:
        _queue(record, at)
    state.store.put(KIND, who, file_id, record)
    return Response(b"", status_code=200)


def _extract(data: bytes, mime_type: str, embed: bool) -> str:
    text = extract_text(data, mime_type)
    if embed:
        check_text_budget(text)
    return text


def _file(request: Request) -> Record:
    state, who = gateway(request), owner(request)
    file_id = request.path_params["file_id"]
    record = state.store.get_owned(KIND, who, file_id)
    if record is None:
        raise not_found("File", file_id)
    return advance(state, who, record)


async def get_file(request: Request) -> Response:
    return json_response(public(await run_in_threadpool(_file, request)))


async def list_files(request: Request) -> Response:
    state, who = gateway(request), owner(request)
    query = check_query(
        dict(request.query_params), {"limit": (Int(ge=1, le=200), 50), "offset": (Int(ge=0), 0)}
    )
    records = state.store.list(KIND, who)
    start, limit = query["offset"], query["limit"]

    def page() -> List[Record]:
        return [public(advance(state, who, r)) for r in records[start : start + limit]]

    files = await run_in_threadpool(page)
    return json_response({"files": files, "total": len(records), "limit": limit, "offset": start})


async def embed_files(request: Request) -> Response:
    body = await json_body(request, EMBED)
    return json_response(await run_in_threadpool(_embed_files, gateway(request), owner(request), body))


def _embed_files(state: GatewayState, who: str, body: Dict[str, Any]) -> Dict[str, Any]:
    wait = bool(body.get("wait"))
    results: List[Dict[str, Any]] = []
    for file_id in body["file_ids"]:
        record = state.store.get_owned(KIND, who, file_id)
        if record is None:
            results.append(
                {
                    "file_id": file_id,
                    "embedding_status": "not_found",
                    "chunk_count": None,
                    "error": "File not found.",
                }
            )
            continue
        advance(state, who, record)
        error: Optional[str] = None
        if record["upload_status"] != "ready":
            error = "upload_status must be ready"
        elif record["embedding_status"] not in ("pending", "failed"):
            error = "embedding_status must be pending or failed"
        else:
            if body.get("metadata"):
                record["_metadata"] = {**(record.get("_metadata") or {}), **body["metadata"]}
            _queue(record, time.time())
            state.store.put(KIND, who, file_id, record)
        if wait:
            advance(state, who, record, force=True)
        status = record["embedding_status"]
        chunk_count = record.get("_chunk_count") if status == "ready" else None
        results.append(
            {"file_id": file_id, "embedding_status": status, "chunk_count": chunk_count, "error": error}
        )
    return {"results": results}


async def search_files(request: Request) -> Response:
    body = await json_body(request, SEARCH)
    return json_response(await run_in_threadpool(_search, gateway(request), owner(request), body))


def _search(state: GatewayState, who: str, body: Dict[str, Any]) -> Dict[str, Any]:
    wanted = set(body["file_ids"]) if body.get("file_ids") else None
    conditions = body.get("filter") or {}
    date_from, date_to = body.get("date_from"), body.get("date_to")
    query_vector = vectors.dense(vectors.sparse_embedding(body["query"], RAG_DIMENSIONS), RAG_DIMENSIONS)
    scored: List[Tuple[float, int, Dict[str, Any]]] = []
    for record in state.store.list(KIND, who):
        if wanted is not None and record["file_id"] not in wanted:
            continue
        advance(state, who, record)
        if record["embedding_status"] != "ready":
            continue
        stored = state.store.get(CHUNKS, record["file_id"])
        if stored is None:
            continue
        chunks = stored[1]["chunks"]
        for chunk, vector in zip(chunks, _chunk_vectors(state, record["file_id"])):
            metadata = chunk.get("metadata") or {}
            if any(metadata.get(k) != v for k, v in conditions.items()):
                continue
            if date_from is not None and chunk["created_at"] < date_from:
                continue
            if date_to is not None and chunk["created_at"] > date_to:
                continue
            score = _score(query_vector, vector)
            hit = {
                "score": round(score, 6),
                "text": chunk["text"],
                "parent_text": chunk["parent_text"],
                "file_id": record["file_id"],
                "file_name": record["file_name"],
                "file_type": record["file_type"],
                "mime_type": record["mime_type"],
                "chunk_index": chunk["chunk_index"],
                "created_at": chunk["created_at"],
                "metadata": metadata,
            }
            scored.append((score, len(scored), hit))
    scored.sort(key=lambda item: (-item[0], item[1]))
    return {"results": [hit for _, _, hit in scored[: body.get("top_k") or 5]]}


ROUTES = [
    Route("/v1/files", init_upload, methods=["POST"]),
    Route("/v1/files", list_files, methods=["GET"]),
    Route("/v1/files/embed", embed_files, methods=["POST"]),
    Route("/v1/files/search", search_files, methods=["POST"]),
    Route("/v1/files/{file_id}", get_file, methods=["GET"]),
    Route("/_upload/{file_id}", upload, methods=["PUT"]),
]
