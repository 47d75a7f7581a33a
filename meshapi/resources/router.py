"""``client.router``: ``POST /v1/router/select``, the model the auto router would pick (no inference)."""

from __future__ import annotations

from typing import Any, Mapping, Optional

from .._core.request import coerce_params, dump_body
from ..types.router import RouterSelectParams, RouterSelectResponse
from ._base import AsyncAPIResource, SyncAPIResource, TimeoutArg, options

__all__ = ["AsyncRouterResource", "RouterResource"]

_PATH = "/v1/router/select"


class RouterResource(SyncAPIResource):
    def select(
        self,
        params: Optional[RouterSelectParams] = None,
        *,
        timeout: TimeoutArg = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        **fields: Any,
    ) -> RouterSelectResponse:
        """Ask which model ``model="auto"`` would use for these messages, and whether it fell back.

        Pass a ``RouterSelectParams`` or its fields (``messages=`` with at least one message,
        ``api_type=``, ``exclude_models=``, ``candidate_models=``). Nothing is generated or billed
        as inference. Deployments without the auto router answer 403, 404 or 501.
        """
        opts = options(timeout, extra_headers, extra_body, extra_query=extra_query, max_retries=max_retries,
                       total_timeout=total_timeout, request_id=request_id)  # fmt: skip
        body = dump_body(coerce_params(RouterSelectParams, params, fields), opts)
        return self._http.request_model(RouterSelectResponse, "POST", _PATH, body=body, options=opts)


class AsyncRouterResource(AsyncAPIResource):
    async def select(
        self,
        params: Optional[RouterSelectParams] = None,
        *,
        timeout: TimeoutArg = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        **fields: Any,
    ) -> RouterSelectResponse:
        """Ask which model ``model="auto"`` would use for these messages, and whether it fell back.

        Pass a ``RouterSelectParams`` or its fields (``messages=`` with at least one message,
        ``api_type=``, ``exclude_models=``, ``candidate_models=``). Nothing is generated or billed
        as inference. Deployments without the auto router answer 403, 404 or 501.
        """
        opts = options(timeout, extra_headers, extra_body, extra_query=extra_query, max_retries=max_retries,
                       total_timeout=total_timeout, request_id=request_id)  # fmt: skip
        body = dump_body(coerce_params(RouterSelectParams, params, fields), opts)
        return await self._http.request_model(RouterSelectResponse, "POST", _PATH, body=body, options=opts)
