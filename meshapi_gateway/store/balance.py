"""The balance of each owner: a starting amount, minus what each request cost, minus what running work
holds (docs/protocol.md §V2.5).

Every owner (one per token) starts with ``GatewaySettings.balance`` USD (default
:data:`DEFAULT_BALANCE`; ``meshapi gateway --balance USD``, ``serve(balance=...)``). ``charge()`` takes
a served request's cost. ``hold()`` reserves funds for work that runs after its request has been
answered, in one of :data:`CATEGORIES`; a hold ends when ``release()`` is called or when its ``running``
check says the work is over (a batch or video task finishes on the clock; the check is asked whenever
the balance is read). ``available = max(0, balance - reserved)``; a paid request finding nothing
available is refused with ``402 spend_limit_exceeded`` before its model runs (``http/billing.py``).
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Dict, Optional, Tuple, Union

from ..ids import iso_timestamp
from .usage import money

__all__ = ["CATEGORIES", "DEFAULT_BALANCE", "REALTIME_HOLD", "BalanceBook", "parse_amount"]

#: What every owner starts with unless the gateway is told otherwise.
DEFAULT_BALANCE = Decimal("1000")
#: A realtime session needs this much available to open and holds it while it runs (docs/protocol.md §1.9).
REALTIME_HOLD = Decimal("10")
#: The ``reserved_breakdown`` keys, in the order they are shown.
CATEGORIES = ("batches", "background_responses", "videos", "realtime")

Amount = Union[str, int, Decimal]


def parse_amount(value: Any, *, name: str = "balance") -> Decimal:
    """A non-negative finite USD amount (``"25"``, ``"0.50"``, ``25``, a ``Decimal``); floats are refused
    (money is never a float). Raises ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise ValueError(f"{name} must be a decimal string, an int or a Decimal, got {type(value).__name__}")
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise ValueError(f"{name} must be a decimal amount in USD, got {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"{name} must be a finite amount of at least 0, got {value!r}")
    return amount


@dataclass
class _Hold:
    category: str
    amount: Decimal
    running: Optional[Callable[[], bool]]


class _Account:
    def __init__(self, start: Decimal, at: float) -> None:
        self.spent = Decimal(0)
        self.start = start
        self.holds: Dict[int, _Hold] = {}
        self.updated_at = at


class BalanceBook:
    """Every owner's account (created on first use with the starting amount)."""

    def __init__(self, start: Decimal, clock: Callable[[], float] = time.time) -> None:
        self.start = start
        self._clock = clock
        self._lock = threading.RLock()
        self._accounts: Dict[str, _Account] = {}
        self._ids = itertools.count(1)

    def _account(self, owner: str) -> _Account:
        account = self._accounts.get(owner)
        if account is None:
            account = self._accounts[owner] = _Account(self.start, self._clock())
        return account

    def charge(self, owner: str, cost: Decimal) -> None:
        """Take a served request's cost (the balance may go below zero by the last request's cost)."""
        if cost == 0:
            return
        with self._lock:
            account = self._account(owner)
            account.spent += cost
            account.updated_at = self._clock()

    def hold(
        self, owner: str, category: str, amount: Decimal, running: Optional[Callable[[], bool]] = None
    ) -> int:
        """Reserve ``amount`` for running work; the hold's id, for ``release()``."""
        if category not in CATEGORIES:
            raise ValueError(f"unknown reservation category {category!r}")
        with self._lock:
            account = self._account(owner)
            hold_id = next(self._ids)
            account.holds[hold_id] = _Hold(category, amount, running)
            account.updated_at = self._clock()
            return hold_id

    def release(self, owner: str, hold_id: int) -> None:
        with self._lock:
            account = self._account(owner)
            if account.holds.pop(hold_id, None) is not None:
                account.updated_at = self._clock()

    def _reserved(self, owner: str) -> Tuple[_Account, Dict[str, Decimal]]:
        # the checks run outside the lock: a batch's check settles it, which charges its lines
        with self._lock:
            holds = list(self._account(owner).holds.items())
        finished = [hold_id for hold_id, hold in holds if hold.running is not None and not hold.running()]
        with self._lock:
            account = self._account(owner)
            for hold_id in finished:
                if account.holds.pop(hold_id, None) is not None:
                    account.updated_at = self._clock()
            by_category: Dict[str, Decimal] = {}
            for hold in account.holds.values():
                by_category[hold.category] = by_category.get(hold.category, Decimal(0)) + hold.amount
            return account, {c: by_category[c] for c in CATEGORIES if c in by_category}

    def totals(self, owner: str) -> Tuple[Decimal, Decimal]:
        """``(balance, spent)``: the starting amount minus what was charged, and what was charged (holds
        not counted)."""
        with self._lock:
            account = self._account(owner)
            return account.start - account.spent, account.spent

    def available(self, owner: str) -> Decimal:
        account, reserved = self._reserved(owner)
        return max(Decimal(0), account.start - account.spent - sum(reserved.values(), Decimal(0)))

    def view(self, owner: str) -> Dict[str, Any]:
        """The ``GET /v1/balance`` body."""
        account, reserved = self._reserved(owner)
        balance = account.start - account.spent
        total = sum(reserved.values(), Decimal(0))
        available = max(Decimal(0), balance - total)
        message = (
            "Funds available." if available > 0 else "Balance exhausted: paid requests are refused (402)."
        )
        return {
            "balance_usd": money(balance),
            "available_usd": money(available),
            "reserved_usd": money(total),
            "reserved_breakdown": {category: money(amount) for category, amount in reserved.items()},
            "updated_at": iso_timestamp(account.updated_at),
            "message": message,
        }

    def clear(self) -> None:
        """Every account back to the starting amount, no holds (the next use opens it afresh)."""
        with self._lock:
            self._accounts.clear()
