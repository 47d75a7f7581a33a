"""Structured outputs: from a Python type to the ``response_format`` sent, and from the reply to a value.

``ResponseFormat.of(x)`` reads what a caller passed as ``response_format``:

* a pydantic model class: the reply is validated into an instance;
* any other type pydantic's ``TypeAdapter`` accepts (a dataclass, a ``TypedDict``, ``List[int]``, ...):
  the reply is validated into that type;
* a dict: for ``parse()`` (as 0.1.12) a dict with ``"type": "json_schema"`` is sent unchanged and any
  other dict is the JSON schema itself; the reply is ``json.loads``-ed, not validated. For ``create()``
  and ``stream()`` a dict is the wire ``response_format`` as before, and nothing is parsed.

Strict schemas: for a type, the schema sent is made *strict* when it can be (every property listed in
``required``, ``additionalProperties: false`` on every object, ``$defs`` kept, ``oneOf`` spelled
``anyOf``, ``default: null`` dropped) and ``"strict": true`` is sent with it. Three things cannot be
expressed in a strict schema: an object with free-form keys (``Dict[str, X]``, a model with
``extra="allow"``), a root that is not an object (``List[int]``, ``int``), and a schema pydantic cannot
generate at all. For ``response_format`` such a type is sent as its plain schema without ``strict`` (what
0.1.12 sent), so a provider may not enforce it; ``pydantic_function_tool`` and
:func:`to_strict_json_schema` raise ``InvalidParamsError`` naming the place and the reason.

Partial JSON (stream events) is read with pydantic-core's partial mode (``from_json(allow_partial=...)``).
"""

from __future__ import annotations

import copy
import functools
import json
import re
from typing import Any, Dict, List, Optional, Tuple, Type

from pydantic import BaseModel, TypeAdapter, ValidationError

from .._errors import InvalidParamsError, StructuredOutputError
from ..types.chat import ChatCompletionResponse, Tool, ToolFunction

__all__ = [
    "ResponseFormat",
    "StructuredCall",
    "apply_parsed",
    "failure",
    "parse_partial_json",
    "pydantic_function_tool",
    "to_strict_json_schema",
]


class _NotStrict(Exception):
    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where or '(root)'}: {reason}")


def _strictify(node: Any, where: str) -> None:
    if isinstance(node, list):
        for i, item in enumerate(node):
            _strictify(item, f"{where}[{i}]")
        return
    if not isinstance(node, dict):
        return
    for key in ("$defs", "definitions"):
        for name, sub in (node.get(key) or {}).items():
            _strictify(sub, f"{key}.{name}")
    if "oneOf" in node and "anyOf" not in node:
        node["anyOf"] = node.pop("oneOf")
    if "default" in node and node["default"] is None:
        del node["default"]
    if node.get("type") == "object" or "properties" in node:
        extra = node.get("additionalProperties")
        if extra not in (None, False):
            raise _NotStrict(where, "an object with free-form keys (Dict[str, ...] or extra='allow')")
        properties = node.get("properties") or {}
        node["properties"] = properties
        node["required"] = list(properties)
        node["additionalProperties"] = False
        for name, sub in properties.items():
            _strictify(sub, f"{where}.{name}" if where else name)
    for key in ("items", "anyOf", "allOf", "prefixItems"):
        if key in node:
            _strictify(node[key], f"{where}.{key}" if where else key)


def to_strict_json_schema(schema_or_type: Any) -> Dict[str, Any]:
    """The strict form of a JSON schema (a dict) or of a type's schema; ``InvalidParamsError`` if impossible."""
    schema = copy.deepcopy(schema_or_type) if isinstance(schema_or_type, dict) else _schema_of(schema_or_type)
    try:
        root = schema
        if isinstance(root.get("$ref"), str) and root["$ref"].startswith("#/$defs/"):
            root = schema.get("$defs", {}).get(root["$ref"].split("/")[-1], {})
        if root.get("type") != "object":
            raise _NotStrict("", "the root of a strict schema must be an object")
        _strictify(schema, "")
    except _NotStrict as exc:
        raise InvalidParamsError(f"This schema cannot be made strict: {exc}") from None
    return schema


def _schema_of(tp: Any) -> Dict[str, Any]:
    try:
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            return tp.model_json_schema()
        return TypeAdapter(tp).json_schema()
    except Exception as exc:  # pydantic raises several kinds for types it cannot describe
        raise InvalidParamsError(f"No JSON schema can be generated for {tp!r}: {exc}") from None


