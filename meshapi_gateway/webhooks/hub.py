"""The gateway's webhooks in one object: endpoints, alert thresholds, the delivery worker (docs/protocol.md §V9).

``GatewayState.webhooks`` (``Gateway.webhooks``) is a :class:`WebhookHub`. Billing reports each charge
(:meth:`WebhookHub.charged`), the rate-limit middleware each counted request (:meth:`WebhookHub.counted`);
the hub asks :class:`~.alerts.Alerts` which events that raises and queues one delivery per endpoint that
wants the event. Nothing is built or counted while no endpoint is registered.

The envelope (our definition; the documented fields are ``created_at``, ``data`` and ``test``)::

    {"id": "evt_<24 hex>", "type": "balance.low", "created_at": "<ISO 8601>", "test": false, "data": {...}}
"""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any, Dict, List, Optional, Sequence

from ..faults.plan import FaultPlan
from ..ids import hex_id, iso_timestamp
from ..settings import GatewaySettings
from .alerts import Alerts, AlertSettings, check_pcts
from .delivery import Delivery, DeliveryWorker
from .endpoints import Endpoint, Endpoints, new_endpoint, parse_endpoints

__all__ = ["SPEED_RANGE", "WebhookHub", "alert_settings"]

#: What ``webhook_speed`` may be: how many times faster than the documented retry schedule.
SPEED_RANGE = (0.001, 1_000_000.0)


def _amount(value: Any, name: str) -> Optional[Decimal]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise ValueError(f"{name} must be a decimal string, an int or a Decimal, got {type(value).__name__}")
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else value)
    except ArithmeticError:
        raise ValueError(f"{name} must be an amount in USD, got {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"{name} must be a finite amount of at least 0, got {value!r}")
    return amount


def alert_settings(**fields: Any) -> Dict[str, Any]:
    """The :class:`AlertSettings` fields given, checked (amounts as ``Decimal``); ``ValueError`` if bad."""
    out: Dict[str, Any] = {}
    for name, value in fields.items():
        if name in ("balance_low_usd", "spend_cap_usd"):
            out[name] = _amount(value, name)
        elif name in ("spend_cap_pcts", "rate_limit_pcts"):
            out[name] = check_pcts(value, name)
        else:
            raise ValueError(f"unknown alert setting {name!r}")
    return out


class WebhookHub:
    """Endpoints, thresholds and deliveries of one gateway (see the module docstring)."""

    def __init__(self, settings: GatewaySettings, faults: FaultPlan) -> None:
        speed, timeout = settings.webhook_speed, settings.webhook_timeout
        if (
            isinstance(speed, bool)
            or not isinstance(speed, (int, float))
            or not SPEED_RANGE[0] <= speed <= SPEED_RANGE[1]
        ):
            raise ValueError(f"webhook_speed must be {SPEED_RANGE[0]:g} to {SPEED_RANGE[1]:g}, got {speed!r}")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 600:
            raise ValueError(f"webhook_timeout must be more than 0 and at most 600 seconds, got {timeout!r}")
        self.endpoints = Endpoints(parse_endpoints(settings.webhooks, settings.webhook_secret))
        self.alerts = Alerts(
            AlertSettings(
                **alert_settings(
                    balance_low_usd=settings.balance_low_usd,
                    spend_cap_usd=settings.spend_cap_usd,
                    spend_cap_pcts=settings.spend_cap_pcts,
                    rate_limit_pcts=settings.rate_limit_pcts,
                )
            )
        )
        self.worker = DeliveryWorker(self.endpoints, speed=float(speed), timeout=float(timeout))
        self._faults = faults

    # -- endpoints ---------------------------------------------------------------------------------
    def register(self, url: Any, secret: Any, events: Optional[Sequence[str]] = None) -> Endpoint:
        """Deliver to ``url`` from now on, signed with ``secret`` (only ``events`` when given); until reset.

        Raises ``ValueError`` for a URL that is not absolute ``http(s)``, an empty secret, an unknown event."""
        return self.endpoints.add(new_endpoint(url, secret, events))

    def unregister(self, endpoint_id: str) -> bool:
        return self.endpoints.remove(endpoint_id)

    def configure(self, **thresholds: Any) -> AlertSettings:
        """New alert thresholds (``balance_low_usd``, ``spend_cap_usd``, ``spend_cap_pcts``, ``rate_limit_pcts``)."""
        return self.alerts.configure(**alert_settings(**thresholds))

    # -- raising events ----------------------------------------------------------------------------
    def emit(self, event_type: str, data: Dict[str, Any], *, test: bool = False) -> Optional[str]:
        """Queue ``event_type`` for every endpoint that wants it; its id, or ``None`` when none does."""
        targets = [e for e in self.endpoints.all() if e.wants(event_type)]
        if not targets:
            return None
        event_id = hex_id("evt_", 24)
        envelope = {
            "id": event_id,
            "type": event_type,
            "created_at": iso_timestamp(time.time()),
            "test": test,
            "data": data,
        }
        body = json.dumps(envelope, separators=(",", ":")).encode("utf-8")
        for endpoint in targets:
            fault = self._faults.take_webhook(event_type)
            copies = 1 + ((fault.webhook_duplicates or 0) if fault is not None else 0)
            for _ in range(copies):
                self.worker.submit(
                    Delivery(
                        event_id,
                        event_type,
                        endpoint.id,
                        endpoint.url,
                        body,
                        hold=(fault.webhook_delay or 0.0) if fault is not None else 0.0,
                        stale=(fault.webhook_stale_seconds or 0.0) if fault is not None else 0.0,
                    )
                )
        return event_id

    def charged(self, owner: str, balance: Decimal, spent: Decimal) -> None:
        """After a charge: ``balance`` left and ``spent`` in all by ``owner``."""
        if len(self.endpoints):
            for event_type, data in self.alerts.charged(owner, balance, spent):
                self.emit(event_type, data)

    def counted(self, owner: str, limiter: Any, now: Optional[float] = None) -> None:
        """After a request counted by ``limiter`` (``rpm``, ``rpd``, ``counters(owner, now)``)."""
        if not len(self.endpoints) or (limiter.rpm is None and limiter.rpd is None):
            return
        now = time.time() if now is None else now
        minute, day = limiter.counters(owner, now)
        raised = self.alerts.counted(owner, "rpm", int(now // 60), minute, limiter.rpm)
        raised += self.alerts.counted(owner, "rpd", int(now // 86400), day, limiter.rpd)
        for event_type, data in raised:
            self.emit(event_type, data)

    # -- what happened -----------------------------------------------------------------------------
    def deliveries(self) -> List[Delivery]:
        """Every delivery logged (bounded), oldest first, with its attempts."""
        return self.worker.deliveries()

    def reset(self, *, requests: bool = False) -> None:
        """Start-up endpoints and thresholds, no queued deliveries, an empty log; with ``requests`` (the
        balances start afresh) every threshold can be crossed again."""
        self.endpoints.reset()
        self.alerts.reset()
        self.worker.clear()
        if requests:
            self.alerts.forget()

    def close(self) -> None:
        self.worker.close()
