"""Every fault kind of the fault plan, seen from a raw httpx client."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest

from meshapi_gateway import Fault, FaultPlan, Gateway

from .conftest import assert_envelope, chat_body, split_events, sse_json

CHAT = "/v1/chat/completions"


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, "invalid_request"),
        (401, "unauthorized"),
        (402, "spend_limit_exceeded"),
        (403, "forbidden"),
        (404, "not_found"),
        (409, "conflict"),
        (422, "validation_error"),
        (429, "rate_limit_exceeded"),
        (500, "upstream_error"),
        (502, "upstream_error"),
        (503, "upstream_error"),
        (504, "upstream_error"),
    ],
)
def test_status_faults_use_the_envelope(gw: Gateway, client: httpx.Client, status: int, code: str) -> None:
    gw.faults.add(CHAT, status=status)
    assert_envelope(client.post(CHAT, json=chat_body()), status, code)
    assert client.post(CHAT, json=chat_body()).status_code == 200  # used up


def test_times_retry_headers_and_request_log(gw: Gateway, client: httpx.Client) -> None:
    gw.requests.clear()
    fault = gw.faults.add(CHAT, method="POST", times=2, status=429, retry_after="2", retry_after_ms=1500)
    key = {"Idempotency-Key": "idem-123"}
    statuses = [client.post(CHAT, json=chat_body(), headers=key).status_code for _ in range(3)]
    assert statuses == [429, 429, 200]
    assert fault.hits == 2 and fault.exhausted
    first = gw.requests.filter(path=CHAT)[0]
    assert first.status == 429 and first.fault is fault
    assert [r.headers["idempotency-key"] for r in gw.requests.filter(path=CHAT, method="POST")] == [
        "idem-123"
    ] * 3
    assert first.json == chat_body()
    gw.faults.add(CHAT, status=503, retry_after="1", retry_after_ms=250)
    response = client.post(CHAT, json=chat_body())
    assert response.headers["retry-after"] == "1" and response.headers["retry-after-ms"] == "250"
    gw.faults.add(CHAT, status=429, retry_after="7")
    assert client.post(CHAT, json=chat_body()).json()["error"]["retry_after_seconds"] == 7


def test_route_matching_method_and_forever(gw: Gateway, client: httpx.Client) -> None:
    gw.faults.add("/v1/models*", method="GET", times=-1, status=500)
    assert client.get("/v1/models").status_code == 500
    assert client.get("/v1/models/free").status_code == 500
    assert client.get("/v1/models/free").status_code == 500
    assert client.post(CHAT, json=chat_body()).status_code == 200
    assert len(gw.faults) == 1
    gw.faults.clear()
    assert client.get("/v1/models").status_code == 200
    gw.faults.add("/v1/models", method="POST", status=500)
    assert client.get("/v1/models").status_code == 200
    with pytest.raises(ValueError):
        gw.faults.add("/x", times=0)


def test_custom_body_headers_and_content_type(gw: Gateway, client: httpx.Client) -> None:
    gw.faults.add(CHAT, status=502, body="<html>bad gateway</html>", content_type="text/html")
    html = client.post(CHAT, json=chat_body())
    assert html.status_code == 502 and html.headers["content-type"] == "text/html"
    assert html.text == "<html>bad gateway</html>"
    gw.faults.add(CHAT, status=400, body={"weird": True}, headers={"X-Extra": "1"})
    odd = client.post(CHAT, json=chat_body())
    assert odd.json() == {"weird": True} and odd.headers["x-extra"] == "1"
    gw.faults.add(CHAT, body=b"{not json", content_type="application/json")
    broken = client.post(CHAT, json=chat_body())
    assert broken.status_code == 200 and broken.content == b"{not json"
    gw.faults.add("/v1/models", content_type="text/plain", headers={"X-Seen": "yes"})
    real = client.get("/v1/models")
    assert real.headers["content-type"] == "text/plain" and real.headers["x-seen"] == "yes"
    assert isinstance(json.loads(real.content), list)


def test_delay_first_byte(gw: Gateway, client: httpx.Client) -> None:
    gw.faults.add(CHAT, delay_first_byte=0.3)
    with pytest.raises(httpx.ReadTimeout):
        client.post(CHAT, json=chat_body(), timeout=0.1)
    gw.faults.add(CHAT, delay_first_byte=0.15)
    started = time.monotonic()
    assert client.post(CHAT, json=chat_body()).status_code == 200
    assert time.monotonic() - started >= 0.15


def test_drop_after_events_cuts_the_stream(gw: Gateway, client: httpx.Client) -> None:
    gw.faults.add(CHAT, drop_after_events=2)
    received = []
    with (
        pytest.raises(httpx.RemoteProtocolError),
        client.stream("POST", CHAT, json=chat_body(stream=True)) as stream,
    ):
        assert stream.status_code == 200
        for line in stream.iter_lines():
            if line:
                received.append(line)
    assert len(received) == 2
    gw.faults.add(CHAT, drop_after_events=0)
    with pytest.raises(httpx.RemoteProtocolError):
        client.post(CHAT, json=chat_body())
    gw.faults.add("/v1/chat/compare", status=503, drop_after_events=0)
    with pytest.raises(httpx.RemoteProtocolError):
        client.post(
            "/v1/chat/compare", json={"models": ["openai/gpt-4o-mini"], "messages": chat_body()["messages"]}
        )
    assert client.post(CHAT, json=chat_body()).status_code == 200


def test_stall_after_events(gw: Gateway, client: httpx.Client) -> None:
    gw.faults.add(CHAT, stall_after_events=1, stall_seconds=0.3)
    stamps = []
    with client.stream("POST", CHAT, json=chat_body(stream=True)) as stream:
        for line in stream.iter_lines():
            if line:
                stamps.append(time.monotonic())
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    assert gaps[0] >= 0.25 and max(gaps[1:]) < 0.25
    assert stream.status_code == 200
    gw.faults.add(CHAT, stall_after_events=1, stall_seconds=0.5)
    with (
        pytest.raises(httpx.ReadTimeout),
        client.stream(
            "POST", CHAT, json=chat_body(stream=True), timeout=httpx.Timeout(10, read=0.2)
        ) as stream,
    ):
        for _ in stream.iter_lines():
            pass


def test_malformed_frame_then_continue(gw: Gateway, client: httpx.Client) -> None:
    gw.faults.add(CHAT, malformed_after_events=1)
    raw = client.post(CHAT, json=chat_body(stream=True)).content
    blocks = split_events(raw)
    assert blocks[1] == b"data: {not json"
    assert blocks[-1] == b"data: [DONE]"
    assert len(blocks) == len(split_events(client.post(CHAT, json=chat_body(stream=True)).content)) + 1


def test_error_event_after(gw: Gateway, client: httpx.Client) -> None:
    gw.faults.add(CHAT, error_event_after=2, error_code="gateway_timeout")
    response = client.post(CHAT, json=chat_body(stream=True))
    events = sse_json(response.content)
    assert len(events) == 4 and events[-1] == (None, "[DONE]")
    error = events[2][1]
    assert error["error"]["code"] == "gateway_timeout" and error["error"]["message"]
    assert error["request_id"] == response.headers["x-request-id"]
    gw.faults.add("/v1/chat/compare", error_event_after=1)
    compare = client.post(
        "/v1/chat/compare",
        json={"models": ["openai/gpt-4o-mini"], "messages": chat_body()["messages"], "stream": True},
    )
    assert sse_json(compare.content)[-1] == (None, "[DONE]")


def test_truncated_and_huge_bodies(gw: Gateway, client: httpx.Client) -> None:
    gw.faults.add("/v1/models", truncate_body=True)
    with pytest.raises(httpx.RemoteProtocolError):
        client.get("/v1/models")
    gw.faults.add(CHAT, huge_body_bytes=2_000_000)
    big = client.post(CHAT, json=chat_body())
    assert len(big.content) == 2_000_000
    assert big.json()["object"] == "chat.completion"
    gw.faults.add("/v1/models", huge_body_bytes=500_000)
    models = client.get("/v1/models")
    assert len(models.content) == 500_000 and isinstance(models.json(), list)
    gw.faults.add(CHAT, status=503, truncate_body=True)
    with pytest.raises(httpx.RemoteProtocolError):
        client.post(CHAT, json=chat_body())


def test_upload_route_can_be_faulted(gw: Gateway, client: httpx.Client) -> None:
    init = client.post("/v1/files", json={"file_name": "a.txt", "mime_type": "text/plain"}).json()
    gw.faults.add("/_upload/*", status=503)
    with httpx.Client(timeout=10) as storage:
        assert (
            storage.put(init["signed_url"], content=b"hi", headers={"Content-Type": "text/plain"}).status_code
            == 503
        )
        assert (
            storage.put(init["signed_url"], content=b"hi", headers={"Content-Type": "text/plain"}).status_code
            == 200
        )


def test_fault_plan_is_thread_safe() -> None:
    plan = FaultPlan()
    plan.add("/a", times=500)
    taken = []

    def worker() -> None:
        for _ in range(200):
            if plan.take("GET", "/a") is not None:
                taken.append(1)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(taken) == 500 and len(plan) == 0
    assert isinstance(plan.add("/b"), Fault)
    assert plan.take("GET", "/a") is None and plan.take("POST", "/b") is not None
