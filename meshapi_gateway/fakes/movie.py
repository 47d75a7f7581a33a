"""Small, real video files for finished video tasks: uncompressed AVI (RIFF, 24-bit DIB frames).

Any player that reads AVI (ffmpeg, VLC, browsers' download + open) plays them; no codec or dependency
is needed. Frames are a prompt-coloured gradient whose diagonal bands move one pixel per frame, drawn
small (at most :data:`MAX_WIDTH` pixels wide, aspect ratio kept) so a 5-second clip stays under 0.5 MB.
``last_frame_png`` gives the final frame as a PNG (``return_last_frame``).
"""

from __future__ import annotations

import hashlib
import struct
from typing import List, Tuple

from . import png

MAX_WIDTH = 48
_RATIOS = {"16:9": (16, 9), "4:3": (4, 3), "1:1": (1, 1), "3:4": (3, 4), "9:16": (9, 16), "21:9": (21, 9)}


def frame_size(ratio: str) -> Tuple[int, int]:
    w, h = _RATIOS.get(ratio, (16, 9))
    if w >= h:
        return MAX_WIDTH, max(2, round(MAX_WIDTH * h / w))
    return max(2, round(MAX_WIDTH * w / h)), MAX_WIDTH


def _rows(prompt: str, width: int, height: int) -> List[bytes]:
    """One RGB row per line, twice as wide as the frame (frames are windows into it)."""
    seed = hashlib.sha256(prompt.encode()).digest()
    c1, c2, band = seed[0:3], seed[3:6], 3 + seed[6] % 6
    rows = []
    for y in range(height):
        row = bytearray()
        for x in range(2 * width):
            t = y / max(1, height - 1)
            shade = 0.75 if ((x + y) // band) % 2 else 1.0
            for k in range(3):
                row.append(int((c1[k] * (1 - t) + c2[k] * t) * shade) & 0xFF)
        rows.append(bytes(row))
    return rows


def _frame_rgb(rows: List[bytes], width: int, index: int) -> List[bytes]:
    shift = index % width
    return [row[shift * 3 : (shift + width) * 3] for row in rows]


def _bgr_bottom_up(lines: List[bytes]) -> bytes:
    out = bytearray()
    pad = b"\x00" * (-len(lines[0]) % 4)
    for line in reversed(lines):
        swapped = bytearray(line)
        swapped[0::3], swapped[2::3] = line[2::3], line[0::3]
        out += swapped + pad
    return bytes(out)


def _chunk(fourcc: bytes, data: bytes) -> bytes:
    return fourcc + struct.pack("<I", len(data)) + data + (b"\x00" if len(data) % 2 else b"")


def _list(kind: bytes, data: bytes) -> bytes:
    return b"LIST" + struct.pack("<I", len(data) + 4) + kind + data


def avi(prompt: str, ratio: str, seconds: int, fps: int) -> bytes:
    """An uncompressed AVI of ``seconds * fps`` frames for ``prompt``."""
    width, height = frame_size(ratio)
    rows = _rows(prompt, width, height)
    count = max(1, seconds * fps)
    frames = [_bgr_bottom_up(_frame_rgb(rows, width, i)) for i in range(count)]
    size = len(frames[0])
    avih = struct.pack(
        "<IIIIIIIIII16x", 1_000_000 // fps, size * fps, 0, 0x10, count, 0, 1, size, width, height
    )
    strh = (
        b"vids"
        + b"DIB "
        + struct.pack(
            "<IHHIIIIIIII4h", 0, 0, 0, 0, 1, fps, 0, count, size, 0xFFFFFFFF, 0, 0, 0, width, height
        )
    )
    strf = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, size, 0, 0, 0, 0)
    header = _list(
        b"hdrl", _chunk(b"avih", avih) + _list(b"strl", _chunk(b"strh", strh) + _chunk(b"strf", strf))
    )
    movi_data = b"".join(_chunk(b"00db", f) for f in frames)
    index = bytearray()
    offset = 4
    for frame in frames:
        index += b"00db" + struct.pack("<III", 0x10, offset, len(frame))
        offset += 8 + len(frame) + (len(frame) % 2)
    body = b"AVI " + header + _list(b"movi", movi_data) + _chunk(b"idx1", bytes(index))
    return b"RIFF" + struct.pack("<I", len(body)) + body


def last_frame_png(prompt: str, ratio: str, seconds: int, fps: int) -> bytes:
    width, height = frame_size(ratio)
    lines = _frame_rgb(_rows(prompt, width, height), width, max(1, seconds * fps) - 1)
    return png.encode_rgb(width, height, b"".join(lines))
