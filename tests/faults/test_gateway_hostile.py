"""Hostile requests against the local gateway: each gets a clear 4xx while other clients keep working.

The gateway runs in a child process (``child_gateway.py``) so its memory can be read from
``/proc/<pid>/status`` after each row; short slow-client limits make the timeout rows fast.
"""

from __future__ import annotations

import json
import socket
import time
import zlib
from typing import Any, Dict, Iterator, Tuple

import httpx
import pytest

from tests._poll import wait_until
from tests.faults.child_gateway import ChildGateway, others_keep_answering

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

TOKEN = "rsk_hostile_rows_token"
HEADER_TIMEOUT = 0.5
BODY_TIMEOUT = 0.5
MAX_CONNECTIONS = 12
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def child() -> Iterator[ChildGateway]:
    gw = ChildGateway(
        tokens=[TOKEN],
        header_timeout=HEADER_TIMEOUT,
        body_timeout=BODY_TIMEOUT,
        max_connections=MAX_CONNECTIONS,
        embed_step_seconds=0.01,
    )
    try:
        yield gw
    finally:
        gw.stop()


@pytest.fixture
def api(child: ChildGateway) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=child.base_url, headers=headers, timeout=30) as client:
        yield client


def assert_envelope(response: httpx.Response, status: int, code: str) -> Dict[str, Any]:
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"].startswith("application/json")
    body = json.loads(response.content)  # strict: the body is valid JSON
    assert body["error"]["code"] == code
    assert body["request_id"] and body["request_id"] == response.headers["x-request-id"]
    return body  # type: ignore[no-any-return]


def chat_prefix(**extra: Any) -> bytes:
    base = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], **extra}
    return json.dumps(base).encode()[:-1]


HOSTILE_JSON = {
    "arrays 100k deep": b"[" * 100_000 + b"]" * 100_000,
    "objects 50k deep": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    "a field 600 deep": chat_prefix() + b',"metadata":' + b"[" * 600 + b"]" * 600 + b"}",
    "integer of 5000 digits": chat_prefix() + b',"max_tokens":' + b"9" * 5000 + b"}",
    "integer of 200000 digits": chat_prefix() + b',"seed":' + b"7" * 200_000 + b"}",
    "lone high surrogate": b'{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"a\\ud800b"}]}',
    "lone low surrogate in a key": b'{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"x"}],'
    b'"metadata":{"\\udc00":1}}',
    "NaN temperature": chat_prefix() + b',"temperature":NaN}',
    "Infinity temperature": chat_prefix() + b',"temperature":Infinity}',
    "-Infinity top_p": chat_prefix() + b',"top_p":-Infinity}',
    "1e999 temperature": chat_prefix() + b',"temperature":1e999}',
}


@pytest.mark.parametrize("name", list(HOSTILE_JSON))
@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/embeddings", "/v1/templates"])
def test_malformed_json_is_a_422_envelope(
    child: ChildGateway, api: httpx.Client, name: str, path: str
) -> None:
    body = HOSTILE_JSON[name]
    before = child.rss()

    def hostile() -> Tuple[httpx.Response, float]:
        started = time.monotonic()
        answer = api.post(path, content=body, headers={"Content-Type": "application/json"})
        return answer, time.monotonic() - started

    (answer, took), latencies = others_keep_answering(child.base_url, TOKEN, hostile, calls=3)
    error = assert_envelope(answer, 422, "validation_error")["error"]
    assert error["details"][0]["type"] == "json_invalid"
    assert took < 2.0 and max(latencies) < 1.0
    assert child.rss() - before < 64 * MiB


def test_nan_temperature_names_the_problem(api: httpx.Client) -> None:
    answer = api.post(
        "/v1/chat/completions",
        content=chat_prefix() + b',"temperature":NaN}',
        headers={"Content-Type": "application/json"},
    )
    error = assert_envelope(answer, 422, "validation_error")["error"]
    assert "NaN" in error["details"][0]["ctx"]["error"]


