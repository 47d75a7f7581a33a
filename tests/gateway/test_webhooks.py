"""The gateway's webhook deliveries (raw httpx and a stdlib receiver, no SDK): signing, events, retries,
the fault plan's duplicates and late deliveries, the admin API, the command-line options."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Iterator, List, Tuple

import httpx
import pytest

from meshapi_gateway import Gateway, serve
from meshapi_gateway.http.cli import _parser, main
from meshapi_gateway.http.cli_webhooks import paired_webhooks
from meshapi_gateway.webhooks.delivery import RETRY_DELAYS, Delivery, DeliveryWorker, retry_delay
from meshapi_gateway.webhooks.endpoints import Endpoints, new_endpoint
from meshapi_gateway.webhooks.signing import delivery_headers
from tests._poll import wait_until

TOKEN = "rsk_webhook_tests"
SECRET = "whsec_gateway_tests"
# response_cache=False in every gateway here: a repeated call is charged (a cache hit costs nothing)
CHAT = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


class Receiver:
    """A stdlib HTTP endpoint: records (headers, body) and answers the statuses queued, then 200."""

    def __init__(self) -> None:
        self.got: List[Tuple[Dict[str, str], bytes]] = []
        self.statuses: List[int] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.got.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(outer.statuses.pop(0) if outer.statuses else 200)
                self.send_header("Content-Length", "0")
                self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def chat(gw: Gateway) -> httpx.Response:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    return httpx.post(gw.base_url + "/v1/chat/completions", json=CHAT, headers=headers, timeout=10)


def paid_chat(gw: Gateway) -> int:
    """One chat call, returned once its charge is recorded (billing runs as the response ends)."""
    owner = gw.state.owner_for(TOKEN)
    assert owner is not None
    before = gw.state.balance.totals(owner)[1]
    status = chat(gw).status_code
    if status == 200:
        wait_until(lambda: gw.state.balance.totals(owner)[1] > before, what="the call charged")
    return status


def hand_verify(headers: Dict[str, str], body: bytes, secret: str) -> bool:
    signed = headers["mesh-webhook-timestamp"].encode() + b"." + body
    expected = "v1=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return expected in headers["mesh-webhook-signature"].split(",")


# -- signing and the retry schedule (pure) -----------------------------------------------------------


def test_delivery_headers_follow_the_documented_construction() -> None:
    body = b'{"id":"evt_1"}'
    headers = delivery_headers(["new", "old"], 1_700_000_000, body, "evt_1")
    new = hmac.new(b"new", b"1700000000." + body, hashlib.sha256).hexdigest()
    old = hmac.new(b"old", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert headers["Mesh-Webhook-Signature"] == f"v1={new},v1={old}"
    assert (headers["Mesh-Webhook-Timestamp"], headers["Mesh-Event-Id"]) == ("1700000000", "evt_1")
    with pytest.raises(ValueError):
        delivery_headers([], 1, body, "evt_1")


@pytest.mark.parametrize(
    ("failed", "speed", "rand", "expected"),
    [
        (1, 1.0, 0.5, 30.0),
        (2, 1.0, 0.5, 120.0),
        (3, 1.0, 0.5, 600.0),
        (4, 1.0, 0.5, 3600.0),
        (5, 1.0, 0.5, 21600.0),
        (1, 1.0, 0.0, 24.0),  # -20 %
        (5, 1.0, 1.0, 25920.0),  # +20 % (rand never reaches 1: the bound)
        (2, 1000.0, 0.5, 0.12),
        (5, 1000.0, 0.0, 17.28),
        (6, 1.0, 0.5, None),  # six attempts made: dead
        (0, 1.0, 0.5, None),
    ],
)
def test_retry_delay_table(failed: int, speed: float, rand: float, expected: Any) -> None:
    delay = retry_delay(failed, speed, lambda: rand)
    assert delay == (pytest.approx(expected) if expected is not None else None)


# -- the worker: retries, success, dead, bounded queue, timeout ---------------------------------------


def worker_for(url: str, **kwargs: Any) -> Tuple[DeliveryWorker, Endpoints, str]:
    endpoint = new_endpoint(url, SECRET)
    endpoints = Endpoints([endpoint])
    return DeliveryWorker(endpoints, rand=lambda: 0.5, **kwargs), endpoints, endpoint.id


def test_six_failed_attempts_on_the_schedule_then_dead(receiver: Receiver) -> None:
    speed = 20_000.0
    worker, _, endpoint_id = worker_for(receiver.url, speed=speed)
    receiver.statuses = [500, 302, 404, 503, 400, 500, 200]  # a redirect is a failure, never followed
    delivery = Delivery("evt_x", "balance.low", endpoint_id, receiver.url, b"{}")
    try:
        assert worker.submit(delivery)
        wait_until(lambda: delivery.state == "dead", timeout=10, what="dead after six attempts")
    finally:
        worker.close()
    assert [a.status for a in delivery.attempts] == [500, 302, 404, 503, 400, 500]
    assert len(receiver.got) == 6  # nothing sent to the Location of the 302
    gaps = [b - a for a, b in zip(delivery.started, delivery.started[1:])]
    for gap, base in zip(gaps, RETRY_DELAYS):
        assert gap >= base / speed * 0.999  # rand 0.5: exactly the documented delay, divided by speed
    assert all(hand_verify(h, body, SECRET) for h, body in receiver.got)


def test_a_failed_attempt_then_a_2xx_is_delivered(receiver: Receiver) -> None:
    worker, _, endpoint_id = worker_for(receiver.url, speed=10_000.0)
    receiver.statuses = [503, 204]
    delivery = Delivery("evt_y", "balance.low", endpoint_id, receiver.url, b"{}")
    try:
        worker.submit(delivery)
        wait_until(lambda: delivery.state == "delivered", what="delivered")
    finally:
        worker.close()
    assert [a.status for a in delivery.attempts] == [503, 204]
    assert [h["mesh-event-id"] for h, _ in receiver.got] == ["evt_y", "evt_y"]


def test_the_queue_is_bounded_and_submit_never_waits() -> None:
    worker, _, endpoint_id = worker_for("http://127.0.0.1:9/never", max_pending=2)
    held = [
        Delivery(f"evt_{n}", "balance.low", endpoint_id, "http://127.0.0.1:9/", b"{}", hold=60)
        for n in range(3)
    ]
    try:
        assert [worker.submit(d) for d in held] == [True, True, False]
        assert [d.state for d in worker.deliveries()] == ["pending", "pending", "dropped"]
    finally:
        worker.close()


def test_a_silent_receiver_times_out_without_holding_up_requests() -> None:
    silent = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # connections are queued by the kernel, never read or answered
    url = f"http://127.0.0.1:{silent.getsockname()[1]}/hook"
    try:
        with serve(
            [TOKEN],
            response_cache=False,
            webhooks=[(url, SECRET)],
            balance_low_usd="1000",
            webhook_timeout=1.0,
        ) as gw:
            assert chat(gw).status_code == 200
            (delivery,) = wait_until(gw.webhooks.deliveries, what="a delivery queued")
            started = time.monotonic()
            for _ in range(3):  # answered at once while the attempt hangs
                assert chat(gw).status_code == 200
            assert time.monotonic() - started < 1.0 and delivery.attempts[0].error is None
            wait_until(lambda: delivery.attempts[0].error == "ReadTimeout", timeout=5, what="timed out")
    finally:
        silent.close()


# -- events raised by the gateway ------------------------------------------------------------------


def bodies(receiver: Receiver) -> List[Dict[str, Any]]:
    return [json.loads(body) for _, body in receiver.got]


def test_balance_low_is_sent_once_signed_with_the_envelope(receiver: Receiver) -> None:
    with serve(
        [TOKEN], response_cache=False, balance="1", balance_low_usd=None, webhooks=[(receiver.url, SECRET)]
    ) as gw:
        owner = gw.state.owner_for(TOKEN)
        assert owner is not None
        paid_chat(gw)
        balance, cost = gw.state.balance.totals(owner)
        floor = balance - cost / 2  # the next call crosses it
        gw.webhooks.configure(balance_low_usd=str(floor))
        assert gw.webhooks.deliveries() == []
        for _ in range(2):
            paid_chat(gw)
        wait_until(lambda: len(receiver.got) == 1, what="one delivery")
        (event,) = bodies(receiver)
        assert set(event) == {"id", "type", "created_at", "test", "data"}
        assert (event["type"], event["test"]) == ("balance.low", False)
        assert event["data"]["key_id"] == owner and Decimal(event["data"]["threshold_usd"]) == floor
        assert Decimal(event["data"]["balance_usd"]) == balance - cost
        headers, body = receiver.got[0]
        assert hand_verify(headers, body, SECRET) and headers["mesh-event-id"] == event["id"]
        assert abs(int(headers["mesh-webhook-timestamp"]) - time.time()) < 60
        paid_chat(gw)  # still below: debounced, nothing more
        wait_until(lambda: gw.webhooks.worker.pending() == 0, what="queue empty")
        assert len(gw.webhooks.deliveries()) == 1


def test_spend_cap_approaching_then_hit_then_402(receiver: Receiver) -> None:
    with serve(
        [TOKEN],
        response_cache=False,
        webhooks=[(receiver.url, SECRET)],
        balance_low_usd=None,
        spend_cap_pcts=[50, 80],
    ) as gw:
        owner = gw.state.owner_for(TOKEN)
        assert owner is not None and paid_chat(gw) == 200
        cost = gw.state.balance.totals(owner)[1]
        cap = cost * Decimal("3.1")  # spent after each call: 32 %, 65 %, 97 %, 129 % of it, then refused
        gw.webhooks.configure(spend_cap_usd=str(cap))
        assert [paid_chat(gw) for _ in range(4)] == [200, 200, 200, 402]
        wait_until(lambda: len(receiver.got) == 3, what="three events")
        events = sorted(bodies(receiver), key=lambda e: e["data"]["pct"])
        pcts = [float(round(n * 100 / Decimal("3.1"), 2)) for n in (2, 3, 4)]
        assert [(e["type"], e["data"]["pct"]) for e in events] == [
            ("spend_cap.approaching", pcts[0]),
            ("spend_cap.approaching", pcts[1]),
            ("spend_cap.hit", pcts[2]),
        ]
        hit = events[2]["data"]
        assert set(hit) == {"scope", "scope_id", "key_id", "spent_usd", "cap_usd", "pct"}
        assert (hit["scope"], hit["scope_id"], hit["key_id"]) == ("key", owner, owner)
        assert (
            Decimal(events[2]["data"]["spent_usd"]) == 4 * cost
            and Decimal(events[2]["data"]["cap_usd"]) == cap
        )


def test_rate_limit_threshold_at_each_rung(receiver: Receiver) -> None:
    with serve(
        [TOKEN], response_cache=False, rpm=5, webhooks=[(receiver.url, SECRET)], balance_low_usd=None
    ) as gw:
        statuses = [chat(gw).status_code for _ in range(6)]
        assert statuses == [200] * 5 + [429]
        wait_until(lambda: len(receiver.got) == 2, what="two rungs")
        data = sorted((e["data"] for e in bodies(receiver)), key=lambda d: d["pct"])
        assert [(d["metric"], d["current"], d["limit"], d["pct"]) for d in data] == [
            ("rpm", 4, 5, 80.0),
            ("rpm", 5, 5, 100.0),
        ]
        assert {d["scope"] for d in data} == {"key"}


def test_no_endpoint_no_delivery_and_reset_restores_the_start_up_ones(receiver: Receiver) -> None:
    with serve([TOKEN], response_cache=False, balance_low_usd="1000") as gw:
        chat(gw)
        assert gw.webhooks.deliveries() == []
        endpoint = gw.webhooks.register(receiver.url, SECRET, events=["spend_cap.hit"])
        chat(gw)
        assert gw.webhooks.deliveries() == []  # balance.low is not one of its events
        gw.reset(requests=True)
        assert gw.webhooks.endpoints.get(endpoint.id) is None


# -- the fault plan: duplicates, late and stale deliveries -----------------------------------------


def test_fault_plan_duplicates_and_late_deliveries(receiver: Receiver) -> None:
    with serve(
        [TOKEN], response_cache=False, balance_low_usd="1000", webhooks=[(receiver.url, SECRET)]
    ) as gw:
        gw.faults.add(
            "webhook:balance.low", webhook_duplicates=2, webhook_delay=0.3, webhook_stale_seconds=400
        )
        gw.faults.add("*", status=None)  # an HTTP catch-all does not take webhook faults, nor they requests
        sent = time.monotonic()
        assert chat(gw).status_code == 200
        wait_until(lambda: len(receiver.got) == 3, what="three copies")
        assert time.monotonic() - sent >= 0.3
        ids = {h["mesh-event-id"] for h, _ in receiver.got}
        assert len(ids) == 1 and len({body for _, body in receiver.got}) == 1
        assert len({d.id for d in gw.webhooks.deliveries()}) == 3
        for headers, body in receiver.got:
            assert hand_verify(headers, body, SECRET)
            assert time.time() - int(headers["mesh-webhook-timestamp"]) >= 399
        assert [f.hits for f in gw.faults] == [1, 1]  # the webhook fault once, the catch-all by the chat call


# -- the admin API -----------------------------------------------------------------------------------


def test_admin_register_list_rotate_test_event_delete(receiver: Receiver) -> None:
    with serve([TOKEN], response_cache=False, admin_token="adm_test") as gw:
        admin = httpx.Client(base_url=gw.base_url, headers={"Authorization": "Bearer adm_test"}, timeout=10)
        with admin:
            assert httpx.get(gw.base_url + "/_admin/webhooks").status_code == 401
            bad = admin.post("/_admin/webhooks", json={"url": "ftp://x", "secret": "s"})
            assert bad.status_code == 400
            created = admin.post("/_admin/webhooks", json={"url": receiver.url, "secret": "old"})
            assert created.status_code == 201 and "secret" not in created.text
            endpoint_id = created.json()["id"]
            assert [w["url"] for w in admin.get("/_admin/webhooks").json()["webhooks"]] == [receiver.url]
            rotated = admin.post(f"/_admin/webhooks/{endpoint_id}/rotate", json={"secret": "new"})
            assert rotated.status_code == 200 and rotated.json()["grace_until"]
            sent = admin.post(
                "/_admin/webhooks/test", json={"type": "spend_cap.hit", "data": {"scope": "org"}}
            )
            wait_until(lambda: len(receiver.got) == 1, what="the test event")
            headers, body = receiver.got[0]
            assert json.loads(body)["test"] is True and json.loads(body)["id"] == sent.json()["id"]
            assert headers["mesh-webhook-signature"].count("v1=") == 2
            assert hand_verify(headers, body, "new") and hand_verify(headers, body, "old")
            (delivery,) = admin.get("/_admin/webhooks/deliveries").json()["deliveries"]
            assert (delivery["event_id"], delivery["attempts"][0]["status"]) == (sent.json()["id"], 200)
            assert admin.delete(f"/_admin/webhooks/{endpoint_id}").json() == {"deleted": True}
            assert admin.delete(f"/_admin/webhooks/{endpoint_id}").status_code == 404


def test_admin_alert_thresholds() -> None:
    with serve([TOKEN], response_cache=False, admin_token="adm_test") as gw:
        admin = httpx.Client(base_url=gw.base_url, headers={"Authorization": "Bearer adm_test"}, timeout=10)
        with admin:
            assert admin.get("/_admin/alerts").json() == {
                "balance_low_usd": "10.000000",
                "spend_cap_usd": None,
                "spend_cap_pcts": [80.0],
                "rate_limit_pcts": [80.0, 100.0],
            }
            changed = admin.put("/_admin/alerts", json={"spend_cap_usd": "0", "spend_cap_pcts": [90, 50]})
            assert changed.json()["spend_cap_usd"] == "0.000000" and changed.json()["spend_cap_pcts"] == [
                50.0,
                90.0,
            ]
            assert chat(gw).status_code == 402  # a cap of 0 is reached before the first paid call
            for body in ({"spend_cap_pcts": [0]}, {"balance_low_usd": 1.5}, {"nope": 1}):
                assert admin.put("/_admin/alerts", json=body).status_code == 400
            admin.post("/_admin/reset", json={})
            assert admin.get("/_admin/alerts").json()["spend_cap_usd"] is None


# -- the command line --------------------------------------------------------------------------------


def test_webhook_options_pair_urls_with_secrets(capsys: pytest.CaptureFixture[str]) -> None:
    args = _parser().parse_args(
        ["--webhook", "http://127.0.0.1:1/a", "--webhook", "https://hooks.example/b", "--webhook-secret", "s"]
    )
    assert paired_webhooks(args.webhook_urls, args.webhook_secrets) == (
        ("http://127.0.0.1:1/a", "s"),
        ("https://hooks.example/b", "s"),
    )
    assert paired_webhooks(["http://a.test/1", "http://a.test/2"], ["s1", "s2"]) == (
        ("http://a.test/1", "s1"),
        ("http://a.test/2", "s2"),
    )
    args = _parser().parse_args(["--webhook-speed", "1000", "--spend-cap", "5", "--balance-low", "1"])
    assert (args.webhook_speed, args.spend_cap_usd, args.balance_low_usd) == (1000.0, "5", "1")
    assert main(["--webhook", "http://a.test/1", "--webhook", "http://a.test/2", "--webhook-secret", "a",
                 "--webhook-secret", "b", "--webhook-secret", "c"]) == 2  # fmt: skip
    assert (
        "one --webhook-secret for every --webhook, or one per --webhook (2 URLs, 3 secrets)"
        in capsys.readouterr().err
    )
    assert main(["--webhook", "http://a.test/1"]) == 2
    assert "--webhook needs --webhook-secret SECRET" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        _parser().parse_args(["--webhook", "file:///etc/passwd"])
    with pytest.raises(SystemExit):
        _parser().parse_args(["--webhook-speed", "0"])


def test_rotation_grace_then_only_the_new_secret_and_reset_restores_the_start_up_secret() -> None:
    endpoint = new_endpoint("http://127.0.0.1:9/hook", "first")
    endpoints = Endpoints([endpoint])
    endpoints.rotate(endpoint.id, "second", grace=60, now=1000.0)
    assert endpoint.signing_secrets(1059.0) == ["second", "first"]
    assert endpoint.signing_secrets(1060.0) == ["second"]
    endpoints.rotate(endpoint.id, "third", grace=60, now=2000.0)
    assert endpoint.signing_secrets(2000.0) == ["third", "second"]
    assert "third" not in repr(endpoint) and "secret" not in json.dumps(endpoint.view())
    endpoints.reset()
    assert endpoint.signing_secrets(2000.0) == ["first"]


def test_fault_knobs_are_checked() -> None:
    with serve([TOKEN], response_cache=False) as gw:
        for bad in ({"webhook_duplicates": 1.5}, {"webhook_delay": -1}, {"webhook_stale_seconds": True}):
            with pytest.raises(ValueError):
                gw.faults.add("webhook:*", **bad)
