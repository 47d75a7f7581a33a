"""A bounded soak of the SDK against the local gateway: many calls and streams, at high concurrency.

Run in CI at a small size by tests/faults/test_soak.py; run full size by hand::

    python -m tests.faults.soak --full          # 4000 calls + 400 streams per mode, concurrency 64
    python -m tests.faults.soak --calls 1000 --streams 100 --concurrency 32

Each mode (sync: threads sharing one ``MeshAPI``; async: tasks sharing one ``AsyncMeshAPI``) runs twice:
a warm-up round, then the measured round. Within a round, calls go first, with some 503s injected
(retried, so they still succeed), then streams, with a few connections dropped mid-way (those fail
with ``StreamInterruptedError``). Every request carries a unique marker in its prompt. Checks:

* every call succeeds or raises a ``MeshAPIError`` subclass, and only the injected drops fail;
* no response is mixed up with another: the request id on each reply names the request the gateway
  logged with *that* marker, and the answer equals the one the same prompt gets when sent alone;
* after the measured round, RSS grew by less than a bound over the warm-up round, and open file
  descriptors and threads are back to their baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from meshapi import AsyncMeshAPI, MeshAPI, MeshAPIError

__all__ = ["FULL", "SMALL", "SoakReport", "SoakSize", "main", "run_soak"]

CHAT = "/v1/chat/completions"
MODEL = "openai/gpt-4o-mini"
# near-zero backoff; enough retries that no request can meet all the injected 503s in a row
FAST = {"retry_initial_delay": 0.0, "retry_max_delay": 0.0, "max_retries": 30}


@dataclass(frozen=True)
class SoakSize:
    calls: int
    streams: int
    concurrency: int
    injected_503: int
    injected_drops: int
    rss_growth_limit_mib: float


SMALL = SoakSize(
    calls=240, streams=48, concurrency=64, injected_503=12, injected_drops=4, rss_growth_limit_mib=40
)
FULL = SoakSize(
    calls=4000, streams=400, concurrency=64, injected_503=100, injected_drops=20, rss_growth_limit_mib=64
)


@dataclass
class SoakReport:
    mode: str
    size: SoakSize
    ok: int = 0
    typed_failures: Dict[str, int] = field(default_factory=dict)
    untyped: List[str] = field(default_factory=list)
    mixups: List[str] = field(default_factory=list)
    seconds: float = 0.0
    rss_growth_mib: float = 0.0
    fd_before: int = 0
    fd_after: int = 0
    threads_before: int = 0
    threads_after: int = 0

    def problems(self) -> List[str]:
        found = [f"untyped: {u}" for u in self.untyped[:5]] + [f"mixed up: {m}" for m in self.mixups[:5]]
        expected = self.size.calls + self.size.streams
        failed = sum(self.typed_failures.values())
        if self.ok + failed != expected:
            found.append(f"{self.ok} ok + {failed} failed != {expected} requests")
        if set(self.typed_failures) - {"StreamInterruptedError"}:
            found.append(f"unexpected failures: {self.typed_failures}")
        if self.typed_failures.get("StreamInterruptedError", 0) > self.size.injected_drops:
            found.append(f"more interrupted streams than drops injected: {self.typed_failures}")
        if self.rss_growth_mib > self.size.rss_growth_limit_mib:
            found.append(f"RSS grew {self.rss_growth_mib:.1f} MiB (limit {self.size.rss_growth_limit_mib})")
        if self.fd_after > self.fd_before:
            found.append(f"open fds {self.fd_after} > baseline {self.fd_before}")
        if self.threads_after > self.threads_before:
            found.append(f"threads {self.threads_after} > baseline {self.threads_before}")
        return found

    def summary(self) -> str:
        return (
            f"{self.mode}: {self.size.calls} calls + {self.size.streams} streams at concurrency "
            f"{self.size.concurrency} in {self.seconds:.2f}s; ok={self.ok} failures={self.typed_failures} "
            f"rss+{self.rss_growth_mib:.1f}MiB fds {self.fd_before}->{self.fd_after} "
            f"threads {self.threads_before}->{self.threads_after}"
        )


def rss_mib() -> float:
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:  # not Linux: peak RSS is the best we have
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fd_count() -> int:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return 0


def messages_for(marker: str) -> List[Dict[str, str]]:
    return [{"role": "user", "content": f"Soak request {marker}: say something about the sea."}]


def answer_of(reply: Any) -> str:
    return str(reply.choices[0].message.content)


def text_of(chunks: Sequence[Any]) -> str:
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices and c.choices[0].delta)


# An outcome: (kind, marker, request id, answer) or (kind, marker, error class name, "")
Outcome = Tuple[str, str, str, str]


def _classify(kind: str, marker: str, exc: BaseException, report: SoakReport) -> Outcome:
    if isinstance(exc, MeshAPIError):
        name = type(exc).__name__
        report.typed_failures[name] = report.typed_failures.get(name, 0) + 1
        return (kind, marker, name, "")
    report.untyped.append(f"{kind} {marker}: {type(exc).__name__}: {exc}")
    return (kind, marker, "untyped", "")


def _sync_one(client: MeshAPI, kind: str, marker: str, report: SoakReport) -> Outcome:
    try:
        if kind == "call":
            reply = client.chat.completions.create(model=MODEL, messages=messages_for(marker), max_tokens=24)
            return (kind, marker, reply._request_id or "", answer_of(reply))
        stream = client.chat.completions.stream(model=MODEL, messages=messages_for(marker), max_tokens=24)
        with stream:
            chunks = list(stream)
        return (kind, marker, stream.request_id or "", text_of(chunks))
    except BaseException as exc:
        return _classify(kind, marker, exc, report)


async def _async_one(client: AsyncMeshAPI, kind: str, marker: str, report: SoakReport) -> Outcome:
    try:
        if kind == "call":
            reply = await client.chat.completions.create(
                model=MODEL, messages=messages_for(marker), max_tokens=24
            )
            return (kind, marker, reply._request_id or "", answer_of(reply))
        stream = client.chat.completions.stream(model=MODEL, messages=messages_for(marker), max_tokens=24)
        async with stream:
            chunks = [c async for c in stream]
        return (kind, marker, stream.request_id or "", text_of(chunks))
    except Exception as exc:
        return _classify(kind, marker, exc, report)


def _run_sync(gateway: Any, jobs: List[Tuple[str, str]], size: SoakSize, report: SoakReport) -> List[Outcome]:
    outcomes: List[Outcome] = []
    with MeshAPI(base_url=gateway.base_url, token=gateway.token, **FAST) as client:
        for kind in ("call", "stream"):
            _inject(gateway, kind, size)
            batch = [marker for k, marker in jobs if k == kind]
            with ThreadPoolExecutor(max_workers=size.concurrency, thread_name_prefix="soak") as pool:
                outcomes += list(pool.map(lambda m, k=kind: _sync_one(client, k, m, report), batch))
            gateway.faults.clear()
    return outcomes


def _run_async(
    gateway: Any, jobs: List[Tuple[str, str]], size: SoakSize, report: SoakReport
) -> List[Outcome]:
    async def run() -> List[Outcome]:
        outcomes: List[Outcome] = []
        gate = asyncio.Semaphore(size.concurrency)

        async def bounded(client: AsyncMeshAPI, kind: str, marker: str) -> Outcome:
            async with gate:
                return await _async_one(client, kind, marker, report)

        async with AsyncMeshAPI(base_url=gateway.base_url, token=gateway.token, **FAST) as client:
            for kind in ("call", "stream"):
                _inject(gateway, kind, size)
                batch = [marker for k, marker in jobs if k == kind]
                outcomes += await asyncio.gather(*(bounded(client, kind, m) for m in batch))
                gateway.faults.clear()
        return outcomes

    return asyncio.run(run())


def _inject(gateway: Any, kind: str, size: SoakSize) -> None:
    gateway.faults.clear()
    if kind == "call" and size.injected_503:
        gateway.faults.add(CHAT, status=503, times=size.injected_503)
    if kind == "stream" and size.injected_drops:
        gateway.faults.add(CHAT, drop_after_events=1, times=size.injected_drops)


def _references(gateway: Any, markers: Sequence[str]) -> Dict[str, Tuple[str, str]]:
    """The answer each prompt gets when sent alone (sequentially, no faults): (plain, streamed)."""
    answers: Dict[str, Tuple[str, str]] = {}
    with MeshAPI(base_url=gateway.base_url, token=gateway.token, **FAST) as client:
        for marker in markers:
            plain = answer_of(
                client.chat.completions.create(model=MODEL, messages=messages_for(marker), max_tokens=24)
            )
            with client.chat.completions.stream(
                model=MODEL, messages=messages_for(marker), max_tokens=24
            ) as s:
                streamed = text_of(list(s))
            answers[marker] = (plain, streamed)
    return answers


def _check_bindings(gateway: Any, outcomes: List[Outcome], report: SoakReport, sample: int) -> None:
    logged: Dict[str, Any] = {}
    for entry in gateway.requests.filter(path=CHAT, method="POST"):
        if entry.request_id:
            logged[entry.request_id] = entry
    successes = [o for o in outcomes if o[0] in ("call", "stream") and o[2].startswith("req_")]
    for kind, marker, request_id, _answer in successes:
        entry = logged.get(request_id)
        body = json.dumps(entry.json) if entry is not None else ""
        if marker not in body:
            report.mixups.append(f"{kind} {marker}: request id {request_id} belongs to another request")
    step = max(1, len(successes) // max(1, sample))
    checked = successes[::step]
    references = _references(gateway, sorted({o[1] for o in checked}))
    for kind, marker, _rid, answer in checked:
        plain, streamed = references[marker]
        if answer != (plain if kind == "call" else streamed):
            report.mixups.append(f"{kind} {marker}: answer {answer[:60]!r} differs from the lone answer")


def _thread_count() -> int:
    return sum(1 for t in threading.enumerate() if not t.name.startswith("asyncio_"))


def run_soak(
    gateway: Any, mode: str, size: SoakSize, *, sample: int = 200, settle: float = 3.0
) -> SoakReport:
    """One warm-up round and one measured round of ``size`` in ``mode`` ("sync" or "async")."""
    report = SoakReport(mode=mode, size=size)
    runner = _run_sync if mode == "sync" else _run_async
    gc.collect()
    report.fd_before = fd_count()
    report.threads_before = _thread_count()
    rss_before: Optional[float] = None
    for round_no in range(2):
        gateway.requests.clear()
        scratch = SoakReport(mode=mode, size=size) if round_no == 0 else report
        jobs = [("call", f"m{round_no}c{i:05d}x") for i in range(size.calls)]
        jobs += [("stream", f"m{round_no}s{i:05d}x") for i in range(size.streams)]
        started = time.perf_counter()
        outcomes = runner(gateway, jobs, size, scratch)
        scratch.seconds = time.perf_counter() - started
        scratch.ok = sum(1 for o in outcomes if o[2].startswith("req_"))
        if round_no == 1:
            _check_bindings(gateway, outcomes, report, sample)
        del outcomes
        gateway.requests.clear()
        gc.collect()
        if round_no == 0:
            rss_before = rss_mib()
    assert rss_before is not None
    report.rss_growth_mib = max(0.0, rss_mib() - rss_before)
    deadline = time.monotonic() + settle
    while time.monotonic() < deadline:
        report.fd_after, report.threads_after = fd_count(), _thread_count()
        if report.fd_after <= report.fd_before and report.threads_after <= report.threads_before:
            break
        time.sleep(0.02)
    return report


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.faults.soak", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--full", action="store_true", help="full size (thousands of calls, hundreds of streams)"
    )
    parser.add_argument("--calls", type=int, help="calls per round and mode")
    parser.add_argument("--streams", type=int, help="streams per round and mode")
    parser.add_argument("--concurrency", type=int, help="threads / tasks in flight")
    parser.add_argument("--mode", choices=["sync", "async", "both"], default="both")
    args = parser.parse_args(argv)
    size = FULL if args.full else SMALL
    overrides = {
        k: getattr(args, k) for k in ("calls", "streams", "concurrency") if getattr(args, k) is not None
    }
    if overrides:
        size = SoakSize(**{**size.__dict__, **overrides})

    from meshapi_gateway import serve

    failed = False
    with serve() as gateway:
        for mode in ("sync", "async") if args.mode == "both" else (args.mode,):
            report = run_soak(gateway, mode, size)
            print(report.summary())
            for problem in report.problems():
                failed = True
                print(f"  PROBLEM: {problem}")
    print("FAILED" if failed else "OK")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
