"""``meshapi map FILE.jsonl`` against the local gateway, in process: JSON lines in input order with each
request's cost (equal to its usage event), ``--output``, ``--return-exceptions`` (error lines at their index,
exit 1), the first error stopping the run, ``--rpm`` as the client's limiter, and a bad file a usage error
with nothing sent."""

from __future__ import annotations

import io
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Dict, List

import pytest

import meshapi
from meshapi import MeshAPI
from meshapi.cli import main

from .conftest import Result

Run = Callable[..., Result]
MODEL = "openai/gpt-4o-mini"
CHAT = "/v1/chat/completions"


def chat(text: str, model: str = MODEL) -> Dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": text}], "temperature": 0.7}


@pytest.fixture
def plain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "rich", None)  # plain text: exact lines


def write_jsonl(path: Path, lines: List[Any]) -> Path:
    path.write_text(
        "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n", encoding="utf-8"
    )
    return path


def test_results_in_input_order_with_costs(gw: Any, run: Run, tmp_path: Path, plain: None) -> None:
    texts = ["first question", "second, longer question about buckets", "third"]
    source = write_jsonl(
        tmp_path / "in.jsonl", ["# three requests", chat(texts[0]), "", chat(texts[1]), chat(texts[2])]
    )
    result = run("map", str(source), "--concurrency", "3")
    assert result.code == 0, result.err
    lines = [json.loads(line) for line in result.out.splitlines()]
    assert [line["index"] for line in lines] == [0, 1, 2]
    with MeshAPI(base_url=gw.base_url, token=gw.token) as client:
        expected = [client.chat.completions.create(**chat(t)).choices[0].message.content for t in texts]
        looked_up = client.costs.lookup([line["request_id"] for line in lines])
    assert [line["completion"]["choices"][0]["message"]["content"] for line in lines] == expected
    assert [line["cost_usd"] for line in lines] == [str(c.cost_usd) for c in looked_up.costs]
    total = sum((Decimal(line["cost_usd"]) for line in lines), Decimal(0))
    assert result.err_lines == [f"3 requests, 0 failed, {total} USD"]  # no line per request off a terminal


def test_output_file(gw: Any, run: Run, tmp_path: Path, plain: None) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [chat("one"), chat("two")])
    target = tmp_path / "out.jsonl"
    result = run("map", str(source), "--output", str(target))
    assert result.code == 0 and result.out == ""
    assert [json.loads(line)["index"] for line in target.read_text(encoding="utf-8").splitlines()] == [0, 1]


def test_return_exceptions_writes_error_lines_at_their_index(
    gw: Any, run: Run, tmp_path: Path, plain: None
) -> None:
    source = write_jsonl(
        tmp_path / "in.jsonl", [chat("one"), chat("two", "nobody/no-such-model"), chat("three")]
    )
    result = run("map", str(source), "--return-exceptions")
    assert result.code == 1
    lines = [json.loads(line) for line in result.out.splitlines()]
    assert [sorted(line) for line in lines] == [
        ["completion", "cost_usd", "index", "request_id"],
        ["error", "index"],
        ["completion", "cost_usd", "index", "request_id"],
    ]
    error = lines[1]["error"]
    assert (lines[1]["index"], error["type"], error["status"], error["error_code"]) == (
        1,
        "ModelNotFoundError",
        404,
        "model_not_found",
    )
    assert error["request_id"].startswith("req_") and "nobody/no-such-model" in error["message"]
    assert result.err_lines[-1].startswith("3 requests, 1 failed, ")


def test_the_first_error_stops_the_run(gw: Any, run: Run, tmp_path: Path, plain: None) -> None:
    gw.requests.clear()
    source = write_jsonl(
        tmp_path / "in.jsonl", [chat("one", "nobody/no-such-model"), chat("two"), chat("three")]
    )
    result = run("map", str(source), "--concurrency", "1")
    assert result.code == 1 and result.out == ""
    assert len(result.err_lines) == 1 and "model_not_found" in result.err_lines[0]
    assert [r.json["model"] for r in gw.requests.filter(path=CHAT)] == ["nobody/no-such-model"]


def test_rpm_is_the_clients_limiter(gw: Any, run: Run, tmp_path: Path, plain: None, monkeypatch: Any) -> None:
    seen: List[Any] = []
    acquire = meshapi.RateLimiter.acquire

    def spy(self: meshapi.RateLimiter, tokens: int = 1, **kwargs: Any) -> Any:
        seen.append(self.rpm)
        return acquire(self, tokens, **kwargs)

    monkeypatch.setattr(meshapi.RateLimiter, "acquire", spy)
    source = write_jsonl(tmp_path / "in.jsonl", [chat("one"), chat("two")])
    assert run("map", str(source), "--rpm", "90").code == 0
    assert seen[:2] == [90.0, 90.0]  # each request waited for a 90/min limiter (then one price lookup)
    assert run("map", str(source), "--rpm", "0").code == 2


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([json.dumps(chat("one")), "{not json"], "in.jsonl:2: not valid JSON"),
        (['["a list"]'], "in.jsonl:1: each line must be a chat request"),
        (
            [json.dumps({**chat("one"), "stream": True})],
            'in.jsonl:1: map runs whole completions; remove "stream"',
        ),
        (["# nothing"], "in.jsonl: no requests found"),
    ],
)
def test_a_bad_file_is_a_usage_error_with_nothing_sent(
    gw: Any, run: Run, tmp_path: Path, plain: None, lines: List[str], message: str
) -> None:
    gw.requests.clear()
    source = write_jsonl(tmp_path / "in.jsonl", lines)
    result = run("map", str(source))
    assert result.code == 2 and message in result.err and result.out == ""
    assert gw.requests.filter(path=CHAT) == []
    missing = run("map", str(tmp_path / "missing.jsonl"))
    assert missing.code == 2 and "no such file" in missing.err


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_progress_bar_on_a_terminal_stderr(
    gw: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("rich")
    err, out = Terminal(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    monkeypatch.setattr(sys, "stdout", out)
    source = write_jsonl(tmp_path / "in.jsonl", [chat("one"), chat("two")])
    assert main(["map", str(source)]) == 0
    assert "2/2 requests" in err.getvalue()  # the bar's text, drawn on stderr
    assert [json.loads(line)["index"] for line in out.getvalue().splitlines()] == [
        0,
        1,
    ]  # stdout: results only
