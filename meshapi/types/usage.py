"""Usage and balance: what ``client.usage`` and ``client.balance`` return (docs/protocol.md §V2).

Money is ``decimal.Decimal``, never ``float``: the wire sends decimal strings, and the resources decode
a JSON number with ``parse_float=Decimal`` so that a number too is read digit for digit. Only part of
these shapes is documented, so every field is optional and unknown fields are kept (``model_extra``).
"""

import datetime
from decimal import Decimal
from typing import Dict, List, Optional, TypedDict, Union

from pydantic import ConfigDict, Field

from ._base import MeshModel, MeshResult, RequestModel

__all__ = [
    "Balance",
    "CostHint",
    "CostLookup",
    "RateLimitMetric",
    "RateLimitScope",
    "RateLimits",
    "RequestCost",
    "SpendTrend",
    "SpendTrendBucket",
    "TokenEstimate",
    "UsageAttempts",
    "UsageEvent",
    "UsageEventsPage",
    "UsageModelRow",
    "UsageQueryFields",
    "UsageQueryParams",
    "UsageSummary",
]

Instant = Union[str, datetime.datetime]


class UsageQueryParams(RequestModel):
    """The filters of ``POST /v1/usage`` and ``POST /v1/usage/events`` (all optional). ``since`` /
    ``until``: ISO 8601 text or a ``datetime``; ``status``: ``"success"`` or ``"error"``; ``limit`` /
    ``offset`` page the summary's ``by_model`` rows or the events (events: ``limit`` at most 200).
    ``org_id`` is sent as ``""`` when not given, as the Mesh CLI does (ignored for key callers)."""

    org_id: Optional[str] = None
    since: Optional[Instant] = None
    until: Optional[Instant] = None
    model: Optional[str] = None
    status: Optional[str] = None
    key_id: Optional[str] = None
    team_id: Optional[str] = None
    member_user_id: Optional[str] = None
    end_user_id: Optional[str] = None
    limit: Optional[int] = Field(default=None, ge=1)
    offset: Optional[int] = Field(default=None, ge=0)


class UsageQueryFields(TypedDict, total=False):
    """``UsageQueryParams``'s fields as keyword arguments, typed (a test keeps both in step)."""

    org_id: Optional[str]
    since: Optional[Instant]
    until: Optional[Instant]
    model: Optional[str]
    status: Optional[str]
    key_id: Optional[str]
    team_id: Optional[str]
    member_user_id: Optional[str]
    end_user_id: Optional[str]
    limit: Optional[int]
    offset: Optional[int]


class _Open(MeshModel):
    model_config = ConfigDict(extra="allow")


class UsageModelRow(_Open):
    """One model's line of the summary."""

    model: Optional[str] = None
    requests: Optional[int] = None
    prompt_tokens: Optional[int] = None
    completion_tokens: Optional[int] = None
    total_tokens: Optional[int] = None
    cost_usd: Optional[Decimal] = None


class UsageSummary(MeshResult):
    """Totals of the calling key's usage (``POST /v1/usage``); ``by_model`` is one page of per-model rows,
    ``by_model_total`` the number of rows in all pages."""

    model_config = ConfigDict(extra="allow")

    total_requests: Optional[int] = None
    successful_requests: Optional[int] = None
    error_requests: Optional[int] = None
    prompt_tokens: Optional[int] = None
    completion_tokens: Optional[int] = None
    total_tokens: Optional[int] = None
    total_cost_usd: Optional[Decimal] = None
    by_model: List[UsageModelRow] = Field(default_factory=list)
    by_model_total: Optional[int] = None
    total_platform_fee_usd: Optional[Decimal] = None
    total_byok_platform_fee_usd: Optional[Decimal] = None
    total_byok_cost_usd: Optional[Decimal] = None
    total_byok_requests: Optional[int] = None
    total_platform_requests: Optional[int] = None
    total_byok_tokens: Optional[int] = None
    total_platform_tokens: Optional[int] = None
    cached_at: Optional[str] = None


class UsageEvent(_Open):
    """One served request (or, in ``UsageAttempts``, one attempt): ``status`` ``"success"`` or ``"error"``,
    ``cost_usd`` what it cost, ``request_id`` the ``X-Request-Id`` the call returned."""

    id: Optional[str] = None
    key_id: Optional[str] = None
    request_id: Optional[str] = None
    model: Optional[str] = None
    stream: Optional[bool] = None
    prompt_tokens: Optional[int] = None
    completion_tokens: Optional[int] = None
    total_tokens: Optional[int] = None
    latency_ms: Optional[int] = None
    cost_usd: Optional[Decimal] = None
    status: Optional[str] = None
    error_code: Optional[str] = None
    created_at: Optional[str] = None
    routing_fallback: Optional[bool] = None
    cache_source: Optional[str] = None
    service_tier: Optional[str] = None


