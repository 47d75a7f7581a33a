"""The gateway response cache of chat completions: its key, who may use it, and the bounded store
(docs/protocol.md §V3.1).

Production answers an identical eligible chat request from a cache for 24 hours and says so with
``X-Cache: HIT``; our gateway does the same, deterministically, so programs can test what a hit looks
like. This module is the pure part: :func:`cache_key` (the SHA-256 of a canonical JSON document),
:func:`eligible` (temperature 0 or absent, no tools), :func:`opted_out` (the two per-request opt-outs),
and :class:`ResponseCache`, the store itself: one namespace per owner (API key), entries that live
``ttl`` seconds from when they were written, at most ``max_entries`` entries and ``max_bytes`` of
stored answers across all owners, least recently used dropped first. ``routes/_chat_cache.py`` is the
chat route's side (reading, replaying, writing).

The canonical serialisation hashed for the key (our definition; the docs leave it open) is the JSON object
below, dumped with sorted keys, no whitespace, ``ensure_ascii=False``, encoded as UTF-8; a field the request
leaves out is ``null``:

``{"v": 1, "model": <model as sent>, "provider": <resolved provider>, "messages": [...], "max_tokens": ...,
"temperature": <as a float>, "stop": ..., "response_format": ..., "service_tier": <tier that serves>,
"n": ..., "seed": ..., "max_completion_tokens": ...}``

``n``, ``seed`` and ``max_completion_tokens`` are not in the documented list; they are in ours because each
changes our stand-in model's answer, and a cache must never answer with another request's reply.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

__all__ = [
    "CACHE_HEADER",
    "HIT_HEADER",
    "CachedAnswer",
    "ResponseCache",
    "cache_key",
    "cache_source",
    "eligible",
    "opted_out",
]

#: The request header whose value ``no-store`` skips the cache for that request (read and write).
CACHE_HEADER = "x-mesh-cache"
#: The answer header of a hit (``X-Cache: HIT``); never sent on a miss.
HIT_HEADER = "x-cache"

DEFAULT_TTL = 24 * 60 * 60.0
DEFAULT_MAX_ENTRIES = 10_000
DEFAULT_MAX_BYTES = 64 * 1024 * 1024

#: The request fields the key covers besides the model, the provider and the tier (absent = ``null``).
_KEY_FIELDS = ("messages", "max_tokens", "stop", "response_format", "n", "seed", "max_completion_tokens")


def eligible(body: Mapping[str, Any]) -> bool:
    """Whether a chat request may be answered from, or written to, the cache: ``temperature`` absent or 0,
    and no ``tools`` (an empty list is none)."""
    temperature = body.get("temperature")
    if temperature is not None and (isinstance(temperature, bool) or temperature != 0):
        return False
    return not body.get("tools")


def opted_out(body: Mapping[str, Any], header: Optional[str]) -> bool:
    """Body ``"cache": false`` or a ``no-store`` directive in ``X-Mesh-Cache`` (case-insensitive, one of a
    comma-separated list). ``"cache": true`` forces nothing."""
    if body.get("cache") is False:
        return True
    if header is None:
        return False
    return any(part.strip().lower() == "no-store" for part in header.split(","))


def cache_key(body: Mapping[str, Any], provider: str, tier: str) -> str:
    """The hex SHA-256 of the canonical document (module docstring) of an eligible chat request;
    ``provider``: the resolved upstream provider; ``tier``: the service tier that serves the call."""
    temperature = body.get("temperature")
    document: Dict[str, Any] = {
        "v": 1,
        "model": body.get("model"),
        "provider": provider,
        "temperature": None if temperature is None else float(temperature),
        "service_tier": tier,
    }
    for name in _KEY_FIELDS:
        document[name] = body.get(name)
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def cache_source(response_headers: Mapping[str, str]) -> Optional[str]:
    """What a usage record says of an answer (``cache_source``): ``"gateway"`` for a cache hit, else
    ``None`` (lower-case header names, as the request log keeps them)."""
    return "gateway" if response_headers.get(HIT_HEADER, "").upper() == "HIT" else None


@dataclass(frozen=True)
class CachedAnswer:
    """A stored answer: the ``chat.completion`` body and the answer headers replayed with it."""

    body: Dict[str, Any]
    headers: Dict[str, str]
    expires: float
    size: int


class ResponseCache:
    """Stored chat answers per owner, bounded in count and bytes, each for ``ttl`` seconds.

    ``clock`` (default ``time.monotonic``) lets tests move time without waiting. Thread-safe.
    """

    def __init__(
        self,
        *,
        ttl: float = DEFAULT_TTL,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        max_bytes: int = DEFAULT_MAX_BYTES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or not (math.isfinite(ttl) and ttl > 0):
            raise ValueError(
                f"the response cache ttl must be a finite number of seconds above 0, got {ttl!r}"
            )
        for name, value in (("max_entries", max_entries), ("max_bytes", max_bytes)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(
                    f"the response cache {name} must be a whole number of at least 1, got {value!r}"
                )
        self.ttl = float(ttl)
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[Tuple[str, str], CachedAnswer] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    @property
    def size_bytes(self) -> int:
        """Bytes of stored answers (their compact JSON and header text)."""
        with self._lock:
            return self._bytes

    def get(self, owner: str, key: str) -> Optional[CachedAnswer]:
        """The live answer stored under ``key`` in ``owner``'s namespace (now the most recently used), or
        ``None``; an expired entry is dropped."""
        slot = (owner, key)
        with self._lock:
            found = self._entries.get(slot)
            if found is None:
                return None
            if found.expires <= self._clock():
                self._drop(slot)
                return None
            self._entries.move_to_end(slot)
            return found

    def put(
        self, owner: str, key: str, body: Dict[str, Any], headers: Optional[Dict[str, str]] = None
    ) -> bool:
        """Store an answer for ``ttl`` seconds (replacing one under the same key); ``False`` when it alone is
        larger than ``max_bytes`` (then nothing is stored). The least recently used entries go first to
        stay in bounds; an expired entry goes when it is next looked up, or in its turn."""
        kept = dict(headers or {})
        size = len(json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
        size += sum(len(name) + len(value) for name, value in kept.items())
        if size > self.max_bytes:
            return False
        slot = (owner, key)
        with self._lock:
            if slot in self._entries:
                self._drop(slot)
            now = self._clock()
            self._entries[slot] = CachedAnswer(body, kept, now + self.ttl, size)
            self._bytes += size
            while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                self._drop(next(iter(self._entries)))  # the least recently used
        return True

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def _drop(self, slot: Tuple[str, str]) -> None:
        self._bytes -= self._entries.pop(slot).size
