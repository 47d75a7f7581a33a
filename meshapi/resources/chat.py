"""``client.chat.completions``: ``POST /v1/chat/completions``, plain, streamed and structured.

Keyword arguments are typed (``ChatCompletionFields``), so ``mypy --strict`` rejects a misspelled or
wrongly typed keyword; ``create(stream=True)`` is typed to return the stream object. The structured
output logic (schemas, parsing, correction retries) lives in ``lib/_parsing.py``; these methods only
send and hand replies to it.
"""

from __future__ import annotations

import sys
from typing import Any, Literal, Mapping, Optional, Type, TypeVar, Union, overload

from .._core.request import dump_body
from .._resilience import with_fallback
from ..lib._parsing import StructuredCall, apply_parsed
from ..lib.chat import AsyncChatCompletionStream, ChatCompletionStream
from ..lib.chat_request import decoder_for, prepare, raise_missing_format
from ..types.chat import ChatCompletionFields, ChatCompletionParams, ChatCompletionResponse
from ._base import AsyncAPIResource, SyncAPIResource, TimeoutArg, options

if sys.version_info >= (3, 11):
    from typing import Unpack
else:  # typing_extensions comes with pydantic
    from typing_extensions import Unpack

__all__ = ["AsyncChatResource", "AsyncCompletionsResource", "ChatResource", "CompletionsResource"]

_PATH = "/v1/chat/completions"
T = TypeVar("T")


class CompletionsResource(SyncAPIResource):
    @overload
    def create(
        self,
        params: Optional[ChatCompletionParams] = None,
        *,
        stream: Literal[True],
        response_format: Any = None,
        timeout: TimeoutArg = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        **fields: Unpack[ChatCompletionFields],
    ) -> ChatCompletionStream: ...
    @overload
    def create(
        self,
        params: Optional[ChatCompletionParams] = None,
        *,
        stream: Optional[Literal[False]] = None,
        response_format: Any = None,
        timeout: TimeoutArg = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        **fields: Unpack[ChatCompletionFields],
    ) -> ChatCompletionResponse: ...
    def create(
        self,
        params: Optional[ChatCompletionParams] = None,
        *,
        stream: Optional[bool] = None,
        response_format: Any = None,
        timeout: TimeoutArg = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        **fields: Any,
    ) -> Union[ChatCompletionResponse, ChatCompletionStream]:
        """Create a chat completion; with ``stream=True``, the same stream object :meth:`stream` returns.

        Pass a ``ChatCompletionParams`` or its fields as keywords. ``response_format``: a model class (or
        any type pydantic validates) fills ``choices[i].message.parsed``; a dict is sent as it is. A
        ``stream`` inside the params is ignored (as in 0.1.4). ``timeout`` is this call's HTTP timeout.
        Raises ``InvalidParamsError`` before sending when the arguments are invalid.
        """
        opts = options(
            timeout,
            extra_headers,
            extra_body,
            extra_query=extra_query,
            max_retries=max_retries,
            total_timeout=total_timeout,
            request_id=request_id,
        )
        opts = with_fallback(opts, fields)
        parsed, fmt, tools = prepare(params, fields, response_format, dict_is_schema=False)
        if stream:
            body = dump_body(parsed, opts, stream=True)
            http = self._http
            return ChatCompletionStream(
                lambda: http.send("POST", _PATH, body=body, options=opts, stream=True),
                decoder_for(fmt, tools),
                max_event_bytes=http.config.max_response_bytes,
            )
        body = dump_body(parsed, opts, stream=False)
        response = self._http.request_model(ChatCompletionResponse, "POST", _PATH, body=body, options=opts)
        return apply_parsed(response, fmt, tools) if fmt is not None or tools else response

    def stream(
        self,
        params: Optional[ChatCompletionParams] = None,
        *,
        response_format: Any = None,
        timeout: TimeoutArg = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        **fields: Unpack[ChatCompletionFields],
    ) -> ChatCompletionStream:
        """Stream a chat completion as ``ChatCompletionChunk`` items, or typed events (``events()``).

        Lazy: nothing is sent before the first item (or the ``with`` block). Ends after ``[DONE]``; a cut
        raises ``StreamInterruptedError``, an error frame ``StreamEventError``; ``close()`` releases it.
        """
        opts = options(
            timeout,
            extra_headers,
            extra_body,
            extra_query=extra_query,
            max_retries=max_retries,
            total_timeout=total_timeout,
            request_id=request_id,
        )
        opts = with_fallback(opts, fields)
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
        params: Optional[ChatCompletionParams],
        response_format: Type[T],
        *,
        max_retries: int = 0,
        timeout: TimeoutArg = None,
        request_max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        **fields: Unpack[ChatCompletionFields],
    ) -> T: ...
    @overload
    def parse(
        self,
        params: Optional[ChatCompletionParams] = None,
        *,
        response_format: Type[T],
        max_retries: int = 0,
        timeout: TimeoutArg = None,
        request_max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        **fields: Unpack[ChatCompletionFields],
    ) -> T: ...
    @overload
    def parse(
        self,
        params: Optional[ChatCompletionParams] = None,
        response_format: Any = None,
        *,
        max_retries: int = 0,
        timeout: TimeoutArg = None,
        request_max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        **fields: Unpack[ChatCompletionFields],
    ) -> Any: ...
    def parse(
        self,
        params: Optional[ChatCompletionParams] = None,
        response_format: Any = None,
        *,
        max_retries: int = 0,
        timeout: TimeoutArg = None,
        request_max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        **fields: Any,
    ) -> Any:
        """Ask for a structured answer and return it validated (0.1.12's ``parse``).

        ``response_format``: a model class (an instance back), any ``TypeAdapter`` type (its value), or a
        dict (a ``json_schema`` format or the schema itself; the decoded JSON). ``max_retries``: re-asks
        with the error when a reply does not fit (each billed); ``request_max_retries``: the transport's.
        Raises ``StructuredOutputError`` (``content``: the raw reply, ``cause``) when no reply fits.
        """
        opts = options(
            timeout,
            extra_headers,
            extra_body,
            extra_query=extra_query,
            max_retries=request_max_retries,
            total_timeout=total_timeout,
            request_id=request_id,
        )
        opts = with_fallback(opts, fields)
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


