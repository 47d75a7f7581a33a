"""``client.chat.completions``: ``POST /v1/chat/completions``, plain, streamed and structured.

Keyword arguments are typed (``ChatCompletionFields``), so ``mypy --strict`` rejects a misspelled or
wrongly typed keyword; ``create(stream=True)`` is typed to return the stream object. The structured
output logic (schemas, parsing, correction retries) lives in ``lib/_parsing.py``; these methods only
send and hand replies to it. The first ``@overload`` of ``create`` and of ``parse`` is the plain one on
purpose: it is the signature ``with_raw_response`` is typed with (``resources/_base.py``).

The chat models, the stream classes and the keyword TypedDicts are imported by :func:`_load`, not at the
top: ``client.chat`` is often first read inside a running event loop, where building them would stall it
for about 100 ms (``meshapi._warmup`` builds them in a thread instead). ``run_tools`` comes from
``_chat_tool_runs.py`` (its runners are imported by the first run; see there)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, Dict, Literal, Mapping, Optional, Tuple, Type, TypeVar, Union, overload

from .. import _warmup
from .._core.request import RequestOptions, dump_body, split_options
from .._errors import APITimeoutError
from .._resilience import with_fallback
from ._base import (
    AsyncAPIResource,
    AsyncRaw,
    AsyncStreaming,
    M,
    Raw,
    Streaming,
    SyncAPIResource,
    Unpack,
    Views,
    spell_out_keywords,
    sub_views,
    view,
)
from ._chat_tool_runs import AsyncChatToolRuns, ChatToolRuns, offer
from ._lazy import LazyNames

if TYPE_CHECKING:  # at run time: _load()
    from ..lib._parsing import StructuredCall, apply_parsed
    from ..lib.chat import AsyncChatCompletionStream, ChatCompletionStream, blocking_as_stream
    from ..lib.chat_request import (
        ChatArgs,
        ChatCreateArgs,
        ChatParseArgs,
        decoder_for,
        prepare,
        raise_missing_format,
        streams_internally,
        with_stream_hint,
    )
    from ..types.chat import ChatCompletionParams, ChatCompletionResponse

__all__ = ["AsyncChatResource", "AsyncCompletionsResource", "ChatResource", "CompletionsResource"]

_PATH = "/v1/chat/completions"
T = TypeVar("T")


def _import() -> Dict[str, Any]:
    """What the methods use (the chat models, their streams, structured outputs) and the names of
    ``run_tools``' signature (``_chat_tool_runs.offer``); why not at the top: the module docstring. The warm-up thread
    runs :func:`_load` inside a loop, else the import does; methods make sure of it (``_lazy.py``)."""
    from ..lib._parsing import StructuredCall, apply_parsed
    from ..lib.chat import AsyncChatCompletionStream, ChatCompletionStream, blocking_as_stream
    from ..lib.chat_request import (
        ChatArgs,
        ChatCreateArgs,
        ChatParseArgs,
        ToolRunArgs,
        decoder_for,
        prepare,
        raise_missing_format,
        streams_internally,
        with_stream_hint,
    )
    from ..types.chat import ChatCompletionParams, ChatCompletionResponse

    return {
        "ToolRunArgs": ToolRunArgs,
        "StructuredCall": StructuredCall,
        "apply_parsed": apply_parsed,
        "AsyncChatCompletionStream": AsyncChatCompletionStream,
        "ChatCompletionStream": ChatCompletionStream,
        "ChatArgs": ChatArgs,
        "ChatCreateArgs": ChatCreateArgs,
        "blocking_as_stream": blocking_as_stream,
        "streams_internally": streams_internally,
        "with_stream_hint": with_stream_hint,
        "ChatParseArgs": ChatParseArgs,
        "decoder_for": decoder_for,
        "prepare": prepare,
        "raise_missing_format": raise_missing_format,
        "ChatCompletionParams": ChatCompletionParams,
        "ChatCompletionResponse": ChatCompletionResponse,
    }


def _spell_out() -> None:
    """Once the names are there: the methods' keywords for ``help()`` (``_base.spell_out_keywords``)."""
    for resource in (CompletionsResource, AsyncCompletionsResource):
        spell_out_keywords(resource)
    offer(globals())  # run_tools' signature names: help() spells its keywords out too


_lazy = LazyNames(globals(), _import, then=_spell_out)
_load = _lazy.load  # the warm-up thread and another thread's client at once: one of them does it
_ready = _lazy.ready  # what an async method awaits first: the warm-up's builds (off the loop), then _load

if not TYPE_CHECKING:  # (the type checker sees the names under TYPE_CHECKING above)
    __getattr__ = _lazy.module_getattr


