"""Forks taken while other threads make their first calls, in a fresh process (nothing warmed).

``python -m tests.faults.fork_probe <base_url> <token> <seed> <forks>``: four threads make the first
calls of new clients (lazy resource properties, deferred pydantic builds, lazy imports, the async
client's warm-up thread) while the main thread forks ``forks`` times at random moments. Each child
makes one chat call with a new client and leaves with ``os._exit(0)``; a child still running after
``CHILD_SECONDS`` prints every thread's stack on stderr (``faulthandler``) and exits 1, and one that
does not even do that is killed (``-9``). The probe prints one JSON line: ``children`` (each child's
exit code) and ``thread_errors`` (what the threads' own calls raised, so a test knows they ran).
"""

from __future__ import annotations

import asyncio
import faulthandler
import json
import os
import random
import signal
import sys
import threading
import time
import warnings
from typing import Any, Callable, Dict, List

import meshapi

CHILD_SECONDS = 20.0
MODEL = "openai/gpt-4o-mini"
MESSAGES = [{"role": "user", "content": "hi"}]


def _sync_first_calls(base_url: str, token: str) -> None:
    with meshapi.MeshAPI(base_url=base_url, token=token, max_retries=0, timeout=10) as client:
        client.chat.completions.create(model=MODEL, messages=MESSAGES)
        client.embeddings.create(model="openai/text-embedding-3-small", input="hi")
        client.moderations.create(input="hi")
        list(client.models.list())
        client.templates.list()


async def _async_first_calls(base_url: str, token: str) -> None:
    async with meshapi.AsyncMeshAPI(base_url=base_url, token=token, max_retries=0, timeout=10) as client:
        await client.chat.completions.create(model=MODEL, messages=MESSAGES)
        await client.responses.create(model=MODEL, input="hi")
        await client.web.search(query="colour")


def _child(base_url: str, token: str) -> None:  # pragma: no cover - runs in the forked child
    code = 1
    try:
        faulthandler.dump_traceback_later(CHILD_SECONDS, exit=True)  # a hang: the stacks, exit 1
        with meshapi.MeshAPI(base_url=base_url, token=token, max_retries=0, timeout=10) as client:
            reply = client.chat.completions.create(model=MODEL, messages=MESSAGES)
            code = 0 if reply.choices[0].message.content else 3
    except BaseException as exc:
        print(f"child failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
    os._exit(code)


def _wait(pids: Dict[int, float]) -> List[int]:
    """Each child's exit code; one still running ``CHILD_SECONDS + 3`` s after its fork is killed."""
    codes: Dict[int, int] = {}
    while len(codes) < len(pids):
        for pid, forked in pids.items():
            if pid in codes:
                continue
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                codes[pid] = os.waitstatus_to_exitcode(status)
            elif time.monotonic() > forked + CHILD_SECONDS + 3.0:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                codes[pid] = -9
        time.sleep(0.02)
    return [codes[pid] for pid in pids]


def _recording(errors: List[str], work: Callable[[], Any]) -> Callable[[], None]:
    def run() -> None:
        try:
            work()
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")

    return run


def main(base_url: str, token: str, seed: int, forks: int) -> Dict[str, Any]:
    rng = random.Random(seed)
    errors: List[str] = []
    works: List[Callable[[], Any]] = [
        lambda: _sync_first_calls(base_url, token),
        lambda: _sync_first_calls(base_url, token),
        lambda: asyncio.run(_async_first_calls(base_url, token)),
        lambda: asyncio.run(_async_first_calls(base_url, token)),
    ]
    threads = [threading.Thread(target=_recording(errors, work), daemon=True) for work in works]
    for thread in threads:
        thread.start()
    pids: Dict[int, float] = {}
    for _ in range(forks):
        time.sleep(rng.uniform(0.0, 0.05))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork() of a threaded process
            pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            _child(base_url, token)
        pids[pid] = time.monotonic()
    codes = _wait(pids)
    for thread in threads:
        thread.join(30)
    return {"children": codes, "thread_errors": errors}


if __name__ == "__main__":
    args: Any = sys.argv[1:]
    print(json.dumps(main(args[0], args[1], int(args[2]), int(args[3]))), flush=True)
