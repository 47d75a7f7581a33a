"""Cassettes: recorded exchanges with a real gateway, as JSON Lines, and how requests are matched to them.

One line per exchange, written by the recording proxy (:mod:`meshapi_gateway.record.proxy`)::

    {"version": 1, "recorded_at": 1764612345.6,
     "request": {"method": "POST", "path": "/v1/chat/completions", "query": "", "content_type": "...",
                 "json": {...}}                      # or "body_b64" for a body that is not JSON
     "response": {"status": 200, "headers": {...}, "request_id": "req_...", "streamed": true,
                  "chunks": [{"ms": 41.2, "text": "data: {...}\\n\\n"}, ...]}}   # "b64" for binary

No request header is written (so no token can be), the request's secret query parameters and JSON body
fields (``api_key``, ``token``, ...: :mod:`meshapi_gateway.record.redact`) are written redacted, response
headers lose ``set-cookie`` and the hop-by-hop ones, and the upstream token is scrubbed from everything
else. ``ms`` is the time since the request was sent upstream; replay can keep that pace (``speed=1``),
go faster (``speed=10``) or send everything at once (``speed=0``, the default).

Every line is checked when the file is loaded (:mod:`~meshapi_gateway.record.cassette_check`): a
broken or hostile one is a :class:`CassetteError` naming the file and line, before any request.

Matching: method, path, query (order-free) and the normalised body: JSON with the keys in
:data:`IGNORED_FIELDS` removed at the top level and the rest compared canonically (key order and
whitespace do not matter), secrets redacted on both sides; a multipart body with its random boundary
replaced; headers never count (``Idempotency-Key``, ``X-Request-Id``, ``User-Agent`` and the token all
vary between runs). Identical requests are answered with their recorded exchanges in order; once those
run out the last one repeats.

A request that matches nothing gets the closest recorded exchange named in its error
(:meth:`Cassette.closest`). That search is bounded: each exchange is compared field by field (the
top-level JSON keys, at most :data:`MAX_COMPARED_FIELDS`, each through a digest of its whole value and
its first :data:`PREVIEW_CHARS` characters, both prepared when the file is loaded), never by a text
diff of whole bodies; the proxy runs it in a worker thread, and after :data:`CLOSEST_BUDGET` seconds
it names the best exchange found so far.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import threading
import time
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import parse_qsl, urlencode

from .cassette_check import VERSION, parse_exchange
from .redact import redact_json, redact_query_string

__all__ = ["IGNORED_FIELDS", "Cassette", "CassetteError", "CassetteWriter", "normalise", "request_key"]

#: Top-level JSON body fields that do not take part in matching.
IGNORED_FIELDS = frozenset({"stream_options"})
#: The closest-match search (:meth:`Cassette.closest`): seconds it may take, fields compared per
#: exchange, characters of each field's value compared for likeness.
CLOSEST_BUDGET = 2.0
MAX_COMPARED_FIELDS = 64
PREVIEW_CHARS = 256
_BOUNDARY = re.compile(r"boundary=\"?([^\";]+)\"?", re.IGNORECASE)


class CassetteError(ValueError):
    """A cassette file that cannot be read or holds a line replay could not send.

    The message is one line: ``cassette PATH:LINE: what is wrong`` (or ``cannot read cassette PATH: ...``).
    """


def _chunk(ms: float, data: bytes) -> Dict[str, Any]:
    try:
        return {"ms": round(ms, 3), "text": data.decode("utf-8")}
    except UnicodeDecodeError:
        return {"ms": round(ms, 3), "b64": base64.b64encode(data).decode("ascii")}


def chunk_bytes(chunk: Dict[str, Any]) -> bytes:
    if "b64" in chunk:
        return base64.b64decode(chunk["b64"])
    return str(chunk.get("text", "")).encode("utf-8")


def request_entry(method: str, path: str, query: str, content_type: str, body: bytes) -> Dict[str, Any]:
    """The ``request`` half of an exchange (no headers; query and JSON body with their secrets redacted)."""
    query = redact_query_string(query)
    entry: Dict[str, Any] = {"method": method, "path": path, "query": query, "content_type": content_type}
    parsed = _json(body) if body and "json" in content_type else None
    if parsed is not None:
        entry["json"] = redact_json(parsed)
    elif body:
        entry["body_b64"] = base64.b64encode(body).decode("ascii")
    return entry


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


def normalise(request: Dict[str, Any]) -> str:
    """The body as it takes part in matching (see the module docstring)."""
    if "json" in request:
        data = redact_json(request["json"])  # a cassette recorded before redaction still matches
        if isinstance(data, dict):
            data = {k: v for k, v in data.items() if k not in IGNORED_FIELDS}
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    raw = base64.b64decode(request["body_b64"]) if request.get("body_b64") else b""
    found = _BOUNDARY.search(str(request.get("content_type", "")))
    if found:
        raw = raw.replace(found.group(1).encode("latin-1"), b"BOUNDARY")
    return raw.decode("utf-8", "replace")


def _query(query: str) -> str:
    return urlencode(sorted(parse_qsl(redact_query_string(query), keep_blank_values=True)))


def request_key(request: Dict[str, Any]) -> Tuple[str, str, str, str]:
    return (
        str(request["method"]).upper(),
        str(request["path"]),
        _query(str(request.get("query", ""))),
        normalise(request),
    )


#: A request as the closest-match search sees it: method, path, query, and per body field
#: ``name -> (digest of the whole value, first characters of it)`` (a body that is not a JSON object
#: is one field named ``""``).
_Shape = Tuple[str, str, str, Dict[str, Tuple[str, str]]]


def _field(text: str) -> Tuple[str, str]:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest(), text[:PREVIEW_CHARS]


def _shape(request: Dict[str, Any], key: Tuple[str, str, str, str]) -> _Shape:
    """What :meth:`Cassette.closest` compares, from a request and its :func:`request_key`."""
    data = redact_json(request["json"]) if "json" in request else None
    if isinstance(data, dict):
        names = sorted(str(name) for name in data if name not in IGNORED_FIELDS)[:MAX_COMPARED_FIELDS]
        fields = {
            name: _field(json.dumps(data[name], sort_keys=True, separators=(",", ":"), ensure_ascii=False))
            for name in names
        }
    else:
        fields = {"": _field(key[3])}
    return key[0], key[1], key[2], fields


def _shared_start(a: str, b: str) -> int:
    """Length of the common start of two short strings."""
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


def _likeness(mine: _Shape, theirs: _Shape) -> float:
    """0..1: how much of two requests agrees, field by field (bounded work, see the module docstring)."""
    names = sorted(set(mine[3]) | set(theirs[3]))[:MAX_COMPARED_FIELDS]  # each side has at most that many
    score = 1.0 if mine[2] == theirs[2] else 0.0  # the query counts as one field
    for name in names:
        a, b = mine[3].get(name), theirs[3].get(name)
        if a is None or b is None:
            continue
        if a[0] == b[0]:
            score += 1.0
        else:  # a shared start of the value counts for up to half a field
            score += 0.5 * _shared_start(a[1], b[1]) / max(len(a[1]), len(b[1]), 1)
    return score / (len(names) + 1)


class Cassette:
    """The exchanges of one cassette file, ready to answer requests (thread-safe)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.exchanges: List[Dict[str, Any]] = []
        self._by_key: Dict[Tuple[str, str, str, str], List[int]] = {}
        self._used: Dict[Tuple[str, str, str, str], int] = {}
        self._shapes: List[_Shape] = []
        self._lock = threading.Lock()
        try:
            with open(path, "rb") as handle:
                lines = handle.readlines()
        except OSError as exc:
            raise CassetteError(f"cannot read cassette {path}: {exc.strerror}") from None
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                exchange = parse_exchange(line)  # every field replay sends, checked (cassette_check.py)
                key = request_key(exchange["request"])
            except (ValueError, KeyError, TypeError, RecursionError) as exc:
                raise CassetteError(f"cassette {path}:{number}: {exc}") from None
            self._by_key.setdefault(key, []).append(len(self.exchanges))
            self._shapes.append(_shape(exchange["request"], key))
            self.exchanges.append(exchange)

    def take(self, request: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        """The next recorded exchange for this request, or ``None``."""
        key = request_key(request)
        with self._lock:
            indexes = self._by_key.get(key)
            if not indexes:
                return None
            used = self._used.get(key, 0)
            self._used[key] = used + 1
            return self.exchanges[indexes[min(used, len(indexes) - 1)]]

    def closest(self, request: Dict[str, Any], budget: float = CLOSEST_BUDGET) -> str:
        """Words for the recorded exchange nearest to ``request`` (for the "no match" error).

        Bounded work per exchange and ``budget`` seconds in all (then the best found so far is named);
        blocking, so async callers run it in a worker thread (the proxy does).
        """
        if not self.exchanges:
            return "the cassette is empty"
        deadline = time.monotonic() + budget
        mine = _shape(request, request_key(request))
        same_route = [i for i, shape in enumerate(self._shapes) if shape[:2] == mine[:2]]
        pool = same_route or range(len(self._shapes))
        index, best_score, searched = pool[0], -1.0, 0
        for i in pool:
            if searched and time.monotonic() > deadline:
                break
            score = _likeness(mine, self._shapes[i])
            searched += 1
            if score > best_score:
                index, best_score = i, score
        recorded = self.exchanges[index]["request"]
        where = f"exchange #{index + 1}: {recorded['method']} {recorded['path']}"
        theirs = self._shapes[index][3]
        if isinstance(request.get("json"), dict) and isinstance(recorded.get("json"), dict):
            fields = sorted(k for k in set(mine[3]) | set(theirs) if mine[3].get(k) != theirs.get(k))
            if fields:
                where += f" (differs in: {', '.join(fields)})"
        elif not same_route:
            where += " (no recorded exchange for this method and path)"
        if searched < len(pool):
            where += f" (best of the first {searched} of {len(pool)} exchanges compared)"
        return where


class CassetteWriter:
    """Appends exchanges to a cassette file, one JSON line each, flushed as it goes (thread-safe)."""

    def __init__(self, path: str, secrets: Tuple[str, ...] = ()) -> None:
        self.path = path
        self._secrets = tuple(s for s in secrets if s)
        self._lock = threading.Lock()
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "…redacted")
        return text

    def write(
        self,
        request: Dict[str, Any],
        status: int,
        headers: Dict[str, str],
        chunks: List[Tuple[float, bytes]],
        *,
        complete: bool = True,
    ) -> Dict[str, Any]:
        streamed = headers.get("content-type", "").startswith("text/event-stream")
        exchange: Dict[str, Any] = {
            "version": VERSION,
            "recorded_at": round(time.time(), 3),
            "request": request,
            "response": {
                "status": status,
                "headers": headers,
                "request_id": headers.get("x-request-id"),
                "streamed": streamed,
                "chunks": [_chunk(ms, data) for ms, data in chunks],
            },
        }
        if not complete:
            exchange["response"]["complete"] = False
        line = self._scrub(json.dumps(exchange, ensure_ascii=False, separators=(",", ":")))
        with self._lock, open(self.path, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")
        return exchange
