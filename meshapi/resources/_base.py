"""What every resource class shares: the transport it talks through, the keyword signatures that
``help()`` shows, and the ``with_raw_response`` / ``with_streaming_response`` views (``meshapi._response``).

Resource methods take their per-call options and their params model's fields as ``**kwargs`` typed
``Unpack[SomeTypedDict]`` (the TypedDicts extend ``meshapi._core.request.CallOptions``), so each is
declared once and ``mypy --strict`` checks every keyword. ``__init_subclass__`` turns that ``**kwargs``
back into keyword-only parameters in the method's ``__signature__``, so ``help()`` and
``inspect.signature()`` list every option and field by name (a module that imports its TypedDicts on
first use, ``chat.py``, calls ``spell_out_keywords`` itself once it has them).

The views keep the methods' types without a class per view. At run time ``with_raw_response`` is one
generic proxy (``meshapi._response``) that wraps whatever method is asked for. For the type checker,
each resource module declares one ``Views`` class, one line per method naming both twins
(``create = view(EmbeddingsResource.create, AsyncEmbeddingsResource.create)``), and each resource names
it in its base (``SyncAPIResource["EmbeddingsViews[Raw]", "EmbeddingsViews[Streaming]"]``). ``view`` is
a ParamSpec descriptor: read from ``EmbeddingsViews[Raw]`` it is the method's exact parameters returning
``RawResponse[R]``; from ``[Streaming]`` a context manager over ``StreamedResponse[R]``; from
``[AsyncRaw]`` / ``[AsyncStreaming]`` the async forms. ``sub_views`` does the same for a sub-resource
(``client.chat.with_raw_response.completions``). Python's types cannot map a class's methods, so the
lines are unavoidable; ``tests/unit/test_raw_views.py`` derives from the clients that every method that
sends has its line, so nothing drifts. Methods returning an iterator (``iter_batches``) have none: they
send nothing when called, so a raw view of them would always fail.

A ParamSpec sees one signature of an overloaded method, its first ``@overload``: chat ``create`` lists
its plain (``stream`` false) variant first, so ``with_raw_response.create(...)`` is typed
``RawResponse[ChatCompletionResponse]`` and ``stream=True`` there is rejected (it works at run time; the
typed way is ``with_raw_response.stream(...)``). A method generic in its result (``parse``'s
``response_format: Type[T]``) gives ``RawResponse[Any]``: an attribute cannot stay generic.
"""

from __future__ import annotations

import inspect
import sys
from dataclasses import dataclass
from typing import (
    TYPE_CHECKING,
    Any,
    AsyncContextManager,
    Callable,
    ContextManager,
    Coroutine,
    Dict,
    Generic,
    Mapping,
    Optional,
    Type,
    TypeVar,
    Union,
    cast,
    overload,
)

import httpx

from .._core.request import RequestOptions, model_path
from .._errors import InvalidParamsError
from .._transport.client import AsyncHttpClient, SyncHttpClient

if TYPE_CHECKING:  # imported by the views' properties when first read: client.chat is often read on a loop
    from .._response import AsyncStreamedResponse, RawResponse, StreamedResponse

__all__ = [
    "AsyncAPIResource",
    "AsyncRaw",
    "AsyncStreaming",
    "NamedViews",
    "Planned",
    "Raw",
    "Streaming",
    "SyncAPIResource",
    "TimeoutArg",
    "Unpack",
    "Views",
    "cursor_query",
    "keyword_signature",
    "model_path",
    "spell_out_keywords",
    "sub_views",
    "view",
]

TimeoutArg = Optional[Union[float, httpx.Timeout]]

if sys.version_info >= (3, 11):
    from typing import Unpack
else:  # typing_extensions comes with pydantic
    from typing_extensions import Unpack

if sys.version_info >= (3, 10):
    from typing import Concatenate, ParamSpec
