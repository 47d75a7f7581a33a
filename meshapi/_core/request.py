"""Building requests: path escaping, call options, params coercion. Pure code.

``coerce_params`` is what lets every method take either the 0.1.4 param model or the same fields as
keyword arguments (or a plain dict): it returns the validated model, or raises ``InvalidParamsError``
listing what to fix, before anything is sent.
"""

from __future__ import annotations

import re
import sys
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Dict, Mapping, Optional, Sequence, Tuple, Type, TypedDict, TypeVar, Union
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from .._api_version import check_api_version
from .._errors import InvalidParamsError
from .._memory import check_memory_ids
from .._response_cache import check_response_cache
from .timeouts import TimeoutTypes, validate_stream_idle_timeout, validate_timeout, validate_total_timeout

__all__ = [
    "OPTION_NAMES",
    "CallOptions",
    "CallOptionsBase",
    "RequestOptions",
    "call_options",
    "split_options",
    "TimeoutTypes",
    "coerce_params",
    "new_idempotency_key",
    "path_param",
    "model_path",
    "json_depth_exceeds",
    "validate_request_id",
]

M = TypeVar("M", bound=BaseModel)

#: ``api_version`` not given for this call: the client's is sent.
_CLIENT_VERSION: Any = object()
#: ``memory`` not given for this call: the client's memories are sent.
_CLIENT_MEMORY: Any = object()


#: Longest id accepted as a path parameter (real ids are far shorter; a huge one breaks the URL).
MAX_PATH_PARAM = 2048

#: Headers that describe the connection or the message framing: the HTTP layer writes them, and a
#: caller's value would contradict the real body or connection (an h11 error, or a smuggled request).
_TRANSPORT_HEADERS = frozenset(
    {
        "content-length",
        "transfer-encoding",
        "host",
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "upgrade",
    }
)


def path_param(value: object, *, name: str = "id") -> str:
    """``value`` escaped as exactly one path segment: ``/``, ``?``, ``#``, ``..``, spaces cannot escape it."""
    if not isinstance(value, str):
        raise InvalidParamsError(f"{name} must be a string, got {type(value).__name__}")
    if not value.strip():
        raise InvalidParamsError(f"{name} must be a non-empty string")
    if len(value) > MAX_PATH_PARAM:
        raise InvalidParamsError(
            f"{name} is {len(value)} characters long; ids are at most {MAX_PATH_PARAM} characters"
        )
    escaped = quote(value, safe="")
    if escaped in (".", ".."):
        escaped = escaped.replace(".", "%2E")  # a dot segment would be collapsed by URL normalisation
    return escaped


def model_path(model: object, *, name: str = "model", what: Optional[str] = None) -> str:
    """``/v1/models/{id}`` for ``client.models``, ``costs.lookup`` hints and ``chat.completions.map`` prices.

    The id may contain ``/`` (``openai/gpt-4o``, docs/protocol.md's model table): each part is escaped as
    one path segment (``path_param(part, name=name)``). A blank id (``""``, ``"/"``, not a string) raises
    ``InvalidParamsError("<what> must be a non-empty string, got ...")``, ``what`` defaulting to ``name``.
    """
    if not isinstance(model, str) or not model.strip("/ "):
        raise InvalidParamsError(f"{what or name} must be a non-empty string, got {model!r}")
    return "/v1/models/" + "/".join(path_param(part, name=name) for part in model.split("/"))


def new_idempotency_key() -> str:
    return f"meshapi-{uuid.uuid4().hex}"


