"""``map`` of ``client.chat.completions`` (sync and async): mixins the classes of ``chat.py`` inherit
(through ``_chat_tool_runs.py``'s, whose bases they are).

Why a module of its own: it keeps ``chat.py`` under the size limit, and ``map`` is a way of calling
``create`` many times rather than an endpoint. The running (a bounded thread pool, an anyio task group),
the order and the costs are ``meshapi.lib.bulk``'s; each call is the resource's own ``create`` (so the
client's ``limiter=``, retries and fallbacks apply to each), then each model that answered is priced once
from the catalog (``GET /v1/models/{id}``). The names the bodies use are imported by the first ``map``
(a first chat call needs none of them); the keywords are spelled out for ``help()`` with ``chat.py``'s
load.
"""

from __future__ import annotations

from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    List,
    Literal,
    Mapping,
    Optional,
    Sequence,
    Union,
    overload,
)

from .._core.request import CallOptions, call_options
from .._errors import MeshAPIError
from ._base import Unpack, model_path, spell_out_keywords
from ._lazy import LazyNames

if TYPE_CHECKING:  # at run time: _import(), on first use
    from ..lib.bulk import MapResult, bulk_requests, models_to_price, run_tasks, run_threads, with_costs
    from ..types.chat import ChatCompletionParams

__all__ = ["AsyncChatMaps", "ChatMaps", "spell_out_maps"]

Request = Union["ChatCompletionParams", Mapping[str, Any]]
Progress = Optional[Callable[[int, int], Any]]


def _import() -> Dict[str, Any]:
    from ..lib.bulk import MapResult, bulk_requests, models_to_price, run_tasks, run_threads, with_costs
    from ..types.chat import ChatCompletionParams

    return {
        "MapResult": MapResult,
        "bulk_requests": bulk_requests,
        "models_to_price": models_to_price,
        "run_tasks": run_tasks,
        "run_threads": run_threads,
        "with_costs": with_costs,
        "ChatCompletionParams": ChatCompletionParams,
    }


def _spell_out() -> None:
    for mixin in (ChatMaps, AsyncChatMaps):
        spell_out_keywords(mixin)


_lazy = LazyNames(globals(), _import, then=_spell_out)
spell_out_maps = _spell_out  # chat.py's load (through _chat_tool_runs.offer): map's keywords for help()


def _model_info() -> Any:
    """``ModelInfo``, imported when a run has finished (not with chat's names: the first chat call skips it)."""
    from ..types.models import ModelInfo

    return ModelInfo


class ChatMaps:
    """``CompletionsResource.map``: each request is a call of its ``create``."""

    if TYPE_CHECKING:
        create: Callable[..., Any]  # the resource's own
        _http: Any

    @overload
    def map(
        self,
        requests: Sequence[Request],
        *,
        concurrency: int = 8,
        return_exceptions: Literal[False] = False,
        on_progress: Progress = None,
        **options: Unpack[CallOptions],
    ) -> List[MapResult]: ...
    @overload
    def map(
        self,
        requests: Sequence[Request],
        *,
        concurrency: int = 8,
        return_exceptions: Literal[True],
        on_progress: Progress = None,
        **options: Unpack[CallOptions],
    ) -> List[Union[MapResult, Exception]]: ...
    @overload
    def map(
        self,
        requests: Sequence[Request],
        *,
        concurrency: int = 8,
        return_exceptions: bool,
        on_progress: Progress = None,
        **options: Unpack[CallOptions],
    ) -> List[Union[MapResult, Exception]]: ...
    def map(
        self,
        requests: Sequence[Request],
        *,
        concurrency: int = 8,
        return_exceptions: bool = False,
        on_progress: Progress = None,
        **options: Unpack[CallOptions],
    ) -> Union[List[MapResult], List[Union[MapResult, Exception]]]:
        """Run chat requests (dicts or ``ChatCompletionParams``, not streams), ``concurrency`` at a time and
        through the client's ``limiter=``; return a ``MapResult`` (completion, ``cost_usd``) per request, in
        input order. The first error stops the run (nothing more is started) and is raised, unless
        ``return_exceptions=True`` puts it at its index. ``on_progress(done, total)`` after each request.
        ``options`` (``timeout``, ``max_retries``, ...) apply to every call. README: "Bulk requests"."""
        _lazy.load()
        items = bulk_requests(requests, concurrency)
        outcomes = run_threads(
            lambda item: self.create(item, **options), items, concurrency, return_exceptions, on_progress
        )
        opts = call_options(options)
        prices: Dict[str, Any] = {}
        for model in models_to_price(outcomes):
            try:
                info = self._http.request_model(_model_info(), "GET", model_path(model), options=opts)
                prices[model] = info.pricing
            except MeshAPIError:
                prices[model] = None
        return with_costs(outcomes, prices)


class AsyncChatMaps:
    """``AsyncCompletionsResource.map``: each request is a call of its ``create``."""

    if TYPE_CHECKING:
        create: Callable[..., Any]
        _http: Any

    @overload
    async def map(
        self,
        requests: Sequence[Request],
        *,
        concurrency: int = 8,
        return_exceptions: Literal[False] = False,
        on_progress: Progress = None,
        **options: Unpack[CallOptions],
    ) -> List[MapResult]: ...
    @overload
    async def map(
        self,
        requests: Sequence[Request],
        *,
        concurrency: int = 8,
        return_exceptions: Literal[True],
        on_progress: Progress = None,
        **options: Unpack[CallOptions],
    ) -> List[Union[MapResult, Exception]]: ...
    @overload
    async def map(
        self,
        requests: Sequence[Request],
        *,
        concurrency: int = 8,
        return_exceptions: bool,
        on_progress: Progress = None,
        **options: Unpack[CallOptions],
    ) -> List[Union[MapResult, Exception]]: ...
    async def map(
        self,
        requests: Sequence[Request],
        *,
        concurrency: int = 8,
        return_exceptions: bool = False,
        on_progress: Progress = None,
        **options: Unpack[CallOptions],
    ) -> Union[List[MapResult], List[Union[MapResult, Exception]]]:
        """Run chat requests (dicts or ``ChatCompletionParams``, not streams), ``concurrency`` at a time and
        through the client's ``limiter=``; return a ``MapResult`` (completion, ``cost_usd``) per request, in
        input order. The first error stops the run (nothing more is started) and is raised, unless
        ``return_exceptions=True`` puts it at its index. ``on_progress(done, total)`` after each request.
        ``options`` (``timeout``, ``max_retries``, ...) apply to every call. README: "Bulk requests"."""
        _lazy.load()
        items = bulk_requests(requests, concurrency)
        outcomes = await run_tasks(
            lambda item: self.create(item, **options), items, concurrency, return_exceptions, on_progress
        )
        opts = call_options(options)
        prices: Dict[str, Any] = {}
        for model in models_to_price(outcomes):
            try:
                path = model_path(model)
                info = await self._http.request_model(_model_info(), "GET", path, options=opts)
                prices[model] = info.pricing
            except MeshAPIError:
                prices[model] = None
        return with_costs(outcomes, prices)
