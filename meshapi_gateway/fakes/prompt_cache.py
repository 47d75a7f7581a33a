"""Provider prompt caching, simulated (docs/protocol.md §V3.2): ``cache_control`` breakpoints -> cached tokens.

Why it exists: a program that marks a stable prefix (system prompt, tools, long documents) with
``"cache_control": {"type": "ephemeral"}`` should see ``usage.prompt_tokens_details.cached_tokens`` when it
sends that prefix again, as it would against a provider that caches. The rules:

* a breakpoint is a marker on a tool, a message or a content part; the prefix it closes is everything
  before it in the order a provider reads (tools, then messages, part by part) plus the marked item;
* at most :data:`MAX_BREAKPOINTS` are kept: the last ones (Bedrock's and Anthropic's limit);
* markers are dropped on the OpenAI route, which caches by itself (not simulated): nothing is cached;
* a request reads the longest kept prefix already stored (``cached_tokens``), then stores every kept
  prefix; the tokens written beyond the cached part are ``cache_write_tokens``;
* entries are per owner and model, kept for :data:`TTL_SECONDS` (``"ttl": "1h"``: an hour), at most
  :data:`MAX_ENTRIES` of them (oldest dropped).

Markers never reach the stand-in model: :func:`strip_markers` removes them before prompt tokens are counted.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Tuple

from . import engine
from .catalog_data import ModelEntry

__all__ = ["MAX_BREAKPOINTS", "MAX_ENTRIES", "TTL_SECONDS", "PromptCache", "strip_markers"]

MAX_BREAKPOINTS = 4
MAX_ENTRIES = 4096
TTL_SECONDS = 300.0
_TTLS = {"5m": 300.0, "1h": 3600.0}
#: Providers whose route removes the markers (automatic caching upstream).
_UNMARKED_PROVIDERS = ("openai",)

_Breakpoint = Tuple[List[Any], List[Dict[str, Any]], float]  # tools, messages of the prefix, ttl


def _bare(item: Any) -> Any:
    """``item`` without its ``cache_control`` key (a dict), as the provider is given it."""
    if isinstance(item, dict) and "cache_control" in item:
        return {k: v for k, v in item.items() if k != "cache_control"}
    return item


def strip_markers(body: Dict[str, Any]) -> Dict[str, Any]:
    """The chat body without any ``cache_control`` (tools, messages, content parts)."""
    out = dict(body)
    if isinstance(body.get("tools"), list):
        out["tools"] = [_bare(tool) for tool in body["tools"]]
    messages = []
    for message in body.get("messages") or []:
        bare = _bare(message)
        if isinstance(bare, dict) and isinstance(bare.get("content"), list):
            bare = {**bare, "content": [_bare(part) for part in bare["content"]]}
        messages.append(bare)
    out["messages"] = messages
    return out


def _ttl(marker: Any) -> float:
    ttl = marker.get("ttl") if isinstance(marker, dict) else None
    return _TTLS.get(ttl, TTL_SECONDS) if isinstance(ttl, str) else TTL_SECONDS


def _breakpoints(body: Dict[str, Any]) -> List[_Breakpoint]:
    """Every marked prefix, in reading order (tools first, then messages part by part)."""
    tools = [_bare(t) for t in body.get("tools") or []]
    messages = strip_markers(body)["messages"]
    found: List[_Breakpoint] = []
    for index, tool in enumerate(body.get("tools") or []):
        if isinstance(tool, dict) and tool.get("cache_control") is not None:
            found.append((tools[: index + 1], [], _ttl(tool["cache_control"])))
    for index, message in enumerate(body.get("messages") or []):
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        if isinstance(content, list):
            for position, part in enumerate(content):
                if isinstance(part, dict) and part.get("cache_control") is not None:
                    partial = {**messages[index], "content": messages[index]["content"][: position + 1]}
                    found.append((tools, [*messages[:index], partial], _ttl(part["cache_control"])))
        if message.get("cache_control") is not None:
            found.append((tools, messages[: index + 1], _ttl(message["cache_control"])))
    return found


def _key(owner: str, model: str, tools: List[Any], messages: List[Dict[str, Any]]) -> str:
    text = json.dumps([owner, model, tools, messages], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class PromptCache:
    """Stored prefixes per owner and model (thread-safe; bounded)."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, float] = OrderedDict()  # key -> expiry

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def account(self, owner: str, entry: ModelEntry, body: Dict[str, Any]) -> Optional[Dict[str, int]]:
        """``{"cached_tokens", "cache_write_tokens"}`` for this chat body, or ``None`` without a kept marker."""
        if entry.provider in _UNMARKED_PROVIDERS:
            return None
        kept = _breakpoints(body)[-MAX_BREAKPOINTS:]
        if not kept:
            return None
        sized = [
            (_key(owner, entry.id, tools, messages), engine.prompt_token_count(messages, tools or None), ttl)
            for tools, messages, ttl in kept
        ]
        now = self._clock()
        with self._lock:
            for key in [k for k, expiry in self._entries.items() if expiry <= now]:
                del self._entries[key]
            cached = max((tokens for key, tokens, _ in sized if key in self._entries), default=0)
            for key, _, ttl in sized:
                self._entries[key] = now + ttl
                self._entries.move_to_end(key)
            while len(self._entries) > MAX_ENTRIES:
                self._entries.popitem(last=False)
        written = max(0, max(tokens for _, tokens, _ in sized) - cached)
        return {"cached_tokens": cached, "cache_write_tokens": written}
