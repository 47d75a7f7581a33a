"""The spend watch of one call: budgets checked before it is sent, its usage recorded when it answered.

Why it exists: tracking and budgets must see every billed call, whichever resource, helper (the tool
runner, ``parse()``, fallbacks) or thread made it, so they hook the one place every call passes: the two
``send`` twins of ``meshapi._transport.client``. Each asks :func:`watch_of` first (a ``ContextVar``
read and one attribute when nothing watches); a ``POST`` to an endpoint that runs a model
(:data:`SPENDING_PATHS`) with a tracker active in the caller's context (:data:`TRACKING`) or a
``Budget`` on the client gets a :class:`SpendWatch`. The twin
then fetches the catalog prices the budget's estimate needs (once per model and HTTP client:
``GET /v1/models/{id}``), :meth:`SpendWatch.reserve` checks and holds the worst case (``meshapi._budget``),
the call is sent as usual (retries, fallback hops, a stream's first-event retry included), and
:meth:`SpendWatch.answered` reads the usage of the answer that was returned: a body at once, a stream when
its body closes (:class:`_WatchedStream`, outermost, from its last usage event; ``meshapi._core.usage``
reads it). A call that raised releases what it held. A batch's lines are billed when it finishes, after
the call that created it returned: with a tracker active, a ``GET /v1/batches/{id}`` (``batches.get`` or
``wait``) is watched too, and its results, once there, are recorded (each line once per tracker; a
budget charged the batch's worst case when it was created, ``meshapi._budget``). What only a watched call needs (budgets, token counts, prices,
usage reading) is imported when the first one is made, not at start-up.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import types
import warnings
from contextvars import ContextVar
from decimal import Decimal
from typing import TYPE_CHECKING, Any, AsyncIterator, Dict, Iterator, List, Optional, Sequence, Tuple

import httpx

from .._config import MeshAPIConfig
from .._core.request import model_path
from .._errors import NotFoundError
from .capture import CAPTURE, Spending, StopAfterResponse

if TYPE_CHECKING:
    from .._budget import Budget, Prices
    from .._core.usage import UsageEntry

__all__ = [
    "BATCH_PREFIX",
    "SPENDING_PATHS",
    "TRACKING",
    "SpendWatch",
    "attempts_of",
    "awatched",
    "model_path",
    "prices_of",
    "watch_of",
    "watched",
]

#: The endpoints that run a model and are billed when answered (docs/protocol.md §V2). Batches are billed
#: when their work ends: a budget holds a new batch's worst case as spent, a tracker records its lines
#: from ``GET /v1/batches/{id}`` (:data:`BATCH_PREFIX`); video tasks are not watched.
SPENDING_PATHS = frozenset({
    "/v1/batches", "/v1/chat/completions", "/v1/chat/compare", "/v1/responses", "/v1/embeddings",
    "/v1/images/generations", "/v1/images/edits", "/v1/audio/speech", "/v1/audio/transcriptions",
    "/v1/audio/transcriptions/translate", "/v1/audio/translations", "/v1/web/search", "/v1/moderations",
})  # fmt: skip


#: The trackers (``meshapi._usage_track.UsageLedger``) active in this context, innermost last; every
#: watched call records into each of them.
TRACKING: ContextVar[Tuple[Any, ...]] = ContextVar("meshapi_usage_tracking", default=())

#: ``GET`` of one batch (``/v1/batches/{id}``): its results are recorded when a tracker watches.
BATCH_PREFIX = "/v1/batches/"


_BODY_LIMIT = 8 * 1024 * 1024  # a JSON reply read for its usage as it passes: kept up to this size

_PRICE_FIELDS = (
    "pricing_unit",
    "prompt_usd_per_1m",
    "prompt_usd_per_1k",
    "completion_usd_per_1m",
    "completion_usd_per_1k",
)


def watch_of(config: MeshAPIConfig, method: str, path: str, body: Any, stream: bool) -> Optional[SpendWatch]:
    """The watch of a call, or ``None`` when no tracker and no budget is concerned with it."""
    ledgers = TRACKING.get()
    budget = config.budget
    if not ledgers and budget is None:
        return None
    if method == "GET" and ledgers and path.startswith(BATCH_PREFIX) and "/" not in path[len(BATCH_PREFIX) :]:
        from .._core.usage import BATCH_PATH

        return SpendWatch(ledgers, [], BATCH_PATH, None, False)
    if method != "POST" or path not in SPENDING_PATHS:
        return None
    budgets: List[Budget] = [budget] if budget is not None else []
    for ledger in ledgers:
        if ledger.budget is not None and all(ledger.budget is not b for b in budgets):
            budgets.append(ledger.budget)
    return SpendWatch(ledgers, budgets, path, body, stream)


def watched(http: Any, watch: SpendWatch, begun: Any) -> httpx.Response:
    """``begun`` sent by the sync client ``http`` under ``watch``: the prices its budgets need fetched
    (``http._prices``, by model; outside a raw view's capture), its worst case held, its answer recorded
    (or what it held released)."""
    missing = watch.models_to_price(http._prices)
    if missing:
        outer = CAPTURE.set(None)  # the catalog reads are not the call a raw view captures
        try:
            for model in missing:
                try:
                    http._prices[model] = prices_of(http.send("GET", model_path(model)))
                except NotFoundError:
                    http._prices[model] = None
        finally:
            CAPTURE.reset(outer)
    watch.reserve(http._prices)
    try:
        response = http._answer(begun)
    except BaseException as exc:
        watch.failed_or_captured(exc, begun, http._prices)
        raise
    return watch.answered(response, begun, http._prices)


async def awatched(http: Any, watch: SpendWatch, begun: Any) -> httpx.Response:
    """Async twin of :func:`watched`."""
    missing = watch.models_to_price(http._prices)
    if missing:
        outer = CAPTURE.set(None)
        try:
            for model in missing:
                try:
                    http._prices[model] = prices_of(await http.send("GET", model_path(model)))
                except NotFoundError:
                    http._prices[model] = None
        finally:
            CAPTURE.reset(outer)
    watch.reserve(http._prices)
    try:
        response = await http._answer(begun)
    except BaseException as exc:
        watch.failed_or_captured(exc, begun, http._prices)
        raise
    return watch.answered(response, begun, http._prices)


def prices_of(response: httpx.Response) -> Optional[Prices]:
    """The per-1M ``(prompt, completion)`` prices of a ``GET /v1/models/{id}`` answer, or ``None``."""
    try:
        info = json.loads(response.content)
    except (ValueError, RecursionError):
        return None
    pricing = info.get("pricing") if isinstance(info, dict) else None
    if not isinstance(pricing, dict):
        return None
    from ..lib.pricing import per_million

    fields = {name: pricing.get(name) for name in _PRICE_FIELDS}
    found = per_million(
        types.SimpleNamespace(**{k: v if isinstance(v, str) else None for k, v in fields.items()})
    )
    return None if found == (None, None) else found


class SpendWatch:
    """One call's budgets and trackers (see the module docstring); settled once."""

    __slots__ = ("body", "budgets", "done", "held", "ledgers", "model", "path", "stream")

    def __init__(
        self, ledgers: Sequence[Any], budgets: List[Budget], path: str, body: Any, stream: bool
    ) -> None:
        self.ledgers, self.budgets, self.path, self.body, self.stream = ledgers, budgets, path, body, stream
        model = body.get("model") if isinstance(body, dict) else None
        self.model: Optional[str] = model if isinstance(model, str) else None
        self.held: List[Tuple[Budget, Decimal]] = []
        self.done = False

    def models_to_price(self, known: Dict[str, Optional[Prices]]) -> List[str]:
        """The models whose catalog prices the budgets' estimate needs and ``known`` lacks."""
        from .._budget import models_of

        return [m for m in models_of(self.body) if m not in known] if self.budgets else []

    def reserve(self, prices: Dict[str, Optional[Prices]]) -> None:
        """Hold the call's worst case on every budget (``BudgetExceededError``: nothing held, nothing sent)."""
        if not self.budgets:
            return
        from .._budget import BudgetWarning, worst_case
        from .._core.tokens import count_text
        from .._tiktoken import text_counter

        exact = text_counter(self.model) if self.model else None  # tiktoken offline, else the heuristic
        estimate, unpriced = worst_case(self.path, self.body, prices, exact[1] if exact else count_text)
        if unpriced:
            names = ", ".join(unpriced)
            warnings.warn(
                f"No per-token catalog price for {names}: counted as free by the budget",
                BudgetWarning,
                stacklevel=5,
            )
        try:
            for budget in self.budgets:
                self.held.append((budget, budget.reserve(estimate)))
        except BaseException:
            self.failed()
            raise

    def failed(self) -> None:
        """The call raised: release what it held."""
        if not self.done:
            self.done = True
            for budget, held in self.held:
                budget.release(held)

    def failed_or_captured(self, exc: BaseException, begun: Any, prices: Dict[str, Optional[Prices]]) -> None:
        """The call raised ``exc``: release what it held; ``with_streaming_response``'s stop
        (``capture.StopAfterResponse``) is no failure: the captured response is watched instead."""
        capture = begun[3]
        if isinstance(exc, StopAfterResponse) and capture is not None and capture.response is not None:
            self.answered(capture.response, begun, prices)
        else:
            self.failed()

    def answered(
        self, response: httpx.Response, begun: Any, prices: Dict[str, Optional[Prices]]
    ) -> httpx.Response:
        """Record ``response``'s usage now (a body read) or when its body closes (a stream, or a raw
        view's unread body; its attempts counted then, a first-event retry's included); returns it."""
        from .._core.usage import BodyUsage, StreamUsage

        reader: Any
        if "json" in response.headers.get("content-type", ""):
            reader = BodyUsage(self.path, self.model, _BODY_LIMIT)
        else:  # a stream's events (speech and other bodies report no usage: nothing is found)
            reader = StreamUsage(self.path, self.model, "")
        if not response.is_closed:
            response.stream = _WatchedStream(response.stream, self, reader, response, begun, prices)
            return response
        reader.feed(response.content)  # the body is in memory already
        self.finish(reader.entries(), response.headers.get("x-request-id", ""), attempts_of(begun), prices)
        return response

    def finish(
        self, entries: List[UsageEntry], request_id: str, attempts: int, prices: Dict[str, Optional[Prices]]
    ) -> None:
        """Add the records to every tracker and charge every budget (once): each entry costs what the
        reply says, else its tokens at the catalog price the client knows, else it is unknown."""
        from .._core.usage import BATCH_PATH, UsageEntry, record_of
        from ..lib.pricing import cost_at

        if self.done:
            return
        self.done = True
        if self.path == BATCH_PATH:  # a batch's lines (none before it finished), each billed once
            attempts = 1
        elif not entries:  # an answer that reports no usage (speech, moderation): its cost comes later
            entries = [UsageEntry(model=self.model, request_id=request_id)]
        records = []
        for entry in entries:
            cost, source = entry.cost_usd, "reply"
            price = prices.get(entry.model or "")
            if cost is None:
                cost = cost_at(price, entry.prompt_tokens, entry.completion_tokens) if price else None
                source = "catalog"
            if not entry.request_id or entry.request_id.startswith(
                "::"
            ):  # the answer's id (compare: a prefix)
                entry = dataclasses.replace(entry, request_id=request_id + entry.request_id)
            records.append(
                record_of(entry, self.path, attempts, self.stream, cost, source if cost is not None else None)
            )
        for ledger in self.ledgers:
            ledger.add(records)
        known = [r.cost_usd for r in records if r.cost_usd is not None]
        complete = len(known) == len(records) and self.path != BATCH_PATH  # a new batch: billed later
        actual = sum(known, Decimal(0)) if complete else None
        for budget, held in self.held:
            budget.settle(held, actual)


def attempts_of(begun: Any) -> int:
    """The attempts the call of ``begun`` made (its latest hop's, when it went along a fallback chain)."""
    call = begun[4]
    retries: int = (call.state if call is not None else begun[1]).retries
    return retries + 1


class _WatchedStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A streamed answer's body, read through a ``StreamUsage`` (or a ``BodyUsage``, JSON); the watch is
    settled when it closes."""

    def __init__(
        self,
        inner: Any,
        watch: SpendWatch,
        reader: Any,
        response: httpx.Response,
        begun: Any,
        prices: Dict[str, Optional[Prices]],
    ) -> None:
        self._inner, self._watch, self._reader = inner, watch, reader
        self._response, self._begun, self._prices = response, begun, prices

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._inner:
            self._reader.feed(chunk)
            yield chunk

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            self._reader.feed(chunk)
            yield chunk

    def _settle(self) -> None:
        request_id = self._response.headers.get(
            "x-request-id", ""
        )  # the answer's (after a first-event retry)
        self._watch.finish(self._reader.entries(), request_id, attempts_of(self._begun), self._prices)

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            self._settle()

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            self._settle()


# Importing this module is what switches the watch on (``capture.Spending``): a tracker (``meshapi._usage_track``)
# or a client with a budget (``meshapi._config``) imports it; until then a call never comes here.
Spending.module = sys.modules[__name__]
