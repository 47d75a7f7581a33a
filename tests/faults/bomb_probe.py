"""One hostile-reply call in a fresh process, so its peak memory is the client's alone.

``python -m tests.faults.bomb_probe <base_url> <mode> <call> [max_response_bytes]`` makes one call
(``mode``: ``sync``, ``async`` or ``aiohttp``; ``call``: ``create``, ``stream`` or ``models``) and
prints one JSON line: the error class, its ``limit``/``status``/``request_id``, the seconds it took
and the process's peak RSS (``VmHWM``) before and after. ``run_probe`` does this from a test.
"""

from __future__ import annotations

import asyncio
import json
import resource
import subprocess
import sys
import time
from typing import Any, Dict

import meshapi

TOKEN = "rsk_BOMBPROBE_token_value"
MESSAGES = [{"role": "user", "content": "hi"}]


def _peak() -> int:
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork and exec.
    with open("/proc/self/status") as status:
        for row in status:
            if row.startswith("VmHWM:"):
                return int(row.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # pragma: no cover


async def _call(base_url: str, mode: str, call: str, limit: int) -> Any:
    options: Dict[str, Any] = {"max_retries": 0, "max_response_bytes": limit, "timeout": 30}
    if mode == "sync":
        with meshapi.MeshAPI(base_url=base_url, token=TOKEN, **options) as client:
            if call == "create":
                return client.chat.completions.create(model="m", messages=MESSAGES)
            if call == "models":
                return client.models.list()
            with client.chat.completions.stream(model="m", messages=MESSAGES) as stream:
                return list(stream)
    if mode == "aiohttp":
        options["http_transport"] = "aiohttp"
    async with meshapi.AsyncMeshAPI(base_url=base_url, token=TOKEN, **options) as aclient:
        if call == "create":
            return await aclient.chat.completions.create(model="m", messages=MESSAGES)
        if call == "models":
            return await aclient.models.list()
        async with aclient.chat.completions.stream(model="m", messages=MESSAGES) as astream:
            return [item async for item in astream]


def main(argv: Any) -> None:
    base_url, mode, call = argv[:3]
    limit = int(argv[3]) if len(argv) > 3 else meshapi.MeshAPIConfig.max_response_bytes
    before = _peak()
    started = time.monotonic()
    outcome: Dict[str, Any] = {"error": None}
    try:
        asyncio.run(_call(base_url, mode, call, limit))
    except meshapi.MeshAPIError as exc:
        outcome = {
            "error": type(exc).__name__,
            "limit": getattr(exc, "limit", None),
            "status": exc.status,
            "request_id": exc.request_id,
            "message": str(exc)[:300],
        }
    except BaseException as exc:  # a raw exception is what the row must never see
        outcome = {"error": f"RAW {type(exc).__name__}", "message": str(exc)[:300]}
    outcome.update(seconds=time.monotonic() - started, peak_before=before, peak=_peak())
    print(json.dumps(outcome), flush=True)


def run_probe(base_url: str, mode: str, call: str, limit: int = 0) -> Dict[str, Any]:
    args = [sys.executable, "-m", "tests.faults.bomb_probe", base_url, mode, call]
    if limit:
        args.append(str(limit))
    done = subprocess.run(args, capture_output=True, timeout=120, check=False)
    lines = done.stdout.decode().strip().splitlines()
    assert lines, f"the probe printed nothing: {done.stderr.decode()[-2000:]}"
    result: Dict[str, Any] = json.loads(lines[-1])
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
