"""``/v1/web/search`` (SDK ``client.web``; docs/protocol.md §4.12): search a local corpus, never the internet.

The corpus is the built-in documents (``fakes/corpus.py``) plus the caller's RAG files that finished
embedding (as ``https://rag.local/<file_id>/<file_name>`` results, one per best chunk). Results are
ranked by the same sparse-vector similarity RAG search uses; ``include_domains`` / ``exclude_domains``
match a host or any of its subdomains. ``search_depth="advanced"`` returns whole documents instead of
a snippet; ``include_answer`` adds an answer drawn from the top results, each sentence cited by its
result number (``fakes/synthesis.py``). ``include_page_content`` with ``provider="tinyfish"`` adds each
result's page text, cut at ``PAGE_CONTENT_LIMIT`` characters (``page_content_truncated``); other engines
ignore the flag and return no page text (docs/protocol.md §V5).
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import quote, urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..fakes import synthesis, vectors
from ..fakes.corpus import DOCUMENTS, Document
from ..http.context import gateway, json_body, json_response, owner, request_id
from ..http.validation import Bool, Int, ListOf, Literal, Obj, Str, opt, req
from ..store.state import GatewayState

_DIMENSIONS = 512
_SNIPPET = 240
#: Characters of page text a result carries at most (the docs leave the length open; ours).
PAGE_CONTENT_LIMIT = 2000
#: The only engine that extracts page text.
PAGE_ENGINE = "tinyfish"
# Storage kinds written by routes/rag.py (read here, never written).
_RAG_FILES, _RAG_CHUNKS, _RAG_TEXT = "file", "chunks", "file_text"

SEARCH = Obj(
    {
        "query": req(Str(min_length=1, max_length=2000)),
        "model": opt(Str()),
        "provider": opt(Literal("native", "tavily", PAGE_ENGINE)),
        "max_results": opt(Int(ge=1, le=20)),
        "search_depth": opt(Literal("basic", "advanced")),
        "include_domains": opt(ListOf(Str())),
        "exclude_domains": opt(ListOf(Str())),
        "include_answer": opt(Bool()),
        "include_page_content": opt(Bool()),
    }
)


def _host(value: str) -> str:
    value = value.strip().lower()
    host = (urlsplit(value).hostname or "") if "//" in value else value.split("/", 1)[0]
    return host[4:] if host.startswith("www.") else host


def _host_matches(url: str, domains: List[str]) -> bool:
    """True when the URL's host is one of ``domains`` or a subdomain of one (``www.`` ignored)."""
    host = _host(url)
    return any(host == d or host.endswith("." + d) for d in map(_host, domains) if d)


def _rag_documents(state: GatewayState, who: str) -> List[Document]:
    docs: List[Document] = []
    for record in state.store.list(_RAG_FILES, who):
        if record.get("embedding_status") != "ready":
            continue
        stored = state.store.get(_RAG_CHUNKS, record["file_id"])
        chunks = stored[1]["chunks"] if stored else []
        url = f"https://rag.local/{record['file_id']}/{quote(record['file_name'])}"
        text = state.store.get(_RAG_TEXT, record["file_id"])
        page = text[1]["text"] if text else None
        for chunk in chunks:
            docs.append(
                Document(record["file_name"], url, chunk["parent_text"], record.get("created_at"), page)
            )
    return docs


def _snippet(text: str, query_words: List[str]) -> str:
    if len(text) <= _SNIPPET:
        return text
    lowered = text.lower()
    hits = [lowered.find(w) for w in query_words if lowered.find(w) >= 0]
    start = max(0, min(hits) - 60) if hits else 0
    return ("..." if start else "") + text[start : start + _SNIPPET].strip() + "..."


def _page_fields(doc: Document) -> Dict[str, Any]:
    text = doc.page_text()
    cut = len(text) > PAGE_CONTENT_LIMIT
    return {"page_content": text[:PAGE_CONTENT_LIMIT] if cut else text, "page_content_truncated": cut}


def rank(query: str, docs: List[Document]) -> List[Tuple[float, Document]]:
    query_vector = vectors.sparse_embedding(query, _DIMENSIONS)
    scored = [
        (vectors.dot(query_vector, vectors.sparse_embedding(f"{d.title} {d.content}", _DIMENSIONS)), d)
        for d in docs
    ]
    scored = [(s, d) for s, d in scored if s > 0.05]
    scored.sort(key=lambda item: -item[0])
    return scored


async def web_search(request: Request) -> Response:
    body = await json_body(request, SEARCH)
    state = gateway(request)
    query = body["query"]
    docs = list(DOCUMENTS) + _rag_documents(state, owner(request))
    if body.get("include_domains"):
        docs = [d for d in docs if _host_matches(d.url, body["include_domains"])]
    if body.get("exclude_domains"):
        docs = [d for d in docs if not _host_matches(d.url, body["exclude_domains"])]
    best: Dict[str, Tuple[float, Document]] = {}
    for score, doc in rank(query, docs):
        best.setdefault(doc.url, (score, doc))  # one result per URL: its best chunk
    ranked = sorted(best.values(), key=lambda item: -item[0])[: body.get("max_results") or 5]
    advanced = body.get("search_depth") == "advanced"
    words = [w.lower() for w in re.findall(r"\w+", query) if len(w) > 2]
    pages = bool(body.get("include_page_content")) and body.get("provider") == PAGE_ENGINE
    results: List[Dict[str, Any]] = [
        {
            "title": doc.title,
            "url": doc.url,
            "content": doc.content if advanced else _snippet(doc.content, words),
            "score": round(min(1.0, score), 4),
            "published_date": doc.published_date,
            **(_page_fields(doc) if pages else {}),
        }
        for score, doc in ranked
    ]
    answer: Optional[str] = None
    if body.get("include_answer") and ranked:
        answer = synthesis.search_answer(query, [(doc.title, doc.content) for _, doc in ranked])
    return json_response(
        {
            "query": query,
            "answer": answer,
            "results": results,
            "provider": body.get("provider") or "native",
            "request_id": request_id(request),
        }
    )


ROUTES = [
    Route("/v1/web/search", web_search, methods=["POST"]),
]
