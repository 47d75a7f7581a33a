"""The keywords ``run_tools`` adds to ``create``'s, on their own so the chat keywords can name them cheaply.

Why a module of its own: ``meshapi.lib.chat_request`` (loaded by a first chat call) builds ``run_tools``'
keyword TypedDict from these, and ``meshapi.lib.tool_calls``, where the run's pieces live, is loaded by a
first run only. ``tool_calls`` offers both names too.
"""

from __future__ import annotations

from typing import Any, Callable, Literal, Optional, TypedDict, Union

__all__ = ["RUN_OPTION_NAMES", "ToolRunOptions"]


class ToolRunOptions(TypedDict, total=False):
    """The keywords of ``run_tools`` besides the create ones (each described in :class:`RunOptions`)."""

    max_iterations: int
    max_tool_calls: Optional[int]
    parallel: Union[bool, int]
    tool_timeout: Optional[float]
    on_tool_call: Optional[Callable[..., Any]]
    on_limit: Literal["raise", "final_answer"]
    tool_tracebacks: bool


RUN_OPTION_NAMES = frozenset(ToolRunOptions.__annotations__)
