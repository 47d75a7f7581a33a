"""``client.chat.completions``: ``POST /v1/chat/completions``, plain, streamed and structured.

Keyword arguments are typed (``ChatCompletionFields``), so ``mypy --strict`` rejects a misspelled or
wrongly typed keyword; ``create(stream=True)`` is typed to return the stream object. The structured
output logic (schemas, parsing, correction retries) lives in ``lib/_parsing.py``; these methods only
send and hand replies to it.
"""

from __future__ import annotations

import sys
from typing import Any, Dict, Literal, Mapping, Optional, Tuple, Type, TypeVar, Union, overload

from .._core.request import coerce_params, dump_body, require_messages
from .._errors import InvalidParamsError
from ..lib._parsing import ResponseFormat, StructuredCall, apply_parsed, tool_models
from ..lib.chat import AsyncChatCompletionStream, ChatChunkDecoder, ChatCompletionStream
from ..types.chat import ChatCompletionFields, ChatCompletionParams, ChatCompletionResponse
from ._base import AsyncAPIResource, SyncAPIResource, TimeoutArg, options

if sys.version_info >= (3, 11):
    from typing import Unpack
else:  # typing_extensions comes with pydantic
    from typing_extensions import Unpack

__all__ = ["AsyncChatResource", "AsyncCompletionsResource", "ChatResource", "CompletionsResource"]

_PATH = "/v1/chat/completions"
T = TypeVar("T")


def _prepare(
    params: object, fields: Mapping[str, Any], response_format: Any, *, dict_is_schema: bool
) -> Tuple[ChatCompletionParams, Optional[ResponseFormat], Dict[str, Any]]:
    """The validated params, the structured-output format (if one was passed) and the pydantic tools."""
    fmt = None
    if response_format is not None:
        fmt = ResponseFormat.of(response_format, dict_is_schema=dict_is_schema)
        fields = {**fields, "response_format": fmt.wire}
    raw_tools = params.get("tools") if isinstance(params, Mapping) else getattr(params, "tools", None)
    tools = tool_models(raw_tools, fields.get("tools"))
    parsed = coerce_params(ChatCompletionParams, params, fields)
    require_messages(parsed)
    tools.update(tool_models(parsed.tools))
    return parsed, fmt, tools


