"""Faults planned on a model or a provider: the failures server-side routing reacts to.

``gw.provider_faults.add("openai/gpt-4o-mini", status=503, times=2)`` (or a provider name such as
``"openai"``) makes the chat calls routed to that model fail with that status, as an unavailable
provider would, with the ``provider_code`` such a provider reports (docs/protocol.md §2.4). They live with the other faults; the routing that retries and falls back around them
is ``fakes/routing.py``.

``gw.provider_faults.flex_capacity("openai/gpt-5-nano", retry_after=1)`` plans the documented "flex
capacity full" answer (docs/protocol.md §V4): ``503 flex_capacity_exceeded`` with ``Retry-After``, only on
calls served on the flex tier (``tier="flex"``), so a fallback to the standard tier is served.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import List, Optional

from ..errors import PROVIDER_CODE_FOR_CODE
from ..fakes.catalog_data import ModelEntry

__all__ = ["FLEX_CAPACITY", "ProviderFault", "ProviderFaults"]

#: The error code of a full flex tier (the docs leave it open; ours).
FLEX_CAPACITY = "flex_capacity_exceeded"


@dataclass
class ProviderFault:
    """A planned provider failure: ``target`` is a model id or a provider name."""

    target: str
    status: int = 503
    error_code: str = "provider_not_available"
    times: int = 1  # -1: forever
    #: Only calls served on this service tier (``None``: every call).
    tier: Optional[str] = None
    #: ``Retry-After`` of the failure, in seconds (``None``: no header).
    retry_after: Optional[str] = None
    #: ``error.provider_code`` of the failure (``None``: none sent).
    provider_code: Optional[str] = None
    hits: int = field(default=0, compare=False)

    def matches(self, entry: ModelEntry, tier: str = "default") -> bool:
        return self.target in (entry.id, entry.provider) and self.tier in (None, tier)


class ProviderFaults:
    """Thread-safe list of :class:`ProviderFault` (the test thread adds, the server thread takes)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: List[ProviderFault] = []

    def add(
        self,
        target: str,
        *,
        status: int = 503,
        error_code: str = "provider_not_available",
        times: int = 1,
        tier: Optional[str] = None,
        retry_after: Optional[float] = None,
        provider_code: Optional[str] = None,
    ) -> ProviderFault:
        """Plan a failure; ``provider_code`` defaults to the provider code documented with ``error_code``
        (``upstream_error`` -> ``internal_provider_error``, ``gateway_timeout`` -> ``provider_timeout``,
        same-named codes; none for ``provider_not_available``)."""
        if times == 0 or times < -1:
            raise ValueError("times must be a positive count or -1 (forever)")
        if not 400 <= status <= 599:
            raise ValueError("a provider fault needs an error status (400-599)")
        if retry_after is not None and not 0 <= retry_after <= 3600:
            raise ValueError("retry_after must be from 0 to 3600 seconds")
        wait = None if retry_after is None else format(retry_after, "g")
        if provider_code is None:
            provider_code = PROVIDER_CODE_FOR_CODE.get(error_code)
        fault = ProviderFault(target, status, error_code, times, tier, wait, provider_code)
        with self._lock:
            self._faults.append(fault)
        return fault

    def flex_capacity(self, target: str, *, times: int = 1, retry_after: float = 1) -> ProviderFault:
        """Flex capacity full on ``target``: ``503 flex_capacity_exceeded`` with ``Retry-After``, flex calls only."""
        return self.add(
            target, status=503, error_code=FLEX_CAPACITY, times=times, tier="flex", retry_after=retry_after
        )

    def take(self, entry: ModelEntry, tier: str = "default") -> Optional[ProviderFault]:
        with self._lock:
            for fault in self._faults:
                if fault.matches(entry, tier) and (fault.times < 0 or fault.hits < fault.times):
                    fault.hits += 1
                    return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
