"""``meshapi api-versions`` and the global ``--api-version`` against the local gateway, in process:
the table and JSON, the pin each run sends (the gateway's request log), ``none``, bad labels (exit 2)
and an unserved one (exit 1 with the served list)."""

from __future__ import annotations

import json
import sys
from typing import Any, Callable, List, Optional

import pytest

from .conftest import Result

Run = Callable[..., Result]


def last_versions(gw: Any, count: int) -> List[Optional[str]]:
    return [r.headers.get("x-mesh-version") for r in list(gw.requests)[-count:]]


def test_the_table_and_the_pin(gw: Any, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "rich", None)  # plain text: exact lines
    result = run("api-versions")
    assert result.code == 0, result.err
    lines = [line.split() for line in result.out.splitlines()]
    assert lines[0] == ["label", "baseline", "latest", "status", "sunset", "capabilities"]
    assert lines[2:] == [
        ["2026-08", "yes", "ga", "-", "-"],
        ["2026-09", "yes", "ga", "-", "video.poll_by_request_id"],
    ]
    assert result.err_lines == [
        "this run pins 2026-08 (this SDK's default); change it with --api-version LABEL"
    ]
    assert last_versions(gw, 1) == ["2026-08"]


def test_json_and_the_global_option_before_or_after_the_command(gw: Any, run: Run) -> None:
    before = run("--api-version", "2026-09", "api-versions", "--json")
    assert before.code == 0, before.err
    assert [(e["label"], e["baseline"], e["latest"]) for e in json.loads(before.out)] == [
        ("2026-08", True, False),
        ("2026-09", False, True),
    ]
    assert before.err == ""  # --json: nothing else
    after = run("models", "--api-version", "2026-09", "--json")
    assert after.code == 0, after.err
    unpinned = run("api-versions", "--api-version", "NONE")
    assert unpinned.code == 0, unpinned.err
    assert unpinned.err_lines == ["this run sends no X-Mesh-Version: the gateway's baseline is served"]
    assert last_versions(gw, 3) == ["2026-09", "2026-09", None]


@pytest.mark.parametrize("label", ["", "2026-13", "2026-8", "latest"])
def test_a_bad_label_is_a_usage_error(gw: Any, run: Run, label: str) -> None:
    count = len(gw.requests)
    result = run("models", "--api-version", label)
    assert result.code == 2
    assert result.err_lines[-1] == (
        "meshapi models: error: argument --api-version: must be a version label such as 2026-08 (YYYY-MM) "
        f"or none, got {label!r}"
    )
    assert len(gw.requests) == count  # nothing sent


def test_an_unserved_version_names_the_served_ones(gw: Any, run: Run) -> None:
    result = run("models", "--api-version", "1999-01")
    assert result.code == 1
    (line,) = result.err_lines
    assert line.startswith(
        "meshapi: listing models failed: InvalidAPIVersionError: API version '1999-01' is not served. "
        "Supported: 2026-08, 2026-09. (code: invalid_api_version, HTTP 400, request id: req_"
    )
    assert line.endswith(
        "); this gateway serves 2026-08, 2026-09; pick one with --api-version LABEL (or none)"
    )
