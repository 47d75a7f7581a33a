"""Server-side routing of chat calls: per-token routing policies, retries and fallback around provider faults.

The production gateway can retry a failing provider and fall back along the request's ``models`` list
(0.1.10's server-side fallback) when the API key has a routing policy; it then reports the outcome in
response headers: ``x-mesh-routing-attempts`` (attempts made), ``x-mesh-routing-fallback``
(``true`` when a model other than the requested one answered), ``x-mesh-routing-model`` (that model,
only then; the chat route also sends it with the model ``"auto"`` picked) and ``x-mesh-served-provider``.
This module reproduces that for the local gateway:

* :class:`RoutingPolicy` (``retries`` on the same model, then ``fallback`` along ``models``), chosen per
  token through ``GatewaySettings.routing`` (a mapping of token -> policy; the key ``"*"`` applies to
  every token) or ``meshapi gateway --routing-policy [TOKEN=]retries=N,fallback=on|off``;
* :class:`~meshapi_gateway.faults.provider.ProviderFaults` (with the other faults, in ``faults/``):
  failures planned on a model id or on a whole provider (``"openai"``), e.g.
  ``gw.provider_faults.add("openai/gpt-4o-mini", status=503, times=2)``. They apply with or without a
  policy: without one, the first matching fault is the answer (the SDK's own fallback chain then has
  something to react to); with one, the gateway retries and falls back before answering.

Headers are sent on non-streaming replies only (docs/protocol.md §1.4); a stream is routed the same way.

The ``models`` list of a chat request is bounded: repeats are dropped (first place kept) and more than
:data:`MAX_FALLBACK_MODELS` distinct models is a ``400 invalid_request`` before any attempt, policy or not
(an unbounded list was one attempt per entry, all on the event loop).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ..errors import ApiError
from ..faults.provider import ProviderFault, ProviderFaults
from .catalog import served_tier
from .catalog_data import ModelEntry

__all__ = [
    "MAX_FALLBACK_MODELS",
    "ProviderFault",
    "ProviderFaults",
    "RoutingPolicy",
    "check_policies",
    "fallback_names",
    "for_request",
    "parse_policy",
    "policy_for",
    "route",
]


#: The most distinct models a chat request's ``models`` list may name (the SDK's fallback chain: the same).
MAX_FALLBACK_MODELS = 16


@dataclass(frozen=True)
class RoutingPolicy:
    """``retries``: further attempts on a failing model; ``fallback``: then the request's ``models``."""

    retries: int = 1
    fallback: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.retries, bool) or not isinstance(self.retries, int) or not 0 <= self.retries <= 10:
            raise ValueError(f"routing retries must be an integer from 0 to 10, got {self.retries!r}")


def parse_policy(spec: str) -> Tuple[str, RoutingPolicy]:
    """``[TOKEN=]retries=N,fallback=on|off`` -> ``(token or "*", policy)``; ``ValueError`` if malformed."""
    token = "*"
    head, sep, rest = spec.partition("=")
    if sep and head not in ("retries", "fallback"):
        token, spec = head, rest
    values: Dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, eq, value = part.partition("=")
        if not eq or name not in ("retries", "fallback"):
            raise ValueError(f"routing policy part {part!r}: expected retries=N or fallback=on|off")
        if name == "retries":
            if not value.isdigit():
                raise ValueError(f"routing policy retries must be a number, got {value!r}")
            values["retries"] = int(value)
        elif value.lower() in ("on", "true", "yes", "1"):
            values["fallback"] = True
        elif value.lower() in ("off", "false", "no", "0"):
            values["fallback"] = False
        else:
            raise ValueError(f"routing policy fallback must be on or off, got {value!r}")
    return token, RoutingPolicy(**values)


def check_policies(policies: Any) -> None:
    """``ValueError`` unless ``policies`` is ``None`` or a mapping of token -> ``RoutingPolicy``."""
    if policies is None:
        return
    if not isinstance(policies, Mapping):
        raise ValueError("routing must map tokens (or '*') to RoutingPolicy objects")
    for token, policy in policies.items():
        if not isinstance(token, str) or not isinstance(policy, RoutingPolicy):
            raise ValueError(f"routing[{token!r}] must be a RoutingPolicy, got {type(policy).__name__}")


