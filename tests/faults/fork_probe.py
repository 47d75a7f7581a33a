"""Forks taken while other threads make their first calls, in a fresh process (nothing warmed).

``python -m tests.faults.fork_probe <base_url> <token> <seed> <forks>``: four threads make the first
calls of new clients (lazy resource properties, deferred pydantic builds, lazy imports, the async
client's warm-up thread) while the main thread forks ``forks`` times at random moments. Each child
makes one chat call with a new client and leaves with ``os._exit(0)``; a child that does not finish
within ``CHILD_SECONDS`` prints every thread's stack (``faulthandler``) and is killed. The probe
prints one JSON line: the exit code of each child (``-9``: killed because it hung).
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
from typing import Any, List

import meshapi

CHILD_SECONDS = 15.0
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
        faulthandler.dump_traceback_later(CHILD_SECONDS, exit=True)
        with meshapi.MeshAPI(base_url=base_url, token=token, max_retries=0, timeout=10) as client:
            reply = client.chat.completions.create(model=MODEL, messages=MESSAGES)
            code = 0 if reply.choices[0].message.content else 3
    except BaseException as exc:
        print(f"child failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
    os._exit(code)


def _wait(pid: int) -> int:
    deadline = time.monotonic() + CHILD_SECONDS + 5.0
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return -9


def main(base_url: str, token: str, seed: int, forks: int) -> List[int]:
    rng = random.Random(seed)
    threads = [
        threading.Thread(target=_sync_first_calls, args=(base_url, token), daemon=True),
        threading.Thread(target=_sync_first_calls, args=(base_url, token), daemon=True),
        threading.Thread(target=lambda: asyncio.run(_async_first_calls(base_url, token)), daemon=True),
        threading.Thread(target=lambda: asyncio.run(_async_first_calls(base_url, token)), daemon=True),
    ]
    for thread in threads:
        thread.start()
    pids: List[int] = []
    for _ in range(forks):
        time.sleep(rng.uniform(0.0, 0.05))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork() of a threaded process
            pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            _child(base_url, token)
        pids.append(pid)
    codes = [_wait(pid) for pid in pids]
    for thread in threads:
        thread.join(30)
    return codes


if __name__ == "__main__":
    args: Any = sys.argv[1:]
    print(json.dumps(main(args[0], args[1], int(args[2]), int(args[3]))), flush=True)
