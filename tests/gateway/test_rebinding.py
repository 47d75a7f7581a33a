"""DNS rebinding: the gateway serves only its own host names, and a gateway given no token mints one.

A web page that points a name of its own at 127.0.0.1 reaches the local gateway with that name in
``Host``: every route (API, inspector, admin, the realtime handshake) answers it with a 421. A gateway
started without ``--token`` and ``$MESHAPI_TOKEN`` no longer accepts the once-documented
``rsk_local_dev_token``: it mints a random token and prints it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import httpx
import pytest

from meshapi_gateway import DEFAULT_TOKEN, Gateway, create_app, main, serve
from meshapi_gateway.http.hosts import host_name, refusal, served_names
from tests._poll import wait_until

from .conftest import chat_body

TOKEN = "rsk_rebinding"
ADMIN = "adm_rebinding"
EVIL = "evil.example"
REALTIME = "/v1/realtime?model=openai%2Fgpt-realtime"
_UPGRADE = "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
_KEY = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"


@pytest.fixture(scope="module")
def gw() -> Iterator[Gateway]:
    with serve([TOKEN], admin_token=ADMIN, allowed_hosts=["meshapi-gateway"]) as gateway:
        yield gateway


def _get(gw: Gateway, path: str, host: str, token: str = TOKEN) -> httpx.Response:
    with httpx.Client(base_url=gw.base_url, timeout=10) as c:
        return c.get(path, headers={"Host": host, "Authorization": f"Bearer {token}"})


def _assert_misdirected(response: httpx.Response, host: str) -> None:
    assert response.status_code == 421
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body == {
        "error": {
            "code": "misdirected_request",
            "message": "This local gateway serves requests for localhost and its configured host names "
            f"only, not for Host {host!r} (a name in front of it is allowed with --allowed-host).",
        },
        "request_id": response.headers["x-request-id"],
    }


def _raw(port: int, head: str) -> Tuple[int, Dict[str, str], bytes]:
    """One request written by hand (no client adds a ``Host``): status, headers, body up to EOF."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.encode("latin-1"))
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            assert chunk, data
            data += chunk
        top, _, body = data.partition(b"\r\n\r\n")
        lines = top.decode("latin-1").split("\r\n")
        pairs = [line.split(": ", 1) for line in lines[1:]]
        headers = {name.lower(): value for name, value in pairs}
        size = int(headers.get("content-length", "0"))
        while len(body) < size:
            chunk = sock.recv(65536)
            assert chunk, body
            body += chunk
    return int(lines[0].split()[1]), headers, body


# -- the Host check, route by route -------------------------------------------------------------------


def test_a_foreign_host_gets_421_on_the_api_even_with_the_right_token(gw: Gateway) -> None:
    before = len(gw.requests)
    with httpx.Client(base_url=gw.base_url, timeout=10) as c:
        response = c.post(
            "/v1/chat/completions",
            json=chat_body(),
            headers={"Host": EVIL, "Authorization": f"Bearer {TOKEN}"},
        )
    _assert_misdirected(response, EVIL)
    assert [(r.path, r.status, r.json) for r in list(gw.requests)[before:]] == [
        ("/v1/chat/completions", 421, None)
    ]


def test_a_foreign_host_gets_421_on_the_inspector_and_the_admin_routes(gw: Gateway) -> None:
    _assert_misdirected(_get(gw, "/_inspector/", EVIL), EVIL)
    _assert_misdirected(_get(gw, "/_inspector/inspector.js", f"{EVIL}:8000"), f"{EVIL}:8000")
    _assert_misdirected(_get(gw, "/_admin/requests", EVIL, ADMIN), EVIL)
    with httpx.Client(base_url=gw.base_url, timeout=10) as c:
        reset = c.post("/_admin/reset", headers={"Host": EVIL, "Authorization": f"Bearer {ADMIN}"})
    _assert_misdirected(reset, EVIL)
    # the same requests with a loopback Host are served
    assert _get(gw, "/_inspector/", "localhost").status_code == 200
    assert _get(gw, "/_admin/requests", "localhost", ADMIN).status_code == 200


