"""The tool runner's threads and event loops: the async runner under trio (parallel async tools, timeouts,
sync tools in threads), and a timed-out sync tool that keeps running: the run returns at its timeout,
the transcript says the call timed out, the tool's ``ToolContext.cancelled`` is set, and neither the run
nor ``asyncio.run()`` waits for the thread (it is a daemon thread, not the loop's default executor's).

Each turn's reply is scripted (see ``test_tool_runner``)."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, List

import pytest

import meshapi
from meshapi import ToolContext
from meshapi.lib.tool_loop import ChatWire, start_run
from meshapi.lib.tool_runner import ToolRunner
from meshapi.lib.tool_runner_async import AsyncToolRunner
from tests._poll import wait_until
from tests.unit.test_tool_runner import USER, AsyncScript, Script, reply

trio = pytest.importorskip("trio")

TIMED_OUT = "Error: TimeoutError: the tool did not finish within 0.2 s"


def _state(tools: List[Any], **options: Any) -> Any:
    return start_run(ChatWire(), None, {"model": "m", "messages": [USER], "tools": tools, **options}, None)


def _results(messages: List[Any]) -> List[Any]:
    return [m["content"] for m in messages if m["role"] == "tool"]


def test_the_async_runner_runs_parallel_async_tools_under_trio() -> None:
    log: List[str] = []

    @meshapi.tool
    async def slow(name: str) -> str:
        """Wait a little."""
        log.append(f"start {name}")
        await trio.sleep(0.05)
        log.append(f"end {name}")
        return name.upper()

    async def main() -> Any:
        script = AsyncScript(reply(("slow", {"name": "a"}), ("slow", {"name": "b"})), reply(content="done"))
        run = AsyncToolRunner(script, _state([slow], parallel=True))
        final = await run.until_done()
        return run, final

    run, final = trio.run(main)
    assert final.choices[0].message.content == "done"
    assert sorted(log[:2]) == ["start a", "start b"]  # both started before either ended: concurrent
    assert _results(run.messages) == ["A", "B"]


def test_tool_timeout_and_sync_tools_work_under_trio() -> None:
    @meshapi.tool
    async def stuck() -> str:
        """Never ends in time."""
        await trio.sleep(30)
        return "late"

    @meshapi.tool
    def in_thread(x: int) -> int:
        """A sync tool: runs in a worker thread."""
        assert threading.current_thread() is not threading.main_thread()
        return x * 2

    async def main() -> Any:
        script = AsyncScript(reply(("stuck", {}), ("in_thread", {"x": 21})), reply(content="done"))
        run = AsyncToolRunner(script, _state([stuck, in_thread], parallel=True, tool_timeout=0.2))
        started = time.monotonic()
        await run.until_done()
        return run, time.monotonic() - started

    run, took = trio.run(main)
    assert took < 5
    assert _results(run.messages) == [TIMED_OUT, "42"]
    assert [r.is_error for r in run.tool_results] == [True, False]


def test_a_timed_out_sync_tool_does_not_hold_the_run_and_is_told_to_stop() -> None:
    seen: List[ToolContext] = []
    ended = threading.Event()

    @meshapi.tool
    def crawl(url: str, ctx: ToolContext) -> str:
        """Fetch a page (slowly)."""
        seen.append(ctx)
        ctx.cancelled.wait(10)  # a cooperative tool: ends when the runner gives the call up
        ended.set()
        return "too late"

    assert list(crawl["function"]["parameters"]["properties"]) == ["url"]  # the context is not the model's
    script = Script(reply(("crawl", {"url": "u"})), reply(content="done"))
    run = ToolRunner(script, _state([crawl], tool_timeout=0.2))
    started = time.monotonic()
    final = run.until_done()
    assert time.monotonic() - started < 5
    assert final.choices[0].message.content == "done"
    assert _results(run.messages) == [TIMED_OUT]
    (ctx,) = seen
    assert (ctx.name, ctx.call_id, ctx.cancelled.is_set()) == ("crawl", "call_0_crawl", True)
    wait_until(ended.is_set, timeout=5)  # the thread noticed and ended: nothing left behind


def test_asyncio_run_does_not_wait_for_an_uncooperative_timed_out_sync_tool() -> None:
    release = threading.Event()
    threads: List[threading.Thread] = []

    @meshapi.tool
    def stubborn() -> str:
        """Ignores every request to stop."""
        threads.append(threading.current_thread())
        release.wait(20)
        return "late"

    async def main() -> Any:
        script = AsyncScript(reply(("stubborn", {})), reply(content="done"))
        run = AsyncToolRunner(script, _state([stubborn], tool_timeout=0.2))
        await run.until_done()
        return run

    started = time.monotonic()
    try:
        run = asyncio.run(main())  # shuts the loop's default executor down: it must not wait 20 s
        took = time.monotonic() - started
    finally:
        release.set()
    assert took < 5
    assert _results(run.messages) == [TIMED_OUT]
    (thread,) = threads
    assert thread.daemon  # never holds the interpreter's exit either
    wait_until(lambda: not thread.is_alive(), timeout=5)


async def test_a_cancelled_async_run_tells_a_running_sync_tool_to_stop() -> None:
    seen: List[ToolContext] = []
    running = threading.Event()

    @meshapi.tool
    def long_job(ctx: ToolContext) -> str:
        """Runs until told to stop."""
        seen.append(ctx)
        running.set()
        ctx.cancelled.wait(10)
        return "stopped"

    script = AsyncScript(reply(("long_job", {})), reply(content="done"))
    run = AsyncToolRunner(script, _state([long_job]))
    task = asyncio.ensure_future(run.until_done())
    await asyncio.get_running_loop().run_in_executor(None, running.wait, 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    (ctx,) = seen
    assert ctx.cancelled.is_set()
    assert _results(run.messages) == ["not run: the run was interrupted (CancelledError)"]