@dataclass(frozen=True)
class RequestOptions:
    """Per-call settings that are not part of the body.

    Every resource method accepts the same keyword-only options (declared once: ``CallOptions``):
    ``timeout``, ``max_retries``, ``extra_headers``, ``extra_query``, ``extra_body``, ``total_timeout``,
    ``request_id``, ``api_version``, ``memory``, ``response_cache``, ``stream_idle_timeout`` and
    ``stream_fallback_to_blocking``. They are validated here, before anything is sent (the timeout rules
    are ``meshapi._core.timeouts``).
    """

    timeout: Optional[Union[float, httpx.Timeout]] = None
    extra_headers: Optional[Mapping[str, str]] = None
    extra_body: Optional[Mapping[str, Any]] = None
    extra_query: Optional[Mapping[str, Any]] = None
    max_retries: Optional[int] = None
    total_timeout: Optional[float] = None
    #: a stream's longest gap between events (``None``: the client's, else the read timeout)
    stream_idle_timeout: Optional[float] = None
    #: a stream that cannot be opened: one non-streaming call instead (``None``: the client's setting)
    stream_fallback_to_blocking: Optional[bool] = None
    request_id: Optional[str] = None
    #: this call's ``X-Mesh-Version`` (``None``: none sent), used only when ``pins_version`` (else the client's)
    api_version: Optional[str] = None
    pins_version: bool = False
    #: this call's ``x-mem-id`` memories (``None``: none sent), used only when ``pins_memory`` (else the client's)
    memory: Optional[Tuple[str, ...]] = None
    pins_memory: bool = False
    #: ``False``: send ``X-Mesh-Cache: no-store``; ``True``: do not, even if the client does;
    #: ``None``: as the client says
    response_cache: Optional[bool] = None
    #: a chat call that may walk a model-fallback chain (set by the chat resource, never sent)
    fallback: bool = False
    #: the call's own chain (``fallback_models=``); ``None``: the client's ``FallbackConfig``
    fallback_models: Optional[Tuple[str, ...]] = None
    #: a non-streaming reply (read) as the stream's response (set by chat streams, never sent)
    blocking_as_stream: Optional[Callable[[httpx.Response], httpx.Response]] = None

    @classmethod
    def build(
        cls,
        timeout: Optional[TimeoutTypes] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        *,
        extra_query: Optional[Mapping[str, Any]] = None,
        max_retries: Optional[int] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        api_version: Any = _CLIENT_VERSION,
        memory: Any = _CLIENT_MEMORY,
        response_cache: Optional[bool] = None,
        stream_idle_timeout: Optional[float] = None,
        stream_fallback_to_blocking: Optional[bool] = None,
    ) -> RequestOptions:
        if timeout is not None:
            timeout = validate_timeout(timeout)
        if extra_headers is not None:
            _check_headers(extra_headers)
        if extra_body is not None and not isinstance(extra_body, Mapping):
            raise InvalidParamsError(f"extra_body must be a mapping, got {type(extra_body).__name__}")
        if extra_body and json_depth_exceeds(extra_body, MAX_JSON_DEPTH):
            raise InvalidParamsError(
                f"extra_body is nested more than {MAX_JSON_DEPTH} levels deep; the gateway would refuse it"
            )
        if extra_query is not None and not isinstance(extra_query, Mapping):
            raise InvalidParamsError(f"extra_query must be a mapping, got {type(extra_query).__name__}")
        if max_retries is not None and (
            isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0
        ):
            raise InvalidParamsError(f"max_retries must be a non-negative integer, got {max_retries!r}")
        total = validate_total_timeout(total_timeout) if total_timeout is not None else None
        idle = validate_stream_idle_timeout(stream_idle_timeout) if stream_idle_timeout is not None else None
        if stream_fallback_to_blocking is not None and not isinstance(stream_fallback_to_blocking, bool):
            raise InvalidParamsError(
                f"stream_fallback_to_blocking must be True or False, got {stream_fallback_to_blocking!r}"
            )
        if request_id is not None:
            validate_request_id(request_id)
        pins_version = api_version is not _CLIENT_VERSION
        if pins_version:
            api_version = check_api_version(api_version, error=InvalidParamsError)
        pins_memory = memory is not _CLIENT_MEMORY
        return cls(
            timeout=timeout,
            extra_headers=extra_headers,
            extra_body=extra_body,
            extra_query=extra_query,
            max_retries=max_retries,
            total_timeout=total,
            stream_idle_timeout=idle,
            stream_fallback_to_blocking=stream_fallback_to_blocking,
            request_id=request_id,
            api_version=api_version if pins_version else None,
            pins_version=pins_version,
            memory=check_memory_ids(memory, error=InvalidParamsError) if pins_memory else None,
            pins_memory=pins_memory,
            response_cache=check_response_cache(response_cache, error=InvalidParamsError),
        )


#: The deepest JSON nesting sent (the gateway refuses deeper bodies). Checked explicitly: whether
#: ``json.dumps`` hits ``RecursionError`` first depends on the Python version.
MAX_JSON_DEPTH = 512


