"""Clients used before ``os.fork()``: parent and child each get their own replies, nothing leaks.

The gateway runs in a separate interpreter (``child_gateway.py``) so the descriptors counted in
``/proc/self/fd`` are the client's alone. Each test forks once; the child reports over a pipe and
leaves with ``os._exit`` (no pytest teardown in the child).
"""

from __future__ import annotations

import asyncio
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, Iterator, List, Tuple

import httpx
import pytest

import meshapi
from tests.faults.child_gateway import ChildGateway

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork() exists on POSIX only")

TOKEN = "rsk_fork_token"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = "openai/gpt-4o-mini"
CALLS = 20


@pytest.fixture(scope="module")
def gw() -> Iterator[ChildGateway]:
    gateway = ChildGateway(tokens=[TOKEN])
    yield gateway
    gateway.stop()


def fds() -> int:
    return len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 0


def prompt(side: str, i: int) -> List[Dict[str, str]]:
    return [{"role": "user", "content": f"{side} call number {i}: name a colour and a fruit"}]


def expected(gw: ChildGateway) -> Dict[str, List[str]]:
    with meshapi.MeshAPI(base_url=gw.base_url, token=TOKEN) as fresh:
        return {
            side: [
                fresh.chat.completions.create(model=MODEL, messages=prompt(side, i))
                .choices[0]
                .message.content
                for i in range(CALLS)
            ]
            for side in ("parent", "child")
        }


def fork(work: Callable[[], Any]) -> Tuple[int, int]:
    """Run ``work`` in a forked child; returns ``(pid, read end of its report pipe)``."""
    read, write = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork() of a threaded process
        pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        os.close(read)
        try:
            report = {"ok": True, "value": work()}
        except BaseException as exc:
            report = {
                "ok": False,
                "type": type(exc).__name__,
                "error": str(exc),
                "code": getattr(exc, "error_code", ""),
            }
        data = json.dumps(report).encode()
        while data:
            data = data[os.write(write, data) :]
        os._exit(0)
    os.close(write)
    return pid, read


def join(pid: int, read: int, timeout: float = 60.0) -> Dict[str, Any]:
    chunks = []
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        ready, _, _ = select.select([read], [], [], max(0.0, left))
        if not ready:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(read)
            raise AssertionError("the child did not finish in time (a hang)")
        chunk = os.read(read, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(read)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    return json.loads(b"".join(chunks))


def sync_calls(client: meshapi.MeshAPI, side: str) -> List[str]:
    """``CALLS`` chat calls, 4 at a time (threads share the client's pool, as a web worker's would)."""

    def one(i: int) -> str:
        reply = client.chat.completions.create(model=MODEL, messages=prompt(side, i))
        return str(reply.choices[0].message.content)

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(one, range(CALLS)))


def test_sync_client_used_before_fork(gw: ChildGateway) -> None:
    want = expected(gw)
    client = meshapi.MeshAPI(base_url=gw.base_url, token=TOKEN)
    sync_calls(client, "warm-up")  # kept-alive connections are in the pool at the fork

    def child() -> Dict[str, Any]:
        before = fds()
        replies = sync_calls(client, "child")
        client.close()
        return {"replies": replies, "before": before, "after": fds()}

    pid, read = fork(child)
    before = fds()
    mine = sync_calls(client, "parent")  # at the same time as the child
    report = join(pid, read)
    client.close()
    assert report["ok"], report
    assert mine == want["parent"] and report["value"]["replies"] == want["child"]
    assert report["value"]["after"] < report["value"]["before"]  # nothing leaked; inherited sockets closed
    assert fds() <= before  # nothing leaked in the parent either


def test_sync_streams_after_fork(gw: ChildGateway) -> None:
    want = expected(gw)
    client = meshapi.MeshAPI(base_url=gw.base_url, token=TOKEN)
    client.models.list()

    def streams(side: str) -> List[str]:
        out = []
        for i in range(CALLS):
            with client.chat.completions.stream(model=MODEL, messages=prompt(side, i)) as stream:
                out.append("".join(c.choices[0].delta.content or "" for c in stream if c.choices))
        return out

    pid, read = fork(lambda: streams("child"))
    mine = streams("parent")
    report = join(pid, read)
    client.close()
    assert report["ok"], report
    assert mine == want["parent"] and report["value"] == want["child"]


def test_injected_client_is_not_replaced_silently(gw: ChildGateway) -> None:
    with httpx.Client() as inner:
        client = meshapi.MeshAPI(base_url=gw.base_url, token=TOKEN, httpx_client=inner)
        client.models.list()
        report = join(*fork(lambda: client.models.list() and "sent"))
        assert not report["ok"] and report["code"] == "client_used_after_fork"
        assert "new_pool_after_fork=True" in report["error"] and "after the fork" in report["error"]
        opted = meshapi.MeshAPI(
            base_url=gw.base_url, token=TOKEN, httpx_client=inner, new_pool_after_fork=True
        )
        opted.models.list()
        report = join(*fork(lambda: len(list(opted.models.list())) > 0))
        assert report == {"ok": True, "value": True}
        assert client.models.list()  # the parent's own client is untouched


