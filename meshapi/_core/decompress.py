"""Decoding ``Content-Encoding`` within a size cap, so a small compressed body cannot become gigabytes.

httpx inflates a gzip or deflate body with no limit on the output: a 1 MB body of compressed zeros
becomes a 1 GB ``bytes`` before anything can look at it. :class:`CappedDecoder` has httpx's decoder
interface (``decode(chunk)`` / ``flush()``) and replaces it on each response: gzip and deflate are
inflated here with ``max_length`` so the output never passes ``limit + 1`` bytes; identity bodies are
counted; other encodings (``br``, ``zstd``, when their packages are installed) go through httpx's own
decoder and are counted after each chunk. Past the cap, :class:`BodyTooLarge` is raised; with
``keep_prefix`` (error bodies) the last piece that still fits is kept in ``prefix`` so the transport
can build the error from the start of the body. Pure code: putting the decoder on an ``httpx.Response``
(an httpx private) is ``meshapi._transport.reading.install_cap``, which also maps the exception to
``ResponseTooLargeError``.
"""

from __future__ import annotations

import zlib
from typing import Any, List, Optional

__all__ = ["DEFAULT_MAX_RESPONSE_BYTES", "BodyTooLarge", "CappedDecoder", "capped_decoder_for"]

#: Default cap on a decompressed body (and on one SSE line / event), in bytes: 64 MiB.
DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024


class BodyTooLarge(ValueError):
    """The decoded body passed the cap (``limit`` bytes)."""

    def __init__(self, limit: int, encoding: str) -> None:
        what = f"{encoding}-encoded body" if encoding and encoding != "identity" else "body"
        super().__init__(f"the {what} is larger than the {limit}-byte limit (max_response_bytes)")
        self.limit = limit
        self.encoding = encoding


class _Inflater:
    """One gzip or deflate layer, inflated at most ``room`` bytes at a time."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._first = True
        self._z = zlib.decompressobj(zlib.MAX_WBITS | 16 if encoding != "deflate" else zlib.MAX_WBITS)

    def inflate(self, data: bytes, room: int, out: List[bytes]) -> int:
        """Append up to ``room + 1`` inflated bytes to ``out``; return how many were appended."""
        produced = 0
        while data and produced <= room:
            try:
                piece = self._z.decompress(data, room + 1 - produced)
            except zlib.error:
                if self._first and self.encoding == "deflate":  # a raw deflate stream (no zlib header)
                    self._first = False
                    self._z = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                raise
            self._first = False
            out.append(piece)
            produced += len(piece)
            data = self._z.unconsumed_tail
            if not piece and not data:
                break
        return produced


class CappedDecoder:
    """httpx's ``ContentDecoder`` interface with a cap on the decoded size (see the module docstring).

    ``encodings``: the ``Content-Encoding`` values in the order they were applied. ``fallback``: the
    decoder httpx would have used, for encodings handled there (``None`` when all are handled here).
    """

    def __init__(
        self,
        encodings: List[str],
        limit: int,
        *,
        fallback: Any = None,
        keep_prefix: bool = False,
    ) -> None:
        self.limit = limit
        self.keep_prefix = keep_prefix
        self.prefix: Optional[bytes] = None
        self.total = 0
        self._fallback = fallback
        self._encoding = ", ".join(encodings) or "identity"
        self._inflaters = [] if fallback is not None else [_Inflater(e) for e in reversed(encodings)]
        self._done = False

    def _count(self, pieces: List[bytes]) -> bytes:
        data = b"".join(pieces)
        if self.total + len(data) > self.limit:
            self._done = True
            if self.keep_prefix:  # the caller joins what was decoded so far with this
                self.prefix = data[: max(self.limit - self.total, 0)]
            raise BodyTooLarge(self.limit, self._encoding)
        self.total += len(data)
        return data

    def decode(self, data: bytes) -> bytes:
        if self._done:
            return b""
        if self._fallback is not None:
            return self._count([self._fallback.decode(data)])
        pieces = [data]
        for inflater in self._inflaters:
            out: List[bytes] = []
            room = self.limit - self.total
            for piece in pieces:
                room -= inflater.inflate(piece, room, out)
                if room < 0:
                    break
            pieces = out
        return self._count(pieces)

    def flush(self) -> bytes:
        if self._done:
            return b""
        if self._fallback is not None:
            return self._count([self._fallback.flush()])
        return b""


def capped_decoder_for(
    content_encoding: List[str], limit: int, httpx_decoder: Any, *, keep_prefix: bool = False
) -> CappedDecoder:
    """The decoder for a response whose ``Content-Encoding`` values are ``content_encoding``.

    gzip / deflate / identity are decoded here; anything else httpx knows goes through
    ``httpx_decoder`` (httpx's choice for the same headers) and is counted after decoding.
    """
    encodings = [e.strip().lower() for e in content_encoding if e.strip()]
    encodings = [e for e in encodings if e != "identity"]
    ours = all(e in ("gzip", "x-gzip", "deflate") for e in encodings)
    if ours:
        return CappedDecoder(
            ["gzip" if e == "x-gzip" else e for e in encodings], limit, keep_prefix=keep_prefix
        )
    return CappedDecoder(encodings, limit, fallback=httpx_decoder, keep_prefix=keep_prefix)
