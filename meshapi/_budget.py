"""``meshapi.Budget``: a spending limit checked before each call is sent and charged after it answers.

Why it exists: a run should stop before it costs too much, not after. A budget given to a client
(``budget=``, kept by ``with_options()`` unless replaced) or to a tracker (``track_usage(budget=...)``)
is checked by the send loops (``meshapi._transport.spend``) before a call that runs a model goes out:
its worst case (:func:`worst_case`: the estimated prompt tokens, ``meshapi._core.tokens``, plus its
``max_tokens``, else :data:`DEFAULT_MAX_TOKENS` for chat, responses and compare, at the model's catalog
prices) is reserved against what is left. Past the limit, ``on_exceed="raise"`` raises
``BudgetExceededError`` and nothing is sent; ``"warn"`` warns (``BudgetWarning``) and sends. When the
answer is in, the reservation is replaced by the actual cost (the reply's own figure or its tokens at
the catalog price; when neither is known, the reservation is kept as spent); a call that fails costs
nothing. A batch (``POST /v1/batches``) is checked at the sum of its lines' worst cases and, billed
only when it finishes, keeps that sum as spent. A model without a per-token catalog price counts as free in the estimate, with a
``BudgetWarning`` naming it. One lock guards the sums, so one budget can be shared by threads, tasks
and clients.
"""

from __future__ import annotations

import threading
import warnings
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from ._errors import BudgetExceededError, ConfigurationError

__all__ = ["DEFAULT_MAX_TOKENS", "Budget", "BudgetWarning", "models_of", "worst_case"]

#: The completion tokens assumed for a chat, responses or compare call that sets no ``max_tokens``.
DEFAULT_MAX_TOKENS = 4096
_COMPLETING = frozenset({"/v1/chat/completions", "/v1/chat/compare", "/v1/responses"})
_BATCHES = "/v1/batches"  # its body's lines are calls of their own (docs/protocol.md §6.1)

Prices = Tuple[Optional[Decimal], Optional[Decimal]]


class BudgetWarning(UserWarning):
    """A budget was passed with ``on_exceed="warn"``, or a call's model has no per-token price."""


