"""``python -m benchmarks --quick`` runs end to end (a smoke test: no timing is asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_quick_benchmarks_run(tmp_path: Path) -> None:
    output = tmp_path / "quick.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "| figure | variant |" in done.stdout
    result = json.loads(output.read_text())
    assert result["quick"] is True
    cases = {figure["case"] for figure in result["figures"]}
    assert cases == {
        "sync_chat",
        "async_chat",
        "async_cpu",
        "reuse",
        "cold",
        "stream",
        "rss",
        "import",
        "sse",
        "structured_stream",
        "structured_call",
    }
    for figure in result["figures"]:
        for variant in figure["variants"].values():
            assert variant["value"] > 0
    reuse = next(figure for figure in result["figures"] if figure["case"] == "reuse")
    assert reuse["variants"]["sdk"]["value"] == 1  # ten streams, one connection
    assert reuse["variants"]["sdk_async"]["value"] == 1
