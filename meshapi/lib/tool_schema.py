"""``@meshapi.tool``: a Python function (or a pydantic model, or a dict spec) as a tool the runner can call.

Why this exists: a tool the model may call needs three things kept in step, its JSON schema, the
validation of the arguments the model sends, and the function itself. Written by hand they drift apart;
here the schema and the validator are built once from the function's signature (type hints, ``Annotated``
descriptions, defaults) and its docstring (first paragraph: the description; ``Args:`` lines: the
parameters'), by one pydantic model made from the signature.

A :class:`FunctionTool` is also a read-only mapping equal to the wire tool (``{"type": "function",
"function": {...}}``), so it can be passed to ``create(tools=[...])`` as it is; calling it calls the
function. Arguments that do not validate raise :class:`ToolArgumentsError`, whose text the runner sends
back to the model as the tool's result so it can correct itself. A parameter annotated
:class:`ToolContext` is left out of the schema: the runner passes the call's context there.
"""

from __future__ import annotations

import inspect
import json
import re
import threading
import typing
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Tuple, Type

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from .._errors import InvalidParamsError
from ._parsing import to_strict_json_schema

__all__ = ["FunctionTool", "ToolArgumentsError", "ToolContext", "as_tool", "tool"]

_ARGS_HEADER = re.compile(r"^\s*(Args|Arguments|Parameters):\s*$")
_ARG_LINE = re.compile(r"^\s+(\*{0,2}\w+)(?:\s*\([^)]*\))?\s*:\s*(.+)$")
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class ToolContext:
    """What a tool may ask for with a parameter annotated ``ToolContext`` (not in its schema): its call.

    ``cancelled`` is a ``threading.Event`` the runner sets when the call is given up: its ``tool_timeout``
    passed, or the run was closed, cancelled or interrupted while it ran. Python cannot stop a thread from
    outside, so a sync tool that runs long should check ``cancelled.is_set()`` (or wait on it instead of
    sleeping) and return; until it does, its thread keeps running (a daemon thread: it never holds the
    run, nor the interpreter's exit).
    """

    def __init__(self, call_id: str = "", name: str = "") -> None:
        self.call_id = call_id
        self.name = name
        self.cancelled = threading.Event()

    def __repr__(self) -> str:
        return (
            f"ToolContext(call_id={self.call_id!r}, name={self.name!r}, cancelled={self.cancelled.is_set()})"
        )


class ToolArgumentsError(ValueError):
    """The arguments a model sent for a tool are not valid JSON or do not fit the tool's parameters."""


def _docstring(fn: Any) -> Tuple[str, Dict[str, str]]:
    """The description (first paragraph) and the ``Args:`` descriptions of a Google-style docstring."""
    doc = inspect.getdoc(fn) or ""
    lines = doc.splitlines()
    description: List[str] = []
    args: Dict[str, str] = {}
    i = 0
    while i < len(lines) and lines[i].strip():
        description.append(lines[i].strip())
        i += 1
    current = None
    in_args = False
    for line in lines[i:]:
        if _ARGS_HEADER.match(line):
            in_args = True
            continue
        if not in_args:
            continue
        if line.strip() and not line.startswith((" ", "\t")):
            in_args = False  # the next section
            continue
        found = _ARG_LINE.match(line)
        if found and (len(line) - len(line.lstrip())) <= 4:
            current = found.group(1).lstrip("*")
            args[current] = found.group(2).strip()
        elif current and line.strip():
            args[current] += " " + line.strip()
    return " ".join(description), args


def _described(annotation: Any, description: Optional[str]) -> Any:
    """``Annotated[X, "text"]`` -> ``Annotated[X, Field(description="text")]``; a docstring line likewise."""
    if typing.get_origin(annotation) is typing.Annotated:
        base, *extra = typing.get_args(annotation)
        texts = [e for e in extra if isinstance(e, str)]
        others = [e for e in extra if not isinstance(e, str)]
        if texts:
            params = (base, *others, Field(description=" ".join(texts)))
            return typing.Annotated[params]  # type: ignore[valid-type]
        return annotation
    if description:
        return typing.Annotated[annotation, Field(description=description)]
    return annotation


