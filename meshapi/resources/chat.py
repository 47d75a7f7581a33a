"""``client.chat.completions``: ``POST /v1/chat/completions``, plain and streamed."""

from __future__ import annotations

from typing import Any, Mapping, Optional

from .._core.request import coerce_params, dump_body, require_messages
from ..lib.chat import AsyncChatCompletionStream, ChatChunkDecoder, ChatCompletionStream
from ..types.chat import ChatCompletionParams, ChatCompletionResponse
from ._base import AsyncAPIResource, SyncAPIResource, TimeoutArg, options

__all__ = ["AsyncChatResource", "AsyncCompletionsResource", "ChatResource", "CompletionsResource"]

_PATH = "/v1/chat/completions"


def _params(params: object, fields: Mapping[str, Any]) -> ChatCompletionParams:
    parsed = coerce_params(ChatCompletionParams, params, fields)
    require_messages(parsed)
    return parsed


class CompletionsResource(SyncAPIResource):
    def create(
        self,
        params: Optional[ChatCompletionParams] = None,
        *,
        timeout: TimeoutArg = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        **fields: Any,
    ) -> ChatCompletionResponse:
        """Create a chat completion (``"stream": false`` is always sent; use :meth:`stream` to stream).

        Pass a ``ChatCompletionParams``, or its fields as keyword arguments (``model=``, ``messages=`` with
        dicts or ``ChatMessage`` objects, ...). ``timeout`` here is the HTTP timeout of this call; the body
        field of the same name is set through ``ChatCompletionParams(timeout=...)``.
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
        body = dump_body(_params(params, fields), opts, stream=False)
        return self._http.request_model(ChatCompletionResponse, "POST", _PATH, body=body, options=opts)

    def stream(
        self,
        params: Optional[ChatCompletionParams] = None,
        *,
        timeout: TimeoutArg = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        **fields: Any,
    ) -> ChatCompletionStream:
        """Stream a chat completion as ``ChatCompletionChunk`` items (``"stream": true``).

        Nothing is sent until the first item is requested (or the ``with`` block is entered). The stream
        ends after ``[DONE]``; a stream cut before it raises ``StreamInterruptedError``, an error frame
        raises ``StreamEventError``. ``close()`` or leaving the ``with`` block releases the connection.
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
        body = dump_body(_params(params, fields), opts, stream=True)
        http = self._http
        return ChatCompletionStream(
            lambda: http.send("POST", _PATH, body=body, options=opts, stream=True), ChatChunkDecoder()
        )


class AsyncCompletionsResource(AsyncAPIResource):
    async def create(
        self,
        params: Optional[ChatCompletionParams] = None,
        *,
        timeout: TimeoutArg = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        **fields: Any,
    ) -> ChatCompletionResponse:
        """Create a chat completion (``"stream": false`` is always sent; use :meth:`stream` to stream).

        Pass a ``ChatCompletionParams``, or its fields as keyword arguments (``model=``, ``messages=`` with
        dicts or ``ChatMessage`` objects, ...). ``timeout`` here is the HTTP timeout of this call; the body
        field of the same name is set through ``ChatCompletionParams(timeout=...)``.
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
        body = dump_body(_params(params, fields), opts, stream=False)
        return await self._http.request_model(ChatCompletionResponse, "POST", _PATH, body=body, options=opts)

    def stream(
        self,
        params: Optional[ChatCompletionParams] = None,
        *,
        timeout: TimeoutArg = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        **fields: Any,
    ) -> AsyncChatCompletionStream:
        """Stream a chat completion as ``ChatCompletionChunk`` items (``"stream": true``).

        Nothing is sent until the first item is requested (or the ``with`` block is entered). The stream
        ends after ``[DONE]``; a stream cut before it raises ``StreamInterruptedError``, an error frame
        raises ``StreamEventError``. ``close()`` or leaving the ``with`` block releases the connection.
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
        body = dump_body(_params(params, fields), opts, stream=True)
        http = self._http
        return AsyncChatCompletionStream(
            lambda: http.send("POST", _PATH, body=body, options=opts, stream=True), ChatChunkDecoder()
        )


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
