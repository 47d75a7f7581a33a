"""``client.balance``: the account balance, what running work holds and what is left
(``GET /v1/balance``, docs/protocol.md §V2.5). Money comes back as ``Decimal``."""

from __future__ import annotations

from functools import partial

from .._core.request import CallOptions, call_options
from .._core.response import decode_money_model
from ..types.usage import Balance
from ._base import (
    AsyncAPIResource,
    AsyncRaw,
    AsyncStreaming,
    M,
    Planned,
    Raw,
    Streaming,
    SyncAPIResource,
    Unpack,
    Views,
    view,
)

__all__ = ["AsyncBalanceResource", "BalanceResource"]


def _balance(options: CallOptions) -> Planned[Balance]:
    return Planned(partial(decode_money_model, Balance), "GET", "/v1/balance", call_options(options))


class BalanceResource(SyncAPIResource["BalanceViews[Raw]", "BalanceViews[Streaming]"]):
    def get(
        self,
        **options: Unpack[CallOptions],
    ) -> Balance:
        """The balance (``balance_usd``), the funds held by running batches, background responses, videos
        and realtime sessions (``reserved_usd``, by category in ``reserved_breakdown``) and what is
        left to spend (``available_usd``). Never cached."""
        return self._call(_balance(options))


class AsyncBalanceResource(AsyncAPIResource["BalanceViews[AsyncRaw]", "BalanceViews[AsyncStreaming]"]):
    async def get(
        self,
        **options: Unpack[CallOptions],
    ) -> Balance:
        """The balance (``balance_usd``), the funds held by running batches, background responses, videos
        and realtime sessions (``reserved_usd``, by category in ``reserved_breakdown``) and what is
        left to spend (``available_usd``). Never cached."""
        return await self._call(_balance(options))


class BalanceViews(Views[M]):
    """The typed ``with_raw_response`` / ``with_streaming_response`` of ``BalanceResource`` and its twin."""

    get = view(BalanceResource.get, AsyncBalanceResource.get)
