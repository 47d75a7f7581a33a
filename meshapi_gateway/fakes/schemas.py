"""Build a JSON value that validates against a JSON Schema, using words from the prompt.

Used for tool-call ``arguments`` and ``response_format: json_schema`` answers. It covers the part of
JSON Schema that tool definitions and pydantic-generated schemas use: ``type`` (also as a list),
``properties``/``required``, ``items`` (also tuple form), ``enum``, ``const``, ``anyOf``/``oneOf``/
``allOf``, ``$ref`` into ``$defs``/``definitions``, ``minimum``/``maximum`` (and the exclusive forms),
``multipleOf``, ``minItems``/``maxItems``, ``minLength``/``maxLength``, a few ``format`` values and
``pattern`` (built from the regex, see ``structured.py``). String values come from the prompt where the
property name suggests it: a capitalised word such as ``Paris`` for ``city`` (the n-th name-like field
gets the n-th name), a number labelled like the field (``"temp": 21`` for ``temperature``) or else any
number from the prompt for a numeric field, an address or ISO date from the prompt for ``format``
``email`` / ``date``.

Generation is bounded (``structured.Budget``): beyond the budget, or when the result would not validate
against the schema, :func:`instance_for` raises ``SchemaBudgetError`` (a ``400`` for the caller). Deep
in a recursive schema the generator prefers whatever ends the recursion (``null``, a scalar, no items).
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Tuple

from .structured import Budget, SchemaBudgetError, string_for_pattern, validate

_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?")
#: A number right after a word, as in ``"temp": 21`` or ``age=36``: the word labels the number.
_LABELLED = re.compile(r"(?<![\w])([A-Za-z][A-Za-z_]*)[\"']?[ \t]*[:=]?[ \t]*(-?\d+(?:\.\d+)?)(?![\w.])")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_DATE = re.compile(r"\b\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])\b")

_STOPWORD_TEXT = """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just let me more most
    my myself no nor not now of off on once only or other our ours ourselves out over own please same she
    should so some such tell than that the their theirs them themselves then there these they this those
    through to too under until up very was we were what when where which while who whom why will with would
    you your yours yourself yourselves give get make show use using one two three answer word words sentence
    explain describe write list say reply short brief question"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())

_PLACE_HINTS = ("city", "location", "place", "country", "capital", "destination", "town", "region", "origin")
_NAME_HINTS = ("name", "person", "author", "company", "title", "brand", "user", "customer", "who")
_TEXT_HINTS = ("query", "text", "prompt", "question", "message", "content", "input", "search", "q")


_SHALLOW = 8


class PromptHints:
    """Words and numbers taken from the prompt, in order of appearance."""

    def __init__(self, text: str) -> None:
        self.text = text.strip()
        proper_inside: List[str] = []
        proper_initial: List[str] = []
        self.keywords: List[str] = []
        seen = set()
        for match in _WORD.finditer(text):
            bare = match.group(0).strip("'-")
            low = bare.lower()
            if not bare or low in STOPWORDS or low in seen:
                continue
            seen.add(low)
            if bare[0].isupper() and len(bare) > 1:
                i = match.start() - 1
                while i >= 0 and text[i] in " \t":
                    i -= 1
                initial = i < 0 or text[i] in ".!?:\n\"'"
                (proper_initial if initial else proper_inside).append(bare)
            if len(bare) >= 3:
                self.keywords.append(bare)
        # Capitalised words inside a sentence are likelier names than sentence-initial ones.
        self.proper: List[str] = proper_inside + proper_initial
        self.numbers: List[float] = [float(n) for n in _NUMBER.findall(text)]
        self.labelled: List[Tuple[str, float]] = [
            (m[0].lower(), float(m[1])) for m in _LABELLED.findall(text) if m[0].lower() not in STOPWORDS
        ]
        self.emails: List[str] = _EMAIL.findall(text)
        self.dates: List[str] = _DATE.findall(text)

    def proper_noun(self, index: int = 0) -> str:
        pool = self.proper or [w.capitalize() for w in self.keywords] or ["Example"]
        return pool[index % len(pool)]

    def keyword(self, index: int = 0) -> str:
        pool = self.keywords or ["example"]
        return pool[index % len(pool)]


