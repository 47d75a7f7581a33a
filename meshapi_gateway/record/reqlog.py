"""The request log: what the gateway received and answered, bounded, with secrets redacted.

Tests read it to count attempts and check what was sent; the inspector page (``/_inspector``) reads it
through ``/_admin/requests`` to show each exchange. So a record keeps the request (redacted headers,
query, parsed JSON body), the response (status, headers, body or the streamed events with their time
since the request arrived), latency, token usage, a cost estimate, the request id and the
Idempotency-Key.

Bounds: at most ``maxlen`` records and ``max_bytes`` bytes of memory; the oldest records go first.
What a record keeps is counted at its size in memory (:mod:`~meshapi_gateway.record.reqlog_kept`):
the record itself, its headers and query, its JSON body (kept as compact bytes, parsed when read) and
its response parts and events. One record keeps a request body up to ``max_record_body`` bytes (a
larger one is logged by size only, ``body_truncated``) and up to ``max_record_response`` bytes of
response (past it only sizes and event counts grow, ``response_truncated``).

Secrets (:mod:`meshapi_gateway.record.redact`): secret headers (``Authorization``, ``X-Api-Key``, ...), the
``Bearer.<key>`` realtime subprotocol, query parameters such as ``api_key`` and JSON body fields such as
``api_key`` / ``token`` are stored redacted (``Bearer rsk_…redacted``); the clear value never enters the log. ``record.bearer_is(token)`` /
``record.sent_secret(value)`` still answer "was this sent?" through HMACs under a process-only key.
"""

from __future__ import annotations

import hmac
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from time import monotonic as _monotonic
from typing import Any, Callable, Deque, Dict, Iterator, List, Optional

from .redact import digest, redact_request
from .reqlog_kept import (
    BAD,
    EVENT_OVERHEAD,
    PART_OVERHEAD,
    StreamEvent,
    event_data,
    loads,
    pack_json,
    strings_size,
    unpack_json,
    usage_of,
)

#: Prices a call: ``(model, prompt_tokens, completion_tokens) -> "0.00012"`` or ``None`` if unknown.
Pricer = Callable[[str, int, int], Optional[str]]


