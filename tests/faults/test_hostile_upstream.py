"""The proxy (``--upstream``) against upstreams that misbehave: huge bodies, silence, echoed keys.

The upstream is a :class:`~tests.faults.peers.RawPeer` on 127.0.0.1 whose behaviour counts the bytes it
managed to send and notes when and how its connection ended; the gateway runs in process (``serve``),
except for the memory row, where it runs in a child process so its peak RSS is its own.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import httpx
import pytest

from meshapi_gateway import Gateway, ProxySettings, main, serve
from meshapi_gateway.record.proxy_stream import SCRUBBED, SecretScrubber
from tests._poll import wait_until
from tests.faults.child_gateway import ChildGateway
from tests.faults.peers import RawPeer, RawRequest, respond

pytest.importorskip("uvicorn")

UPSTREAM_TOKEN = "rsk_upstream_KEY_9Hq2_never_shown"
LOCAL_TOKEN = "rsk_local_caller_4Tz"
LOCAL = {"Authorization": f"Bearer {LOCAL_TOKEN}"}
MiB = 1024 * 1024


class Streamer:
    """Answers with ``total`` bytes as fast as the reader takes them; counts what it sent and how it ended."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.sent = 0
        self.ended: Optional[str] = None
        self.ended_at = 0.0

    def __call__(self, conn: socket.socket, request: RawRequest) -> None:
        conn.settimeout(10.0)
        head = (
            "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nX-Request-Id: req_big\r\n"
            f"Content-Length: {self.total}\r\n\r\n"
        )
        conn.sendall(head.encode("latin-1"))
        block = b"x" * 65536
        try:
            while self.sent < self.total:
                self.sent += conn.send(block[: self.total - self.sent])
            self.ended = "sent everything"
        except socket.timeout:
            self.ended = "nobody read for 10 s"
        except OSError:
            self.ended = "closed"
        self.ended_at = time.monotonic()


class Silent:
    """Reads the request, answers nothing, and notes when the gateway closes the connection."""

    def __init__(self) -> None:
        self.ended: Optional[str] = None
        self.ended_at = 0.0

    def __call__(self, conn: socket.socket, request: RawRequest) -> None:
        conn.settimeout(8.0)
        try:
            self.ended = "closed" if conn.recv(1) == b"" else "sent more"
        except socket.timeout:
            self.ended = "still open after 8 s"
        except OSError:
            self.ended = "closed"
        self.ended_at = time.monotonic()


def proxy(peer: RawPeer, **options: Any) -> Gateway:
    return serve(
        [LOCAL_TOKEN], proxy=ProxySettings(upstream=peer.base_url, upstream_token=UPSTREAM_TOKEN, **options)
    )


@pytest.fixture
def cassette(tmp_path: Path) -> Path:
    return tmp_path / "c.jsonl"


# -- item: the upstream request ends with the caller -----------------------------------------------------


@pytest.mark.parametrize("recording", [False, True], ids=["relaying", "recording"])
def test_a_caller_that_leaves_after_one_chunk_cancels_the_upstream_request(
    recording: bool, cassette: Path
) -> None:
    upstream = Streamer(192 * MiB)
    options: Dict[str, Any] = {"record": str(cassette)} if recording else {}
    with RawPeer(upstream) as peer, proxy(peer, **options) as gw:
        with httpx.Client(base_url=gw.base_url, headers=LOCAL, timeout=10) as caller:
            with caller.stream("GET", "/v1/big") as reply:
                assert reply.status_code == 200 and reply.headers["x-request-id"] == "req_big"
                assert next(reply.iter_raw())
            left = time.monotonic()  # the response closed unread: httpx drops the connection
        wait_until(lambda: upstream.ended, timeout=8, what="the upstream's connection to end")
    assert upstream.ended == "closed"
    assert upstream.ended_at - left < 3.0
    # what the gateway pulled is what sits in socket buffers, not the 192 MiB the caller never read
    assert upstream.sent < 32 * MiB, upstream.sent
    if recording:
        (line,) = cassette.read_text().splitlines()
        response = json.loads(line)["response"]
        assert response["status"] == 200 and response["complete"] is False


def test_a_silent_upstream_is_let_go_when_the_caller_gives_up() -> None:
    upstream = Silent()
    with RawPeer(upstream) as peer, proxy(peer) as gw:
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(gw.base_url + "/v1/chat/completions", json={}, headers=LOCAL, timeout=0.5)
        gave_up = time.monotonic()
        wait_until(lambda: upstream.ended, timeout=10, what="the upstream's connection to end")
    assert upstream.ended == "closed"
    assert upstream.ended_at - gave_up < 2.0


