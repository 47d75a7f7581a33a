"""A reply's usage, read without I/O: what each answered call reports, for ``client.track_usage()``.

Why it exists: the send loops hand every answer of a watched call (``meshapi._transport.spend``) to
:func:`usage_entries` (a JSON reply or one stream event: chat, responses, embeddings, images, compare's
models, a finished batch's result lines) or, for a stream, to :class:`StreamUsage` as its bytes pass; each entry, with the cost found for
it, becomes a :class:`UsageRecord` the trackers (``meshapi._usage_track``) keep. Pure: bytes and dicts in,
entries and records out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Dict, List, Mapping, Optional

__all__ = [
    "BATCH_PATH",
    "COMPARE_PATH",
    "EXACT_SOURCES",
    "StreamUsage",
    "UsageEntry",
    "UsageRecord",
    "record_of",
    "usage_entries",
]

COMPARE_PATH = "/v1/chat/compare"
#: The path a batch's result lines are recorded under (they arrive with ``GET /v1/batches/{id}``).
BATCH_PATH = "/v1/batches"


#: Where a record's cost comes from: the usage event (exact), the reply's own figure (exact), the catalog
#: price times the tokens (an estimate), or nothing known yet.
EXACT_SOURCES = frozenset({"usage_event", "reply"})


@dataclass
class UsageRecord:
    """One model's usage in one answered call, as a tracker keeps it.

    ``attempts``: the attempts the call made (retries included; the gateway bills only the one that
    answered); ``cost_source``: ``"usage_event"``, ``"reply"``, ``"catalog"`` or ``None`` (unknown)."""

    request_id: str
    model: Optional[str]
    path: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cost_usd: Optional[Decimal] = None
    cost_source: Optional[str] = None
    attempts: int = 1
    stream: bool = False

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def estimated(self) -> bool:
        """Whether ``cost_usd`` is not the gateway's own figure (a catalog estimate, or unknown)."""
        return self.cost_source not in EXACT_SOURCES


@dataclass(frozen=True)
class UsageEntry:
    """The usage one reply reports for one model (compare reports one per model)."""

    model: Optional[str]
    request_id: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cost_usd: Optional[Decimal] = None  # the reply's own figure, when it states one


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _money(value: Any) -> Optional[Decimal]:
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        return None
    try:
        number = Decimal(value)
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() and number >= 0 else None


