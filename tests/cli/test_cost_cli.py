"""``meshapi cost REQUEST_ID...`` against the local gateway, in process: each id's cost exactly as its
usage event says, ids not found marked as estimates (unknown cost), JSON with money as strings, and a
missing id a usage error (exit 2)."""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from typing import Any, Callable, Iterator, List, Tuple

import pytest

from meshapi import MeshAPI

from .conftest import Result

Run = Callable[..., Result]
MODEL = "openai/gpt-4o-mini"


@pytest.fixture
def served(gw: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[List[Tuple[str, Decimal]]]:
    """Two chat calls on a gateway whose usage starts from zero: their request ids and event costs."""
    monkeypatch.setitem(sys.modules, "rich", None)  # plain text: exact lines
    gw.reset(requests=True)
    with MeshAPI(base_url=gw.base_url, token=gw.token) as client:
        ids = [
            client.chat.completions.with_raw_response.create(
                model=MODEL, messages=[{"role": "user", "content": text}]
            ).request_id
            for text in ("one", "two three")
        ]  # only these: work another test left running may be billed meanwhile
        costs = {e.request_id: e.cost_usd or Decimal(0) for e in client.usage.events(limit=200).events}
        yield [(rid, costs[rid]) for rid in ids]
    gw.reset(requests=True)


def test_cost_lines_and_estimates(run: Run, served: List[Tuple[str, Decimal]]) -> None:
    (first, first_cost), (second, second_cost) = served
    result = run("cost", second, "req_not_served", first)
    assert result.code == 0, result.err
    rows = [line.split() for line in result.out.splitlines()[2:]]
    assert rows == [
        [second, MODEL, str(second_cost), "usage", "event"],
        ["req_not_served", "-", "unknown", "estimate"],
        [first, MODEL, str(first_cost), "usage", "event"],
    ]
    assert result.err_lines == ["1 of 3 not found in the usage events (1 page read)"]
    as_json = json.loads(run("cost", first, "req_not_served", "--json").out)
    assert as_json["costs"] == [
        {"request_id": first, "cost_usd": str(first_cost), "estimated": False, "model": MODEL,
         "prompt_tokens": as_json["costs"][0]["prompt_tokens"], "completion_tokens":
         as_json["costs"][0]["completion_tokens"], "status": "success", "event_id": as_json["costs"][0]["event_id"]},
        {"request_id": "req_not_served", "estimated": True},
    ]  # fmt: skip
    assert Decimal(as_json["costs"][0]["cost_usd"]) > 0 and as_json["pages_read"] == 1


def test_cost_needs_an_id(gw: Any, run: Run) -> None:
    count = len(gw.requests)
    result = run("cost")
    assert result.code == 2
    assert result.err_lines[-1] == "meshapi cost: error: the following arguments are required: REQUEST_ID"
    assert len(gw.requests) == count
