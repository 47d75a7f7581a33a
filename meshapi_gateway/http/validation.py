"""A few small validators that report problems the way the production gateway does.

The gateway answers schema problems with ``422 validation_error`` and a ``details`` list of
pydantic-v2-style items (``type``, ``loc``, ``msg``, ``input``, ``ctx`` with string values; docs/protocol.md
§2.3). Rather than depending on pydantic models here, request shapes are described with the tiny
combinators below; ``check_body`` walks a body and raises :class:`ApiError` with every problem found.

Optional fields accept ``null`` (as ``Optional[X] = None`` fields do in the production models);
required ones do not.
"""

from __future__ import annotations

import json
import math
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from ..errors import ApiError, validation_failed

Loc = Tuple[Union[str, int], ...]
Detail = Dict[str, Any]


def _num_text(value: Union[int, float]) -> str:
    return str(value)


class Report:
    """Collects pydantic-style error items."""

    def __init__(self) -> None:
        self.items: List[Detail] = []

    def add(self, kind: str, loc: Loc, msg: str, value: Any, ctx: Optional[Dict[str, str]] = None) -> None:
        item: Detail = {"type": kind, "loc": list(loc), "msg": msg, "input": value}
        if ctx:
            item["ctx"] = ctx
        self.items.append(item)

    def __bool__(self) -> bool:
        return bool(self.items)


class Spec:
    """Base validator: ``check`` returns the (possibly coerced) value and records problems."""

    def check(self, value: Any, loc: Loc, report: Report) -> Any:
        return value


class AnyValue(Spec):
    pass


class Str(Spec):
    def __init__(self, *, min_length: Optional[int] = None, max_length: Optional[int] = None) -> None:
        self.min_length = min_length
        self.max_length = max_length

    def check(self, value: Any, loc: Loc, report: Report) -> Any:
        if not isinstance(value, str):
            report.add("string_type", loc, "Input should be a valid string", value)
            return value
        if self.min_length is not None and len(value) < self.min_length:
            unit = "character" if self.min_length == 1 else "characters"
            report.add(
                "string_too_short",
                loc,
                f"String should have at least {self.min_length} {unit}",
                value,
                {"min_length": str(self.min_length)},
            )
        if self.max_length is not None and len(value) > self.max_length:
            unit = "character" if self.max_length == 1 else "characters"
            report.add(
                "string_too_long",
                loc,
                f"String should have at most {self.max_length} {unit}",
                value,
                {"max_length": str(self.max_length)},
            )
        return value


class _Bounded(Spec):
    def __init__(
        self,
        *,
        ge: Optional[Union[int, float]] = None,
        le: Optional[Union[int, float]] = None,
        gt: Optional[Union[int, float]] = None,
    ) -> None:
        self.ge = ge
        self.le = le
        self.gt = gt

    def _bounds(self, value: Union[int, float], loc: Loc, report: Report) -> None:
        if self.gt is not None and not value > self.gt:
            report.add(
                "greater_than",
                loc,
                f"Input should be greater than {_num_text(self.gt)}",
                value,
                {"gt": _num_text(self.gt)},
            )
        if self.ge is not None and value < self.ge:
            report.add(
                "greater_than_equal",
                loc,
                f"Input should be greater than or equal to {_num_text(self.ge)}",
                value,
                {"ge": _num_text(self.ge)},
            )
        if self.le is not None and value > self.le:
            report.add(
                "less_than_equal",
                loc,
                f"Input should be less than or equal to {_num_text(self.le)}",
                value,
                {"le": _num_text(self.le)},
            )


class Int(_Bounded):
    def check(self, value: Any, loc: Loc, report: Report) -> Any:
        if isinstance(value, float) and not isinstance(value, bool):
            if value.is_integer():
                value = int(value)
            else:
                report.add(
                    "int_from_float",
                    loc,
                    "Input should be a valid integer, got a number with a fractional part",
                    value,
                )
                return value
        if not isinstance(value, int) or isinstance(value, bool):
            report.add("int_type", loc, "Input should be a valid integer", value)
            return value
        self._bounds(value, loc, report)
        return value


class Num(_Bounded):
    def check(self, value: Any, loc: Loc, report: Report) -> Any:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            report.add("float_type", loc, "Input should be a valid number", value)
            return value
        if isinstance(value, float) and not math.isfinite(value):
            report.add("finite_number", loc, "Input should be a finite number", None)
            return value
        self._bounds(value, loc, report)
        return value


class Bool(Spec):
    def check(self, value: Any, loc: Loc, report: Report) -> Any:
        if not isinstance(value, bool):
            report.add("bool_type", loc, "Input should be a valid boolean", value)
        return value


def _expected_text(values: Sequence[Any]) -> str:
    quoted = [repr(v) if isinstance(v, str) else json.dumps(v) for v in values]
    if len(quoted) == 1:
        return quoted[0]
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]


class Literal(Spec):
    def __init__(self, *values: Any) -> None:
        self.values = values

    def check(self, value: Any, loc: Loc, report: Report) -> Any:
        if value not in self.values or isinstance(value, bool) != isinstance(self.values[0], bool):
            expected = _expected_text(self.values)
            report.add("literal_error", loc, f"Input should be {expected}", value, {"expected": expected})
        return value


