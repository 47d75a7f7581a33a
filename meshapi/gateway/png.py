"""A tiny PNG encoder (zlib + struct) and a deterministic picture for a prompt.

Generated images honour the requested aspect ratio but are scaled down so the longest side is at most
:data:`MAX_SIDE` pixels: the local gateway is for tests, and a 1024x1024 PNG per request would only
make them slower.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from typing import Tuple

MAX_SIDE = 64
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def encode_rgb(width: int, height: int, pixels: bytes) -> bytes:
    """PNG bytes for 8-bit RGB ``pixels`` (``width * height * 3`` bytes, row by row)."""
    stride = width * 3
    if len(pixels) != stride * height:
        raise ValueError("pixel buffer does not match the image size")
    raw = b"".join(b"\x00" + pixels[y * stride : (y + 1) * stride] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw, 6))
        + _chunk(b"IEND", b"")
    )


def scaled_size(size: str) -> Tuple[int, int]:
    """Pixel size actually drawn for a requested ``"WxH"`` size (``auto``/unparseable -> square)."""
    try:
        w_text, h_text = size.lower().split("x", 1)
        width, height = int(w_text), int(h_text)
    except (ValueError, AttributeError):
        width, height = 1024, 1024
    width, height = max(1, width), max(1, height)
    scale = MAX_SIDE / max(width, height)
    if scale < 1:
        width, height = max(1, round(width * scale)), max(1, round(height * scale))
    return width, height


def picture(prompt: str, size: str, variant: int = 0) -> bytes:
    """A deterministic PNG for ``prompt``: a two-colour gradient with diagonal bands."""
    width, height = scaled_size(size)
    seed = hashlib.sha256(f"{variant}:{prompt}".encode()).digest()
    c1, c2, band = seed[0:3], seed[3:6], 4 + seed[6] % 12
    rows = bytearray()
    for y in range(height):
        for x in range(width):
            t = (x + y) / max(1, width + height - 2)
            stripe = ((x + 2 * y) // band) % 2
            for k in range(3):
                value = c1[k] * (1 - t) + c2[k] * t
                rows.append(int(value * (0.8 if stripe else 1.0)) & 0xFF)
    return encode_rgb(width, height, bytes(rows))
