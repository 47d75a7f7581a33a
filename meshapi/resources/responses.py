"""``client.responses``: ``POST /v1/responses`` (plain, streamed, ``parse()``), ``GET /v1/responses[/{id}]``,
``cancel()`` and ``wait()`` for background responses.

``create(stream=True)`` is ``stream(...).open()``: it sends and waits for the status, so a web handler
sees a 404 / 429 at the call (``stream()`` stays lazy). Its first ``@overload`` is the plain one: it is
the signature ``with_raw_response`` is typed with (``resources/_base.py``). The methods for background
responses (``get``, ``list``, ``cancel``, ``wait``) come from ``_response_jobs.py``.
"""

from __future__ import annotations

from typing import Any, Literal, Mapping, Optional, Type, TypeVar, Union, overload

from .._core.request import CallOptions, coerce_params, dump_body, split_options
from .._errors import InvalidParamsError
from ..lib.responses import AsyncResponsesStream, ResponsesEventDecoder, ResponsesStream
from ..lib.responses_parse import apply_output_parsed, parse_request
from ..lib.tool_calls import ToolRunOptions
from ..lib.tool_loop import start_run
from ..lib.tool_responses import ResponsesWire
from ..lib.tool_runner import ToolRunner, ToolStreamRunner
from ..lib.tool_runner_async import AsyncToolRunner, AsyncToolStreamRunner
from ..types.responses import (
    ParsedResponse,
    ResponsesFields,
    ResponsesParams,
    ResponsesResponse,
    ResponsesStreamFields,
)
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
    view,
)
from ._cost_walk import async_turn_costs, turn_costs
from ._response_jobs import PATH as _PATH
from ._response_jobs import TERMINAL_RESPONSE_STATUSES as TERMINAL_RESPONSE_STATUSES
from ._response_jobs import AsyncResponseJobs, ResponseJobs

__all__ = ["TERMINAL_RESPONSE_STATUSES", "AsyncResponsesResource", "ResponsesResource"]

T = TypeVar("T")


def _create_params(params: object, fields: Mapping[str, Any]) -> ResponsesParams:
    parsed = coerce_params(ResponsesParams, params, fields)
    if parsed.stream:
        raise InvalidParamsError(
            "responses.create() streams with the keyword stream=True (or call responses.stream()),"
            " not with a params' stream field"
        )
    return parsed


class ResponsesArgs(ResponsesFields, CallOptions, total=False):
    """The keywords of ``create``: ``ResponsesParams``' fields (``stream`` apart) and the per-call options."""


class ResponsesStreamArgs(ResponsesStreamFields, CallOptions, total=False):
    """The keywords of ``stream``: ``ResponsesParams``' fields and the per-call options."""


class ResponsesToolRunArgs(ResponsesArgs, ToolRunOptions, total=False):
    """The keywords of ``run_tools``: ``create``'s, and the runner's options."""