else:
    from typing_extensions import Concatenate, ParamSpec

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
    typed_dict = function.__globals__.get(annotation[len("Unpack[") : -1])
    if typed_dict is None:  # a module that imports it on first use: spell_out_keywords() again then
        return None
    signature = inspect.signature(function)
    params = [p for p in signature.parameters.values() if p.kind is not p.VAR_KEYWORD]
    taken = {p.name for p in params}
    keys: Dict[str, Any] = typed_dict.__annotations__
    params += [inspect.Parameter(k, _KEYWORD, default=None, annotation=_shown(v)) for k, v in keys.items()]
    assert taken.isdisjoint(keys), f"{function.__qualname__}: a keyword is declared twice"
    return signature.replace(parameters=params)


def spell_out_keywords(cls: type) -> None:
    """Give ``cls``'s methods with ``**kwargs: Unpack[TD]`` their spelled-out ``__signature__`` (once)."""
    for value in vars(cls).values():
        if inspect.isfunction(value) and "__signature__" not in vars(value):
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


T = TypeVar("T")


@dataclass(frozen=True)
class Planned(Generic[T]):
    """One request as a resource method plans it, without I/O: what to send and how to read the answer.

    Built by a module's pure function, shared by both twins: each twin method is then one line,
    ``return self._call(plan)`` or ``return await self._call(plan)``.
    """

    decode: Callable[[httpx.Response], T]
    method: str
    path: str
    options: RequestOptions
    body: Any = None
    params: Optional[Mapping[str, Any]] = None


# --- the typed views ---------------------------------------------------------------------------------

P = ParamSpec("P")
AP = ParamSpec("AP")
R = TypeVar("R")
AR = TypeVar("AR")
M = TypeVar("M")
RawV = TypeVar("RawV")
StreamingV = TypeVar("StreamingV")
AsyncRawV = TypeVar("AsyncRawV")
AsyncStreamingV = TypeVar("AsyncStreamingV")


class Raw:
    """Mode of ``Views``: ``with_raw_response`` of a sync resource."""


class Streaming:
    """Mode of ``Views``: ``with_streaming_response`` of a sync resource."""


class AsyncRaw:
    """Mode of ``Views``: ``with_raw_response`` of an async resource."""


class AsyncStreaming:
    """Mode of ``Views``: ``with_streaming_response`` of an async resource."""


class Views(Generic[M]):
    """The static shape of a resource's views, in mode ``M``: one ``view`` / ``sub_views`` line per
    method or sub-resource. Never instantiated (the views are ``meshapi._response`` proxies)."""


class ViewMethod(Generic[P, R, AP, AR]):
    """One method in its four views (see the module docstring); ``sync`` / ``async_`` are the twins."""

    def __init__(self, sync: Callable[..., Any], async_: Callable[..., Any]) -> None:
        self.sync = sync
        self.async_ = async_

    if TYPE_CHECKING:

        @overload
        def __get__(self, obj: Views[Raw], owner: Any) -> Callable[P, RawResponse[R]]: ...
        @overload
        def __get__(
            self, obj: Views[Streaming], owner: Any
        ) -> Callable[P, ContextManager[StreamedResponse[R]]]: ...
        @overload
        def __get__(
            self, obj: Views[AsyncRaw], owner: Any
        ) -> Callable[AP, Coroutine[Any, Any, RawResponse[AR]]]: ...
        @overload
        def __get__(
            self, obj: Views[AsyncStreaming], owner: Any
        ) -> Callable[AP, AsyncContextManager[AsyncStreamedResponse[AR]]]: ...
        def __get__(self, obj: Any, owner: Any) -> Any: ...


@overload
def view(
    sync: Callable[Concatenate[Any, P], R], async_: Callable[Concatenate[Any, AP], Coroutine[Any, Any, AR]]
) -> ViewMethod[P, R, AP, AR]: ...
@overload
def view(
    sync: Callable[Concatenate[Any, P], R], async_: Callable[Concatenate[Any, AP], AR]
) -> ViewMethod[P, R, AP, AR]: ...
def view(sync: Callable[..., Any], async_: Callable[..., Any]) -> Any:
    """The views of a method, from its sync and async twins (an ``async def`` counts as what it returns
    when awaited; a plain ``def`` on the async side, ``stream()``, as what it returns)."""
    return ViewMethod(sync, async_)


