"""``client.compare``: ``POST /v1/chat/compare``, plain and streamed."""

from __future__ import annotations

from typing import Any, Mapping, Optional

from .._core.request import CallOptions, coerce_params, dump_body, require_messages, split_options
from .._errors import InvalidParamsError
from ..lib.compare import AsyncCompareStream, CompareEventDecoder, CompareStream
from ..types.compare import CompareFields, CompareParams, CompareResponse
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
        raise InvalidParamsError("compare.create() does not stream; call compare.stream() instead")
    return parsed


class CompareArgs(CompareFields, CallOptions, total=False):
    """The keywords of the methods that take a ``CompareParams``: its fields and the per-call options."""


class CompareResource(SyncAPIResource["CompareViews[Raw]", "CompareViews[Streaming]"]):
    def create(
        self,
        params: Optional[CompareParams] = None,
        **kwargs: Unpack[CompareArgs],
    ) -> CompareResponse:
        """Run the same conversation on several models (``POST /v1/chat/compare``, not streamed).

        Pass a ``CompareParams`` or its fields as keyword arguments (``models=``, ``messages=``, ...).
        A failed model is reported in its ``results[]`` entry (``error``, ``error_code``) and sets
        ``partial``. Raises ``InvalidParamsError`` (a ``ValueError``, as in 0.1.4) when ``stream`` is
        true: use :meth:`stream`.
        """
        opts, fields = split_options(kwargs)
        body = dump_body(_create_params(params, fields), opts, stream=False)
        return self._http.request_model(CompareResponse, "POST", _PATH, body=body, options=opts)

    def stream(
        self,
        params: Optional[CompareParams] = None,
        **kwargs: Unpack[CompareArgs],
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
    async def create(
        self,
        params: Optional[CompareParams] = None,
        **kwargs: Unpack[CompareArgs],
    ) -> CompareResponse:
        """Run the same conversation on several models (``POST /v1/chat/compare``, not streamed).

        Pass a ``CompareParams`` or its fields as keyword arguments (``models=``, ``messages=``, ...).
        A failed model is reported in its ``results[]`` entry (``error``, ``error_code``) and sets
        ``partial``. Raises ``InvalidParamsError`` (a ``ValueError``, as in 0.1.4) when ``stream`` is
        true: use :meth:`stream`.
        """
        opts, fields = split_options(kwargs)
        body = dump_body(_create_params(params, fields), opts, stream=False)
        return await self._http.request_model(CompareResponse, "POST", _PATH, body=body, options=opts)

    def stream(
        self,
        params: Optional[CompareParams] = None,
        **kwargs: Unpack[CompareArgs],
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
