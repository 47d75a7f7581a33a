"""``client.compare``: ``POST /v1/chat/compare``, plain and streamed.

``create(stream=True)`` is ``stream(...).open()``: it sends and waits for the status, so a web handler
sees a 404 / 429 at the call (``stream()`` stays lazy). Its first ``@overload`` is the plain one: it is
the signature ``with_raw_response`` is typed with (``resources/_base.py``).
"""

from __future__ import annotations

from typing import Any, Literal, Mapping, Optional, Union, overload

from .._core.request import CallOptions, coerce_params, dump_body, require_messages, split_options
from .._errors import InvalidParamsError
from ..lib.compare import AsyncCompareStream, CompareEventDecoder, CompareStream
from ..types.compare import CompareFields, CompareParams, CompareResponse, CompareStreamFields
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

__all__ = ["AsyncCompareResource", "CompareResource"]

_PATH = "/v1/chat/compare"


def _params(params: object, fields: Mapping[str, Any]) -> CompareParams:
    parsed = coerce_params(CompareParams, params, fields)
    require_messages(parsed)
    return parsed


def _create_params(params: object, fields: Mapping[str, Any]) -> CompareParams:
    parsed = _params(params, fields)
    if parsed.stream:
        raise InvalidParamsError(
            "compare.create() streams with the keyword stream=True (or call compare.stream()),"
            " not with a params' stream field"
        )
    return parsed


class CompareArgs(CompareFields, CallOptions, total=False):
    """The keywords of ``create``: ``CompareParams``' fields (``stream`` apart) and the per-call options."""


class CompareStreamArgs(CompareStreamFields, CallOptions, total=False):
    """The keywords of ``stream``: ``CompareParams``' fields and the per-call options."""


class CompareResource(SyncAPIResource["CompareViews[Raw]", "CompareViews[Streaming]"]):
    @overload
    def create(
        self,
        params: Optional[CompareParams] = None,
        *,
        stream: Optional[Literal[False]] = None,
        **kwargs: Unpack[CompareArgs],
    ) -> CompareResponse: ...
    @overload
    def create(
        self,
        params: Optional[CompareParams] = None,
        *,
        stream: Literal[True],
        **kwargs: Unpack[CompareArgs],
    ) -> CompareStream: ...
    def create(
        self,
        params: Optional[CompareParams] = None,
        *,
        stream: Optional[bool] = None,
        **kwargs: Unpack[CompareArgs],
    ) -> Union[CompareResponse, CompareStream]:
        """Run the same conversation on several models (``POST /v1/chat/compare``).

        With ``stream=True``: the stream of :meth:`stream`, already open. The request is sent and its
        status awaited before this returns, so an HTTP error (``RateLimitError``, ``NotFoundError``, ...)
        is raised here, not at the first event (:meth:`stream` stays lazy). Close the stream (or read it
        to the end) to release the connection.

        Pass a ``CompareParams`` or its fields as keyword arguments (``models=``, ``messages=``, ...).
        A failed model is reported in its ``results[]`` entry (``error``, ``error_code``) and sets
        ``partial``. A ``CompareParams(stream=True)`` without the keyword raises ``InvalidParamsError``
        (a ``ValueError``, as in 0.1.4).
        """
        if stream:
            return self.stream(params, **kwargs).open()
        opts, fields = split_options(kwargs)
        body = dump_body(_create_params(params, fields), opts, stream=False)
        return self._http.request_model(CompareResponse, "POST", _PATH, body=body, options=opts)

    def stream(
        self,
        params: Optional[CompareParams] = None,
        **kwargs: Unpack[CompareStreamArgs],
    ) -> CompareStream:
        """Stream a comparison as ``CompareStreamEvent`` items (``"stream": true``); switch on ``.event``.

        Events: ``meta``, ``model_chunk``, ``model_done``, ``comparison_chunk``, ``model_stream_done``,
        ``done``. A model that fails arrives as that model's event with ``error`` set and the others go
        on; only an in-band error object raises ``StreamEventError``. The stream is complete after
        ``done``; ending before it raises ``StreamInterruptedError``. ``get_final()`` returns the
        ``CompareAccumulator`` (per-model text, usage and errors, the synthesis).
        """
        opts, fields = split_options(kwargs)
        body = dump_body(_params(params, fields), opts, stream=True)
        http = self._http
        return CompareStream(
            lambda: http.send("POST", _PATH, body=body, options=opts, stream=True),
            CompareEventDecoder(),
            max_event_bytes=http.config.max_response_bytes,
        )


class AsyncCompareResource(AsyncAPIResource["CompareViews[AsyncRaw]", "CompareViews[AsyncStreaming]"]):
    @overload
    async def create(
        self,
        params: Optional[CompareParams] = None,
        *,
        stream: Optional[Literal[False]] = None,
        **kwargs: Unpack[CompareArgs],
    ) -> CompareResponse: ...
    @overload
    async def create(
        self,
        params: Optional[CompareParams] = None,
        *,
        stream: Literal[True],
        **kwargs: Unpack[CompareArgs],
    ) -> AsyncCompareStream: ...
    async def create(
        self,
        params: Optional[CompareParams] = None,
        *,
        stream: Optional[bool] = None,
        **kwargs: Unpack[CompareArgs],
    ) -> Union[CompareResponse, AsyncCompareStream]:
        """Run the same conversation on several models (``POST /v1/chat/compare``).

        With ``stream=True``: the stream of :meth:`stream`, already open. The request is sent and its
        status awaited before this returns, so an HTTP error (``RateLimitError``, ``NotFoundError``, ...)
        is raised here, not at the first event (:meth:`stream` stays lazy). Close the stream (or read it
        to the end) to release the connection.

        Pass a ``CompareParams`` or its fields as keyword arguments (``models=``, ``messages=``, ...).
        A failed model is reported in its ``results[]`` entry (``error``, ``error_code``) and sets
        ``partial``. A ``CompareParams(stream=True)`` without the keyword raises ``InvalidParamsError``
        (a ``ValueError``, as in 0.1.4).
        """
        if stream:
            return await self.stream(params, **kwargs).open()
        opts, fields = split_options(kwargs)
        body = dump_body(_create_params(params, fields), opts, stream=False)
        return await self._http.request_model(CompareResponse, "POST", _PATH, body=body, options=opts)

    def stream(
        self,
        params: Optional[CompareParams] = None,
        **kwargs: Unpack[CompareStreamArgs],
    ) -> AsyncCompareStream:
        """Stream a comparison as ``CompareStreamEvent`` items (``"stream": true``); switch on ``.event``.

        Events: ``meta``, ``model_chunk``, ``model_done``, ``comparison_chunk``, ``model_stream_done``,
        ``done``. A model that fails arrives as that model's event with ``error`` set and the others go
        on; only an in-band error object raises ``StreamEventError``. The stream is complete after
        ``done``; ending before it raises ``StreamInterruptedError``. ``get_final()`` returns the
        ``CompareAccumulator`` (per-model text, usage and errors, the synthesis).
        """
        opts, fields = split_options(kwargs)
        body = dump_body(_params(params, fields), opts, stream=True)
        http = self._http
        return AsyncCompareStream(
            lambda: http.send("POST", _PATH, body=body, options=opts, stream=True),
            CompareEventDecoder(),
            max_event_bytes=http.config.max_response_bytes,
        )


class CompareViews(Views[M]):
    """The typed ``with_raw_response`` / ``with_streaming_response`` of ``CompareResource`` and its twin."""

    create = view(CompareResource.create, AsyncCompareResource.create)
    stream = view(CompareResource.stream, AsyncCompareResource.stream)
