"""``client.chat.completions.run_tools(...)`` (sync): send a turn, run the tools it calls, send again.

Why this exists: the blocking half of the tool runner. Every rule (limits, stall guard, approval,
sealing, result text) is in ``tool_loop.py``; this module only calls the client's own ``create`` once per
turn (so retries, the fallback chain, hooks and tracing apply to each turn) and calls the tool functions:
one after the other, or ``parallel`` in threads, each within ``tool_timeout``. A call past its timeout
is given up: its result says it timed out, its ``ToolContext.cancelled`` is set, and its daemon thread
is left to end (Python cannot kill a thread), so the run goes on at once.

:class:`RunnerBase` holds what both runners show (``messages``, ``usage``, ``cost_usd``, ...).
"""

from __future__ import annotations

import inspect
import threading
import time
from decimal import Decimal
from typing import Any, Callable, Dict, Generator, Generic, Iterator, List, Optional, TypeVar

from .tool_calls import PendingToolCall, ToolResult, error_text, result_text, tool_span
from .tool_events import ContentDelta, ToolRunEvent, TurnFinished
from .tool_loop import CallRound, RunState

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
        """What the turns cost, added up (``None`` when no turn's cost is known).

        A streamed turn reports its cost; the others are looked up by request id in the usage events
        when the run ends (as ``client.costs.lookup()`` does: one walk for the whole run), else priced
        from the catalog (``cost_estimated`` then says so).
        """
        return self._state.cost

    @property
    def cost_estimated(self) -> bool:
        """Whether ``cost_usd`` is not exact: a turn's cost is a catalog estimate, or is not known."""
        return self._state.cost_estimated

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
            value = call.tool.invoke(call.kwargs, call.start())
            if inspect.isawaitable(value):
                import asyncio  # here: a sync program that runs no async tool never loads it

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

    def __init__(
        self, create: Callable[..., Any], state: RunState, costs: Optional[Callable[..., Any]] = None
    ) -> None:
        self._create = create
        self._state = state
        self._costs = costs  # (request ids, hints) -> CostLookup or None: the turns' costs, at the end
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
            return self._create(**request), None, None
        wire = self._state.wire
        cost = None
        with self._create(stream=True, **request) as stream:
            for item in stream:
                cost = wire.stream_cost(item) or cost
                text = wire.stream_text(item)
                if text:
                    yield ContentDelta(turn, text)
            return wire.stream_final(stream), cost, stream.request_id

    def _run(self) -> Generator[ToolRunEvent, None, None]:
        state = self._state
        try:
            while not state.done:
                turn = len(state.completions)
                completion, cost, request_id = yield from self._turn(turn)
                completion = state.record(completion, cost, request_id)
                yield TurnFinished(turn, completion)
                calls = state.plan(completion)
                if calls:
                    yield from self._run_calls(CallRound(state, turn, calls))
                state.end_if_stopped()
            query = state.cost_query()
            if query is not None and self._costs is not None:
                state.apply_costs(self._costs(*query))
        except BaseException as exc:  # an error, Ctrl-C, close(): every call gets its result
            state.seal_interrupted(exc)
            raise
        finally:
            state.release()

    def _run_calls(self, calls: CallRound) -> Generator[ToolRunEvent, None, None]:
        hook = self._state.options.on_tool_call
        try:
            for call in calls.to_ask:
                if not calls.decide(call, hook(call) if hook is not None else None):
                    break
            yield from calls.started()
            self._execute(calls.runnable, calls.results)
        finally:
            done = calls.answer()
        yield from done

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
        for call, thread in zip(calls, threads):
            call.start()  # the context exists before the thread does: give_up() always reaches it
            thread.start()
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            for call, thread in zip(calls, threads):
                thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
                found = done.get(call.id)
                results[call.id] = found if found is not None else timed_out(call, timeout or 0.0)
        finally:  # past the deadline, or the run interrupted (Ctrl-C): calls still running are given up
            for call in calls:
                if call.id not in done:
                    call.give_up()


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
