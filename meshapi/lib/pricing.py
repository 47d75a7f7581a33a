"""Catalog prices as ``Decimal``: per-1M token prices and a cost estimate from token counts.

Why it exists: the CLI (``models``, ``compare``, ``cost``) and ``client.costs.lookup()`` estimate costs
from the same catalog prices, so the arithmetic lives here once. Prices are decimal strings on the wire;
they stay ``Decimal`` so no precision is lost. The catalog may give per-1k or per-1M prices (or both);
per-1M is preferred.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, Optional, Tuple

__all__ = ["cost_at", "estimate_cost", "per_million"]

_THOUSAND = Decimal(1000)
_MILLION = Decimal(1_000_000)


def _decimal(value: Optional[str]) -> Optional[Decimal]:
    if value is None:
        return None
    try:
        number = Decimal(value)
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def per_million(pricing: Any) -> Tuple[Optional[Decimal], Optional[Decimal]]:
    """``(prompt, completion)`` USD per 1M tokens, or ``None`` where the catalog has no price.

    A row priced in another unit (``per_second``, ``per_1k_chars``, ...) has no per-token price: its
    retired per-1k fields are not read as one.
    """
    if pricing is None:
        return None, None
    unit = getattr(pricing, "pricing_unit", None)
    if unit is not None and "token" not in unit:
        return None, None

    def pick(per_1m: Optional[str], per_1k: Optional[str]) -> Optional[Decimal]:
        direct = _decimal(per_1m)
        if direct is not None:
            return direct
        thousand = _decimal(per_1k)
        return thousand * _THOUSAND if thousand is not None else None

    return (
        pick(pricing.prompt_usd_per_1m, pricing.prompt_usd_per_1k),
        pick(pricing.completion_usd_per_1m, pricing.completion_usd_per_1k),
    )


def estimate_cost(
    pricing: Any, prompt_tokens: Optional[int], completion_tokens: Optional[int]
) -> Optional[Decimal]:
    """USD for the given token counts at the catalog price; ``None`` when a needed price is unknown."""
    return cost_at(per_million(pricing), prompt_tokens, completion_tokens)


def cost_at(
    prices: Tuple[Optional[Decimal], Optional[Decimal]],
    prompt_tokens: Optional[int],
    completion_tokens: Optional[int],
) -> Optional[Decimal]:
    """USD for the token counts at ``(prompt, completion)`` per-1M ``prices``; ``None`` when a needed
    price is unknown."""
    total = Decimal(0)
    for tokens, price in ((prompt_tokens, prices[0]), (completion_tokens, prices[1])):
        if not tokens:
            continue
        if price is None:
            return None
        total += Decimal(tokens) * price / _MILLION
    return total