@dataclass(eq=False)
class RequestRecord:
    """One request as the gateway received it, and (once sent) its response."""

    method: str
    path: str
    query: Dict[str, str]
    headers: Dict[str, str]
    json: Any
    request_id: str
    body_size: int = 0
    time: float = field(default_factory=time.time)
    #: Response status once known (``None`` while in flight or if the connection was aborted first).
    status: Optional[int] = None
    #: The fault applied to this request, if any (a :class:`~meshapi_gateway.faults.plan.Fault`).
    fault: Optional[Any] = None
    #: Position in the log (1, 2, ...), set when appended.
    id: int = 0
    body_truncated: bool = False
    response_headers: Dict[str, str] = field(default_factory=dict)
    response_size: int = 0
    response_truncated: bool = False
    streamed: bool = False
    events: List[StreamEvent] = field(default_factory=list)
    event_count: int = 0
    #: Milliseconds from arrival to the response headers, and to the end of the response.
    latency_ms: Optional[float] = None
    duration_ms: Optional[float] = None
    done: bool = False
    tokens_in: Optional[int] = None
    tokens_out: Optional[int] = None
    cost: Optional[str] = None
    _started: float = field(default_factory=_monotonic, repr=False)
    _secrets: List[bytes] = field(default_factory=list, repr=False)
    _bearers: List[bytes] = field(default_factory=list, repr=False)
    _body_parts: List[bytes] = field(default_factory=list, repr=False)
    _sse_tail: bytes = field(default=b"", repr=False)
    _kept: int = field(default=0, repr=False)
    _response_head: int = field(default=0, repr=False)
    _fixed: Optional[int] = field(default=None, repr=False)
    _log: Optional[RequestLog] = field(default=None, repr=False, compare=False)

    @classmethod
    def received(
        cls,
        method: str,
        path: str,
        query: Dict[str, str],
        headers: Dict[str, str],
        json: Any,
        request_id: str,
        body_size: int = 0,
    ) -> RequestRecord:
        """A record for a request just read, with its secrets redacted."""
        return cls(method, path, query, headers, json, request_id, body_size)

    def __post_init__(self) -> None:
        # However the record is built, the clear secrets are replaced before it is stored.
        clean = redact_request(self.headers, self.query, self.json)
        self.headers, self.query, self.json = clean.headers, clean.query, clean.json
        self._secrets, self._bearers = clean.secrets, clean.bearers

    # -- questions tests ask ---------------------------------------------------------------------------

    def bearer_is(self, token: str) -> bool:
        """True when ``token`` was sent as a bearer: ``Authorization: Bearer`` or the realtime subprotocol
        ``Bearer.<token>`` (compared by HMAC; the token is not stored)."""
        wanted = digest(token.strip())
        return any(hmac.compare_digest(wanted, d) for d in self._bearers)

    def sent_secret(self, secret: str) -> bool:
        """True when ``secret`` was one of the redacted header, subprotocol, query or body values."""
        wanted = digest(secret.strip())
        return any(hmac.compare_digest(wanted, d) for d in self._secrets)

    @property
    def idempotency_key(self) -> Optional[str]:
        return self.headers.get("idempotency-key")

    @property
    def model(self) -> Optional[str]:
        return self._model

    # -- the JSON body: the parsed value until the record is logged, then compact bytes (reqlog_kept.py) --

    def _get_json(self) -> Any:
        return self._json_value if self._json_raw is None else unpack_json(self._json_raw)

    def _set_json(self, value: Any) -> None:
        self._json_value: Any = value
        self._json_raw: Optional[bytes] = None
        model = value.get("model") if isinstance(value, dict) else None
        self._model: Optional[str] = model if isinstance(model, str) else None

    def _keep(self, max_body: int) -> None:
        """Packs the JSON body for the log (dropped past ``max_body`` bytes) and fixes the record's size."""
        if self._json_value is not None:
            raw = None if self.body_size > max_body else pack_json(self._json_value)
            if raw is not None and len(raw) <= max_body:
                self._json_value, self._json_raw = None, raw
            elif raw is not None or self.body_size > max_body:
                self._json_value, self.body_truncated = None, True
            # else not JSON data (a record built by hand): kept as it is
        self._fixed = self._measure()

    # -- filled in by RequestLogMiddleware as the response goes out -----------------------------------------

    def _elapsed_ms(self) -> float:
        return round((_monotonic() - self._started) * 1000, 3)

    def response_started(self, status: int, headers: Dict[str, str]) -> None:
        self.status = status
        self.latency_ms = self._elapsed_ms()
        self.response_headers = dict(headers)
        self.streamed = headers.get("content-type", "").startswith("text/event-stream")
        head = strings_size(self.response_headers)
        self._response_head += head
        self._grew(head)

    def response_chunk(self, chunk: bytes, more: bool) -> None:
        """One piece of the response body as sent (cheap: constant work per byte, whatever the size)."""
        self.response_size += len(chunk)
        limit = self._log.max_record_response if self._log is not None else 1 << 20
        if self.streamed:
            self._sse_chunk(chunk, limit)
        elif chunk:
            cost = len(chunk) + PART_OVERHEAD  # what the part costs in memory, not only its bytes
            if self._kept + cost <= limit:
                self._body_parts.append(chunk)
                self._kept += cost
                self._grew(cost)
            else:
                self.response_truncated = True
        if not more:
            self.finish()

    def _sse_chunk(self, chunk: bytes, limit: int) -> None:
        if self.response_truncated:  # past the budget: only count events
            data = self._sse_tail + chunk
            self.event_count += data.replace(b"\r\n", b"\n").count(b"\n\n")
            self._sse_tail = data[-1:]
            return
        buffer = (self._sse_tail + chunk).replace(b"\r\n", b"\n")
        *blocks, tail = buffer.split(b"\n\n")
        now = self._elapsed_ms() if blocks else 0.0
        for block in blocks:
            if not block.strip():
                continue
            self.event_count += 1
            if self.response_truncated:
                continue
            text = block.decode("utf-8", "replace")
            cost = sys.getsizeof(text) + EVENT_OVERHEAD
            if self._kept + cost <= limit:
                self.events.append(StreamEvent(now, text))
                self._kept += cost
                self._grew(cost)
            else:
                self.response_truncated = True
        if len(tail) > limit - self._kept:  # one event larger than what is left: stop keeping
            self.response_truncated = True
            tail = tail[-1:]
        self._sse_tail = tail

    def finish(self) -> None:
        """The response is complete (or the connection went away): fix duration, usage and cost."""
        if self.done:
            return
        self.done = True
        self.duration_ms = self._elapsed_ms()
        found = None
        model = None
        if self.streamed:
            for event in reversed(self.events):
                data = event_data(event.text)
                if data and data.startswith("{"):
                    parsed = loads(data)
                    found = found or usage_of(parsed)
                    if isinstance(parsed, dict) and isinstance(parsed.get("model"), str):
                        model = model or parsed["model"]
                if found and model:
                    break
        else:
            parsed = self.response_json()
            found = usage_of(parsed)
            if isinstance(parsed, dict) and isinstance(parsed.get("model"), str):
                model = parsed["model"]
            if isinstance(parsed, dict) and isinstance(parsed.get("cost"), str):
                self.cost = parsed["cost"]
        if found is not None:
            self.tokens_in, self.tokens_out = found
            model = model or self.model
            pricer = self._log.pricer if self._log is not None else None
            if self.cost is None and model and pricer is not None:
                self.cost = pricer(model, found[0], found[1])

    def _grew(self, size: int) -> None:
        if self._log is not None:
            self._log._grew(self, size)

    # -- views -------------------------------------------------------------------------------------

    def response_body(self) -> bytes:
        return b"".join(self._body_parts)

    def response_json(self) -> Any:
        """The response body parsed as JSON, its text if it is not JSON, or ``None`` when binary/empty."""
        raw = self.response_body()
        if not raw:
            return None
        ctype = self.response_headers.get("content-type", "")
        if "json" in ctype:
            parsed = loads(raw.decode("utf-8", "replace"))
            if parsed is not BAD:
                return parsed
        if ctype.startswith("text/") or "json" in ctype:
            return raw.decode("utf-8", "replace")
        return None

    def size(self) -> int:
        """Bytes this record counts against the log's budget: what it keeps, at its size in memory."""
        fixed = self._fixed if self._fixed is not None else self._measure()
        return fixed + self._response_head + self._kept

    def _measure(self) -> int:
        """The record itself, its request headers and query, and its body (at least ``body_size`` unless
        truncated: the JSON bytes kept, or the parsed value's size while it is not packed yet)."""
        own = sys.getsizeof(self) + sys.getsizeof(self.__dict__)
        body = 0
        if not self.body_truncated:
            kept = self._json_raw if self._json_raw is not None else pack_json(self._json_value)
            body = max(self.body_size, sys.getsizeof(kept) if kept is not None else 0)
        return own + strings_size(self.headers) + strings_size(self.query) + body

    def summary(self) -> Dict[str, Any]:
        """The list row of the inspector: no bodies."""
        return {
            "id": self.id,
            "time": self.time,
            "method": self.method,
            "path": self.path,
            "model": self.model,
            "status": self.status,
            "latency_ms": self.latency_ms,
            "duration_ms": self.duration_ms,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "cost": self.cost,
            "request_id": self.request_id,
            "idempotency_key": self.idempotency_key,
            "streamed": self.streamed,
            "faulted": self.fault is not None,
            "done": self.done,
        }

    def as_dict(self) -> Dict[str, Any]:
        """Everything kept about the exchange (the admin API's view; secrets are already redacted)."""
        data = self.summary()
        data.update(
            {
                "query": self.query,
                "headers": self.headers,
                "json": self.json,
                "body_size": self.body_size,
                "body_truncated": self.body_truncated,
                "response": {
                    "headers": self.response_headers,
                    "body": None if self.streamed else self.response_json(),
                    "size": self.response_size,
                    "truncated": self.response_truncated,
                    "events": [{"ms": e.ms, "text": e.text} for e in self.events],
                    "event_count": self.event_count,
                },
                "fault": self.fault.summary() if self.fault is not None else None,
            }
        )
        return data


