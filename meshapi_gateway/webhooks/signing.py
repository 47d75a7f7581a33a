"""Signing a webhook delivery as production does (docs/protocol.md §V9.1), with the gateway's own code.

``v1 = hex(HMAC-SHA256(secret, "{timestamp}.{body}"))`` over the exact bytes sent, ``timestamp`` in whole
Unix seconds. While a secret rotates, each secret signs: one ``v1=`` term each, comma-separated, the
newest first. The SDK's ``meshapi.webhooks`` checks the same construction with code of its own (the
gateway imports nothing of the SDK); a test signs here and verifies there.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Dict, Sequence

__all__ = ["EVENT_ID_HEADER", "SIGNATURE_HEADER", "TIMESTAMP_HEADER", "delivery_headers", "signature"]

SIGNATURE_HEADER = "Mesh-Webhook-Signature"
TIMESTAMP_HEADER = "Mesh-Webhook-Timestamp"
EVENT_ID_HEADER = "Mesh-Event-Id"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex ``v1`` signature of ``body`` sent at ``timestamp`` with ``secret`` (its UTF-8 bytes)."""
    signed = str(int(timestamp)).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def delivery_headers(secrets: Sequence[str], timestamp: int, body: bytes, event_id: str) -> Dict[str, str]:
    """The headers of one delivery attempt: the signature (a term per secret), the timestamp, the event id."""
    if not secrets:
        raise ValueError("a delivery needs at least one signing secret")
    return {
        "Content-Type": "application/json",
        "User-Agent": "meshapi-gateway-webhooks",
        SIGNATURE_HEADER: ",".join(f"v1={signature(s, timestamp, body)}" for s in secrets),
        TIMESTAMP_HEADER: str(int(timestamp)),
        EVENT_ID_HEADER: event_id,
    }
