"""What a request-log record keeps in memory, what that costs, and what is read back from it.

The log's byte budget (``RequestLog(max_bytes=...)``) bounds memory only if it counts what is really
kept. A parsed JSON body costs many times its text (a 4 MiB array of numbers is about 100 MB of Python
objects), and a query string or a header dict costs its strings plus the dict. So a record in the log
keeps its JSON body as compact UTF-8 bytes (secrets already redacted) and parses them again when it is
read (:func:`pack_json` / :func:`unpack_json`), and every kept piece is counted at its size in memory
(``sys.getsizeof``), not its length. The reply fields the log reads back (token usage, SSE data lines)
are parsed here too.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Tuple

#: What one kept response part costs besides its bytes: the bytes object's header and its list slot.
PART_OVERHEAD = sys.getsizeof(b"") + 8


@dataclass
class StreamEvent:
    """One server-sent event as sent: milliseconds since the request arrived, and its raw text."""

    __slots__ = ("ms", "text")
    ms: float
    text: str


#: What one kept event costs besides its text: the event, its float and its list slot.
EVENT_OVERHEAD = sys.getsizeof(StreamEvent(0.0, "")) + sys.getsizeof(0.5) + 8


def strings_size(mapping: Mapping[str, str]) -> int:
    """Bytes a dict of strings holds in memory: the dict, and every key and value."""
    return sys.getsizeof(mapping) + sum(sys.getsizeof(k) + sys.getsizeof(v) for k, v in mapping.items())


def pack_json(value: Any) -> Optional[bytes]:
    """``value`` as compact JSON bytes (the form a logged record keeps), or ``None`` if it is not JSON data."""
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError):
        return None
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: kept as an escape
        return json.dumps(value, separators=(",", ":")).encode("ascii")


def unpack_json(raw: bytes) -> Any:
    """The value :func:`pack_json` packed (a fresh copy each time)."""
    return json.loads(raw)


#: What :func:`loads` returns for text that is not JSON.
BAD = object()


def loads(text: str) -> Any:
    """``text`` parsed as JSON, or :data:`BAD` when it is not JSON."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return BAD


def _int(value: Any) -> Optional[int]:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def usage_of(data: Any) -> Optional[Tuple[int, int]]:
    """``(tokens in, tokens out)`` from a reply's ``usage`` (chat, responses or compare shapes)."""
    if not isinstance(data, dict):
        return None
    usage = data.get("usage")
    if not isinstance(usage, dict):
        inner = data.get("response")  # responses stream: the final event wraps the response
        return usage_of(inner) if isinstance(inner, dict) else None
    tokens_in = _int(usage.get("prompt_tokens", usage.get("input_tokens")))
    tokens_out = _int(usage.get("completion_tokens", usage.get("output_tokens")))
    if tokens_in is None and tokens_out is None:
        return None
    return tokens_in or 0, tokens_out or 0


def event_data(block: str) -> Optional[str]:
    """The ``data:`` lines of one SSE event joined, or ``None`` when it has none."""
    lines = [line[5:].lstrip(" ") for line in block.split("\n") if line.startswith("data:")]
    return "\n".join(lines) if lines else None
