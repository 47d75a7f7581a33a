"""Checking that a webhook delivery came from MeshAPI, and reading it as a typed event (docs/protocol.md §V9).

Why this exists: a webhook endpoint is a public URL, so anyone can POST to it. A delivery is genuine when
one of the ``v1=`` terms of ``Mesh-Webhook-Signature`` is ``hex(HMAC-SHA256(secret, "{timestamp}.{body}"))``
for the endpoint's signing secret, over the exact bytes received and the ``Mesh-Webhook-Timestamp`` sent.

* :func:`verify` checks that (constant-time comparison; while a secret rotates the sender signs with both
  secrets, two ``v1=`` terms, and the receiver may pass several secrets too) and that the timestamp is
  within ``tolerance`` seconds of now, else raises :class:`~meshapi.WebhookVerificationError`.
* :func:`unwrap` verifies, then returns the typed event (``meshapi.types.webhooks``).

Replay protection is the two together: a captured delivery stops verifying ``tolerance`` seconds after it
was signed, and within that window a repeat carries the same event id (delivery is at least once, so
genuine duplicates arrive too): keep the ids handled in the last ``tolerance`` seconds and skip repeats.
The id comes from the signed body; a ``Mesh-Event-Id`` header that disagrees with it is refused.

The secret is used as its UTF-8 bytes, prefix included (``whsec_...`` is not decoded).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
import time
from decimal import Decimal
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Type, Union

from pydantic import ValidationError

from ._errors import WebhookVerificationError
from .types.webhooks import (
    BalanceLowEvent,
    RateLimitThresholdEvent,
    SpendCapApproachingEvent,
    SpendCapHitEvent,
    UnknownWebhookEvent,
    WebhookEvent,
)

__all__ = [
    "DEFAULT_TOLERANCE",
    "EVENT_ID_HEADER",
    "EVENT_TYPES",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "BalanceLowEvent",
    "RateLimitThresholdEvent",
    "SpendCapApproachingEvent",
    "SpendCapHitEvent",
    "UnknownWebhookEvent",
    "WebhookEvent",
    "WebhookVerificationError",
    "sign",
    "signature",
    "unwrap",
    "verify",
]

SIGNATURE_HEADER = "Mesh-Webhook-Signature"
TIMESTAMP_HEADER = "Mesh-Webhook-Timestamp"
EVENT_ID_HEADER = "Mesh-Event-Id"
#: Seconds a delivery's timestamp may be from the receiver's clock, either way (the documented 5 minutes).
DEFAULT_TOLERANCE = 300

Secret = Union[str, bytes]
Headers = Union[Mapping[str, Any], Iterable[Tuple[Any, Any]]]

_HEX = re.compile(r"[0-9a-f]{64}")
_SPLIT = re.compile(r"[,\s]+")


def _secrets(secret: Union[Secret, Sequence[Secret]]) -> List[bytes]:
    chosen = [secret] if isinstance(secret, (str, bytes)) else list(secret)
    keys = [s.encode("utf-8") if isinstance(s, str) else s for s in chosen]
    if not keys or not all(isinstance(k, bytes) and k for k in keys):
        raise ValueError("secret must be a non-empty str or bytes, or a non-empty list of them")
    return keys


def _text(value: Any) -> str:
    return value.decode("latin-1") if isinstance(value, (bytes, bytearray)) else str(value)


def _header(headers: Headers, name: str) -> Optional[str]:
    """One header's value, by name in any case, from a dict, an httpx/starlette/werkzeug header object
    or a list of (name, value) pairs (raw ASGI bytes too); several values are joined with ``,``."""
    if not isinstance(headers, Mapping) and hasattr(headers, "get") and hasattr(headers, "items"):
        value = headers.get(name)  # werkzeug's EnvironHeaders: case-insensitive, not a Mapping
        return None if value is None else _text(value)
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    wanted = name.lower()
    found = [_text(v) for k, v in pairs if _text(k).lower() == wanted]
    return ",".join(found) if found else None


def _required(headers: Headers, name: str) -> str:
    value = _header(headers, name)
    if value is None or not value.strip():
        raise WebhookVerificationError(f"missing header {name}", reason="missing_header")
    return value.strip()


def _tolerance(tolerance: Any) -> Optional[float]:
    """``tolerance`` when it is ``None`` or a finite number of seconds >= 0 (NaN would compare false with
    every age and switch the freshness check off without a word); ``ValueError`` otherwise."""
    if tolerance is None:
        return None
    if (
        isinstance(tolerance, bool)
        or not isinstance(tolerance, (int, float))
        or not 0 <= tolerance < math.inf
    ):
        raise ValueError(f"tolerance must be None or a finite number of seconds >= 0, got {tolerance!r}")
    return float(tolerance)


def _body(payload: Union[bytes, bytearray, memoryview, str]) -> bytes:
    if isinstance(payload, str):
        return payload.encode("utf-8")
    if isinstance(payload, (bytes, bytearray, memoryview)):
        return bytes(payload)
    raise TypeError(f"payload must be the raw body as bytes or str, got {type(payload).__name__}")


def signature(secret: Secret, timestamp: Union[int, str], payload: Union[bytes, str]) -> str:
    """The hex ``v1`` signature of ``payload`` sent at ``timestamp`` (Unix seconds) with ``secret``."""
    key = _secrets(secret)[0]
    return hmac.new(key, f"{timestamp}.".encode("ascii") + _body(payload), hashlib.sha256).hexdigest()


def sign(
    payload: Union[bytes, str],
    secret: Union[Secret, Sequence[Secret]],
    *,
    timestamp: Optional[int] = None,
    event_id: Optional[str] = None,
) -> Dict[str, str]:
    """The headers a delivery of ``payload`` carries, signed with each secret (for tests and fixtures).

    ``timestamp`` defaults to now (Unix seconds); ``event_id`` adds ``Mesh-Event-Id``.
    """
    at = int(time.time()) if timestamp is None else int(timestamp)
    terms = ",".join(f"v1={signature(key, at, payload)}" for key in _secrets(secret))
    headers = {SIGNATURE_HEADER: terms, TIMESTAMP_HEADER: str(at)}
    if event_id is not None:
        headers[EVENT_ID_HEADER] = event_id
    return headers


def verify(
    payload: Union[bytes, str],
    headers: Headers,
    secret: Union[Secret, Sequence[Secret]],
    tolerance: Optional[float] = DEFAULT_TOLERANCE,
) -> None:
    """Check a delivery's signature and timestamp; returns ``None`` when it is genuine.

    ``payload``: the raw request body, exactly as received (bytes; a ``str`` is encoded as UTF-8, so pass
    the text only if nothing re-encoded it). ``headers``: the request's headers (a dict in any case, an
    httpx, starlette or werkzeug header object, or (name, value) pairs). ``secret``: the endpoint's
    signing secret, or a list of them (the new and the old one while you rotate): any match verifies.
    ``tolerance``: seconds the timestamp may be from now, either way (``None`` skips the check).

    Raises :class:`~meshapi.WebhookVerificationError` (``reason``: ``missing_header``, ``bad_format``,
    ``stale_timestamp``, ``future_timestamp`` or ``mismatch``); ``ValueError`` for an empty secret or a
    ``tolerance`` that is not ``None`` or a finite number >= 0 (NaN, negative, ``True``).
    """
    keys = _secrets(secret)
    tolerance = _tolerance(tolerance)
    body = _body(payload)
    raw_signature = _required(headers, SIGNATURE_HEADER)
    raw_timestamp = _required(headers, TIMESTAMP_HEADER)
    if not raw_timestamp.isdigit() or not raw_timestamp.isascii() or len(raw_timestamp) > 12:
        raise WebhookVerificationError(
            f"{TIMESTAMP_HEADER} is not a Unix time in whole seconds", reason="bad_format"
        )
    terms = []
    for term in _SPLIT.split(raw_signature):
        scheme, sep, value = term.partition("=")
        if not term or scheme != "v1":
            continue  # another scheme: not ours to check
        if not sep or not _HEX.fullmatch(value):
            raise WebhookVerificationError(
                f"{SIGNATURE_HEADER} has a v1 term that is not 64 lowercase hex digits", reason="bad_format"
            )
        terms.append(value)
    if not terms:
        raise WebhookVerificationError(f"{SIGNATURE_HEADER} has no v1= term", reason="bad_format")
    if tolerance is not None:
        age = time.time() - int(raw_timestamp)
        if age > tolerance:
            raise WebhookVerificationError(
                f"timestamp is {age:.0f} s old, more than the {tolerance:g} s tolerance (a replay, or a clock off)",
                reason="stale_timestamp",
            )
        if -age > tolerance:
            raise WebhookVerificationError(
                f"timestamp is {-age:.0f} s in the future, more than the {tolerance:g} s tolerance",
                reason="future_timestamp",
            )
    signed = raw_timestamp.encode("ascii") + b"." + body
    matched = False
    for key in keys:  # every comparison runs: no early exit whose timing tells which term was close
        expected = hmac.new(key, signed, hashlib.sha256).hexdigest()
        for term in terms:
            matched |= hmac.compare_digest(expected, term)
    if not matched:
        raise WebhookVerificationError(
            "no signature matches the body and timestamp with the secret given", reason="mismatch"
        )


def unwrap(
    payload: Union[bytes, str],
    headers: Headers,
    secret: Union[Secret, Sequence[Secret]],
    tolerance: Optional[float] = DEFAULT_TOLERANCE,
) -> WebhookEvent:
    """:func:`verify`, then the delivery as a typed event (arguments as :func:`verify`).

    Returns a ``BalanceLowEvent``, ``SpendCapApproachingEvent``, ``SpendCapHitEvent``,
    ``RateLimitThresholdEvent`` or, for any other type, an ``UnknownWebhookEvent``; ``event.id`` is the
    key to deduplicate on. Raises :class:`~meshapi.WebhookVerificationError` as :func:`verify` does, and
    with ``reason`` ``bad_payload`` for a body that is not a JSON object, ``id_mismatch`` when the
    ``Mesh-Event-Id`` header names another event than the signed body.
    """
    verify(payload, headers, secret, tolerance)
    try:
        body = json.loads(_body(payload), parse_float=Decimal)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise WebhookVerificationError("the verified body is not a JSON object", reason="bad_payload")
    header_id = _header(headers, EVENT_ID_HEADER)
    header_id = header_id.strip() if header_id is not None else None
    if body.get("id") is None and header_id:
        body["id"] = header_id
    elif header_id and header_id != body.get("id"):
        raise WebhookVerificationError(
            f"{EVENT_ID_HEADER} does not name the event in the signed body", reason="id_mismatch"
        )
    return _event(body)


#: The event class of each known ``type``; any other type is an :class:`UnknownWebhookEvent`.
EVENT_TYPES: Dict[str, Type[Any]] = {
    "balance.low": BalanceLowEvent,
    "spend_cap.approaching": SpendCapApproachingEvent,
    "spend_cap.hit": SpendCapHitEvent,
    "rate_limit.threshold": RateLimitThresholdEvent,
}


def _event(body: Dict[str, Any]) -> WebhookEvent:
    kind = body.get("type")
    model = EVENT_TYPES.get(kind, UnknownWebhookEvent) if isinstance(kind, str) else UnknownWebhookEvent
    try:
        event: WebhookEvent = model.model_validate(body)
    except ValidationError as exc:
        raise WebhookVerificationError(
            f"the verified {body.get('type')!r} event does not have the documented shape: "
            f"{exc.error_count()} field(s) invalid",
            reason="bad_payload",
        ) from None
    return event