class SchemaInstances:
    """Generator of instances for one root schema (``$ref`` targets resolve against that root)."""

    def __init__(self, root: Any, hints: PromptHints, budget: Optional[Budget] = None) -> None:
        self.root = root
        self.hints = hints
        self.budget = budget or Budget()
        self.names_used = 0  # the n-th name-like field gets the n-th proper noun, wherever it sits

    def make(self) -> Any:
        return self._value(self.root, "", 0, 0)

    # -- helpers -----------------------------------------------------------------------------------
    def _resolve(self, schema: Any) -> Any:
        seen = 0
        while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and seen < 32:
            ref: str = schema["$ref"]
            target: Any = self.root
            if ref.startswith("#"):
                for part in ref[1:].split("/"):
                    if not part:
                        continue
                    part = part.replace("~1", "/").replace("~0", "~")
                    target = target.get(part) if isinstance(target, dict) else None
            else:
                target = {}
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**target, **rest} if isinstance(target, dict) else rest
            seen += 1
        return schema

    def _merge_all_of(self, schema: Dict[str, Any]) -> Dict[str, Any]:
        merged: Dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema.get("allOf") or []:
            part = self._resolve(part)
            if not isinstance(part, dict):
                continue
            part = self._merge_all_of(part) if "allOf" in part else part
            for key, value in part.items():
                if key == "properties" and isinstance(value, dict):
                    merged["properties"] = {**merged.get("properties", {}), **value}
                elif key == "required" and isinstance(value, list):
                    merged["required"] = list(dict.fromkeys([*merged.get("required", []), *value]))
                else:
                    merged.setdefault(key, value)
        return merged

    @staticmethod
    def _type_of(schema: Dict[str, Any]) -> str:
        kind = schema.get("type")
        if isinstance(kind, list):
            non_null = [k for k in kind if k != "null"]
            return str(non_null[0]) if non_null else "null"
        if isinstance(kind, str):
            return kind
        if "properties" in schema or "additionalProperties" in schema or "required" in schema:
            return "object"
        if "items" in schema or "prefixItems" in schema:
            return "array"
        if "minimum" in schema or "maximum" in schema:
            return "number"
        return "string"

    # -- generation ---------------------------------------------------------------------------------
    def _value(self, schema: Any, name: str, index: int, depth: int) -> Any:
        self.budget.tick(depth)
        schema = self._resolve(schema)
        if schema is True or not isinstance(schema, dict):
            return self._string({}, name, index)
        if "allOf" in schema:
            schema = self._merge_all_of(schema)
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return self._enum(schema["enum"])
        for key in ("anyOf", "oneOf"):
            options = schema.get(key)
            if isinstance(options, list) and options:
                chosen = self._choose(options, depth)
                base = {k: v for k, v in schema.items() if k != key}
                resolved = self._resolve(chosen)
                merged = {**base, **resolved} if isinstance(resolved, dict) else resolved
                return self._value(merged, name, index, depth)
        if "default" in schema and depth > 6:
            return schema["default"]
        kind = self._type_of(schema)
        if kind == "object":
            return self._object(schema, depth, index)
        if kind == "array":
            return self._array(schema, name, depth)
        if kind == "integer":
            return int(self._number(schema, index, name, integer=True))
        if kind == "number":
            return self._number(schema, index, name, integer=False)
        if kind == "boolean":
            return True
        if kind == "null":
            return None
        return self._string(schema, name, index)

    def _choose(self, options: List[Any], depth: int) -> Any:
        """The first non-null option; deep in the tree, the option most likely to end recursion."""
        kinds = [
            self._type_of(self._resolve(o) or {}) if isinstance(self._resolve(o), dict) else ""
            for o in options
        ]
        if depth > _SHALLOW:
            for wanted in ("null", "boolean", "integer", "number", "string"):
                for option, kind in zip(options, kinds):
                    if kind == wanted and not (isinstance(option, dict) and "$ref" in option):
                        return option
        return next((o for o, kind in zip(options, kinds) if kind != "null"), options[0])

    def _enum(self, values: List[Any]) -> Any:
        text = self.hints.text.lower()
        for value in values:
            if isinstance(value, str) and value and re.search(r"\b" + re.escape(value.lower()) + r"\b", text):
                return value
        return values[0]

    def _object(self, schema: Dict[str, Any], depth: int, index: int) -> Dict[str, Any]:
        props = schema.get("properties")
        out: Dict[str, Any] = {}
        if not isinstance(props, dict):
            return out
        required = set(schema.get("required") or [])
        for i, (key, sub) in enumerate(props.items()):
            if depth > 8 and key not in required:
                continue
            out[key] = self._value(sub, key, index + i if depth else i, depth + 1)
        return out

    def _array(self, schema: Dict[str, Any], name: str, depth: int) -> List[Any]:
        prefix = schema.get("prefixItems")
        items = schema.get("items", {})
        if isinstance(items, list):  # draft-04 tuple form
            prefix, items = items, schema.get("additionalItems", {})
        out: List[Any] = []
        if isinstance(prefix, list):
            out = [self._value(s, name, i, depth + 1) for i, s in enumerate(prefix)]
        low = self.budget.items(int(schema.get("minItems", 0) or 0))
        high = schema.get("maxItems")
        count = max(low, 2 if depth < 4 else 1 if depth <= _SHALLOW else 0)
        if isinstance(high, int):
            count = min(count, high)
        count = max(count, len(out))
        while len(out) < count:
            if items is False:
                break
            out.append(self._value(items, name, len(out), depth + 1))
        return out

    def _number(self, schema: Dict[str, Any], index: int, name: str, *, integer: bool) -> float:
        low: Optional[float] = None
        high: Optional[float] = None
        step = 1.0 if integer else 0.5
        if isinstance(schema.get("minimum"), (int, float)):
            low = float(schema["minimum"])
        ex_min = schema.get("exclusiveMinimum")
        if isinstance(ex_min, (int, float)) and not isinstance(ex_min, bool):
            low = max(low if low is not None else float(ex_min) + step, float(ex_min) + step)
        if isinstance(schema.get("maximum"), (int, float)):
            high = float(schema["maximum"])
        ex_max = schema.get("exclusiveMaximum")
        if isinstance(ex_max, (int, float)) and not isinstance(ex_max, bool):
            high = min(high if high is not None else float(ex_max) - step, float(ex_max) - step)
        if integer:
            low = float(_ceil(low)) if low is not None else None
            high = float(_floor(high)) if high is not None else None

        def fits(value: float) -> bool:
            if integer and not value.is_integer():
                return False
            return (low is None or value >= low) and (high is None or value <= high)

        labelled = [n for label, n in self.hints.labelled if fits(n) and _related(label, name)]
        if labelled:  # "temp": 21 for a field named temperature
            return _multiple(labelled[0], schema, integer, low, high)
        fitting = [n for n in self.hints.numbers if fits(n)]
        if fitting:
            return _multiple(fitting[index % len(fitting)], schema, integer, low, high)
        if low is not None and high is not None:
            value = low + (high - low) / 2
            value = float(_floor(value)) if integer else value
        elif low is not None:
            value = low
        elif high is not None:
            value = min(high, 1.0)
        else:
            value = 1.0
        return _multiple(value, schema, integer, low, high)

    def _string(self, schema: Dict[str, Any], name: str, index: int) -> str:
        fmt = schema.get("format")
        formats = {
            "date-time": "2026-01-05T09:30:00Z",
            "date": "2026-01-05",
            "time": "09:30:00",
            "email": "user@example.com",
            "uri": "https://example.com/",
            "url": "https://example.com/",
            "uuid": "3f6d2a8e-91c4-4b7a-a0e5-5c1d7b2e9f10",
            "ipv4": "127.0.0.1",
            "hostname": "example.com",
        }
        found = {"email": self.hints.emails, "date": self.hints.dates}.get(str(fmt)) or []
        if found:  # an address or a date the conversation names
            return found[index % len(found)]
        if isinstance(fmt, str) and fmt in formats:
            return formats[fmt]
        low = name.lower()
        if any(h in low for h in _PLACE_HINTS) or any(h in low for h in _NAME_HINTS):
            value = self.hints.proper_noun(self.names_used)
            self.names_used += 1
        elif low in _TEXT_HINTS or any(low.endswith("_" + h) for h in _TEXT_HINTS):
            value = self.hints.text or self.hints.keyword(index)
        elif "unit" in low:
            value = "celsius"
        else:
            value = self.hints.keyword(index)
        pattern = schema.get("pattern")
        if isinstance(pattern, str):
            value = string_for_pattern(pattern, self.budget)
        min_len = schema.get("minLength")
        max_len = schema.get("maxLength")
        if isinstance(min_len, int) and len(value) < self.budget.length(min_len):
            value = value + "x" * (min_len - len(value))
        if isinstance(max_len, int) and len(value) > max_len:
            value = value[:max_len]
        return value