def _parse_options(kwargs: Mapping[str, Any]) -> Tuple[RequestOptions, Dict[str, Any]]:
    """``parse``'s options (``request_max_retries`` is the transport's ``max_retries``) and its fields."""
    fields = dict(kwargs)
    retries = fields.pop("request_max_retries", None)
    opts, fields = split_options({**fields, "max_retries": retries})
    return with_fallback(opts, fields), fields


class CompletionsResource(
    ChatToolRuns, SyncAPIResource["CompletionsViews[Raw]", "CompletionsViews[Streaming]"]
):
    def __init__(self, http: Any) -> None:
        super().__init__(http)
        _load()  # a blocking client: whatever it still imports, it imports now

    @overload
    def create(
        self,
        params: Optional[ChatCompletionParams] = None,
        *,
        stream: Optional[Literal[False]] = None,
        response_format: Any = None,
        **kwargs: Unpack[ChatCreateArgs],
    ) -> ChatCompletionResponse: ...
    @overload
    def create(
        self,
        params: Optional[ChatCompletionParams] = None,
        *,
        stream: Literal[True],
        response_format: Any = None,
        **kwargs: Unpack[ChatCreateArgs],
    ) -> ChatCompletionStream: ...
    def create(
        self,
        params: Optional[ChatCompletionParams] = None,
        *,
        stream: Optional[bool] = None,
        response_format: Any = None,
        **kwargs: Unpack[ChatCreateArgs],
    ) -> Union[ChatCompletionResponse, ChatCompletionStream]:
        """Create a chat completion; with ``stream=True``, the stream of :meth:`stream`, already open.

        With ``stream=True`` the request is sent and its status awaited before this returns, so an HTTP
        error (``RateLimitError``, ``NotFoundError``, ...) is raised here, not at the first chunk
        (:meth:`stream` stays lazy). Close the stream (or read it to the end) to release the connection.

        Pass a ``ChatCompletionParams`` or its fields as keywords. ``response_format``: a model class (or
        any type pydantic validates) fills ``choices[i].message.parsed``; a dict is sent as it is. A
        ``stream`` inside the params is ignored (as in 0.1.4). ``timeout`` is this call's HTTP timeout.
        ``stream_internally=True`` (or the client's default) streams under the hood and returns the same
        completion, so a long generation is bounded by ``stream_idle_timeout``, not by one read.
        Raises ``InvalidParamsError`` before sending when the arguments are invalid.
        """
        args: Dict[str, Any] = dict(kwargs)
        internally = streams_internally(args, self._http.config.stream_internally)
        if stream:
            return self.stream(params, response_format=response_format, **args).open()
        if internally:  # the same reply, streamed
            return self.stream(params, response_format=response_format, **args).get_final_completion()
        opts, fields = split_options(args)
        opts = with_fallback(opts, fields)
        parsed, fmt, tools = prepare(params, fields, response_format, dict_is_schema=False)
        body = dump_body(parsed, opts, stream=False)
        try:
            response = self._http.request_model(
                ChatCompletionResponse, "POST", _PATH, body=body, options=opts
            )
        except APITimeoutError as exc:
            with_stream_hint(exc)  # says how a long generation avoids it
            raise
        return apply_parsed(response, fmt, tools) if fmt is not None or tools else response

    def stream(
        self,
        params: Optional[ChatCompletionParams] = None,
        *,
        response_format: Any = None,
        **kwargs: Unpack[ChatArgs],
    ) -> ChatCompletionStream:
        """Stream a chat completion as ``ChatCompletionChunk`` items, or typed events (``events()``).

        Lazy: nothing is sent before the first item (or the ``with`` block, or ``open()``). Ends after
        ``[DONE]``; a cut raises ``StreamInterruptedError``, an error frame ``StreamEventError``;
        ``close()`` releases it. With ``stream_fallback_to_blocking`` a stream that cannot be opened after
        its retries is answered by one non-streaming call, delivered as this stream.
        """
        opts, fields = split_options(kwargs)
        opts = replace(with_fallback(opts, fields), blocking_as_stream=blocking_as_stream)
        parsed, fmt, tools = prepare(params, fields, response_format, dict_is_schema=False)
        body = dump_body(parsed, opts, stream=True)
        http = self._http
        return ChatCompletionStream(
            lambda: http.send("POST", _PATH, body=body, options=opts, stream=True),
            decoder_for(fmt, tools),
            max_event_bytes=http.config.max_response_bytes,
        )

    @overload
    def parse(
        self,
        params: Optional[ChatCompletionParams] = None,
        *,
        response_format: Type[T],
        max_retries: int = 0,
        **kwargs: Unpack[ChatParseArgs],
    ) -> T: ...
    @overload
    def parse(
        self,
        params: Optional[ChatCompletionParams],
        response_format: Type[T],
        *,
        max_retries: int = 0,
        **kwargs: Unpack[ChatParseArgs],
    ) -> T: ...
    @overload
    def parse(
        self,
        params: Optional[ChatCompletionParams] = None,
        response_format: Any = None,
        *,
        max_retries: int = 0,
        **kwargs: Unpack[ChatParseArgs],
    ) -> Any: ...
    def parse(
        self,
        params: Optional[ChatCompletionParams] = None,
        response_format: Any = None,
        *,
        max_retries: int = 0,
        **kwargs: Unpack[ChatParseArgs],
    ) -> Any:
        """Ask for a structured answer and return it validated (0.1.12's ``parse``).

        ``response_format``: a model class (an instance back), any ``TypeAdapter`` type (its value), or a
        dict (a ``json_schema`` format or the schema itself; the decoded JSON). ``max_retries``: re-asks
        with the error when a reply does not fit (each billed); ``request_max_retries``: the transport's.
        Raises ``StructuredOutputError`` (``content``: the raw reply, ``cause``) when no reply fits.
        """
        opts, fields = _parse_options(kwargs)
        if response_format is None:
            raise_missing_format()
        parsed, fmt, _ = prepare(params, fields, response_format, dict_is_schema=True)
        assert fmt is not None
        call = StructuredCall(fmt, dump_body(parsed, opts, stream=False), max_retries)
        while True:
            reply = self._http.request_model(
                ChatCompletionResponse, "POST", _PATH, body=call.body, options=opts
            )
            done, value = call.accept(reply)
            if done:
                return value


