"""``client.usage``: what the calling key used and spent (docs/protocol.md §V2.1-§V2.4).

The summary and the events are ``POST`` with the filters in a JSON body; ``org_id`` is always sent
(``""`` when not given: the documented schema marks it required although key callers' values are
ignored). Money comes back as ``Decimal``: bodies are decoded with ``decode_money_model``.
``iter_events`` walks the ``offset`` pages lazily; events recorded while it walks can shift the pages
(newest first), so read a fixed window with ``until=`` when that matters.
"""

from __future__ import annotations

from functools import partial
from typing import Any, AsyncIterator, Dict, Iterator, Mapping, Optional, Tuple

from .._core.request import CallOptions, call_options, coerce_params, dump_body, path_param, split_options
from .._core.response import decode_money_model
from .._errors import InvalidParamsError
from ..types.usage import (
    Instant,
    RateLimits,
    SpendTrend,
    UsageAttempts,
    UsageEvent,
    UsageEventsPage,
    UsageQueryFields,
    UsageQueryParams,
    UsageSummary,
)
from ._base import (
    AsyncAPIResource,
    AsyncRaw,
    AsyncStreaming,
    M,
    Planned,
    Raw,
    Streaming,
    SyncAPIResource,
    Unpack,
    Views,
    view,
)

__all__ = ["AsyncUsageResource", "UsageResource"]

_PATH = "/v1/usage"
_EVENTS = "/v1/usage/events"
_MAX_PAGE = 200


class UsageQueryArgs(UsageQueryFields, CallOptions, total=False):
    """The keywords of the methods that take a ``UsageQueryParams``: its fields and the per-call options."""


def _query_body(params: object, kwargs: Mapping[str, Any]) -> Tuple[Dict[str, Any], Any]:
    opts, fields = split_options(kwargs)
    body = dump_body(coerce_params(UsageQueryParams, params, fields), opts)
    body.setdefault("org_id", "")
    return body, opts


def _refresh_query(refresh: Optional[bool]) -> Optional[Dict[str, str]]:
    if refresh is None:
        return None
    if not isinstance(refresh, bool):
        raise InvalidParamsError(f"refresh must be True, False or None, got {refresh!r}")
    return {"refresh": "true" if refresh else "false"}


def _trend_query(
    granularity: Optional[str], since: Optional[Instant], until: Optional[Instant]
) -> Dict[str, str]:
    query: Dict[str, str] = {}
    for name, value in (("granularity", granularity), ("since", since), ("until", until)):
        if value is None:
            continue
        text = value if isinstance(value, str) else getattr(value, "isoformat", lambda: "")()
        if not isinstance(text, str) or not text:
            raise InvalidParamsError(f"{name} must be a non-empty string or a datetime, got {value!r}")
        query[name] = text
    return query


def _first_page(params: object, filters: Mapping[str, Any], page_size: int) -> UsageQueryParams:
    if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= _MAX_PAGE:
        raise InvalidParamsError(f"page_size must be an integer from 1 to {_MAX_PAGE}, got {page_size!r}")
    given = {name: value for name, value in filters.items() if value is not None}
    query = coerce_params(UsageQueryParams, params, given)
    return query.model_copy(update={"limit": page_size, "offset": query.offset or 0})


def _next_page(query: UsageQueryParams, page: UsageEventsPage) -> Optional[UsageQueryParams]:
    if not page.has_more:
        return None
    return query.model_copy(update={"offset": (query.offset or 0) + len(page.events)})


def _summary(params: object, refresh: Optional[bool], kwargs: Mapping[str, Any]) -> Planned[UsageSummary]:
    body, opts = _query_body(params, kwargs)
    decode = partial(decode_money_model, UsageSummary)
    return Planned(decode, "POST", _PATH, opts, body=body, params=_refresh_query(refresh))


