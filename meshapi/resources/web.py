"""``client.web``: ``POST /v1/web/search``, ranked web results and an optional short answer."""

from __future__ import annotations

from typing import Any, Mapping, Optional, Union

from .._core.request import coerce_params, dump_body
from ..types.web import WebSearchParams, WebSearchResponse
from ._base import AsyncAPIResource, SyncAPIResource, TimeoutArg, options

__all__ = ["AsyncWebResource", "WebResource"]

_PATH = "/v1/web/search"


class WebResource(SyncAPIResource):
    def search(
        self,
        params: Optional[Union[WebSearchParams, str]] = None,
        *,
        timeout: TimeoutArg = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        **fields: Any,
    ) -> WebSearchResponse:
        """Search the web; ``.results`` are ranked, ``.answer`` is set with ``include_answer=True``.

        Pass a ``WebSearchParams``, its fields (``query=``, ``max_results=``, ``include_domains=``,
        ``exclude_domains=``, ``search_depth=``), or the query itself: ``search("python httpx")``.
        Deployments without web search answer 403, 404 or 501.
        """
        opts = options(timeout, extra_headers, extra_body, extra_query=extra_query, max_retries=max_retries,
                       total_timeout=total_timeout, request_id=request_id)  # fmt: skip
        if isinstance(params, str):  # the text itself, positionally
            fields = {"query": params, **fields}
            params = None
        body = dump_body(coerce_params(WebSearchParams, params, fields), opts)
        return self._http.request_model(WebSearchResponse, "POST", _PATH, body=body, options=opts)


class AsyncWebResource(AsyncAPIResource):
    async def search(
        self,
        params: Optional[Union[WebSearchParams, str]] = None,
        *,
        timeout: TimeoutArg = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        **fields: Any,
    ) -> WebSearchResponse:
        """Search the web; ``.results`` are ranked, ``.answer`` is set with ``include_answer=True``.

        Pass a ``WebSearchParams``, its fields (``query=``, ``max_results=``, ``include_domains=``,
        ``exclude_domains=``, ``search_depth=``), or the query itself: ``search("python httpx")``.
        Deployments without web search answer 403, 404 or 501.
        """
        opts = options(timeout, extra_headers, extra_body, extra_query=extra_query, max_retries=max_retries,
                       total_timeout=total_timeout, request_id=request_id)  # fmt: skip
        if isinstance(params, str):  # the text itself, positionally
            fields = {"query": params, **fields}
            params = None
        body = dump_body(coerce_params(WebSearchParams, params, fields), opts)
        return await self._http.request_model(WebSearchResponse, "POST", _PATH, body=body, options=opts)