class ResponsesResource(ResponseJobs, SyncAPIResource["ResponsesViews[Raw]", "ResponsesViews[Streaming]"]):
    @overload
    def create(
        self,
        params: Optional[ResponsesParams] = None,
        *,
        stream: Optional[Literal[False]] = None,
        **kwargs: Unpack[ResponsesArgs],
    ) -> ResponsesResponse: ...
    @overload
    def create(
        self,
        params: Optional[ResponsesParams] = None,
        *,
        stream: Literal[True],
        **kwargs: Unpack[ResponsesArgs],
    ) -> ResponsesStream: ...
    def create(
        self,
        params: Optional[ResponsesParams] = None,
        *,
        stream: Optional[bool] = None,
        **kwargs: Unpack[ResponsesArgs],
    ) -> Union[ResponsesResponse, ResponsesStream]:
        """Create a response (``POST /v1/responses``); ``stream=True``: the stream of :meth:`stream`, open.

        With ``stream=True`` the request is sent and its status awaited before this returns, so an HTTP
        error (``RateLimitError``, ``NotFoundError``, ...) is raised here, not at the first event
        (:meth:`stream` stays lazy). Close the stream (or read it to the end) to release the connection.

        Pass a ``ResponsesParams`` or its fields as keyword arguments (``model=``, ``input=``, ...). A
        ``ResponsesParams(stream=True)`` without the keyword raises ``InvalidParamsError`` (a
        ``ValueError``, as in 0.1.4). ``timeout`` here is the HTTP timeout of this call; the body field
        of the same name is set through ``ResponsesParams(timeout=...)``.
        """
        if stream:
            return self.stream(params, **kwargs).open()
        opts, fields = split_options(kwargs)
        body = dump_body(_create_params(params, fields), opts, stream=False)
        return self._http.request_model(ResponsesResponse, "POST", _PATH, body=body, options=opts)

    @overload
    def parse(
        self,
        params: Optional[ResponsesParams] = None,
        *,
        text_format: Type[T],
        **kwargs: Unpack[ResponsesArgs],
    ) -> ParsedResponse[T]: ...
    @overload
    def parse(
        self,
        params: Optional[ResponsesParams] = None,
        *,
        text_format: Mapping[str, Any],
        **kwargs: Unpack[ResponsesArgs],
    ) -> ParsedResponse[Any]: ...
    def parse(
        self,
        params: Optional[ResponsesParams] = None,
        *,
        text_format: Any = None,
        **kwargs: Unpack[ResponsesArgs],
    ) -> ParsedResponse[Any]:
        """Ask for a structured answer: ``output_parsed`` is the reply's text validated into ``text_format``.

        ``text_format``: a pydantic model class (an instance back), any type pydantic's ``TypeAdapter``
        accepts, or a JSON schema dict (the decoded JSON back). Its schema is sent as ``text.format``
        (``json_schema``, strict when it can be, as chat's ``parse()`` sends it). Raises
        ``StructuredOutputError`` (``content``: the raw text, ``cause``) on a refusal or a text that does
        not fit, naming an incomplete response; ``output_parsed`` is ``None`` when the reply has no text.
        """
        opts, fields = split_options(kwargs)
        parsed, fmt = parse_request(params, fields, text_format)
        body = dump_body(parsed, opts, stream=False)
        reply = self._http.request_model(ParsedResponse, "POST", _PATH, body=body, options=opts)
        return apply_output_parsed(reply, fmt)

    def stream(
        self,
        params: Optional[ResponsesParams] = None,
        **kwargs: Unpack[ResponsesStreamArgs],
    ) -> ResponsesStream:
        """Stream a response as ``ResponsesStreamEvent`` items (``"stream": true``).

        Lazy: nothing is sent before the first item (``open()`` sends it now). Each item's ``event`` is
        the SSE event name. The stream ends at ``[DONE]`` or after ``response.completed`` /
        ``response.failed`` / ``response.incomplete``; ``text_stream`` yields the output-text deltas and
        ``get_final_response()`` the final ``ResponsesResponse``. An error event raises
        ``StreamEventError``; a cut stream ``StreamInterruptedError``.
        """
        opts, fields = split_options(kwargs)
        body = dump_body(coerce_params(ResponsesParams, params, fields), opts, stream=True)
        http = self._http
        return ResponsesStream(
            lambda: http.send("POST", _PATH, body=body, options=opts, stream=True),
            ResponsesEventDecoder(),
            max_event_bytes=http.config.max_response_bytes,
        )

    @overload
    def run_tools(
        self,
        params: Optional[ResponsesParams] = None,
        *,
        stream: Literal[False] = False,
        text_format: None = None,
        **kwargs: Unpack[ResponsesToolRunArgs],
    ) -> ToolRunner[ResponsesResponse]: ...
    @overload
    def run_tools(
        self,
        params: Optional[ResponsesParams] = None,
        *,
        stream: Literal[False] = False,
        text_format: Type[T],
        **kwargs: Unpack[ResponsesToolRunArgs],
    ) -> ToolRunner[ParsedResponse[T]]: ...
    @overload
    def run_tools(
        self,
        params: Optional[ResponsesParams] = None,
        *,
        stream: Literal[True],
        text_format: None = None,
        **kwargs: Unpack[ResponsesToolRunArgs],
    ) -> ToolStreamRunner[ResponsesResponse]: ...
    @overload
    def run_tools(
        self,
        params: Optional[ResponsesParams] = None,
        *,
        stream: Literal[True],
        text_format: Type[T],
        **kwargs: Unpack[ResponsesToolRunArgs],
    ) -> ToolStreamRunner[ParsedResponse[T]]: ...
    def run_tools(
        self,
        params: Optional[ResponsesParams] = None,
        *,
        stream: bool = False,
        text_format: Any = None,
        **kwargs: Unpack[ResponsesToolRunArgs],
    ) -> Union[ToolRunner[Any], ToolStreamRunner[Any]]:
        """Run the Responses API's function tools: each turn through :meth:`create`, the calls run here.

        The same runner as ``chat.completions.run_tools`` (tools, options, ``stream=True`` events); its
        transcript is ``messages`` (``input`` items: ``function_call`` / ``function_call_output``). Hosted
        tool types (``{"type": "mcp", ...}``) are offered as given, never run here. ``text_format`` (as
        :meth:`parse` takes it) asks for a structured answer: each turn is a ``ParsedResponse``, the final
        one's ``output_parsed`` the typed answer (``StructuredOutputError`` when it does not fit).
        """
        state = start_run(ResponsesWire(text_format), params, kwargs, None)
        runner = ToolStreamRunner if stream else ToolRunner
        return runner(self.create, state, turn_costs(self._http))


