"""``AsyncMeshAPI().chat.completions.run_tools(...)``: the async twin of ``tool_runner.py``.

Why this exists: the same run (rules in ``tool_loop.py``) on an event loop. Async tools are awaited,
sync tools run in the loop's thread pool so they never block it; ``parallel`` runs a turn's calls
concurrently (bounded), ``tool_timeout`` cancels an async tool and abandons a sync one. A cancelled run
still leaves every call answered in ``messages``.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import time
from typing import Any, AsyncGenerator, AsyncIterator, Callable, Dict, List, Sequence, Tuple

from .tool_calls import PendingToolCall, ToolResult, decide, error_text, result_text, tool_span
from .tool_events import ContentDelta, ToolCallStarted, ToolRunEvent, TurnFinished, finished
from .tool_loop import RunState
from .tool_runner import R, RunnerBase, timed_out

__all__ = ["AsyncToolRunner", "AsyncToolStreamRunner"]


async def run_async_call(call: PendingToolCall, tracebacks: bool, timeout: Any) -> ToolResult:
    """Run one validated call: awaited, or in a worker thread for a sync tool; within ``timeout``."""
    assert call.tool is not None and call.kwargs is not None
    started = time.monotonic()
    with tool_span(call.name, call.id):
        try:
            if call.tool.is_async:
                pending: Any = call.tool.invoke(call.kwargs)
            else:
                loop = asyncio.get_running_loop()
                pending = loop.run_in_executor(None, functools.partial(call.tool.invoke, call.kwargs))
            try:
                value = await (asyncio.wait_for(pending, timeout) if timeout is not None else pending)
            except asyncio.TimeoutError:
                if timeout is not None and time.monotonic() - started >= timeout:
                    return timed_out(call, timeout)
                raise
            if inspect.isawaitable(value):
                value = await value
            return ToolResult(
                call.id, call.name, result_text(value), False, time.monotonic() - started, value
            )
        except Exception as exc:
            return ToolResult(
                call.id, call.name, error_text(exc, tracebacks), True, time.monotonic() - started
            )


class _AsyncRun(RunnerBase[R]):
    """The async run as an async generator of events; the two public runners choose which ones to show."""

    _stream = False

    def __init__(self, create: Callable[..., Any], state: RunState) -> None:
        self._create = create
        self._state = state
        self._events = self._run()
        self._turn_end: Tuple[Any, Any] = (None, None)

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
        """Send a turn; its text as events when streamed; ``_turn_end``: (completion, streamed cost)."""
        request = self._state.next_request()
        if not self._stream:
            self._turn_end = (await self._create(**request), None)
            return
        wire = self._state.wire
        cost = None
        async with await self._create(stream=True, **request) as stream:
            async for item in stream:
                cost = wire.stream_cost(item) or cost
                text = wire.stream_text(item)
                if text:
                    yield ContentDelta(turn, text)
            self._turn_end = (await wire.stream_final(stream), cost)

    async def _run(self) -> AsyncGenerator[ToolRunEvent, None]:
        state = self._state
        try:
            while not state.done:
                turn = len(state.completions)
                async for event in self._turn(turn):
                    yield event
                completion, cost = self._turn_end
                state.record(completion, cost)
                yield TurnFinished(turn, completion)
                calls = state.plan(completion)
                if calls:
                    async for event in self._run_calls(turn, calls):
                        yield event
                if state.stopped is not None:
                    state.seal(f"not run: {state.stopped}")
                    state.done = True
        except BaseException as exc:  # an error, a cancellation, aclose(): every call gets its result
            state.seal_interrupted(exc)
            raise
        finally:
            state.release()

    async def _run_calls(
        self, turn: int, calls: Sequence[PendingToolCall]
    ) -> AsyncGenerator[ToolRunEvent, None]:
        state = self._state
        hook = state.options.on_tool_call
        results: Dict[str, ToolResult] = {}
        runnable: List[PendingToolCall] = []
        try:
            for call in calls:
                if call.error is not None:
                    results[call.id] = ToolResult(call.id, call.name, call.error, is_error=True)
                    continue
                if hook is not None:
                    verdict = hook(call)
                    if inspect.isawaitable(verdict):
                        verdict = await verdict
                    denied = state.denied(call, decide(verdict))
                    if denied is not None:
                        results[call.id] = denied
                        if state.stopped is not None:
                            break
                        continue
                runnable.append(call)
            if state.stopped is None:
                for call in runnable:
                    yield ToolCallStarted(turn, call.id, call.name, call.parsed_arguments)
                await self._execute(runnable, results)
        finally:
            for call in calls:
                if call.id in results:
                    state.add(results[call.id])
        for call in calls:
            if call.id in results:
                yield finished(turn, results[call.id])

    async def _execute(self, calls: List[PendingToolCall], results: Dict[str, ToolResult]) -> None:
        options = self._state.options
        limit = asyncio.Semaphore(options.workers)

        async def one(call: PendingToolCall) -> None:
            async with limit:
                results[call.id] = await run_async_call(call, options.tool_tracebacks, options.tool_timeout)

        if options.workers == 1:
            for call in calls:
                await one(call)
            return
        await asyncio.gather(*(one(call) for call in calls))


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
