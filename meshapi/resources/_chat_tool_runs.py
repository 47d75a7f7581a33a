"""``run_tools`` of ``client.chat.completions`` (sync and async): mixins the classes of ``chat.py`` inherit.

Why a module of its own: it keeps ``chat.py`` under the size limit, and the runner is a way of calling
``create`` rather than an endpoint of its own (so is ``map``: the mixins here inherit ``_chat_maps.py``'s). The names the methods' annotations and bodies use (the
chat models, the runners) are imported on first use (:class:`~meshapi.resources._lazy.LazyNames`) for
the reason ``chat.py`` imports its models late; ``chat.py``'s load runs this module's (it takes its
names, :func:`tool_run_names`), so ``typing.get_type_hints`` and ``help()`` see them whenever they see
``chat.py``'s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Dict, Literal, Optional, Union, overload

from ._base import Unpack, spell_out_keywords
from ._chat_maps import AsyncChatMaps, ChatMaps, map_names
from ._lazy import LazyNames

if TYPE_CHECKING:  # at run time: _import(), on first use
    from ..lib.chat_request import ToolRunArgs
    from ..lib.tool_loop import ChatWire, start_run
    from ..lib.tool_runner import ToolRunner, ToolStreamRunner
    from ..lib.tool_runner_async import AsyncToolRunner, AsyncToolStreamRunner
    from ..types.chat import ChatCompletionParams, ChatCompletionResponse

__all__ = ["AsyncChatToolRuns", "ChatToolRuns", "tool_run_names"]


def _import() -> Dict[str, Any]:
    from ..lib.chat_request import ToolRunArgs
    from ..lib.tool_loop import ChatWire, start_run
    from ..lib.tool_runner import ToolRunner, ToolStreamRunner
    from ..lib.tool_runner_async import AsyncToolRunner, AsyncToolStreamRunner
    from ..types.chat import ChatCompletionParams, ChatCompletionResponse

    return {
        **map_names(),  # chat.completions.map's (its mixin sits next to this one)
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
tool_run_names = _lazy.names  # chat.py's load: these names, which it offers too


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
