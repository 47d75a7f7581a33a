"""Shared state of one local gateway: tokens, catalog, storage, fault plans, request log, limits, keys.

The Starlette app exposes it as ``app.state.gateway`` (so ``websocket.app.state.gateway`` inside the
realtime route). Attributes other modules rely on:

* ``tokens`` - ``set`` of accepted bearer tokens; ``owner_for(token)`` gives the owner id (or ``None``).
* ``catalog`` - :class:`~meshapi_gateway.fakes.catalog.Catalog`; ``catalog.get(model_id)`` returns an entry
  with ``supports_realtime`` / ``supports_chat`` / ... flags, ``catalog.resolve()`` also accepts bare
  names such as ``gpt-realtime``.
* ``faults`` - :class:`~meshapi_gateway.faults.plan.FaultPlan`; ``faults.take(method, path)``.
* ``requests`` - :class:`~meshapi_gateway.record.reqlog.RequestLog` (bounded, tokens redacted).
* ``latency`` - seconds to pause between streamed events (0 = full speed).
* ``new_request_id()`` - a fresh ``req_<ULID>``.
* ``store`` - per-owner records (:class:`~meshapi_gateway.store.storage.Store`).
* ``idempotency`` - stored replies by Idempotency-Key
  (:class:`~meshapi_gateway.store.idempotency.IdempotencyCache`).
* ``limiter`` - the RPM/RPD counters per caller (:class:`~meshapi_gateway.http.ratelimit.RateLimiter`; it
  counts even without limits, for ``GET /v1/usage/rate-limits``).
* ``usage`` - the usage rows per owner (:class:`~meshapi_gateway.store.usage.UsageLedger`).
* ``balance`` - each owner's balance and reservations (:class:`~meshapi_gateway.store.balance.BalanceBook`).
* ``response_cache`` - stored chat answers per owner
  (:class:`~meshapi_gateway.store.response_cache.ResponseCache`).
* ``webhooks`` - webhook endpoints, alert thresholds and deliveries
  (:class:`~meshapi_gateway.webhooks.hub.WebhookHub`).
"""

from __future__ import annotations

import secrets
import time
from typing import Any, Dict, Optional

from ..fakes.catalog import Catalog
from ..fakes.replies import Replies, load_rules
from ..fakes.routing import check_policies
from ..faults.plan import FaultPlan
from ..faults.provider import ProviderFaults
from ..http.ratelimit import RateLimiter, RateLimits, parse_rate_limits
from ..ids import new_request_id, owner_id_for
from ..record.reqlog import RequestLog
from ..settings import DEFAULT_TOKEN, GatewaySettings
from ..webhooks.hub import WebhookHub
from .balance import DEFAULT_BALANCE, BalanceBook, parse_amount
from .idempotency import IdempotencyCache
from .response_cache import ResponseCache
from .storage import Store
from .usage import UsageLedger, UsageRow

__all__ = ["DEFAULT_TOKEN", "GatewayState"]


class GatewayState:
    """Everything the routes of one gateway share (see the module docstring)."""

    def __init__(
        self,
        settings: Optional[GatewaySettings] = None,
        *,
        faults: Optional[FaultPlan] = None,
        requests: Optional[RequestLog] = None,
    ) -> None:
        settings = settings if settings is not None else GatewaySettings()
        #: The settings this gateway was built from (the attributes below are derived from it).
        self.settings = settings
        token_list = settings.token_list()
        self.token_list = token_list
        self.tokens = set(token_list)
        self._owners = {t: owner_id_for(t) for t in token_list}
        self.admin_token = settings.admin_token or "adm_" + secrets.token_urlsafe(18)
        self.catalog = Catalog()
        self.faults = faults if faults is not None else FaultPlan()
        check_policies(settings.routing)
        self.provider_faults = ProviderFaults()  # failures planned on a model or provider (routing.py)
        self.requests = requests if requests is not None else RequestLog()
        if self.requests.pricer is None:
            self.requests.pricer = self.price
        self.latency = float(settings.latency)
        self.batch_step_seconds = float(settings.batch_step_seconds)
        self.embed_step_seconds = float(settings.embed_step_seconds)
        self.video_step_seconds = float(settings.video_step_seconds)
        self.response_step_seconds = float(settings.response_step_seconds)
        #: Scripted replies; a bad rule list raises ``RepliesError`` here, at start-up.
        self.replies = Replies(load_rules(settings.replies) if settings.replies is not None else None)
        if settings.rate_limits is not None:  # a ValueError here, at start-up, when it is not a limit
            limits = parse_rate_limits(settings.rate_limits)
        else:
            limits = RateLimits(settings.rpm, settings.rpd)
        #: The RPM/RPD counters per caller (``http/ratelimit.py``); replaced limits keep its listeners.
        self.limiter = RateLimiter(limits.rpm, limits.rpd, is_default=limits.is_default)
        start = DEFAULT_BALANCE if settings.balance is None else parse_amount(settings.balance)
        self.usage = UsageLedger(time.time)
        self.balance = BalanceBook(start)
        self.store = Store(settings.data_dir)
        key = self.store.meta("signing_key")
        if key is None:
            key = secrets.token_hex(32)
            self.store.set_meta("signing_key", key)
        self.signing_key = bytes.fromhex(key)
        #: Stored replies by Idempotency-Key (``idempotency.py``).
        self.idempotency = IdempotencyCache()
        #: Stored chat answers (``response_cache.py``); emptied by :meth:`reset`.
        self.response_cache = ResponseCache(
            ttl=settings.response_cache_ttl,
            max_entries=settings.response_cache_max_entries,
            max_bytes=settings.response_cache_max_bytes,
        )
        #: Webhook endpoints, alert thresholds, deliveries (``webhooks/``); a bad setting raises here.
        self.webhooks = WebhookHub(settings, self.faults)
        #: Derived data that is cheap to rebuild and never persisted (e.g. RAG chunk vectors by file id).
        self.cache: Dict[str, Any] = {}

    def owner_for(self, token: Optional[str]) -> Optional[str]:
        if token is None:
            return None
        return self._owners.get(token)

    def price(self, model: str, prompt_tokens: int, completion_tokens: int) -> Optional[str]:
        """Estimated USD cost of a call on a catalog model (the request log's cost column)."""
        entry = self.catalog.get(model)
        return None if entry is None else self.catalog.cost(entry, prompt_tokens, completion_tokens)

    def bill(self, row: UsageRow) -> None:
        """Record one attempt's usage and take its cost from its owner's balance."""
        self.usage.add(row)
        self.balance.charge(row.owner, row.cost)
        if row.cost != 0:
            self.webhooks.charged(row.owner, *self.balance.totals(row.owner))

    @staticmethod
    def new_request_id() -> str:
        return new_request_id()

    def reset(self, *, requests: bool = False) -> None:
        """Undo what tests change at run time: pending faults, scripted replies (back to the start-up
        rules), rate-limit counters and the response cache; the request log, the usage rows and the
        balances (back to the starting amount) too when ``requests`` is true."""
        self.faults.clear()
        self.response_cache.clear()
        self.provider_faults.clear()
        self.replies.reset()
        self.limiter.reset()
        if requests:
            self.requests.clear()
            self.usage.clear()
            self.balance.clear()
        self.webhooks.reset(requests=requests)

    def close(self) -> None:
        self.webhooks.close()
        self.store.close()
