"""``client.web``: ``POST /v1/web/search``, ranked web results and an optional short answer."""

from __future__ import annotations

from typing import Optional, Union

from .._core.request import CallOptions, coerce_params, dump_body, split_options
from ..types.web import WebSearchFields, WebSearchParams, WebSearchResponse
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

__all__ = ["AsyncWebResource", "WebResource"]

_PATH = "/v1/web/search"


class WebSearchArgs(WebSearchFields, CallOptions, total=False):
    """The keywords of the methods that take a ``WebSearchParams``: its fields and the per-call options."""


class WebResource(SyncAPIResource["WebViews[Raw]", "WebViews[Streaming]"]):
    def search(
        self,
        params: Optional[Union[WebSearchParams, str]] = None,
        **kwargs: Unpack[WebSearchArgs],
    ) -> WebSearchResponse:
        """Search the web; ``.results`` are ranked, ``.answer`` is set with ``include_answer=True``.

        Pass a ``WebSearchParams``, its fields (``query=``, ``max_results=``, ``include_domains=``,
        ``exclude_domains=``, ``search_depth=``), or the query itself: ``search("python httpx")``.
        ``include_page_content=True`` with ``provider="tinyfish"`` adds each result's page text
        (``page_content``, ``page_content_truncated``). Deployments without web search answer 403, 404 or 501.
        """
        opts, fields = split_options(kwargs)
        if isinstance(params, str):  # the text itself, positionally
            fields = {"query": params, **fields}
            params = None
        body = dump_body(coerce_params(WebSearchParams, params, fields), opts)
        return self._http.request_model(WebSearchResponse, "POST", _PATH, body=body, options=opts)


class AsyncWebResource(AsyncAPIResource["WebViews[AsyncRaw]", "WebViews[AsyncStreaming]"]):
    async def search(
        self,
        params: Optional[Union[WebSearchParams, str]] = None,
        **kwargs: Unpack[WebSearchArgs],
    ) -> WebSearchResponse:
        """Search the web; ``.results`` are ranked, ``.answer`` is set with ``include_answer=True``.

        Pass a ``WebSearchParams``, its fields (``query=``, ``max_results=``, ``include_domains=``,
        ``exclude_domains=``, ``search_depth=``), or the query itself: ``search("python httpx")``.
        ``include_page_content=True`` with ``provider="tinyfish"`` adds each result's page text
        (``page_content``, ``page_content_truncated``). Deployments without web search answer 403, 404 or 501.
        """
        opts, fields = split_options(kwargs)
        if isinstance(params, str):  # the text itself, positionally
            fields = {"query": params, **fields}
            params = None
        body = dump_body(coerce_params(WebSearchParams, params, fields), opts)
        return await self._http.request_model(WebSearchResponse, "POST", _PATH, body=body, options=opts)


class WebViews(Views[M]):
    """The typed ``with_raw_response`` / ``with_streaming_response`` of ``WebResource`` and its twin."""

    search = view(WebResource.search, AsyncWebResource.search)
