"""``meshapi gateway``: one-line errors for bad arguments, global options, and a quick quiet Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, List, Tuple

import httpx
import pytest

from .conftest import Result

pytest.importorskip("uvicorn")

Run = Any


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (
            ["--port", "99999"],
            "meshapi gateway: argument --port: a port is 0 to 65535 (0 picks a free one), got 99999 "
            "(see `meshapi gateway --help`)",
        ),
        (
            ["--log-level", "loud"],
            "meshapi gateway: argument --log-level: unknown log level 'loud' "
            "(one of critical, error, warning, info, debug, trace) (see `meshapi gateway --help`)",
        ),
        (
            ["--latency", "-1"],
            "meshapi gateway: argument --latency: must be 0 or more seconds, got -1 "
            "(see `meshapi gateway --help`)",
        ),
        (
            ["--rpm", "0"],
            "meshapi gateway: argument --rpm: must be at least 1, got 0 (see `meshapi gateway --help`)",
        ),
        (
            ["--balance", "-5"],
            "meshapi gateway: argument --balance: not an amount in USD of at least 0: '-5' "
            "(see `meshapi gateway --help`)",
        ),
        (["--json"], "meshapi gateway: unrecognized arguments: --json (see `meshapi gateway --help`)"),
        *[
            (
                ["--replay-speed", speed],
                "meshapi gateway: argument --replay-speed: the replay speed must be 0 (at once) or 0.01 to 100 "
                f"times the recorded pace, got {shown} (see `meshapi gateway --help`)",
            )
            for speed, shown in [("nan", "nan"), ("inf", "inf"), ("1e-300", "1e-300"), ("101", "101.0")]
        ],
        (
            ["--replay-speed", "fast"],
            "meshapi gateway: argument --replay-speed: not a number: 'fast' (see `meshapi gateway --help`)",
        ),
        (
            ["--body-timeout", "0"],
            "meshapi gateway: argument --body-timeout: must be more than 0 seconds, got 0 "
            "(see `meshapi gateway --help`)",
        ),
    ],
)
def test_bad_arguments_are_one_line(run: Run, argv: List[str], line: str) -> None:
    result: Result = run("gateway", *argv)
    assert result.code == 2
    assert result.err_lines == [line]
    assert result.out == ""


def test_body_timeout_and_replay_speed_reach_the_settings(tmp_path: Path, monkeypatch: Any) -> None:
    import uvicorn

    from meshapi_gateway import main

    seen: List[Any] = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: seen.append(self.config.app.state))
    cassette = tmp_path / "c.jsonl"
    cassette.write_text("")
    argv = ["--port", "0", "--body-timeout", "2.5", "--replay", str(cassette), "--replay-speed", "0.01"]
    assert main(argv) == 0
    settings = seen[0].gateway.settings
    assert settings.body_timeout == 2.5 and settings.proxy.replay_speed == 0.01


def test_an_unwritable_data_dir_is_one_line(run: Run, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    result = run("gateway", "--port", "0", "--data-dir", str(blocker / "sub"))
    assert result.code == 2
    assert len(result.err_lines) == 1
    assert result.err_lines[0].startswith(f"meshapi gateway: cannot create --data-dir {blocker / 'sub'}: ")
    assert result.out == ""


def test_global_options_before_gateway_are_honoured_or_refused(run: Run) -> None:
    refused = run("--json", "gateway", "--port", "0")
    assert refused.code == 2
    assert refused.err_lines == [
        "meshapi: --json does not apply to `meshapi gateway` (it prints its settings as text)"
    ]
    url = run("--base-url", "http://127.0.0.1:1", "gateway")
    assert url.code == 2
    assert url.err_lines == [
        "meshapi: --base-url does not apply to `meshapi gateway` (it serves; choose where with --host and --port)"
    ]
    # --token is honoured: it becomes the token the gateway accepts (checked end to end below).


def _spawn(argv: List[str], tmp_path: Path) -> subprocess.Popen[str]:
    """``meshapi ARGV`` in a child process, without this environment's MESHAPI_* settings or CA file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MESHAPI_") and k != "SSL_CERT_FILE"}
    return subprocess.Popen(
        [sys.executable, "-m", "meshapi", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=str(tmp_path),
    )


def _start(argv: List[str], tmp_path: Path) -> Tuple[subprocess.Popen[str], str]:
    process = _spawn(argv, tmp_path)
    assert process.stdout is not None
    first = process.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:\d+", first)
    assert match, first
    deadline = time.monotonic() + 15
    while True:  # the socket is bound before uvicorn listens on it
        try:
            httpx.get(match.group(0) + "/v1/models", timeout=5)
            break
        except httpx.ConnectError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    return process, match.group(0)


def test_ctrl_c_stops_at_once_and_quietly_with_open_streams(tmp_path: Path) -> None:
    process, base_url = _start(
        ["--token", "rsk_global_token", "gateway", "--port", "0", "--latency", "0.5"], tmp_path
    )
    started = threading.Event()
    outcome: List[str] = []

    def stream() -> None:
        try:
            with (
                httpx.Client(timeout=30) as client,
                client.stream(
                    "POST",
                    base_url + "/v1/chat/completions",
                    headers={"Authorization": "Bearer rsk_global_token"},
                    json={
                        "model": "openai/gpt-4o-mini",
                        "messages": [{"role": "user", "content": "hi " * 40}],
                        "stream": True,
                    },
                ) as response,
            ):
                outcome.append(str(response.status_code))
                for _ in response.iter_bytes():
                    started.set()
        except httpx.HTTPError as exc:
            outcome.append(type(exc).__name__)
        finally:
            started.set()

    try:
        streams = [threading.Thread(target=stream) for _ in range(2)]
        for thread in streams:
            thread.start()
        assert started.wait(15)
        time.sleep(0.2)
        began = time.monotonic()
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=15)
        took = time.monotonic() - began
        for thread in streams:
            thread.join(10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0
    assert took < 1.5, f"Ctrl-C took {took:.2f}s"
    assert "Traceback" not in err and "CancelledError" not in err and "ERROR" not in err, err
    assert len(err.splitlines()) <= 4, err
    assert outcome[0] == "200"  # the global --token was the accepted token


@pytest.mark.parametrize(
    ("argv", "limits", "banner"),
    [
        (
            [],
            (100, 10_000, True),
            "Rate limits: 100/min and 10000/day per token (--no-rate-limit turns them off)",
        ),
        (["--no-rate-limit"], (None, None, False), "Rate limits: none (--rate-limit RPM[/DAY] sets some)"),
        (
            ["--rate-limit", "5/50"],
            (5, 50, False),
            "Rate limits: 5/min and 50/day per token (--no-rate-limit turns them off)",
        ),
        (
            ["--rate-limit", "7"],
            (7, None, False),
            "Rate limits: 7/min per token (--no-rate-limit turns them off)",
        ),
        (["--rpd", "9"], (None, 9, False), "Rate limits: 9/day per token (--no-rate-limit turns them off)"),
    ],
)
def test_the_gateway_command_enforces_the_documented_rate_limits_by_default(
    monkeypatch: Any, capsys: Any, argv: List[str], limits: Tuple[Any, Any, bool], banner: str
) -> None:
    import uvicorn

    from meshapi_gateway import main

    seen: List[Any] = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: seen.append(self.config.app.state))
    assert main(["--port", "0", "--no-inspector", *argv]) == 0
    got = seen[0].gateway.limiter.limits
    assert (got.rpm, got.rpd, got.is_default) == limits
    assert banner in capsys.readouterr().out.splitlines()


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (
            ["--rate-limit", "0/5"],
            "meshapi gateway: argument --rate-limit: not RPM or RPM/DAY with whole numbers of at least 1 "
            "(e.g. 100/10000): '0/5' (see `meshapi gateway --help`)",
        ),
        (
            ["--rate-limit", "5", "--no-rate-limit"],
            "meshapi gateway: argument --no-rate-limit: not allowed with argument --rate-limit "
            "(see `meshapi gateway --help`)",
        ),
        (
            ["--rate-limit", "5", "--rpm", "3"],
            "meshapi gateway: choose --rate-limit / --no-rate-limit or --rpm / --rpd, not both",
        ),
    ],
)
def test_bad_rate_limit_options_are_one_line(run: Run, argv: List[str], line: str) -> None:
    result: Result = run("gateway", "--port", "0", *argv)
    assert result.code == 2
    assert result.err_lines == [line]


