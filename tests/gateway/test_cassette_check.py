"""Hostile cassette lines: each one a ``CassetteError`` naming file, line and fault at load, never a crash later."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict

import httpx
import pytest

from meshapi_gateway import ProxySettings, main, serve
from meshapi_gateway.record.cassette import Cassette, CassetteError

TOKEN = "rsk_cassette_check_token"
REQUEST = {"method": "GET", "path": "/v1/models", "query": ""}
GOOD = {"version": 1, "request": REQUEST, "response": {"status": 200, "chunks": [{"ms": 1.5, "text": "[]"}]}}


def exchange(response: Dict[str, Any], request: Any = REQUEST, **top: Any) -> str:
    return json.dumps({"version": 1, "request": request, "response": response, **top})


def reply(**fields: Any) -> str:
    return exchange({"status": 200, "headers": {}, "chunks": [{"ms": 0, "text": "hi"}], **fields})


def chunk(**fields: Any) -> str:
    return exchange({"status": 200, "chunks": [fields]})


DEEP = "[" * 100_000 + "]" * 100_000
HEADER_VALUE = (
    "response header 'x-a' has a value HTTP cannot carry "
    "(line breaks, control characters, surrounding blanks or non-Latin-1 text)"
)

HOSTILE = [
    # the JSON itself
    (
        '{"request": {"method": "GET", "path": "/v1/models"}, "response": {"status": 1e400}}',
        "not valid JSON (Number out of range (not a finite number))",
    ),
    (
        '{"request": {"method": "GET", "path": "/v1/models"}, "response": {"status": Infinity}}',
        "not valid JSON (Infinity is not valid JSON)",
    ),
    (chunk(ms=0, text="x").replace('"ms": 0', '"ms": NaN'), "not valid JSON (NaN is not valid JSON)"),
    (DEEP, "not valid JSON (Nesting deeper than 512 levels)"),
    (reply(status=int("9" * 200)), "not valid JSON (Integer literal longer than 100 characters)"),
    (chunk(ms=0, text="\ud800"), "not valid JSON (Lone surrogate in a string (not valid Unicode))"),
    ("not json", "not valid JSON (Expecting value)"),
    ("[1]", "not a recorded exchange (a JSON object with 'request' and 'response')"),
    (
        json.dumps({"request": REQUEST}),
        "not a recorded exchange (a JSON object with 'request' and 'response')",
    ),
    (exchange({"status": 200}, version=2), "cassette version 2 is not supported (only 1)"),
    (exchange({"status": 200}, recorded_at="now"), "'recorded_at' must be a number, got 'now'"),
    # the request
    (exchange({"status": 200}, request="x"), "'request' must be an object, got 'x'"),
    (
        exchange({"status": 200}, request={"method": "GET /x", "path": "/"}),
        "'request.method' must be an HTTP method name, got 'GET /x'",
    ),
    (
        exchange({"status": 200}, request={"method": "GET", "path": "v1"}),
        "'request.path' must be a string starting with '/', got 'v1'",
    ),
    (exchange({"status": 200}, request={**REQUEST, "query": 5}), "'request.query' must be a string, got 5"),
    (
        exchange({"status": 200}, request={**REQUEST, "body_b64": "!!"}),
        "'request.body_b64' is not valid base64",
    ),
    # the status
    (exchange([]), "'response' must be an object, got []"),  # type: ignore[arg-type]
    (reply(status="200"), "'response.status' must be an integer from 200 to 599, got '200'"),
    (reply(status=1e300), "'response.status' must be an integer from 200 to 599, got 1e+300"),
    (reply(status=True), "'response.status' must be an integer from 200 to 599, got True"),
    (reply(status=101), "'response.status' must be an integer from 200 to 599, got 101"),
    (reply(status=600), "'response.status' must be an integer from 200 to 599, got 600"),
    (reply(status=204), "a 204 reply has no body, but the chunks hold 2 bytes"),
    # the headers
    (reply(headers=[]), "'response.headers' must be an object, got []"),
    (reply(headers={"bad name": "v"}), "response header name 'bad name' is not a valid header name"),
    (reply(headers={"x-a": 5}), "response header 'x-a' must be a string, got 5"),
    (reply(headers={"x-a": "v\r\nset-cookie: s=1"}), HEADER_VALUE),
    (reply(headers={"x-a": "v\x00"}), HEADER_VALUE),
    (reply(headers={"x-a": " v"}), HEADER_VALUE),
    (reply(headers={"x-a": "\u20ac"}), HEADER_VALUE),
    (
        reply(headers={"Transfer-Encoding": "chunked"}),
        "response header 'Transfer-Encoding' belongs to the connection and is never replayed",
    ),
    (
        reply(headers={"content-length": "99"}),
        "response header 'content-length' says '99', but the chunks hold 2 bytes",
    ),
    (
        reply(headers={"content-length": "1"}, complete=False),
        "response header 'content-length' says '1', but the chunks hold 2 bytes",
    ),
    (reply(request_id=5), "'response.request_id' must be a string or null, got 5"),
    (reply(streamed="yes"), "'response.streamed' must be true or false, got 'yes'"),
    # the chunks
    (reply(chunks={}), "'response.chunks' must be a list, got {}"),
    (reply(chunks=["data"]), "chunk 1 must be an object with either 'text' or 'b64'"),
    (chunk(ms=0), "chunk 1 must be an object with either 'text' or 'b64'"),
    (chunk(ms=0, text="a", b64="YQ=="), "chunk 1 must be an object with either 'text' or 'b64'"),
    (chunk(ms=1e300, text="a"), "chunk 1: 'ms' must be a number from 0 to 600000, got 1e+300"),
    (chunk(ms=-1, text="a"), "chunk 1: 'ms' must be a number from 0 to 600000, got -1"),
    (chunk(ms="1", text="a"), "chunk 1: 'ms' must be a number from 0 to 600000, got '1'"),
    (chunk(ms=0, text=5), "chunk 1: 'text' must be a string, got 5"),
    (chunk(ms=0, b64="!!"), "chunk 1: 'b64' is not valid base64"),
    (chunk(ms=0, b64=5), "chunk 1: 'b64' must be base64 text, got 5"),
]


@pytest.mark.parametrize(("line", "reason"), HOSTILE, ids=[str(i) for i in range(len(HOSTILE))])
def test_hostile_lines_are_refused_with_file_and_line(tmp_path: Path, line: str, reason: str) -> None:
    path = tmp_path / "hostile.jsonl"
    path.write_text(f"{json.dumps(GOOD)}\n\n{line}\n", encoding="utf-8", errors="surrogatepass")
    with pytest.raises(CassetteError) as caught:
        Cassette(str(path))
    assert str(caught.value) == f"cassette {path}:3: {reason}"


def test_bytes_that_are_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "binary.jsonl"
    path.write_bytes(b'{"request": "\xff"}\n')
    with pytest.raises(CassetteError) as caught:
        Cassette(str(path))
    assert str(caught.value) == f"cassette {path}:1: not UTF-8 text"


def test_checked_lines_that_hold_still_replay(tmp_path: Path) -> None:
    cut = {"status": 200, "headers": {"content-length": "10"}, "complete": False, "chunks": [{"text": "12"}]}
    lines = [
        GOOD,
        {"request": {**REQUEST, "path": "/v1/a"}, "response": {"status": 204}},
        {"request": {**REQUEST, "path": "/v1/b"}, "response": {"status": 404, "headers": {"x-a": "é ok"}}},
        {"request": {**REQUEST, "path": "/v1/c"}, "response": cut},
        {"request": {**REQUEST, "path": "/v1/d"}, "response": {"status": 200, "chunks": [{"b64": "aGk="}]}},
    ]
    path = tmp_path / "good.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert len(Cassette(str(path)).exchanges) == 5
    with serve([TOKEN], proxy=ProxySettings(replay=str(path))) as gw:
        get = lambda p: httpx.get(gw.base_url + p, headers={"Authorization": f"Bearer {TOKEN}"})  # noqa: E731
        assert (get("/v1/models").status_code, get("/v1/models").content) == (200, b"[]")
        assert get("/v1/a").status_code == 204
        assert get("/v1/b").headers["x-a"] == "é ok"
        assert get("/v1/d").content == b"hi"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (
            '{"request": {"method": "GET", "path": "/"}, "response": {"status": 1e400}}',
            "not valid JSON (Number out of range (not a finite number))",
        ),
        (DEEP, "not valid JSON (Nesting deeper than 512 levels)"),
        (chunk(ms=1e300, text="a"), "chunk 1: 'ms' must be a number from 0 to 600000, got 1e+300"),
    ],
    ids=["1e400", "deep", "1e300ms"],
)
def test_cli_replay_of_a_hostile_cassette_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any, line: str, reason: str
) -> None:
    import uvicorn

    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: None)  # never serve for real
    path = tmp_path / "hostile.jsonl"
    path.write_text(line + "\n")
    assert main(["--port", "0", "--replay", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"meshapi gateway: cassette {path}:1: {reason}\n"
    assert captured.out == ""
