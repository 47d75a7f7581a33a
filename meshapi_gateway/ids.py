"""Identifiers the gateway hands out: request ids, resource ids and timestamps.

Request ids follow the production shape ``req_`` + a 26-character ULID (48-bit millisecond clock and
80 random bits, Crockford base32). Resource ids mimic the shapes seen on the wire (``chatcmpl-…``,
``cmp_`` + 20 hex, ``batch_…``, UUIDs for templates and files).
"""

from __future__ import annotations

import datetime as _dt
import os
import time
import uuid

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def ulid() -> str:
    """A fresh 26-character ULID (time-ordered at millisecond resolution)."""
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        chars.append(CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def new_request_id() -> str:
    return "req_" + ulid()


def hex_id(prefix: str, length: int) -> str:
    return prefix + os.urandom((length + 1) // 2).hex()[:length]


def new_uuid() -> str:
    return str(uuid.uuid4())


def owner_id_for(token: str) -> str:
    """A stable owner UUID derived from a token (the token itself is never stored)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "meshapi-local-owner:" + token))


def iso_timestamp(seconds: float) -> str:
    """ISO-8601 UTC with an explicit offset, e.g. ``2026-01-05T09:30:00.123456+00:00``."""
    return _dt.datetime.fromtimestamp(seconds, tz=_dt.timezone.utc).isoformat()


def now() -> float:
    return time.time()
