"""When the gateway raises a webhook event: thresholds crossed, each rung once (docs/protocol.md §V9.2).

Pure bookkeeping, no I/O: the billing and rate-limit code report what they counted, and :class:`Alerts`
answers with the events to send, as ``(type, data)`` pairs.

* ``balance.low``: an owner's balance (``balance_usd``, holds not counted) fell below
  ``balance_low_usd`` (default :data:`DEFAULT_BALANCE_LOW`); once, until the balances are reset.
* ``spend_cap.approaching`` / ``spend_cap.hit``: with a ``spend_cap_usd`` set (none by default), what an
  owner spent since the start (or the last reset) reached each percentage of ``spend_cap_pcts`` (default
  80) below 100, then the cap itself. A key whose cap is reached gets ``402 spend_limit_exceeded`` on
  paid requests (``http/billing.py``). Scope ``key``.
* ``rate_limit.threshold``: the RPM or RPD counter of an owner with such a limit reached each percentage
  of ``rate_limit_pcts`` (default 80 and 100) of it; once per rung and window (a new UTC minute or day
  counts afresh). Scope ``key``.

Each rung of a ladder is debounced on its own, so crossing several at once sends each. ``configure()``
changes the thresholds at run time (admin API); ``reset()`` restores the start-up ones (and re-arms
the rate-limit rungs, with the counters), ``forget()`` (with the balances) re-arms the others.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, Dict, List, Optional, Set, Tuple

from ..store.usage import money

__all__ = ["DEFAULT_BALANCE_LOW", "AlertSettings", "Alerts", "Raised"]

#: The balance floor of ``balance.low`` unless configured.
DEFAULT_BALANCE_LOW = Decimal("10")

#: One event to send: its type and its ``data``.
Raised = Tuple[str, Dict[str, Any]]


def _pct(part: Decimal, whole: Decimal) -> float:
    return float(round(part * 100 / whole, 2)) if whole > 0 else 100.0


def check_pcts(values: Any, name: str) -> Tuple[float, ...]:
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise ValueError(f"{name} must be a list of percentages")
    out = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 100:
            raise ValueError(
                f"{name}: each percentage must be a number above 0 and at most 100, got {value!r}"
            )
        out.append(float(value))
    return tuple(sorted(set(out)))


@dataclass(frozen=True)
class AlertSettings:
    """The thresholds; see the module docstring."""

    balance_low_usd: Optional[Decimal] = DEFAULT_BALANCE_LOW
    spend_cap_usd: Optional[Decimal] = None
    spend_cap_pcts: Tuple[float, ...] = (80.0,)
    rate_limit_pcts: Tuple[float, ...] = (80.0, 100.0)

    def view(self) -> Dict[str, Any]:
        return {
            "balance_low_usd": None if self.balance_low_usd is None else money(self.balance_low_usd),
            "spend_cap_usd": None if self.spend_cap_usd is None else money(self.spend_cap_usd),
            "spend_cap_pcts": list(self.spend_cap_pcts),
            "rate_limit_pcts": list(self.rate_limit_pcts),
        }


class Alerts:
    """The current thresholds and the rungs already crossed, per owner."""

    def __init__(self, start: AlertSettings) -> None:
        self._start = start
        self.settings = start
        self._lock = threading.Lock()
        self._fired: Set[Tuple[str, str, Any]] = set()  # (owner, event, rung) since the last forget()
        self._windows: Dict[Tuple[str, str], Tuple[int, Set[float]]] = {}  # rate limits: per window

    def configure(self, **changes: Any) -> AlertSettings:
        """New thresholds (the fields of :class:`AlertSettings`); rungs already crossed stay crossed."""
        with self._lock:
            self.settings = replace(self.settings, **changes)
            return self.settings

    def _once(self, owner: str, event: str, rung: Any) -> bool:
        key = (owner, event, rung)
        if key in self._fired:
            return False
        self._fired.add(key)
        return True

    def charged(self, owner: str, balance: Decimal, spent: Decimal) -> List[Raised]:
        """The events one charge raises: ``balance`` left and ``spent`` in all after it."""
        raised: List[Raised] = []
        with self._lock:
            floor, cap = self.settings.balance_low_usd, self.settings.spend_cap_usd
            if floor is not None and balance < floor and self._once(owner, "balance.low", floor):
                raised.append(
                    (
                        "balance.low",
                        {"key_id": owner, "balance_usd": money(balance), "threshold_usd": money(floor)},
                    )
                )
            if cap is None:
                return raised
            pct = _pct(spent, cap)
            base = {"scope": "key", "scope_id": owner, "key_id": owner, "spent_usd": money(spent)}
            for rung in self.settings.spend_cap_pcts:
                if rung < 100 and pct >= rung and self._once(owner, "spend_cap.approaching", (cap, rung)):
                    raised.append(("spend_cap.approaching", {**base, "cap_usd": money(cap), "pct": pct}))
            if spent >= cap and self._once(owner, "spend_cap.hit", cap):
                raised.append(("spend_cap.hit", {**base, "cap_usd": money(cap), "pct": pct}))
        return raised

    def counted(
        self, owner: str, metric: str, window: int, current: int, limit: Optional[int]
    ) -> List[Raised]:
        """The events one counted request raises: ``current`` of ``limit`` (``rpm``/``rpd``) in ``window``."""
        if limit is None or limit <= 0:
            return []
        pct = _pct(Decimal(current), Decimal(limit))
        raised: List[Raised] = []
        with self._lock:
            seen_window, rungs = self._windows.get((owner, metric), (window, set()))
            if seen_window != window:
                rungs = set()
            for rung in self.settings.rate_limit_pcts:
                if pct >= rung and rung not in rungs:
                    rungs.add(rung)
                    raised.append(
                        (
                            "rate_limit.threshold",
                            {
                                "scope": "key",
                                "scope_id": owner,
                                "key_id": owner,
                                "metric": metric,
                                "current": current,
                                "limit": limit,
                                "pct": pct,
                            },
                        )
                    )
            self._windows[(owner, metric)] = (window, rungs)
        return raised

    def reset(self) -> None:
        """The start-up thresholds again, rate-limit windows afresh (with the counters); the balance and
        spend rungs crossed are kept until :meth:`forget`."""
        with self._lock:
            self.settings = self._start
            self._windows.clear()

    def forget(self) -> None:
        """Every rung crossable again (the balances and counters start afresh)."""
        with self._lock:
            self._fired.clear()
            self._windows.clear()