# ``json`` is a field (the constructor takes it) served by a property: see ``_get_json``.
RequestRecord.json = property(RequestRecord._get_json, RequestRecord._set_json)  # type: ignore[assignment]


class RequestLog:
    """Thread-safe log of received requests, bounded in entries and bytes (see the module docstring)."""

    def __init__(
        self,
        maxlen: int = 100_000,
        *,
        max_bytes: int = 64 * 1024 * 1024,
        max_record_body: int = 4 * 1024 * 1024,
        max_record_response: int = 1024 * 1024,
    ) -> None:
        if maxlen < 1 or max_bytes < 1:
            raise ValueError("maxlen and max_bytes must be positive")
        self.maxlen = maxlen
        self.max_bytes = max_bytes
        self.max_record_body = max_record_body
        self.max_record_response = max_record_response
        self.pricer: Optional[Pricer] = None
        self._lock = threading.Lock()
        self._records: Deque[RequestRecord] = deque()
        self._bytes = 0
        self._next_id = 1

    @property
    def bytes(self) -> int:
        """Bytes currently counted against ``max_bytes``."""
        with self._lock:
            return self._bytes

    def append(self, record: RequestRecord) -> None:
        record._keep(self.max_record_body)
        with self._lock:
            record.id = self._next_id
            self._next_id += 1
            record._log = self
            self._records.append(record)
            self._bytes += record.size()
            self._evict(keep=record)

    def _grew(self, record: RequestRecord, size: int) -> None:
        with self._lock:
            if record._log is self:
                self._bytes += size
                self._evict(keep=record)

    def _evict(self, keep: RequestRecord) -> None:
        while self._records and (len(self._records) > self.maxlen or self._bytes > self.max_bytes):
            oldest = self._records[0]
            if oldest is keep:
                break
            self._records.popleft()
            self._bytes -= oldest.size()
            oldest._log = None

    def clear(self) -> None:
        with self._lock:
            for record in self._records:
                record._log = None
            self._records.clear()
            self._bytes = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def __iter__(self) -> Iterator[RequestRecord]:
        with self._lock:
            return iter(list(self._records))

    def __getitem__(self, index: int) -> RequestRecord:
        with self._lock:
            return list(self._records)[index]

    def get(self, record_id: int) -> Optional[RequestRecord]:
        """The record with this ``id``, or ``None`` once it has left the log."""
        with self._lock:
            for record in reversed(self._records):
                if record.id == record_id:
                    return record
        return None

    def filter(
        self, path: Optional[str] = None, method: Optional[str] = None, since: Optional[int] = None
    ) -> List[RequestRecord]:
        """Records for ``path`` (exact, or prefix when it ends with ``*``), ``method``, ``id > since``."""
        out = []
        for record in self:
            if since is not None and record.id <= since:
                continue
            if method is not None and record.method.upper() != method.upper():
                continue
            if path is not None:
                if path.endswith("*"):
                    if not record.path.startswith(path[:-1]):
                        continue
                elif record.path != path:
                    continue
            out.append(record)
        return out
