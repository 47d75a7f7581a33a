"""``client.chat.completions.run_tools(...)`` (sync): send a turn, run the tools it calls, send again.

Why this exists: the blocking half of the tool runner. Every rule (limits, stall guard, approval,
sealing, result text) is in ``tool_loop.py``; this module only calls the client's own ``create`` once per
turn (so retries, the fallback chain, hooks and tracing apply to each turn) and calls the tool functions:
one after the other, or ``parallel`` in threads, each within ``tool_timeout``.

:class:`RunnerBase` holds what both runners show (``messages``, ``usage``, ``cost_usd``, ...).
"""

from __future__ import annotations

import asyncio
import inspect
import threading
import time
from decimal import Decimal
from typing import Any, Callable, Dict, Generator, Generic, Iterator, List, Optional, Sequence, TypeVar

from .tool_calls import PendingToolCall, ToolResult, decide, error_text, result_text, tool_span
from .tool_events import ContentDelta, ToolCallStarted, ToolRunEvent, TurnFinished, finished
from .tool_loop import RunState

__all__ = ["R", "RunnerBase", "ToolRunner", "ToolStreamRunner", "run_sync_call"]

R = TypeVar("R")  # what a turn returns: ChatCompletionResponse, or ResponsesResponse


class RunnerBase(Generic[R]):
    """What every runner shows of its run; the run itself is the subclass's."""

    _state: RunState

    @property
    def messages(self) -> List[Any]:
        """The whole transcript (every tool call answered), valid to send again."""
        return list(self._state.transcript)

    @property
    def completions(self) -> List[Any]:
        """Every turn's reply, in order."""
        return list(self._state.completions)

    @property
    def tool_results(self) -> List[ToolResult]:
        """Every tool call's result, in order."""
        return list(self._state.results)

    @property
    def usage(self) -> Any:
        """The tokens of every turn added up."""
        return self._state.wire.total_usage(self._state.prompt_tokens, self._state.completion_tokens)

    @property
    def cost_usd(self) -> Optional[Decimal]:
        """The cost the gateway reported for the turns, added up (``None`` when no turn reported one)."""
        return self._state.cost

    @property
    def stop_reason(self) -> Optional[str]:
        """The message of an ``on_tool_call`` hook that stopped the run (``None`` otherwise)."""
        return self._state.stopped


def run_sync_call(call: PendingToolCall, tracebacks: bool) -> ToolResult:
    """Run one validated call in this thread (an async tool on its own event loop)."""
    assert call.tool is not None and call.kwargs is not None
    started = time.monotonic()
    with tool_span(call.name, call.id):
        try:
            value = call.tool.invoke(call.kwargs)
            if inspect.isawaitable(value):
                value = asyncio.run(_awaited(value))
            return ToolResult(
                call.id, call.name, result_text(value), False, time.monotonic() - started, value
            )
        except Exception as exc:
            return ToolResult(
                call.id, call.name, error_text(exc, tracebacks), True, time.monotonic() - started
            )


async def _awaited(value: Any) -> Any:
    return await value


def timed_out(call: PendingToolCall, timeout: float) -> ToolResult:
    text = f"Error: TimeoutError: the tool did not finish within {timeout:g} s"
    return ToolResult(call.id, call.name, text, True, float(timeout))


