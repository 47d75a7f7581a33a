"""The guided tour, end to end (bounded in time)."""

from __future__ import annotations

import json
import time
from typing import Any, Callable

import pytest

from meshapi.cli import _demo
from meshapi.cli._demo import STEP_TITLES

from .conftest import Result

Run = Callable[..., Result]


@pytest.fixture(autouse=True)
def _temp_images(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))


def _headings(result: Result) -> None:
    for number, title in enumerate(STEP_TITLES, 1):
        assert f"[{number}/{len(STEP_TITLES)}] {title}" in result.out


def test_demo_with_its_own_gateway(
    run: Run, monkeypatch: pytest.MonkeyPatch, sentinel: Any, tmp_path: Any
) -> None:
    pytest.importorskip("meshapi_gateway")
    # Exported settings (here: a "real" gateway and key) are not enough to leave the local gateway.
    monkeypatch.setenv("MESHAPI_BASE_URL", sentinel.url)
    monkeypatch.setenv("MESHAPI_TOKEN", "rsk_pretend_this_is_a_real_key")
    started = time.monotonic()
    result = run("demo")
    elapsed = time.monotonic() - started
    assert result.code == 0, result.err
    _headings(result)
    assert "MeshAPI tour against a local gateway started for this demo (http://127.0.0.1:" in result.out
    assert "the gateway saw 2 attempts" in result.out
    assert f"All {len(STEP_TITLES)} steps passed" in result.out
    assert "wrote lighthouse.png (" in result.out
    assert sentinel.connections() == 0
    assert list(tmp_path.iterdir()) == [], "the demo left files behind"
    assert elapsed < 45


def test_demo_token_alone_is_the_local_gateway_token(run: Run, sentinel: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("MESHAPI_BASE_URL", sentinel.url)
    result = run("--json", "demo", "--token", "rsk_my_local_token")
    assert result.code == 0, result.err
    assert json.loads(result.out)["ok"] is True
    assert sentinel.connections() == 0


def test_demo_against_a_running_gateway_json(gw: Any, run: Run) -> None:
    result = run("demo", "--base-url", gw.base_url, "--token", gw.token, "--json")
    document = json.loads(result.out)
    assert result.code == 0, result.err
    assert document["ok"] is True
    assert [step["title"] for step in document["steps"]] == STEP_TITLES


def test_demo_remote_skips_fault_injection(gw: Any, run: Run) -> None:
    result = run("demo", "--base-url", gw.base_url)  # the token comes from MESHAPI_TOKEN
    assert result.code == 0, result.err
    _headings(result)
    assert "fault plans are a local-gateway feature" in result.out


def test_demo_failed_step_is_named(gw: Any, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(tour: Any) -> None:
        tour.client.chat.completions.create(model="nosuch/model", messages=[{"role": "user", "content": "x"}])

    title, explanation, _ = _demo.STEPS[1]
    steps = list(_demo.STEPS)
    steps[1] = (title, explanation, broken)
    monkeypatch.setattr(_demo, "STEPS", steps)
    result = run("demo")
    assert result.code == 1
    assert "[2/" in result.out and "[3/" not in result.out
    assert result.err_lines[-1].startswith(
        "meshapi: demo step 2 (Chat) failed: ModelNotFoundError"
    )  # a NotFoundError for model_not_found
