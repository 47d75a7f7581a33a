"""The gateway's webhook deliveries against hostile receivers (raw sockets, no SDK): an answer trickled a
byte at a time, credentials in an endpoint's URL kept out of what the admin API shows and the log."""

from __future__ import annotations

import socket
import threading
import time
from typing import Iterator, Tuple

import pytest

from meshapi_gateway.webhooks.delivery import Delivery, DeliveryWorker
from meshapi_gateway.webhooks.endpoints import Endpoints, new_endpoint
from tests._poll import wait_until

SECRET = "whsec_hostile_receivers"


@pytest.fixture
def trickler() -> Iterator[Tuple[str, threading.Event]]:
    """A receiver that answers a status line, then one header byte every 50 ms (each read well inside
    any per-read timeout) for up to 8 s; its URL and the event that stops it."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                try:
                    conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                    deadline = time.monotonic() + 8.0
                    while not stop.is_set() and time.monotonic() < deadline:
                        conn.sendall(b"a")
                        stop.wait(0.05)
                except OSError:
                    continue  # the gateway gave up on it

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/hook", stop
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def test_an_answer_trickled_a_byte_at_a_time_ends_the_attempt_at_its_whole_time(
    trickler: Tuple[str, threading.Event],
) -> None:
    url, _ = trickler
    endpoint = new_endpoint(url, SECRET)
    worker = DeliveryWorker(Endpoints([endpoint]), speed=1000.0, timeout=0.25)
    delivery = Delivery("evt_slow", "balance.low", endpoint.id, url, b"{}")
    try:
        worker.submit(delivery)
        wait_until(lambda: delivery.attempts and delivery.attempts[0].error, timeout=6, what="cut off")
    finally:
        worker.close()
    first = delivery.attempts[0]
    # every read got a byte within 50 ms, so no per-read timeout fires: the attempt as a whole is bounded
    assert (first.status, first.error) == (None, "AttemptTimeout")
    assert 700 <= first.duration_ms < 2000  # 3 x the 0.25 s timeout, then cut