def test_schema_ref_cycle_is_a_400_and_a_finite_cycle_still_answers(api: httpx.Client) -> None:
    def ask(schema: Dict[str, Any]) -> httpx.Response:
        response_format = {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}
        body = {
            "model": "openai/gpt-4o-mini",
            "messages": [{"role": "user", "content": "hi"}],
            "response_format": response_format,
        }
        return api.post("/v1/chat/completions", json=body)

    endless = {"type": "object", "properties": {"a": {"$ref": "#"}}, "required": ["a"]}
    body = assert_envelope(ask(endless), 400, "invalid_request")
    assert "$ref" in body["error"]["message"]
    via_any_of = {"anyOf": [{"$ref": "#"}]}
    assert_envelope(ask(via_any_of), 400, "invalid_request")
    finite = {"type": "object", "properties": {"a": {"$ref": "#"}, "b": {"type": "string"}}}
    assert ask(finite).status_code == 200
    mutual = {"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}
    assert ask(mutual).status_code == 200


def test_unauthenticated_body_is_neither_parsed_nor_kept(gateway: Any) -> None:
    marker = "UNAUTHENTICATED_MARKER_91"
    deep = b'{"marker":"' + marker.encode() + b'","x":' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    with httpx.Client(base_url=gateway.base_url, timeout=10) as anonymous:
        started = time.monotonic()
        answer = anonymous.post(
            "/v1/chat/completions",
            content=deep,
            headers={"Authorization": "Bearer wrong", "Content-Type": "application/json"},
        )
        took = time.monotonic() - started
    assert_envelope(answer, 401, "unauthorized")  # not a 422: the body was never parsed
    assert took < 1.0
    record = gateway.requests[-1]
    assert record.status == 401 and record.json is None
    assert marker not in repr(vars(record))


@pytest.mark.parametrize(
    "expires", ["9" * 5000, "9" * 13, "\u00b2", "\u0661\u0662", "1e9", "-1", " 1", "0x10"]
)
def test_signed_url_with_an_absurd_expires_is_a_400(api: httpx.Client, expires: str) -> None:
    init = api.post("/v1/files", json={"file_name": "a.txt", "mime_type": "text/plain"}).json()
    url = init["signed_url"].split("?")[0]
    answer = api.put(
        url,
        params={"expires": expires, "signature": "00"},
        content=b"hello",
        headers={"Content-Type": "text/plain"},
    )
    assert answer.status_code == 400, answer.text[:200]
    assert answer.headers["content-type"].startswith("application/xml")
    assert b"<Code>InvalidArgument</Code>" in answer.content


def _upload(api: httpx.Client, data: bytes, mime: str, embed: bool = True) -> Tuple[str, httpx.Response]:
    init = api.post("/v1/files", json={"file_name": "f", "mime_type": mime, "embed": embed}).json()
    answer = api.put(init["signed_url"], content=data, headers={"Content-Type": mime})
    return init["file_id"], answer


PDF_ATTACKS = {
    # 200 MiB of zeros deflated to ~200 KB: inflation stops at the 64 MiB budget.
    "deflate bomb": (b"%PDF-1.4\nstream\n" + zlib.compress(b"\0" * (200 * MiB), 9) + b"\nendstream", 413),
    # Many streams that never end: the old lazy regex rescanned the rest of the file for each one.
    "unterminated streams": (b"%PDF-1.4\n" + b"stream\n" * 400_000, 200),
    # Escaped parentheses: the old literal regex restarted at every "(" and scanned to the end.
    "escaped parentheses": (b"%PDF-1.4\nstream\n(" + b"\\(" * 3_000_000 + b"\nendstream", 200),
    # Unbalanced strings, two bytes each: past the 250,000-delimiter budget.
    "unbalanced strings": (b"%PDF-1.4\nstream\n" + b"(a" * 600_000 + b"\nendstream", 413),
}


@pytest.mark.parametrize("name", list(PDF_ATTACKS))
def test_pdf_attacks_are_linear_and_bounded(child: ChildGateway, api: httpx.Client, name: str) -> None:
    data, status = PDF_ATTACKS[name]
    before = child.rss()

    def hostile() -> Tuple[httpx.Response, float]:
        started = time.monotonic()
        _, answer = _upload(api, data, "application/pdf")
        return answer, time.monotonic() - started

    (answer, took), latencies = others_keep_answering(child.base_url, TOKEN, hostile, calls=5)
    assert answer.status_code == status, answer.text[:300]
    if status == 413:
        assert b"<Code>EntityTooLarge</Code>" in answer.content
    assert took < 5.0 and max(latencies) < 1.0
    assert child.rss() - before < 200 * MiB
    assert child.peak_rss() < 700 * MiB


def test_large_text_upload_embeds_in_memory_a_small_multiple_of_the_file(
    child: ChildGateway, api: httpx.Client
) -> None:
    sentence = "Vector search finds the chunk about Paris quickly. "
    text = ("\n\n".join(sentence * 12 for _ in range(7000))).encode()  # ~4.2 MB
    before = child.rss()
    file_id, answer = _upload(api, text, "text/markdown")
    assert answer.status_code == 200
    deadline = time.monotonic() + 60
    status = ""
    while time.monotonic() < deadline:
        status = api.get(f"/v1/files/{file_id}").json()["embedding_status"]
        if status in ("ready", "failed"):
            break
        time.sleep(0.05)
    assert status == "ready"
    hits = api.post("/v1/files/search", json={"query": "Paris", "file_ids": [file_id]}).json()
    assert hits["results"] and "Paris" in hits["results"][0]["text"]
    grown = child.rss() - before
    assert grown < 16 * len(text), f"grew {grown / MiB:.0f} MiB for a {len(text) / MiB:.1f} MiB file"


def test_text_past_the_embedding_budget_is_a_413(api: httpx.Client) -> None:
    data = b"word " * (2 * MiB)  # 10 MiB of text, over the 8 Mi character budget
    _, answer = _upload(api, data, "text/plain")
    assert answer.status_code == 413 and b"EntityTooLarge" in answer.content
    _, kept = _upload(api, data, "text/plain", embed=False)  # not embedded: no budget
    assert kept.status_code == 200


def _raw(child: ChildGateway) -> socket.socket:
    port = int(child.base_url.rsplit(":", 1)[1])
    return socket.create_connection(("127.0.0.1", port), timeout=5)


def _closed_within(sock: socket.socket, seconds: float) -> Tuple[bool, bytes]:
    """Whether the server closed ``sock`` within ``seconds``, and what it sent first."""
    sock.settimeout(seconds)
    got = b""
    try:
        while True:
            piece = sock.recv(65536)
            if not piece:
                return True, got
            got += piece
    except socket.timeout:
        return False, got
    except ConnectionResetError:
        return True, got


def test_slow_headers_are_dropped_while_others_keep_their_latency(child: ChildGateway) -> None:
    def slowloris() -> float:
        started = time.monotonic()
        with _raw(child) as sock:
            request = b"GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100
            for i in range(len(request)):
                try:
                    sock.sendall(request[i : i + 1])
                except OSError:
                    break
                time.sleep(0.02)
                if time.monotonic() - started > 5:
                    break
            closed, _ = _closed_within(sock, 3)
        assert closed
        return time.monotonic() - started

    took, latencies = others_keep_answering(child.base_url, TOKEN, slowloris, calls=20)
    assert took < HEADER_TIMEOUT + 1.5
    assert max(latencies) < 0.5


def test_slow_body_gets_a_408_envelope_and_the_connection_closed(child: ChildGateway) -> None:
    with _raw(child) as sock:
        sock.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Authorization: Bearer " + TOKEN.encode() + b'\r\nContent-Length: 100\r\n\r\n{"model"'
        )
        started = time.monotonic()
        closed, got = _closed_within(sock, 5)
        took = time.monotonic() - started
    assert closed and took < BODY_TIMEOUT + 1.5
    head, _, body = got.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408")
    error = json.loads(body)
    assert error["error"]["code"] == "request_timeout" and error["request_id"]


def test_connection_cap_answers_503_then_recovers(child: ChildGateway) -> None:
    def status() -> int:  # a new connection each time
        with httpx.Client(base_url=child.base_url, timeout=5) as fresh:
            return fresh.get("/v1/models", headers={"Authorization": f"Bearer {TOKEN}"}).status_code

    idle = [_raw(child) for _ in range(MAX_CONNECTIONS)]
    try:  # once the server has accepted the idle sockets, one more connection is refused
        wait_until(lambda: status() == 503, what="the connection cap answers 503")
    finally:
        for sock in idle:
            sock.close()
    wait_until(lambda: status() == 200, what="served again once the idle sockets are closed")


def test_nesting_under_the_limit_is_still_served(api: httpx.Client) -> None:
    body = chat_prefix() + b',"metadata":{"deep":' + b"[" * 400 + b"]" * 400 + b"}}"
    answer = api.post("/v1/chat/completions", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 200, answer.text[:300]
