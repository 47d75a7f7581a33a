"""Record and replay in front of a "real" gateway, which here is a second local gateway (no internet)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import httpx
import pytest

from meshapi_gateway import Gateway, ProxySettings, create_app, main, serve
from meshapi_gateway.record.cassette import Cassette, CassetteError

from .conftest import assert_envelope, chat_body

UPSTREAM_TOKEN = "rsk_upstream_secret_4J8Q_do_not_record"
LOCAL_TOKEN = "rsk_local_side_token_7Z"
ENV_SENTINEL = "rsk_exported_in_the_shell_3V_must_not_be_used"
CHAT = "/v1/chat/completions"
LOCAL = {"Authorization": f"Bearer {LOCAL_TOKEN}"}


@pytest.fixture(scope="module")
def upstream() -> Iterator[Gateway]:
    with serve([UPSTREAM_TOKEN], latency=0.004) as gateway:
        yield gateway


def recorder(upstream: Gateway, path: Path) -> Gateway:
    settings = ProxySettings(upstream=upstream.base_url, upstream_token=UPSTREAM_TOKEN, record=str(path))
    return serve([LOCAL_TOKEN], proxy=settings)


def replayer(path: Path, **options: Any) -> Gateway:
    return serve([LOCAL_TOKEN], proxy=ProxySettings(replay=str(path), **options))


def exchanges(client: httpx.Client) -> List[httpx.Response]:
    """One of each kind: JSON reply, SSE stream, GET with a query, an error from the upstream."""
    return [
        client.post(CHAT, json=chat_body("Plan a day in Lisbon.")),
        client.post(CHAT, json=chat_body("Stream a haiku about tides.", stream=True)),
        client.get("/v1/models", params={"type": "chat"}),
        client.post(CHAT, json=chat_body(model="nobody/no-such-model")),
    ]


async def async_exchanges(client: httpx.AsyncClient) -> List[httpx.Response]:
    return [
        await client.post(CHAT, json=chat_body("Plan a day in Lisbon.")),
        await client.post(CHAT, json=chat_body("Stream a haiku about tides.", stream=True)),
        await client.get("/v1/models", params={"type": "chat"}),
        await client.post(CHAT, json=chat_body(model="nobody/no-such-model")),
    ]


async def run(mode: str, gw: Gateway, headers: Dict[str, str]) -> List[httpx.Response]:
    if mode == "sync":
        with httpx.Client(base_url=gw.base_url, headers=headers, timeout=10) as c:
            return exchanges(c)
    async with httpx.AsyncClient(base_url=gw.base_url, headers=headers, timeout=10) as ac:
        return await async_exchanges(ac)


def summary(responses: List[httpx.Response]) -> List[Tuple[int, str, bytes]]:
    return [(r.status_code, r.headers["x-request-id"], r.content) for r in responses]


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_record_then_replay_byte_for_byte(upstream: Gateway, tmp_path: Path, mode: str) -> None:
    cassette = tmp_path / "cassette.jsonl"
    upstream.requests.clear()
    with recorder(upstream, cassette) as rec:
        recorded = await run(mode, rec, LOCAL)
    assert [r.status_code for r in recorded] == [200, 200, 200, 404]
    # the upstream saw its own token, never the caller's; the caller got the upstream's request ids
    seen = upstream.requests.filter()
    assert len(seen) == 4 and all(r.bearer_is(UPSTREAM_TOKEN) for r in seen)
    assert [r.request_id for r in seen] == [r.headers["x-request-id"] for r in recorded]
    # the stream the caller got is the upstream's, byte for byte (from the upstream's own log)
    assert "".join(e.text + "\n\n" for e in seen[1].events).encode() == recorded[1].content

    text = cassette.read_text(encoding="utf-8")
    lines = [json.loads(line) for line in text.splitlines()]
    assert len(lines) == 4
    for secret in (UPSTREAM_TOKEN, LOCAL_TOKEN, "authorization", "Authorization"):
        assert secret not in text
    assert [e["response"]["request_id"] for e in lines] == [r.headers["x-request-id"] for r in recorded]
    stream = lines[1]["response"]
    assert stream["streamed"] is True and len(stream["chunks"]) > 3
    assert [c["ms"] for c in stream["chunks"]] == sorted(c["ms"] for c in stream["chunks"])

    with replayer(cassette) as rep:
        replayed = await run(mode, rep, LOCAL)
    assert summary(replayed) == summary(recorded)
    assert replayed[1].headers["content-type"] == "text/event-stream"
    assert replayed[3].json()["error"]["code"] == "model_not_found"


def test_matching_ignores_stream_options_key_order_and_headers(upstream: Gateway, tmp_path: Path) -> None:
    cassette = tmp_path / "c.jsonl"
    with recorder(upstream, cassette) as rec:
        first = httpx.post(rec.base_url + CHAT, json=chat_body("one", stream=True), headers=LOCAL)
    body = chat_body("one", stream=True, stream_options={"include_usage": True})
    reordered = json.dumps(dict(reversed(list(body.items()))), indent=2)
    headers = {
        **LOCAL,
        "Idempotency-Key": "a-fresh-key",
        "X-Request-Id": "req_mine",
        "Content-Type": "application/json",
    }
    with replayer(cassette) as rep:
        again = httpx.post(rep.base_url + CHAT, content=reordered, headers=headers)
    assert again.status_code == 200 and again.content == first.content


def test_secrets_in_the_query_the_body_and_the_realtime_handshake_are_not_recorded(
    upstream: Gateway, tmp_path: Path
) -> None:
    from websockets.sync.client import connect

    cassette = tmp_path / "c.jsonl"
    body = chat_body("keys", api_key="sk_body_field_5K", metadata={"password": "pw_nested_6K"})
    with recorder(upstream, cassette) as rec:
        url = rec.base_url.replace("http://", "ws://") + "/v1/realtime?model=openai%2Fgpt-realtime"
        with connect(url, subprotocols=["openai-realtime", f"Bearer.{LOCAL_TOKEN}"], open_timeout=5) as ws:  # type: ignore[list-item]
            assert json.loads(ws.recv(timeout=5))["type"] == "session.created"
        first = httpx.post(rec.base_url + CHAT, json=body, headers=LOCAL)
        listed = httpx.get(
            rec.base_url + "/v1/models", params={"api_key": "sk_query_7K", "type": "chat"}, headers=LOCAL
        )
        assert first.status_code == listed.status_code == 200
        log = [json.dumps(r.as_dict()) for r in rec.requests]
        assert rec.requests.filter(path="/v1/realtime")[0].bearer_is(LOCAL_TOKEN)
    text = cassette.read_text(encoding="utf-8")
    for secret in (LOCAL_TOKEN, "sk_body_field_5K", "pw_nested_6K", "sk_query_7K", UPSTREAM_TOKEN):
        assert secret not in text and not any(secret in entry for entry in log)
    chat, models = (json.loads(line)["request"] for line in text.splitlines())
    assert chat["json"]["api_key"] == "sk_…redacted" and chat["json"]["metadata"] == {
        "password": "pw_…redacted"
    }
    assert models["query"] == "api_key=sk_%E2%80%A6redacted&type=chat"
    # the same requests (whatever key they carry) replay from the redacted cassette
    with replayer(cassette) as rep:
        again = httpx.post(rep.base_url + CHAT, json=body, headers=LOCAL)
        other_key = httpx.get(
            rep.base_url + "/v1/models", params={"api_key": "sk_other", "type": "chat"}, headers=LOCAL
        )
    assert again.content == first.content and other_key.content == listed.content


def test_identical_requests_replay_in_order_then_the_last_repeats(upstream: Gateway, tmp_path: Path) -> None:
    cassette = tmp_path / "c.jsonl"
    with recorder(upstream, cassette) as rec:
        ids = [
            httpx.get(rec.base_url + "/v1/models", headers=LOCAL).headers["x-request-id"] for _ in range(2)
        ]
    with replayer(cassette) as rep:
        got = [
            httpx.get(rep.base_url + "/v1/models", headers=LOCAL).headers["x-request-id"] for _ in range(3)
        ]
    assert got == [ids[0], ids[1], ids[1]]


def test_unmatched_request_names_the_closest_or_falls_through(upstream: Gateway, tmp_path: Path) -> None:
    cassette = tmp_path / "c.jsonl"
    with recorder(upstream, cassette) as rec:
        httpx.post(rec.base_url + CHAT, json=chat_body("Plan a day in Lisbon."), headers=LOCAL)
        httpx.get(rec.base_url + "/v1/models", headers=LOCAL)
    with replayer(cassette) as rep:
        miss = httpx.post(
            rep.base_url + CHAT, json=chat_body("Plan a day in Porto.", temperature=0.3), headers=LOCAL
        )
        other = httpx.get(rep.base_url + "/v1/templates", headers=LOCAL)
        unauthorised = httpx.get(rep.base_url + "/v1/models")
    body = assert_envelope(miss, 404, "cassette_no_match")
    message = body["error"]["message"]
    assert str(cassette) in message and "exchange #1: POST /v1/chat/completions" in message
    assert "differs in: messages, temperature" in message
    assert (
        "no recorded exchange for this method and path"
        in assert_envelope(other, 404, "cassette_no_match")["error"]["message"]
    )
    assert_envelope(unauthorised, 401, "unauthorized")  # local auth still applies in front of a cassette
    with replayer(cassette, replay_fallback=True) as rep:
        local = httpx.post(rep.base_url + CHAT, json=chat_body("Plan a day in Porto."), headers=LOCAL)
    assert local.status_code == 200 and local.json()["object"] == "chat.completion"


def test_replay_pace_recorded_or_accelerated(tmp_path: Path) -> None:
    cassette = tmp_path / "c.jsonl"
    with serve([UPSTREAM_TOKEN], latency=0.02) as slow, recorder(slow, cassette) as rec:
        httpx.post(rec.base_url + CHAT, json=chat_body("Pace me.", stream=True), headers=LOCAL)
    chunks = Cassette(str(cassette)).exchanges[0]["response"]["chunks"]
    span = (chunks[-1]["ms"] - chunks[0]["ms"]) / 1000
    assert span > 0.4
    timings = {}
    for speed in (0.0, 1.0, 4.0):
        with replayer(cassette, replay_speed=speed) as rep:
            started = time.monotonic()
            assert (
                httpx.post(
                    rep.base_url + CHAT, json=chat_body("Pace me.", stream=True), headers=LOCAL
                ).status_code
                == 200
            )
            timings[speed] = time.monotonic() - started
    assert timings[1.0] >= span * 0.9
    assert timings[4.0] >= span / 4 * 0.9 and timings[4.0] < timings[1.0]
    assert timings[0.0] < timings[1.0] / 2  # no pauses at all (what is left is the machine's speed)


def test_faults_and_the_log_still_apply_in_front_of_the_upstream(upstream: Gateway, tmp_path: Path) -> None:
    with recorder(upstream, tmp_path / "c.jsonl") as rec:
        rec.faults.add(CHAT, status=503)
        faulted = httpx.post(rec.base_url + CHAT, json=chat_body(), headers=LOCAL)
        passed = httpx.post(rec.base_url + CHAT, json=chat_body(), headers=LOCAL)
        logged = rec.requests.filter(path=CHAT)
    assert faulted.status_code == 503 and passed.status_code == 200
    assert logged[1].request_id == passed.headers["x-request-id"] and logged[1].tokens_out
    assert len((tmp_path / "c.jsonl").read_text().splitlines()) == 1  # the faulted call never went upstream


def test_unreachable_upstream_is_a_502_envelope(tmp_path: Path) -> None:
    settings = ProxySettings(
        upstream="http://127.0.0.1:9", upstream_token="x", record=str(tmp_path / "c.jsonl")
    )
    with serve([LOCAL_TOKEN], proxy=settings) as gw:
        assert_envelope(httpx.get(gw.base_url + "/v1/models", headers=LOCAL), 502, "upstream_unreachable")


def test_settings_and_cassette_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    with pytest.raises(ValueError, match="needs an upstream"):
        ProxySettings(record="x.jsonl")
    with pytest.raises(ValueError, match="http"):
        ProxySettings(upstream="ftp://example")
    assert UPSTREAM_TOKEN not in repr(ProxySettings(upstream="http://x", upstream_token=UPSTREAM_TOKEN))
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"request": {"method": "GET", "path": "/v1/models"}, "response": {"status": 200}}\nnot json\n'
    )
    with pytest.raises(CassetteError, match=r"bad\.jsonl:2"):
        create_app([LOCAL_TOKEN], proxy=ProxySettings(replay=str(bad)))
    assert main(["--port", "0", "--replay", str(bad)]) == 2
    assert main(["--port", "0", "--replay", str(tmp_path / "missing.jsonl")]) == 2
    monkeypatch.delenv("MESHAPI_UPSTREAM_TOKEN", raising=False)
    assert (
        main(["--port", "0", "--upstream", "http://127.0.0.1:9", "--record", str(tmp_path / "r.jsonl")]) == 2
    )
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("meshapi gateway: ") and "bad.jsonl:2" in err[0]
    assert "cannot read cassette" in err[1] and "$MESHAPI_UPSTREAM_TOKEN" in err[2]


def test_the_closest_match_search_is_bounded_in_time_and_fields(tmp_path: Path) -> None:
    def line(i: int, fields: int) -> str:
        body = {"model": "m", "n": i, **{f"z{k:05d}": k for k in range(fields)}}
        request = {
            "method": "POST",
            "path": CHAT,
            "query": "",
            "content_type": "application/json",
            "json": body,
        }
        response = {"status": 200, "chunks": [{"ms": 0, "text": "{}"}]}
        return json.dumps({"version": 1, "request": request, "response": response})

    path = tmp_path / "wide.jsonl"
    path.write_text("\n".join(line(i, 5_000) for i in range(5)) + "\n")
    cassette = Cassette(str(path))
    asked = {"method": "POST", "path": CHAT, "query": "", "json": {"model": "m", "n": 3, "other": 1}}
    # 64 fields of the 5,002 recorded ones take part (the first by name), and the request's own
    differing = ", ".join(["other"] + [f"z{k:05d}" for k in range(62)])
    assert cassette.closest(asked) == f"exchange #4: POST /v1/chat/completions (differs in: {differing})"
    assert cassette.closest(asked, budget=0.0).endswith("(best of the first 1 of 5 exchanges compared)")


@pytest.mark.parametrize("speed", [float("nan"), float("inf"), -1.0, 1e-300, 0.009, 100.5])
def test_a_replay_speed_outside_its_range_is_refused(speed: float) -> None:
    with pytest.raises(ValueError, match=r"replay speed must be 0 \(at once\) or 0\.01 to 100 times"):
        ProxySettings(replay="c.jsonl", replay_speed=speed)
    for fine in (0.0, 0.01, 1.0, 100.0):
        assert ProxySettings(replay="c.jsonl", replay_speed=fine).replay_speed == fine


def test_cli_record_and_replay_options(
    tmp_path: Path, monkeypatch: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    import uvicorn

    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: None)
    monkeypatch.setenv("MY_UPSTREAM_TOKEN", UPSTREAM_TOKEN)
    target = tmp_path / "r.jsonl"
    argv = ["--port", "0", "--upstream", "http://127.0.0.1:9", "--upstream-token-env", "MY_UPSTREAM_TOKEN"]
    assert main([*argv, "--record", str(target)]) == 0
    out = capsys.readouterr().out
    assert f"proxying to http://127.0.0.1:9, recording to {target}" in out and UPSTREAM_TOKEN not in out
    target.write_text("")
    assert main(["--port", "0", "--replay", str(target), "--replay-speed", "2"]) == 0
    assert f"replaying {target}" in capsys.readouterr().out


# -- the pytest plugin: @pytest.mark.meshapi_cassette ------------------------------------------------------

_PLUGIN_TEST = """
import hashlib
import os