def test_the_banner_masks_a_password_in_a_webhook_url(monkeypatch: Any, capsys: Any) -> None:
    import uvicorn

    from meshapi_gateway import main

    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: None)
    argv = ["--webhook", "https://hook:s3cret@127.0.0.1:9/in", "--webhook", "http://127.0.0.1:9/plain"]
    assert main(["--port", "0", "--no-inspector", *argv, "--webhook-secret", "whsec_x"]) == 0
    out = capsys.readouterr().out
    assert "Webhooks: https://hook:***@127.0.0.1:9/in, http://127.0.0.1:9/plain" in out.splitlines()
    assert "s3cret" not in out


def _banner(process: subprocess.Popen[str]) -> List[str]:
    """The banner's lines, up to ``Press Ctrl-C to stop.`` (a timer kills a process that never says it)."""
    assert process.stdout is not None
    watchdog = threading.Timer(30, process.kill)
    watchdog.start()
    try:
        lines = []
        while not lines or lines[-1] != "Press Ctrl-C to stop.":
            line = process.stdout.readline()
            assert line, f"the gateway ended: {lines}"
            lines.append(line.rstrip("\n"))
        return lines
    finally:
        watchdog.cancel()


def _h2_call(base_url: str, cert: str) -> httpx.Response:
    import ssl

    h2_client = httpx.Client(http2=True, verify=ssl.create_default_context(cafile=cert), timeout=5)
    deadline = time.monotonic() + 15
    with h2_client:
        while True:  # hypercorn starts accepting a moment after the banner
            try:
                return h2_client.post(
                    base_url + "/v1/chat/completions",
                    headers={"Authorization": "Bearer rsk_h2_token"},
                    json={"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
                )
            except httpx.ConnectError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)


