"""The gateway's webhook deliveries against hostile receivers (raw sockets, no SDK): an answer trickled a
byte at a time; credentials in an endpoint's URL masked in what the admin API shows and in the log."""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Iterator, Tuple

import httpx
import pytest

from meshapi_gateway import serve
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


def test_credentials_in_an_endpoint_url_are_shown_masked_by_the_admin_api_and_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    closed = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens: every attempt fails at once, six of them, then dead
    url = f"http://hook-user:pa55w0rd@127.0.0.1:{port}/hook?x=1"
    shown = f"http://hook-user:***@127.0.0.1:{port}/hook?x=1"
    caplog.set_level(logging.INFO, logger="meshapi_gateway.webhooks")
    with serve(["rsk_hostile"], admin_token="adm_hostile", webhook_speed=1_000_000) as gw:
        headers = {"Authorization": "Bearer adm_hostile"}
        with httpx.Client(base_url=gw.base_url, headers=headers, timeout=10) as admin:
            created = admin.post("/_admin/webhooks", json={"url": url, "secret": SECRET})
            assert created.status_code == 201 and created.json()["url"] == shown
            assert [w["url"] for w in admin.get("/_admin/webhooks").json()["webhooks"]] == [shown]
            assert admin.post("/_admin/webhooks/test", json={"type": "balance.low"}).status_code == 200
            wait_until(lambda: [d.state for d in gw.webhooks.deliveries()] == ["dead"], what="dead")
            (delivery,) = admin.get("/_admin/webhooks/deliveries").json()["deliveries"]
            assert delivery["url"] == shown and len(delivery["attempts"]) == 6
            assert gw.webhooks.deliveries()[0].url == url  # what is delivered to keeps them
            assert "pa55w0rd" not in repr(gw.webhooks.endpoints.all()) + repr(gw.webhooks.deliveries())
    dead = [r.getMessage() for r in caplog.records if "is dead" in r.getMessage()]
    assert len(dead) == 1 and shown in dead[0] and "pa55w0rd" not in caplog.text
