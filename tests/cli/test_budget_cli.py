"""``--budget USD`` on the commands that spend and ``meshapi usage --window`` against the local gateway, in
process: a call past the budget is one exact error line (exit 1) with only the catalog read sent; within
the budget the command answers; the option exists exactly on the spending commands; ``--window`` sends the
window's start as ``since`` (summary, events, trend) and is refused with ``--since``."""

from __future__ import annotations

import datetime
import json
import sys
from typing import Any, Callable, List

import pytest

from .conftest import Result

Run = Callable[..., Result]
MODEL = "openai/gpt-4o-mini"


@pytest.fixture(autouse=True)
def _plain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "rich", None)  # plain text: exact lines


def sent(gw: Any, since: int) -> List[Any]:
    return [(r.method, r.path) for r in list(gw.requests)[since:]]


def test_a_chat_past_the_budget_is_not_sent(gw: Any, run: Run) -> None:
    before = len(gw.requests)
    result = run("chat", "--budget", "0.00001", "-m", MODEL, "Tell me a long story")
    assert result.code == 1 and result.out == ""
    # the worst case: 3 + 3 + 5 prompt tokens at $0.15 / 1M and 4096 completion tokens at $0.60 / 1M
    assert result.err_lines == [
        "meshapi: chat failed: BudgetExceededError: The call may cost up to $0.00245925 but the budget of "
        "$0.00001 has $0.00001 left (spent $0); nothing was sent (code: budget_exceeded); "
        "raise --budget, or ask for fewer tokens (--max-tokens)"
    ]
    assert sent(gw, before) == [("GET", "/v1/models/openai/gpt-4o-mini")]


@pytest.mark.parametrize("argv", [("map",), ("batches", "create")])
def test_bulk_commands_past_the_budget_send_nothing(gw: Any, run: Run, argv: Any, tmp_path: Any) -> None:
    source = tmp_path / "in.jsonl"
    line = {"model": MODEL, "messages": [{"role": "user", "content": "Tell me a long story"}]}
    source.write_text(json.dumps(line if argv == ("map",) else {"custom_id": "a", "body": line}) + "\n")
    before = len(gw.requests)
    result = run(*argv, str(source), "--budget", "0.00001")
    assert result.code == 1 and "BudgetExceededError: The call may cost up to $0.00245925" in result.err
    assert sent(gw, before) == [("GET", "/v1/models/openai/gpt-4o-mini")]


def test_within_the_budget_the_command_answers(gw: Any, run: Run) -> None:
    before = len(gw.requests)
    result = run("chat", "--budget", "$0.01", "-m", MODEL, "--max-tokens", "20", "Hello")
    assert result.code == 0, result.err
    assert result.out.strip() and sent(gw, before)[-1] == ("POST", "/v1/chat/completions")
    embedded = run("embed", "--budget", "0.01", "--json", "two words")
    assert embedded.code == 0, embedded.err


@pytest.mark.parametrize(
    "argv",
    [("chat",), ("compare",), ("embed",), ("images", "generate"), ("images", "edit"), ("audio", "say"),
     ("audio", "transcribe"), ("moderate",), ("search",), ("map", "x.jsonl"), ("batches", "create", "x.jsonl")],
)  # fmt: skip
def test_the_spending_commands_take_budget(run: Run, argv: Any) -> None:
    assert "--budget USD" in run(*argv, "--help").out


def test_other_commands_do_not_and_bad_amounts_are_usage_errors(gw: Any, run: Run) -> None:
    before = len(gw.requests)
    assert run("models", "--budget", "1").code == 2
    for bad in ("abc", "0", "-1", "nan"):
        result = run("chat", "--budget", bad, "hi")
        assert result.code == 2 and "argument --budget: " in result.err_lines[-1], result.err
    assert len(gw.requests) == before


def _since_sent(gw: Any, before: int, path: str) -> datetime.datetime:
    (record,) = [r for r in list(gw.requests)[before:] if r.path == path]
    since = record.json["since"] if record.json else record.query["since"]
    return datetime.datetime.fromisoformat(since.replace("Z", "+00:00"))


def test_usage_window_sends_its_start(gw: Any, run: Run) -> None:
    for argv, path, span in (
        (("usage", "--window", "24h", "--json"), "/v1/usage", datetime.timedelta(hours=24)),
        (("usage", "events", "--window", "30m", "--json"), "/v1/usage/events", datetime.timedelta(minutes=30)),
        (("usage", "trend", "--window", "7d", "--json"), "/v1/usage/spend-trend", datetime.timedelta(days=7)),
    ):  # fmt: skip
        before = len(gw.requests)
        now = datetime.datetime.now(datetime.timezone.utc)
        result = run(*argv)
        assert result.code == 0, result.err
        json.loads(result.out)
        start = _since_sent(gw, before, path)
        assert abs((now - span - start).total_seconds()) <= 5


def test_usage_window_totals_and_per_model(gw: Any, run: Run) -> None:
    gw.reset(requests=True)
    assert run("chat", "-m", MODEL, "--max-tokens", "5", "one").code == 0
    summary = json.loads(run("usage", "--window", "1h", "--json").out)
    assert summary["total_requests"] == 1 and summary["by_model"][0]["model"] == MODEL
    future = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)).isoformat()
    assert json.loads(run("usage", "--since", future, "--json").out)["total_requests"] == 0
    lines = run("usage", "--window", "1h").out.splitlines()
    assert lines[0] == "requests    1 (1 ok, 0 failed)" and lines[-1].split()[:2] == [MODEL, "1"]


def test_usage_window_errors(gw: Any, run: Run) -> None:
    before = len(gw.requests)
    both = run("usage", "--window", "1h", "--since", "2026-01-01")
    assert both.code == 2 and both.err_lines == ["meshapi: give either --window or --since, not both"]
    bad = run("usage", "--window", "5y")
    assert bad.code == 2 and bad.err_lines[-1].startswith(
        "meshapi usage: error: argument --window: must be a number"
    )
    assert len(gw.requests) == before