def _schema_name(tp: Any) -> str:
    name = re.sub(r"[^A-Za-z0-9_-]", "_", str(getattr(tp, "__name__", "") or "response"))
    return name[:64] or "response"


def _partial_mode() -> Any:
    """The most useful ``allow_partial`` value this pydantic-core supports (``None``: no partial mode)."""
    try:
        from pydantic_core import from_json
    except ImportError:  # pragma: no cover - pydantic-core older than pydantic 2.4's
        return None
    for mode in ("trailing-strings", True):
        try:
            from_json('{"a": "b', allow_partial=mode)
        except (TypeError, ValueError):
            continue
        return mode
    return None  # pragma: no cover


_PARTIAL_MODE = _partial_mode()


def parse_partial_json(text: str) -> Any:
    """The value of a JSON text cut anywhere (``None`` when nothing can be read from it yet)."""
    if not text.strip() or _PARTIAL_MODE is None:
        return None
    from pydantic_core import from_json

    try:
        return from_json(text, allow_partial=_PARTIAL_MODE)
    except ValueError:
        return None


class ResponseFormat:
    """What a ``response_format`` argument means: the wire value to send and how to read the reply."""

    __slots__ = ("kind", "name", "strict", "target", "wire")

    def __init__(self, kind: str, wire: Dict[str, Any], target: Any, name: str, strict: bool) -> None:
        self.kind, self.wire, self.target, self.name, self.strict = kind, wire, target, name, strict

    @classmethod
    def of(cls, response_format: Any, *, dict_is_schema: bool) -> ResponseFormat:
        if isinstance(response_format, dict):
            if not dict_is_schema:  # create() / stream(): the wire value, as before; nothing is parsed
                return cls("wire", dict(response_format), None, "response", False)
            if response_format.get("type") == "json_schema":
                return cls("dict", dict(response_format), None, "response", False)
            wrapped = {"name": "response", "schema": response_format}
            return cls("dict", {"type": "json_schema", "json_schema": wrapped}, None, "response", False)
        try:
            return _of_type(response_format)
        except TypeError:  # an unhashable "type" (e.g. a list): described below
            return cls._of_type(response_format)

    @classmethod
    def _of_type(cls, response_format: Any) -> ResponseFormat:
        if response_format is None or isinstance(response_format, (str, bytes, int, float, list)):
            raise InvalidParamsError(
                "response_format must be a pydantic model class, a type pydantic can validate "
                f"(dataclass, TypedDict, List[...]) or a dict, got {type(response_format).__name__}"
            )
        is_model = isinstance(response_format, type) and issubclass(response_format, BaseModel)
        target: Any = response_format if is_model else _adapter(response_format)
        schema = _schema_of(response_format)
        name = _schema_name(response_format)
        try:
            strict_schema: Optional[Dict[str, Any]] = to_strict_json_schema(schema)
        except InvalidParamsError:
            strict_schema = None
        spec: Dict[str, Any] = {"name": name, "schema": strict_schema or schema}
        if strict_schema is not None:
            spec["strict"] = True
        kind = "model" if is_model else "adapter"
        return cls(
            kind, {"type": "json_schema", "json_schema": spec}, target, name, strict_schema is not None
        )

    @property
    def parses(self) -> bool:
        """Whether replies are turned into a value (``create()`` / ``stream()`` with a dict: no)."""
        return self.kind != "wire"

    def parse(self, content: str) -> Any:
        """The reply's value; raises ``ValidationError`` or ``ValueError`` when it does not fit."""
        if self.kind == "model":
            return self.target.model_validate_json(content)
        if self.kind == "adapter":
            return self.target.validate_json(content)
        return json.loads(content)


@functools.lru_cache(maxsize=256)
def _of_type(tp: Any) -> ResponseFormat:
    """``ResponseFormat._of_type`` remembered per type: building a schema costs more than a call."""
    return ResponseFormat._of_type(tp)


def _adapter(tp: Any) -> TypeAdapter[Any]:
    try:
        return TypeAdapter(tp)
    except Exception as exc:
        raise InvalidParamsError(
            f"response_format {tp!r} is not a type pydantic can validate: {exc}"
        ) from None


