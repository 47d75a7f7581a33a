"""Benchmark cases that time whole fresh interpreters (cold start, import) or a decoder alone (SSE).

Split from ``workloads.py`` because they share nothing with its socket-level cases: each starts its own
``python -c`` processes, or feeds bytes to the pure SSE decoder with no server at all.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any, Dict

from .request import BODY, HEADERS, MESSAGES, MODEL, TOKEN

__all__ = ["cold", "import_time", "sse"]


# --- cold start: import + client + first call, in a fresh process ------------------------------------------
COLD = {
    "httpx": (
        "import json, httpx\n"
        "with httpx.Client() as client:\n"
        "    r = client.post(URL + '/v1/chat/completions', json=BODY, headers=HEADERS)\n"
        "    r.raise_for_status()\n"
        "    json.loads(r.content)['choices'][0]['message']['content']\n"
    ),
    "meshapi": (
        "from meshapi import MeshAPI\n"
        "with MeshAPI(base_url=URL, token=TOKEN) as mesh:\n"
        "    mesh.chat.completions.create(model=MODEL, messages=MESSAGES).choices[0].message.content\n"
    ),
}
COLD_RUNS = 7


def cold(variant: str, base: str, size: int) -> Dict[str, Any]:
    """Wall time of a whole fresh interpreter that imports, makes a client and makes one call.

    ``MESHAPI_BENCH_PYTHON`` picks the interpreter (a virtualenv with ``pip install .`` and no extras
    is what a user has; the default is this one). Bytecode is cached the way an installed package has
    it: one untimed run writes it (to a private cache directory), then ``COLD_RUNS`` runs are timed.
    """
    import subprocess
    import tempfile

    python = os.environ.get("MESHAPI_BENCH_PYTHON") or sys.executable
    setup = f"URL={base!r}; TOKEN={TOKEN!r}; MODEL={MODEL!r}; MESSAGES={MESSAGES!r}; BODY={BODY!r}; "
    setup += f"HEADERS={HEADERS!r}\n"
    if variant == "floor":
        from .floor import COLD_FLOOR  # here: importing it loads pydantic, which raw variants must not pay

        code = setup + COLD_FLOOR
    else:
        code = setup + COLD[variant]
    with tempfile.TemporaryDirectory() as cache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = cache
        cwd = tempfile.gettempdir()  # not the checkout: the interpreter must import the installed package
        subprocess.run([python, "-c", code], check=True, env=env, cwd=cwd)
        walls = []
        for _ in range(COLD_RUNS):
            start = time.perf_counter()
            subprocess.run([python, "-c", code], check=True, env=env, cwd=cwd)
            walls.append((time.perf_counter() - start) * 1e3)
    walls.sort()
    return {"value": walls[len(walls) // 2], "min_ms": walls[0], "python": python}


# --- import time ------------------------------------------------------------------------------------------
IMPORTS = {
    "httpx": "import httpx",
    "meshapi": "import meshapi",
    "meshapi_client": "from meshapi import MeshAPI",
    "meshapi_first_call": "from meshapi import MeshAPI; MeshAPI(base_url='http://127.0.0.1:1', token='t').chat",
}


def import_time(variant: str, base: str, size: int) -> Dict[str, Any]:
    """Time ``IMPORTS[variant]`` in a pristine interpreter (this one has already imported too much)."""
    import subprocess

    code = (
        "import time; start = time.perf_counter(); "
        + IMPORTS[variant]
        + "; print((time.perf_counter() - start) * 1e3)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return {"value": float(done.stdout.strip().splitlines()[-1])}


# --- SSE decoding alone -------------------------------------------------------------------------------------
def sse(variant: str, base: str, size: int) -> Dict[str, Any]:
    """``small``: ``size`` chat-sized events in 64 KiB reads. ``huge_<MB>``: one event of that many MB."""
    from meshapi._core.sse import SSEDecoder

    from .server import build_event

    read = 64 * 1024
    if variant == "small":
        payload = b"".join(build_event(i) for i in range(size))
    else:
        megabytes = int(variant.split("_")[1])
        payload = b"data: " + b"x" * (megabytes * 1_000_000) + b"\n\n"
    pieces = [payload[i : i + read] for i in range(0, len(payload), read)]
    del payload
    total = sum(len(p) for p in pieces)
    timings = []
    for _ in range(3):  # the first pass of a huge event also pays the OS for touching fresh memory
        # the 100 MB event is past the SDK's 64 MiB default cap: the decoder alone is measured here
        decoder = SSEDecoder(max_line_bytes=total + 1, max_event_bytes=total + 1)
        events = 0
        size_out = 0
        start = time.perf_counter()
        for piece in pieces:
            for event in decoder.feed(piece):
                events += 1
                size_out += len(event.data)
        for event in decoder.flush():
            events += 1
            size_out += len(event.data)
        timings.append(time.perf_counter() - start)
    elapsed = sorted(timings)[1]
    return {
        "events": events,
        "seconds": elapsed,
        "value": events / elapsed,
        "mb_per_s": total / elapsed / 1e6,
        "ms_per_mb": elapsed * 1e3 / (total / 1e6),
        "data_mb": size_out / 1e6,
    }