class AsyncResponsesResource(
    AsyncResponseJobs, AsyncAPIResource["ResponsesViews[AsyncRaw]", "ResponsesViews[AsyncStreaming]"]
):
    @overload
    async def create(
        self,
        params: Optional[ResponsesParams] = None,
        *,
        stream: Optional[Literal[False]] = None,
        **kwargs: Unpack[ResponsesArgs],
    ) -> ResponsesResponse: ...
    @overload
    async def create(
        self,
        params: Optional[ResponsesParams] = None,
        *,
        stream: Literal[True],
        **kwargs: Unpack[ResponsesArgs],
    ) -> AsyncResponsesStream: ...
    async def create(
        self,
        params: Optional[ResponsesParams] = None,
        *,
        stream: Optional[bool] = None,
        **kwargs: Unpack[ResponsesArgs],
    ) -> Union[ResponsesResponse, AsyncResponsesStream]:
        """Create a response (``POST /v1/responses``); ``stream=True``: the stream of :meth:`stream`, open.

        With ``stream=True`` the request is sent and its status awaited before this returns, so an HTTP
        error (``RateLimitError``, ``NotFoundError``, ...) is raised here, not at the first event
        (:meth:`stream` stays lazy). Close the stream (or read it to the end) to release the connection.

        Pass a ``ResponsesParams`` or its fields as keyword arguments (``model=``, ``input=``, ...). A
        ``ResponsesParams(stream=True)`` without the keyword raises ``InvalidParamsError`` (a
        ``ValueError``, as in 0.1.4). ``timeout`` here is the HTTP timeout of this call; the body field
        of the same name is set through ``ResponsesParams(timeout=...)``.
        """
        if stream:
            return await self.stream(params, **kwargs).open()
        opts, fields = split_options(kwargs)
        body = dump_body(_create_params(params, fields), opts, stream=False)
        return await self._http.request_model(ResponsesResponse, "POST", _PATH, body=body, options=opts)

    @overload
    async def parse(
        self,
        params: Optional[ResponsesParams] = None,
        *,
        text_format: Type[T],
        **kwargs: Unpack[ResponsesArgs],
    ) -> ParsedResponse[T]: ...
    @overload
    async def parse(
        self,
        params: Optional[ResponsesParams] = None,
        *,
        text_format: Mapping[str, Any],
        **kwargs: Unpack[ResponsesArgs],
    ) -> ParsedResponse[Any]: ...
    async def parse(
        self,
        params: Optional[ResponsesParams] = None,
        *,
        text_format: Any = None,
        **kwargs: Unpack[ResponsesArgs],
    ) -> ParsedResponse[Any]:
        """Ask for a structured answer: ``output_parsed`` is the reply's text validated into ``text_format``.

        ``text_format``: a pydantic model class (an instance back), any type pydantic's ``TypeAdapter``
        accepts, or a JSON schema dict (the decoded JSON back). Its schema is sent as ``text.format``
        (``json_schema``, strict when it can be, as chat's ``parse()`` sends it). Raises
        ``StructuredOutputError`` (``content``: the raw text, ``cause``) on a refusal or a text that does
        not fit, naming an incomplete response; ``output_parsed`` is ``None`` when the reply has no text.
        """
        opts, fields = split_options(kwargs)
        parsed, fmt = parse_request(params, fields, text_format)
        body = dump_body(parsed, opts, stream=False)
        reply = await self._http.request_model(ParsedResponse, "POST", _PATH, body=body, options=opts)
        return apply_output_parsed(reply, fmt)

    def stream(
        self,
        params: Optional[ResponsesParams] = None,
        **kwargs: Unpack[ResponsesStreamArgs],
    ) -> AsyncResponsesStream:
        """Stream a response as ``ResponsesStreamEvent`` items (``"stream": true``).

        Lazy: nothing is sent before the first item (``open()`` sends it now). Each item's ``event`` is
        the SSE event name. The stream ends at ``[DONE]`` or after ``response.completed`` /
        ``response.failed`` / ``response.incomplete``; ``text_stream`` yields the output-text deltas and
        ``get_final_response()`` the final ``ResponsesResponse``. An error event raises
        ``StreamEventError``; a cut stream ``StreamInterruptedError``.
        """
        opts, fields = split_options(kwargs)
        body = dump_body(coerce_params(ResponsesParams, params, fields), opts, stream=True)
        http = self._http
        return AsyncResponsesStream(
            lambda: http.send("POST", _PATH, body=body, options=opts, stream=True),
            ResponsesEventDecoder(),
            max_event_bytes=http.config.max_response_bytes,
        )

    @overload
    def run_tools(
        self,
        params: Optional[ResponsesParams] = None,
        *,
        stream: Literal[False] = False,
        text_format: None = None,
        **kwargs: Unpack[ResponsesToolRunArgs],
    ) -> AsyncToolRunner[ResponsesResponse]: ...
    @overload
    def run_tools(
        self,
        params: Optional[ResponsesParams] = None,
        *,
        stream: Literal[False] = False,
        text_format: Type[T],
        **kwargs: Unpack[ResponsesToolRunArgs],
    ) -> AsyncToolRunner[ParsedResponse[T]]: ...
    @overload
    def run_tools(
        self,
        params: Optional[ResponsesParams] = None,
        *,
        stream: Literal[True],
        text_format: None = None,
        **kwargs: Unpack[ResponsesToolRunArgs],
    ) -> AsyncToolStreamRunner[ResponsesResponse]: ...
    @overload
    def run_tools(
        self,
        params: Optional[ResponsesParams] = None,
        *,
        stream: Literal[True],
        text_format: Type[T],
        **kwargs: Unpack[ResponsesToolRunArgs],
    ) -> AsyncToolStreamRunner[ParsedResponse[T]]: ...
    def run_tools(
        self,
        params: Optional[ResponsesParams] = None,
        *,
        stream: bool = False,
        text_format: Any = None,
        **kwargs: Unpack[ResponsesToolRunArgs],
    ) -> Union[AsyncToolRunner[Any], AsyncToolStreamRunner[Any]]:
        """Run the Responses API's function tools: each turn through :meth:`create`, the calls run here.

        The same runner as ``chat.completions.run_tools`` (tools, options, ``stream=True`` events); its
        transcript is ``messages`` (``input`` items: ``function_call`` / ``function_call_output``). Hosted
        tool types (``{"type": "mcp", ...}``) are offered as given, never run here. ``text_format`` (as
        :meth:`parse` takes it) asks for a structured answer: each turn is a ``ParsedResponse``, the final
        one's ``output_parsed`` the typed answer (``StructuredOutputError`` when it does not fit).
        """
        state = start_run(ResponsesWire(text_format), params, kwargs, None)
        runner = AsyncToolStreamRunner if stream else AsyncToolRunner
        return runner(self.create, state, async_turn_costs(self._http))


class ResponsesViews(Views[M]):
    """The typed ``with_raw_response`` / ``with_streaming_response`` of ``ResponsesResource`` and its twin."""

    create = view(ResponsesResource.create, AsyncResponsesResource.create)
    parse = view(ResponsesResource.parse, AsyncResponsesResource.parse)  # type: ignore[var-annotated]
    stream = view(ResponsesResource.stream, AsyncResponsesResource.stream)
    get = view(ResponsesResource.get, AsyncResponsesResource.get)
    list = view(ResponsesResource.list, AsyncResponsesResource.list)
    cancel = view(ResponsesResource.cancel, AsyncResponsesResource.cancel)
    wait = view(ResponsesResource.wait, AsyncResponsesResource.wait)