class UsageEventsPage(MeshResult):
    """One page of ``POST /v1/usage/events``, newest first; ``total`` counts every matching event."""

    model_config = ConfigDict(extra="allow")

    events: List[UsageEvent] = Field(default_factory=list)
    total: Optional[int] = None
    limit: Optional[int] = None
    offset: Optional[int] = None

    @property
    def has_more(self) -> bool:
        """Whether events remain after this page (``offset + len(events) < total``)."""
        if self.total is None or not self.events:
            return False
        return (self.offset or 0) + len(self.events) < self.total


class UsageAttempts(MeshResult):
    """Every attempt behind one usage event (the served one and the retried ones), oldest first."""

    model_config = ConfigDict(extra="allow")

    event_id: Optional[str] = None
    request_id: Optional[str] = None
    attempts: List[UsageEvent] = Field(default_factory=list)


class SpendTrendBucket(_Open):
    """Spend in one bucket; ``moving_average_usd``: the mean of this bucket and the two before it."""

    start: Optional[str] = None
    end: Optional[str] = None
    requests: Optional[int] = None
    cost_usd: Optional[Decimal] = None
    moving_average_usd: Optional[Decimal] = None


class SpendTrend(MeshResult):
    """``GET /v1/usage/spend-trend``: buckets oldest first and the window's total."""

    model_config = ConfigDict(extra="allow")

    granularity: Optional[str] = None
    since: Optional[str] = None
    until: Optional[str] = None
    buckets: List[SpendTrendBucket] = Field(default_factory=list)
    total_cost_usd: Optional[Decimal] = None


class RateLimitMetric(_Open):
    """One counter: ``current`` of ``limit`` used (``pct`` 0-100), reset in ``resets_in_seconds``."""

    current: Optional[int] = None
    limit: Optional[int] = None
    pct: Optional[float] = None
    resets_in_seconds: Optional[int] = None
    is_default_limit: Optional[bool] = None


class RateLimitScope(_Open):
    """The counters of one scope: requests per minute and per day, tokens per minute."""

    rpm: Optional[RateLimitMetric] = None
    rpd: Optional[RateLimitMetric] = None
    tpm: Optional[RateLimitMetric] = None


class RateLimits(MeshResult):
    """``GET /v1/usage/rate-limits``: live counters; a key caller sees ``key`` filled, the others ``None``."""

    model_config = ConfigDict(extra="allow")

    as_of: Optional[str] = None
    key: Optional[RateLimitScope] = None
    org: Optional[RateLimitScope] = None
    team: Optional[RateLimitScope] = None
    member: Optional[RateLimitScope] = None


class Balance(MeshResult):
    """``GET /v1/balance``: ``available_usd`` is ``max(0, balance_usd - reserved_usd)``;
    ``reserved_breakdown`` names only the categories holding funds now (their values sum to
    ``reserved_usd``)."""

    model_config = ConfigDict(extra="allow")

    balance_usd: Optional[Decimal] = None
    available_usd: Optional[Decimal] = None
    reserved_usd: Optional[Decimal] = None
    reserved_breakdown: Dict[str, Decimal] = Field(default_factory=dict)
    updated_at: Optional[str] = None
    message: Optional[str] = None


class CostHint(TypedDict, total=False):
    """What ``client.costs.lookup(hints=...)`` knows of one request, for an estimate when its usage event
    is not found: the ``model`` and its token counts (priced at the catalog's per-token prices)."""

    model: str
    prompt_tokens: int
    completion_tokens: int


class RequestCost(_Open):
    """One request's cost: ``cost_usd`` from its usage event (``estimated=False``), else an estimate
    (``estimated=True``) from the catalog prices of the hinted model and tokens, ``None`` without one."""

    request_id: str
    cost_usd: Optional[Decimal] = None
    estimated: bool = False
    model: Optional[str] = None
    prompt_tokens: Optional[int] = None
    completion_tokens: Optional[int] = None
    status: Optional[str] = None
    event_id: Optional[str] = None


class CostLookup(MeshModel):
    """What ``client.costs.lookup()`` found: ``costs`` in the order the ids were given (each id once),
    ``pages_read`` the usage-event pages it read."""

    model_config = ConfigDict(extra="allow")

    costs: List[RequestCost] = Field(default_factory=list)
    pages_read: int = 0

    def get(self, request_id: str) -> Optional[RequestCost]:
        """The cost of ``request_id``, or ``None`` when it was not asked for."""
        return next((cost for cost in self.costs if cost.request_id == request_id), None)

    @property
    def estimated(self) -> bool:
        """Whether any cost is an estimate (or unknown)."""
        return any(cost.estimated for cost in self.costs)

    @property
    def total_usd(self) -> Optional[Decimal]:
        """The sum of every cost, or ``None`` when one is unknown."""
        total = Decimal(0)
        for cost in self.costs:
            if cost.cost_usd is None:
                return None
            total += cost.cost_usd
        return total


class TokenEstimate(MeshModel):
    """What ``client.tokens.estimate()`` counted: the request's ``prompt_tokens`` for ``model``;
    ``exact`` when tiktoken's ``encoding`` counted the text offline, else the SDK's heuristic
    (``encoding`` is ``"heuristic"``; its error is stated in the README)."""

    model: str
    prompt_tokens: int
    exact: bool
    encoding: str
