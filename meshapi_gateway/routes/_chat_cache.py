"""The chat route's side of the gateway response cache (docs/protocol.md §V3.1): whether a request may
read and write it, the stored answer replayed (as JSON or as SSE), and a fresh answer written.

The store, the key and the eligibility rules are ``store/response_cache.py``. Here: the cache is on
unless the gateway turns it off (``GatewaySettings.response_cache``, per token
``response_cache_per_token``), and a request uses it only when it is eligible, carries neither opt-out
(``"cache": false``, ``X-Mesh-Cache: no-store``) and names no memories (``x-mem-id``). A hit answers the
stored ``chat.completion`` with ``X-Cache: HIT``; a streaming request gets it as SSE (same id, chunks
cut as a fresh stream's, the stored ``usage``, ``"cost": "0"``), with ``X-Cache: HIT`` too. A hit is not
billed. A streamed answer is written once its last event has gone out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, AsyncIterator, Dict, List, Optional

from starlette.requests import Request

from ..fakes import engine
from ..fakes.catalog import ModelEntry, served_tier
from ..http.context import owner
from ..settings import GatewaySettings
from ..store.response_cache import (
    CACHE_HEADER,
    HIT_HEADER,
    CachedAnswer,
    ResponseCache,
    cache_key,
    eligible,
    opted_out,
)
from ..store.state import GatewayState

__all__ = ["HIT", "CachedAnswer", "Ticket", "choices_of", "enabled_for", "stream_headers", "ticket"]

#: The header a hit carries.
HIT = {HIT_HEADER: "HIT"}


def enabled_for(settings: GatewaySettings, authorization: str) -> bool:
    """Whether the cache is on for the caller's token: its ``response_cache_per_token`` entry, else
    ``response_cache``."""
    scheme, _, token = authorization.partition(" ")
    per_token = settings.response_cache_per_token or {}
    if scheme.lower() == "bearer" and token.strip() in per_token:
        return bool(per_token[token.strip()])
    return bool(settings.response_cache)


@dataclass(frozen=True)
class Ticket:
    """One request's place in the cache: its owner's namespace and its key."""

    cache: ResponseCache
    owner: str
    key: str

    def hit(self) -> Optional[CachedAnswer]:
        return self.cache.get(self.owner, self.key)

    def store(self, body: Dict[str, Any], headers: Optional[Dict[str, str]] = None) -> None:
        self.cache.put(self.owner, self.key, body, headers)

    async def store_after(
        self, events: AsyncIterator[bytes], body: Dict[str, Any], headers: Optional[Dict[str, str]] = None
    ) -> AsyncIterator[bytes]:
        """``events`` passed through; ``body`` (the same answer as a ``chat.completion``) written once the
        last one went out (a caller who leaves early writes nothing)."""
        async for event in events:
            yield event
        self.store(body, headers)


def ticket(
    state: GatewayState, request: Request, body: Dict[str, Any], entry: ModelEntry, tier: str
) -> Optional[Ticket]:
    """The request's ticket, or ``None`` when it neither reads nor writes the cache; ``entry``: the
    resolved model (its provider is in the key); ``tier``: the tier asked for."""
    if not enabled_for(state.settings, request.headers.get("authorization", "")):
        return None
    if "x-mem-id" in request.headers or opted_out(body, request.headers.get(CACHE_HEADER)):
        return None
    if not eligible(body):
        return None
    key = cache_key(body, entry.provider, served_tier(tier, entry))
    # Scripted replies stand in for the model: an answer written under other rules is not read.
    return Ticket(state.response_cache, owner(request), f"{key}.{state.replies.version}")


def choices_of(body: Dict[str, Any]) -> List[engine.Choice]:
    """The choices of a stored ``chat.completion`` as the stand-in model's (to stream them again)."""
    choices = []
    for choice in body.get("choices", []):
        message = choice.get("message", {})
        choices.append(
            engine.Choice(
                text=message.get("content"),
                finish_reason=choice.get("finish_reason") or "stop",
                tool_calls=list(message.get("tool_calls") or []),
                refusal=message.get("refusal"),
            )
        )
    return choices


def stream_headers(answer: CachedAnswer) -> Dict[str, str]:
    """The headers of an SSE replay: ``X-Cache: HIT``, and the auto-router's as a fresh stream sends them."""
    body = answer.body
    headers = dict(HIT)
    if body.get("x_auto_routed"):
        headers.update({"x-auto-routed": "true", "x-resolved-model-id": str(body.get("x_resolved_model_id"))})
    return headers
