"""Terminal output for the CLI: rich when it is installed and useful, plain text otherwise.

One ``UI`` object per run. ``--json`` makes stdout carry exactly one JSON document (or one per line in
the interactive chat) and nothing else; human text then goes nowhere. Tables and live views use rich,
imported lazily (the ``cli`` extra); without rich, or when a renderer is not wanted, the same data is
printed as aligned plain text. When stdout is not a terminal no ANSI codes are written: rich is told so
explicitly instead of being left to guess from the environment. Whatever text is written (server
text included) first loses its terminal control sequences (``_sanitize.clean``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from typing import Any, Iterator, List, Optional, Sequence, TextIO

from ._sanitize import clean

__all__ = ["UI", "retry_notices", "rich_available"]

_PIPE_WIDTH = 160  # rich's width when stdout is not a terminal: wide enough not to wrap model ids


def rich_available() -> bool:
    """Whether the optional ``rich`` package can be imported (``pip install "meshapi[cli]"``)."""
    try:
        import rich  # noqa: F401
    except ImportError:
        return False
    return True


def _is_tty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return clean(str(value))


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
        self.tty = _is_tty(self.out)
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
