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


class PngError(ValueError):
    """The bytes are not a PNG this decoder reads (8-bit, non-interlaced, grey/RGB/RGBA/palette)."""


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def decode_rgb(data: bytes) -> Tuple[int, int, bytes]:
    """``(width, height, rgb)`` of a PNG (alpha dropped, palette expanded); raises :class:`PngError`."""
    if not data.startswith(PNG_SIGNATURE):
        raise PngError("not a PNG file")
    pos, idat, palette = 8, b"", b""
    width = height = colour = 0
    try:
        while pos < len(data):
            length = struct.unpack(">I", data[pos : pos + 4])[0]
            kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
            pos += 12 + length
            if kind == b"IHDR":
                width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
                if depth != 8 or interlace or colour not in (0, 2, 3, 4, 6):
                    raise PngError("only 8-bit, non-interlaced PNGs are supported")
            elif kind == b"PLTE":
                palette = body
            elif kind == b"IDAT":
                idat += body
            elif kind == b"IEND":
                break
        raw = zlib.decompress(idat)
    except (struct.error, zlib.error) as exc:
        raise PngError(f"corrupt PNG: {exc}") from None
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour]
    stride = width * channels
    if width <= 0 or height <= 0 or len(raw) < height * (stride + 1) or width * height > 4096 * 4096:
        raise PngError("corrupt PNG: wrong image data size")
    previous = bytearray(stride)
    out = bytearray()
    for y in range(height):
        filt = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if filt == 1:
                line[i] = (line[i] + left) & 0xFF
            elif filt == 2:
                line[i] = (line[i] + up) & 0xFF
            elif filt == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif filt == 4:
                line[i] = (line[i] + _paeth(left, up, corner)) & 0xFF
            elif filt != 0:
                raise PngError("corrupt PNG: unknown row filter")
        previous = line
        for x in range(width):
            px = line[x * channels : (x + 1) * channels]
            if colour == 2 or colour == 6:
                out += px[:3]
            elif colour == 3:
                out += palette[px[0] * 3 : px[0] * 3 + 3] or b"\x00\x00\x00"
            else:
                out += bytes((px[0], px[0], px[0]))
    return width, height, bytes(out)
