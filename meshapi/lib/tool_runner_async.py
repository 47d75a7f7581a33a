"""``AsyncMeshAPI().chat.completions.run_tools(...)``: the async twin of ``tool_runner.py``.

Why this exists: the same run (rules in ``tool_loop.py``) on an event loop, asyncio's or trio's: the
tools' concurrency, timeouts and cancellation go through anyio (imported when tools first run). Async
tools are awaited; a sync tool runs in a daemon thread of its own, so it never blocks the loop, and a
wait that times out or is cancelled abandons the thread instead of joining it (Python cannot kill a
thread: the call's ``ToolContext.cancelled`` is set so a cooperative tool can end; ``asyncio.run()``
does not wait for it at exit, as it would for its default executor). ``parallel`` runs a turn's calls
concurrently (bounded), ``tool_timeout`` cancels an async tool. A cancelled run still leaves every call
answered in ``messages``.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import threading
import time
from typing import Any, AsyncGenerator, AsyncIterator, Callable, Dict, List, Optional, Tuple

from .tool_calls import PendingToolCall, ToolResult, error_text, result_text, tool_span
from .tool_events import ContentDelta, ToolRunEvent, TurnFinished
from .tool_loop import CallRound, RunState
from .tool_runner import R, RunnerBase, timed_out

__all__ = ["AsyncToolRunner", "AsyncToolStreamRunner", "in_daemon_thread"]


async def in_daemon_thread(fn: Callable[[], Any]) -> Any:
    """``fn()`` in a daemon thread of its own, awaited on asyncio or trio; a cancelled wait abandons it."""
    import asyncio  # here: loaded with chat's names, this module must not load asyncio for a sync program

    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # not asyncio: trio (its worker threads are daemon threads too)
        import trio

        return await trio.to_thread.run_sync(fn, abandon_on_cancel=True)
    future: asyncio.Future[Any] = loop.create_future()
    context = contextvars.copy_context()

    def deliver(value: Any, error: Optional[BaseException]) -> None:
        if future.done():  # the wait was given up
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)

    def work() -> None:
        value: Any = None
        error: Optional[BaseException] = None
        try:
            value = context.run(fn)
        except Exception as exc:
            error = exc
        except BaseException as exc:  # SystemExit in a tool: the run sees an error, the thread ends
            error = RuntimeError(f"the tool raised {type(exc).__name__}")
        try:
            loop.call_soon_threadsafe(deliver, value, error)
        except RuntimeError:  # the loop is closed: nobody waits for this call any more
            pass

    threading.Thread(target=work, daemon=True, name="meshapi-tool").start()
    return await future


async def run_async_call(call: PendingToolCall, tracebacks: bool, timeout: Any) -> ToolResult:
    """Run one validated call: awaited, or in a daemon thread for a sync tool; within ``timeout``."""
    import anyio

    assert call.tool is not None and call.kwargs is not None
    started = time.monotonic()
    context = call.start()
    with tool_span(call.name, call.id):
        try:
            value: Any = None
            with anyio.move_on_after(timeout) as scope:
                if call.tool.is_async:
                    value = await call.tool.invoke(call.kwargs, context)
                else:
                    value = await in_daemon_thread(functools.partial(call.tool.invoke, call.kwargs, context))
                if inspect.isawaitable(value):
                    value = await value
            if scope.cancelled_caught:
                call.give_up()
                return timed_out(call, timeout)
            return ToolResult(
                call.id, call.name, result_text(value), False, time.monotonic() - started, value
            )
        except Exception as exc:
            return ToolResult(
                call.id, call.name, error_text(exc, tracebacks), True, time.monotonic() - started
            )
        except BaseException:  # the run was cancelled while the call ran: it is given up
            call.give_up()
            raise


class _AsyncRun(RunnerBase[R]):
    """The async run as an async generator of events; the two public runners choose which ones to show."""

    _stream = False

    def __init__(
        self, create: Callable[..., Any], state: RunState, costs: Optional[Callable[..., Any]] = None
    ) -> None:
        self._create = create
        self._state = state
        self._costs = costs  # async (request ids, hints) -> CostLookup or None: the turns' costs, at the end
        self._events = self._run()
        self._turn_end: Tuple[Any, Any, Any] = (None, None, None)

    async def aclose(self) -> None:
        """Stop the run here (calls not yet answered get a result saying so)."""
        await self._events.aclose()
        self._state.seal("not run: the run was closed")
        self._state.release()

    async def until_done(self) -> R:
        """Run to the end and return the final completion."""
        async for _ in self._events:
            pass
        return self._state.completions[-1]  # type: ignore[no-any-return]

    async def _turn(self, turn: int) -> AsyncGenerator[ToolRunEvent, None]:
        """Send a turn; its text as events when streamed; ``_turn_end``: (completion, streamed cost, stream's request id)."""
        request = self._state.next_request()
        if not self._stream:
            self._turn_end = (await self._create(**request), None, None)
            return
        wire = self._state.wire
        cost = None
        async with await self._create(stream=True, **request) as stream:
            async for item in stream:
                cost = wire.stream_cost(item) or cost
                text = wire.stream_text(item)
                if text:
                    yield ContentDelta(turn, text)
            self._turn_end = (await wire.stream_final(stream), cost, stream.request_id)

    async def _run(self) -> AsyncGenerator[ToolRunEvent, None]:
        state = self._state
        try:
            while not state.done:
                turn = len(state.completions)
                async for event in self._turn(turn):
                    yield event
                completion, cost, request_id = self._turn_end
                completion = state.record(completion, cost, request_id)
                yield TurnFinished(turn, completion)
                calls = state.plan(completion)
                if calls:
                    async for event in self._run_calls(CallRound(state, turn, calls)):
                        yield event
                state.end_if_stopped()
            query = state.cost_query()
            if query is not None and self._costs is not None:
                state.apply_costs(await self._costs(*query))
        except BaseException as exc:  # an error, a cancellation, aclose(): every call gets its result
            state.seal_interrupted(exc)
            raise
        finally:
            state.release()

    async def _run_calls(self, calls: CallRound) -> AsyncGenerator[ToolRunEvent, None]:
        hook = self._state.options.on_tool_call
        try:
            for call in calls.to_ask:
                verdict = hook(call) if hook is not None else None
                if inspect.isawaitable(verdict):
                    verdict = await verdict
                if not calls.decide(call, verdict):
                    break
            for started in calls.started():
                yield started
            await self._execute(calls.runnable, calls.results)
        finally:
            done = calls.answer()
        for event in done:
            yield event

    async def _execute(self, calls: List[PendingToolCall], results: Dict[str, ToolResult]) -> None:
        import anyio

        options = self._state.options
        if options.workers == 1:
            for call in calls:
                results[call.id] = await run_async_call(call, options.tool_tracebacks, options.tool_timeout)
            return
        limit = anyio.Semaphore(options.workers)

        async def one(call: PendingToolCall) -> None:
            async with limit:
                results[call.id] = await run_async_call(call, options.tool_tracebacks, options.tool_timeout)

        async with anyio.create_task_group() as group:
            for call in calls:
                group.start_soon(one, call)


class AsyncToolRunner(_AsyncRun[R]):
    """Iterate it (``async for``) for each turn's reply (``ChatCompletionResponse``; ``ResponsesResponse``
    for ``responses.run_tools``); ``await until_done()`` for the last.

    Raises ``ToolLoopError`` when the run goes round in circles and ``ToolLoopLimitError`` past a limit
    (unless ``on_limit="final_answer"``); ``messages`` is always a transcript that can be sent again.
    """

    def __aiter__(self) -> AsyncIterator[R]:
        return self

    async def __anext__(self) -> R:
        async for event in self._events:
            if isinstance(event, TurnFinished):
                return event.completion  # type: ignore[no-any-return]
        raise StopAsyncIteration

    async def __aenter__(self) -> AsyncToolRunner[R]:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.aclose()


class AsyncToolStreamRunner(_AsyncRun[R]):
    """``run_tools(stream=True)`` on ``AsyncMeshAPI``: ``async for`` typed events (``ContentDelta``,
    ``ToolCallStarted``, ``ToolCallFinished``, ``TurnFinished``); ``await until_done()`` for the last completion."""

    _stream = True

    def __aiter__(self) -> AsyncIterator[ToolRunEvent]:
        return self

    async def __anext__(self) -> ToolRunEvent:
        return await self._events.__anext__()

    async def __aenter__(self) -> AsyncToolStreamRunner[R]:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.aclose()
