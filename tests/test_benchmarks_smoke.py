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
        "with_options",
        "clients",
        "idle",
    }
    for figure in result["figures"]:
        for variant in figure["variants"].values():
            assert variant["value"] > 0 or figure["case"] == "idle"  # idle: no CPU at all is the aim
    reuse = next(figure for figure in result["figures"] if figure["case"] == "reuse")
    assert reuse["variants"]["sdk"]["value"] == 1  # ten streams, one connection
    assert reuse["variants"]["sdk_async"]["value"] == 1
    copies = next(figure for figure in result["figures"] if figure["case"] == "with_options")
    assert copies["variants"]["sdk"]["runs"][0]["count"] == 50
    assert copies["variants"]["sdk"]["kb_each"] > 0
    idle = next(figure for figure in result["figures"] if figure["case"] == "idle")
    assert idle["variants"]["sdk"]["threads"] == idle["variants"]["raw"]["threads"] == 1
    floored = {figure["case"] for figure in result["figures"] if "floor" in figure["variants"]}
    assert floored == {"sync_chat", "async_chat", "cold", "stream", "rss"}
    for figure in result["figures"]:
        if figure["case"] in floored:
            for variant in figure["variants"].values():
                assert variant["floor_ratio"] == variant["value"] / figure["variants"]["floor"]["value"]
                low, high = variant["range"]
                assert low <= variant["value"] <= high


def test_floor_reads_data_lines_across_any_cut() -> None:
    from benchmarks.floor import Chunk, iter_data
    from benchmarks.server import build_event

    body = build_event(0) + b": keep-alive\n\n" + build_event(1) + b"data:[DONE]\n\n" + build_event(2)
    for cut in range(1, len(body)):
        datas = list(iter_data([body[:cut], body[cut:]]))
        assert [Chunk.model_validate_json(d).choices[0].delta.content for d in datas] == [
            "tok0000 ",
            "tok0001 ",
        ]


def test_table_shows_both_ratios() -> None:
    from benchmarks.run import Figure, table

    figure = Figure("f", "stream", ["raw", "floor", "sdk"], 1, "chunks/s", floor_targets={"sdk": 1.0})
    runs = {"raw": [100.0, 110.0], "floor": [80.0, 90.0], "sdk": [85.0, 95.0]}
    summary = {
        name: {"value": (a + b) / 2, "runs": [{"value": a}, {"value": b}]} for name, (a, b) in runs.items()
    }
    for row in summary.values():
        row["ratio"], row["floor_ratio"] = row["value"] / 105.0, row["value"] / 85.0
        row["range"] = [row["runs"][0]["value"], row["runs"][1]["value"]]
    lines = table([{"figure": figure, "summary": summary}]).splitlines()
    assert lines[0].count("met") == 2 and "vs floor" in lines[0]
    assert lines[4] == "| f | sdk | 90.0 | 85.0-95.0 | chunks/s | 0.86 |  |  | 1.06 | >= 1.0 | yes |  |"


def test_quick_http2_benchmark_runs(tmp_path: Path) -> None:
    """The HTTP/2 figure (left out of ``--quick`` unless named): both protocols over TLS; one connection on HTTP/2."""
    for name in ("hypercorn", "h2", "cryptography"):
        pytest.importorskip(name)
    output = tmp_path / "http2.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", "http2_chat", "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (figure,) = json.loads(output.read_text())["figures"]
    variants = figure["variants"]
    assert list(variants) == ["raw_http1", "raw_http2", "sdk_http1", "sdk_http2"]
    assert all(variant["value"] > 0 for variant in variants.values())
    assert variants["sdk_http2"]["connections"] == 1  # 64 concurrent calls, one HTTP/2 connection
    assert variants["sdk_http1"]["connections"] == 64
