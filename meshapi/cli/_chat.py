"""``meshapi chat``: one streamed turn, or a conversation with ``-i``.

Tokens are written as they arrive. With ``--json`` nothing is streamed and the final completion (the
chunks merged by the SDK's accumulator, plus the gateway's ``cost`` when it sent one) is printed as one
JSON document; in interactive mode one compact JSON line per turn. A failed turn in interactive mode is
reported and dropped from the history, and the conversation goes on (the exit code is then 1).
"""

from __future__ import annotations

import sys
from typing import Any, Dict, List, Optional, TextIO

from ._context import Context
from ._failures import EXIT_API, EXIT_OK, UsageError, describe

__all__ = ["read_prompt", "run_chat", "stream_turn"]

Message = Dict[str, Any]


def read_prompt(prompt: Optional[str], what: str = "prompt") -> str:
    """The prompt argument, or stdin when none was given (or ``-``) and stdin is not a terminal."""
    if prompt is not None and prompt != "-":
        if not prompt.strip():
            raise UsageError(f"the {what} is empty")
        return prompt
    stdin = sys.stdin
    if stdin is None or (prompt is None and _isatty(stdin)):
        raise UsageError(f"give a {what} as an argument, or pipe it on stdin")
    text = stdin.read()
    if not text.strip():
        raise UsageError(f"the {what} read from stdin is empty")
    return text.rstrip("\n")


def _isatty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _stats(completion: Any, cost: Optional[str]) -> str:
    parts = [completion.model or "?"]
    usage = completion.usage
    if usage is not None:
        parts.append(f"{usage.prompt_tokens} prompt + {usage.completion_tokens} completion tokens")
    if cost is not None:
        parts.append(f"${cost}")
    return "[" + " · ".join(parts) + "]"


def stream_turn(context: Context, messages: List[Message]) -> Dict[str, Any]:
    """Stream one completion for ``messages``; return ``{"completion": ..., "text": ..., "cost": ...}``.

    The stream is a ``with`` block, so Ctrl-C or an error mid-way releases the connection.
    """
    args, ui = context.args, context.ui
    fields: Dict[str, Any] = {"model": args.model, "messages": messages}
    if args.temperature is not None:
        fields["temperature"] = args.temperature
    if args.max_tokens is not None:
        fields["max_tokens"] = args.max_tokens
    client = context.client()
    cost: Optional[str] = None
    wrote = ""
    with client.chat.completions.stream(**fields) as stream:
        for chunk in stream:
            if chunk.cost is not None:
                cost = chunk.cost
            for choice in chunk.choices:
                if choice.index == 0 and choice.delta is not None and choice.delta.content:
                    ui.write(choice.delta.content)
                    wrote = choice.delta.content
        completion = stream.get_final_completion()
    if wrote and not wrote.endswith("\n"):
        ui.write("\n")
    text = ""
    if completion.choices and completion.choices[0].message is not None:
        content = completion.choices[0].message.content
        text = content if isinstance(content, str) else ""
    if ui.tty and not ui.json_mode:
        ui.note(_stats(completion, cost))
    return {"completion": completion, "text": text, "cost": cost}


def _as_json(result: Dict[str, Any]) -> Dict[str, Any]:
    document: Dict[str, Any] = result["completion"].model_dump(mode="json", exclude_none=True)
    if result["cost"] is not None:
        document["cost"] = result["cost"]
    return document


def run_chat(context: Context) -> int:
    args, ui = context.args, context.ui
    base: List[Message] = [{"role": "system", "content": args.system}] if args.system else []
    if args.interactive:
        if args.prompt is not None:
            raise UsageError("give either a prompt or -i/--interactive, not both")
        return _interactive(context, base)
    prompt = read_prompt(args.prompt)
    context.client()  # settings are checked before anything else happens
    result = stream_turn(context, [*base, {"role": "user", "content": prompt}])
    if ui.json_mode:
        ui.emit_json(_as_json(result))
    return EXIT_OK


def _read_line(prompt: str) -> Optional[str]:
    """One line of user input; ``None`` at end of input. The prompt is shown only on a terminal."""
    stdin = sys.stdin
    if stdin is None:
        return None
    if _isatty(stdin) and _isatty(sys.stdout):
        try:
            return input(prompt)
        except EOFError:
            return None
    line = stdin.readline()
    return line if line else None


def _interactive(context: Context, base: List[Message]) -> int:
    ui = context.ui
    context.client()
    messages: List[Message] = list(base)
    failed = False
    if _isatty(sys.stdin):
        ui.note(f"chatting with {context.args.model}; /reset clears the history, /exit or Ctrl-D quits")
    while True:
        line = _read_line("you> ")
        if line is None:
            break
        text = line.strip()
        if not text:
            continue
        if text in ("/exit", "/quit"):
            break
        if text == "/reset":
            messages = list(base)
            ui.note("history cleared")
            continue
        messages.append({"role": "user", "content": text})
        try:
            result = stream_turn(context, messages)
        except Exception as exc:
            from .._errors import MeshAPIError

            if not isinstance(exc, MeshAPIError):
                raise
            messages.pop()  # the failed turn is not part of the conversation
            ui.note(describe(exc, "chat turn")[0])
            failed = True
            continue
        messages.append({"role": "assistant", "content": result["text"]})
        if ui.json_mode:
            ui.emit_json(_as_json(result), compact=True)
    return EXIT_API if failed else EXIT_OK