def _related(label: str, name: str) -> bool:
    """Whether a number's label names the field: one is a prefix (3+ letters) of a word of the other."""
    for part in name.lower().replace("-", "_").split("_"):
        short, long = sorted((label, part), key=len)
        if len(short) >= 3 and long.startswith(short):
            return True
    return False


def _ceil(value: float) -> int:
    as_int = int(value)
    return as_int if as_int >= value else as_int + 1


def _floor(value: float) -> int:
    as_int = int(value)
    return as_int if as_int <= value else as_int - 1


def _multiple(
    value: float, schema: Dict[str, Any], integer: bool, low: Optional[float], high: Optional[float]
) -> float:
    step = schema.get("multipleOf")
    if isinstance(step, (int, float)) and step > 0:
        value = round(value / step) * step
        if low is not None and value < low:
            value += step
        if high is not None and value > high:
            value -= step
    return float(int(value)) if integer else value


def instance_for(schema: Any, prompt: str, *, param: str = "response_format") -> Any:
    """A value valid for ``schema``, with strings and numbers drawn from ``prompt`` where sensible.

    Raises ``SchemaBudgetError`` (``param`` names the request field) beyond the budget, or when no
    valid value could be made.
    """
    budget = Budget(param)
    try:
        value = SchemaInstances(schema, PromptHints(prompt), budget).make()
    except RecursionError:
        raise SchemaBudgetError("the schema nests too deeply", param) from None
    problem = validate(value, schema)
    if problem is not None:
        raise SchemaBudgetError(f"no value satisfying it could be made ({problem})", param)
    return value
