"""Text extraction and chunking for RAG uploads, linear in the input and within fixed budgets.

An upload is attacker-controlled bytes, so everything here is written to cost time proportional to
its size and memory a small multiple of it:

* PDF content streams are found with ``bytes.find`` (no lazy ``.*?`` that rescans the rest of the
  file for every unterminated ``stream``), inflated with a ``zlib.decompressobj`` that is never asked
  for more than the remaining budget (a 1 KB deflate bomb stops at :data:`MAX_INFLATED_BYTES`), and
  their literal strings are read by a scanner that never revisits a byte.
* The text kept for embedding is capped at :data:`MAX_TEXT_CHARS`.

Past a budget :class:`ExtractionBudgetError` is raised; the upload route answers it with a 413.
"""

from __future__ import annotations

import re
import zlib
from typing import List, Tuple

#: Total bytes all content streams of one PDF may inflate to.
MAX_INFLATED_BYTES = 64 * 1024 * 1024
#: Most literal strings (or stray opening parentheses) scanned in one PDF.
MAX_LITERAL_SCANS = 250_000
#: Longest extracted text a file to be embedded may have (characters).
MAX_TEXT_CHARS = 8 * 1024 * 1024

PARENT_WORDS = 200
CHILD_WORDS = 50

_LITERAL_BODY = re.compile(rb"(?:\\.|[^\\()])*", re.S)
_ESCAPE = re.compile(rb"\\(.)", re.S)
_PRINTABLE_RUN = re.compile(rb"[ -~]{4,}")
_OPEN_RUN = re.compile(rb"\(+")
_WINDOW = 64 * 1024
_MAX_LITERAL = 64 * 1024


class ExtractionBudgetError(ValueError):
    """The upload would need more than a fixed budget to extract; ``str()`` says which."""


def _streams(data: bytes) -> List[Tuple[int, int]]:
    """``(start, end)`` of every ``stream ... endstream`` body, found in one left-to-right pass."""
    spans: List[Tuple[int, int]] = []
    pos = 0
    while True:
        found = data.find(b"stream", pos)
        if found < 0:
            return spans
        start = found + len(b"stream")
        if data.startswith(b"\r\n", start):
            start += 2
        elif data.startswith(b"\n", start):
            start += 1
        else:
            pos = start
            continue
        end = data.find(b"endstream", start)
        if end < 0:
            return spans
        body_end = end
        if data.startswith(b"\n", body_end - 1):
            body_end -= 1
            if data.startswith(b"\r", body_end - 1):
                body_end -= 1
        spans.append((start, body_end))
        pos = end + len(b"endstream")


def _inflate(raw: bytes, budget: int) -> bytes:
    """``raw`` inflated (or as is when it is not zlib data); never more than ``budget`` bytes."""
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(raw, budget + 1)
    except zlib.error:
        return raw
    if len(out) > budget or inflater.unconsumed_tail:
        raise ExtractionBudgetError(
            f"the PDF's content streams inflate to more than {MAX_INFLATED_BYTES} bytes"
        )
    return out


class _Scans:
    """How many literal strings may still be started (shared by every stream of one PDF)."""

    def __init__(self) -> None:
        self.left = MAX_LITERAL_SCANS


def _literal_end(stream: bytes, cursor: int) -> int:
    """Where the literal body starting at ``cursor`` stops, scanned in short windows.

    Each regex call covers at most :data:`_WINDOW` bytes: the regex engine holds the GIL for the
    whole call, so one call over megabytes would stall the event loop thread meanwhile.
    """
    size = len(stream)
    while True:
        end = min(size, cursor + _WINDOW)
        match = _LITERAL_BODY.match(stream, cursor, end)
        assert match is not None  # the pattern matches the empty string
        stop = match.end()
        if end < size and (stop == end or (stop == end - 1 and stream[stop] == 0x5C)):
            cursor = stop  # the window ended inside the literal (or cut an escape): go on
            continue
        return stop


