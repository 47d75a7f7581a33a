"""The usage ledger: one row per billable attempt the gateway served, per owner (docs/protocol.md §V2).

The billing middleware (``http/billing.py``) adds a row when a billable request's response is complete:
model, tokens, cost (the catalog price, a ``Decimal``), status, latency, request id. Attempts that share a
request id (a client retry that sent the same ``X-Request-Id``) are one *event*: the latest attempt is
the served row and gives the event its id; ``attempts()`` lists them all, oldest first. Batch lines add
their own rows when the batch settles. Everything the usage routes answer is computed here, from these
rows: the summary, a page of events, the spend trend and the tokens counted for TPM.

Money leaves as a decimal string with at least six decimals (:func:`money`). Rows live in memory, at most
:data:`MAX_ROWS` per owner (the oldest go first), and are cleared with the request log.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import threading
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ..ids import iso_timestamp

__all__ = ["MAX_ROWS", "UsageLedger", "UsageRow", "money", "parse_instant"]

MAX_ROWS = 100_000
_SIX = Decimal("0.000001")
_TWELVE = Decimal("1e-12")  # moving averages: a third of a cost does not end


def money(value: Decimal) -> str:
    """``value`` as a plain decimal string with at least six decimals (``"0.000240"``, ``"12.5000001"``)."""
    value = value.normalize()
    if value.as_tuple().exponent > -6:  # type: ignore[operator]
        value = value.quantize(_SIX)
    return format(value, "f")


def parse_instant(text: str) -> Optional[float]:
    """An ISO 8601 date or date-time (a ``Z`` or an offset; none means UTC) as epoch seconds, or ``None``."""
    try:
        parsed = _dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_dt.timezone.utc)
    return parsed.timestamp()


@dataclass
class UsageRow:
    """One attempt: what it asked for, what it cost, how it ended."""

    id: str
    owner: str
    request_id: str
    model: Optional[str]
    stream: bool
    prompt_tokens: int
    completion_tokens: int
    cost: Decimal
    status: str  # "success" | "error"
    error_code: Optional[str]
    latency_ms: int
    created_at: float
    routing_fallback: bool = False
    service_tier: Optional[str] = None
    cache_source: Optional[str] = (
        None  # "gateway": a response-cache hit (not billed); "provider": cached tokens
    )

    def as_dict(self) -> Dict[str, Any]:
        return {
            "id": self.id,
            "key_id": self.owner,
            "request_id": self.request_id,
            "model": self.model,
            "stream": self.stream,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
            "latency_ms": self.latency_ms,
            "cost_usd": money(self.cost),
            "status": self.status,
            "error_code": self.error_code,
            "created_at": iso_timestamp(self.created_at),
            "routing_fallback": self.routing_fallback,
            "cache_source": self.cache_source,
            "service_tier": self.service_tier,
        }


@dataclass(frozen=True)
class UsageFilter:
    """The filters of ``POST /v1/usage`` and ``/v1/usage/events`` that apply to a key caller."""

    since: Optional[float] = None
    until: Optional[float] = None
    model: Optional[str] = None
    status: Optional[str] = None
    key_id: Optional[str] = None

    def keeps(self, row: UsageRow) -> bool:
        return (
            (self.since is None or row.created_at >= self.since)
            and (self.until is None or row.created_at < self.until)
            and (self.model is None or row.model == self.model)
            and (self.status is None or row.status == self.status)
            and (self.key_id is None or row.owner == self.key_id)
        )


class UsageLedger:
    """Every owner's rows, in arrival order; thread-safe (batch lines settle on request threads too)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._rows: Dict[str, List[UsageRow]] = {}
        self._ids = itertools.count(1)

    def new_id(self) -> str:
        """``evt_`` and a zero-padded sequence number: ids sort in arrival order."""
        return f"evt_{next(self._ids):012d}"

    def add(self, row: UsageRow) -> None:
        with self._lock:
            rows = self._rows.setdefault(row.owner, [])
            rows.append(row)
            if len(rows) > MAX_ROWS:
                del rows[: len(rows) - MAX_ROWS]

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()

    def rows(self, owner: str) -> List[UsageRow]:
        with self._lock:
            return list(self._rows.get(owner, ()))

    def events(self, owner: str, where: UsageFilter = UsageFilter()) -> List[UsageRow]:
        """The served row of every event matching ``where``, newest first."""
        served: Dict[str, UsageRow] = {}
        for row in self.rows(owner):
            served.pop(row.request_id, None)
            served[row.request_id] = row  # re-inserted: events ordered by their served attempt
        return [row for row in reversed(served.values()) if where.keeps(row)]

    def attempts(self, owner: str, event_id: str) -> Optional[Tuple[UsageRow, List[UsageRow]]]:
        """The event ``event_id`` (a served row's id) and every attempt sharing its request id."""
        rows = self.rows(owner)
        event = next((row for row in self.events(owner) if row.id == event_id), None)
        if event is None:
            return None
        return event, [row for row in rows if row.request_id == event.request_id]

    def summary(self, owner: str, where: UsageFilter, limit: int, offset: int) -> Dict[str, Any]:
        """The ``POST /v1/usage`` body: totals over the matching events and one page of per-model rows."""
        events = self.events(owner, where)
        by_model: Dict[str, Dict[str, Any]] = {}
        for row in events:
            line = by_model.setdefault(
                row.model or "",
                {"model": row.model, "requests": 0, "prompt_tokens": 0, "completion_tokens": 0,
                 "total_tokens": 0, "cost": Decimal(0)},
            )  # fmt: skip
            line["requests"] += 1
            line["prompt_tokens"] += row.prompt_tokens
            line["completion_tokens"] += row.completion_tokens
            line["total_tokens"] += row.prompt_tokens + row.completion_tokens
            line["cost"] += row.cost
        lines = sorted(by_model.values(), key=lambda line: (-line["cost"], line["model"] or ""))
        page = [{**{k: v for k, v in line.items() if k != "cost"}, "cost_usd": money(line["cost"])}
                for line in lines[offset : offset + limit]]  # fmt: skip
        prompt = sum(row.prompt_tokens for row in events)
        completion = sum(row.completion_tokens for row in events)
        cost = sum((row.cost for row in events), Decimal(0))
        ok = sum(1 for row in events if row.status == "success")
        return {
            "total_requests": len(events),
            "successful_requests": ok,
            "error_requests": len(events) - ok,
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "total_cost_usd": money(cost),
            "by_model": page,
            "by_model_total": len(lines),
            "total_platform_fee_usd": money(Decimal(0)),
            "total_byok_platform_fee_usd": money(Decimal(0)),
            "total_byok_cost_usd": money(Decimal(0)),
            "total_byok_requests": 0,
            "total_platform_requests": len(events),
            "total_byok_tokens": 0,
            "total_platform_tokens": prompt + completion,
            "cached_at": iso_timestamp(self._clock()),
        }

    def trend(self, owner: str, edges: Sequence[float]) -> List[Dict[str, Any]]:
        """Spend per bucket ``[edges[i], edges[i + 1])`` with the trailing 3-bucket moving average."""
        events = self.events(owner, UsageFilter(since=edges[0], until=edges[-1]))
        buckets: List[Dict[str, Any]] = []
        costs: List[Decimal] = []
        for start, end in zip(edges, edges[1:]):
            inside = [row for row in events if start <= row.created_at < end]
            costs.append(sum((row.cost for row in inside), Decimal(0)))
            window = costs[-3:]
            buckets.append({
                "start": iso_timestamp(start),
                "end": iso_timestamp(end),
                "requests": len(inside),
                "cost_usd": money(costs[-1]),
                "moving_average_usd": money((sum(window, Decimal(0)) / len(window)).quantize(_TWELVE)),
            })  # fmt: skip
        return buckets

    def tokens_since(self, owner: str, since: float) -> int:
        """Tokens of the attempts that ended at or after ``since`` (the TPM counter)."""
        return sum(r.prompt_tokens + r.completion_tokens for r in self.rows(owner) if r.created_at >= since)
