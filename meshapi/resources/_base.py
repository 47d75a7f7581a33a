"""What every resource class shares: the transport it talks through, and the per-call options."""

from __future__ import annotations

from typing import Any, Mapping, Optional, Union

import httpx

from .._core.request import RequestOptions
from .._http import AsyncHttpClient, SyncHttpClient

__all__ = ["AsyncAPIResource", "SyncAPIResource", "TimeoutArg", "options"]

TimeoutArg = Optional[Union[float, httpx.Timeout]]


def options(
    timeout: TimeoutArg = None,
    extra_headers: Optional[Mapping[str, str]] = None,
    extra_body: Optional[Mapping[str, Any]] = None,
) -> RequestOptions:
    """Validate the per-call keyword arguments every method accepts."""
    return RequestOptions.build(timeout, extra_headers, extra_body)


class SyncAPIResource:
    def __init__(self, http: SyncHttpClient) -> None:
        self._http = http


class AsyncAPIResource:
    def __init__(self, http: AsyncHttpClient) -> None:
        self._http = http