def policy_for(
    policies: Optional[Mapping[str, RoutingPolicy]], token: Optional[str]
) -> Optional[RoutingPolicy]:
    if not policies:
        return None
    if token is not None and token in policies:
        return policies[token]
    return policies.get("*")


def _failure(fault: ProviderFault, entry: ModelEntry) -> ApiError:
    what = "flex capacity" if fault.tier == "flex" else "provider"
    extra: Dict[str, Any] = {"provider_code": fault.provider_code} if fault.provider_code else {}
    return ApiError(
        fault.status,
        fault.error_code,
        f"The {what} of {entry.id} is not available right now.",
        headers={"retry-after": fault.retry_after} if fault.retry_after is not None else None,
        provider_error={"provider": entry.provider, "status": fault.status, "message": "planned fault"},
        **extra,
    )


def route(
    faults: ProviderFaults,
    policy: Optional[RoutingPolicy],
    entry: ModelEntry,
    fallbacks: List[ModelEntry],
    tier: str = "default",
) -> Tuple[ModelEntry, Dict[str, str]]:
    """The model that serves the call and the routing headers, or the last failure as ``ApiError``.

    ``fallbacks``: the resolved chat models of the request's ``models`` list (in order); ``tier``: the
    requested service tier (a model without flex serves a flex call on the standard tier).
    """
    if policy is None:
        fault = faults.take(entry, served_tier(tier, entry))
        if fault is not None:
            raise _failure(fault, entry)
        return entry, {}
    by_id = {entry.id: entry}
    for model in fallbacks if policy.fallback else []:
        by_id.setdefault(model.id, model)  # each model once, first place kept (aliases too)
    candidates = list(by_id.values())
    attempts = 0
    last: Optional[ApiError] = None
    for candidate in candidates:
        for _ in range(policy.retries + 1):
            attempts += 1
            fault = faults.take(candidate, served_tier(tier, candidate))
            if fault is None:
                served = candidate.id if candidate is not entry else None
                return candidate, _headers(attempts, candidate is not entry, candidate.provider, served)
            last = _failure(fault, candidate)
    assert last is not None
    last.headers.update(_headers(attempts, len(candidates) > 1, None))
    raise last


def fallback_names(body: Mapping[str, Any]) -> List[str]:
    """The request's ``models``, each once in first-seen order; ``ApiError`` 400 past the cap."""
    names = body.get("models")
    if not isinstance(names, list):
        return []
    distinct = list(dict.fromkeys(name for name in names if isinstance(name, str)))
    if len(distinct) > MAX_FALLBACK_MODELS:
        raise ApiError(
            400,
            "invalid_request",
            f"'models' may name at most {MAX_FALLBACK_MODELS} distinct models, got {len(distinct)}.",
            param="models",
        )
    return distinct


def for_request(
    state: Any, authorization: str, body: Mapping[str, Any], entry: ModelEntry, tier: str = "default"
) -> Tuple[ModelEntry, Dict[str, str]]:
    """:func:`route` for one chat request (``state``: the ``GatewayState``; the caller's token).

    Checks the ``models`` list first (:func:`fallback_names`), so a list past the cap is refused
    before any attempt.
    """
    names = fallback_names(body)
    scheme, _, token = authorization.partition(" ")
    policy = policy_for(state.settings.routing, token.strip() if scheme.lower() == "bearer" else None)
    fallbacks: List[ModelEntry] = []
    if policy is not None and policy.fallback:
        for name in names:
            candidate = state.catalog.resolve(name)
            if candidate is not None and candidate.supports_chat:
                fallbacks.append(candidate)
    return route(state.provider_faults, policy, entry, fallbacks, tier)


def _headers(
    attempts: int, fallback: bool, provider: Optional[str], model: Optional[str] = None
) -> Dict[str, str]:
    headers = {
        "x-mesh-routing-attempts": str(attempts),
        "x-mesh-routing-fallback": "true" if fallback else "false",
    }
    if provider:
        headers["x-mesh-served-provider"] = provider
    if model:
        headers["x-mesh-routing-model"] = model
    return headers
