"""What ``client.track_usage()`` keeps: the records of every call made in its context, their totals.

Why it exists: chat replies carry tokens but (outside a stream's last chunk) no cost; a run's spend is
the sum over every call it made, in any thread or task. The send loops see every finished answer in one
place (``meshapi._transport.spend``), read its usage (``meshapi._core.usage``) and add one
:class:`UsageRecord` per model per request to each :class:`UsageLedger` active in the caller's context
(``spend.TRACKING``, a ``ContextVar``). A thread sees the trackers of the context it runs in:
``contextvars.copy_context().run(...)`` (or ``asyncio.to_thread``) carries them; a bare
``threading.Thread`` or a pool's worker does not. Asyncio tasks copy the context when created.

Costs: the reply's own ``cost`` when it states one (a chat stream's last chunk), else the catalog price
when the client already knows it, else unknown until :meth:`UsageLedger.apply` takes the usage events'
exact costs (``client.costs.lookup``, by request id; estimates for the ids not found). ``estimated`` says
whether any cost in the total is not the gateway's own figure. The ledger is pure (one lock around its
list); the sync and async trackers (``UsageTracker`` / ``AsyncUsageTracker``) only send the lookup.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ._budget import Budget
from ._core.usage import BATCH_PATH, UsageRecord
from ._errors import ConfigurationError
from ._transport.spend import TRACKING

__all__ = ["AsyncUsageTracker", "ModelUsage", "UsageLedger", "UsageRecord", "UsageTracker"]

_log = logging.getLogger("meshapi")


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
        """Keep ``records``; a batch line already kept (the same batch fetched again) is not added twice."""
        with self._lock:
            if any(r.path == BATCH_PATH for r in records):
                kept = {r.request_id for r in self._records if r.path == BATCH_PATH}
                records = [r for r in records if r.path != BATCH_PATH or r.request_id not in kept]
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
        estimate replaces only an unknown cost. A record whose answer reported no tokens (a background
        response answered before its run) takes the usage event's."""
        found = {c.request_id: c for c in costs if c.cost_usd is not None}
        with self._lock:
            for record in self._records:
                cost = found.get(record.request_id)
                if cost is None or not record.estimated:
                    continue
                if not cost.estimated:
                    record.cost_usd, record.cost_source = cost.cost_usd, "usage_event"
                    if record.total_tokens == 0:
                        record.prompt_tokens = cost.prompt_tokens or 0
                        record.completion_tokens = cost.completion_tokens or 0
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
