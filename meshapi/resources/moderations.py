"""``client.moderations``: ``POST /v1/moderations``, flags and category scores per input."""

from __future__ import annotations

from typing import Any, Mapping, Optional, Union

from .._core.request import coerce_params, dump_body
from ..types.moderations import ModerationParams, ModerationResponse
from ._base import AsyncAPIResource, SyncAPIResource, TimeoutArg, options

__all__ = ["AsyncModerationsResource", "ModerationsResource"]

_PATH = "/v1/moderations"


class ModerationsResource(SyncAPIResource):
    def create(
        self,
        params: Optional[Union[ModerationParams, str]] = None,
        *,
        timeout: TimeoutArg = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        **fields: Any,
    ) -> ModerationResponse:
        """Classify text (or images) for policy categories; one ``ModerationResult`` per input.

        Pass a ``ModerationParams``, its fields (``input=``, ``model=``; the model defaults to
        ``omni-moderation-latest`` and is always sent), or the text itself: ``create("some text")``.
        """
        opts = options(timeout, extra_headers, extra_body, extra_query=extra_query, max_retries=max_retries,
                       total_timeout=total_timeout, request_id=request_id)  # fmt: skip
        if isinstance(params, str):  # the text itself, positionally
            fields = {"input": params, **fields}
            params = None
        body = dump_body(coerce_params(ModerationParams, params, fields), opts)
        return self._http.request_model(ModerationResponse, "POST", _PATH, body=body, options=opts)


class AsyncModerationsResource(AsyncAPIResource):
    async def create(
        self,
        params: Optional[Union[ModerationParams, str]] = None,
        *,
        timeout: TimeoutArg = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        **fields: Any,
    ) -> ModerationResponse:
        """Classify text (or images) for policy categories; one ``ModerationResult`` per input.

        Pass a ``ModerationParams``, its fields (``input=``, ``model=``; the model defaults to
        ``omni-moderation-latest`` and is always sent), or the text itself: ``create("some text")``.
        """
        opts = options(timeout, extra_headers, extra_body, extra_query=extra_query, max_retries=max_retries,
                       total_timeout=total_timeout, request_id=request_id)  # fmt: skip
        if isinstance(params, str):  # the text itself, positionally
            fields = {"input": params, **fields}
            params = None
        body = dump_body(coerce_params(ModerationParams, params, fields), opts)
        return await self._http.request_model(ModerationResponse, "POST", _PATH, body=body, options=opts)
