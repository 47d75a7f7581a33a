"""serve(): repeated starts without leaks, persistence with data_dir, env token; main()."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from meshapi_gateway import DEFAULT_TOKEN, Gateway, serve
from tests._poll import wait_until

from .conftest import chat_body, user


def test_several_gateways_in_a_row_do_not_leak(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MESHAPI_TOKEN", raising=False)
    before = set(threading.enumerate())
    ports = set()
    for _ in range(4):
        with serve() as gw:
            # no token and no $MESHAPI_TOKEN: a random one, never DEFAULT_TOKEN (tests/gateway/test_rebinding.py)
            assert re.fullmatch(r"rsk_local_[A-Za-z0-9_-]{32}", gw.token) and gw.tokens == [gw.token]
            assert gw.token != DEFAULT_TOKEN
            assert gw.base_url.startswith("http://127.0.0.1:") and not gw.base_url.endswith("/")
            assert repr(gw) == f"<meshapi.gateway.Gateway {gw.base_url}>"
            with httpx.Client(base_url=gw.base_url, headers={"Authorization": f"Bearer {gw.token}"}) as c:
                assert c.get("/v1/models").status_code == 200
            ports.add(gw.port)
        gw.stop()  # a second stop is harmless
        with pytest.raises(httpx.ConnectError), httpx.Client() as c:
            c.get(gw.base_url + "/v1/models")
    assert len(ports) == 4
    assert set(threading.enumerate()) <= before


def test_env_token_and_explicit_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MESHAPI_TOKEN", "rsk_from_env")
    with serve() as gw:
        assert gw.token == "rsk_from_env"
        port = gw.port
    with serve(["rsk_a"], port=port) as again:
        assert again.port == port
    with pytest.raises(ValueError):
        serve([""])


def test_data_dir_survives_a_restart(tmp_path: Path) -> None:
    token = "rsk_persist"
    auth = {"Authorization": f"Bearer {token}"}
    first = serve([token], data_dir=str(tmp_path), batch_step_seconds=0.01, embed_step_seconds=0.01)
    with first as gw, httpx.Client(base_url=gw.base_url, headers=auth, timeout=10) as c:
        template = c.post("/v1/templates", json={"name": "keep-me", "system": "Hi {{ who }}"}).json()
        init = c.post("/v1/files", json={"file_name": "f.txt", "mime_type": "text/plain"}).json()
        c.put(
            init["signed_url"],
            content=b"Penguins huddle together to stay warm.",
            headers={"Content-Type": "text/plain"},
        )
        c.post("/v1/files/embed", json={"file_ids": [init["file_id"]], "wait": True})
        batch = c.post(
            "/v1/batches",
            json={
                "requests": [
                    {"custom_id": "a", "body": {"model": "openai/gpt-4o-mini", "messages": user("x")}}
                ]
            },
        ).json()
    second = serve([token], data_dir=str(tmp_path), batch_step_seconds=0.01)
    with second as gw2, httpx.Client(base_url=gw2.base_url, headers=auth, timeout=10) as c:
        assert c.get(f"/v1/templates/{template['id']}").json() == template
        clash = c.post("/v1/templates", json={"name": "keep-me"})
        assert clash.status_code == 409
        status = c.get(f"/v1/files/{init['file_id']}").json()
        assert status["embedding_status"] == "ready"
        hits = c.post("/v1/files/search", json={"query": "penguins"}).json()["results"]
        assert "Penguins" in hits[0]["text"]
        finished = wait_until(
            lambda: (lambda b: b if b["status"] == "completed" else None)(
                c.get(f"/v1/batches/{batch['id']}").json()
            ),
            what="the batch completed after the restart",
        )
        assert finished["status"] == "completed" and finished["results"][0]["custom_id"] == "a"
        assert (
            c.post(
                "/v1/chat/completions",
                json={"template": "keep-me", "variables": {"who": "you"}, "messages": user("x")},
            ).status_code
            == 200
        )


def test_in_memory_storage_starts_empty(gw: Gateway) -> None:
    with (
        serve(["rsk_fresh"]) as fresh,
        httpx.Client(base_url=fresh.base_url, headers={"Authorization": "Bearer rsk_fresh"}) as c,
    ):
        assert c.get("/v1/templates").json() == []
        assert c.post("/v1/chat/completions", json=chat_body()).status_code == 200


def test_main_runs_in_the_foreground_until_ctrl_c(tmp_path: Path) -> None:
    code = "import sys; from meshapi_gateway import main; sys.exit(main(sys.argv[1:]))"
    env = {**os.environ, "MESHAPI_TOKEN": "rsk_cli_env"}
    process = subprocess.Popen(
        [sys.executable, "-c", code, "--port", "0", "--log-level", "warning", "--admin-token", "adm_x"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=str(tmp_path),
    )
    try:
        assert process.stdout is not None
        lines = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            lines.append(line)
            if "Ctrl-C" in line:
                break
        text = "".join(lines)
        base_url = next(ln.split("=", 1)[1].strip() for ln in lines if "MESHAPI_BASE_URL=" in ln)
        assert "MESHAPI_TOKEN=rsk_cli_env" in text and "adm_x" in text
        for _ in range(100):
            try:
                with httpx.Client() as c:
                    response = c.get(base_url + "/v1/models", headers={"Authorization": "Bearer rsk_cli_env"})
                break
            except httpx.ConnectError:
                time.sleep(0.05)
        assert response.status_code == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def test_main_help_and_bad_port() -> None:
    from meshapi_gateway import main

    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    with serve(["rsk_busy"]) as busy:
        assert main(["--port", str(busy.port)]) == 1
