"""The webhook part of the pytest plugin: a receiver for the deliveries of the test's local gateway.

Loaded by :mod:`meshapi.testing` (its ``pytest_plugins``). The ``meshapi_webhook_receiver`` fixture runs
a small HTTP server on ``127.0.0.1`` (a free port, a thread), registers it with the ``meshapi_gateway``
fixture's gateway (a fresh signing secret per test) and removes it after the test. It keeps every
delivery it receives: ``wait(n)`` blocks until ``n`` have arrived (bounded, then fails saying how many
came), ``events()`` verifies each with :func:`meshapi.webhooks.unwrap` and returns the typed events, and
``fail_next(n, status)`` answers the next ``n`` deliveries with an error so a test can watch the retries::

    def test_low_balance_alert(meshapi_gateway, meshapi_webhook_receiver, meshapi_client):
        meshapi_gateway.webhooks.configure(balance_low_usd="1000")  # any charge crosses it
        meshapi_client.chat.completions.create(model="openai/gpt-4o-mini", messages=[...])
        (event,) = meshapi_webhook_receiver.wait(1).events()
        assert event.type == "balance.low"

To use it with a gateway of your own, override ``meshapi_gateway`` in your ``conftest.py`` (a fixture of
the same name), or build a :class:`WebhookReceiver` and ``gateway.webhooks.register(r.url, r.secret)``.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Iterator, List, Optional

import pytest

__all__ = ["ReceivedDelivery", "WebhookReceiver", "meshapi_webhook_receiver"]

#: Largest delivery body the receiver reads (a bigger one is answered 413).
MAX_BODY = 1024 * 1024


@dataclass
class ReceivedDelivery:
    """One POST the receiver got: its path, headers (names in lower case), raw body, status answered."""

    path: str
    headers: Dict[str, str]
    body: bytes
    status: int
    received_at: float = field(default_factory=time.time)


class WebhookReceiver:
    """A local webhook endpoint that records what it receives (see the module docstring)."""

    def __init__(self, secret: Optional[str] = None) -> None:
        self.secret = secret or "whsec_" + secrets.token_hex(16)
        self._cond = threading.Condition()
        self._received: List[ReceivedDelivery] = []
        self._failures: List[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY:
                    self.send_response(413)
                    self.end_headers()
                    return
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                status = receiver._record(self.path, headers, body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{port}/webhooks"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"meshapi-webhook-receiver-{port}", daemon=True
        )
        self._thread.start()

    def __repr__(self) -> str:  # the secret stays out
        return f"<WebhookReceiver {self.url} received={len(self.deliveries)}>"

    def _record(self, path: str, headers: Dict[str, str], body: bytes) -> int:
        with self._cond:
            status = self._failures.pop(0) if self._failures else 200
            self._received.append(ReceivedDelivery(path, headers, body, status))
            self._cond.notify_all()
            return status

    def fail_next(self, count: int = 1, status: int = 500) -> None:
        """Answer the next ``count`` deliveries with ``status`` (a failed attempt, retried by the gateway)."""
        with self._cond:
            self._failures.extend([status] * count)

    @property
    def deliveries(self) -> List[ReceivedDelivery]:
        """Every delivery received so far, failed attempts included, in arrival order."""
        with self._cond:
            return list(self._received)

    @property
    def accepted(self) -> List[ReceivedDelivery]:
        """The deliveries answered with a 2xx."""
        return [d for d in self.deliveries if 200 <= d.status < 300]

    def wait(self, count: int = 1, timeout: float = 5.0, *, accepted: bool = True) -> WebhookReceiver:
        """Block until ``count`` deliveries (only accepted ones unless ``accepted=False``) have arrived;
        returns the receiver. Raises ``AssertionError`` after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout

        def got() -> int:
            return sum(1 for d in self._received if not accepted or 200 <= d.status < 300)

        with self._cond:
            while got() < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"expected {count} webhook deliveries within {timeout} s, got {got()} at {self.url}"
                    )
                self._cond.wait(left)
        return self

    def events(self, *, tolerance: Optional[float] = 300) -> List[Any]:
        """The accepted deliveries verified and unwrapped (:func:`meshapi.webhooks.unwrap`), in order."""
        from meshapi.webhooks import unwrap

        return [unwrap(d.body, d.headers, self.secret, tolerance) for d in self.accepted]

    def clear(self) -> None:
        with self._cond:
            self._received.clear()
            self._failures.clear()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5.0)


@pytest.fixture
def meshapi_webhook_receiver(meshapi_gateway: Any) -> Iterator[WebhookReceiver]:
    """A local receiver registered with the session gateway for this test (see the module docstring)."""
    receiver = WebhookReceiver()
    endpoint = meshapi_gateway.webhooks.register(receiver.url, receiver.secret)
    try:
        yield receiver
    finally:
        meshapi_gateway.webhooks.unregister(endpoint.id)
        receiver.close()