def test_the_upstream_timeout_is_a_504_envelope_within_the_timeout() -> None:
    upstream = Silent()
    with RawPeer(upstream) as peer, proxy(peer, timeout=0.4) as gw:
        started = time.monotonic()
        reply = httpx.post(gw.base_url + "/v1/chat/completions", json={}, headers=LOCAL, timeout=10)
        took = time.monotonic() - started
        wait_until(lambda: upstream.ended, timeout=5, what="the upstream's connection to end")
    assert reply.status_code == 504
    assert reply.json() == {
        "error": {
            "code": "gateway_timeout",
            "message": "The upstream gateway did not answer within 0.4 s (upstream timeout).",
        },
        "request_id": reply.headers["x-request-id"],
    }
    assert 0.4 <= took < 3.0
    assert upstream.ended == "closed"


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf"), True, "5"])
def test_the_upstream_timeout_is_checked(bad: Any) -> None:
    with pytest.raises(ValueError, match="upstream timeout"):
        ProxySettings(upstream="http://127.0.0.1:9", timeout=bad)


@pytest.mark.parametrize("bad", [0, -5, 1.5, True])
def test_the_recording_cap_is_checked(bad: Any) -> None:
    with pytest.raises(ValueError, match="record_max_bytes"):
        ProxySettings(upstream="http://127.0.0.1:9", record="x.jsonl", record_max_bytes=bad)


def test_cli_upstream_timeout_and_record_cap(
    monkeypatch: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import uvicorn

    from meshapi_gateway.http import cli

    seen: List[Optional[ProxySettings]] = []
    real = cli.create_app

    def create_app(settings: Any) -> Any:
        seen.append(settings.proxy)
        return real(settings=settings)

    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: None)
    monkeypatch.setattr(cli, "create_app", create_app)
    monkeypatch.setenv("MESHAPI_UPSTREAM_TOKEN", UPSTREAM_TOKEN)
    upstream = ["--port", "0", "--upstream", "http://127.0.0.1:9"]
    target = str(tmp_path / "r.jsonl")
    assert (
        main([*upstream, "--upstream-timeout", "2.5", "--record", target, "--record-max-bytes", "4096"]) == 0
    )
    assert main(upstream) == 0
    assert [(s.timeout, s.record_max_bytes) for s in seen if s is not None] == [
        (2.5, 4096),
        (600.0, 64 * MiB),
    ]
    capsys.readouterr()
    refused = {
        "0": "must be more than 0 seconds, got 0",
        "-1": "must be 0 or more seconds, got -1",
        "nan": "must be 0 or more seconds, got nan",
        "inf": "must be 0 or more seconds, got inf",
    }
    for value, why in refused.items():
        with pytest.raises(SystemExit) as exit_info:
            main([*upstream, "--upstream-timeout", value])
        assert exit_info.value.code == 2 and why in capsys.readouterr().err
    assert main(["--port", "0", "--upstream-timeout", "5"]) == 2
    assert capsys.readouterr().err == "meshapi gateway: --upstream-timeout needs --upstream URL\n"
    assert main([*upstream, "--record-max-bytes", "5"]) == 2
    assert capsys.readouterr().err == "meshapi gateway: --record-max-bytes needs --record FILE\n"


# -- item: memory is bounded: nothing kept unless recording, and recording capped -------------------------


@pytest.mark.parametrize(
    ("method", "headers", "bound"),
    [
        ("GET", {}, 40 * MiB),
        # the SDK's POSTs carry a key: the idempotency cache may hold a reply up to its 64 MiB budget
        ("POST", {"Idempotency-Key": "one-long-reply"}, (64 + 40) * MiB),
    ],
    ids=["plain", "idempotency-key"],
)
def test_a_long_body_relayed_in_full_leaves_the_gateways_memory_flat(
    method: str, headers: Dict[str, str], bound: int
) -> None:
    upstream = Streamer(160 * MiB)
    with RawPeer(upstream) as peer:
        child = ChildGateway(
            tokens=[LOCAL_TOKEN], proxy={"upstream": peer.base_url, "upstream_token": UPSTREAM_TOKEN}
        )
        try:
            with httpx.Client(base_url=child.base_url, headers=LOCAL, timeout=30) as caller:
                peer.behaviour = Streamer(1 * MiB)
                assert len(caller.get("/v1/warm").content) == 1 * MiB  # imports and buffers settle first
                baseline = child.peak_rss()
                peer.behaviour = upstream
                received = 0
                with caller.stream(method, "/v1/big", headers=headers) as reply:
                    for data in reply.iter_raw():
                        received += len(data)  # read and discarded
            growth = child.peak_rss() - baseline
        finally:
            child.stop()
    assert received == upstream.sent == 160 * MiB
    assert growth < bound, f"peak RSS grew by {growth / MiB:.0f} MiB relaying 160 MiB"


