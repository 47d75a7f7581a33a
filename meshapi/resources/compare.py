"""``client.compare``: ``POST /v1/chat/compare``, plain and streamed."""

from __future__ import annotations

from typing import Any, Mapping, Optional

from .._core.request import coerce_params, dump_body, require_messages
from .._errors import InvalidParamsError
from ..lib.compare import AsyncCompareStream, CompareEventDecoder, CompareStream
from ..types.compare import CompareParams, CompareResponse
from ._base import AsyncAPIResource, SyncAPIResource, TimeoutArg, options

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


class CompareResource(SyncAPIResource):
    def create(
        self,
        params: Optional[CompareParams] = None,
        *,
        timeout: TimeoutArg = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        **fields: Any,
    ) -> CompareResponse:
        """Run the same conversation on several models (``POST /v1/chat/compare``, not streamed).

        Pass a ``CompareParams`` or its fields as keyword arguments (``models=``, ``messages=``, ...).
        A failed model is reported in its ``results[]`` entry (``error``, ``error_code``) and sets
        ``partial``. Raises ``InvalidParamsError`` (a ``ValueError``, as in 0.1.4) when ``stream`` is
        true: use :meth:`stream`.
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
        body = dump_body(_create_params(params, fields), opts, stream=False)
        return self._http.request_model(CompareResponse, "POST", _PATH, body=body, options=opts)

    def stream(
        self,
        params: Optional[CompareParams] = None,
        *,
        timeout: TimeoutArg = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        **fields: Any,
    ) -> CompareStream:
        """Stream a comparison as ``CompareStreamEvent`` items (``"stream": true``); switch on ``.event``.

        Events: ``meta``, ``model_chunk``, ``model_done``, ``comparison_chunk``, ``model_stream_done``,
        ``done``. A model that fails arrives as that model's event with ``error`` set and the others go
        on; only an in-band error object raises ``StreamEventError``. The stream is complete after
        ``done``; ending before it raises ``StreamInterruptedError``. ``get_final()`` returns the
        ``CompareAccumulator`` (per-model text, usage and errors, the synthesis).
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
        return CompareStream(
            lambda: http.send("POST", _PATH, body=body, options=opts, stream=True),
            CompareEventDecoder(),
            max_event_bytes=http.config.max_response_bytes,
        )


class AsyncCompareResource(AsyncAPIResource):
    async def create(
        self,
        params: Optional[CompareParams] = None,
        *,
        timeout: TimeoutArg = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        **fields: Any,
    ) -> CompareResponse:
        """Run the same conversation on several models (``POST /v1/chat/compare``, not streamed).

        Pass a ``CompareParams`` or its fields as keyword arguments (``models=``, ``messages=``, ...).
        A failed model is reported in its ``results[]`` entry (``error``, ``error_code``) and sets
        ``partial``. Raises ``InvalidParamsError`` (a ``ValueError``, as in 0.1.4) when ``stream`` is
        true: use :meth:`stream`.
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
        body = dump_body(_create_params(params, fields), opts, stream=False)
        return await self._http.request_model(CompareResponse, "POST", _PATH, body=body, options=opts)

    def stream(
        self,
        params: Optional[CompareParams] = None,
        *,
        timeout: TimeoutArg = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        **fields: Any,
    ) -> AsyncCompareStream:
        """Stream a comparison as ``CompareStreamEvent`` items (``"stream": true``); switch on ``.event``.

        Events: ``meta``, ``model_chunk``, ``model_done``, ``comparison_chunk``, ``model_stream_done``,
        ``done``. A model that fails arrives as that model's event with ``error`` set and the others go
        on; only an in-band error object raises ``StreamEventError``. The stream is complete after
        ``done``; ending before it raises ``StreamInterruptedError``. ``get_final()`` returns the
        ``CompareAccumulator`` (per-model text, usage and errors, the synthesis).
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
        return AsyncCompareStream(
            lambda: http.send("POST", _PATH, body=body, options=opts, stream=True),
            CompareEventDecoder(),
            max_event_bytes=http.config.max_response_bytes,
        )
