"""Prices from the model catalog as the CLI shows them: per-1M display values, cost estimates, ``$`` text.

The arithmetic (``per_million``, ``estimate_cost``) lives in ``meshapi.lib.pricing``, shared with
``client.costs.lookup()``; ``models`` shows these prices and ``compare`` (and the demo) estimates costs
with them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Optional

from ..lib.pricing import estimate_cost, per_million

__all__ = ["estimate_cost", "format_usd", "per_million"]


def format_usd(value: Optional[Decimal]) -> str:
    """``$0.0000123`` style: plain notation, trailing zeros dropped; ``-`` when unknown."""
    if value is None:
        return "-"
    if value == 0:
        return "$0"
    text = format(value.normalize(), "f")
    return f"${text}"
