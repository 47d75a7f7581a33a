"""Benchmark cases of many clients in one process: ``with_options()`` copies, whole clients, an idle client.

Why it exists: a web app makes a client per tenant or a copy per request (``with_options(timeout=...)``),
so what one costs, in time and in memory, matters as much as a call does. Each trial keeps every client
or copy it makes alive until it is measured (as an app holding them would), then closes them. Memory is
what ``tracemalloc`` counts as allocated by the making (a second round, so the timing runs without it);
time is the wall time of the first round. ``raw`` is ``httpx.Client()`` made the same way.
"""

from __future__ import annotations

import gc
import threading
import time
import tracemalloc
from typing import Any, Callable, Dict, List

from .request import MESSAGES, MODEL, TOKEN

__all__ = ["clients", "idle", "with_options"]


def _each(make: Callable[[], Any], count: int) -> Dict[str, Any]:
    """Time ``count`` calls of ``make`` (results kept), then measure the memory of another ``count``."""
    kept: List[Any] = [make()]  # warm-up: imports, first-use model builds
    gc.collect()
    start = time.perf_counter()
    kept += [make() for _ in range(count)]
    elapsed = time.perf_counter() - start
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    more = [make() for _ in range(count)]
    gc.collect()
    allocated = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    for item in kept + more:
        close = getattr(item, "close", None)
        if close is not None:
            close()
    return {
        "count": count,
        "value": elapsed / count * 1e6,
        "kb_each": allocated / count / 1e3,
        "threads": threading.active_count(),
    }


def with_options(variant: str, base: str, size: int) -> Dict[str, Any]:
    """``size`` copies of one client (``sdk``: ``with_options(timeout=...)``; ``sdk_async``: of an
    ``AsyncMeshAPI``). The value is µs per copy; ``kb_each`` what each copy allocates."""
    if variant == "sdk_async":
        from meshapi import AsyncMeshAPI

        parent: Any = AsyncMeshAPI(base_url=base, token=TOKEN)
    else:
        from meshapi import MeshAPI

        parent = MeshAPI(base_url=base, token=TOKEN)
        parent.chat.completions.create(model=MODEL, messages=MESSAGES)  # the pool in use
    result = _each(lambda: parent.with_options(timeout=30.0), size)
    if variant != "sdk_async":
        parent.close()
    return result


def clients(variant: str, base: str, size: int) -> Dict[str, Any]:
    """``size`` whole clients (``raw``: ``httpx.Client()``; ``sdk``: ``MeshAPI``), each with its own pool."""
    if variant == "raw":
        import httpx

        return _each(httpx.Client, size)
    from meshapi import MeshAPI

    return _each(lambda: MeshAPI(base_url=base, token=TOKEN), size)


def idle(variant: str, base: str, size: int) -> Dict[str, Any]:
    """A client's idle cost: after one call, ``size`` ms doing nothing. The value is the CPU time this
    process used meanwhile (µs; no background thread or timer should run), ``threads`` how many it has."""
    url = base + "/v1/chat/completions"
    if variant == "raw":
        import httpx

        from .request import BODY, HEADERS

        client: Any = httpx.Client()
        client.post(url, json=BODY, headers=HEADERS).raise_for_status()
    else:
        from meshapi import MeshAPI

        client = MeshAPI(base_url=base, token=TOKEN)
        client.chat.completions.create(model=MODEL, messages=MESSAGES)
    gc.collect()
    cpu = time.process_time()
    time.sleep(size / 1e3)
    used = time.process_time() - cpu
    threads = threading.active_count()
    client.close()
    return {"value": used * 1e6, "idle_ms": float(size), "threads": threads}
