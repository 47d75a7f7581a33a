"""The walk of ``client.costs.lookup()``, shared by the costs resource and the tool runners' ``cost_usd``.

Why a module of its own: resources do not import one another, yet a tool run (``run_tools`` of chat and
of the Responses API) prices its turns the way ``client.costs.lookup()`` prices request ids. The walk's
rules are pure (:class:`CostWalk`); :func:`walk_costs` / :func:`async_walk_costs` are its two short send
loops, and :func:`turn_costs` / :func:`async_turn_costs` what a runner calls (docs/protocol.md §V2.2).
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Mapping, Optional

from .._core.request import call_options, dump_body
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
from ._base import model_path

__all__ = ["MAX_PAGE", "CostWalk", "async_turn_costs", "async_walk_costs", "turn_costs", "walk_costs"]

_EVENTS = "/v1/usage/events"
MAX_PAGE = 200


def _model_path(model: str) -> str:
    return model_path(model, what="hints: model")


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


class CostWalk:
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
        limit = _positive("page_size", page_size, MAX_PAGE)
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


def walk_costs(http: Any, walk: CostWalk, opts: Any) -> CostLookup:
    """Run ``walk`` on a sync transport handle: its event pages, then the catalog rows its estimates need."""
    while walk.query is not None:
        walk.read(
            decode_money_model(
                UsageEventsPage, http.send("POST", _EVENTS, body=walk.body(opts), options=opts)
            )
        )
    catalog: Dict[str, Optional[ModelInfo]] = {}
    for model in walk.models_to_price():
        try:
            catalog[model] = http.request_model(ModelInfo, "GET", _model_path(model), options=opts)
        except NotFoundError:
            catalog[model] = None
    return walk.result(catalog)


async def async_walk_costs(http: Any, walk: CostWalk, opts: Any) -> CostLookup:
    """:func:`walk_costs` on an async transport handle."""
    while walk.query is not None:
        response = await http.send("POST", _EVENTS, body=walk.body(opts), options=opts)
        walk.read(decode_money_model(UsageEventsPage, response))
    catalog: Dict[str, Optional[ModelInfo]] = {}
    for model in walk.models_to_price():
        try:
            path = _model_path(model)
            catalog[model] = await http.request_model(ModelInfo, "GET", path, options=opts)
        except NotFoundError:
            catalog[model] = None
    return walk.result(catalog)


#: a tool run's turns were just served: they are among the newest events, so a short walk finds them
_RUN_PAGES = 3


def turn_costs(http: Any) -> Any:
    """The cost lookup a sync tool runner calls at the end of a run (``None`` back when it fails)."""

    def lookup(ids: List[str], hints: Mapping[str, CostHint]) -> Optional[CostLookup]:
        try:
            return walk_costs(http, CostWalk(ids, hints, None, None, MAX_PAGE, _RUN_PAGES), call_options({}))
        except Exception:  # no usage API behind this base URL, no permission, a test double that does not
            return None  # know the route...: the run's answer stands, its total stays partial

    return lookup


def async_turn_costs(http: Any) -> Any:
    """:func:`turn_costs` for an async tool runner (the lookup is a coroutine function)."""

    async def lookup(ids: List[str], hints: Mapping[str, CostHint]) -> Optional[CostLookup]:
        walk = CostWalk(ids, hints, None, None, MAX_PAGE, _RUN_PAGES)
        try:
            return await async_walk_costs(http, walk, call_options({}))
        except Exception:  # as in turn_costs: a failing lookup never fails the run
            return None

    return lookup