def _literals(stream: bytes, into: List[str], scans: _Scans) -> None:
    """Append the non-blank literal strings ``( ... )`` of one content stream (single linear pass)."""
    pos = stream.find(b"(")
    size = len(stream)
    while 0 <= pos < size:
        scans.left -= 1
        if scans.left < 0:
            raise ExtractionBudgetError(
                f"the PDF has more than {MAX_LITERAL_SCANS} string delimiters in its content streams"
            )
        run = _OPEN_RUN.match(stream, pos, min(size, pos + _WINDOW))
        assert run is not None
        pos = run.end() - 1  # the last "(" of a run: the ones before it open nothing that closes
        stop = _literal_end(stream, pos + 1)
        if stop < size and stream[stop : stop + 1] == b")":
            # Keep at most _MAX_LITERAL bytes of one string (the rest is skipped, not decoded).
            raw = stream[pos + 1 : min(stop, pos + 1 + _MAX_LITERAL)]
            text = _ESCAPE.sub(rb"\1", raw).decode("latin-1")
            if text.strip():
                into.append(text)
            pos = stream.find(b"(", stop + 1)
        elif stop < size:  # another "(" first: an unbalanced or nested string, restart there
            pos = stop if stream[stop : stop + 1] == b"(" else stream.find(b"(", stop + 1)
        else:
            return


def pdf_text(data: bytes) -> str:
    """Best-effort text of a PDF: literal strings in (possibly deflated) content streams, else printable runs."""
    strings: List[str] = []
    budget = MAX_INFLATED_BYTES
    scans = _Scans()
    for start, end in _streams(data):
        stream = _inflate(data[start:end], budget)
        budget -= len(stream)
        _literals(stream, strings, scans)
        del stream
    if strings:
        return " ".join(strings)
    # finditer, not findall: one match at a time lets other threads (the event loop) run between.
    skip = (b"%", b"/", b"<<", b"endobj", b"xref")
    runs = (m.group() for m in _PRINTABLE_RUN.finditer(data))
    return "\n".join(r.decode("ascii") for r in runs if not r.startswith(skip))


def extract_text(data: bytes, mime_type: str) -> str:
    """The text of an upload: PDFs by :func:`pdf_text`, anything else decoded as UTF-8."""
    if mime_type.split(";")[0].strip().lower() == "application/pdf" or data.startswith(b"%PDF"):
        return pdf_text(data)
    return data.decode("utf-8", "replace")


def check_text_budget(text: str) -> None:
    if len(text) > MAX_TEXT_CHARS:
        raise ExtractionBudgetError(
            f"the extracted text has {len(text)} characters; at most {MAX_TEXT_CHARS} can be embedded"
        )


def _windows(words: List[str], size: int) -> List[str]:
    return [" ".join(words[i : i + size]) for i in range(0, len(words), size)]


def chunk_text(text: str) -> List[Tuple[str, str]]:
    """``(child, parent)`` pairs: ~50-word children inside ~200-word parents, split on paragraphs/sentences."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    parents: List[str] = []
    current: List[str] = []
    current_words = 0
    for paragraph in paragraphs:
        words = paragraph.split()
        if len(words) > PARENT_WORDS:
            if current:
                parents.append("\n\n".join(current))
                current, current_words = [], 0
            parents.extend(_windows(words, PARENT_WORDS))
            continue
        if current and current_words + len(words) > PARENT_WORDS:
            parents.append("\n\n".join(current))
            current, current_words = [], 0
        current.append(paragraph)
        current_words += len(words)
    if current:
        parents.append("\n\n".join(current))
    pairs: List[Tuple[str, str]] = []
    for parent in parents:
        child: List[str] = []
        for sentence in re.split(r"(?<=[.!?])\s+|\n+", parent):
            words = sentence.split()
            if not words:
                continue
            if child and len(child) + len(words) > CHILD_WORDS:
                pairs.append((" ".join(child), parent))
                child = []
            if len(words) > CHILD_WORDS:
                pairs.extend((w, parent) for w in _windows(words, CHILD_WORDS))
                continue
            child.extend(words)
        if child:
            pairs.append((" ".join(child), parent))
    return pairs
