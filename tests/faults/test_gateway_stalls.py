"""Requests that once stalled the whole gateway or held it open: each now ends on time while others are served.

Each row runs the hostile request in a thread and pings ``GET /v1/models`` from the test thread for as
long as it runs (``pings_while``): every ping must succeed, and the slowest one is the row's bound.
The large-body and slow-client rows use a gateway in a child process (``child_gateway.py``) with a
short body timeout and a small connection cap; the replay row serves a cassette in this process.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator, List, Tuple

import httpx
import pytest

from tests._poll import wait_until
from tests.faults.child_gateway import ChildGateway

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

TOKEN = "rsk_stall_rows_token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BODY_TIMEOUT = 1.0
MAX_CONNECTIONS = 64
CHAT = "/v1/chat/completions"
MODEL = "openai/gpt-4o-mini"


@pytest.fixture(scope="module")
def child() -> Iterator[ChildGateway]:
    gw = ChildGateway(tokens=[TOKEN], body_timeout=BODY_TIMEOUT, max_connections=MAX_CONNECTIONS)
    try:
        yield gw
    finally:
        gw.stop()


def pings_while(base_url: str, hostile: Callable[[], Any], *, limit: float = 90.0) -> Tuple[Any, List[float]]:
    """Run ``hostile()`` in a thread and ping the gateway until it returns: ``(its result, ping latencies)``."""
    outcome: List[Any] = []
    failure: List[BaseException] = []

    def run() -> None:
        try:
            outcome.append(hostile())
        except BaseException as exc:  # handed to the test thread
            failure.append(exc)

    worker = threading.Thread(target=run, name="hostile-request")
    latencies: List[float] = []
    deadline = time.monotonic() + limit
    with httpx.Client(base_url=base_url, headers=AUTH, timeout=limit) as normal:
        worker.start()
        while worker.is_alive() and time.monotonic() < deadline:
            started = time.monotonic()
            answer = normal.get("/v1/models")
            latencies.append(time.monotonic() - started)
            assert answer.status_code == 200, answer.text[:200]
            time.sleep(0.01)
    worker.join(timeout=limit)
    assert not worker.is_alive(), "the hostile request did not finish"
    if failure:
        raise failure[0]
    return (outcome[0] if outcome else None), latencies


def _cassette(path: Path, count: int, size: int) -> None:
    """``count`` recorded chat exchanges whose questions are ``size`` characters each, and the pings' one."""
    models = {"method": "GET", "path": "/v1/models", "query": "", "content_type": ""}
    listing = {
        "status": 200,
        "headers": {"content-type": "application/json"},
        "chunks": [{"ms": 0, "text": "{}"}],
    }
    lines = [json.dumps({"version": 1, "request": models, "response": listing})]
    for i in range(count):
        question = f"question {i}: " + "lorem ipsum dolor sit amet " * (size // 27)
        request = {
            "method": "POST",
            "path": CHAT,
            "query": "",
            "content_type": "application/json",
            "json": {"model": MODEL, "messages": [{"role": "user", "content": question}], "temperature": 0.5},
        }
        response = {
            "status": 200,
            "headers": {"content-type": "application/json"},
            "chunks": [{"ms": 1.0, "text": json.dumps({"answer": i})}],
        }
        lines.append(json.dumps({"version": 1, "request": request, "response": response}))
    path.write_text("\n".join(lines) + "\n")


def test_an_unmatched_replay_request_does_not_stall_other_calls(tmp_path: Path) -> None:
    from meshapi_gateway import ProxySettings, serve
    from meshapi_gateway.record.cassette import CLOSEST_BUDGET

    cassette = tmp_path / "large.jsonl"
    _cassette(cassette, 60, 200_000)
    with serve([TOKEN], proxy=ProxySettings(replay=str(cassette))) as gw:
        matched = httpx.post(
            gw.base_url + CHAT,
            json=json.loads(cassette.read_text().splitlines()[8])["request"]["json"],
            headers=AUTH,
            timeout=30,
        )
        assert matched.status_code == 200 and matched.json() == {"answer": 7}
        other = "something else entirely " * 8_000

        def unmatched() -> Tuple[httpx.Response, float]:
            # several in a row: one search can take as little as 30 ms, too short to ping through
            body = {"model": MODEL, "messages": [{"role": "user", "content": other}], "temperature": 0.5}
            longest = 0.0
            for _ in range(UNMATCHED_IN_A_ROW):
                started = time.monotonic()
                answer = httpx.post(gw.base_url + CHAT, json=body, headers=AUTH, timeout=60)
                longest = max(longest, time.monotonic() - started)
            return answer, longest

        (miss, took), latencies = pings_while(gw.base_url, unmatched)
    assert miss.status_code == 404 and miss.json()["error"]["code"] == "cassette_no_match"
    message = miss.json()["error"]["message"]
    assert "Closest recorded: exchange #" in message and "(differs in: messages)" in message
    assert took < CLOSEST_BUDGET + 3.0
    assert len(latencies) >= 3 and max(latencies) < 0.5, (took, len(latencies), max(latencies))


UNMATCHED_IN_A_ROW = 8


LARGE_BODIES = {
    "2.5 million numbers": {"metadata": {"v": [round(i * 0.001, 3) for i in range(2_500_000)]}},
    "480,000 small objects": {
        "metadata": {"v": [{"role": "user", "n": f"hi there {i}"} for i in range(480_000)]}
    },
}


@pytest.mark.parametrize("shape", list(LARGE_BODIES))
def test_a_large_json_body_is_parsed_while_other_calls_are_served(child: ChildGateway, shape: str) -> None:
    base = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}
    body = json.dumps({**base, **LARGE_BODIES[shape]}).encode()
    assert len(body) > 19 * 1024 * 1024

    def large() -> Tuple[int, float]:
        started = time.monotonic()
        headers = {**AUTH, "Content-Type": "application/json"}
        answer = httpx.post(child.base_url + CHAT, content=body, headers=headers, timeout=60)
        return answer.status_code, time.monotonic() - started

    (status, took), latencies = pings_while(child.base_url, large)
    assert status == 200
    assert len(latencies) >= 3 and max(latencies) < 0.5, (took, max(latencies))


