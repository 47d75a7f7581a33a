"""Run every benchmark, print the table, write JSON: ``python -m benchmarks [--quick] [--repeats N]``.

Each trial is a fresh ``python -m benchmarks.workloads`` process against one server process
(``benchmarks/server.py``), so neither shares the GIL or memory with the client measured. The variants of
a figure are interleaved (raw, sdk, raw, sdk, ...) and each figure is the median of its repeats; ratios
are SDK / raw httpx from the same run (for import time and RSS, lower is better, so the ratio is the
SDK's cost relative to httpx's). Where a figure has a ``floor`` variant (raw httpx plus minimal pydantic
models validated from bytes: ``benchmarks/floor.py``), a second ratio is to that typed floor. ``--quick`` uses tiny sizes and one repeat: a smoke test that checks
that everything runs, not a measurement. Results go to ``benchmarks/results/`` (gitignored).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

__all__ = ["main"]

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Figure:
    """One row group: a case, its variants, a size, what the value means, and the targets."""

    name: str
    case: str
    variants: List[str]
    size: int
    unit: str
    higher_is_better: bool = True
    targets: Dict[str, float] = field(default_factory=dict)  # variant -> minimum (or maximum) ratio
    floor_targets: Dict[str, float] = field(default_factory=dict)  # the same, as a ratio to ``floor``
    extra: List[str] = field(default_factory=list)  # more result keys to show (medians)
    value_key: str = "value"
    #: the server module its trials talk to (``benchmarks.http2``: the gateway over TLS, HTTP/2 and 1.1)
    server: str = "benchmarks.server"


def figures(quick: bool) -> List[Figure]:
    small = quick
    return [
        Figure(
            "sync sequential chat completions",
            "sync_chat",
            ["raw", "floor", "sdk"],
            200 if small else 3000,
            "req/s",
            targets={"sdk": 0.95},
        ),
        Figure(
            "async chat completions, 64 concurrent",
            "async_chat",
            ["raw", "floor", "sdk", "sdk_aiohttp", "raw_keepalive64", "raw_lean", "raw_aiohttp"],
            256 if small else 3000,
            "req/s",
            targets={"sdk": 1.0, "sdk_aiohttp": 5.0},
        ),
        Figure(
            "client CPU per async call, 64 concurrent",
            "async_cpu",
            ["raw", "sdk", "raw_lean"],
            256 if small else 3000,
            "us",
            higher_is_better=False,
            targets={"sdk": 1.05},
            extra=["req_per_s"],
        ),
        Figure(
            "connections used by 10 streams on one warm client",
            "reuse",
            ["raw", "sdk", "sdk_async"],
            20 if small else 200,
            "conns",
            higher_is_better=False,
            targets={"sdk": 1.0, "sdk_async": 1.0},
        ),
        Figure(
            "cold start: import + client + first call (whole process)",
            "cold",
            ["httpx", "floor", "meshapi"],
            0,
            "ms",
            higher_is_better=False,
            targets={"meshapi": 1.6},
            floor_targets={"meshapi": 1.10},
            extra=["min_ms"],
        ),
        Figure(
            "one long chat stream",
            "stream",
            ["raw", "floor", "sdk", "sdk_text"],
            2_000 if small else 100_000,
            "chunks/s",
            targets={"sdk": 0.95, "sdk_text": 1.0},
            floor_targets={"sdk": 1.0},
            extra=["mb_per_s", "ttfc_ms"],
        ),
        Figure(
            "peak RSS, 200,000-chunk stream",
            "rss",
            ["raw", "raw_discard", "floor", "sdk", "sdk_text"],
            5_000 if small else 200_000,
            "MB",
            higher_is_better=False,
            targets={"sdk": 1.25, "sdk_text": 1.25},
            floor_targets={"sdk": 1.05},
            extra=["rss_before_mb", "stream_delta_mb", "growth_mb"],
        ),
        Figure(
            "import time (fresh interpreter)",
            "import",
            ["httpx", "meshapi", "meshapi_client", "meshapi_first_call"],
            0,
            "ms",
            higher_is_better=False,
            targets={"meshapi": 1.5},
        ),
        Figure(
            "structured stream: events() beside plain iteration (no sockets)",
            "structured_stream",
            ["iterate", "events", "events_unread", "parsing_alone"],
            500 if small else 4_000,
            "chunks/s",
            extra=["us_per_chunk", "answer_kb"],
        ),
        Figure(
            "structured call: parse() beside create() (no sockets)",
            "structured_call",
            ["create", "parse"],
            200 if small else 3_000,
            "calls/s",
            extra=["us_per_call"],
        ),
        Figure(
            "1,000 with_options() copies of one client (kept alive)",
            "with_options",
            ["sdk", "sdk_async"],
            50 if small else 1_000,
            "us/copy",
            higher_is_better=False,
            extra=["kb_each"],
        ),
        Figure(
            "100 clients in one process (kept alive)",
            "clients",
            ["raw", "sdk"],
            10 if small else 100,
            "us/client",
            higher_is_better=False,
            extra=["kb_each"],
        ),
        Figure(
            "a client's idle cost: CPU while idle after one call",
            "idle",
            ["raw", "sdk"],
            50 if small else 1_000,
            "us",
            higher_is_better=False,
            extra=["idle_ms", "threads"],
        ),
        Figure(
            "SSE decoding alone, chat-sized events",
            "sse",
            ["small"],
            20_000 if small else 200_000,
            "events/s",
            extra=["mb_per_s"],
        ),
        Figure(
            "SSE decoding alone, one huge event",
            "sse",
            ["huge_1", "huge_10"] if small else ["huge_1", "huge_10", "huge_100"],
            0,
            "ms/MB",
            higher_is_better=False,
            extra=["seconds", "mb_per_s"],
            value_key="ms_per_mb",
        ),
        Figure(
            "async chat over TLS, 64 concurrent: HTTP/2 beside HTTP/1.1 (gateway under hypercorn)",
            "http2_chat",
            ["raw_http1", "raw_http2", "sdk_http1", "sdk_http2"],
            128 if small else 1_000,
            "req/s",
            extra=["connections", "cpu_us"],
            server="benchmarks.http2",
        ),
    ]


class Server:
    """``benchmarks.server`` (or another ``module``) in a subprocess on 127.0.0.1; ``env``: what its
    trials need (``SSL_CERT_FILE`` when it prints ``PORT <n> CERT <file>``)."""

    def __init__(self, module: str = "benchmarks.server") -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", module],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.startswith("PORT "):
            self.close()
            raise RuntimeError(f"benchmark server did not start: {line!r}")
        words = line.split()
        self.port = int(words[1])
        self.env = {"SSL_CERT_FILE": words[3]} if words[2:3] == ["CERT"] else {}

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


def trial(
    case: str, variant: str, port: int, size: int, timeout: float, extra_env: Optional[Dict[str, str]] = None
) -> Dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.workloads", case, variant, "--port", str(port)]
    command += ["--size", str(size)]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **(extra_env or {})}
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"{case}/{variant} failed:\n{done.stderr[-2000:]}")
    result: Dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def measure(figure: Figure, server: Server, repeats: int, timeout: float) -> Dict[str, Any]:
    runs: Dict[str, List[Dict[str, Any]]] = {variant: [] for variant in figure.variants}
    for _ in range(repeats):
        for variant in figure.variants:  # interleaved, so drift hits every variant alike
            runs[variant].append(trial(figure.case, variant, server.port, figure.size, timeout, server.env))
    summary: Dict[str, Any] = {}
    for variant, results in runs.items():
        row: Dict[str, Any] = {"value": _median([r[figure.value_key] for r in results])}
        for key in figure.extra:
            if key in results[0]:
                row[key] = _median([r[key] for r in results])
        if "samples_mb" in results[0]:
            row["samples_mb"] = results[len(results) // 2]["samples_mb"]
        row["runs"] = results
        summary[variant] = row
    base = summary[figure.variants[0]]["value"]
    floor = summary["floor"]["value"] if "floor" in summary else None
    for variant in figure.variants:
        row = summary[variant]
        row["ratio"] = row["value"] / base if base else None
        row["floor_ratio"] = row["value"] / floor if floor else None
        values = [r[figure.value_key] for r in row["runs"]]
        row["range"] = [min(values), max(values)]
    return summary


def _format(value: Optional[float]) -> str:
    if value is None:
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _judge(figure: Figure, ratio: Optional[float], target: Optional[float]) -> Tuple[str, str]:
    """The target text and whether ``ratio`` met it ("" when there is no target)."""
    if target is None or ratio is None:
        return "", ""
    if figure.higher_is_better:
        return f">= {target}", "yes" if ratio >= target else "NO"
    return f"<= {target}", "yes" if ratio <= target else "NO"


def table(results: List[Dict[str, Any]]) -> str:
    """The Markdown table: per variant the median, its range over the repeats, the ratio to raw httpx and
    the ratio to the typed floor (where the figure has one), each with its target."""
    lines = [
        "| figure | variant | median | range | unit | ratio | target | met | vs floor | target | met | details |",
        "| --- | --- | ---: | ---: | --- | ---: | --- | --- | ---: | --- | --- | --- |",
    ]
    for entry in results:
        figure: Figure = entry["figure"]
        for variant in figure.variants:
            row = entry["summary"][variant]
            ratio, floor_ratio = row["ratio"], row.get("floor_ratio")
            target_text, met = _judge(figure, ratio, figure.targets.get(variant))
            floor_text, floor_met = _judge(figure, floor_ratio, figure.floor_targets.get(variant))
            low, high = row.get("range") or (row["value"], row["value"])
            details = ", ".join(f"{key} {_format(row[key])}" for key in figure.extra if key in row)
            lines.append(
                f"| {figure.name} | {variant} | {_format(row['value'])} | {_format(low)}-{_format(high)} | "
                f"{figure.unit} | {_format(ratio) if variant != figure.variants[0] else '1.00'} | "
                f"{target_text} | {met} | {_format(floor_ratio)} | {floor_text} | {floor_met} | {details} |"
            )
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one repeat: a smoke test")
    parser.add_argument("--repeats", type=int, default=None, help="interleaved repeats (default 5, quick 1)")
    parser.add_argument("--only", default="", help="comma-separated cases to run (e.g. stream,rss)")
    parser.add_argument("--output", default=None, help="JSON file (default benchmarks/results/<time>.json)")
    args = parser.parse_args(argv)
    repeats = args.repeats or (1 if args.quick else 5)
    timeout = 60.0 if args.quick else 300.0
    selected = [f for f in figures(args.quick) if not args.only or f.case in args.only.split(",")]
    if not args.only:  # the HTTP/2 figure: named with --only, or in a full run where hypercorn and h2 are
        from .http2 import available

        selected = [f for f in selected if f.case != "http2_chat" or (not args.quick and available())]
    started = time.time()
    servers: Dict[str, Server] = {}
    results: List[Dict[str, Any]] = []
    try:
        for figure in selected:
            print(
                f"... {figure.name} ({len(figure.variants)} variants x {repeats})",
                file=sys.stderr,
                flush=True,
            )
            if figure.server not in servers:
                servers[figure.server] = Server(figure.server)
            results.append(
                {"figure": figure, "summary": measure(figure, servers[figure.server], repeats, timeout)}
            )
    finally:
        for server in servers.values():
            server.close()
    text = table(results)
    print(text)
    output = Path(args.output) if args.output else RESULTS / time.strftime("%Y%m%d-%H%M%S.json")
    output.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "quick": args.quick,
        "repeats": repeats,
        "seconds": time.time() - started,
        "python": sys.version,
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "figures": [
            {
                "name": entry["figure"].name,
                "case": entry["figure"].case,
                "size": entry["figure"].size,
                "unit": entry["figure"].unit,
                "targets": entry["figure"].targets,
                "floor_targets": entry["figure"].floor_targets,
                "variants": entry["summary"],
            }
            for entry in results
        ],
        "table": text,
    }
    output.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"\nwrote {output} ({payload['seconds']:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