class ListOf(Spec):
    def __init__(
        self, item: Spec, *, min_length: Optional[int] = None, max_length: Optional[int] = None
    ) -> None:
        self.item = item
        self.min_length = min_length
        self.max_length = max_length

    def check(self, value: Any, loc: Loc, report: Report) -> Any:
        if not isinstance(value, list):
            report.add("list_type", loc, "Input should be a valid list", value)
            return value
        n = len(value)
        if self.min_length is not None and n < self.min_length:
            unit = "item" if self.min_length == 1 else "items"
            report.add(
                "too_short",
                loc,
                f"List should have at least {self.min_length} {unit} after validation, not {n}",
                value,
                {"field_type": "List", "min_length": str(self.min_length), "actual_length": str(n)},
            )
        if self.max_length is not None and n > self.max_length:
            unit = "item" if self.max_length == 1 else "items"
            report.add(
                "too_long",
                loc,
                f"List should have at most {self.max_length} {unit} after validation, not {n}",
                value,
                {"field_type": "List", "max_length": str(self.max_length), "actual_length": str(n)},
            )
        return [self.item.check(v, (*loc, i), report) for i, v in enumerate(value)]


class MapOf(Spec):
    """A JSON object with arbitrary keys whose values follow ``value`` (``AnyValue`` by default)."""

    def __init__(self, value: Optional[Spec] = None) -> None:
        self.value = value or AnyValue()

    def check(self, value: Any, loc: Loc, report: Report) -> Any:
        if not isinstance(value, dict):
            report.add("dict_type", loc, "Input should be a valid dictionary", value)
            return value
        return {k: self.value.check(v, (*loc, k), report) for k, v in value.items()}


class Field:
    def __init__(self, spec: Spec, *, required: bool = False) -> None:
        self.spec = spec
        self.required = required


def req(spec: Spec) -> Field:
    return Field(spec, required=True)


def opt(spec: Spec) -> Field:
    return Field(spec)


class Obj(Spec):
    """An object with known fields; unknown fields are kept untouched."""

    def __init__(self, fields: Dict[str, Field]) -> None:
        self.fields = fields

    def check(self, value: Any, loc: Loc, report: Report) -> Any:
        if not isinstance(value, dict):
            report.add(
                "model_attributes_type",
                loc,
                "Input should be a valid dictionary or object to extract fields from",
                value,
            )
            return value
        out = dict(value)
        for name, field in self.fields.items():
            if name not in value:
                if field.required:
                    report.add("missing", (*loc, name), "Field required", value)
                continue
            item = value[name]
            if item is None:
                if field.required:
                    field.spec.check(item, (*loc, name), report)
                continue
            out[name] = field.spec.check(item, (*loc, name), report)
        return out


class OneOf(Spec):
    """The first alternative that accepts the value wins; otherwise report the first one's errors."""

    def __init__(self, *alternatives: Spec) -> None:
        self.alternatives = alternatives

    def check(self, value: Any, loc: Loc, report: Report) -> Any:
        first: Optional[Report] = None
        for spec in self.alternatives:
            trial = Report()
            result = spec.check(value, loc, trial)
            if not trial:
                return result
            if first is None:
                first = trial
        if first is not None:
            report.items.extend(first.items)
        return value


def check_body(body: Any, spec: Spec, root: str = "body") -> Any:
    """Validate ``body`` against ``spec``; raise a 422 ``validation_error`` listing every problem."""
    report = Report()
    result = spec.check(body, (root,), report)
    if report:
        raise validation_failed(report.items)
    return result


def check_query(params: Dict[str, str], fields: Dict[str, Tuple[Spec, Any]]) -> Dict[str, Any]:
    """Parse query parameters (strings) into ints/bools per ``fields`` (``name -> (spec, default)``)."""
    report = Report()
    out: Dict[str, Any] = {}
    for name, (spec, default) in fields.items():
        if name not in params:
            out[name] = default
            continue
        raw = params[name]
        value: Any = raw
        loc: Loc = ("query", name)
        if isinstance(spec, Int):
            try:
                value = int(raw)
            except ValueError:
                report.add(
                    "int_parsing",
                    loc,
                    "Input should be a valid integer, unable to parse string as an integer",
                    raw,
                )
                continue
        elif isinstance(spec, Bool):
            lowered = raw.strip().lower()
            if lowered in ("true", "1", "yes", "on", "t", "y"):
                value = True
            elif lowered in ("false", "0", "no", "off", "f", "n"):
                value = False
            else:
                report.add(
                    "bool_parsing", loc, "Input should be a valid boolean, unable to interpret input", raw
                )
                continue
        out[name] = spec.check(value, loc, report)
    if report:
        raise validation_failed(report.items)
    return out


def json_error_detail(text: str, exc: json.JSONDecodeError) -> Detail:
    return {
        "type": "json_invalid",
        "loc": ["body", exc.pos],
        "msg": "JSON decode error",
        "input": {},
        "ctx": {"error": exc.msg},
    }


def malformed_json(text: str, exc: json.JSONDecodeError) -> ApiError:
    return validation_failed([json_error_detail(text, exc)])
