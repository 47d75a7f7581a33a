"""``meshapi usage`` (summary, events, attempts, trend, rate-limits) and ``meshapi balance`` against the
local gateway, in process: exact plain lines and JSON with money as strings, computed from calls made
just before (the gateway's usage and balances are reset first), and usage errors (exit 2)."""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from typing import Any, Callable, Iterator, List

import pytest

from meshapi import MeshAPI

from .conftest import Result

Run = Callable[..., Result]
MODEL = "openai/gpt-4o-mini"


@pytest.fixture
def served(gw: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[List[Any]]:
    """Two chat calls on a gateway whose usage and balances start from zero; their usage objects."""
    monkeypatch.setitem(sys.modules, "rich", None)  # plain text: exact lines
    gw.reset(requests=True)
    with MeshAPI(base_url=gw.base_url, token=gw.token) as client:
        raws = [client.chat.completions.with_raw_response.create(model=MODEL, messages=[
            {"role": "user", "content": text}]) for text in ("one", "two three")]  # fmt: skip
        yield [(raw.request_id, raw.parse().usage) for raw in raws]
    gw.reset(requests=True)


def cost(usage: Any) -> Decimal:
    return (Decimal("0.00015") * usage.prompt_tokens + Decimal("0.0006") * usage.completion_tokens) / 1000


def test_usage_summary_lines(run: Run, served: List[Any]) -> None:
    tokens = [u.total_tokens for _, u in served]
    spent = sum((cost(u) for _, u in served), Decimal(0))
    prompt = sum(u.prompt_tokens for _, u in served)
    result = run("usage")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[:2] == [
        "requests    2 (2 ok, 0 failed)",
        f"tokens      {sum(tokens)} ({prompt} in, {sum(tokens) - prompt} out)",
    ]
    assert lines[2].startswith("cost (USD)  ") and Decimal(lines[2].split()[-1]) == spent
    row = lines[5].split()
    assert row[:3] == [MODEL, "2", str(sum(tokens))] and Decimal(row[3]) == spent
    as_json = json.loads(run("usage", "--json").out)
    assert Decimal(as_json["total_cost_usd"]) == spent and as_json["by_model"][0]["requests"] == 2


def test_usage_events_and_attempts(run: Run, served: List[Any]) -> None:
    result = run("usage", "events", "--json")
    assert result.code == 0 and result.err == ""
    page = json.loads(result.out)
    assert [(e["request_id"], Decimal(e["cost_usd"])) for e in page["events"]] == [
        (rid, cost(u)) for rid, u in reversed(served)]  # fmt: skip
    assert all(isinstance(e["cost_usd"], str) for e in page["events"])
    plain = run("usage", "events", "--limit", "1")
    assert plain.out.splitlines()[2].split()[-1] == served[-1][0] and plain.err_lines == ["1 of 2 events"]
    first = page["events"][-1]["id"]
    attempts = run("usage", "attempts", first)
    assert attempts.code == 0 and [line.split()[0] for line in attempts.out.splitlines()[2:]] == [first]
    assert run("usage", "events", "--status", "error", "--json").out.count('"id"') == 0


def test_trend_and_rate_limits(run: Run, served: List[Any]) -> None:
    trend = json.loads(run("usage", "trend", "--granularity", "hour", "--json").out)
    assert len(trend["buckets"]) == 24
    assert Decimal(trend["total_cost_usd"]) == sum((cost(u) for _, u in served), Decimal(0))
    limits = run("usage", "rate-limits")
    rows = [line.split("  ") for line in limits.out.splitlines()[2:]]
    assert [[cell.strip() for cell in row if cell.strip()][:3] for row in rows] == [
        ["requests/minute", "4", "no limit"],  # two calls, the trend and this one
        ["requests/day", "4", "no limit"],
        ["tokens/minute", str(sum(u.total_tokens for _, u in served)), "no limit"],
    ]


def test_balance(run: Run, served: List[Any]) -> None:
    left = Decimal(1000) - sum((cost(u) for _, u in served), Decimal(0))
    result = run("balance")
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        f"balance (USD)    {left}",
        "reserved (USD)   0.000000",
        f"available (USD)  {left}",
    ]
    assert result.err_lines == ["Funds available."]
    as_json = json.loads(run("balance", "--json").out)
    assert (as_json["balance_usd"], as_json["available_usd"], as_json["reserved_breakdown"]) == (
        str(left),
    ) * 2 + ({},)


def test_bad_arguments_are_usage_errors(gw: Any, run: Run) -> None:
    count = len(gw.requests)
    cases = [
        (("usage", "events", "--status", "ok"),
         "meshapi usage events: error: argument --status: invalid choice: 'ok'"),
        (("usage", "trend", "--granularity", "week"),
         "meshapi usage trend: error: argument --granularity: invalid choice: 'week'"),
        (("usage", "attempts"), "meshapi usage attempts: error: the following arguments are required: EVENT_ID"),
    ]  # fmt: skip
    for argv, line in cases:  # the choices' spelling after the line varies between Python versions
        result = run(*argv)
        assert result.code == 2 and result.err_lines[-1].startswith(line), result.err
    assert len(gw.requests) == count