def _raw(child: ChildGateway) -> socket.socket:
    port = int(child.base_url.rsplit(":", 1)[1])
    return socket.create_connection(("127.0.0.1", port), timeout=5)


def _dribble_head(length: int = 1000) -> bytes:
    return (
        f"POST {CHAT} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {TOKEN}\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


def test_a_dribbled_body_is_cut_off_after_the_body_timeout(child: ChildGateway) -> None:
    """A byte every 0.1 s never leaves a gap of ``body_timeout``: the whole body has that long."""
    with _raw(child) as sock:
        sock.sendall(_dribble_head())
        started = time.monotonic()
        got = b""
        sock.settimeout(0.1)
        while time.monotonic() - started < BODY_TIMEOUT + 4:
            try:
                sock.sendall(b" ")
                piece = sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:  # reset once the server closed
                break
            if not piece:
                break
            got += piece
        took = time.monotonic() - started
    assert got.startswith(b"HTTP/1.1 408"), got[:200]
    assert json.loads(got.partition(b"\r\n\r\n")[2])["error"]["code"] == "request_timeout"
    assert BODY_TIMEOUT - 0.1 <= took < BODY_TIMEOUT + 1.5


def test_a_flood_of_slow_connections_never_makes_a_call_fail_with_500(child: ChildGateway) -> None:
    """300 dribbling sockets against a cap of 64: calls meanwhile get 200, or a 503 envelope with Retry-After."""
    flood: List[socket.socket] = []
    statuses: List[int] = []
    try:
        for i in range(300):
            sock = _raw(child)
            flood.append(sock)
            sock.sendall(_dribble_head() if i % 2 else b"GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        for _ in range(20):
            for sock in flood:
                try:
                    sock.send(b"a")
                except OSError:
                    pass
            with httpx.Client(base_url=child.base_url, headers=AUTH, timeout=10) as fresh:
                answer = fresh.post(
                    CHAT, json={"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}
                )
            statuses.append(answer.status_code)
            if answer.status_code == 503:
                assert answer.headers["retry-after"] == "1" and answer.headers["connection"] == "close"
                error = answer.json()
                assert error["error"]["code"] == "server_busy"
                assert error["request_id"] == answer.headers["x-request-id"]
            else:
                assert answer.status_code == 200, answer.text[:200]
    finally:
        for sock in flood:
            sock.close()
    assert 503 in statuses  # the cap was reached while the flood lasted

    def served() -> bool:
        with httpx.Client(base_url=child.base_url, headers=AUTH, timeout=10) as fresh:
            return fresh.get("/v1/models").status_code == 200

    wait_until(served, what="served again once the flood is gone")