import httpx
import pytest

pytestmark = pytest.mark.meshapi_cassette("cassettes/module.jsonl")


def test_plain(meshapi_cassette):
    headers = {"Authorization": f"Bearer {meshapi_cassette.token}"}
    body = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "Cassette me"}]}
    reply = httpx.post(meshapi_cassette.base_url + "/v1/chat/completions", json=body, headers=headers)
    assert reply.status_code == 200
    # the fixture's gateway never takes the environment's token (a real key exported in the shell)
    sentinel = os.environ["MESHAPI_TOKEN"]
    assert meshapi_cassette.token == "rsk_pytest_plugin_token" != sentinel
    assert not any(r.sent_secret(sentinel) for r in meshapi_cassette.requests)
    print("PLAIN", reply.headers["x-request-id"])


def test_stream(meshapi_cassette):
    headers = {"Authorization": f"Bearer {meshapi_cassette.token}"}
    body = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "Stream me"}], "stream": True}
    reply = httpx.post(meshapi_cassette.base_url + "/v1/chat/completions", json=body, headers=headers)
    assert reply.status_code == 200
    print("STREAM", reply.headers["x-request-id"], hashlib.sha256(reply.content).hexdigest())
"""


def _pytest(directory: Path, env: Dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MESHAPI_")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", *args],
        cwd=directory,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_plugin_records_when_missing_and_replays_otherwise(tmp_path: Path) -> None:
    (tmp_path / "test_uses_cassette.py").write_text(textwrap.dedent(_PLUGIN_TEST))
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    cassette = tmp_path / "cassettes" / "module.jsonl"
    # a real key exported in the shell: no run may send it anywhere or record it
    shell = {"MESHAPI_TOKEN": ENV_SENTINEL}
    missing = _pytest(tmp_path, shell)
    assert missing.returncode == 1 and "cassettes/module.jsonl does not exist" in missing.stdout
    assert "--meshapi-upstream URL" in missing.stdout and not cassette.exists()
    with serve([UPSTREAM_TOKEN]) as up:
        recorded = _pytest(
            tmp_path, {**shell, "MESHAPI_UPSTREAM_TOKEN": UPSTREAM_TOKEN}, "--meshapi-upstream", up.base_url
        )
        assert recorded.returncode == 0, recorded.stdout + recorded.stderr
        assert len(up.requests.filter(path=CHAT)) == 2
        assert not any(r.sent_secret(ENV_SENTINEL) or ENV_SENTINEL in repr(r.as_dict()) for r in up.requests)
    assert len(cassette.read_text().splitlines()) == 2 and UPSTREAM_TOKEN not in cassette.read_text()
    assert ENV_SENTINEL not in cassette.read_text()
    # the upstream is gone: the second run is answered from the cassette alone, identically
    replayed = _pytest(tmp_path, shell)
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr

    def printed(run: subprocess.CompletedProcess[str]) -> List[str]:
        return re.findall(r"(?:PLAIN|STREAM) req_\w+(?: [0-9a-f]{64})?", run.stdout)

    assert printed(replayed) == printed(recorded) and len(printed(recorded)) == 2


def test_multipart_bodies_match_whatever_their_boundary() -> None:
    from meshapi_gateway.record.cassette import normalise, request_entry

    def upload(boundary: str, text: str) -> Dict[str, Any]:
        body = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\n{text}\r\n--{boundary}--\r\n'
        return request_entry(
            "POST", "/v1/files", "", f"multipart/form-data; boundary={boundary}", body.encode()
        )

    assert normalise(upload("abc123", "hello")) == normalise(upload("zzz999", "hello"))
    assert normalise(upload("abc123", "hello")) != normalise(upload("abc123", "other"))
    assert "body_b64" in upload("b", "x") and "json" not in upload("b", "x")
