"""``meshapi chat --tools FILE.py``: the ``@meshapi.tool`` functions of a file, called when the model asks.

Why this exists: trying a tool with a model should not need a program around it. The file is imported
(as a module of its own), every ``@meshapi.tool`` object it defines at its top level is offered, and each
turn runs through ``chat.completions.run_tools(stream=True)``: the answer streams on stdout as usual,
and each call and its result are noted on stderr (``-> name {arguments}``, ``<- name: result``), so stdout
stays the answer. In a conversation (``-i``) the tool calls and results stay in the history.
"""

from __future__ import annotations

import importlib.util
import json
import pathlib
import sys
from typing import Any, Dict, List, Sequence

from ..lib.tool_schema import FunctionTool
from ._context import Context
from ._failures import UsageError

__all__ = ["load_tools", "tools_turn"]

_SHOWN = 200  # characters of a result shown in a note


def load_tools(paths: Sequence[pathlib.Path]) -> List[FunctionTool]:
    """The ``@meshapi.tool`` objects the files define, in order; ``UsageError`` for a file without any."""
    found: List[FunctionTool] = []
    for index, path in enumerate(paths):
        name = f"meshapi_cli_tools_{index}_{path.stem}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None or path.suffix != ".py":
            raise UsageError(f"--tools {path}: not a Python file")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # pydantic resolves the file's own types through it
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            sys.modules.pop(name, None)
            raise UsageError(f"--tools {path}: {type(exc).__name__}: {exc}") from None
        tools = [value for value in vars(module).values() if isinstance(value, FunctionTool)]
        if not tools:
            raise UsageError(f"--tools {path}: defines no @meshapi.tool function")
        found.extend(tools)
    return found


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


def tools_turn(context: Context, fields: Dict[str, Any], tools: List[FunctionTool]) -> Dict[str, Any]:
    """One turn with tools: ``{"completion", "text", "cost", "messages" (the new ones), "tool_results"}``."""
    ui = context.ui
    sent = len(fields["messages"])
    run = context.client().chat.completions.run_tools(**fields, tools=tools, stream=True)
    try:
        for event in run:
            if event.type == "content.delta":
                ui.write(event.delta)
            elif event.type == "tool_call.started":
                ui.note(f"-> {event.name} {json.dumps(event.arguments, ensure_ascii=False, default=str)}")
            elif event.type == "tool_call.finished":
                ui.note(f"<- {event.name}: {_short(event.content)}")
    finally:
        run.close()
        ui.end_line()
    completion = run.completions[-1]
    content = completion.choices[0].message.content if completion.choices else None
    results = [{"name": r.name, "content": r.content, "is_error": r.is_error} for r in run.tool_results]
    return {
        "completion": completion,
        "text": content if isinstance(content, str) else "",
        "cost": str(run.cost_usd) if run.cost_usd is not None else None,
        "messages": run.messages[sent:],
        "tool_results": results,
    }
