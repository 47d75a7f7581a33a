"""``meshapi chat``: one streamed turn, or a conversation with ``-i``.

Tokens are written as they arrive. With ``--json`` nothing is streamed and the final completion (the
chunks merged by the SDK's accumulator, plus the gateway's ``cost`` when it sent one) is printed as one
JSON document; in interactive mode one compact JSON line per turn. ``-v``/``--verbose`` writes the
stats line (model, tokens, cost, request id, and ``cache hit`` when the gateway answered from its response
cache, docs/protocol.md §V3.1) to stderr after every answer, also when stderr is not a terminal. A failed turn in interactive mode is
reported and dropped from the history, and the conversation goes on (the exit code is then 1).

In the conversation, lines starting with ``/`` are commands (``/help`` lists them: ``/reset``,
``/model [ID]``, ``/system [TEXT]``, ``/history``, ``/exit``); ``//text`` sends ``/text``. Ctrl-C while
an answer streams cancels that answer (it is dropped from the history) and the conversation goes on;
Ctrl-C at the prompt only clears the line; Ctrl-D (end of input) ends the session on a fresh line.
A note never starts on the line of a partial reply: the UI ends that line first.

On a terminal the prompt has line editing and the session's history (arrows, Ctrl-R) through the
standard library's ``readline``, imported only then; where there is none (Windows without it) the
prompt is a plain ``input()``. The history is kept on disk only with ``--history`` (a file named by
the user, or ``$XDG_STATE_HOME/meshapi/chat_history``, by default ``~/.local/state/...``), readable
by its owner only.
"""

from __future__ import annotations

import os
import pathlib
import sys
from typing import Any, Callable, Dict, List, Optional

from .._errors import MeshAPIError
from .._response_cache import cache_hit
from ._args import Commands, add_budget, existing_file, positive_int, temperature
from ._chat_tools import load_tools, tools_turn
from ._context import Context
from ._failures import EXIT_API, EXIT_OK, UsageError, describe
from ._templates import parse_vars
from ._ui import is_tty

__all__ = [
    "DEFAULT_CHAT_MODEL",
    "history_path",
    "line_editing",
    "read_prompt",
    "register",
    "run_chat",
    "stream_turn",
]

DEFAULT_CHAT_MODEL = "openai/gpt-4o-mini"

Message = Dict[str, Any]


def register(commands: Commands) -> None:
    chat = commands.leaf("chat", help="chat with a model (streamed)", handler=run_chat, action="chat")
    add_budget(chat)
    chat.add_argument("prompt", nargs="?", help="the prompt (default: read stdin when it is not a terminal)")
    chat.add_argument(
        "-m",
        "--model",
        help=f"model id (default {DEFAULT_CHAT_MODEL}, or the template's model with --template)",
    )
    chat.add_argument("--template", metavar="ID_OR_NAME", help="chat with a stored prompt template")
    chat.add_argument(
        "--var",
        dest="vars",
        action="append",
        metavar="NAME=VALUE",
        help="a value for a template slot (repeat)",
    )
    chat.add_argument("-s", "--system", help="system prompt")
    chat.add_argument("-t", "--temperature", type=temperature, help="sampling temperature (0-2)")
    chat.add_argument("--max-tokens", type=positive_int, help="maximum tokens in the reply")
    chat.add_argument(
        "-i", "--interactive", action="store_true", help="conversation mode (/exit or EOF quits)"
    )
    chat.add_argument(
        "--tools",
        action="append",
        metavar="FILE.py",
        help="let the model call the @meshapi.tool functions of FILE.py (repeat); calls shown on stderr",
    )
    chat.add_argument(
        "--history",
        nargs="?",
        const="",
        metavar="FILE",
        help="with -i: keep the prompt history in FILE "
        "(default $XDG_STATE_HOME/meshapi/chat_history, else ~/.local/state/meshapi/chat_history)",
    )
    chat.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="after each answer, its model, tokens, cost, request id and 'cache hit' on stderr",
    )


def read_prompt(prompt: Optional[str], what: str = "prompt") -> str:
    """The prompt argument, or stdin when none was given (or ``-``) and stdin is not a terminal."""
    if prompt is not None and prompt != "-":
        if not prompt.strip():
            raise UsageError(f"the {what} is empty")
        return prompt
    stdin = sys.stdin
    if stdin is None or (prompt is None and is_tty(stdin)):
        raise UsageError(f"give a {what} as an argument, or pipe it on stdin")
    try:
        text = stdin.read()
    except (OSError, ValueError):  # stdin closed, or not readable here
        raise UsageError(f"give a {what} as an argument, or pipe it on stdin") from None
    if not text.strip():
        raise UsageError(f"the {what} read from stdin is empty")
    return text.rstrip("\n")