def _events(params: object, kwargs: Mapping[str, Any]) -> Planned[UsageEventsPage]:
    body, opts = _query_body(params, kwargs)
    return Planned(partial(decode_money_model, UsageEventsPage), "POST", _EVENTS, opts, body=body)


def _attempts(event_id: str, options: CallOptions) -> Planned[UsageAttempts]:
    path = f"{_EVENTS}/{path_param(event_id, name='event_id')}/attempts"
    return Planned(partial(decode_money_model, UsageAttempts), "GET", path, call_options(options))


def _spend_trend(
    granularity: Optional[str], since: Optional[Instant], until: Optional[Instant], options: CallOptions
) -> Planned[SpendTrend]:
    query = _trend_query(granularity, since, until) or None
    decode = partial(decode_money_model, SpendTrend)
    return Planned(decode, "GET", f"{_PATH}/spend-trend", call_options(options), params=query)


def _rate_limits(team_id: Optional[str], options: CallOptions) -> Planned[RateLimits]:
    query = {"team_id": team_id} if team_id else None
    decode = partial(decode_money_model, RateLimits)
    return Planned(decode, "GET", f"{_PATH}/rate-limits", call_options(options), params=query)


class UsageResource(SyncAPIResource["UsageViews[Raw]", "UsageViews[Streaming]"]):
    def summary(
        self,
        params: Optional[UsageQueryParams] = None,
        *,
        refresh: Optional[bool] = None,
        **kwargs: Unpack[UsageQueryArgs],
    ) -> UsageSummary:
        """Totals of the calling key's usage (``POST /v1/usage``): requests, tokens, ``total_cost_usd``
        and per-model rows (``limit`` / ``offset`` page ``by_model``). ``refresh=True`` skips a cached
        summary where the gateway keeps one."""
        return self._call(_summary(params, refresh, kwargs))

    def events(
        self,
        params: Optional[UsageQueryParams] = None,
        **kwargs: Unpack[UsageQueryArgs],
    ) -> UsageEventsPage:
        """One page of per-request usage, newest first (``POST /v1/usage/events``); ``limit`` at most
        200. Retried attempts are one event (see :meth:`attempts`). :meth:`iter_events` walks every page."""
        return self._call(_events(params, kwargs))

    def iter_events(
        self,
        params: Optional[UsageQueryParams] = None,
        *,
        since: Optional[Instant] = None,
        until: Optional[Instant] = None,
        model: Optional[str] = None,
        status: Optional[str] = None,
        page_size: int = 100,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> Iterator[UsageEvent]:
        """Every event matching the filters (keywords, or any field of ``UsageQueryParams`` in
        ``params``), newest first, fetching pages of ``page_size`` (1-200) lazily; nothing is sent
        until the first item."""
        filters = {"since": since, "until": until, "model": model, "status": status}
        return self._pages(_first_page(params, filters, page_size), extra_headers)

    def _pages(
        self, query: Optional[UsageQueryParams], headers: Optional[Mapping[str, str]]
    ) -> Iterator[UsageEvent]:
        while query is not None:
            page = self.events(query, extra_headers=headers)
            yield from page.events
            query = _next_page(query, page)

    def attempts(
        self,
        event_id: str,
        **options: Unpack[CallOptions],
    ) -> UsageAttempts:
        """Every attempt behind one event, oldest first (``GET /v1/usage/events/{event_id}/attempts``)."""
        return self._call(_attempts(event_id, options))

    def spend_trend(
        self,
        *,
        granularity: Optional[str] = None,
        since: Optional[Instant] = None,
        until: Optional[Instant] = None,
        **options: Unpack[CallOptions],
    ) -> SpendTrend:
        """Spend per ``granularity`` bucket (``"hour"`` or ``"day"`` on the local gateway) with a trailing
        3-bucket moving average and the window's total (``GET /v1/usage/spend-trend``)."""
        return self._call(_spend_trend(granularity, since, until, options))

    def rate_limits(
        self,
        *,
        team_id: Optional[str] = None,
        **options: Unpack[CallOptions],
    ) -> RateLimits:
        """Live rate-limit counters (``GET /v1/usage/rate-limits``): ``rpm``, ``rpd``, ``tpm`` per scope."""
        return self._call(_rate_limits(team_id, options))


class AsyncUsageResource(AsyncAPIResource["UsageViews[AsyncRaw]", "UsageViews[AsyncStreaming]"]):
    async def summary(
        self,
        params: Optional[UsageQueryParams] = None,
        *,
        refresh: Optional[bool] = None,
        **kwargs: Unpack[UsageQueryArgs],
    ) -> UsageSummary:
        """Totals of the calling key's usage (``POST /v1/usage``): requests, tokens, ``total_cost_usd``
        and per-model rows (``limit`` / ``offset`` page ``by_model``). ``refresh=True`` skips a cached
        summary where the gateway keeps one."""
        return await self._call(_summary(params, refresh, kwargs))

    async def events(
        self,
        params: Optional[UsageQueryParams] = None,
        **kwargs: Unpack[UsageQueryArgs],
    ) -> UsageEventsPage:
        """One page of per-request usage, newest first (``POST /v1/usage/events``); ``limit`` at most
        200. Retried attempts are one event (see :meth:`attempts`). :meth:`iter_events` walks every page."""
        return await self._call(_events(params, kwargs))

    def iter_events(
        self,
        params: Optional[UsageQueryParams] = None,
        *,
        since: Optional[Instant] = None,
        until: Optional[Instant] = None,
        model: Optional[str] = None,
        status: Optional[str] = None,
        page_size: int = 100,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> AsyncIterator[UsageEvent]:
        """Every event matching the filters (keywords, or any field of ``UsageQueryParams`` in
        ``params``), newest first, fetching pages of ``page_size`` (1-200) lazily; nothing is sent
        until the first item."""
        filters = {"since": since, "until": until, "model": model, "status": status}
        return self._pages(_first_page(params, filters, page_size), extra_headers)

    async def _pages(
        self, query: Optional[UsageQueryParams], headers: Optional[Mapping[str, str]]
    ) -> AsyncIterator[UsageEvent]:
        while query is not None:
            page = await self.events(query, extra_headers=headers)
            for event in page.events:
                yield event
            query = _next_page(query, page)

    async def attempts(
        self,
        event_id: str,
        **options: Unpack[CallOptions],
    ) -> UsageAttempts:
        """Every attempt behind one event, oldest first (``GET /v1/usage/events/{event_id}/attempts``)."""
        return await self._call(_attempts(event_id, options))

    async def spend_trend(
        self,
        *,
        granularity: Optional[str] = None,
        since: Optional[Instant] = None,
        until: Optional[Instant] = None,
        **options: Unpack[CallOptions],
    ) -> SpendTrend:
        """Spend per ``granularity`` bucket (``"hour"`` or ``"day"`` on the local gateway) with a trailing
        3-bucket moving average and the window's total (``GET /v1/usage/spend-trend``)."""
        return await self._call(_spend_trend(granularity, since, until, options))

    async def rate_limits(
        self,
        *,
        team_id: Optional[str] = None,
        **options: Unpack[CallOptions],
    ) -> RateLimits:
        """Live rate-limit counters (``GET /v1/usage/rate-limits``): ``rpm``, ``rpd``, ``tpm`` per scope."""
        return await self._call(_rate_limits(team_id, options))


class UsageViews(Views[M]):
    """The typed ``with_raw_response`` / ``with_streaming_response`` of ``UsageResource`` and its twin."""

    summary = view(UsageResource.summary, AsyncUsageResource.summary)
    events = view(UsageResource.events, AsyncUsageResource.events)
    attempts = view(UsageResource.attempts, AsyncUsageResource.attempts)
    spend_trend = view(UsageResource.spend_trend, AsyncUsageResource.spend_trend)
    rate_limits = view(UsageResource.rate_limits, AsyncUsageResource.rate_limits)
