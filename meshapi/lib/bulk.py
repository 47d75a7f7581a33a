"""``chat.completions.map()``: many requests run with a concurrency bound, results in input order, with costs.

Why it exists: running a list of requests well is more than a loop: a bound on what runs at once, the
client's ``limiter=`` for the rates, results put back in input order whatever order they finish in, a
progress callback, and a clean stop: on the first error (unless ``return_exceptions``) nothing more is
started, and a cancelled async run cancels what is running. The sync twin runs on a bounded thread pool
(:func:`run_threads`, the pool shut down before it returns or raises), the async one in an anyio task
group (:func:`run_tasks`, asyncio or trio). The costs are pure (:func:`with_costs`): the catalog's prices
(``meshapi.lib.pricing``) times each reply's usage, which is how the gateway prices a request (a response
cache hit: 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Dict, Iterable, List, Mapping, Optional, Sequence

from .._errors import InvalidParamsError
from .._response_cache import cache_hit
from .pricing import estimate_cost

if TYPE_CHECKING:
    from concurrent.futures import Future

__all__ = ["MapResult", "bulk_requests", "models_to_price", "run_tasks", "run_threads", "with_costs"]

Progress = Optional[Callable[[int, int], Any]]


@dataclass(frozen=True)
class MapResult:
    """One request's result in ``map()``: its completion and what it cost.

    ``cost_usd``: the catalog's prices for the model that answered times the reply's usage, ``0`` for an
    answer from the gateway's response cache (not billed), ``None`` when the catalog has no price for it.
    Exact figures by request id: ``client.costs.lookup([r.request_id for r in results])``.
    """

    index: int  #: the request's position in the input
    completion: Any  #: the ``ChatCompletionResponse``
    cost_usd: Optional[Decimal]

    @property
    def request_id(self) -> Optional[str]:
        """The gateway's id of the request (``X-Request-Id``)."""
        value = getattr(self.completion, "_request_id", None)
        return value if isinstance(value, str) else None


#: The most requests ``map()`` runs at once: a sync run starts that many threads (a pool's connections,
#: 256 by default, bound what is really in flight; the rest wait for one).
MAX_CONCURRENCY = 1024


def bulk_requests(requests: Iterable[Any], concurrency: int) -> List[Any]:
    """The requests as a list, checked before anything is sent: dicts or params models, none streaming."""
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise InvalidParamsError(f"concurrency must be a positive int, got {concurrency!r}")
    if concurrency > MAX_CONCURRENCY:
        raise InvalidParamsError(f"concurrency must be at most {MAX_CONCURRENCY}, got {concurrency!r}")
    if isinstance(requests, (str, bytes, Mapping)):
        raise InvalidParamsError("requests must be a list of chat requests (dicts or ChatCompletionParams)")
    items = list(requests)
    for index, item in enumerate(items):
        if isinstance(item, Mapping):
            streaming = item.get("stream")
        elif hasattr(item, "model_dump"):
            streaming = getattr(item, "stream", None)
        else:
            raise InvalidParamsError(
                f"requests[{index}] must be a dict or a ChatCompletionParams, got {type(item).__name__}"
            )
        if streaming:
            raise InvalidParamsError(f"requests[{index}] asks for a stream; map() returns whole completions")
    return items


