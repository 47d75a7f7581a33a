"""Webhook events: what ``meshapi.webhooks.unwrap()`` returns (docs/protocol.md §V9.2).

A delivery's body is an envelope: ``id`` (the event id, also sent as ``Mesh-Event-Id``), ``type``,
``created_at``, ``test`` and ``data``. Only ``created_at``, ``data`` and the test flag are documented, so
every field is optional and unknown fields are kept (``model_extra``), on the envelope and on ``data``.
Money is ``decimal.Decimal`` (the body is read with ``parse_float=Decimal``, strings digit for digit).
An event type this SDK does not know becomes :class:`UnknownWebhookEvent` with ``data`` as a dict.
"""

from decimal import Decimal
from typing import Any, Dict, Literal, Optional, Union

from pydantic import ConfigDict, Field

from ._base import MeshModel

__all__ = [
    "BalanceLowData",
    "BalanceLowEvent",
    "LimitEventData",
    "RateLimitThresholdData",
    "RateLimitThresholdEvent",
    "SpendCapApproachingEvent",
    "SpendCapData",
    "SpendCapHitEvent",
    "UnknownWebhookEvent",
    "WebhookEvent",
]


class _Open(MeshModel):
    model_config = ConfigDict(extra="allow")


class BalanceLowData(_Open):
    """``balance.low``: the balance fell below ``threshold_usd``."""

    key_id: Optional[str] = None
    balance_usd: Optional[Decimal] = None
    threshold_usd: Optional[Decimal] = None


class LimitEventData(_Open):
    """What every limit event carries: the ``scope`` the limit applies at, its id, and ``key_id``
    (``None`` unless the scope is ``key``)."""

    scope: Optional[str] = None
    scope_id: Optional[str] = None
    key_id: Optional[str] = None


class SpendCapData(LimitEventData):
    """``spend_cap.approaching`` / ``spend_cap.hit``: what was spent against the cap (``pct`` 0-100)."""

    spent_usd: Optional[Decimal] = None
    cap_usd: Optional[Decimal] = None
    pct: Optional[Decimal] = None


class RateLimitThresholdData(LimitEventData):
    """``rate_limit.threshold``: a rate-limit ``metric`` (``rpm``, ``rpd``, ``tpm``) reached ``pct``
    percent of its ``limit`` (``current`` counted in the window)."""

    metric: Optional[str] = None
    current: Optional[int] = None
    limit: Optional[int] = None
    pct: Optional[Decimal] = None


class _Envelope(_Open):
    id: Optional[str] = None
    created_at: Optional[str] = None
    test: bool = False


class BalanceLowEvent(_Envelope):
    """The balance dropped below a floor."""

    type: Literal["balance.low"] = "balance.low"
    data: BalanceLowData = Field(default_factory=BalanceLowData)


class SpendCapApproachingEvent(_Envelope):
    """Spending crossed a percentage of a key's spend cap."""

    type: Literal["spend_cap.approaching"] = "spend_cap.approaching"
    data: SpendCapData = Field(default_factory=SpendCapData)


class SpendCapHitEvent(_Envelope):
    """Spending reached a spend cap: further paid requests are refused."""

    type: Literal["spend_cap.hit"] = "spend_cap.hit"
    data: SpendCapData = Field(default_factory=SpendCapData)


class RateLimitThresholdEvent(_Envelope):
    """A rate-limit counter crossed a percentage of its limit."""

    type: Literal["rate_limit.threshold"] = "rate_limit.threshold"
    data: RateLimitThresholdData = Field(default_factory=RateLimitThresholdData)


class UnknownWebhookEvent(_Envelope):
    """An event type this SDK has no class for: ``type`` as sent, ``data`` as a dict."""

    type: Optional[str] = None
    data: Dict[str, Any] = Field(default_factory=dict)


WebhookEvent = Union[
    BalanceLowEvent, SpendCapApproachingEvent, SpendCapHitEvent, RateLimitThresholdEvent, UnknownWebhookEvent
]
