"""``run_tools`` of ``client.chat.completions`` (sync and async): mixins the classes of ``chat.py`` inherit.

Why a module of its own: it keeps ``chat.py`` under the size limit, and the runner is a way of calling
``create`` rather than an endpoint of its own (so is ``map``: the mixins here inherit ``_chat_maps.py``'s). The names the methods' bodies use (the
runners, the tool loop) are imported by the first run (:class:`~meshapi.resources._lazy.LazyNames`):
a first chat call needs none of them, and they are about a tenth of a cold start. The names the
signatures name come with ``chat.py``'s load (:func:`offer`), so ``help()`` shows the keywords as soon
as it shows ``create``'s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Dict, Literal, Mapping, Optional, Union, overload

from ._base import Unpack, spell_out_keywords
from ._chat_maps import AsyncChatMaps, ChatMaps, spell_out_maps
from ._lazy import LazyNames

if TYPE_CHECKING:  # at run time: _import(), on first use
    from ..lib.chat_request import ToolRunArgs
    from ..lib.tool_loop import ChatWire, start_run
    from ..lib.tool_runner import ToolRunner, ToolStreamRunner
    from ..lib.tool_runner_async import AsyncToolRunner, AsyncToolStreamRunner
    from ..types.chat import ChatCompletionParams, ChatCompletionResponse

__all__ = ["AsyncChatToolRuns", "ChatToolRuns", "offer"]


def _import() -> Dict[str, Any]:
    from ..lib.chat_request import ToolRunArgs
    from ..lib.tool_loop import ChatWire, start_run
    from ..lib.tool_runner import ToolRunner, ToolStreamRunner
    from ..lib.tool_runner_async import AsyncToolRunner, AsyncToolStreamRunner
    from ..types.chat import ChatCompletionParams, ChatCompletionResponse

    return {
        "ToolRunArgs": ToolRunArgs,
        "ChatWire": ChatWire,
        "start_run": start_run,
        "ToolRunner": ToolRunner,
        "ToolStreamRunner": ToolStreamRunner,
        "AsyncToolRunner": AsyncToolRunner,
        "AsyncToolStreamRunner": AsyncToolStreamRunner,
        "ChatCompletionParams": ChatCompletionParams,
        "ChatCompletionResponse": ChatCompletionResponse,
    }


def _spell_out() -> None:
    for mixin in (ChatToolRuns, AsyncChatToolRuns):
        spell_out_keywords(mixin)


_lazy = LazyNames(globals(), _import, then=_spell_out)
_SIGNATURE_NAMES = ("ToolRunArgs", "ChatCompletionParams", "ChatCompletionResponse")


def offer(names: Mapping[str, Any]) -> None:
    """chat.py's load: of the names it has just imported, the ones the methods' signatures name, so
    ``help()`` spells out their keywords before a first run; the runners themselves (and ``map``'s
    helpers: ``meshapi.lib.tool_loop``, ``lib.bulk``, ...) are imported by the first run, since a first
    chat call needs none of them."""
    namespace = globals()
    for name in _SIGNATURE_NAMES:
        namespace.setdefault(name, names[name])
    _spell_out()
    spell_out_maps()


class ChatToolRuns(ChatMaps):
    """``CompletionsResource.run_tools``: each turn of the run is a call of its ``create`` (its base adds
    ``map``, the other way of calling ``create`` many times: ``_chat_maps.py``)."""

    if TYPE_CHECKING:
        create: Callable[..., Any]  # the resource's own: each turn calls it
        _http: Any

    @overload
    def run_tools(
        self,
        params: Optional[ChatCompletionParams] = None,
        *,
        stream: Literal[False] = False,
        response_format: Any = None,
        **kwargs: Unpack[ToolRunArgs],
    ) -> ToolRunner[ChatCompletionResponse]: ...
    @overload
    def run_tools(
        self,
        params: Optional[ChatCompletionParams] = None,
        *,
        stream: Literal[True],
        response_format: Any = None,
        **kwargs: Unpack[ToolRunArgs],
    ) -> ToolStreamRunner[ChatCompletionResponse]: ...
    def run_tools(
        self,
        params: Optional[ChatCompletionParams] = None,
        *,
        stream: bool = False,
        response_format: Any = None,
        **kwargs: Unpack[ToolRunArgs],
    ) -> Union[ToolRunner[ChatCompletionResponse], ToolStreamRunner[ChatCompletionResponse]]:
        """Run a tool-calling conversation: each turn through :meth:`create`, the tools it calls run here.

        ``tools``: ``@meshapi.tool`` functions, pydantic models with ``__call__``, dicts with a
        ``callable``, toolsets (``meshapi.mcp.MCPToolset``). Options: ``max_iterations`` (10),
        ``max_tool_calls``, ``parallel``, ``tool_timeout``, ``on_tool_call`` (approval hook), ``on_limit``
        (``"raise"`` or ``"final_answer"``), ``tool_tracebacks``. ``cost_usd`` adds up every turn's cost (looked
        up by request id when the run ends; ``cost_estimated`` when not exact). Nothing is sent before the runner is
        iterated (or ``until_done()``). It yields each turn's completion; with ``stream=True``, typed
        events (``ContentDelta``, ``ToolCallStarted``, ``ToolCallFinished``, ``TurnFinished``). README:
        "Tools that run themselves".
        """
        _lazy.load()  # the runner's names
        from ._cost_walk import turn_costs  # here: a chat program that runs no tools never loads it

        state = start_run(ChatWire(), params, kwargs, response_format)
        runner = ToolStreamRunner if stream else ToolRunner
        return runner(self.create, state, turn_costs(self._http))


class AsyncChatToolRuns(AsyncChatMaps):
    """``AsyncCompletionsResource.run_tools``: each turn of the run is a call of its ``create`` (its base
    adds ``map``: ``_chat_maps.py``)."""

    if TYPE_CHECKING:
        create: Callable[..., Any]  # the resource's own: each turn calls it
        _http: Any

    @overload
    def run_tools(
        self,
        params: Optional[ChatCompletionParams] = None,
        *,
        stream: Literal[False] = False,
        response_format: Any = None,
        **kwargs: Unpack[ToolRunArgs],
    ) -> AsyncToolRunner[ChatCompletionResponse]: ...
    @overload
    def run_tools(
        self,
        params: Optional[ChatCompletionParams] = None,
        *,
        stream: Literal[True],
        response_format: Any = None,
        **kwargs: Unpack[ToolRunArgs],
    ) -> AsyncToolStreamRunner[ChatCompletionResponse]: ...
    def run_tools(
        self,
        params: Optional[ChatCompletionParams] = None,
        *,
        stream: bool = False,
        response_format: Any = None,
        **kwargs: Unpack[ToolRunArgs],
    ) -> Union[AsyncToolRunner[ChatCompletionResponse], AsyncToolStreamRunner[ChatCompletionResponse]]:
        """Run a tool-calling conversation: each turn through :meth:`create`, the tools it calls run here.

        ``tools``: ``@meshapi.tool`` functions, pydantic models with ``__call__``, dicts with a
        ``callable``, toolsets (``meshapi.mcp.MCPToolset``). Options: ``max_iterations`` (10),
        ``max_tool_calls``, ``parallel``, ``tool_timeout``, ``on_tool_call`` (approval hook), ``on_limit``
        (``"raise"`` or ``"final_answer"``), ``tool_tracebacks``. ``cost_usd`` adds up every turn's cost (looked
        up by request id when the run ends; ``cost_estimated`` when not exact). Nothing is sent before the runner is
        iterated (or ``until_done()``). It yields each turn's completion; with ``stream=True``, typed
        events (``ContentDelta``, ``ToolCallStarted``, ``ToolCallFinished``, ``TurnFinished``). README:
        "Tools that run themselves".
        """
        _lazy.load()  # the runner's names (its turns await the warm-up like create does)
        from ._cost_walk import async_turn_costs  # here: a chat program that runs no tools never loads it

        state = start_run(ChatWire(), params, kwargs, response_format)
        runner = AsyncToolStreamRunner if stream else AsyncToolRunner
        return runner(self.create, state, async_turn_costs(self._http))
