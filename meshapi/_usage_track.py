"""What ``client.track_usage()`` records: the usage of every call made in its context, its cost.

Why it exists: chat replies carry tokens but (outside a stream's last chunk) no cost; a run's spend is
the sum over every call it made, in any thread or task. The send loops see every finished answer in one
place (``meshapi._transport.spend``) and hand its usage here: :func:`usage_entries` reads a reply (chat,
responses, embeddings, images, compare's models) and :class:`StreamUsage` a stream's bytes as they pass,
then each :class:`UsageLedger` active in the caller's context (:data:`TRACKING`, a ``ContextVar``) adds
one :class:`UsageRecord` per model per request. A thread sees the trackers of the context it runs in:
``contextvars.copy_context().run(...)`` (or ``asyncio.to_thread``) carries them; a bare
``threading.Thread`` or a pool's worker does not. Asyncio tasks copy the context when created.

Costs: the reply's own ``cost`` when it states one (a chat stream's last chunk), else the catalog price
when the client already knows it, else unknown until :meth:`UsageLedger.apply` takes the usage events'
exact costs (``client.costs.lookup``, by request id; estimates for the ids not found). ``estimated`` says
whether any cost in the total is not the gateway's own figure. Pure: no I/O; the sync and async
trackers (``UsageTracker`` / ``AsyncUsageTracker``) only send the lookup.
"""

from __future__ import annotations

import json
import logging
import threading
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ._budget import Budget
from ._errors import ConfigurationError
from .lib.pricing import cost_at

__all__ = [
    "SPENDING_PATHS",
    "TRACKING",
    "AsyncUsageTracker",
    "UsageTracker",
    "ModelUsage",
    "StreamUsage",
    "UsageEntry",
    "UsageLedger",
    "UsageRecord",
    "record_of",
    "usage_entries",
]

_log = logging.getLogger("meshapi")

#: The endpoints that run a model and are billed when answered (docs/protocol.md §V2). Batches and video
#: tasks are billed when their work ends, after the call returned: not recorded by a tracker.
SPENDING_PATHS = frozenset({
    "/v1/chat/completions", "/v1/chat/compare", "/v1/responses", "/v1/embeddings",
    "/v1/images/generations", "/v1/images/edits", "/v1/audio/speech", "/v1/audio/transcriptions",
    "/v1/audio/transcriptions/translate", "/v1/audio/translations", "/v1/web/search", "/v1/moderations",
})  # fmt: skip

COMPARE_PATH = "/v1/chat/compare"

#: Where a record's cost comes from: the usage event (exact), the reply's own figure (exact), the catalog
#: price times the tokens (an estimate), or nothing known yet.
EXACT_SOURCES = frozenset({"usage_event", "reply"})


@dataclass(frozen=True)
class UsageEntry:
    """The usage one reply reports for one model (compare reports one per model)."""

    model: Optional[str]
    request_id: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cost_usd: Optional[Decimal] = None  # the reply's own figure, when it states one


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
class ModelUsage:
    """The totals of one model in a tracker."""

    model: Optional[str]
    requests: int
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    cost_usd: Decimal
    estimated: bool

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class UsageLedger:
    """The records of one tracker (thread-safe: one lock around the list) and their totals."""

    def __init__(self, budget: Any = None) -> None:
        self.budget = budget
        self._lock = threading.Lock()
        self._records: List[UsageRecord] = []

    def add(self, records: Sequence[UsageRecord]) -> None:
        with self._lock:
            self._records.extend(records)

    @property
    def records(self) -> List[UsageRecord]:
        """A copy of the records, in the order the answers finished."""
        with self._lock:
            return list(self._records)

    @property
    def requests(self) -> int:
        """The answered calls recorded (a compare call counts once, whatever its models)."""
        return len({(r.request_id.split("::")[0]) for r in self.records})

    @property
    def prompt_tokens(self) -> int:
        return sum(r.prompt_tokens for r in self.records)

    @property
    def completion_tokens(self) -> int:
        return sum(r.completion_tokens for r in self.records)

    @property
    def cached_tokens(self) -> int:
        return sum(r.cached_tokens for r in self.records)

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def cost_usd(self) -> Decimal:
        """The sum of the known costs (``Decimal``); see ``estimated`` for how exact it is."""
        return sum((r.cost_usd for r in self.records if r.cost_usd is not None), Decimal(0))

    @property
    def estimated(self) -> bool:
        """Whether any cost in ``cost_usd`` is a catalog estimate or still unknown."""
        return any(r.estimated for r in self.records)

    @property
    def by_model(self) -> Dict[Optional[str], ModelUsage]:
        """Totals per served model."""
        groups: Dict[Optional[str], List[UsageRecord]] = {}
        for record in self.records:
            groups.setdefault(record.model, []).append(record)
        return {model: _model_usage(model, rows) for model, rows in groups.items()}

    @property
    def by_request(self) -> Dict[str, List[UsageRecord]]:
        """The records of each request id (one per model; compare's models have ids ``parent::model``)."""
        ids: Dict[str, List[UsageRecord]] = {}
        for record in self.records:
            ids.setdefault(record.request_id, []).append(record)
        return ids

    def to_look_up(self) -> Tuple[List[str], Dict[str, Dict[str, Any]]]:
        """The request ids whose cost is not exact yet, and the hints that price them when not found."""
        hints: Dict[str, Dict[str, Any]] = {}
        for r in self.records:
            if r.estimated and r.request_id and r.request_id not in hints:
                hint: Dict[str, Any] = {"prompt_tokens": r.prompt_tokens}
                hint["completion_tokens"] = r.completion_tokens
                if r.model:
                    hint["model"] = r.model
                hints[r.request_id] = hint
        return list(hints), hints

    def apply(self, costs: Sequence[Any]) -> None:
        """Take ``client.costs.lookup()``'s ``RequestCost`` items: exact costs replace estimates; an
        estimate replaces only an unknown cost."""
        found = {c.request_id: c for c in costs if c.cost_usd is not None}
        with self._lock:
            for record in self._records:
                cost = found.get(record.request_id)
                if cost is None or not record.estimated:
                    continue
                if not cost.estimated:
                    record.cost_usd, record.cost_source = cost.cost_usd, "usage_event"
                elif record.cost_usd is None:
                    record.cost_usd, record.cost_source = cost.cost_usd, "catalog"