def pydantic_function_tool(
    model: Type[BaseModel], name: Optional[str] = None, description: Optional[str] = None
) -> Tool:
    """A strict function ``Tool`` whose parameters are ``model``'s schema.

    Tool calls to it come back with ``function.parsed_arguments`` set to a ``model`` instance (on
    ``create()``'s reply, ``stream()``'s final completion and its ``arguments.done`` events).
    Raises ``InvalidParamsError`` when the model cannot be expressed as a strict schema.
    """
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise InvalidParamsError(f"pydantic_function_tool needs a pydantic model class, got {model!r}")
    schema = to_strict_json_schema(model)
    doc = description if description is not None else schema.get("description")
    function = ToolFunction(
        name=name or model.__name__, description=doc or None, parameters=schema, strict=True
    )
    tool = Tool(type="function", function=function)
    tool._parse_as = model
    return tool


def tool_models(*tool_lists: Any) -> Dict[str, Type[BaseModel]]:
    """Function name -> model, for the ``pydantic_function_tool`` tools among ``tool_lists``."""
    found: Dict[str, Type[BaseModel]] = {}
    for tools in tool_lists:
        for tool in tools or ():
            model = getattr(tool, "_parse_as", None)
            if model is not None:
                found[tool.function.name] = model
    return found


def failure(what: str, content: str, exc: BaseException, response: Any) -> StructuredOutputError:
    detail = exc.errors(include_url=False)[:3] if isinstance(exc, ValidationError) else None
    reason = (
        "; ".join(f"{'.'.join(map(str, e['loc'])) or '(root)'}: {e['msg']}" for e in detail)
        if detail
        else str(exc)
    )
    error = StructuredOutputError(f"The reply does not match {what}: {reason}")
    error.request_id = getattr(response, "_request_id", None) or ""
    error.content = content
    error.completion = response
    error.cause = exc
    return error


def message_text(content: Any) -> str:
    """A message's content as text: the string, the joined text parts, or ``""``."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(getattr(part, "text", "") or "" for part in content)
    return ""


def apply_parsed(
    response: ChatCompletionResponse, fmt: Optional[ResponseFormat], tools: Dict[str, Type[BaseModel]]
) -> ChatCompletionResponse:
    """Fill ``message.parsed`` and ``function.parsed_arguments`` in place; ``StructuredOutputError`` on a mismatch.

    A choice whose message is a refusal, or has no content, keeps ``parsed = None``.
    """
    for choice in response.choices:
        message = choice.message
        if message is None:
            continue
        if fmt is not None and fmt.parses and message.content and not message.refusal:
            content = message_text(message.content)
            try:
                message.parsed = fmt.parse(content)
            except ValueError as exc:  # ValidationError is a ValueError
                raise failure(fmt.name, content, exc, response) from exc
        for call in message.tool_calls or ():
            model = tools.get(call.function.name)
            if model is not None:
                try:
                    call.function.parsed_arguments = model.model_validate_json(call.function.arguments)
                except ValueError as exc:
                    raise failure(model.__name__, call.function.arguments, exc, response) from exc
    return response


_CORRECTION = (
    "That reply could not be used: {error}. Answer again with only a JSON value that matches the "
    "requested schema exactly, with no other text."
)


class StructuredCall:
    """The pure part of ``parse()``: the body to send, and what to do with each reply.

    ``accept(reply)`` returns ``(True, value)``, or ``(False, None)`` after appending the reply and a
    correction request to ``body["messages"]`` when retries remain; it raises ``StructuredOutputError``
    (``content``: the raw reply, ``cause``: the validation error, ``completion``: the reply) otherwise.
    """

    def __init__(self, fmt: ResponseFormat, body: Dict[str, Any], max_retries: object) -> None:
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise InvalidParamsError(f"max_retries must be an integer >= 0, got {max_retries!r}")
        self.fmt = fmt
        self.body = body
        self.retries_left = max_retries
        self.attempts = 0

    def accept(self, response: ChatCompletionResponse) -> Tuple[bool, Any]:
        self.attempts += 1
        message = response.choices[0].message if response.choices else None
        content = message_text(message.content) if message is not None else ""
        try:
            if message is not None and message.refusal and not content:
                raise ValueError(f"the model refused: {message.refusal}")
            return True, self.fmt.parse(content)
        except ValueError as exc:
            if self.retries_left <= 0:
                raise failure(self.fmt.name, content, exc, response) from exc
            self.retries_left -= 1
            reason = str(failure(self.fmt.name, content, exc, response).message)
            messages: List[Any] = list(self.body.get("messages") or [])
            messages.append({"role": "assistant", "content": content})
            messages.append({"role": "user", "content": _CORRECTION.format(error=reason)})
            self.body = {**self.body, "messages": messages}
            return False, None
