"""JSON answers of the stand-in model: the schema it follows and the words its values come from.

A real model honours ``response_format`` on every turn, the one after a tool result too, and in JSON
mode (``{"type": "json_object"}``) it follows the schema the prompt spells out (JSON-mode and
prompted-output strategies put the schema in the system or user message). This module finds that
schema and the conversation text the values are drawn from:

* ``json_schema``: an instance of ``json_schema.schema``;
* ``json_object``: an instance of the last JSON schema written in a system, developer or user message
  (a fenced ```json block or a bare object with ``"properties"`` or ``"type"``), provided the instance is
  an object; without one, ``None`` (the engine's generic ``{"answer", "topic"}`` object).

Values come from the last user message followed by the tool results after it (the schema text itself
left out), so a city the user named or a number a tool returned lands in the fields that fit.
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .schemas import instance_for
from .structured import SchemaBudgetError

__all__ = ["hint_text", "json_answer", "schema_in_prompt"]

#: Texts longer than this are not searched for a schema (the search is linear in it, times the tries).
MAX_SEARCH = 200_000
#: At most this many ``{`` positions are tried as the start of a schema in one message.
MAX_TRIES = 64

_FENCE_TAG = re.compile(r"[ \t]*(?:json|JSON|jsonc)?[ \t]*\n")
_JSON_TYPES = ("object", "array", "string", "integer", "number", "boolean", "null")

Texts = Sequence[Tuple[str, str]]


def _is_schema(value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    if isinstance(value.get("properties"), dict):
        return True
    kind = value.get("type")
    return kind in _JSON_TYPES or isinstance(value.get("anyOf"), list) or isinstance(value.get("$defs"), dict)


def _find_schema(text: str) -> Optional[Tuple[Dict[str, Any], str]]:
    """The last schema in ``text`` and the text without it, or ``None``."""
    if len(text) > MAX_SEARCH:
        return None
    found: Optional[Tuple[Dict[str, Any], int, int]] = None
    offset = 0
    for number, piece in enumerate(text.split("```")):  # odd pieces are inside a fence
        start, offset = offset, offset + len(piece) + 3
        tag = _FENCE_TAG.match(piece)
        if number % 2 == 0 or tag is None or offset > len(text):  # unclosed last fence: not a block
            continue
        try:
            value = json.loads(piece[tag.end() :])
        except ValueError:
            continue
        if _is_schema(value):
            found = (value, start - 3, offset)
    if found is None:
        decoder = json.JSONDecoder()
        position, tries = text.find("{"), 0
        while position >= 0 and tries < MAX_TRIES:
            tries += 1
            try:
                value, end = decoder.raw_decode(text, position)
            except ValueError:
                position = text.find("{", position + 1)
                continue
            if _is_schema(value):
                found = (value, position, end)
            position = text.find("{", end)
    if found is None:
        return None
    schema, start, end = found
    return schema, f"{text[:start]} {text[end:]}"


def schema_in_prompt(texts: Texts) -> Optional[Tuple[Dict[str, Any], int, str]]:
    """``(schema, message index, message text without it)`` of the last schema a message spells out."""
    for index in range(len(texts) - 1, -1, -1):
        role, text = texts[index]
        if role in ("system", "developer", "user") and "{" in text:
            found = _find_schema(text)
            if found is not None:
                return found[0], index, found[1]
    return None


def hint_text(texts: Texts, replaced: Optional[Tuple[int, str]] = None) -> str:
    """The last user message and the tool results after it: the words structured values come from."""
    start = max((i for i, (role, _) in enumerate(texts) if role == "user"), default=-1)
    if start < 0:
        return ""
    parts: List[str] = []
    for index in range(start, len(texts)):
        role, text = texts[index]
        if replaced is not None and replaced[0] == index:
            text = replaced[1]
        if index == start or role == "tool":
            parts.append(text)
    return "\n".join(parts)


def json_answer(response_format: Any, texts: Texts) -> Optional[str]:
    """The JSON text answering ``response_format``, or ``None`` (JSON mode without a usable schema)."""
    kind = response_format.get("type") if isinstance(response_format, dict) else None
    if kind == "json_schema":
        spec = response_format.get("json_schema") or {}
        schema = spec.get("schema") if isinstance(spec, dict) else None
        return json.dumps(
            instance_for(schema if schema is not None else {"type": "object"}, hint_text(texts))
        )
    if kind != "json_object":
        return None
    found = schema_in_prompt(texts)
    if found is None:
        return None
    schema, index, rest = found
    try:
        value = instance_for(schema, hint_text(texts, (index, rest)))
    except SchemaBudgetError:  # a schema in prose is a hint, not a request field: no 400 for it
        return None
    return json.dumps(value) if isinstance(value, dict) else None
