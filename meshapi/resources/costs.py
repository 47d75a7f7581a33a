"""``client.costs``: what given requests cost, by request id (docs/protocol.md §V2.2).

Why it exists: chat replies carry no cost; the usage events do, one per served request with its
``request_id``. ``lookup`` walks the event pages (``POST /v1/usage/events``, newest first, ``offset``
paging) until every asked id is found, the events run out or ``max_pages`` pages were read, so many ids
cost one walk. An id not found gets an estimate marked ``estimated=True``: its hinted model and tokens
at the catalog's prices (``GET /v1/models/{id}``), or ``cost_usd=None`` without a hint. Money is
``Decimal``. The walk's rules are pure (``_Walk``); the twins only send.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Mapping, Optional

from .._core.request import CallOptions, call_options, dump_body
from .._core.response import decode_money_model
from .._errors import InvalidParamsError, NotFoundError
from ..lib.pricing import estimate_cost
from ..types.models import ModelInfo
from ..types.usage import (
    CostHint,
    CostLookup,
    Instant,
    RequestCost,
    UsageEvent,
    UsageEventsPage,
    UsageQueryParams,
)
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
    model_path,
    view,
)

__all__ = ["AsyncCostsResource", "CostsResource"]

_EVENTS = "/v1/usage/events"
_MAX_PAGE = 200


def _ids(request_ids: Iterable[str]) -> List[str]:
    if isinstance(request_ids, (str, bytes)):
        raise InvalidParamsError("request_ids must be a list of request ids, not one string")
    ids: Dict[str, None] = {}  # ordered, each id once, linear time
    for request_id in request_ids:
        if not isinstance(request_id, str) or not request_id:
            raise InvalidParamsError(f"every request id must be a non-empty string, got {request_id!r}")
        ids[request_id] = None
    return list(ids)


def _hints(hints: Optional[Mapping[str, CostHint]]) -> Dict[str, CostHint]:
    checked: Dict[str, CostHint] = {}
    for request_id, hint in (hints or {}).items():
        if not isinstance(hint, Mapping):
            raise InvalidParamsError(f"hints[{request_id!r}] must be a mapping, got {hint!r}")
        for name in ("prompt_tokens", "completion_tokens"):
            count = hint.get(name)
            if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 0):
                raise InvalidParamsError(
                    f"hints[{request_id!r}][{name!r}] must be an integer >= 0, got {count!r}"
                )
        checked[request_id] = hint
    return checked


def _positive(name: str, value: object, most: Optional[int] = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1 or (most and value > most):
        bound = f"from 1 to {most}" if most else "of at least 1"
        raise InvalidParamsError(f"{name} must be an integer {bound}, got {value!r}")
    return value


class _Walk:
    """The pure state of one lookup: which ids are still missing, the next page's query, the result."""

    def __init__(
        self,
        request_ids: Iterable[str],
        hints: Optional[Mapping[str, CostHint]],
        since: Optional[Instant],
        until: Optional[Instant],
        page_size: int,
        max_pages: int,
    ) -> None:
        self.ids = _ids(request_ids)
        self.wanted = set(self.ids)
        self.hints = _hints(hints)
        self.max_pages = _positive("max_pages", max_pages)
        limit = _positive("page_size", page_size, _MAX_PAGE)
        self.query: Optional[UsageQueryParams] = UsageQueryParams(
            since=since, until=until, limit=limit, offset=0
        )
        self.found: Dict[str, UsageEvent] = {}
        self.pages = 0
        if not self.ids:
            self.query = None

    def body(self, opts: Any) -> Dict[str, Any]:
        assert self.query is not None
        body = dump_body(self.query, opts)
        body.setdefault("org_id", "")
        return body

    def read(self, page: UsageEventsPage) -> None:
        """Takes one page in; ``query`` becomes the next page's, or ``None`` when the walk is over."""
        self.pages += 1
        for event in page.events:
            if event.request_id in self.wanted and event.request_id not in self.found:
                self.found[event.request_id] = event
        query, self.query = self.query, None
        done = len(self.found) == len(self.ids) or not page.has_more or self.pages >= self.max_pages
        if query is not None and not done:
            self.query = query.model_copy(update={"offset": (query.offset or 0) + len(page.events)})

    def models_to_price(self) -> List[str]:
        """The hinted models of the ids not found (each once), whose catalog prices the estimates need."""
        models: List[str] = []
        for request_id in self.ids:
            model = self.hints.get(request_id, {}).get("model")
            if request_id not in self.found and model and model not in models:
                models.append(model)
        return models

    def result(self, catalog: Mapping[str, Optional[ModelInfo]]) -> CostLookup:
        costs = [self._cost(request_id, catalog) for request_id in self.ids]
        return CostLookup(costs=costs, pages_read=self.pages)

    def _cost(self, request_id: str, catalog: Mapping[str, Optional[ModelInfo]]) -> RequestCost:
        event = self.found.get(request_id)
        if event is not None:
            return RequestCost(
                request_id=request_id,
                cost_usd=event.cost_usd,
                estimated=False,
                model=event.model,
                prompt_tokens=event.prompt_tokens,
                completion_tokens=event.completion_tokens,
                status=event.status,
                event_id=event.id,
            )
        hint = self.hints.get(request_id, {})
        model = hint.get("model")
        prompt, completion = hint.get("prompt_tokens"), hint.get("completion_tokens")
        info = catalog.get(model) if model else None
        cost = None
        if info is not None and (prompt is not None or completion is not None):
            cost = estimate_cost(info.pricing, prompt, completion)
        return RequestCost(
            request_id=request_id,
            cost_usd=cost,
            estimated=True,
            model=model,
            prompt_tokens=prompt,
            completion_tokens=completion,
        )


