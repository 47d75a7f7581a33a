"""What every resource class shares: the transport it talks through, the per-call options, and the
``with_raw_response`` / ``with_streaming_response`` proxies (``meshapi._response``), which every
resource inherits without code of its own."""

from __future__ import annotations

from typing import Any, Mapping, Optional, Union

import httpx

from .._core.request import RequestOptions
from .._transport.client import AsyncHttpClient, SyncHttpClient

__all__ = ["AsyncAPIResource", "SyncAPIResource", "TimeoutArg", "options"]

TimeoutArg = Optional[Union[float, httpx.Timeout]]


def options(
    timeout: TimeoutArg = None,
    extra_headers: Optional[Mapping[str, str]] = None,
    extra_body: Optional[Mapping[str, Any]] = None,
    *,
    extra_query: Optional[Mapping[str, Any]] = None,
    max_retries: Optional[int] = None,
    total_timeout: Optional[float] = None,
    request_id: Optional[str] = None,
) -> RequestOptions:
    """Validate the per-call keyword arguments every method accepts.

    The full per-call option set, in this order, keyword-only on every resource method:
    ``timeout, max_retries, extra_headers, extra_query, extra_body, total_timeout, request_id``.
    """
    return RequestOptions.build(
        timeout,
        extra_headers,
        extra_body,
        extra_query=extra_query,
        max_retries=max_retries,
        total_timeout=total_timeout,
        request_id=request_id,
    )


class SyncAPIResource:
    def __init__(self, http: SyncHttpClient) -> None:
        self._http = http

    @property
    def with_raw_response(self) -> Any:
        """The same methods, returning a ``RawResponse`` (status, headers, retries, ``parse()``)."""
        from .._response import SyncProxy

        return SyncProxy(self, streaming=False)

    @property
    def with_streaming_response(self) -> Any:
        """The same methods as context managers over the unread response (``StreamedResponse``)."""
        from .._response import SyncProxy

        return SyncProxy(self, streaming=True)


class AsyncAPIResource:
    def __init__(self, http: AsyncHttpClient) -> None:
        self._http = http

    @property
    def with_raw_response(self) -> Any:
        """The same methods, returning a ``RawResponse`` (status, headers, retries, ``parse()``)."""
        from .._response import AsyncProxy

        return AsyncProxy(self, streaming=False)

    @property
    def with_streaming_response(self) -> Any:
        """The same methods as async context managers over the unread response (``AsyncStreamedResponse``)."""
        from .._response import AsyncProxy

        return AsyncProxy(self, streaming=True)