class AsyncCompletionsResource(
    AsyncChatToolRuns, AsyncAPIResource["CompletionsViews[AsyncRaw]", "CompletionsViews[AsyncStreaming]"]
):
    def __init__(self, http: Any) -> None:
        super().__init__(http)  # no _load() here: this may run inside the loop (see _load)

    @overload
    async def create(
        self,
        params: Optional[ChatCompletionParams] = None,
        *,
        stream: Optional[Literal[False]] = None,
        response_format: Any = None,
        **kwargs: Unpack[ChatCreateArgs],
    ) -> ChatCompletionResponse: ...
    @overload
    async def create(
        self,
        params: Optional[ChatCompletionParams] = None,
        *,
        stream: Literal[True],
        response_format: Any = None,
        **kwargs: Unpack[ChatCreateArgs],
    ) -> AsyncChatCompletionStream: ...
    async def create(
        self,
        params: Optional[ChatCompletionParams] = None,
        *,
        stream: Optional[bool] = None,
        response_format: Any = None,
        **kwargs: Unpack[ChatCreateArgs],
    ) -> Union[ChatCompletionResponse, AsyncChatCompletionStream]:
        """Create a chat completion; with ``stream=True``, the stream of :meth:`stream`, already open.

        With ``stream=True`` the request is sent and its status awaited before this returns, so an HTTP
        error (``RateLimitError``, ``NotFoundError``, ...) is raised here, not at the first chunk
        (:meth:`stream` stays lazy). Close the stream (or read it to the end) to release the connection.

        Pass a ``ChatCompletionParams`` or its fields as keywords. ``response_format``: a model class (or
        any type pydantic validates) fills ``choices[i].message.parsed``; a dict is sent as it is. A
        ``stream`` inside the params is ignored (as in 0.1.4). ``timeout`` is this call's HTTP timeout.
        ``stream_internally=True`` (or the client's default) streams under the hood and returns the same
        completion, so a long generation is bounded by ``stream_idle_timeout``, not by one read.
        Raises ``InvalidParamsError`` before sending when the arguments are invalid.
        """
        await _ready()  # the models and validators this uses: built off the event loop (meshapi/_warmup.py)
        args: Dict[str, Any] = dict(kwargs)
        internally = streams_internally(args, self._http.config.stream_internally)
        if stream:
            return await self.stream(params, response_format=response_format, **args).open()
        if internally:
            return await self.stream(params, response_format=response_format, **args).get_final_completion()
        opts, fields = split_options(args)
        opts = with_fallback(opts, fields)
        parsed, fmt, tools = prepare(params, fields, response_format, dict_is_schema=False)
        body = dump_body(parsed, opts, stream=False)
        try:
            response = await self._http.request_model(
                ChatCompletionResponse, "POST", _PATH, body=body, options=opts
            )
        except APITimeoutError as exc:
            with_stream_hint(exc)
            raise
        return apply_parsed(response, fmt, tools) if fmt is not None or tools else response

    def stream(
        self,
        params: Optional[ChatCompletionParams] = None,
        *,
        response_format: Any = None,
        **kwargs: Unpack[ChatArgs],
    ) -> AsyncChatCompletionStream:
        """Stream a chat completion as ``ChatCompletionChunk`` items, or typed events (``events()``).

        Lazy: nothing is sent before the first item (or the ``with`` block, or ``open()``). Ends after
        ``[DONE]``; a cut raises ``StreamInterruptedError``, an error frame ``StreamEventError``;
        ``close()`` releases it. With ``stream_fallback_to_blocking`` a stream that cannot be opened after
        its retries is answered by one non-streaming call, delivered as this stream.
        """
        _load()
        opts, fields = split_options(kwargs)
        opts = replace(with_fallback(opts, fields), blocking_as_stream=blocking_as_stream)
        parsed, fmt, tools = prepare(params, fields, response_format, dict_is_schema=False)
        body = dump_body(parsed, opts, stream=True)
        http = self._http
        return AsyncChatCompletionStream(
            lambda: http.send("POST", _PATH, body=body, options=opts, stream=True),
            decoder_for(fmt, tools),
            max_event_bytes=http.config.max_response_bytes,
        )

    @overload
    async def parse(
        self,
        params: Optional[ChatCompletionParams] = None,
        *,
        response_format: Type[T],
        max_retries: int = 0,
        **kwargs: Unpack[ChatParseArgs],
    ) -> T: ...
    @overload
    async def parse(
        self,
        params: Optional[ChatCompletionParams],
        response_format: Type[T],
        *,
        max_retries: int = 0,
        **kwargs: Unpack[ChatParseArgs],
    ) -> T: ...
    @overload
    async def parse(
        self,
        params: Optional[ChatCompletionParams] = None,
        response_format: Any = None,
        *,
        max_retries: int = 0,
        **kwargs: Unpack[ChatParseArgs],
    ) -> Any: ...
    async def parse(
        self,
        params: Optional[ChatCompletionParams] = None,
        response_format: Any = None,
        *,
        max_retries: int = 0,
        **kwargs: Unpack[ChatParseArgs],
    ) -> Any:
        """Ask for a structured answer and return it validated (0.1.12's ``parse``).

        ``response_format``: a model class (an instance back), any ``TypeAdapter`` type (its value), or a
        dict (a ``json_schema`` format or the schema itself; the decoded JSON). ``max_retries``: re-asks
        with the error when a reply does not fit (each billed); ``request_max_retries``: the transport's.
        Raises ``StructuredOutputError`` (``content``: the raw reply, ``cause``) when no reply fits.
        """
        await _ready()
        opts, fields = _parse_options(kwargs)
        if response_format is None:
            raise_missing_format()
        parsed, fmt, _ = prepare(params, fields, response_format, dict_is_schema=True)
        assert fmt is not None
        call = StructuredCall(fmt, dump_body(parsed, opts, stream=False), max_retries)
        while True:
            reply = await self._http.request_model(
                ChatCompletionResponse, "POST", _PATH, body=call.body, options=opts
            )
            done, value = call.accept(reply)
            if done:
                return value