@pytest.mark.parametrize("given", [False, True], ids=["self-signed", "certfile"])
def test_http2_serves_https_with_http2(tmp_path: Path, given: bool) -> None:
    for name in ("hypercorn", "h2", "cryptography"):
        pytest.importorskip(name)
    from meshapi_gateway.http.tls import self_signed

    files = ["--certfile", *self_signed(str(tmp_path))] if given else []
    if given:
        files[2:2] = ["--keyfile"]  # --certfile CERT --keyfile KEY
    argv = ["gateway", "--port", "0", "--token", "rsk_h2_token", "--no-inspector", "--http2", *files]
    process = _spawn(argv, tmp_path)
    try:
        lines = _banner(process)
        base_url = lines[0].removeprefix("MeshAPI local gateway on ")
        assert re.fullmatch(r"https://127\.0\.0\.1:\d+", base_url), lines
        tls_line = next(line for line in lines if line.startswith("HTTP/2 and HTTP/1.1 over TLS"))
        cert = tls_line.split("certificate: ", 1)[1].split(" (", 1)[0]
        if given:
            assert tls_line == f"HTTP/2 and HTTP/1.1 over TLS (hypercorn), certificate: {files[1]}"
            assert not any("SSL_CERT_FILE" in line for line in lines)
        else:
            assert tls_line.endswith(
                " (self-signed for localhost, for this run; trust it with SSL_CERT_FILE)"
            )
            assert f"  export SSL_CERT_FILE={cert}" in lines
            assert f"  export MESHAPI_BASE_URL={base_url}" in lines
        response = _h2_call(base_url, cert)
        assert response.status_code == 200, response.text
        assert response.http_version == "HTTP/2"
        assert response.json()["object"] == "chat.completion"
        localhost = base_url.replace("127.0.0.1", "localhost")  # the certificate names localhost too
        assert _h2_call(localhost, cert).http_version == "HTTP/2"
        began = time.monotonic()
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=15)
        took = time.monotonic() - began
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert took < 3.0, f"Ctrl-C took {took:.2f}s"
    assert "Traceback" not in err, err
    assert os.path.exists(cert) is given  # a certificate made for the run is deleted with it


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (
            ["--certfile", "c.pem"],
            "meshapi gateway: --certfile needs --http2 (TLS is served by the HTTP/2 server)",
        ),
        (
            ["--http2", "--keyfile", "k.pem"],
            "meshapi gateway: --certfile and --keyfile go together "
            "(or give neither: a self-signed certificate is made)",
        ),
    ],
)
def test_bad_tls_options_are_one_line(run: Run, argv: List[str], line: str) -> None:
    result: Result = run("gateway", "--port", "0", *argv)
    assert result.code == 2
    assert result.err_lines == [line]


def test_http2_without_its_packages_names_the_extra(run: Run, monkeypatch: Any, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "hypercorn", None)  # ``import hypercorn`` raises ImportError
    result: Result = run("gateway", "--port", "0", "--http2")
    assert (result.code, result.out) == (2, "")
    assert result.err_lines == [
        "meshapi gateway: --http2 needs hypercorn: pip install 'meshapi[gateway-http2]'"
    ]
    monkeypatch.setitem(sys.modules, "h2", None)
    result = run("gateway", "--port", "0", "--http2")
    assert result.err_lines == [
        "meshapi gateway: --http2 needs hypercorn and h2: pip install 'meshapi[gateway-http2]'"
    ]
    monkeypatch.delitem(sys.modules, "hypercorn")
    monkeypatch.delitem(sys.modules, "h2")
    pytest.importorskip("hypercorn")
    pytest.importorskip("h2")
    monkeypatch.setitem(sys.modules, "cryptography", None)
    result = run("gateway", "--port", "0", "--http2")
    assert result.err_lines == [
        "meshapi gateway: --http2 without --certfile makes a certificate with cryptography: "
        "pip install 'meshapi[gateway-http2]' (or give --certfile and --keyfile)"
    ]
    (tmp_path / "c.pem").write_text("not a certificate")
    result = run("gateway", "--port", "0", "--http2", "--certfile", str(tmp_path / "c.pem"), "--keyfile", "k")
    assert result.code == 2
    assert result.err_lines[0].startswith(
        f"meshapi gateway: cannot use --certfile {tmp_path / 'c.pem'} with --keyfile k: "
    )
