"""The pieces of a tool run both runners and both APIs use: options, calls, results, decisions, spans.

Why this exists: what a run's caller sees and passes (``ToolDecision`` from an approval hook, the
``PendingToolCall`` it is shown, each ``ToolResult``, the ``run_tools`` options) and the text a tool's
value or failure becomes are the same for chat and Responses, sync and async: written once here.
"""

from __future__ import annotations

import contextlib
import json
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, Optional, Union

from .._errors import InvalidParamsError
from .tool_options import RUN_OPTION_NAMES, ToolRunOptions
from .tool_schema import FunctionTool, ToolContext

__all__ = [
    "RUN_OPTION_NAMES",
    "PendingToolCall",
    "RunOptions",
    "ToolDecision",
    "ToolResult",
    "ToolRunOptions",
    "decide",
    "error_text",
    "result_text",
    "tool_span",
]


@dataclass(frozen=True)
class ToolDecision:
    """What an ``on_tool_call`` hook decided: run the call, answer the model ``message`` instead, or stop."""

    action: str  # "allow" | "deny" | "stop"
    message: str = ""

    @classmethod
    def allow(cls) -> ToolDecision:
        return cls("allow")

    @classmethod
    def deny(cls, message: str = "The user did not allow this tool call.") -> ToolDecision:
        return cls("deny", message)

    @classmethod
    def stop(cls, message: str = "The user stopped the run.") -> ToolDecision:
        return cls("stop", message)


def decide(value: Any) -> ToolDecision:
    """A hook's return value as a decision: ``None``/``True`` allow, ``False`` deny, a ``str`` denies with it."""
    if isinstance(value, ToolDecision):
        return value
    if value is None or value is True:
        return ToolDecision.allow()
    if value is False:
        return ToolDecision.deny()
    if isinstance(value, str):
        return ToolDecision.deny(value)
    raise InvalidParamsError(f"on_tool_call returned {value!r}: None, a bool, a str or a ToolDecision")


@dataclass
class PendingToolCall:
    """One tool call of a turn: ``kwargs`` to run it with, or ``error`` (the result sent instead)."""

    id: str
    name: str
    arguments: str
    tool: Optional[FunctionTool]
    kwargs: Optional[Dict[str, Any]] = None
    error: Optional[str] = None
    context: Optional[ToolContext] = None  # made when the call starts; ``cancelled`` set when given up

    def start(self) -> ToolContext:
        """The call's context (``ToolContext``), made on first use."""
        if self.context is None:
            self.context = ToolContext(self.id, self.name)
        return self.context

    def give_up(self) -> None:
        """Tell a running call it was given up (timed out, the run closed): ``context.cancelled`` set."""
        if self.context is not None:
            self.context.cancelled.set()

    @property
    def parsed_arguments(self) -> Optional[Dict[str, Any]]:
        """The validated arguments (``None`` when they did not validate)."""
        if self.kwargs is None:
            return None
        model = self.kwargs.get("__model__")
        return dict(model) if model is not None else dict(self.kwargs)


@dataclass
class ToolResult:
    """A call's outcome as sent to the model: ``content``, ``is_error``, how long it ran (seconds)."""

    call_id: str
    name: str
    content: str
    is_error: bool = False
    duration: float = 0.0
    value: Any = None


def result_text(value: Any) -> str:
    """A tool's return value as the text of its result: a str as it is, a model as JSON, else JSON."""
    if isinstance(value, str):
        return value
    dump = getattr(value, "model_dump_json", None)
    if callable(dump):
        return str(dump())
    try:
        return json.dumps(value, default=str, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)


def error_text(exc: BaseException, with_traceback: bool) -> str:
    """A failed call's result: ``Error: Type: message`` (and the traceback when asked for)."""
    text = f"Error: {type(exc).__name__}: {exc}"
    if with_traceback:
        text += "\n" + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return text


@dataclass
class RunOptions:
    """The runner's options (validated once)."""

    max_iterations: int = 10
    max_tool_calls: Optional[int] = None
    parallel: Union[bool, int] = False
    tool_timeout: Optional[float] = None
    on_tool_call: Optional[Callable[..., Any]] = None
    on_limit: str = "raise"
    tool_tracebacks: bool = False

    def __post_init__(self) -> None:
        for name in ("max_iterations", "max_tool_calls"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise InvalidParamsError(f"{name} must be an integer >= 1, got {value!r}")
        if self.on_limit not in ("raise", "final_answer"):
            raise InvalidParamsError(f"on_limit must be 'raise' or 'final_answer', got {self.on_limit!r}")
        if self.tool_timeout is not None and not (
            isinstance(self.tool_timeout, (int, float)) and self.tool_timeout > 0
        ):
            raise InvalidParamsError(
                f"tool_timeout must be a number of seconds > 0, got {self.tool_timeout!r}"
            )
        if isinstance(self.parallel, int) and not isinstance(self.parallel, bool) and self.parallel < 1:
            raise InvalidParamsError(f"parallel must be a bool or an integer >= 1, got {self.parallel!r}")

    @property
    def workers(self) -> int:
        """How many calls of one turn run at once (1: one after the other)."""
        if self.parallel is True:
            return 8
        return 1 if self.parallel is False else int(self.parallel)


@contextlib.contextmanager
def tool_span(name: str, call_id: str) -> Iterator[None]:
    """One tracing span per tool call (``execute_tool {name}``) when OpenTelemetry records spans.

    Tracing never changes the call's outcome: a failing tracer is ignored.
    """
    from .._transport import otel

    span = None
    try:
        active = otel.tracer()
        if active is not None:
            attributes = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": name}
            attributes["gen_ai.tool.call.id"] = call_id
            span = active.start_span(f"execute_tool {name}", attributes=attributes)
    except Exception:
        span = None
    try:
        yield
    finally:
        if span is not None:
            try:
                span.end()
            except Exception:
                pass
