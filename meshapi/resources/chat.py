"""``client.chat.completions``: ``POST /v1/chat/completions``, plain, streamed and structured.

Keyword arguments are typed (``ChatCompletionFields``), so ``mypy --strict`` rejects a misspelled or
wrongly typed keyword; ``create(stream=True)`` is typed to return the stream object. The structured
output logic (schemas, parsing, correction retries) lives in ``lib/_parsing.py``; these methods only
send and hand replies to it. The first ``@overload`` of ``create`` and of ``parse`` is the plain one on
purpose: it is the signature ``with_raw_response`` is typed with (``resources/_base.py``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Dict, Literal, Mapping, Optional, Tuple, Type, TypeVar, Union, overload

from .. import _warmup
from .._core.request import CallOptions, CallOptionsBase, RequestOptions, dump_body, split_options
from .._errors import APITimeoutError
from .._resilience import with_fallback
from ..lib._parsing import StructuredCall, apply_parsed
from ..lib.chat import AsyncChatCompletionStream, ChatCompletionStream, blocking_as_stream
from ..lib.chat_request import (
    decoder_for,
    prepare,
    raise_missing_format,
    streams_internally,
    with_stream_hint,
)
from ..types.chat import ChatCompletionFields, ChatCompletionParams, ChatCompletionResponse
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
    sub_views,
    view,
)

__all__ = ["AsyncChatResource", "AsyncCompletionsResource", "ChatResource", "CompletionsResource"]

_PATH = "/v1/chat/completions"
T = TypeVar("T")


class ChatArgs(ChatCompletionFields, CallOptions, total=False):
    """The keywords of ``create`` and ``stream``: the chat fields and the per-call options."""


class ChatCreateArgs(ChatArgs, total=False):
    """The keywords of ``create``: those of ``stream``, and ``stream_internally`` (never sent)."""

    #: without ``stream``: stream under the hood and return the same completion (the client's default)
    stream_internally: bool


class ChatParseArgs(ChatCompletionFields, CallOptionsBase, total=False):
    """The keywords of ``parse``: ``max_retries`` re-asks there, so the transport's is ``request_max_retries``."""

    request_max_retries: Optional[int]


def _parse_options(kwargs: Mapping[str, Any]) -> Tuple[RequestOptions, Dict[str, Any]]:
    """``parse``'s options (``request_max_retries`` is the transport's ``max_retries``) and its fields."""
    fields = dict(kwargs)
    retries = fields.pop("request_max_retries", None)
    opts, fields = split_options({**fields, "max_retries": retries})
    return with_fallback(opts, fields), fields


class CompletionsResource(SyncAPIResource["CompletionsViews[Raw]", "CompletionsViews[Streaming]"]):
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
    AsyncAPIResource["CompletionsViews[AsyncRaw]", "CompletionsViews[AsyncStreaming]"]
):
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
        await _warmup.ready()  # the validators this builds: off the event loop (meshapi/_warmup.py)
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
