"""The typed events of ``run_tools(..., stream=True)``: text as it comes, each tool call's start and end, each turn.

Why this exists: a streamed tool run shows more than completions: the model's text while it is written,
a tool call starting (name, validated arguments) and finishing (result or error, how long it took), and
the end of each turn. Both runners (sync and async) emit the same four dataclasses, told apart by
``type`` (a ``Literal``, so ``if event.type == "content.delta":`` narrows for a type checker).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Literal, Optional, Union

__all__ = ["ContentDelta", "ToolCallFinished", "ToolCallStarted", "ToolRunEvent", "TurnFinished"]


@dataclass(frozen=True)
class ContentDelta:
    """A piece of the model's text on turn ``turn`` (0 is the first)."""

    turn: int
    delta: str
    type: Literal["content.delta"] = "content.delta"


@dataclass(frozen=True)
class ToolCallStarted:
    """A tool call about to run (approved), with its validated ``arguments``."""

    turn: int
    call_id: str
    name: str
    arguments: Optional[Dict[str, Any]]
    type: Literal["tool_call.started"] = "tool_call.started"


@dataclass(frozen=True)
class ToolCallFinished:
    """A tool call's result as sent to the model: ``content``, ``is_error``, ``duration`` in seconds.

    Also sent for calls that did not run (invalid arguments, an unknown tool, denied), with ``is_error``.
    """

    turn: int
    call_id: str
    name: str
    content: str
    is_error: bool
    duration: float
    type: Literal["tool_call.finished"] = "tool_call.finished"


@dataclass(frozen=True)
class TurnFinished:
    """A turn's reply, complete (``completion``: a ``ChatCompletionResponse`` or a Responses ``Response``)."""

    turn: int
    completion: Any
    type: Literal["turn.finished"] = "turn.finished"


ToolRunEvent = Union[ContentDelta, ToolCallStarted, ToolCallFinished, TurnFinished]


def finished(turn: int, result: Any) -> ToolCallFinished:
    """The event of a ``ToolResult``."""
    return ToolCallFinished(
        turn, result.call_id, result.name, result.content, result.is_error, result.duration
    )