def _model_usage(model: Optional[str], rows: List[UsageRecord]) -> ModelUsage:
    return ModelUsage(
        model=model,
        requests=len(rows),
        prompt_tokens=sum(r.prompt_tokens for r in rows),
        completion_tokens=sum(r.completion_tokens for r in rows),
        cached_tokens=sum(r.cached_tokens for r in rows),
        cost_usd=sum((r.cost_usd for r in rows if r.cost_usd is not None), Decimal(0)),
        estimated=any(r.estimated for r in rows),
    )


#: The trackers active in this context (innermost last); every call records into each of them.
TRACKING: ContextVar[Tuple[UsageLedger, ...]] = ContextVar("meshapi_usage_tracking", default=())


# --- reading usage from replies -------------------------------------------------------------------------
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


def record_of(
    entry: UsageEntry,
    path: str,
    attempts: int,
    stream: bool,
    price: Optional[Tuple[Optional[Decimal], Optional[Decimal]]],
) -> UsageRecord:
    """``entry`` as a record: the reply's cost, else ``price`` (per 1M tokens) times its tokens."""
    cost, source = entry.cost_usd, ("reply" if entry.cost_usd is not None else None)
    if cost is None and price is not None:
        cost = cost_at(price, entry.prompt_tokens, entry.completion_tokens)
        source = "catalog" if cost is not None else None
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


class _TrackerBase(UsageLedger):
    """What both trackers share: entering and leaving the context, the checks."""

    def __init__(self, costs: Any, budget: Any, lookup: bool) -> None:
        if budget is not None and not isinstance(budget, Budget):
            raise ConfigurationError(f"budget must be a meshapi.Budget, got {type(budget).__name__}")
        super().__init__(budget)
        self._costs, self._lookup = costs, lookup
        self._token: Any = None

    def _enter(self) -> None:
        if self._token is not None:
            raise RuntimeError("this tracker is already in use; call track_usage() again for another")
        self._token = TRACKING.set((*TRACKING.get(), self))

    def _leave(self, exc: Optional[BaseException]) -> bool:
        """Leave the context; whether the exit lookup is to be made (on, and not interrupted)."""
        token, self._token = self._token, None
        TRACKING.reset(token)
        return self._lookup and (exc is None or isinstance(exc, Exception)) and bool(self.to_look_up()[0])


class UsageTracker(_TrackerBase):
    """``with client.track_usage() as usage:``: every call made in the block's context, recorded.

    On leaving the block the costs that are not exact yet are looked up once (``refresh()``; off with
    ``lookup=False``; a failed lookup leaves the estimates, logged at INFO)."""

    def __enter__(self) -> UsageTracker:
        self._enter()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self._leave(exc_info[1]):
            try:
                self.refresh()
            except Exception as exc:  # a MeshAPIError: the estimates stay, marked estimated
                _log.info("usage cost lookup failed (%s); the costs stay estimated", type(exc).__name__)

    def refresh(self) -> None:
        """Replace estimated or unknown costs with the usage events' exact ones (``client.costs.lookup``;
        ids not found get the catalog estimate)."""
        ids, hints = self.to_look_up()
        if ids:
            self.apply(self._costs.lookup(ids, hints=hints).costs)


class AsyncUsageTracker(_TrackerBase):
    """``async with client.track_usage() as usage:``: the async twin of :class:`UsageTracker`."""

    async def __aenter__(self) -> AsyncUsageTracker:
        self._enter()
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        if self._leave(exc_info[1]):
            try:
                await self.refresh()
            except Exception as exc:
                _log.info("usage cost lookup failed (%s); the costs stay estimated", type(exc).__name__)

    async def refresh(self) -> None:
        """Async twin of :meth:`UsageTracker.refresh`."""
        ids, hints = self.to_look_up()
        if ids:
            self.apply((await self._costs.lookup(ids, hints=hints)).costs)
