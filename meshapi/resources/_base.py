"""What every resource class shares: the transport it talks through, the keyword signatures that
``help()`` shows, and the ``with_raw_response`` / ``with_streaming_response`` views (``meshapi._response``).

Resource methods take their per-call options and their params model's fields as ``**kwargs`` typed
``Unpack[SomeTypedDict]`` (the TypedDicts extend ``meshapi._core.request.CallOptions``), so each is
declared once and ``mypy --strict`` checks every keyword. ``__init_subclass__`` turns that ``**kwargs``
back into keyword-only parameters in the method's ``__signature__``, so ``help()`` and
``inspect.signature()`` list every option and field by name.
"""

from __future__ import annotations

import inspect
import sys
from typing import Any, Callable, Dict, Optional, Union

import httpx

from .._errors import InvalidParamsError
from .._response import AsyncProxy, SyncProxy
from .._transport.client import AsyncHttpClient, SyncHttpClient

__all__ = ["AsyncAPIResource", "SyncAPIResource", "TimeoutArg", "Unpack", "cursor_query", "keyword_signature"]

TimeoutArg = Optional[Union[float, httpx.Timeout]]

if sys.version_info >= (3, 11):
    from typing import Unpack
else:  # typing_extensions comes with pydantic
    from typing_extensions import Unpack

_CO_VARKEYWORDS = inspect.CO_VARKEYWORDS
_KEYWORD = inspect.Parameter.KEYWORD_ONLY


def _shown(annotation: Any) -> Any:
    """A TypedDict value as ``help()`` shows it: the source text of a forward reference."""
    return getattr(annotation, "__forward_arg__", annotation)


def keyword_signature(function: Callable[..., Any]) -> Optional[inspect.Signature]:
    """``function``'s signature with ``**kwargs: Unpack[TD]`` spelled out as keyword-only parameters
    (default ``None``: leaving a key out is the same as passing ``None``); ``None`` without one."""
    code = function.__code__
    if not code.co_flags & _CO_VARKEYWORDS:
        return None
    name = code.co_varnames[code.co_argcount + code.co_kwonlyargcount]
    annotation = function.__annotations__.get(name)
    if not isinstance(annotation, str) or not annotation.startswith("Unpack["):
        return None
    typed_dict = function.__globals__[annotation[len("Unpack[") : -1]]
    signature = inspect.signature(function)
    params = [p for p in signature.parameters.values() if p.kind is not p.VAR_KEYWORD]
    taken = {p.name for p in params}
    keys: Dict[str, Any] = typed_dict.__annotations__
    params += [inspect.Parameter(k, _KEYWORD, default=None, annotation=_shown(v)) for k, v in keys.items()]
    assert taken.isdisjoint(keys), f"{function.__qualname__}: a keyword is declared twice"
    return signature.replace(parameters=params)


def _spell_out_keywords(cls: type) -> None:
    for value in vars(cls).values():
        if inspect.isfunction(value):
            signature = keyword_signature(value)
            if signature is not None:
                value.__signature__ = signature  # type: ignore[attr-defined]


def cursor_query(after: Optional[str], limit: Optional[int]) -> Optional[Dict[str, str]]:
    """The ``after`` / ``limit`` query (``None`` when neither is given, as 0.1.4 sent it)."""
    query: Dict[str, str] = {}
    if after is not None:
        if not isinstance(after, str) or not after:
            raise InvalidParamsError(f"after must be a non-empty string (an id), got {after!r}")
        query["after"] = after
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InvalidParamsError(f"limit must be a positive integer, got {limit!r}")
        query["limit"] = str(limit)
    return query or None


class SyncAPIResource:
    def __init__(self, http: SyncHttpClient) -> None:
        self._http = http

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _spell_out_keywords(cls)

    @property
    def with_raw_response(self) -> Any:
        """The same methods, returning a ``RawResponse`` (status, headers, retries, ``parse()``)."""
        return SyncProxy(self, streaming=False)

    @property
    def with_streaming_response(self) -> Any:
        """The same methods as context managers over the unread response (``StreamedResponse``)."""
        return SyncProxy(self, streaming=True)


class AsyncAPIResource:
    def __init__(self, http: AsyncHttpClient) -> None:
        self._http = http

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _spell_out_keywords(cls)

    @property
    def with_raw_response(self) -> Any:
        """The same methods, returning a ``RawResponse`` (status, headers, retries, ``parse()``)."""
        return AsyncProxy(self, streaming=False)

    @property
    def with_streaming_response(self) -> Any:
        """The same methods as async context managers over the unread response (``AsyncStreamedResponse``)."""
        return AsyncProxy(self, streaming=True)