@pytest.mark.parametrize("transport", ["httpx", "aiohttp"])
def test_async_client_made_before_fork(gw: ChildGateway, transport: str) -> None:
    if transport == "aiohttp":
        pytest.importorskip("aiohttp")
    want = expected(gw)
    client = meshapi.AsyncMeshAPI(base_url=gw.base_url, token=TOKEN, http_transport=transport)

    async def calls(side: str) -> List[str]:
        replies = await asyncio.gather(
            *(client.chat.completions.create(model=MODEL, messages=prompt(side, i)) for i in range(CALLS))
        )
        await client.aclose()
        return [r.choices[0].message.content for r in replies]

    pid, read = fork(lambda: asyncio.run(calls("child")))  # a new event loop in the child
    mine = asyncio.run(calls("parent"))
    report = join(pid, read)
    assert report["ok"], report
    assert mine == want["parent"] and report["value"] == want["child"]


@pytest.mark.parametrize("transport", ["httpx", "aiohttp"])
def test_async_client_with_live_connections_is_a_typed_error(gw: ChildGateway, transport: str) -> None:
    if transport == "aiohttp":
        pytest.importorskip("aiohttp")

    async def scenario() -> None:
        client = meshapi.AsyncMeshAPI(base_url=gw.base_url, token=TOKEN, http_transport=transport)
        await client.models.list()

        async def in_child() -> Any:
            return len(list(await client.models.list()))

        report = join(*fork(lambda: asyncio.run(in_child())), timeout=20.0)
        assert not report["ok"] and report["code"] == "client_used_after_fork", report
        assert await client.models.list()  # the parent keeps its pool
        await client.aclose()

    asyncio.run(scenario())


@pytest.mark.parametrize("seed", range(3))
def test_fork_while_threads_make_their_first_calls(gw: ChildGateway, seed: int) -> None:
    """A fresh process (nothing imported, built or warmed): four threads make their first calls while
    the main thread forks five times at random moments; every child makes a call and exits 0 (before
    ``meshapi._forksafe``, every child hung in an import, a lazy property or SSL context set-up)."""
    run = [sys.executable, "-m", "tests.faults.fork_probe", gw.base_url, TOKEN, str(seed), "5"]
    out = subprocess.run(run, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-4000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report == {"children": [0] * 5, "thread_errors": []}, out.stderr[-4000:]


def _fork_waits_while(hold: Callable[[threading.Event, threading.Event], None]) -> float:
    """Seconds an ``os.fork()`` took while another thread ran ``hold(started, go)`` (which holds something
    a fork must wait for until ``go`` is set, 0.3 s after ``started``); the child leaves at once."""
    started, go = threading.Event(), threading.Event()
    worker = threading.Thread(target=hold, args=(started, go))
    worker.start()
    assert started.wait(10)
    threading.Timer(0.3, go.set).start()
    begun = time.monotonic()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        os._exit(0)
    took = time.monotonic() - begun
    os.waitpid(pid, 0)
    worker.join(10)
    return took


def test_a_fork_waits_for_a_model_build_in_progress() -> None:
    """The SDK's models build under a lock a fork holds (pydantic's own from 2.14, else
    ``meshapi._forksafe.BUILD_LOCK``): a fork during another thread's build waits for it to end."""
    import pydantic.main
    from pydantic_core import core_schema

    from meshapi._forksafe import BUILD_LOCK
    from meshapi.types._base import MeshModel

    lock = getattr(pydantic.main, "_rebuild_lock", BUILD_LOCK)
    held: List[bool] = []

    def hold(started: threading.Event, go: threading.Event) -> None:
        class Slow:
            @classmethod
            def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
                held.append(lock._is_owned())  # this thread builds under the lock
                started.set()
                go.wait(10)
                return core_schema.any_schema()

        class Probe(MeshModel):
            value: Slow

        Probe.model_validate({"value": 1})

    assert _fork_waits_while(hold) >= 0.25
    assert held == [True]


def test_a_fork_waits_for_an_import_in_progress(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fork waits while another thread is inside an import, and no import can begin between that
    check and the fork (the interpreter's import lock is held across it)."""
    (tmp_path / "meshapi_fork_slow_import.py").write_text(
        "import builtins\nbuiltins._meshapi_fork_started.set()\nbuiltins._meshapi_fork_go.wait(10)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import builtins

    def hold(started: threading.Event, go: threading.Event) -> None:
        builtins._meshapi_fork_started, builtins._meshapi_fork_go = started, go  # type: ignore[attr-defined]
        import meshapi_fork_slow_import  # noqa: F401

    try:
        assert _fork_waits_while(hold) >= 0.25
    finally:
        sys.modules.pop("meshapi_fork_slow_import", None)
        for name in ("_meshapi_fork_started", "_meshapi_fork_go"):
            builtins.__dict__.pop(name, None)


def test_serve_keeps_serving_the_parent() -> None:
    from meshapi_gateway import serve

    with serve(tokens=[TOKEN]) as local, meshapi.MeshAPI(base_url=local.base_url, token=TOKEN) as client:
        client.models.list()
        # the child inherits no server thread; it can still call the parent's gateway as a client
        report = join(
            *fork(lambda: len(list(meshapi.MeshAPI(base_url=local.base_url, token=TOKEN).models.list())))
        )
        assert report["ok"] and report["value"] > 0
        assert client.models.list()  # the parent's server kept serving
