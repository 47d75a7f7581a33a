"""Where the gateway delivers webhooks: endpoints, their signing secrets, rotation (docs/protocol.md §V9.1).

An endpoint is a URL, the secret(s) it is signed with and, optionally, the event types it receives (none
named: all of them). Endpoints come from the settings (``--webhook URL --webhook-secret S``,
``serve(webhooks=[...])``) and at run time from the admin API or ``Gateway.webhooks.register()``;
``reset()`` goes back to the start-up ones.

Any ``http``/``https`` URL may be registered, loopback or not: every endpoint here is configured
explicitly by whoever runs the gateway (production refuses private addresses; a local gateway delivers
to a receiver on the same machine). Redirects are never followed (a redirect is a failed attempt).

Rotation: ``rotate(id, new_secret)`` signs with the new and the old secret (two ``v1=`` terms, the new
first) until ``grace_until`` (24 h later by default), then with the new one only.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple
from urllib.parse import urlsplit, urlunsplit

from ..ids import hex_id, iso_timestamp

__all__ = ["EVENT_TYPES", "ROTATION_GRACE_SECONDS", "Endpoint", "Endpoints", "parse_endpoints", "shown_url"]

#: The event types the gateway raises (docs/protocol.md §V9.2).
EVENT_TYPES = ("balance.low", "spend_cap.approaching", "spend_cap.hit", "rate_limit.threshold")
#: How long the old secret keeps signing after a rotation.
ROTATION_GRACE_SECONDS = 24 * 60 * 60.0


def check_url(url: Any) -> str:
    """``url`` when it is an absolute ``http``/``https`` URL with a host; ``ValueError`` otherwise."""
    if not isinstance(url, str):
        raise ValueError(f"a webhook URL must be a string, got {type(url).__name__}")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"a webhook URL must be an absolute http(s) URL, got {url!r}")
    return url


def shown_url(url: str) -> str:
    """``url`` with the password of its user info (``https://user:pass@host/``) as ``***``: what the admin
    API, the log and the start-up line show (deliveries go to the URL as given)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


def check_secret(secret: Any) -> str:
    if not isinstance(secret, str) or not secret or any(c.isspace() for c in secret):
        raise ValueError("a webhook secret must be a non-empty string without spaces")
    return secret


def check_events(events: Any) -> Optional[Tuple[str, ...]]:
    if events is None:
        return None
    if isinstance(events, str) or not all(isinstance(e, str) for e in events):
        raise ValueError("'events' must be a list of event types")
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown:
        raise ValueError(f"unknown event types: {', '.join(unknown)} (known: {', '.join(EVENT_TYPES)})")
    return tuple(events)


@dataclass
class Endpoint:
    """One registered destination. ``secrets``: the current secret first, then one in its grace period."""

    id: str
    url: str = field(repr=False)  # its password too: shown_url() in the repr
    secrets: List[str] = field(repr=False)  # never in a repr or a log line
    events: Optional[Tuple[str, ...]] = None
    grace_until: Optional[float] = None
    created_at: float = field(default_factory=time.time)

    def __repr__(self) -> str:
        return f"Endpoint(id={self.id!r}, url={shown_url(self.url)!r}, events={self.events!r})"

    def wants(self, event_type: str) -> bool:
        return self.events is None or event_type in self.events

    def signing_secrets(self, now: float) -> List[str]:
        """The secrets that sign a delivery now (both during a rotation's grace period)."""
        if len(self.secrets) > 1 and self.grace_until is not None and now < self.grace_until:
            return list(self.secrets)
        return self.secrets[:1]

    def view(self) -> Dict[str, Any]:
        """What the admin API shows: never a secret."""
        return {
            "id": self.id,
            "url": shown_url(self.url),
            "events": list(self.events) if self.events is not None else None,
            "grace_until": iso_timestamp(self.grace_until) if self.grace_until is not None else None,
            "created_at": iso_timestamp(self.created_at),
        }


def parse_endpoints(specs: Sequence[Any], default_secret: Optional[str]) -> List[Endpoint]:
    """Endpoints from settings: a URL (signed with ``default_secret``), a ``(url, secret)`` pair, or a
    mapping with ``url``, ``secret`` and optionally ``events``. ``ValueError`` for a bad one."""
    out = []
    url: Any
    secret: Any
    events: Any
    for spec in specs:
        if isinstance(spec, str):
            url, secret, events = spec, default_secret, None
        elif isinstance(spec, Mapping):
            unknown = set(spec) - {"url", "secret", "events"}
            if unknown:
                raise ValueError(f"unknown webhook fields: {', '.join(sorted(unknown))}")
            url, secret, events = spec.get("url"), spec.get("secret", default_secret), spec.get("events")
        elif isinstance(spec, (tuple, list)) and len(spec) == 2:
            url, secret, events = spec[0], spec[1], None
        else:
            raise ValueError(
                f"a webhook is a URL, a (url, secret) pair or a mapping, got a {type(spec).__name__}"
            )
        if secret is None:
            raise ValueError(f"the webhook {url!r} has no secret (give one, or webhook_secret for all)")
        out.append(new_endpoint(url, secret, events))
    return out


def new_endpoint(url: Any, secret: Any, events: Any = None) -> Endpoint:
    return Endpoint(hex_id("we_", 16), check_url(url), [check_secret(secret)], check_events(events))


class Endpoints:
    """The registered endpoints (thread-safe: the admin API, tests and the delivery worker share it)."""

    def __init__(self, start: Sequence[Endpoint]) -> None:
        self._lock = threading.Lock()
        self._start = [(e, list(e.secrets)) for e in start]
        self._items: Dict[str, Endpoint] = {e.id: e for e in start}

    def add(self, endpoint: Endpoint) -> Endpoint:
        with self._lock:
            self._items[endpoint.id] = endpoint
        return endpoint

    def remove(self, endpoint_id: str) -> bool:
        with self._lock:
            return self._items.pop(endpoint_id, None) is not None

    def get(self, endpoint_id: str) -> Optional[Endpoint]:
        with self._lock:
            return self._items.get(endpoint_id)

    def __len__(self) -> int:
        return len(self._items)  # one atomic read: the hot path asks this on every counted request

    def all(self) -> List[Endpoint]:
        with self._lock:
            return list(self._items.values())

    def rotate(
        self,
        endpoint_id: str,
        secret: Any,
        *,
        grace: float = ROTATION_GRACE_SECONDS,
        now: Optional[float] = None,
    ) -> Optional[Endpoint]:
        """Sign with ``secret`` from now on, and with the current one too for ``grace`` seconds."""
        check_secret(secret)
        with self._lock:
            endpoint = self._items.get(endpoint_id)
            if endpoint is None:
                return None
            endpoint.secrets = [secret, endpoint.secrets[0]]
            endpoint.grace_until = (time.time() if now is None else now) + grace
            return endpoint

    def reset(self) -> None:
        """Back to the start-up endpoints (their original secrets)."""
        with self._lock:
            for endpoint, secrets in self._start:
                endpoint.secrets, endpoint.grace_until = list(secrets), None
            self._items = {e.id: e for e, _ in self._start}