class _SyncRun(RunnerBase[R]):
    """The sync run as a generator of events; the two public runners choose which ones to show."""

    _stream = False

    def __init__(self, create: Callable[..., Any], state: RunState) -> None:
        self._create = create
        self._state = state
        self._events = self._run()

    def close(self) -> None:
        """Stop the run here (calls not yet answered get a result saying so)."""
        self._events.close()
        self._state.seal("not run: the run was closed")
        self._state.release()

    def until_done(self) -> R:
        """Run to the end and return the final completion."""
        for _ in self._events:
            pass
        return self._state.completions[-1]  # type: ignore[no-any-return]

    def _turn(self, turn: int) -> Generator[ToolRunEvent, None, Any]:
        request = self._state.next_request()
        if not self._stream:
            return self._create(**request), None
        wire = self._state.wire
        cost = None
        with self._create(stream=True, **request) as stream:
            for item in stream:
                cost = wire.stream_cost(item) or cost
                text = wire.stream_text(item)
                if text:
                    yield ContentDelta(turn, text)
            return wire.stream_final(stream), cost

    def _run(self) -> Generator[ToolRunEvent, None, None]:
        state = self._state
        try:
            while not state.done:
                turn = len(state.completions)
                completion, cost = yield from self._turn(turn)
                state.record(completion, cost)
                yield TurnFinished(turn, completion)
                calls = state.plan(completion)
                if calls:
                    yield from self._run_calls(turn, calls)
                if state.stopped is not None:
                    state.seal(f"not run: {state.stopped}")
                    state.done = True
        except BaseException as exc:  # an error, Ctrl-C, close(): every call gets its result
            state.seal_interrupted(exc)
            raise
        finally:
            state.release()

    def _run_calls(self, turn: int, calls: Sequence[PendingToolCall]) -> Generator[ToolRunEvent, None, None]:
        state = self._state
        hook = state.options.on_tool_call
        results: Dict[str, ToolResult] = {}
        runnable: List[PendingToolCall] = []
        try:
            for call in calls:
                if call.error is not None:
                    results[call.id] = ToolResult(call.id, call.name, call.error, is_error=True)
                    continue
                denied = state.denied(call, decide(hook(call))) if hook is not None else None
                if denied is not None:
                    results[call.id] = denied
                    if state.stopped is not None:
                        break
                    continue
                runnable.append(call)
            if state.stopped is None:
                for call in runnable:
                    yield ToolCallStarted(turn, call.id, call.name, call.parsed_arguments)
                self._execute(runnable, results)
        finally:
            for call in calls:
                if call.id in results:
                    state.add(results[call.id])
        for call in calls:
            if call.id in results:
                yield finished(turn, results[call.id])

    def _execute(self, calls: List[PendingToolCall], results: Dict[str, ToolResult]) -> None:
        options = self._state.options
        timeout = options.tool_timeout
        if options.workers == 1 and timeout is None:
            for call in calls:
                results[call.id] = run_sync_call(call, options.tool_tracebacks)
            return
        batch = options.workers
        for start in range(0, len(calls), batch):
            self._execute_batch(calls[start : start + batch], results, timeout)

    def _execute_batch(
        self, calls: List[PendingToolCall], results: Dict[str, ToolResult], timeout: Optional[float]
    ) -> None:
        tracebacks = self._state.options.tool_tracebacks
        done: Dict[str, ToolResult] = {}

        def work(call: PendingToolCall) -> None:
            done[call.id] = run_sync_call(call, tracebacks)

        threads = [threading.Thread(target=work, args=(c,), daemon=True, name="meshapi-tool") for c in calls]
        for thread in threads:
            thread.start()
        deadline = None if timeout is None else time.monotonic() + timeout
        for call, thread in zip(calls, threads):
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
            found = done.get(call.id)
            results[call.id] = found if found is not None else timed_out(call, timeout or 0.0)


class ToolRunner(_SyncRun[R]):
    """Iterate it for each turn's reply (``ChatCompletionResponse``; ``ResponsesResponse`` for
    ``responses.run_tools``); ``until_done()`` returns the final one.

    Raises ``ToolLoopError`` when the run goes round in circles and ``ToolLoopLimitError`` past a limit
    (unless ``on_limit="final_answer"``); ``messages`` is always a transcript that can be sent again.
    """

    def __iter__(self) -> Iterator[R]:
        return self

    def __next__(self) -> R:
        for event in self._events:
            if isinstance(event, TurnFinished):
                return event.completion  # type: ignore[no-any-return]
        raise StopIteration

    def __enter__(self) -> ToolRunner[R]:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


class ToolStreamRunner(_SyncRun[R]):
    """``run_tools(stream=True)``: iterate it for typed events (``ContentDelta``, ``ToolCallStarted``,
    ``ToolCallFinished``, ``TurnFinished``); ``until_done()`` returns the final completion."""

    _stream = True

    def __iter__(self) -> Iterator[ToolRunEvent]:
        return self

    def __next__(self) -> ToolRunEvent:
        return next(self._events)

    def __enter__(self) -> ToolStreamRunner[R]:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()
