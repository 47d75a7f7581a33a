"""What happens to a proxied exchange on its way through the gateway, apart from where it goes.

:mod:`~meshapi_gateway.record.proxy` decides whether a request goes upstream, to a cassette or to
the local models; this module holds the rules for the bytes in between, so each is written once:

* :func:`upstream_headers`: the caller's headers as sent upstream: every secret header the request
  log redacts (:func:`~meshapi_gateway.record.redact.is_secret_header`: ``Authorization``,
  ``X-Api-Key``, ``Api-Key``, ``Cookie``, ...) and the hop-by-hop ones are dropped, and the gateway's
  own upstream token is the only credential that leaves.
* :class:`SecretScrubber`: the upstream token removed from everything relayed to the caller (and so
  from the request log and the cassette, which keep what the caller got): header values such as
  ``WWW-Authenticate``, and body chunks, also when the token is split between two chunks. Only the
  bytes that could begin the token (at most ``len(token) - 1``) are held back until the next chunk,
  so an SSE event still reaches the caller when it arrives.
* :class:`Recording`: the chunks of an exchange being recorded, at most ``record_max_bytes`` of body;
  past it the chunks are dropped and the exchange is not written (a warning is logged once per
  gateway). Nothing is kept when the gateway is not recording.
* :func:`caller_gone`: returns when the caller disconnects, so the proxy can cancel the upstream
  request instead of reading an answer nobody will get.
"""

from __future__ import annotations

import logging
import re
from typing import Dict, Iterable, List, Optional, Tuple

from ..http.asgi import Receive
from .redact import is_secret_header

__all__ = ["SCRUBBED", "Recording", "SecretScrubber", "caller_gone", "upstream_headers", "warn_not_recorded"]

#: What a secret relayed from the upstream becomes (ASCII, so header values can carry it).
SCRUBBED = "[redacted]"
#: Request headers that belong to this hop (or that the gateway sets itself), never sent upstream.
_HOP_BY_HOP = frozenset(
    {
        "host",
        "content-length",
        "connection",
        "keep-alive",
        "transfer-encoding",
        "te",
        "upgrade",
        "accept-encoding",
    }
)
log = logging.getLogger("meshapi_gateway.record")


def upstream_headers(headers: Dict[str, str], token: Optional[str]) -> Dict[str, str]:
    """The caller's ``headers`` as sent upstream: no secret of the caller's, no hop-by-hop header.

    The body is asked for uncompressed (so it can be scrubbed and recorded as it is) and ``token``,
    when there is one, is the ``Authorization`` bearer.
    """
    out = {k: v for k, v in headers.items() if k not in _HOP_BY_HOP and not is_secret_header(k)}
    out["accept-encoding"] = "identity"
    if token:
        out["authorization"] = f"Bearer {token}"
    return out


class SecretScrubber:
    """Replaces every occurrence of the given secrets with :data:`SCRUBBED`, in a stream of chunks.

    The result is what replacing them in the whole stream at once gives (leftmost first, the longest
    secret where several start at one place). :meth:`feed` returns what is decided; the end of the
    data seen so far that may still become a secret (at most the longest secret less one byte) is held
    back until the next chunk, or until :meth:`flush` at the end of the stream.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        found = sorted({s for s in secrets if s}, key=len, reverse=True)  # longest first
        self._secrets: Tuple[bytes, ...] = tuple(s.encode("utf-8") for s in found)
        self._bytes = re.compile(b"|".join(re.escape(s) for s in self._secrets)) if found else None
        self._text = re.compile("|".join(re.escape(s) for s in found)) if found else None
        self._mark = SCRUBBED.encode("ascii")
        self._held = b""

    def __bool__(self) -> bool:
        return bool(self._secrets)

    def text(self, value: str) -> str:
        """``value`` (a header value, say) with the secrets replaced."""
        return self._text.sub(SCRUBBED, value) if self._text is not None else value

    def headers(self, headers: Dict[str, str]) -> Dict[str, str]:
        return {name: self.text(value) for name, value in headers.items()}

    def feed(self, chunk: bytes) -> bytes:
        """The scrubbed bytes of what was held back and ``chunk`` that are safe to relay now."""
        if self._bytes is None:
            return chunk
        data = self._held + chunk
        out: List[bytes] = []
        pos = 0
        while True:
            pending = self._pending(data, pos)
            match = self._bytes.search(data, pos)
            if match is not None and (pending is None or match.start() < pending):
                out += (data[pos : match.start()], self._mark)
                pos = match.end()
                continue
            end = len(data) if pending is None else pending
            out.append(data[pos:end])
            self._held = data[end:]
            return b"".join(out)

    def flush(self) -> bytes:
        """The held-back end, scrubbed (the stream ended: it cannot grow into a longer secret any more)."""
        held, self._held = self._held, b""
        return self._bytes.sub(self._mark, held) if self._bytes is not None else held

    def _pending(self, data: bytes, pos: int) -> Optional[int]:
        """The first place from ``pos`` where the rest of ``data`` is the start (not the whole) of a secret."""
        for start in range(max(pos, len(data) - len(self._secrets[0]) + 1), len(data)):
            rest = data[start:]
            if any(len(secret) > len(rest) and secret.startswith(rest) for secret in self._secrets):
                return start
        return None


class Recording:
    """The body chunks of one exchange being recorded, ``(ms since sent, bytes)``, up to ``max_bytes``.

    Past the cap everything kept is dropped and :attr:`over` is set: the exchange is not written.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.chunks: List[Tuple[float, bytes]] = []
        self.size = 0
        self.over = False

    def add(self, ms: float, data: bytes) -> None:
        if self.over:
            return
        self.size += len(data)
        if self.size > self.max_bytes:
            self.over = True
            self.chunks = []
        else:
            self.chunks.append((ms, data))


def warn_not_recorded(what: str, max_bytes: int) -> None:
    """The one warning a gateway logs about an exchange past the recording cap."""
    log.warning(
        "%s was relayed but not recorded: its response is longer than record_max_bytes (%d bytes, "
        "--record-max-bytes); later exchanges past the cap are skipped without this warning",
        what,
        max_bytes,
    )


async def caller_gone(receive: Receive) -> None:
    """Returns once the caller has disconnected (the request body, already read, is skipped)."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
