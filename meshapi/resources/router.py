"""``client.router``: ``POST /v1/router/select``, the model the auto router would pick (no inference)."""

from __future__ import annotations

from typing import Optional

from .._core.request import CallOptions, coerce_params, dump_body, split_options
from ..types.router import RouterSelectFields, RouterSelectParams, RouterSelectResponse
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

__all__ = ["AsyncRouterResource", "RouterResource"]

_PATH = "/v1/router/select"


class RouterSelectArgs(RouterSelectFields, CallOptions, total=False):
    """The keywords of the methods that take a ``RouterSelectParams``: its fields and the per-call options."""


class RouterResource(SyncAPIResource["RouterViews[Raw]", "RouterViews[Streaming]"]):
    def select(
        self,
        params: Optional[RouterSelectParams] = None,
        **kwargs: Unpack[RouterSelectArgs],
    ) -> RouterSelectResponse:
        """Ask which model ``model="auto"`` would use for these messages, and whether it fell back.

        Pass a ``RouterSelectParams`` or its fields (``messages=`` with at least one message,
        ``api_type=``, ``exclude_models=``, ``candidate_models=``). Nothing is generated or billed
        as inference. Deployments without the auto router answer 403, 404 or 501.
        """
        opts, fields = split_options(kwargs)
        body = dump_body(coerce_params(RouterSelectParams, params, fields), opts)
        return self._http.request_model(RouterSelectResponse, "POST", _PATH, body=body, options=opts)


class AsyncRouterResource(AsyncAPIResource["RouterViews[AsyncRaw]", "RouterViews[AsyncStreaming]"]):
    async def select(
        self,
        params: Optional[RouterSelectParams] = None,
        **kwargs: Unpack[RouterSelectArgs],
    ) -> RouterSelectResponse:
        """Ask which model ``model="auto"`` would use for these messages, and whether it fell back.

        Pass a ``RouterSelectParams`` or its fields (``messages=`` with at least one message,
        ``api_type=``, ``exclude_models=``, ``candidate_models=``). Nothing is generated or billed
        as inference. Deployments without the auto router answer 403, 404 or 501.
        """
        opts, fields = split_options(kwargs)
        body = dump_body(coerce_params(RouterSelectParams, params, fields), opts)
        return await self._http.request_model(RouterSelectResponse, "POST", _PATH, body=body, options=opts)


class RouterViews(Views[M]):
    """The typed ``with_raw_response`` / ``with_streaming_response`` of ``RouterResource`` and its twin."""

    select = view(RouterResource.select, AsyncRouterResource.select)