class CompletionsViews(Views[M]):
    """The typed ``with_raw_response`` / ``with_streaming_response`` of ``CompletionsResource`` and its twin."""

    create = view(CompletionsResource.create, AsyncCompletionsResource.create)
    stream = view(CompletionsResource.stream, AsyncCompletionsResource.stream)
    # generic in its result (response_format: Type[T]): the view gives RawResponse[Any]
    parse = view(CompletionsResource.parse, AsyncCompletionsResource.parse)  # type: ignore[var-annotated]


class ChatResource(SyncAPIResource["ChatViews[Raw]", "ChatViews[Streaming]"]):
    """``client.chat``: holds ``completions``."""

    def __init__(self, http: Any) -> None:
        super().__init__(http)
        self.completions = CompletionsResource(http)


class AsyncChatResource(AsyncAPIResource["ChatViews[AsyncRaw]", "ChatViews[AsyncStreaming]"]):
    """``client.chat``: holds ``completions``."""

    def __init__(self, http: Any) -> None:
        super().__init__(http)
        self.completions = AsyncCompletionsResource(http)


class ChatViews(Views[M]):
    """The typed ``with_raw_response`` / ``with_streaming_response`` of ``ChatResource`` and its twin."""

    completions = sub_views(CompletionsResource, AsyncCompletionsResource)


_warmup.after(_load)  # now, unless the warm-up runs and this is an event loop's thread (then: at its end)