class AsyncCompletionsResource(AsyncAPIResource):
    @overload
    async def create(
        self,
        params: Optional[ChatCompletionParams] = None,
        *,
        stream: Literal[True],
        response_format: Any = None,
        timeout: TimeoutArg = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        **fields: Unpack[ChatCompletionFields],
    ) -> AsyncChatCompletionStream: ...
    @overload
    async def create(
        self,
        params: Optional[ChatCompletionParams] = None,
        *,
        stream: Optional[Literal[False]] = None,
        response_format: Any = None,
        timeout: TimeoutArg = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        **fields: Unpack[ChatCompletionFields],
    ) -> ChatCompletionResponse: ...
    async def create(
        self,
        params: Optional[ChatCompletionParams] = None,
        *,
        stream: Optional[bool] = None,
        response_format: Any = None,
        timeout: TimeoutArg = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        **fields: Any,
    ) -> Union[ChatCompletionResponse, AsyncChatCompletionStream]:
        """Create a chat completion; with ``stream=True``, the same stream object :meth:`stream` returns.

        Pass a ``ChatCompletionParams`` or its fields as keywords. ``response_format``: a model class (or
        any type pydantic validates) fills ``choices[i].message.parsed``; a dict is sent as it is. A
        ``stream`` inside the params is ignored (as in 0.1.4). ``timeout`` is this call's HTTP timeout.
        Raises ``InvalidParamsError`` before sending when the arguments are invalid.
        """
        opts = options(
            timeout,
            extra_headers,
            extra_body,
            extra_query=extra_query,
            max_retries=max_retries,
            total_timeout=total_timeout,
            request_id=request_id,
        )
        opts = with_fallback(opts, fields)
        parsed, fmt, tools = prepare(params, fields, response_format, dict_is_schema=False)
        if stream:
            body = dump_body(parsed, opts, stream=True)
            http = self._http
            return AsyncChatCompletionStream(
                lambda: http.send("POST", _PATH, body=body, options=opts, stream=True),
                decoder_for(fmt, tools),
                max_event_bytes=http.config.max_response_bytes,
            )
        body = dump_body(parsed, opts, stream=False)
        response = await self._http.request_model(
            ChatCompletionResponse, "POST", _PATH, body=body, options=opts
        )
        return apply_parsed(response, fmt, tools) if fmt is not None or tools else response

    def stream(
        self,
        params: Optional[ChatCompletionParams] = None,
        *,
        response_format: Any = None,
        timeout: TimeoutArg = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        **fields: Unpack[ChatCompletionFields],
    ) -> AsyncChatCompletionStream:
        """Stream a chat completion as ``ChatCompletionChunk`` items, or typed events (``events()``).

        Lazy: nothing is sent before the first item (or the ``with`` block). Ends after ``[DONE]``; a cut
        raises ``StreamInterruptedError``, an error frame ``StreamEventError``; ``close()`` releases it.
        """
        opts = options(
            timeout,
            extra_headers,
            extra_body,
            extra_query=extra_query,
            max_retries=max_retries,
            total_timeout=total_timeout,
            request_id=request_id,
        )
        opts = with_fallback(opts, fields)
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
        params: Optional[ChatCompletionParams],
        response_format: Type[T],
        *,
        max_retries: int = 0,
        timeout: TimeoutArg = None,
        request_max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        **fields: Unpack[ChatCompletionFields],
    ) -> T: ...
    @overload
    async def parse(
        self,
        params: Optional[ChatCompletionParams] = None,
        *,
        response_format: Type[T],
        max_retries: int = 0,
        timeout: TimeoutArg = None,
        request_max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        **fields: Unpack[ChatCompletionFields],
    ) -> T: ...
    @overload
    async def parse(
        self,
        params: Optional[ChatCompletionParams] = None,
        response_format: Any = None,
        *,
        max_retries: int = 0,
        timeout: TimeoutArg = None,
        request_max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        **fields: Unpack[ChatCompletionFields],
    ) -> Any: ...
    async def parse(
        self,
        params: Optional[ChatCompletionParams] = None,
        response_format: Any = None,
        *,
        max_retries: int = 0,
        timeout: TimeoutArg = None,
        request_max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        **fields: Any,
    ) -> Any:
        """Ask for a structured answer and return it validated (0.1.12's ``parse``).

        ``response_format``: a model class (an instance back), any ``TypeAdapter`` type (its value), or a
        dict (a ``json_schema`` format or the schema itself; the decoded JSON). ``max_retries``: re-asks
        with the error when a reply does not fit (each billed); ``request_max_retries``: the transport's.
        Raises ``StructuredOutputError`` (``content``: the raw reply, ``cause``) when no reply fits.
        """
        opts = options(
            timeout,
            extra_headers,
            extra_body,
            extra_query=extra_query,
            max_retries=request_max_retries,
            total_timeout=total_timeout,
            request_id=request_id,
        )
        opts = with_fallback(opts, fields)
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


class ChatResource(SyncAPIResource):
    """``client.chat``: holds ``completions``."""

    def __init__(self, http: Any) -> None:
        super().__init__(http)
        self.completions = CompletionsResource(http)


class AsyncChatResource(AsyncAPIResource):
    """``client.chat``: holds ``completions``."""

    def __init__(self, http: Any) -> None:
        super().__init__(http)
        self.completions = AsyncCompletionsResource(http)