def _entry(usage: Mapping[str, Any], model: Any, request_id: str, cost: Any = None) -> UsageEntry:
    details = usage.get("prompt_tokens_details") or usage.get("input_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, dict) else None
    return UsageEntry(
        model=model if isinstance(model, str) else None,
        request_id=request_id,
        prompt_tokens=_count(usage.get("prompt_tokens", usage.get("input_tokens"))),
        completion_tokens=_count(usage.get("completion_tokens", usage.get("output_tokens"))),
        cached_tokens=_count(cached),
        cost_usd=_money(cost),
    )


def usage_entries(payload: Any, path: str, model: Optional[str], request_id: str) -> List[UsageEntry]:
    """The usage a reply (or one stream event) of ``path`` reports: one entry for a plain reply, one per
    model for compare (``results[]``, its stream's per-model events, the comparison's own
    ``comparison_usage``). ``model`` and ``request_id``: the call's, for a reply that does not name
    them. Empty when it reports none."""
    if not isinstance(payload, dict):
        return []
    if path == BATCH_PATH:
        return _batch_entries(payload)
    entries: List[UsageEntry] = []
    results = payload.get("results")
    if isinstance(results, list):  # compare: each model's own usage
        for result in results:
            if isinstance(result, dict) and isinstance(result.get("usage"), dict):
                rid = result.get("request_id")
                rid = rid if isinstance(rid, str) and rid else f"{request_id}::{result.get('model')}"
                entries.append(_entry(result["usage"], result.get("model"), rid))
        comparison = payload.get("comparison_usage")
        if isinstance(comparison, dict):
            name = payload.get("comparison_model")
            entries.append(_entry(comparison, name, f"{request_id}::{name}"))
        return entries
    usage = payload.get("usage")
    if isinstance(usage, dict):
        named = payload.get("model")
        named = named if isinstance(named, str) and named else model
        if path == COMPARE_PATH:  # a compare stream's per-model event
            return [_entry(usage, named, f"{request_id}::{named}")]
        return [_entry(usage, named, request_id, payload.get("cost"))]
    inner = payload.get("response")  # a Responses stream's last event wraps the response
    return usage_entries(inner, path, model, request_id) if isinstance(inner, dict) else []


def _batch_entries(batch: Mapping[str, Any]) -> List[UsageEntry]:
    """One entry per answered line of a batch object's inline ``results`` (docs/protocol.md §6.2; none
    before it finished). Each line is billed as its own request: its id is the line's ``request_id``,
    else ``{batch id}::{custom_id}``."""
    results = batch.get("results")
    entries: List[UsageEntry] = []
    for result in results if isinstance(results, list) else ():
        response = result.get("response") if isinstance(result, dict) else None
        if not isinstance(response, dict):
            continue
        body = response.get("body")
        if not isinstance(body, dict) or not isinstance(body.get("usage"), dict):
            continue  # a failed line: no usage, nothing billed
        rid = response.get("request_id")
        rid = rid if isinstance(rid, str) and rid else f"{batch.get('id')}::{result.get('custom_id')}"
        entries.append(_entry(body["usage"], body.get("model") or batch.get("model"), rid))
    return entries


class StreamUsage:
    """A stream's usage, read from its bytes as they pass: only ``data:`` lines that mention usage are
    parsed; the latest entry per model wins (a compare stream repeats each model's usage)."""

    __slots__ = ("_entries", "_model", "_path", "_pending", "_request_id")

    def __init__(self, path: str, model: Optional[str], request_id: str) -> None:
        self._path, self._model, self._request_id = path, model, request_id
        self._pending = b""
        self._entries: Dict[Optional[str], UsageEntry] = {}

    def feed(self, chunk: bytes) -> None:
        text = self._pending + chunk
        lines = text.split(b"\n")
        self._pending = lines.pop()  # an incomplete line waits for the next chunk
        if len(self._pending) > 1 << 20:  # never hold more than one long line
            self._pending = b""
        for line in lines:
            if line.startswith(b"data:") and b'"usage"' in line:
                self._read(line[5:])

    def _read(self, data: bytes) -> None:
        try:
            payload = json.loads(data)
        except (ValueError, RecursionError):
            return
        for entry in usage_entries(payload, self._path, self._model, self._request_id):
            self._entries[entry.model] = entry

    def entries(self) -> List[UsageEntry]:
        """What the stream reported, once it ended (a last line without its newline included)."""
        if self._pending.startswith(b"data:") and b'"usage"' in self._pending:
            self._read(self._pending.rstrip(b"\r")[5:])
            self._pending = b""
        return list(self._entries.values())


class BodyUsage:
    """A JSON reply's usage, read from its bytes as they pass (a ``with_streaming_response`` view of a
    call that is not a stream): the body is kept up to ``limit`` bytes and parsed when it ends."""

    __slots__ = ("_limit", "_model", "_parts", "_path", "_size")

    def __init__(self, path: str, model: Optional[str], limit: int) -> None:
        self._path, self._model, self._limit = path, model, limit
        self._parts: List[bytes] = []
        self._size = 0

    def feed(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size <= self._limit:
            self._parts.append(chunk)

    def entries(self) -> List[UsageEntry]:
        if self._size > self._limit:
            return []
        try:
            payload = json.loads(b"".join(self._parts))
        except (ValueError, RecursionError):
            return []
        return usage_entries(payload, self._path, self._model, "")


def record_of(
    entry: UsageEntry, path: str, attempts: int, stream: bool, cost: Optional[Decimal], source: Optional[str]
) -> UsageRecord:
    """``entry`` as a tracker's record, with the ``cost`` found for it and where it came from."""
    return UsageRecord(
        request_id=entry.request_id,
        model=entry.model,
        path=path,
        prompt_tokens=entry.prompt_tokens,
        completion_tokens=entry.completion_tokens,
        cached_tokens=entry.cached_tokens,
        cost_usd=cost,
        cost_source=source,
        attempts=attempts,
        stream=stream,
    )
