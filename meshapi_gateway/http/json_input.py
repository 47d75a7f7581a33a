"""Strict, bounded parsing of request bodies: hostile JSON becomes a 422, never a 500 or a reset.

The standard library accepts things a JSON API must not: ``NaN`` / ``Infinity`` (and ``1e999``, which
reads as infinity), integers with thousands of digits (slow to convert, and past Python's digit limit
a ``ValueError``), strings holding lone UTF-16 surrogates (which cannot be written back as UTF-8), and
nesting deep enough to exhaust the interpreter's stack (``RecursionError``). Any of them reaching a
handler would turn into a bare 500 when the gateway validates, stores or echoes the value.

:func:`parse_request_json` refuses all of them up front and reports each as a :class:`BadJson`
marker, which handlers answer with the usual ``422 validation_error`` / ``json_invalid`` envelope
(``validation.malformed_json``). The common case stays fast: the depth and surrogate walks run only
when a cheap scan of the raw bytes says they could find something.

Parsing takes time in proportion to the body (about a second for 20 MiB of numbers), so a body
larger than :data:`OFF_LOOP_BYTES` is parsed in a worker thread (``JsonMiddleware``), where the
event loop keeps serving other requests meanwhile. Numbers and objects go through Python hooks, so
that thread gives the interpreter lock back regularly, which the C decoder alone does not.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Dict, List, Tuple

#: Deepest nesting of arrays/objects a request body may have.
MAX_JSON_DEPTH = 512
#: Longest integer literal (characters, sign included) a request body may carry.
MAX_INT_DIGITS = 100
#: Bodies larger than this (bytes) are parsed, and logged, off the event loop.
OFF_LOOP_BYTES = 1024 * 1024

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class BadJson:
    """Marker stored in the scope when the body was not acceptable JSON."""

    def __init__(self, text: str, error: json.JSONDecodeError) -> None:
        self.text = text
        self.error = error


class _Refused(ValueError):
    def __init__(self, message: str, token: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.token = token


def _parse_int(text: str) -> int:
    if len(text) > MAX_INT_DIGITS:
        raise _Refused(f"Integer literal longer than {MAX_INT_DIGITS} characters", text[:20])
    return int(text)


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused("Number out of range (not a finite number)", text[:20])
    return value


def _parse_object(pairs: List[Tuple[str, Any]]) -> Dict[str, Any]:
    # What the decoder does itself, but as Python code: a parse in a worker thread lets the event
    # loop's thread run at each object instead of holding the interpreter lock from start to end.
    return dict(pairs)


def _parse_constant(name: str) -> Any:
    raise _Refused(f"{name} is not valid JSON", name)


def _too_deep_or_broken(value: Any, check_strings: bool) -> str:
    """An explanation when ``value`` nests deeper than allowed or holds a lone surrogate, else ``""``."""
    stack: List[Tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            if depth > MAX_JSON_DEPTH:
                return f"Nesting deeper than {MAX_JSON_DEPTH} levels"
            for key, child in item.items():
                if check_strings and not _encodable(key):
                    return "Lone surrogate in a string (not valid Unicode)"
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            if depth > MAX_JSON_DEPTH:
                return f"Nesting deeper than {MAX_JSON_DEPTH} levels"
            stack.extend((child, depth + 1) for child in item)
        elif check_strings and isinstance(item, str) and not _encodable(item):
            return "Lone surrogate in a string (not valid Unicode)"
    return ""


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _position(text: str, token: str) -> int:
    found = text.find(token) if token else -1
    return max(found, 0)


def parse_request_json(body: bytes) -> Any:
    """Parsed JSON, ``None`` for an empty body, or a :class:`BadJson` marker explaining the refusal."""
    if not body.strip():
        return None
    text = body.decode("utf-8", "replace")
    try:
        value = json.loads(
            text,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_parse_constant,
            object_pairs_hook=_parse_object,
        )
    except json.JSONDecodeError as exc:
        return BadJson(text, exc)
    except _Refused as exc:
        return BadJson(text, json.JSONDecodeError(exc.message, text, _position(text, exc.token)))
    except RecursionError:
        message = f"Nesting deeper than {MAX_JSON_DEPTH} levels"
        return BadJson(text, json.JSONDecodeError(message, text, 0))
    except ValueError as exc:  # pragma: no cover - any other refusal of the decoder
        return BadJson(text, json.JSONDecodeError(str(exc)[:200], text, 0))
    might_nest = body.count(b"[") + body.count(b"{") > MAX_JSON_DEPTH
    might_break = _SURROGATE_ESCAPE.search(body) is not None
    if might_nest or might_break:
        problem = _too_deep_or_broken(value, might_break)
        if problem:
            return BadJson(text, json.JSONDecodeError(problem, text, 0))
    return value