def _decoder(fmt: Optional[ResponseFormat], tools: Dict[str, Any]) -> ChatChunkDecoder:
    return ChatChunkDecoder(response_format=fmt if fmt is not None and fmt.parses else None, tools=tools)


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

        Pass a ``ChatCompletionParams``, or its fields as keyword arguments (``model=``, ``messages=`` with
        dicts or ``ChatMessage`` objects, ...). ``response_format`` may be a pydantic model class (or any
        type pydantic validates): a strict schema is sent and ``choices[i].message.parsed`` holds the
        validated reply (``StructuredOutputError`` when it does not fit); a dict is sent as it is.
        ``stream`` in a ``ChatCompletionParams`` is ignored here (``"stream": false`` is sent), as in 0.1.4.
        ``timeout`` is the HTTP timeout of this call; the body field of the same name is set through
        ``ChatCompletionParams(timeout=...)``. Raises ``InvalidParamsError`` before sending when the
        arguments are invalid.
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
        parsed, fmt, tools = _prepare(params, fields, response_format, dict_is_schema=False)
        if stream:
            body = dump_body(parsed, opts, stream=True)
            http = self._http
            return ChatCompletionStream(
                lambda: http.send("POST", _PATH, body=body, options=opts, stream=True), _decoder(fmt, tools)
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
        """Stream a chat completion as ``ChatCompletionChunk`` items (``"stream": true``).

        Nothing is sent until the first item is requested (or the ``with`` block is entered). The stream
        ends after ``[DONE]``; a stream cut before it raises ``StreamInterruptedError``, an error frame
        raises ``StreamEventError``. ``close()`` or leaving the ``with`` block releases the connection.
        ``events()`` yields typed events instead of chunks; with a model as ``response_format`` they
        carry the partial and the final parsed value.
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
        parsed, fmt, tools = _prepare(params, fields, response_format, dict_is_schema=False)
        body = dump_body(parsed, opts, stream=True)
        http = self._http
        return ChatCompletionStream(
            lambda: http.send("POST", _PATH, body=body, options=opts, stream=True), _decoder(fmt, tools)
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

        ``response_format``: a pydantic model class (returns an instance), any type pydantic's
        ``TypeAdapter`` accepts (returns the validated value), or a dict (a ``json_schema`` response
        format, or the schema itself; returns the decoded JSON). ``max_retries``: how many times to
        re-ask with the validation error when the reply does not fit (each one is a billed call); the
        transport's own retry count for each call is ``request_max_retries``. Raises
        ``StructuredOutputError`` (``content``: the raw reply, ``cause``: the error) when no reply fits.
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
        if response_format is None:
            raise_missing_format()
        parsed, fmt, _ = _prepare(params, fields, response_format, dict_is_schema=True)
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

        Pass a ``ChatCompletionParams``, or its fields as keyword arguments (``model=``, ``messages=`` with
        dicts or ``ChatMessage`` objects, ...). ``response_format`` may be a pydantic model class (or any
        type pydantic validates): a strict schema is sent and ``choices[i].message.parsed`` holds the
        validated reply (``StructuredOutputError`` when it does not fit); a dict is sent as it is.
        ``stream`` in a ``ChatCompletionParams`` is ignored here (``"stream": false`` is sent), as in 0.1.4.
        ``timeout`` is the HTTP timeout of this call; the body field of the same name is set through
        ``ChatCompletionParams(timeout=...)``. Raises ``InvalidParamsError`` before sending when the
        arguments are invalid.
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
        parsed, fmt, tools = _prepare(params, fields, response_format, dict_is_schema=False)
        if stream:
            body = dump_body(parsed, opts, stream=True)
            http = self._http
            return AsyncChatCompletionStream(
                lambda: http.send("POST", _PATH, body=body, options=opts, stream=True), _decoder(fmt, tools)
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
        """Stream a chat completion as ``ChatCompletionChunk`` items (``"stream": true``).

        Nothing is sent until the first item is requested (or the ``with`` block is entered). The stream
        ends after ``[DONE]``; a stream cut before it raises ``StreamInterruptedError``, an error frame
        raises ``StreamEventError``. ``close()`` or leaving the ``with`` block releases the connection.
        ``events()`` yields typed events instead of chunks; with a model as ``response_format`` they
        carry the partial and the final parsed value.
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
        parsed, fmt, tools = _prepare(params, fields, response_format, dict_is_schema=False)
        body = dump_body(parsed, opts, stream=True)
        http = self._http
        return AsyncChatCompletionStream(
            lambda: http.send("POST", _PATH, body=body, options=opts, stream=True), _decoder(fmt, tools)
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

        ``response_format``: a pydantic model class (returns an instance), any type pydantic's
        ``TypeAdapter`` accepts (returns the validated value), or a dict (a ``json_schema`` response
        format, or the schema itself; returns the decoded JSON). ``max_retries``: how many times to
        re-ask with the validation error when the reply does not fit (each one is a billed call); the
        transport's own retry count for each call is ``request_max_retries``. Raises
        ``StructuredOutputError`` (``content``: the raw reply, ``cause``: the error) when no reply fits.
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
        if response_format is None:
            raise_missing_format()
        parsed, fmt, _ = _prepare(params, fields, response_format, dict_is_schema=True)
        assert fmt is not None
        call = StructuredCall(fmt, dump_body(parsed, opts, stream=False), max_retries)
        while True:
            reply = await self._http.request_model(
                ChatCompletionResponse, "POST", _PATH, body=call.body, options=opts
            )
            done, value = call.accept(reply)
            if done:
                return value


def raise_missing_format() -> None:
    raise InvalidParamsError("parse() needs a response_format: a pydantic model class, a type or a dict")


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