def _context_parameter(fn: Callable[..., Any]) -> Optional[str]:
    """The name of ``fn``'s parameter annotated :class:`ToolContext`, or ``None``."""
    try:
        hints = typing.get_type_hints(fn)
    except Exception:
        return None
    return next((name for name, hint in hints.items() if hint is ToolContext), None)


def _arguments_model(fn: Callable[..., Any], name: str, arg_docs: Dict[str, str]) -> Type[BaseModel]:
    """A pydantic model of ``fn``'s parameters (``*args`` / ``**kwargs`` are not allowed; a
    :class:`ToolContext` parameter is the runner's, not the model's)."""
    try:
        hints = typing.get_type_hints(fn, include_extras=True)
    except Exception as exc:
        raise InvalidParamsError(f"tool {name!r}: its type hints cannot be read: {exc}") from None
    fields: Dict[str, Any] = {}
    for param in inspect.signature(fn).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise InvalidParamsError(f"tool {name!r}: *{param.name} cannot be described to a model")
        if hints.get(param.name) is ToolContext:
            continue
        annotation = _described(hints.get(param.name, Any), arg_docs.get(param.name))
        default = ... if param.default is param.empty else param.default
        fields[param.name] = (annotation, default)
    config = ConfigDict(extra="forbid", arbitrary_types_allowed=False)
    model: Type[BaseModel] = create_model(f"{name}_arguments", __config__=config, **fields)
    return model


def _checked_max_uses(max_uses: Optional[int]) -> Optional[int]:
    if max_uses is not None and (isinstance(max_uses, bool) or not isinstance(max_uses, int) or max_uses < 1):
        raise InvalidParamsError(f"max_uses must be an integer >= 1, got {max_uses!r}")
    return max_uses


def _own_call(model: Any) -> Any:
    """The ``__call__`` a pydantic model class defines (not pydantic's or object's), or ``None``."""
    for klass in getattr(model, "__mro__", ()):
        if klass is BaseModel:
            return None
        if "__call__" in vars(klass):
            return vars(klass)["__call__"]
    return None


class FunctionTool(Mapping[str, Any]):
    """A callable tool: ``spec`` is the wire tool, ``validate(arguments)`` the checked keyword arguments.

    ``max_uses`` caps the calls the runner makes to it in one run (the model gets an error result
    after that). Calling the object calls the function (an ``async def`` returns its coroutine).
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        spec: Dict[str, Any],
        arguments: Optional[Type[BaseModel]] = None,
        *,
        call_with_model: bool = False,
        max_uses: Optional[int] = None,
    ) -> None:
        self.fn = fn
        self.spec = spec
        self.name: str = spec["function"]["name"]
        self.arguments = arguments
        self.max_uses = _checked_max_uses(max_uses)
        method = _own_call(fn) if call_with_model else None
        self.is_async = inspect.iscoroutinefunction(method if method is not None else fn)
        self._call_with_model = call_with_model
        self.context_parameter = None if call_with_model else _context_parameter(fn)
        self.__doc__ = getattr(fn, "__doc__", None)
        self.__wrapped__ = fn

    def __getitem__(self, key: str) -> Any:
        return self.spec[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.spec)

    def __len__(self) -> int:
        return len(self.spec)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"FunctionTool(name={self.name!r})"

    def validate(self, arguments: str) -> Dict[str, Any]:
        """The keyword arguments for the function from the model's JSON text; ``ToolArgumentsError`` if bad."""
        try:
            data = json.loads(arguments) if arguments.strip() else {}
        except ValueError as exc:
            raise ToolArgumentsError(f"the arguments are not valid JSON ({exc})") from None
        if not isinstance(data, dict):
            raise ToolArgumentsError("the arguments must be a JSON object")
        if self.arguments is None:
            return data
        try:
            model = self.arguments.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or '(root)'}: {e['msg']}"
                for e in exc.errors(include_url=False)
            )
            raise ToolArgumentsError(problems) from None
        if self._call_with_model:
            return {"__model__": model}
        return {key: getattr(model, key) for key in type(model).model_fields}

    def invoke(self, kwargs: Dict[str, Any], context: Optional[ToolContext] = None) -> Any:
        """Call the function with what :meth:`validate` returned (an awaitable for async tools); a
        ``ToolContext`` parameter gets ``context`` (a fresh one when none is given)."""
        if self._call_with_model:
            return kwargs["__model__"]()
        if self.context_parameter is not None:
            kwargs = {**kwargs, self.context_parameter: context or ToolContext()}
        return self.fn(**kwargs)