def run_threads(
    call: Callable[[Any], Any],
    items: Sequence[Any],
    concurrency: int,
    return_exceptions: bool,
    on_progress: Progress,
) -> List[Any]:
    """``call(item)`` for each item on at most ``concurrency`` threads; the results in input order.

    The first exception stops the run (nothing more is started, the running calls end, the pool is shut
    down) and is raised, unless ``return_exceptions`` puts it at its index. ``on_progress(done, total)``
    runs in the calling thread after each call. An interrupt (``KeyboardInterrupt``) is raised once the
    running calls have ended: no thread is left behind. Calls still waiting for the client's limiter when
    the run stops give up at once (``meshapi._rate_limiter.Abandon``), nothing sent.
    """
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait  # when a sync run starts
    from contextvars import Context

    from .._rate_limiter import ABANDON, Abandon

    total = len(items)
    results: List[Any] = [None] * total
    if not total:
        return results
    pool = ThreadPoolExecutor(max_workers=min(concurrency, total), thread_name_prefix="meshapi-map")
    running: Dict[Future[Any], int] = {}
    started = done = 0
    failure: Optional[BaseException] = None
    abandon = Abandon()  # fired when the run stops: its calls queued at the limiter give up at once
    context = Context()
    context.run(ABANDON.set, abandon)
    try:
        while started < total or running:
            while failure is None and started < total and len(running) < concurrency:
                running[pool.submit(context.copy().run, call, items[started])] = started
                started += 1
            if not running:
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in sorted(finished, key=running.__getitem__):
                index = running.pop(future)
                error = future.exception()
                if error is None:
                    results[index] = future.result()
                elif return_exceptions and isinstance(error, Exception):
                    results[index] = error
                elif failure is None:
                    failure = error
                    abandon.fire()
                done += 1
                if on_progress is not None and failure is None:
                    on_progress(done, total)
    finally:
        abandon.fire()  # an interrupt, a progress callback that raised (or the run is over: no one waits)
        pool.shutdown(wait=True)
    if failure is not None:
        raise failure
    return results


async def run_tasks(
    call: Callable[[Any], Awaitable[Any]],
    items: Sequence[Any],
    concurrency: int,
    return_exceptions: bool,
    on_progress: Progress,
) -> List[Any]:
    """The async twin of :func:`run_threads`: ``concurrency`` tasks in an anyio task group (asyncio or
    trio) take the items in order. The first exception cancels the running calls and is raised (itself,
    not an exception group); a cancelled run cancels them too and starts nothing more."""
    import anyio  # httpx's own dependency

    total = len(items)
    results: List[Any] = [None] * total
    state = {"next": 0, "done": 0}
    failures: List[BaseException] = []

    async def worker(scope: Any) -> None:
        while not failures:
            index = state["next"]  # no await between reading and taking it: one task at a time here
            if index >= total:
                return
            state["next"] = index + 1
            try:
                results[index] = await call(items[index])
            except Exception as exc:
                if not return_exceptions:
                    failures.append(exc)
                    scope.cancel()
                    return
                results[index] = exc
            state["done"] += 1
            if on_progress is not None:
                try:
                    on_progress(state["done"], total)
                except Exception as exc:
                    failures.append(exc)
                    scope.cancel()
                    return

    async with anyio.create_task_group() as group:
        for _ in range(min(concurrency, total)):
            group.start_soon(worker, group.cancel_scope)
    if failures:
        raise failures[0]
    return results


def models_to_price(outcomes: Sequence[Any]) -> List[str]:
    """The models that answered (each once, in order), whose catalog prices the costs need."""
    models: Dict[str, None] = {}
    for outcome in outcomes:
        model = getattr(outcome, "model", None)
        if isinstance(model, str) and model and not isinstance(outcome, BaseException):
            models[model] = None
    return list(models)


def with_costs(outcomes: Sequence[Any], prices: Mapping[str, Any]) -> List[Any]:
    """Each completion wrapped in a :class:`MapResult` with its cost (``prices``: model -> catalog pricing,
    ``None`` when unknown); an exception (``return_exceptions``) stays as it is, at its index."""
    results: List[Any] = []
    for index, outcome in enumerate(outcomes):
        if isinstance(outcome, BaseException):
            results.append(outcome)
            continue
        usage = getattr(outcome, "usage", None)
        pricing = prices.get(getattr(outcome, "model", None) or "")
        response = getattr(outcome, "_response", None)
        cost = None
        if response is not None and cache_hit(response.headers):
            cost = Decimal(0)  # the gateway's response cache answered: not billed (docs/protocol.md §V3.1)
        elif usage is not None and pricing is not None:
            cost = estimate_cost(pricing, usage.prompt_tokens, usage.completion_tokens)
        results.append(MapResult(index, outcome, cost))
    return results
