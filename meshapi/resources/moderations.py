"""``client.moderations``: ``POST /v1/moderations``, flags and category scores per input."""

from __future__ import annotations

from typing import Optional, Union

from .._core.request import CallOptions, coerce_params, dump_body, split_options
from ..types.moderations import ModerationFields, ModerationParams, ModerationResponse
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

__all__ = ["AsyncModerationsResource", "ModerationsResource"]

_PATH = "/v1/moderations"


class ModerationArgs(ModerationFields, CallOptions, total=False):
    """The keywords of the methods that take a ``ModerationParams``: its fields and the per-call options."""


class ModerationsResource(SyncAPIResource["ModerationsViews[Raw]", "ModerationsViews[Streaming]"]):
    def create(
        self,
        params: Optional[Union[ModerationParams, str]] = None,
        **kwargs: Unpack[ModerationArgs],
    ) -> ModerationResponse:
        """Classify text (or images) for policy categories; one ``ModerationResult`` per input.

        Pass a ``ModerationParams``, its fields (``input=``, ``model=``; the model defaults to
        ``omni-moderation-latest`` and is always sent), or the text itself: ``create("some text")``.
        """
        opts, fields = split_options(kwargs)
        if isinstance(params, str):  # the text itself, positionally
            fields = {"input": params, **fields}
            params = None
        body = dump_body(coerce_params(ModerationParams, params, fields), opts)
        return self._http.request_model(ModerationResponse, "POST", _PATH, body=body, options=opts)


class AsyncModerationsResource(
    AsyncAPIResource["ModerationsViews[AsyncRaw]", "ModerationsViews[AsyncStreaming]"]
):
    async def create(
        self,
        params: Optional[Union[ModerationParams, str]] = None,
        **kwargs: Unpack[ModerationArgs],
    ) -> ModerationResponse:
        """Classify text (or images) for policy categories; one ``ModerationResult`` per input.

        Pass a ``ModerationParams``, its fields (``input=``, ``model=``; the model defaults to
        ``omni-moderation-latest`` and is always sent), or the text itself: ``create("some text")``.
        """
        opts, fields = split_options(kwargs)
        if isinstance(params, str):  # the text itself, positionally
            fields = {"input": params, **fields}
            params = None
        body = dump_body(coerce_params(ModerationParams, params, fields), opts)
        return await self._http.request_model(ModerationResponse, "POST", _PATH, body=body, options=opts)


class ModerationsViews(Views[M]):
    """The typed ``with_raw_response`` / ``with_streaming_response`` of ``ModerationsResource`` and its twin."""

    create = view(ModerationsResource.create, AsyncModerationsResource.create)