def json_depth_exceeds(value: Any, limit: int) -> bool:
    """Whether ``value`` (dicts and lists) nests deeper than ``limit`` levels; iterative, so it cannot
    itself hit the recursion limit."""
    return _json_depth(value, limit) > limit


def _json_depth(value: Any, stop: Optional[int] = None) -> int:
    """How many levels of dicts and lists ``value`` nests (0 for a scalar), iteratively; the search
    ends as soon as a level deeper than ``stop`` is seen."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, Mapping):
            children: Any = item.values()
        elif isinstance(item, (list, tuple)):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if stop is not None and depth > stop:
            break
        stack.extend((child, depth + 1) for child in children if isinstance(child, (Mapping, list, tuple)))
    return deepest


def _dump(params: BaseModel, **kwargs: Any) -> Dict[str, Any]:
    """``params.model_dump(**kwargs)``; a value pydantic cannot serialise (nested too deeply for its
    recursion guard, or of an unknown type) is an ``InvalidParamsError`` naming the field."""
    try:
        return params.model_dump(**kwargs)
    except (ValueError, RecursionError) as exc:
        depths = {name: _json_depth(value) for name, value in params}
        field = max(depths, key=lambda name: depths[name]) if depths else ""
        if field and depths[field] > _DEEP:
            raise InvalidParamsError(
                f"{field} is nested {depths[field]} levels deep (dicts and lists inside one another), deeper "
                "than a request can be encoded as JSON (about 250 levels); flatten it",
                details=[{"loc": [field], "msg": "nested too deeply", "type": "too_deep"}],
            ) from None
        raise InvalidParamsError(f"The request is not valid JSON: {exc}") from None


_DEEP = 64  # a field nesting deeper than this is what stopped the serialiser (its guard is at about 255)


_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def validate_request_id(value: object) -> str:
    """A caller-chosen request id: 1 to 64 of ``A-Za-z0-9._:-`` (the gateway ignores others silently)."""
    if not isinstance(value, str) or not _REQUEST_ID.fullmatch(value):
        shown = value[:70] if isinstance(value, str) else type(value).__name__
        raise InvalidParamsError(
            f"request_id must be 1 to 64 characters of A-Z a-z 0-9 . _ : -, got {shown!r}"
        )
    return value


# RFC 9110 token characters: what a header name may contain.
_HEADER_NAME_CHARS = frozenset(
    "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)


def _check_headers(headers: Mapping[str, str], *, name: str = "extra_headers") -> None:
    """Reject headers httpx would fail on at send time (with a foreign exception, or worse, a retry).

    Values are never echoed: a header may carry a credential.
    """
    if not isinstance(headers, Mapping):
        raise InvalidParamsError(f"{name} must be a mapping, got {type(headers).__name__}")
    for key, value in headers.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise InvalidParamsError(f"{name} keys and values must be strings")
        if any(c in key or c in value for c in "\r\n\x00"):
            raise InvalidParamsError(f"{name}[{key!r}] contains a line break")
        if not key or not set(key) <= _HEADER_NAME_CHARS:
            raise InvalidParamsError(
                f"{name}: {key!r} is not a valid header name (ASCII letters, digits and !#$%&'*+-.^_`|~)"
            )
        if key.lower() in _TRANSPORT_HEADERS:
            raise InvalidParamsError(
                f"{name}: {key!r} is set by the HTTP layer from the request itself and cannot be "
                "overridden (remove it)"
            )
        if not value.isascii() or any((ord(c) < 0x20 and c != "\t") or ord(c) == 0x7F for c in value):
            raise InvalidParamsError(
                f"{name}[{key!r}] must be printable ASCII; percent-encode or base64 other text"
            )


def _describe(error: ValidationError, model: Type[BaseModel]) -> InvalidParamsError:
    details = []
    lines = []
    for item in error.errors(include_url=False):
        loc = ".".join(str(part) for part in item.get("loc", ())) or "(params)"
        msg = item.get("msg", "invalid value")
        if item.get("type") == "extra_forbidden":
            msg = f"unknown parameter for {model.__name__}"
        details.append({"loc": list(item.get("loc", ())), "msg": msg, "type": item.get("type")})
        lines.append(f"{loc}: {msg}")
    summary = "; ".join(lines[:5]) + (f"; and {len(lines) - 5} more" if len(lines) > 5 else "")
    return InvalidParamsError(f"Invalid {model.__name__}: {summary}", details=details)


def coerce_params(model: Type[M], params: object, fields: Mapping[str, Any]) -> M:
    """``params`` (a ``model`` instance, a mapping or ``None``) merged with keyword ``fields``, validated.

    When ``model`` itself has a field named ``params`` (templates), a mapping passed as ``params`` is that
    field, not the whole parameter set.
    """
    try:
        if params is None:
            return model.model_validate(dict(fields))
        if isinstance(params, model):
            if not fields:
                return params
            merged = _dump(params, exclude_unset=True)
            merged.update(fields)
            return model.model_validate(merged)
        if isinstance(params, Mapping):
            if "params" in model.model_fields:
                return model.model_validate({**fields, "params": params})
            return model.model_validate({**params, **fields})
    except ValidationError as exc:
        raise _describe(exc, model) from None
    raise InvalidParamsError(
        f"params must be a {model.__name__}, a dict, or omitted in favour of keyword arguments; "
        f"got {type(params).__name__}"
    )


def require_messages(params: BaseModel) -> None:
    """Chat-shaped calls need at least one message; an empty list would only be rejected by the gateway."""
    if not getattr(params, "messages", None):
        raise InvalidParamsError(
            "messages must contain at least one message, e.g. [{'role': 'user', 'content': 'Hello'}]",
            details=[{"loc": ["messages"], "msg": "List should have at least 1 item", "type": "too_short"}],
        )


def dump_body(params: BaseModel, options: RequestOptions, **overrides: Any) -> Dict[str, Any]:
    """The JSON body for ``params``: fields that are not ``None``, then overrides, then ``extra_body``."""
    body = _dump(params, mode="json", exclude_none=True)
    body.update(overrides)
    if options.extra_body:
        body.update(options.extra_body)
    return body


# --- the per-call options, declared once ----------------------------------------------------------------
# Every resource method takes these as keywords: its ``**kwargs`` is typed ``Unpack[...]`` of a TypedDict
# that extends ``CallOptions`` (with its params model's fields, when it has one). A new option is a key
# here plus its rule in ``RequestOptions.build``; a test keeps the two in step.


class _TimeoutOption(TypedDict, total=False):
    timeout: Optional[Union[float, httpx.Timeout]]


class _RetriesOption(TypedDict, total=False):
    max_retries: Optional[int]


class _Options(TypedDict, total=False):
    """The per-call options after ``timeout`` and ``max_retries``: a new option goes here."""

    extra_headers: Optional[Mapping[str, str]]
    extra_query: Optional[Mapping[str, Any]]
    extra_body: Optional[Mapping[str, Any]]
    total_timeout: Optional[float]
    request_id: Optional[str]
    api_version: Optional[str]
    memory: Optional[Sequence[str]]
    response_cache: Optional[bool]
    stream_idle_timeout: Optional[float]
    stream_fallback_to_blocking: Optional[bool]


class CallOptions(_TimeoutOption, _RetriesOption, _Options, total=False):
    """The per-call options every resource method accepts as keywords (see ``RequestOptions``), in the
    order ``help()`` shows them."""


class CallOptionsBase(_TimeoutOption, _Options, total=False):
    """The per-call options except ``max_retries`` (``chat.completions.parse`` gives that name another
    meaning and takes the transport's as ``request_max_retries``)."""


OPTION_NAMES = frozenset(CallOptions.__annotations__)


def split_options(kwargs: Mapping[str, Any]) -> Tuple[RequestOptions, Dict[str, Any]]:
    """A method's keyword arguments as its validated ``RequestOptions`` and the remaining fields."""
    fields = dict(kwargs)
    found = {name: fields.pop(name) for name in OPTION_NAMES.intersection(fields)}
    return RequestOptions.build(**found), fields


def call_options(kwargs: Mapping[str, Any]) -> RequestOptions:
    """The validated ``RequestOptions`` of a method that takes no other keywords.

    Any other keyword raises the ``TypeError`` Python raises for an unexpected keyword argument (the
    method's ``**kwargs`` would otherwise accept it silently).
    """
    for name in kwargs:
        if name not in OPTION_NAMES:
            code = sys._getframe(1).f_code
            method = getattr(code, "co_qualname", code.co_name)  # co_qualname: Python 3.11+
            raise TypeError(f"{method}() got an unexpected keyword argument {name!r}")
    return RequestOptions.build(**kwargs)