class CostsResource(SyncAPIResource["CostsViews[Raw]", "CostsViews[Streaming]"]):
    def lookup(
        self,
        request_ids: Iterable[str],
        *,
        hints: Optional[Mapping[str, CostHint]] = None,
        since: Optional[Instant] = None,
        until: Optional[Instant] = None,
        page_size: int = _MAX_PAGE,
        max_pages: int = 10,
        **options: Unpack[CallOptions],
    ) -> CostLookup:
        """Each request's cost, in the order given: exact (``Decimal``) from its usage event, read from at
        most ``max_pages`` pages of ``page_size`` (1-200) events (``since`` / ``until`` narrow the window);
        an id not found is ``estimated=True``, priced from ``hints[id]`` (model and tokens) when given."""
        opts = call_options(options)
        walk = _Walk(request_ids, hints, since, until, page_size, max_pages)
        while walk.query is not None:
            walk.read(decode_money_model(UsageEventsPage, self._http.send(
                "POST", _EVENTS, body=walk.body(opts), options=opts)))  # fmt: skip
        catalog: Dict[str, Optional[ModelInfo]] = {}
        for model in walk.models_to_price():
            try:
                path = model_path(model, what="hints: model")
                catalog[model] = self._http.request_model(ModelInfo, "GET", path, options=opts)
            except NotFoundError:
                catalog[model] = None
        return walk.result(catalog)


class AsyncCostsResource(AsyncAPIResource["CostsViews[AsyncRaw]", "CostsViews[AsyncStreaming]"]):
    async def lookup(
        self,
        request_ids: Iterable[str],
        *,
        hints: Optional[Mapping[str, CostHint]] = None,
        since: Optional[Instant] = None,
        until: Optional[Instant] = None,
        page_size: int = _MAX_PAGE,
        max_pages: int = 10,
        **options: Unpack[CallOptions],
    ) -> CostLookup:
        """Each request's cost, in the order given: exact (``Decimal``) from its usage event, read from at
        most ``max_pages`` pages of ``page_size`` (1-200) events (``since`` / ``until`` narrow the window);
        an id not found is ``estimated=True``, priced from ``hints[id]`` (model and tokens) when given."""
        opts = call_options(options)
        walk = _Walk(request_ids, hints, since, until, page_size, max_pages)
        while walk.query is not None:
            response = await self._http.send("POST", _EVENTS, body=walk.body(opts), options=opts)
            walk.read(decode_money_model(UsageEventsPage, response))
        catalog: Dict[str, Optional[ModelInfo]] = {}
        for model in walk.models_to_price():
            try:
                path = model_path(model, what="hints: model")
                catalog[model] = await self._http.request_model(ModelInfo, "GET", path, options=opts)
            except NotFoundError:
                catalog[model] = None
        return walk.result(catalog)


class CostsViews(Views[M]):
    """The typed ``with_raw_response`` / ``with_streaming_response`` of ``CostsResource`` and its twin
    (the raw response is the last one the lookup read)."""

    lookup = view(CostsResource.lookup, AsyncCostsResource.lookup)
