"""Everything the CLI writes, in one place: results, notes, tables, JSON, progress, made safe to print.

Why one module: every command prints the same few shapes (a table, ``key: value`` lines, one JSON
document, a progress line on stderr), rich when it is installed and useful and plain text otherwise,
and all of it must first lose the terminal control sequences a server could slip into its text.

One ``UI`` object per run. ``--json`` makes stdout carry exactly one JSON document (or one per line in
the interactive chat) and nothing else; human text then goes nowhere. Tables and live views use rich,
imported lazily (the ``cli`` extra); without rich, or when a renderer is not wanted, the same data is
printed as aligned plain text. When stdout is not a terminal no ANSI codes are written: rich is told so
explicitly instead of being left to guess from the environment.

Text from the gateway (model output, error messages, file names) can carry terminal control
sequences: an ESC ``[`` ... sequence recolours or moves the cursor, an OSC one retitles the window or
writes a hyperlink, a lone CR rewrites the line already shown. :func:`clean` removes every escape
sequence and every C0/C1 control character except newline and tab; the ``UI`` applies it to all human
output. ``--json`` output needs nothing: JSON escapes control characters itself. argparse repeats a
mistyped option and its value in its usage error (``unrecognized arguments: --tokn rsk_...``);
:func:`redact_secrets` hides anything token-like in such a message first.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import sys
import time
from typing import Any, Iterator, List, Optional, Sequence, TextIO, Tuple

__all__ = [
    "UI",
    "Steps",
    "clean",
    "dump",
    "is_tty",
    "one_line",
    "plain_table",
    "redact_secrets",
    "retry_notices",
    "rich_available",
    "when",
]

_PIPE_WIDTH = 160  # rich's width when stdout is not a terminal: wide enough not to wrap model ids

# --- text made safe to print ---------------------------------------------------------------------------

# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \), other two-byte ESC sequences, 8-bit CSI/OSC.
_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[@-Z\\-_]"
    r"|\x9b[0-?]*[ -/]*[@-~]"
    r"|\x9d[^\x07\x9c]*[\x07\x9c]?"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_TOKEN_LIKE = re.compile(r"\b(?:rsk|sk|adm)_[A-Za-z0-9_\-]{4,}")
_SECRET_NAME = re.compile(r"tok|key|secret|pass", re.IGNORECASE)
_AFTER_SECRET_OPTION = re.compile(r"(--?[\w-]*(?:tok|key|secret|pass)[\w-]*)(=|\s+)(\S+)", re.IGNORECASE)
_SECRET_OPTIONS = ("--token", "--api-key", "--admin-token")


def clean(text: str) -> str:
    """``text`` without terminal escape sequences and control characters (newline and tab kept)."""
    if text.isprintable():
        return text
    return _CONTROL.sub("", _SEQUENCE.sub("", text))


def _abbreviates_secret(name: str) -> bool:
    """``--t``, ``--to``, ...: argparse may read (or refuse, as ambiguous) these as ``--token``."""
    return len(name) >= 3 and any(option.startswith(name) for option in _SECRET_OPTIONS)


def redact_secrets(message: str, argv: Sequence[str] = ()) -> str:
    """``message`` with token-like words, values of secret-looking options and ``$MESHAPI_TOKEN`` hidden.

    ``argv``: the words parsed; the word after an option whose name looks secret (``--tokn X``, a
    typo argparse does not know) is hidden wherever the message repeats it.
    """
    secrets = [os.environ.get("MESHAPI_TOKEN", "")]
    for index, word in enumerate(argv):
        name = word.partition("=")[0]
        if word.startswith("-") and (_SECRET_NAME.search(name) or _abbreviates_secret(name)):
            _, eq, value = word.partition("=")
            if eq:
                secrets.append(value)
            elif index + 1 < len(argv):
                secrets.append(argv[index + 1])
    for secret in secrets:
        if len(secret) >= 4:
            message = message.replace(secret, "[redacted]")
    message = _AFTER_SECRET_OPTION.sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", message)
    return _TOKEN_LIKE.sub("[redacted]", message)


# --- values shaped for a line or a cell ----------------------------------------------------------------


def dump(model: Any) -> Any:
    """A response model as the JSON value ``--json`` prints (``None`` fields left out)."""
    return model.model_dump(mode="json", exclude_none=True)


def one_line(text: Optional[str], limit: int = 80) -> str:
    """``text`` on one line, cut to ``limit`` characters (an ellipsis marks the cut)."""
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def when(timestamp: Optional[int]) -> str:
    """A Unix timestamp as local ``YYYY-MM-DD HH:MM:SS`` (``-`` when there is none)."""
    if not timestamp:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp))


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return clean(str(value))


# --- the UI --------------------------------------------------------------------------------------------


def rich_available() -> bool:
    """Whether the optional ``rich`` package can be imported (``pip install "meshapi[cli]"``)."""
    try:
        import rich  # noqa: F401
    except ImportError:
        return False
    return True


def is_tty(stream: Optional[TextIO]) -> bool:
    """Whether ``stream`` is a terminal (``False`` for a missing or closed stream)."""
    try:
        return bool(stream.isatty())  # type: ignore[union-attr]
    except (AttributeError, ValueError):
        return False


class UI:
    """Where the CLI writes: ``out`` (results) and ``err`` (diagnostics, progress, headings)."""

    def __init__(
        self,
        *,
        json_mode: bool = False,
        out: Optional[TextIO] = None,
        err: Optional[TextIO] = None,
    ) -> None:
        self.json_mode = json_mode
        self.out = out if out is not None else sys.stdout
        self.err = err if err is not None else sys.stderr
        self.tty = is_tty(self.out)
        self.use_rich = rich_available()
        self._console: Any = None
        self._midline = False  # stdout holds a partial line (streamed text without its newline)

    # --- rich ------------------------------------------------------------------------------------------
    @property
    def live_capable(self) -> bool:
        """Live views need rich and a terminal on stdout (and no ``--json``)."""
        return self.use_rich and self.tty and not self.json_mode

    def console(self) -> Any:
        """The rich ``Console`` for stdout (created on first use; requires ``use_rich``)."""
        if self._console is None:
            from rich.console import Console

            color = self.tty and "NO_COLOR" not in os.environ
            self._console = Console(
                file=self.out,
                force_terminal=self.tty,
                force_interactive=self.tty,
                no_color=not color,
                color_system="auto" if color else None,
                highlight=False,
                width=None if self.tty else _PIPE_WIDTH,
                emoji=False,
            )
        return self._console

    # --- writing -------------------------------------------------------------------------------------
    def line(self, text: str = "") -> None:
        """A line of human output on stdout (suppressed with ``--json``)."""
        if self.json_mode:
            return
        self.end_line()
        self.out.write(clean(text) + "\n")
        self.out.flush()

    def write(self, text: str) -> None:
        """Raw text on stdout without a newline (streamed tokens); suppressed with ``--json``."""
        if self.json_mode or not text:
            return
        self.out.write(clean(text))
        self.out.flush()
        self._midline = not text.endswith("\n")

    def end_line(self) -> None:
        """Finish a partial line on stdout (after streamed text), so what follows starts afresh."""
        if self._midline:
            self._midline = False
            try:
                self.out.write("\n")
                self.out.flush()
            except (OSError, ValueError):
                pass

    def note(self, text: str) -> None:
        """A diagnostic line on stderr (progress, hints); never mixed into stdout.

        A partial line on stdout is ended first, so on a terminal the note does not start on the
        line of a half-written reply.
        """
        self.end_line()
        self.err.write(clean(text) + "\n")
        self.err.flush()

    def emit_json(self, value: Any, *, compact: bool = False) -> None:
        """One JSON document on stdout."""
        text = json.dumps(value, ensure_ascii=False, default=str, indent=None if compact else 2)
        self.out.write(text + "\n")
        self.out.flush()

    def heading(self, text: str) -> None:
        if self.json_mode:
            return
        if self.use_rich and self.tty:
            self.console().print(f"[bold]{_escape(text)}[/bold]")
        else:
            self.line(text)

    def fields(self, pairs: Sequence[Tuple[str, Any]]) -> None:
        """``key: value`` lines on stdout, keys aligned (values that are ``None`` are skipped)."""
        shown = [(key, value) for key, value in pairs if value is not None]
        width = max((len(key) for key, _ in shown), default=0)
        for key, value in shown:
            self.line(f"{key.ljust(width)}  {value}")

    def table(
        self,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        title: Optional[str] = None,
        right: Sequence[str] = (),
    ) -> None:
        """A table on stdout: rich when available, aligned plain text otherwise."""
        if self.json_mode:
            return
        cells = [[_cell(value) for value in row] for row in rows]
        if self.use_rich:
            from rich.table import Table

            table = Table(title=title, show_lines=False, header_style="bold" if self.tty else "")
            for name in columns:
                table.add_column(name, justify="right" if name in right else "left", overflow="fold")
            for row in cells:
                table.add_row(*(_escape(value) for value in row))
            self.console().print(table)
            return
        if title:
            self.line(title)
        for text in plain_table(columns, cells, right=right):
            self.line(text)


def plain_table(
    columns: Sequence[str], rows: Sequence[Sequence[str]], *, right: Sequence[str] = ()
) -> List[str]:
    """Columns padded to their widest cell, two spaces apart; no borders, no escape codes."""
    widths = [len(name) for name in columns]
    for row in rows:
        for index, value in enumerate(row):
            widths[index] = max(widths[index], len(value))

    def render(values: Sequence[str]) -> str:
        parts = []
        for index, value in enumerate(values):
            width = widths[index]
            parts.append(value.rjust(width) if columns[index] in right else value.ljust(width))
        return "  ".join(parts).rstrip()

    return [render(columns), render(["-" * width for width in widths]), *(render(row) for row in rows)]


def _escape(text: str) -> str:
    from rich.markup import escape

    return str(escape(clean(text)))


class Steps:
    """Progress over a few named items: a rich progress bar on a terminal, plain lines otherwise.

    Progress goes to stderr, so stdout keeps only the results.
    """

    def __init__(self, ui: UI, total: int, description: str) -> None:
        self.ui = ui
        self.progress: Any = None
        self.task: Any = None
        if ui.use_rich and not ui.json_mode and is_tty(ui.err):
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

            self.progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                console=Console(file=ui.err, highlight=False),
                transient=True,
            )
            self.progress.start()
            self.task = self.progress.add_task(description, total=total)

    def status(self, text: str) -> None:
        if self.progress is not None:
            self.progress.update(self.task, description=text)
        elif not self.ui.json_mode:
            self.ui.note(text)

    def advance(self) -> None:
        if self.progress is not None:
            self.progress.advance(self.task)

    def set(self, completed: int, total: Optional[int], text: str) -> None:
        if self.progress is not None:
            self.progress.update(self.task, completed=completed, total=total, description=text)
        elif not self.ui.json_mode:
            self.ui.note(text)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


class _RetryNotice(logging.Handler):
    """Turns the transport's "retrying in N s" log records into a line on the UI's stderr."""

    def __init__(self, ui: UI) -> None:
        super().__init__(logging.INFO)
        self.ui = ui

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno != logging.INFO or "retrying" not in str(record.msg):
            return
        try:
            self.ui.note(f"meshapi: {record.getMessage()}")
        except Exception:  # a notice must never break the command
            pass


@contextlib.contextmanager
def retry_notices(ui: UI) -> Iterator[None]:
    """While the command runs, say on stderr when a call waits to retry (429, 5xx, network errors).

    The SDK's transport logs each retry at INFO on the ``meshapi`` logger (what failed and how long it
    waits); this handler shows those lines, so a CLI call never hangs silently on a back-off.
    """
    logger = logging.getLogger("meshapi")
    handler = _RetryNotice(ui)
    previous = logger.level
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
