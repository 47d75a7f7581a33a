"""Structured answers that cannot hurt the server: budgets, regex-driven strings, a validator, strictness.

The stand-in model answers ``response_format: json_schema`` and tool calls with a value generated from
the caller's schema (``schemas.SchemaInstances``). A schema is user input, so generation runs under a
:class:`Budget` (at most ``MAX_NODES`` generated values, strings up to ``MAX_STRING`` characters, arrays
up to ``MAX_ITEMS`` items, nesting up to ``MAX_DEPTH``, ``TIME_BUDGET`` seconds) and a schema that
needs more (a huge ``minItems``/``minLength``, a ``$ref`` cycle with no finite instance, an unusable
``pattern``) is answered ``400 invalid_request`` naming the reason, instead of blocking the server.
Routes run generation off the event loop.

``pattern`` strings are *built* from the regex's parse tree, never found by trying candidates against
it, so a catastrophic pattern such as ``(a+)+$`` costs nothing. Every generated answer is checked
with :func:`validate` (a JSON Schema subset validator) before it is sent. :func:`strict_problem` is
OpenAI's strict-mode check (``strict: true``): every object lists all its properties in ``required``
and sets ``additionalProperties: false``, and the root is an object.

Refusals can be scripted: a user message containing ``[[refuse]]`` or ``[[refuse: <text>]]`` is
answered with a refusal (``message.refusal``, no content) instead of an answer.
"""

from __future__ import annotations

import re
import sys
import time
from typing import Any, Dict, List, Optional

if sys.version_info >= (3, 11):
    import re._constants as sre_constants
    import re._parser as sre_parse
else:  # pragma: no cover - the same modules under their old names
    import sre_constants
    import sre_parse

from ..errors import ApiError

__all__ = [
    "MAX_DEPTH",
    "MAX_ITEMS",
    "MAX_NODES",
    "MAX_STRING",
    "TIME_BUDGET",
    "Budget",
    "SchemaBudgetError",
    "check_strict",
    "refusal_in",
    "string_for_pattern",
    "strict_problem",
    "validate",
]

MAX_NODES = 20_000
MAX_STRING = 100_000
MAX_ITEMS = 10_000
MAX_DEPTH = 48
MAX_PATTERN = 1_000
TIME_BUDGET = 0.5


class SchemaBudgetError(ApiError):
    """A schema whose instance would exceed the generation budget: answered ``400``."""

    def __init__(self, reason: str, param: str = "response_format") -> None:
        super().__init__(
            400,
            "invalid_request",
            f"The local gateway cannot produce a value for this schema within its budget: {reason}.",
            param=param,
        )


class Budget:
    """Counts generated values and watches the clock; raises :class:`SchemaBudgetError` beyond them."""

    __slots__ = ("deadline", "nodes", "param")

    def __init__(self, param: str = "response_format", seconds: float = TIME_BUDGET) -> None:
        self.nodes = 0
        self.deadline = time.monotonic() + seconds
        self.param = param

    def tick(self, depth: int) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise SchemaBudgetError(f"more than {MAX_NODES} values", self.param)
        if depth > MAX_DEPTH:
            raise SchemaBudgetError(
                f"nesting deeper than {MAX_DEPTH} levels (a $ref cycle with no finite instance?)", self.param
            )
        if self.nodes % 256 == 0 and time.monotonic() > self.deadline:
            raise SchemaBudgetError(f"generation took longer than {TIME_BUDGET} s", self.param)

    def items(self, count: int) -> int:
        if count > MAX_ITEMS:
            raise SchemaBudgetError(f"minItems {count} is above {MAX_ITEMS}", self.param)
        return count

    def length(self, count: int) -> int:
        if count > MAX_STRING:
            raise SchemaBudgetError(f"minLength {count} is above {MAX_STRING}", self.param)
        return count


# --- strings from patterns -------------------------------------------------------------------------

_CATEGORY_CHAR = {
    sre_constants.CATEGORY_DIGIT: "0",
    sre_constants.CATEGORY_NOT_DIGIT: "a",
    sre_constants.CATEGORY_WORD: "a",
    sre_constants.CATEGORY_NOT_WORD: "-",
    sre_constants.CATEGORY_SPACE: " ",
    sre_constants.CATEGORY_NOT_SPACE: "a",
}
_PREFERRED = "a0A_-. "