def _stats(completion: Any, cost: Optional[str], extra: Optional[List[str]] = None) -> str:
    parts = [completion.model or "?"]
    usage = completion.usage
    if usage is not None:
        parts.append(f"{usage.prompt_tokens} prompt + {usage.completion_tokens} completion tokens")
    if cost is not None:
        parts.append(f"${cost}")
    return "[" + " · ".join(parts + (extra or [])) + "]"


def stream_turn(context: Context, messages: List[Message]) -> Dict[str, Any]:
    """Stream one completion for ``messages``; return ``{"completion": ..., "text": ..., "cost": ...}``.

    The stream is a ``with`` block, so Ctrl-C or an error mid-way releases the connection.
    """
    args, ui = context.args, context.ui
    fields: Dict[str, Any] = {"messages": messages}
    if args.model:
        fields["model"] = args.model
    if getattr(args, "template", None):
        fields["template"] = args.template
        variables = getattr(args, "variables", None)
        if variables:
            fields["variables"] = variables
    if args.temperature is not None:
        fields["temperature"] = args.temperature
    if args.max_tokens is not None:
        fields["max_tokens"] = args.max_tokens
    client = context.client()
    tools = getattr(args, "tool_objects", None)
    if tools:
        result = tools_turn(context, fields, tools)
        if ui.tty and not ui.json_mode:
            ui.note(_stats(result["completion"], result["cost"]))
        return result
    cost: Optional[str] = None
    details: List[str] = []
    try:
        with client.chat.completions.stream(**fields) as stream:
            for chunk in stream:
                if chunk.cost is not None:
                    cost = chunk.cost
                for choice in chunk.choices:
                    if choice.index == 0 and choice.delta is not None and choice.delta.content:
                        ui.write(choice.delta.content)
            completion = stream.get_final_completion()
            details = [f"request {stream.request_id}"] if stream.request_id else []
            if cache_hit(stream.headers):
                details.append("cache hit")
    finally:
        ui.end_line()  # whatever happened, the next output starts on a line of its own
    text = ""
    if completion.choices and completion.choices[0].message is not None:
        content = completion.choices[0].message.content
        text = content if isinstance(content, str) else ""
    if getattr(args, "verbose", False):
        ui.note(_stats(completion, cost, details))
    elif ui.tty and not ui.json_mode:
        ui.note(_stats(completion, cost))
    return {"completion": completion, "text": text, "cost": cost}


def _as_json(result: Dict[str, Any]) -> Dict[str, Any]:
    document: Dict[str, Any] = result["completion"].model_dump(mode="json", exclude_none=True)
    if result["cost"] is not None:
        document["cost"] = result["cost"]
    if "tool_results" in result:
        document["tool_results"] = result["tool_results"]
    return document


def run_chat(context: Context) -> int:
    args, ui = context.args, context.ui
    args.variables = parse_vars(args.vars)
    if args.variables and not args.template:
        raise UsageError("--var fills a template's slots: give --template too")
    if args.model is None and not args.template:
        args.model = DEFAULT_CHAT_MODEL
    base: List[Message] = [{"role": "system", "content": args.system}] if args.system else []
    if args.history is not None and not args.interactive:
        raise UsageError("--history keeps the prompts of -i/--interactive: give -i too")
    args.tool_objects = load_tools([existing_file(path) for path in args.tools or []])
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


def history_path(given: str) -> pathlib.Path:
    """The history file: ``given``, else ``$XDG_STATE_HOME/meshapi/chat_history`` (XDG's default
    ``~/.local/state`` when the variable is unset or relative)."""
    if given:
        return pathlib.Path(given).expanduser()
    state = os.environ.get("XDG_STATE_HOME", "")
    base = pathlib.Path(state) if os.path.isabs(state) else pathlib.Path.home() / ".local" / "state"
    return base / "meshapi" / "chat_history"


_HISTORY_LENGTH = 1000


def line_editing(history: Optional[pathlib.Path], note: Callable[[str], None]) -> Callable[[], None]:
    """Line editing and history for ``input()`` via ``readline``, loaded from ``history`` when given;
    returns what saves the history when the session ends. Without ``readline``, nothing changes."""
    try:
        import readline  # lazily: only a terminal conversation needs it
    except ImportError:
        return lambda: None
    readline.set_history_length(_HISTORY_LENGTH)
    if history is None:
        return lambda: None
    try:
        if history.is_file():
            readline.read_history_file(str(history))
    except OSError as exc:
        note(f"meshapi: could not read the history file {history}: {exc.strerror or exc}")

    def save() -> None:
        try:
            history.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            history.touch(mode=0o600)  # the prompts are the user's own: not readable by others
            readline.write_history_file(str(history))
        except OSError as exc:
            note(f"meshapi: could not save the history file {history}: {exc.strerror or exc}")

    return save