def test_a_foreign_host_gets_421_on_the_realtime_handshake(gw: Gateway) -> None:
    auth = f"Authorization: Bearer {TOKEN}\r\n"
    status, headers, body = _raw(
        gw.port, f"GET {REALTIME} HTTP/1.1\r\nHost: {EVIL}\r\n{auth}{_UPGRADE}{_KEY}\r\n"
    )
    assert status == 421 and headers["content-type"] == "application/json"
    assert json.loads(body)["error"]["code"] == "misdirected_request"
    assert json.loads(body)["request_id"] == headers["x-request-id"]
    assert gw.requests[-1].path == "/v1/realtime" and gw.requests[-1].status == 421
    status, headers, _ = _raw(
        gw.port, f"GET {REALTIME} HTTP/1.1\r\nHost: localhost\r\n{auth}{_UPGRADE}{_KEY}\r\n"
    )
    assert status == 101 and headers["upgrade"] == "websocket"


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "LOCALHOST:8000",
        "localhost.",
        "app.localhost",
        "app.localhost:3000",
        "127.0.0.1",
        "127.0.0.1:8000",
        "127.1.2.3",
        "[::1]",
        "[::1]:8000",
        "[::ffff:127.0.0.1]",
        "meshapi-gateway",  # allowed_hosts
        "MESHAPI-GATEWAY:8000",
    ],
)
def test_loopback_and_configured_names_are_served(gw: Gateway, host: str) -> None:
    assert _get(gw, "/v1/models", host).status_code == 200


@pytest.mark.parametrize(
    "host",
    [
        EVIL,
        "evil.example:8000",
        "127.0.0.1.nip.io",
        "localhost.evil.example",
        "localhostevil.example",
        "0x7f.0.0.1",
        "2130706433",
        "10.0.0.1",
        "[::2]",
        "::1",
        "[::1",
        "localhost:",
        "localhost:port",
        "local host",
        "",
        "other-gateway",
    ],
)
def test_every_other_host_is_refused(gw: Gateway, host: str) -> None:
    _assert_misdirected(_get(gw, "/v1/models", host), host)


def test_a_missing_host_is_refused_on_http_1_1_only(gw: Gateway) -> None:
    auth = f"Authorization: Bearer {TOKEN}\r\n"
    # the server refuses HTTP/1.1 without Host before the app sees it; HTTP/1.0 may leave it out
    assert _raw(gw.port, f"GET /v1/models HTTP/1.1\r\n{auth}Connection: close\r\n\r\n")[0] == 400
    status, _, body = _raw(gw.port, f"GET /v1/models HTTP/1.0\r\n{auth}\r\n")
    assert status == 200 and json.loads(body)[0]["id"] == "openai/gpt-4o-mini"
    # the app's own check, for a server that lets such a request through
    app = create_app([TOKEN])
    try:
        for version, headers, expected in [
            ("1.1", [], "The request has no Host header."),
            ("2", [], "The request has no Host header."),
            (
                "1.1",
                [(b"host", b"localhost"), (b"host", b"localhost")],
                "The request has more than one Host header.",
            ),
        ]:
            status, body = asyncio.run(_call(app, version, headers))
            assert status == 421
            assert json.loads(body)["error"] == {"code": "misdirected_request", "message": expected}
    finally:
        app.state.gateway.close()


async def _call(app: Any, version: str, headers: List[Tuple[bytes, bytes]]) -> Tuple[int, bytes]:
    scope = {
        "type": "http",
        "http_version": version,
        "method": "GET",
        "path": "/v1/models",
        "headers": headers,
    }
    sent: List[Dict[str, Any]] = []

    async def receive() -> Dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def test_a_handshake_is_refused_by_a_server_without_the_denial_extension_too() -> None:
    """Such a server cannot send a 421 for a WebSocket: the upgrade is closed before it is accepted."""
    app = create_app([TOKEN])
    scope = {"type": "websocket", "path": "/v1/realtime", "headers": [(b"host", EVIL.encode())]}
    sent: List[Dict[str, Any]] = []

    async def receive() -> Dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: Dict[str, Any]) -> None:
        sent.append(message)

    try:
        asyncio.run(app(scope, receive, send))
        assert sent == [{"type": "websocket.close", "code": 1008}]
        assert app.state.gateway.requests[-1].status == 421
    finally:
        app.state.gateway.close()


def test_the_configured_host_and_allowed_hosts_are_served() -> None:
    app = create_app([TOKEN], host="gateway.lan", allowed_hosts=["box"])

    async def status(url: str) -> int:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, headers={"Authorization": f"Bearer {TOKEN}"}) as c:
            return (await c.get(url)).status_code

    try:
        for url, expected in [
            ("http://gateway.lan/v1/models", 200),
            ("http://GATEWAY.lan:8000/v1/models", 200),
            ("http://box/v1/models", 200),
            ("http://localhost/v1/models", 200),
            ("http://other.lan/v1/models", 421),
        ]:
            assert (url, asyncio.run(status(url))) == (url, expected)
    finally:
        app.state.gateway.close()
    assert served_names("0.0.0.0", ["Gateway:80", "[FD00::1]"]) == {"0.0.0.0", "gateway", "fd00::1"}
    assert served_names("::", ()) == {"::"} and served_names("", ()) == frozenset()
    assert host_name("Example.COM.:443") == "example.com" and host_name("[::1]x") is None
    assert refusal([], "1.0", frozenset()) is None
    for bad in (["not a host"], "gateway"):
        with pytest.raises(ValueError, match="allowed_hosts"):
            create_app([TOKEN], allowed_hosts=bad)


