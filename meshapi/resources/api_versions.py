"""``client.api_versions``: the API versions the gateway serves (``GET /v1/api-versions``).

The answer is a bare JSON array, oldest first (docs/protocol.md §V1.2). Pin one with
``MeshAPI(api_version=...)`` or a call's ``api_version=``.
"""

from __future__ import annotations

from .._core.request import CallOptions, call_options
from .._core.response import ListResponse, parse_list
from ..types.api_versions import APIVersionInfo
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

__all__ = ["APIVersionsResource", "AsyncAPIVersionsResource"]


class APIVersionsResource(SyncAPIResource["APIVersionsViews[Raw]", "APIVersionsViews[Streaming]"]):
    def list(
        self,
        **options: Unpack[CallOptions],
    ) -> ListResponse[APIVersionInfo]:
        """Every API version served, oldest first: a list of ``APIVersionInfo`` that also carries
        ``request_id`` and ``response``. Exactly one entry is the ``baseline`` (what unpinned requests get)."""
        response = self._http.send("GET", "/v1/api-versions", options=call_options(options))
        return parse_list(APIVersionInfo, response)


class AsyncAPIVersionsResource(
    AsyncAPIResource["APIVersionsViews[AsyncRaw]", "APIVersionsViews[AsyncStreaming]"]
):
    async def list(
        self,
        **options: Unpack[CallOptions],
    ) -> ListResponse[APIVersionInfo]:
        """Every API version served, oldest first: a list of ``APIVersionInfo`` that also carries
        ``request_id`` and ``response``. Exactly one entry is the ``baseline`` (what unpinned requests get)."""
        response = await self._http.send("GET", "/v1/api-versions", options=call_options(options))
        return parse_list(APIVersionInfo, response)


class APIVersionsViews(Views[M]):
    """The typed ``with_raw_response`` / ``with_streaming_response`` of ``APIVersionsResource`` and its twin."""

    list = view(APIVersionsResource.list, AsyncAPIVersionsResource.list)