def _in_class(items: List[Any]) -> str:
    negate = any(op is sre_constants.NEGATE for op, _ in items)
    allowed: List[str] = []
    ranges = []
    for op, arg in items:
        if op is sre_constants.LITERAL:
            allowed.append(chr(arg))
        elif op is sre_constants.RANGE:
            ranges.append(arg)
            allowed.append(chr(arg[0]))
        elif op is sre_constants.CATEGORY:
            allowed.append(_CATEGORY_CHAR.get(arg, "a"))
    if not negate:
        return allowed[0] if allowed else "a"
    banned = set(allowed)
    for low, high in ranges:
        banned.update(chr(c) for c in range(low, min(high, low + 256) + 1))
    for candidate in _PREFERRED + "bcdefghijklmnopqrstuvwxyz123456789":
        if candidate not in banned:
            return candidate
    return "~"


def _build(parsed: Any, groups: Dict[int, str], budget: Budget, out: List[str]) -> None:
    for op, arg in parsed:
        budget.tick(0)
        if op is sre_constants.LITERAL:
            out.append(chr(arg))
        elif op is sre_constants.NOT_LITERAL:
            out.append("a" if chr(arg) != "a" else "b")
        elif op is sre_constants.ANY:
            out.append("a")
        elif op is sre_constants.IN:
            out.append(_in_class(arg))
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT) or op is getattr(
            sre_constants, "POSSESSIVE_REPEAT", None
        ):
            low, _high, sub = arg
            budget.length(low)
            for _ in range(low):
                _build(sub, groups, budget, out)
        elif op is sre_constants.SUBPATTERN:
            group, sub = arg[0], arg[-1]
            start = len(out)
            _build(sub, groups, budget, out)
            if group is not None:
                groups[group] = "".join(out[start:])
        elif op is sre_constants.BRANCH:
            _build(arg[1][0], groups, budget, out)
        elif op is sre_constants.GROUPREF:
            out.append(groups.get(arg, ""))
        elif op in (sre_constants.AT, sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            continue  # anchors need nothing; lookarounds are checked below
        elif op is getattr(sre_constants, "ATOMIC_GROUP", None):
            _build(arg, groups, budget, out)
        else:
            raise SchemaBudgetError(f"pattern construct {op} is not supported", budget.param)


def string_for_pattern(pattern: str, budget: Budget) -> str:
    """A string the regex ``pattern`` matches, built from its parse tree (no search, no backtracking)."""
    if len(pattern) > MAX_PATTERN:
        raise SchemaBudgetError(f"pattern longer than {MAX_PATTERN} characters", budget.param)
    try:
        parsed = sre_parse.parse(pattern)
    except (re.error, RecursionError, OverflowError) as exc:
        reason = f"pattern {pattern[:80]!r} is not a valid regular expression ({exc})"
        raise SchemaBudgetError(reason, budget.param) from None
    out: List[str] = []
    _build(parsed, {}, budget, out)
    text = "".join(out)
    if len(text) > MAX_STRING:
        raise SchemaBudgetError(f"pattern needs more than {MAX_STRING} characters", budget.param)
    return text


# --- validation --------------------------------------------------------------------------------------

_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def _resolve(root: Any, schema: Any) -> Any:
    for _ in range(64):
        if not (isinstance(schema, dict) and isinstance(schema.get("$ref"), str)):
            return schema
        target: Any = root
        for part in schema["$ref"].lstrip("#").split("/"):
            if part:
                target = (
                    target.get(part.replace("~1", "/").replace("~0", "~"))
                    if isinstance(target, dict)
                    else None
                )
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        schema = {**target, **rest} if isinstance(target, dict) else rest
    return schema


def validate(value: Any, schema: Any, root: Any = None, where: str = "") -> Optional[str]:
    """The first reason ``value`` does not match ``schema`` (a JSON Schema subset), or ``None``."""
    root = schema if root is None else root
    schema = _resolve(root, schema)
    if schema is True or schema is None or schema == {}:
        return None
    if schema is False:
        return f"{where or '(root)'}: nothing is allowed here"
    if not isinstance(schema, dict):
        return None
    at = where or "(root)"
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind] if isinstance(kind, str) else []
    if kinds and not any(_TYPES.get(k, lambda v: True)(value) for k in kinds):
        return f"{at}: expected {kind}, got {type(value).__name__}"
    if "const" in schema and value != schema["const"]:
        return f"{at}: expected {schema['const']!r}"
    if isinstance(schema.get("enum"), list) and value not in schema["enum"]:
        return f"{at}: {value!r} is not one of {schema['enum']!r}"
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if (
            isinstance(options, list)
            and options
            and all(validate(value, o, root, where) is not None for o in options)
        ):
            return f"{at}: matches none of {key}"
    for part in schema.get("allOf") or ():
        problem = validate(value, part, root, where)
        if problem:
            return problem
    if isinstance(value, dict):
        props: Dict[str, Any] = schema["properties"] if isinstance(schema.get("properties"), dict) else {}
        for name in schema.get("required") or ():
            if name not in value:
                return f"{at}: missing required property {name!r}"
        extra = schema.get("additionalProperties")
        for name, item in value.items():
            sub = props.get(name, extra if extra is not None else True)
            problem = validate(item, sub, root, f"{where}.{name}" if where else name)
            if problem:
                return problem
    if isinstance(value, list):
        prefix = schema.get("prefixItems") or []
        for i, item in enumerate(value):
            sub = prefix[i] if i < len(prefix) else schema.get("items", True)
            problem = validate(item, sub, root, f"{where}[{i}]")
            if problem:
                return problem
        if len(value) < int(schema.get("minItems", 0) or 0):
            return f"{at}: fewer than minItems items"
        if isinstance(schema.get("maxItems"), int) and len(value) > schema["maxItems"]:
            return f"{at}: more than maxItems items"
    if isinstance(value, str):
        if len(value) < int(schema.get("minLength", 0) or 0):
            return f"{at}: shorter than minLength"
        if isinstance(schema.get("maxLength"), int) and len(value) > schema["maxLength"]:
            return f"{at}: longer than maxLength"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            bound = schema.get(key)
            if not isinstance(bound, (int, float)) or isinstance(bound, bool):
                continue
            ok = {
                "minimum": value >= bound,
                "maximum": value <= bound,
                "exclusiveMinimum": value > bound,
                "exclusiveMaximum": value < bound,
            }[key]
            if not ok:
                return f"{at}: {value!r} violates {key} {bound!r}"
    return None