def _spec(name: str, description: Optional[str], parameters: Dict[str, Any], strict: bool) -> Dict[str, Any]:
    if not _NAME.match(name):
        raise InvalidParamsError(f"tool name {name!r}: 1-64 letters, digits, '_' or '-'")
    function: Dict[str, Any] = {"name": name}
    if description:
        function["description"] = description
    function["parameters"] = parameters
    if strict:
        function["strict"] = True
    return {"type": "function", "function": function}


def _schema(model: Type[BaseModel], strict: bool) -> Dict[str, Any]:
    schema = to_strict_json_schema(model) if strict else model.model_json_schema()
    schema.pop("title", None)
    for prop in (schema.get("properties") or {}).values():
        if isinstance(prop, dict):
            prop.pop("title", None)
    return schema


def _from_function(
    fn: Callable[..., Any],
    name: Optional[str],
    description: Optional[str],
    strict: bool,
    max_uses: Optional[int],
) -> FunctionTool:
    tool_name = name or getattr(fn, "__name__", "") or "tool"
    doc, arg_docs = _docstring(fn)
    model = _arguments_model(fn, tool_name, arg_docs)
    spec = _spec(tool_name, description if description is not None else doc, _schema(model, strict), strict)
    return FunctionTool(fn, spec, model, max_uses=max_uses)


def _from_model(
    model: Type[BaseModel], name: Optional[str], description: Optional[str], strict: bool
) -> FunctionTool:
    if _own_call(model) is None:
        raise InvalidParamsError(f"a pydantic model used as a tool needs a __call__ method: {model.__name__}")
    doc = description if description is not None else (inspect.getdoc(model) or "").split("\n\n")[0]
    spec = _spec(name or model.__name__, " ".join(doc.split()), _schema(model, strict), strict)
    return FunctionTool(model, spec, model, call_with_model=True)


def _from_dict(spec: Mapping[str, Any]) -> FunctionTool:
    fn = spec.get("callable")
    if not callable(fn):
        raise InvalidParamsError("a dict tool needs a 'callable' next to its 'function' spec")
    wire = {k: v for k, v in spec.items() if k != "callable"}
    function = wire.get("function")
    if wire.get("type") != "function" or not isinstance(function, Mapping) or not function.get("name"):
        raise InvalidParamsError(
            "a dict tool is {'type': 'function', 'function': {'name': ...}, 'callable': f}"
        )
    return FunctionTool(fn, wire, None)


def as_tool(value: Any) -> FunctionTool:
    """Whatever ``tools=`` of a runner holds, as a :class:`FunctionTool` (``InvalidParamsError`` otherwise)."""
    if isinstance(value, FunctionTool):
        return value
    if isinstance(value, type) and issubclass(value, BaseModel):
        return _from_model(value, None, None, False)
    if isinstance(value, Mapping):
        return _from_dict(value)
    if callable(value):
        return _from_function(value, None, None, False, None)
    raise InvalidParamsError(f"not a tool: {value!r} (a @meshapi.tool function, a pydantic model or a dict)")


def tool(
    fn: Optional[Any] = None,
    *,
    name: Optional[str] = None,
    description: Optional[str] = None,
    strict: bool = False,
    max_uses: Optional[int] = None,
) -> Any:
    """Make a function (sync or async) or a pydantic model with ``__call__`` a tool: ``@tool`` or ``@tool(...)``.

    The schema comes from the type hints (pydantic types, ``Annotated[X, "description"]``, defaults) and
    the docstring; ``strict=True`` sends a strict schema; ``max_uses`` caps its calls per run.
    """

    def wrap(target: Any) -> FunctionTool:
        if isinstance(target, type) and issubclass(target, BaseModel):
            made = _from_model(target, name, description, strict)
            made.max_uses = _checked_max_uses(max_uses)
            return made
        if not callable(target):
            raise InvalidParamsError(f"@tool needs a function, got {target!r}")
        return _from_function(target, name, description, strict, max_uses)

    return wrap(fn) if fn is not None else wrap