def _amount(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, str)):
        raise ConfigurationError(
            f"Budget max_usd must be a Decimal, an int or a decimal string, got {value!r}"
        )
    try:
        amount = Decimal(value)
    except (InvalidOperation, ValueError):
        raise ConfigurationError(f"Budget max_usd is not a number: {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise ConfigurationError(f"Budget max_usd must be a finite amount >= 0, got {value!r}")
    return amount


class Budget:
    """At most ``max_usd`` (``Decimal``, an int or a decimal string; a float is refused: it is not
    exact) spent by the calls it watches. ``on_exceed``: ``"raise"`` (``BudgetExceededError`` before
    sending) or ``"warn"`` (``BudgetWarning``, then the call is sent)."""

    def __init__(self, max_usd: Any, *, on_exceed: str = "raise") -> None:
        if on_exceed not in ("raise", "warn"):
            raise ConfigurationError(f'Budget on_exceed must be "raise" or "warn", got {on_exceed!r}')
        self.max_usd = _amount(max_usd)
        self.on_exceed = on_exceed
        self._lock = threading.Lock()
        self._spent = Decimal(0)
        self._reserved = Decimal(0)

    @property
    def spent(self) -> Decimal:
        """What the answered calls cost."""
        return self._spent

    @property
    def reserved(self) -> Decimal:
        """The worst cases of the calls in flight."""
        return self._reserved

    @property
    def remaining(self) -> Decimal:
        """``max_usd`` minus what was spent and what calls in flight may spend (never below 0)."""
        with self._lock:
            return max(Decimal(0), self.max_usd - self._spent - self._reserved)

    def reserve(self, estimate: Decimal) -> Decimal:
        """Hold ``estimate`` for a call about to be sent; returns what was held. Past the limit: raises
        ``BudgetExceededError`` (nothing held), or warns and holds it (``on_exceed="warn"``)."""
        with self._lock:
            used = self._spent + self._reserved
            over = used + estimate > self.max_usd
            if not over or self.on_exceed == "warn":
                self._reserved += estimate
        if over:
            message = (
                f"The call may cost up to ${estimate} but the budget of ${self.max_usd} has "
                f"${max(Decimal(0), self.max_usd - used)} left (spent ${used})"
            )
            if self.on_exceed == "raise":
                raise BudgetExceededError(
                    message + "; nothing was sent", budget=self, spent=used, estimate=estimate
                )
            warnings.warn(message, BudgetWarning, stacklevel=4)
        return estimate

    def settle(self, held: Decimal, actual: Optional[Decimal]) -> None:
        """A call held ``held`` and answered: ``actual`` is charged instead (``None``: ``held`` is)."""
        with self._lock:
            self._reserved -= held
            self._spent += held if actual is None else actual

    def release(self, held: Decimal) -> None:
        """A call held ``held`` and failed: nothing is charged."""
        with self._lock:
            self._reserved -= held

    def __getstate__(self) -> Dict[str, Any]:  # pickled (a BudgetExceededError, a process pool): no lock
        return {k: v for k, v in self.__dict__.items() if k != "_lock"}

    def __setstate__(self, state: Dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Budget(max_usd={self.max_usd!r}, on_exceed={self.on_exceed!r}, spent={self._spent!r})"


def models_of(body: Any) -> List[str]:
    """The models a request body runs: its ``model``, compare's ``models``, or a batch's lines' (each once)."""
    if not isinstance(body, Mapping):
        return []
    if isinstance(body.get("requests"), list):  # a batch
        return list(dict.fromkeys(m for _, line in _batch_lines(body) for m in models_of(line)))
    models = body.get("models")
    names: List[Any] = models if isinstance(models, list) else [body.get("model")]
    return [name for name in dict.fromkeys(names) if isinstance(name, str) and name]


def _batch_lines(body: Mapping[str, Any]) -> List[Tuple[str, Mapping[str, Any]]]:
    """A batch body's lines: ``(url, body)`` each (the url defaults to chat completions)."""
    lines = []
    for item in body.get("requests") or ():
        if isinstance(item, Mapping) and isinstance(item.get("body"), Mapping):
            url = item.get("url")
            lines.append((url if isinstance(url, str) else "/v1/chat/completions", item["body"]))
    return lines


def _max_tokens(path: str, body: Mapping[str, Any]) -> int:
    for key in ("max_tokens", "max_completion_tokens", "max_output_tokens"):
        value = body.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
    return DEFAULT_MAX_TOKENS if path in _COMPLETING else 0


def worst_case(
    path: str,
    body: Any,
    prices: Mapping[str, Optional[Prices]],
    count: Optional[Callable[[str], int]] = None,
) -> Tuple[Decimal, List[str]]:
    """The most the call may cost at ``prices`` (per-1M, by model), and the models it could not price;
    ``count``: the text counter (default: the heuristic, ``meshapi._core.tokens.count_text``)."""
    from ._core.tokens import count_text, request_prompt_tokens  # with the first budgeted call, not at import
    from .lib.pricing import cost_at

    if not isinstance(body, Mapping):
        return Decimal(0), []
    if path == _BATCHES:  # the sum of its lines'
        total, unpriced = Decimal(0), []
        for url, line in _batch_lines(body):
            each, missing = worst_case(url, line, prices, count)
            total += each
            unpriced += [m for m in missing if m not in unpriced]
        return total, unpriced
    prompt = request_prompt_tokens(body, count or count_text)
    completion = _max_tokens(path, body)
    total, unpriced = Decimal(0), []
    for model in models_of(body):
        price = prices.get(model)
        cost = cost_at(price, prompt, completion) if price is not None else None
        if cost is None:
            unpriced.append(model)
        else:
            total += cost
    return total, unpriced