# --- strict mode ------------------------------------------------------------------------------------


def strict_problem(schema: Any) -> Optional[str]:
    """Why ``schema`` is not valid for ``strict: true`` (OpenAI's rules), or ``None``."""
    root = _resolve(schema, schema)
    if not isinstance(root, dict) or root.get("type") != "object":
        return "the root schema must be an object"
    return _strict_walk(schema, "")


def _strict_walk(node: Any, where: str) -> Optional[str]:
    if isinstance(node, list):
        for i, item in enumerate(node):
            problem = _strict_walk(item, f"{where}[{i}]")
            if problem:
                return problem
        return None
    if not isinstance(node, dict):
        return None
    at = where or "(root)"
    if node.get("type") == "object" or "properties" in node:
        if node.get("additionalProperties") is not False:
            return f"{at}: 'additionalProperties' must be false"
        props = node.get("properties") or {}
        missing = [name for name in props if name not in (node.get("required") or [])]
        if missing:
            return f"{at}: 'required' must list every property (missing {missing[0]!r})"
    for key, value in node.items():
        if key in ("properties", "$defs", "definitions") and isinstance(value, dict):
            for name, sub in value.items():
                problem = _strict_walk(sub, f"{where}.{name}" if where else name)
                if problem:
                    return problem
        elif key in ("items", "anyOf", "allOf", "oneOf", "prefixItems"):
            problem = _strict_walk(value, f"{where}.{key}" if where else key)
            if problem:
                return problem
    return None


def check_strict(response_format: Any, tools: Any) -> None:
    """``400`` when ``strict: true`` is asked for a schema that strict mode does not accept."""
    spec = response_format.get("json_schema") if isinstance(response_format, dict) else None
    if isinstance(spec, dict) and spec.get("strict") is True:
        problem = strict_problem(spec.get("schema") or {})
        if problem:
            raise ApiError(
                400,
                "invalid_request",
                f"Invalid schema for response_format {spec.get('name')!r} (strict mode): {problem}.",
                param="response_format",
            )
    for tool in tools or ():
        function = tool.get("function") if isinstance(tool, dict) else None
        if isinstance(function, dict) and function.get("strict") is True:
            problem = strict_problem(function.get("parameters") or {})
            if problem:
                raise ApiError(
                    400,
                    "invalid_request",
                    f"Invalid schema for function {function.get('name')!r} (strict mode): {problem}.",
                    param="tools",
                )


# --- refusals ---------------------------------------------------------------------------------------

_REFUSE = re.compile(r"\[\[refuse(?::\s*([^\]]*))?\]\]")
DEFAULT_REFUSAL = "I'm sorry, I can't help with that request."


def refusal_in(prompt: str) -> Optional[str]:
    """The scripted refusal of a prompt (``[[refuse]]`` / ``[[refuse: text]]``), or ``None``."""
    match = _REFUSE.search(prompt)
    if match is None:
        return None
    return (match.group(1) or "").strip() or DEFAULT_REFUSAL
