"""``Idempotency-Key`` on POSTs, the way payment APIs treat it, so retried writes are provably safe.

The SDK sends one key per logical POST and repeats it on every retry. Without this module a retry
after a lost reply would create a second batch, template or file. With it:

* the first request with a key runs normally; a successful (2xx, non-streamed) reply is stored;
* the same key again with the same request (method, path and body) within 24 hours gets the stored
  reply back, byte for byte, plus the response header ``Idempotent-Replayed: true``; the handler
  does not run again;
* the same key with a different request is refused with **409** ``conflict`` in the usual error
  envelope (``details[0].reason`` is ``idempotency_key_reused``), and nothing runs;
* the same key while the first request is still running is refused with 409 as well
  (``idempotency_key_in_use``); retry it a moment later;
* replies that are not stored (errors, 429s, streams) leave the key free, so a retry after a failed
  attempt runs again, as it should.

Keys are scoped per caller (the owner of the bearer token). "The same body" means the same JSON
document (key order and spacing ignored) or, for multipart uploads, the same parts whatever the
boundary. Memory is bounded: at most ``max_entries`` stored replies and ``max_bytes`` of bodies, oldest
dropped first, and entries expire after ``ttl`` seconds; a reply longer than ``max_bytes`` is not held
while it goes out. Each gateway's state holds one cache
(``state.idempotency``); ``IdempotencyMiddleware`` calls :meth:`IdempotencyCache.wrap` around the app
for POSTs to ``/v1``; nothing else knows about keys.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

from ..errors import dumps, envelope
from ..http.asgi import SCOPE_OWNER, SCOPE_REQUEST_ID, ASGIApp, Message, Receive, Scope, Send

__all__ = ["REPLAYED_HEADER", "IdempotencyCache", "fingerprint"]

REPLAYED_HEADER = "idempotent-replayed"
_TTL = 24 * 60 * 60.0
_MAX_ENTRIES = 10_000
_MAX_BYTES = 64 * 1024 * 1024
_MAX_KEY_LENGTH = 255
_SKIPPED_HEADERS = {b"x-request-id", b"content-length", b"date", b"server"}


def _multipart_parts(body: bytes, content_type: str) -> Optional[List[bytes]]:
    """The parts of a multipart body without its boundary (which differs between encodings)."""
    boundary = ""
    for piece in content_type.split(";")[1:]:
        name, _, value = piece.strip().partition("=")
        if name.lower() == "boundary":
            boundary = value.strip().strip('"')
    if not boundary:
        return None
    delimiter = b"--" + boundary.encode("latin-1")
    return [part.strip(b"\r\n") for part in body.split(delimiter)[1:-1]]


def fingerprint(method: str, path: str, content_type: str, body: bytes) -> str:
    """A digest of what makes two requests "the same" for an idempotency key."""
    digest = hashlib.sha256(f"{method} {path}\n".encode("latin-1", "replace"))
    kind = content_type.split(";")[0].strip().lower()
    if kind.startswith("multipart/"):
        parts = _multipart_parts(body, content_type)
        if parts is not None:
            for part in parts:
                digest.update(hashlib.sha256(part).digest())
            return digest.hexdigest()
    if "json" in kind or (not kind and body[:1] in (b"{", b"[")):
        try:
            canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"))
        except ValueError:
            pass
        else:
            digest.update(canonical.encode("utf-8"))
            return digest.hexdigest()
    digest.update(body)
    return digest.hexdigest()


@dataclass
class _Entry:
    fingerprint: str
    method: str
    path: str
    created: float
    done: bool = False
    status: int = 0
    headers: List[Tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""


class IdempotencyCache:
    """Stored replies by ``(owner, key)``; bounded in entries and bytes, expiring after ``ttl`` s."""

    def __init__(
        self,
        *,
        ttl: float = _TTL,
        max_entries: int = _MAX_ENTRIES,
        max_bytes: int = _MAX_BYTES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[Tuple[str, str], _Entry] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        with self._lock:
            self._expire(self._clock())
            return sum(1 for entry in self._entries.values() if entry.done)

    @property
    def stored_bytes(self) -> int:
        return self._bytes

    def clear(self) -> None:
        """Forget every key (the plugin does this after each test)."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    # -- bookkeeping (under the lock) -----------------------------------------------------------
    def _drop(self, slot: Tuple[str, str]) -> None:
        entry = self._entries.pop(slot, None)
        if entry is not None:
            self._bytes -= len(entry.body)

    def _expire(self, now: float) -> None:
        # Insertion order is creation order, so expired entries are at the front.
        while self._entries:
            slot, entry = next(iter(self._entries.items()))
            if now - entry.created < self.ttl:
                break
            self._drop(slot)

    def _evict_for(self, size: int) -> None:
        while self._entries and (
            len(self._entries) > self.max_entries or self._bytes + size > self.max_bytes
        ):
            oldest = next(iter(self._entries))
            self._drop(oldest)

    def _claim(self, slot: Tuple[str, str], print_: str, method: str, path: str) -> Tuple[str, _Entry]:
        """``("run", entry)`` for a new key, ``("replay"|"busy"|"mismatch", entry)`` otherwise."""
        with self._lock:
            now = self._clock()
            self._expire(now)
            entry = self._entries.get(slot)
            if entry is None:
                entry = _Entry(print_, method, path, now)
                self._entries[slot] = entry
                self._evict_for(0)
                return "run", entry
            if entry.fingerprint != print_:
                return "mismatch", entry
            return ("replay" if entry.done else "busy"), entry

    def _finish(self, slot: Tuple[str, str], entry: _Entry, keep: bool) -> None:
        with self._lock:
            if self._entries.get(slot) is not entry:
                return  # evicted or cleared meanwhile
            if not keep or len(entry.body) > self.max_bytes:
                del self._entries[slot]
                return
            self._entries.pop(slot)
            self._evict_for(len(entry.body))
            entry.done = True
            self._entries[slot] = entry
            self._bytes += len(entry.body)

    # -- the ASGI side --------------------------------------------------------------------------
    def wrap(self, app: ASGIApp, key: str, body: bytes, content_type: str) -> ASGIApp:
        """``app`` behind the key: run it once and store the reply, or replay / refuse."""

        async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
            method, path = str(scope["method"]), str(scope["path"])
            if not key or len(key) > _MAX_KEY_LENGTH:
                await _refuse(
                    send,
                    scope,
                    422,
                    "validation_error",
                    f"Idempotency-Key must be 1 to {_MAX_KEY_LENGTH} characters.",
                    "idempotency_key_invalid",
                )
                return
            slot = (str(scope.get(SCOPE_OWNER, "")), key)
            outcome, entry = self._claim(slot, fingerprint(method, path, content_type, body), method, path)
            if outcome == "replay":
                await _replay(send, entry)
                return
            if outcome == "mismatch":
                await _refuse(
                    send,
                    scope,
                    409,
                    "conflict",
                    f"Idempotency-Key {key!r} was already used for a different request "
                    f"(first for {entry.method} {entry.path} with another body); use a new key.",
                    "idempotency_key_reused",
                )
                return
            if outcome == "busy":
                await _refuse(
                    send,
                    scope,
                    409,
                    "conflict",
                    f"A request with Idempotency-Key {key!r} is still being processed; retry shortly.",
                    "idempotency_key_in_use",
                )
                return
            await self._run_once(app, scope, receive, send, slot, entry)

        return guarded

    async def _run_once(
        self,
        app: ASGIApp,
        scope: Scope,
        receive: Receive,
        send: Send,
        slot: Tuple[str, str],
        entry: _Entry,
    ) -> None:
        chunks: List[bytes] = []
        size = 0
        keep = False
        ended = False

        async def capture(message: Message) -> None:
            nonlocal keep, ended, size
            if message["type"] == "http.response.start":
                entry.status = int(message["status"])
                entry.headers = [
                    (bytes(k), bytes(v))
                    for k, v in message.get("headers", [])
                    if bytes(k).lower() not in _SKIPPED_HEADERS
                ]
                streamed = any(
                    k.lower() == b"content-type" and b"event-stream" in v.lower() for k, v in entry.headers
                )
                keep = 200 <= entry.status < 300 and not streamed
            elif message["type"] == "http.response.body" and keep:
                chunks.append(bytes(message.get("body", b"")))
                size += len(chunks[-1])
                if size > self.max_bytes:  # could never be stored: stop holding it (a proxied body, say)
                    keep = False
                    chunks.clear()
                elif not message.get("more_body", False):
                    # Stored before the last bytes go out: a client that sees the connection fail
                    # (or the reply end) and retries at once must find the finished reply, and
                    # the work is done even when sending it fails.
                    entry.body = b"".join(chunks)
                    ended = True
                    self._finish(slot, entry, True)
            await send(message)

        try:
            await app(scope, receive, capture)
        finally:
            if not ended:  # no complete reply worth keeping: free the key for a retry
                self._finish(slot, entry, False)


async def _replay(send: Send, entry: _Entry) -> None:
    headers = [*entry.headers, (b"content-length", str(len(entry.body)).encode("latin-1"))]
    headers.append((REPLAYED_HEADER.encode("latin-1"), b"true"))
    await send({"type": "http.response.start", "status": entry.status, "headers": headers})
    await send({"type": "http.response.body", "body": entry.body, "more_body": False})


async def _refuse(send: Send, scope: Scope, status: int, code: str, message: str, reason: str) -> None:
    error: Dict[str, Any] = {"code": code, "message": message, "details": [{"reason": reason}]}
    body = dumps(envelope(error, scope.get(SCOPE_REQUEST_ID)))
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