class SubViews(Generic[RawV, StreamingV, AsyncRawV, AsyncStreamingV]):
    """A sub-resource in the four views: the views its own class declares."""

    def __init__(self, sync: type, async_: type) -> None:
        self.sync = sync
        self.async_ = async_

    if TYPE_CHECKING:

        @overload
        def __get__(self, obj: Views[Raw], owner: Any) -> RawV: ...
        @overload
        def __get__(self, obj: Views[Streaming], owner: Any) -> StreamingV: ...
        @overload
        def __get__(self, obj: Views[AsyncRaw], owner: Any) -> AsyncRawV: ...
        @overload
        def __get__(self, obj: Views[AsyncStreaming], owner: Any) -> AsyncStreamingV: ...
        def __get__(self, obj: Any, owner: Any) -> Any: ...


def sub_views(
    sync: Type[SyncAPIResource[RawV, StreamingV]], async_: Type[AsyncAPIResource[AsyncRawV, AsyncStreamingV]]
) -> SubViews[RawV, StreamingV, AsyncRawV, AsyncStreamingV]:
    """The views of a sub-resource (``completions = sub_views(CompletionsResource, ...)``)."""
    return SubViews(sync, async_)


# --- the bases --------------------------------------------------------------------------------------


class NamedViews:
    """``SyncAPIResource["XViews[Raw]", "XViews[Streaming]"]`` at run time: a typing alias would compile
    both strings at import for the type checker's sake only, so the subscript gives the class itself as
    the base (``__mro_entries__``) and keeps the strings, in the subclass's ``__orig_bases__``, for the
    test that checks them."""

    def __init__(self, origin: type, views: Any) -> None:
        self.origin = origin
        self.views = views

    def __mro_entries__(self, bases: Any) -> Any:
        return (self.origin,)


class SyncAPIResource(Generic[RawV, StreamingV]):
    """A sync resource; ``RawV`` / ``StreamingV``: its ``Views`` class in modes ``Raw`` / ``Streaming``."""

    def __init__(self, http: SyncHttpClient) -> None:
        self._http = http

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        spell_out_keywords(cls)

    def _call(self, plan: Planned[T]) -> T:
        """Send a planned request and read its answer."""
        return plan.decode(
            self._http.send(plan.method, plan.path, body=plan.body, params=plan.params, options=plan.options)
        )

    if not TYPE_CHECKING:

        def __class_getitem__(cls, views):
            return NamedViews(cls, views)

    @property
    def with_raw_response(self) -> RawV:
        """The same methods, returning a ``RawResponse`` (status, headers, retries, ``parse()``)."""
        from .._response import SyncProxy

        return cast(RawV, SyncProxy(self, streaming=False))

    @property
    def with_streaming_response(self) -> StreamingV:
        """The same methods as context managers over the unread response (``StreamedResponse``)."""
        from .._response import SyncProxy

        return cast(StreamingV, SyncProxy(self, streaming=True))


class AsyncAPIResource(Generic[RawV, StreamingV]):
    """An async resource; ``RawV`` / ``StreamingV``: its ``Views`` in ``AsyncRaw`` / ``AsyncStreaming``."""

    def __init__(self, http: AsyncHttpClient) -> None:
        self._http = http

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        spell_out_keywords(cls)

    async def _call(self, plan: Planned[T]) -> T:
        """Send a planned request and read its answer."""
        response = await self._http.send(
            plan.method, plan.path, body=plan.body, params=plan.params, options=plan.options
        )
        return plan.decode(response)

    if not TYPE_CHECKING:

        def __class_getitem__(cls, views):
            return NamedViews(cls, views)

    @property
    def with_raw_response(self) -> RawV:
        """The same methods, returning a ``RawResponse`` (status, headers, retries, ``parse()``)."""
        from .._response import AsyncProxy

        return cast(RawV, AsyncProxy(self, streaming=False))

    @property
    def with_streaming_response(self) -> StreamingV:
        """The same methods as async context managers over the unread response (``AsyncStreamedResponse``)."""
        from .._response import AsyncProxy

        return cast(StreamingV, AsyncProxy(self, streaming=True))
