"""``client.costs``: what given requests cost, by request id (docs/protocol.md §V2.2).

Why it exists: chat replies carry no cost; the usage events do, one per served request with its
``request_id``. ``lookup`` walks the event pages (``POST /v1/usage/events``, newest first, ``offset``
paging) until every asked id is found, the events run out or ``max_pages`` pages were read, so many ids
cost one walk. An id not found gets an estimate marked ``estimated=True``: its hinted model and tokens
at the catalog's prices (``GET /v1/models/{id}``), or ``cost_usd=None`` without a hint. Money is
``Decimal``. The walk's rules are pure (``CostWalk``, in ``_cost_walk.py`` with its two send loops,
shared with the tool runners' ``cost_usd``); the twins only call them.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Optional

from .._core.request import CallOptions, call_options
from ..types.usage import CostHint, CostLookup, Instant
from ._base import (
    AsyncAPIResource,
    AsyncRaw,
    AsyncStreaming,
    M,
    Raw,
    Streaming,
    SyncAPIResource,
    Unpack,
    Views,
    view,
)
from ._cost_walk import MAX_PAGE, CostWalk, async_walk_costs, walk_costs

__all__ = ["AsyncCostsResource", "CostsResource"]


class CostsResource(SyncAPIResource["CostsViews[Raw]", "CostsViews[Streaming]"]):
    def lookup(
        self,
        request_ids: Iterable[str],
        *,
        hints: Optional[Mapping[str, CostHint]] = None,
        since: Optional[Instant] = None,
        until: Optional[Instant] = None,
        page_size: int = MAX_PAGE,
        max_pages: int = 10,
        **options: Unpack[CallOptions],
    ) -> CostLookup:
        """Each request's cost, in the order given: exact (``Decimal``) from its usage event, read from at
        most ``max_pages`` pages of ``page_size`` (1-200) events (``since`` / ``until`` narrow the window);
        an id not found is ``estimated=True``, priced from ``hints[id]`` (model and tokens) when given."""
        opts = call_options(options)
        walk = CostWalk(request_ids, hints, since, until, page_size, max_pages)
        return walk_costs(self._http, walk, opts)


class AsyncCostsResource(AsyncAPIResource["CostsViews[AsyncRaw]", "CostsViews[AsyncStreaming]"]):
    async def lookup(
        self,
        request_ids: Iterable[str],
        *,
        hints: Optional[Mapping[str, CostHint]] = None,
        since: Optional[Instant] = None,
        until: Optional[Instant] = None,
        page_size: int = MAX_PAGE,
        max_pages: int = 10,
        **options: Unpack[CallOptions],
    ) -> CostLookup:
        """Each request's cost, in the order given: exact (``Decimal``) from its usage event, read from at
        most ``max_pages`` pages of ``page_size`` (1-200) events (``since`` / ``until`` narrow the window);
        an id not found is ``estimated=True``, priced from ``hints[id]`` (model and tokens) when given."""
        opts = call_options(options)
        walk = CostWalk(request_ids, hints, since, until, page_size, max_pages)
        return await async_walk_costs(self._http, walk, opts)


class CostsViews(Views[M]):
    """The typed ``with_raw_response`` / ``with_streaming_response`` of ``CostsResource`` and its twin
    (the raw response is the last one the lookup read)."""

    lookup = view(CostsResource.lookup, AsyncCostsResource.lookup)
