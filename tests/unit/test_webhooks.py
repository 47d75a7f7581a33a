"""meshapi.webhooks: verify() and unwrap() against hand-built deliveries (docs/protocol.md §V9)."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
import time
from decimal import Decimal
from typing import Any, Dict, List, Tuple

import httpx
import pytest

import meshapi
import meshapi.webhooks as webhooks
from meshapi import MeshAPIError, WebhookVerificationError
from meshapi.webhooks import (
    BalanceLowEvent,
    RateLimitThresholdEvent,
    SpendCapApproachingEvent,
    SpendCapHitEvent,
    UnknownWebhookEvent,
    unwrap,
    verify,
)

SECRET = "whsec_test_secret"
BODY = json.dumps(
    {
        "id": "evt_1",
        "type": "balance.low",
        "created_at": "2026-09-01T00:00:00Z",
        "test": False,
        "data": {"key_id": "key_1", "balance_usd": "4.500000", "threshold_usd": "5", "extra": 1},
        "api_version": "2026-09",
    }
).encode()


def hand_signed(body: bytes, secret: str, at: int) -> str:
    """The documented construction written out here, independent of meshapi.webhooks.sign()."""
    return hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()


def delivery(body: bytes = BODY, *secrets: str, at: int = 0, event_id: str = "evt_1") -> Dict[str, str]:
    at = at or int(time.time())
    terms = ",".join(f"v1={hand_signed(body, s, at)}" for s in (secrets or (SECRET,)))
    return {"Mesh-Webhook-Signature": terms, "Mesh-Webhook-Timestamp": str(at), "Mesh-Event-Id": event_id}


def reason_of(payload: Any, headers: Any, secret: Any = SECRET, **kwargs: Any) -> str:
    with pytest.raises(WebhookVerificationError) as info:
        verify(payload, headers, secret, **kwargs)
    assert isinstance(info.value, MeshAPIError) and info.value.error_code == "webhook_verification_failed"
    return info.value.reason


def test_a_genuine_delivery_verifies_as_bytes_str_and_any_header_shape() -> None:
    headers = delivery()
    assert verify(BODY, headers, SECRET) is None
    assert verify(BODY.decode(), headers, SECRET) is None
    assert verify(bytearray(BODY), {k.lower(): v for k, v in headers.items()}, SECRET) is None
    assert verify(BODY, {k.upper(): v for k, v in headers.items()}, SECRET.encode()) is None
    assert verify(BODY, httpx.Headers(headers), SECRET) is None
    raw: List[Tuple[bytes, bytes]] = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    assert verify(BODY, raw, SECRET) is None  # ASGI scope["headers"]

    class EnvironHeaders:  # werkzeug's (Flask): get() ignores case, and it is not a Mapping
        def __init__(self, pairs: Dict[str, str]) -> None:
            self.pairs = {k.upper(): v for k, v in pairs.items()}

        def get(self, name: str) -> Any:
            return self.pairs.get(name.upper())

        def items(self) -> Any:
            return self.pairs.items()

    assert verify(BODY, EnvironHeaders(headers), SECRET) is None


def test_a_tampered_body_or_a_wrong_secret_is_a_mismatch() -> None:
    headers = delivery()
    assert reason_of(BODY.replace(b"4.500000", b"9.500000"), headers) == "mismatch"
    assert reason_of(BODY + b" ", headers) == "mismatch"
    assert reason_of(BODY, headers, "whsec_other") == "mismatch"
    shifted = dict(headers, **{"Mesh-Webhook-Timestamp": str(int(headers["Mesh-Webhook-Timestamp"]) - 1)})
    assert reason_of(BODY, shifted) == "mismatch"  # the timestamp is part of what is signed


def test_stale_and_future_timestamps_are_refused_within_the_tolerance_either_way() -> None:
    now = int(time.time())
    assert reason_of(BODY, delivery(at=now - 400)) == "stale_timestamp"
    assert reason_of(BODY, delivery(at=now + 400)) == "future_timestamp"
    verify(BODY, delivery(at=now - 250), SECRET)
    verify(BODY, delivery(at=now + 250), SECRET)
    assert reason_of(BODY, delivery(at=now - 60), tolerance=30) == "stale_timestamp"
    verify(BODY, delivery(at=now - 10_000), SECRET, tolerance=None)  # a stored delivery, checked later
    with pytest.raises(WebhookVerificationError, match=r"4\d\d s old, more than the 300 s tolerance"):
        verify(BODY, delivery(at=now - 400), SECRET)


@pytest.mark.parametrize("tolerance", [float("nan"), -1, float("inf"), True, "300"])
def test_a_tolerance_that_is_not_a_finite_number_of_seconds_is_refused_before_any_check(
    tolerance: Any,
) -> None:
    # NaN compares false with every age: taken as is, it silently switched the freshness check off
    old = delivery(at=int(time.time()) - 10_000)
    with pytest.raises(ValueError, match=r"tolerance must be None or a finite number of seconds >= 0"):
        verify(BODY, old, SECRET, tolerance=tolerance)
    with pytest.raises(ValueError, match=r"tolerance must be None"):
        unwrap(BODY, old, SECRET, tolerance=tolerance)
    verify(BODY, delivery(), SECRET, tolerance=5)  # an int, a float: seconds
    verify(BODY, delivery(), SECRET, tolerance=5.5)


def test_rotation_two_terms_and_a_list_of_secrets() -> None:
    both = delivery(BODY, "whsec_new", "whsec_old")
    assert both["Mesh-Webhook-Signature"].count("v1=") == 2
    verify(BODY, both, "whsec_new")
    verify(BODY, both, "whsec_old")
    verify(BODY, delivery(BODY, "whsec_old"), ["whsec_new", "whsec_old"])  # receiver not rotated yet
    verify(BODY, delivery(BODY, "whsec_new"), ["whsec_new", "whsec_old"])
    assert reason_of(BODY, both, ["whsec_a", "whsec_b"]) == "mismatch"
    spaced = dict(both, **{"Mesh-Webhook-Signature": both["Mesh-Webhook-Signature"].replace(",", ", ")})
    verify(BODY, spaced, "whsec_old")
    with pytest.raises(ValueError):
        verify(BODY, both, [])
    with pytest.raises(ValueError):
        verify(BODY, both, "")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"Mesh-Webhook-Signature": None}, "missing_header"),
        ({"Mesh-Webhook-Timestamp": None}, "missing_header"),
        ({"Mesh-Webhook-Signature": "  "}, "missing_header"),
        ({"Mesh-Webhook-Timestamp": "1.5e9"}, "bad_format"),
        ({"Mesh-Webhook-Timestamp": "-5"}, "bad_format"),
        ({"Mesh-Webhook-Timestamp": "2026-09-01T00:00:00Z"}, "bad_format"),
        ({"Mesh-Webhook-Signature": "v0=abc"}, "bad_format"),
        ({"Mesh-Webhook-Signature": "v1="}, "bad_format"),
        ({"Mesh-Webhook-Signature": "v1=" + "G" * 64}, "bad_format"),
        ({"Mesh-Webhook-Signature": "v1=" + "a" * 63}, "bad_format"),
        ({"Mesh-Webhook-Signature": "v1" + "a" * 64}, "bad_format"),
    ],
)
def test_malformed_headers_say_why(change: Dict[str, Any], reason: str) -> None:
    headers: Dict[str, Any] = delivery()
    for name, value in change.items():
        if value is None:
            del headers[name]
        else:
            headers[name] = value
    assert reason_of(BODY, headers) == reason


def test_an_unknown_scheme_next_to_a_good_v1_term_is_ignored() -> None:
    headers = delivery()
    headers["Mesh-Webhook-Signature"] = "v2=whatever," + headers["Mesh-Webhook-Signature"]
    verify(BODY, headers, SECRET)


def test_unwrap_returns_the_typed_event_with_its_id_and_keeps_unknown_fields() -> None:
    event = unwrap(BODY, delivery(), SECRET)
    assert isinstance(event, BalanceLowEvent)
    assert (event.id, event.type, event.created_at, event.test) == (
        "evt_1",
        "balance.low",
        "2026-09-01T00:00:00Z",
        False,
    )
    assert event.data.balance_usd == Decimal("4.500000") and event.data.threshold_usd == Decimal("5")
    assert event.data.key_id == "key_1"
    assert event.data.model_extra == {"extra": 1} and event.model_extra == {"api_version": "2026-09"}


@pytest.mark.parametrize(
    ("kind", "data", "cls", "check"),
    [
        (
            "spend_cap.approaching",
            {
                "scope": "key",
                "scope_id": "key_1",
                "key_id": "key_1",
                "spent_usd": "8",
                "cap_usd": "10",
                "pct": 80,
            },
            SpendCapApproachingEvent,
            ("spent_usd", Decimal("8")),
        ),
        (
            "spend_cap.hit",
            {"scope": "org", "scope_id": "org_1", "key_id": None, "spent_usd": "10.5", "cap_usd": "10"},
            SpendCapHitEvent,
            ("cap_usd", Decimal("10")),
        ),
        (
            "rate_limit.threshold",
            {"scope": "key", "metric": "rpm", "current": 8, "limit": 10, "pct": 80.0},
            RateLimitThresholdEvent,
            ("pct", Decimal("80.0")),
        ),
    ],
)
def test_unwrap_each_known_type(kind: str, data: Dict[str, Any], cls: type, check: Tuple[str, Any]) -> None:
    body = json.dumps(
        {"id": "evt_2", "type": kind, "created_at": "2026-09-01T00:00:00Z", "data": data}
    ).encode()
    event = unwrap(body, delivery(body, event_id="evt_2"), SECRET)
    assert type(event) is cls and event.id == "evt_2" and event.type == kind
    assert getattr(event.data, check[0]) == check[1]
    assert event.data.scope == data["scope"]


def test_an_unknown_type_is_kept_whole() -> None:
    body = b'{"id": "evt_3", "type": "invoice.paid", "data": {"amount_usd": 1.25, "n": [1]}, "test": true}'
    event = unwrap(body, delivery(body, event_id="evt_3"), SECRET)
    assert isinstance(event, UnknownWebhookEvent)
    assert (event.type, event.test, event.data) == (
        "invoice.paid",
        True,
        {"amount_usd": Decimal("1.25"), "n": [1]},
    )


def test_replays_and_duplicates() -> None:
    # a duplicate (at-least-once delivery) verifies again and carries the same id: dedupe on it
    first, again = unwrap(BODY, delivery(), SECRET), unwrap(BODY, delivery(), SECRET)
    assert first.id == again.id == "evt_1"
    # a captured delivery replayed after the tolerance no longer verifies
    old = delivery(at=int(time.time()) - 301)
    assert reason_of(BODY, old) == "stale_timestamp"
    # the id header is not signed: one naming another event than the signed body is refused
    with pytest.raises(WebhookVerificationError) as info:
        unwrap(BODY, delivery(event_id="evt_other"), SECRET)
    assert info.value.reason == "id_mismatch"
    # a body without an id takes the header's
    body = b'{"type": "balance.low", "data": {}}'
    assert unwrap(body, delivery(body, event_id="evt_9"), SECRET).id == "evt_9"


def test_unwrap_refuses_a_verified_body_that_is_not_an_event() -> None:
    for body in (b"[1, 2]", b"not json", b'{"type": "balance.low", "data": {"balance_usd": "lots"}}'):
        with pytest.raises(WebhookVerificationError) as info:
            unwrap(body, delivery(body), SECRET)
        assert info.value.reason == "bad_payload"


def test_sign_matches_the_documented_construction() -> None:
    headers = webhooks.sign(BODY, ["whsec_a", "whsec_b"], timestamp=1_700_000_000, event_id="evt_1")
    a, b = hand_signed(BODY, "whsec_a", 1_700_000_000), hand_signed(BODY, "whsec_b", 1_700_000_000)
    assert headers == {
        "Mesh-Webhook-Signature": f"v1={a},v1={b}",
        "Mesh-Webhook-Timestamp": "1700000000",
        "Mesh-Event-Id": "evt_1",
    }


def test_the_error_is_exported_and_pickles() -> None:
    import pickle

    assert meshapi.WebhookVerificationError is webhooks.WebhookVerificationError is WebhookVerificationError
    assert "WebhookVerificationError" in meshapi.__all__
    err = pickle.loads(pickle.dumps(WebhookVerificationError("m", reason="mismatch")))
    assert (err.reason, str(err)) == ("mismatch", "m")


def test_import_meshapi_does_not_load_webhooks_but_the_attribute_does() -> None:
    code = (
        "import sys, meshapi\n"
        "assert 'meshapi.webhooks' not in sys.modules\n"
        "assert meshapi.webhooks.verify is sys.modules['meshapi.webhooks'].verify\n"
    )
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