class _Interrupted(Exception):
    """Ctrl-C at the prompt: the line typed so far is dropped, the conversation goes on."""


def _read_line(prompt: str) -> Optional[str]:
    """One line of user input; ``None`` at end of input. The prompt is shown only on a terminal."""
    stdin = sys.stdin
    if stdin is None:
        return None
    if is_tty(stdin) and is_tty(sys.stdout):
        try:
            return input(prompt)
        except EOFError:
            sys.stdout.write("\n")  # Ctrl-D leaves the cursor after the prompt
            sys.stdout.flush()
            return None
        except KeyboardInterrupt:
            sys.stdout.write("\n")
            sys.stdout.flush()
            raise _Interrupted() from None
    line = stdin.readline()
    return line if line else None


_HELP = """\
commands:
  /help            this list
  /reset           forget the conversation so far (the system prompt stays)
  /model [ID]      show the model, or switch to ID for the next answers
  /system [TEXT]   show the system prompt, or set it (/system - removes it)
  /history         how many messages the next request sends
  /exit, /quit     end the session (Ctrl-D too)
  //text           send "/text" as a message
Ctrl-C while an answer streams cancels that answer; the session goes on."""


class _Session:
    """The state of one conversation: the model, the system prompt and the messages so far."""

    def __init__(self, context: Context, base: List[Message]) -> None:
        self.context = context
        self.ui = context.ui
        self.system: Optional[str] = base[0]["content"] if base else None
        self.messages: List[Message] = []
        self.failed = False

    def request(self) -> List[Message]:
        head: List[Message] = [{"role": "system", "content": self.system}] if self.system else []
        return [*head, *self.messages]

    def command(self, text: str) -> bool:
        """Run a ``/command``; False when the session should end."""
        name, _, rest = text.partition(" ")
        rest = rest.strip()
        args, ui = self.context.args, self.ui
        if name in ("/exit", "/quit"):
            return False
        if name in ("/help", "/?"):
            ui.note(_HELP)
        elif name == "/reset":
            self.messages = []
            ui.note("history cleared")
        elif name == "/model":
            if rest:
                args.model = rest
                ui.note(f"model: {rest} (from the next answer)")
            else:
                ui.note(f"model: {args.model or 'the template default'}")
        elif name == "/system":
            if rest == "-":
                self.system = None
                ui.note("system prompt removed")
            elif rest:
                self.system = rest
                ui.note("system prompt set")
            else:
                ui.note(f"system prompt: {self.system}" if self.system else "no system prompt")
        elif name == "/history":
            count = len(self.request())
            ui.note(f"{count} message{'s' if count != 1 else ''} in the next request")
        else:
            ui.note(
                f"unknown command {name}; /help lists the commands (//text sends a message starting with /)"
            )
        return True

    def turn(self, text: str) -> None:
        ui = self.ui
        self.messages.append({"role": "user", "content": text})
        try:
            result = stream_turn(self.context, self.request())
        except KeyboardInterrupt:
            self.messages.pop()  # the cancelled answer is not part of the conversation
            ui.note("(answer cancelled; Ctrl-D or /exit ends the session)")
            return
        except MeshAPIError as exc:
            self.messages.pop()  # the failed turn is not part of the conversation
            ui.note(describe(exc, "chat turn")[0])
            self.failed = True
            return
        # with --tools the run's own messages (calls and results too), else the answer
        self.messages.extend(result.get("messages") or [{"role": "assistant", "content": result["text"]}])
        if ui.json_mode:
            ui.emit_json(_as_json(result), compact=True)


def _interactive(context: Context, base: List[Message]) -> int:
    ui = context.ui
    context.client()
    session = _Session(context, base)
    save_history: Callable[[], None] = lambda: None  # noqa: E731
    if is_tty(sys.stdin):
        model = context.args.model or "the template's model"
        ui.note(f"chatting with {model}; /help lists the commands, /exit or Ctrl-D quits")
        if is_tty(sys.stdout):
            given = context.args.history
            save_history = line_editing(history_path(given) if given is not None else None, ui.note)
    try:
        _converse(session)
    finally:
        save_history()
    return EXIT_API if session.failed else EXIT_OK


def _converse(session: _Session) -> None:
    while True:
        try:
            line = _read_line("you> ")
        except _Interrupted:
            continue
        if line is None:
            break
        text = line.strip()
        if not text:
            continue
        if text.startswith("//"):
            text = text[1:]
        elif text.startswith("/"):
            if not session.command(text):
                break
            continue
        session.turn(text)