def test_an_exchange_past_the_recording_cap_is_relayed_but_not_recorded(
    cassette: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sizes = iter([5000, 6000, 800])

    def behaviour(conn: socket.socket, request: RawRequest) -> None:
        body = b"y" * next(sizes)
        respond(200, {"Content-Type": "text/plain", "X-Request-Id": f"req_{len(body)}"}, body)(conn, request)

    caplog.set_level(logging.WARNING, logger="meshapi_gateway.record")
    with RawPeer(behaviour) as peer, proxy(peer, record=str(cassette), record_max_bytes=1000) as gw:
        lengths = [
            len(httpx.get(f"{gw.base_url}/v1/n{i}", headers=LOCAL, timeout=10).content) for i in range(3)
        ]
    assert lengths == [5000, 6000, 800]
    recorded = [json.loads(line) for line in cassette.read_text().splitlines()]
    assert [(e["request"]["path"], e["response"]["request_id"]) for e in recorded] == [("/v1/n2", "req_800")]
    warnings = [r.getMessage() for r in caplog.records if r.name == "meshapi_gateway.record"]
    assert warnings == [
        "GET /v1/n0 was relayed but not recorded: its response is longer than record_max_bytes (1000 bytes, "
        "--record-max-bytes); later exchanges past the cap are skipped without this warning"
    ]


# -- item: secrets both ways ------------------------------------------------------------------------------


def echo(split_at: int) -> Any:
    """A 401 that echoes the Authorization it got in WWW-Authenticate and in the body, the body sent in
    two pieces cut ``split_at`` bytes into the token."""

    def behaviour(conn: socket.socket, request: RawRequest) -> None:
        auth = request.headers.get("authorization", "")
        body = json.dumps({"error": {"code": "invalid_api_key", "message": f"Rejected {auth}."}}).encode()
        head = (
            "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nX-Request-Id: req_echo\r\n"
            f'WWW-Authenticate: Bearer realm="upstream", error_description="bad {auth}"\r\n'
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        cut = body.index(UPSTREAM_TOKEN.encode()) + split_at
        conn.sendall(head.encode("latin-1") + body[:cut])
        time.sleep(0.15)  # the two pieces arrive as two chunks
        conn.sendall(body[cut:])
        conn.close()

    return behaviour


@pytest.mark.parametrize("split_at", [1, len(UPSTREAM_TOKEN) // 2, len(UPSTREAM_TOKEN) - 1])
def test_an_upstream_echoing_its_key_shows_it_to_nobody(split_at: int, cassette: Path) -> None:
    with RawPeer(echo(split_at)) as peer, proxy(peer, record=str(cassette)) as gw:
        reply = httpx.post(
            gw.base_url + "/v1/chat/completions", json={"model": "m"}, headers=LOCAL, timeout=10
        )
        admin = {"Authorization": f"Bearer {gw.admin_token}"}
        with httpx.Client(base_url=gw.base_url, headers=admin, timeout=10) as c:
            listed = c.get("/_admin/requests").text
            rows = c.get("/_admin/requests/summary").json()["requests"]
            detail = c.get(f"/_admin/requests/{rows[0]['id']}").text
        log = json.dumps([r.as_dict() for r in gw.requests])
        assert peer.requests[0].headers["authorization"] == f"Bearer {UPSTREAM_TOKEN}"
    expected = json.dumps({"error": {"code": "invalid_api_key", "message": f"Rejected Bearer {SCRUBBED}."}})
    assert reply.status_code == 401
    assert (
        reply.headers["www-authenticate"]
        == f'Bearer realm="upstream", error_description="bad Bearer {SCRUBBED}"'
    )
    assert reply.content == expected.encode()
    recorded = cassette.read_text()
    chunks = json.loads(recorded)["response"]["chunks"]
    assert "".join(c["text"] for c in chunks) == expected
    for where, text in {
        "reply headers": str(reply.headers),
        "reply body": reply.text,
        "request log": log,
        "admin list": listed,
        "admin detail": detail,
        "cassette": recorded,
    }.items():
        assert UPSTREAM_TOKEN not in text, where
        assert UPSTREAM_TOKEN[:12] not in text and UPSTREAM_TOKEN[12:] not in text, where
    assert SCRUBBED in detail


def test_the_callers_secret_headers_never_go_upstream() -> None:
    secrets = {
        "X-Api-Key": "sk_caller_x_api_key_1",
        "Api-Key": "sk_caller_api_key_2",
        "Proxy-Authorization": "Basic c2tfY2FsbGVyX3Byb3h5XzM=",
        "Cookie": "session=sk_caller_cookie_4",
        "X-Goog-Api-Key": "sk_caller_goog_5",
        "X-Auth-Token": "sk_caller_auth_token_6",
    }
    answer = respond(200, {"Content-Type": "application/json", "X-Request-Id": "req_h"}, b"{}")
    with RawPeer(answer) as peer, proxy(peer) as gw:
        headers = {**LOCAL, **secrets, "X-Trace": "kept-as-sent"}
        reply = httpx.post(gw.base_url + "/v1/chat/completions", json={}, headers=headers, timeout=10)
    assert reply.status_code == 200
    (seen,) = peer.requests
    assert seen.headers["authorization"] == f"Bearer {UPSTREAM_TOKEN}"
    assert seen.headers["x-trace"] == "kept-as-sent"
    assert not {name.lower() for name in secrets} & set(seen.headers)
    head = seen.raw_head.decode("latin-1")
    for value in [LOCAL_TOKEN, *secrets.values()]:
        assert value not in head


# -- the scrubber on its own: every cut of a stream --------------------------------------------------------

_STREAM = (
    f'data: {{"echo": "Bearer {UPSTREAM_TOKEN}"}}\n\n'
    f"data: rsk_ rsk_upstream {UPSTREAM_TOKEN}{UPSTREAM_TOKEN}\n\n"
    "data: rsk_upstream_KEY_9Hq2_never_show\n\n"  # all but the last character: not the token
).encode()


@pytest.mark.parametrize(
    "secrets",
    [[UPSTREAM_TOKEN], [UPSTREAM_TOKEN, "rsk_up", "KEY_9Hq2_never_shown", "m_"]],
    ids=["one", "nested"],
)
def test_the_scrubber_is_right_at_every_cut(secrets: List[str]) -> None:
    # what replacing in the whole stream at once gives: leftmost first, the longest of those starting there
    every = re.compile("|".join(re.escape(s) for s in sorted(secrets, key=len, reverse=True)).encode())
    expected = every.sub(SCRUBBED.encode(), _STREAM)
    assert UPSTREAM_TOKEN.encode() not in expected and expected.count(SCRUBBED.encode()) >= 3
    for first in range(len(_STREAM) + 1):
        for second in (first, min(first + 7, len(_STREAM)), min(first + len(UPSTREAM_TOKEN), len(_STREAM))):
            scrub = SecretScrubber(secrets)
            pieces = [_STREAM[:first], _STREAM[first:second], _STREAM[second:]]
            out = [scrub.feed(piece) for piece in pieces] + [scrub.flush()]
            assert b"".join(out) == expected, (first, second)


def test_the_scrubber_holds_back_only_what_may_start_the_key() -> None:
    scrub = SecretScrubber([UPSTREAM_TOKEN, "rsk_up"])
    assert scrub.feed(b'data: {"a": 1}\n\n') == b'data: {"a": 1}\n\n'  # an event goes out when it arrives
    assert scrub.feed(b"data: rsk_upstr") == b"data: "
    assert scrub.feed(b"eam\n\n") == b"[redacted]stream\n\n"  # the shorter secret, found across the cut
    assert scrub.feed(b"x rsk") == b"x "
    assert scrub.flush() == b"rsk"
    assert scrub.headers({"www-authenticate": f"Bearer {UPSTREAM_TOKEN}"}) == {
        "www-authenticate": "Bearer [redacted]"
    }
    assert not SecretScrubber([""]) and SecretScrubber([""]).feed(b"rsk_up") == b"rsk_up"