def test_the_cli_allowed_host_option(capsys: pytest.CaptureFixture[str], monkeypatch: Any) -> None:
    import uvicorn

    seen: Dict[str, Any] = {}
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: seen.update(app=self.config.app))
    assert main(["--port", "0", "--token", TOKEN, "--allowed-host", "box:8000", "--allowed-host", "b2"]) == 0
    assert seen["app"].state.gateway.settings.allowed_hosts == ("box:8000", "b2")
    with pytest.raises(SystemExit) as info:
        main(["--allowed-host", "not a host"])
    assert info.value.code == 2
    assert "--allowed-host: not a host name or address: 'not a host'" in capsys.readouterr().err


# -- the token of a gateway started without one --------------------------------------------------------


def test_serve_without_tokens_mints_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MESHAPI_TOKEN", raising=False)
    with serve() as first, serve() as second, httpx.Client(timeout=10) as c:
        for gw in (first, second):
            assert gw.token.startswith("rsk_local_") and len(gw.token) == len("rsk_local_") + 32
            assert gw.tokens == [gw.token]
            ok = c.get(gw.base_url + "/v1/models", headers={"Authorization": f"Bearer {gw.token}"})
            old = c.get(gw.base_url + "/v1/models", headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"})
            assert (ok.status_code, old.status_code) == (200, 401)
        assert first.token != second.token
    with serve([DEFAULT_TOKEN]) as explicit:
        assert explicit.token == DEFAULT_TOKEN


def test_the_demo_uses_a_minted_token_not_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from meshapi.cli import _demo

    monkeypatch.setenv("MESHAPI_TOKEN", "rsk_pretend_this_is_a_real_key")
    args = argparse.Namespace(base_url=None, token=None, latency=0.0)
    with _demo._gateway(argparse.Namespace(args=args)) as gateway:
        assert gateway.tokens == [args.token] and args.base_url == gateway.base_url
        assert args.token.startswith("rsk_local_") and args.token != DEFAULT_TOKEN


def _start(tmp_path: Path, argv: List[str], token: Optional[str]) -> Tuple[subprocess.Popen[str], List[str]]:
    env = {k: v for k, v in os.environ.items() if k != "MESHAPI_TOKEN"}
    if token is not None:
        env["MESHAPI_TOKEN"] = token
    process = subprocess.Popen(
        [sys.executable, "-m", "meshapi_gateway", "--port", "0", "--log-level", "warning", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=str(tmp_path),
    )
    assert process.stdout is not None
    lines: List[str] = []
    for _ in range(30):  # the start-up banner is a handful of lines, the last one names Ctrl-C
        lines.append(process.stdout.readline())
        if "Ctrl-C" in lines[-1] or not lines[-1]:
            break
    return process, lines


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.kill()
    process.wait(timeout=15)
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()


def _models(client: httpx.Client, token: str) -> Optional[httpx.Response]:
    """``GET /v1/models``, or ``None`` while the server does not accept connections yet."""
    try:
        return client.get("/v1/models", headers={"Authorization": f"Bearer {token}"})
    except httpx.ConnectError:
        return None


def _banner_value(lines: List[str], prefix: str) -> str:
    return next(line.strip()[len(prefix) :] for line in lines if line.strip().startswith(prefix))


@pytest.mark.parametrize(
    ("argv", "env_token", "expected"),
    [
        ([], None, None),
        (["--token", DEFAULT_TOKEN], None, DEFAULT_TOKEN),
        ([], "rsk_from_the_environment", "rsk_from_the_environment"),
    ],
    ids=["minted", "explicit", "environment"],
)
def test_the_cli_token(
    tmp_path: Path, argv: List[str], env_token: Optional[str], expected: Optional[str]
) -> None:
    process, lines = _start(tmp_path, argv, env_token)
    try:
        base_url = _banner_value(lines, "export MESHAPI_BASE_URL=")
        token = _banner_value(lines, "export MESHAPI_TOKEN=")
        shown = _banner_value(lines, "Token: ")
        if expected is None:
            assert token.startswith("rsk_local_") and token != DEFAULT_TOKEN
            assert shown == f"{token} (random, for this run; choose one with --token)"
        else:
            assert token == shown == expected
        with httpx.Client(base_url=base_url, timeout=10) as c:
            served = wait_until(lambda: _models(c, token), what="the gateway answered")
            assert served.status_code == 200
            if expected is None:
                refused = c.get("/v1/models", headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"})
                assert refused.status_code == 401
                rebound = c.get("/v1/models", headers={"Authorization": f"Bearer {token}", "Host": EVIL})
                assert rebound.status_code == 421
    finally:
        _stop(process)
