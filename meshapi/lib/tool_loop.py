"""The pure part of a tool run, shared by the sync and the async runner: what to send, what to run, when to stop.

Why this exists: the loop "send, read the tool calls, run them, append the results, send again" has
rules that must not differ between the two runners: the limits (``max_iterations``, ``max_tool_calls``,
a tool's ``max_uses``), the stall guard (the same call three times, or an A-B-A-B cycle), the approval
decision, the text a tool's failure becomes, and *sealing*: whatever stops a run (an error, a
cancellation, Ctrl-C, a limit), every tool call in the transcript gets a result, so the transcript can
always be sent again (a strict server answers 400 to a call without its result). :class:`RunState`
holds all of it, and each turn's cost (known from the reply, or filled from one lookup by request id
when the run ends); :class:`CallRound` is the bookkeeping of one turn's calls (asked, run, answered in
order). The runners only send requests and call functions.

The wire shape of a turn is an adapter's business (:class:`ChatWire` here, ``ResponsesWire`` in
``tool_responses.py``), so one state serves both APIs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from .._errors import InvalidParamsError, ToolLoopError, ToolLoopLimitError
from .tool_calls import RUN_OPTION_NAMES, PendingToolCall, RunOptions, ToolDecision, ToolResult, decide
from .tool_events import ToolCallFinished, ToolCallStarted, finished
from .tool_schema import FunctionTool, ToolArgumentsError, as_tool

__all__ = ["LIMIT_PROMPT", "CallRound", "ChatWire", "RunState", "start_run"]

LIMIT_PROMPT = "You have reached the limit of tool calls for this task. Answer now without calling any tool."


def start_run(wire: Any, params: Any, kwargs: Mapping[str, Any], response_format: Any) -> RunState:
    """A run's state from ``run_tools``' arguments: params (a model or a dict), keywords, options."""
    if params is None:
        request: Dict[str, Any] = {}
    elif isinstance(params, Mapping):
        request = dict(params)
    else:
        request = {name: getattr(params, name) for name in params.model_fields_set}
    # the runner's options are keywords only: a params model's own field of the same name (Responses'
    # max_tool_calls) stays a body field; an option given as None is its default (as help() shows them)
    options = RunOptions(**{k: v for k, v in kwargs.items() if k in RUN_OPTION_NAMES and v is not None})
    request.update({k: v for k, v in kwargs.items() if k not in RUN_OPTION_NAMES})
    request.pop("stream", None)
    if response_format is not None:
        request["response_format"] = response_format
    wire.ask_format(request)
    tools = request.pop("tools", None) or []
    return RunState.start(wire, request, tools, options)


class ChatWire:
    """Chat Completions turns: ``messages`` in, ``choices[0].message.tool_calls`` out, ``role: tool`` results."""

    transcript_key = "messages"

    def ask_format(self, request: Dict[str, Any]) -> None:
        """Nothing to add: chat's ``response_format`` is a create keyword (``create`` parses the reply)."""

    def typed(self, completion: Any) -> Any:
        return completion

    def initial(self, given: Any) -> List[Any]:
        return list(given or [])

    def tool_spec(self, spec: Dict[str, Any]) -> Dict[str, Any]:
        return spec

    def calls(self, completion: Any) -> List[Tuple[str, str, str]]:
        message = completion.choices[0].message if completion.choices else None
        return (
            [(c.id, c.function.name, c.function.arguments) for c in (message.tool_calls or [])]
            if message
            else []
        )

    def replies(self, completion: Any) -> List[Any]:
        if not completion.choices:
            return []
        return [completion.choices[0].message._request_fields()]

    def result(self, call_id: str, content: str) -> Dict[str, Any]:
        return {"role": "tool", "tool_call_id": call_id, "content": content}

    def unanswered(self, transcript: Sequence[Any]) -> List[str]:
        pending: List[str] = []  # a result answers the earliest open call with its id (ids may repeat)
        for item in transcript:
            item = item if isinstance(item, dict) else _as_dict(item)
            for call in item.get("tool_calls") or ():
                call = call if isinstance(call, dict) else _as_dict(call)
                pending.append(str(call.get("id")))
            if item.get("role") == "tool" and str(item.get("tool_call_id")) in pending:
                pending.remove(str(item.get("tool_call_id")))
        return pending

    def stream_text(self, chunk: Any) -> Optional[str]:
        """The text of choice 0 a streamed chunk carries."""
        for choice in chunk.choices:
            if choice.index == 0:
                return choice.delta.content  # type: ignore[no-any-return]
        return None

    def stream_cost(self, chunk: Any) -> Any:
        """The cost a streamed chunk reports (the tail chunk's ``cost``), or ``None``."""
        return chunk.cost

    def stream_final(self, stream: Any) -> Any:
        """A stream's final completion (read to its end; an awaitable for an async stream)."""
        return stream.get_final_completion()

    def ask_final(self) -> Tuple[Dict[str, Any], Dict[str, Any]]:
        """The message and the request fields that ask for an answer without tools."""
        return {"role": "user", "content": LIMIT_PROMPT}, {"tool_choice": "none"}

    def usage(self, completion: Any) -> Tuple[int, int]:
        usage = getattr(completion, "usage", None)
        if usage is None:
            return 0, 0
        return int(usage.prompt_tokens or 0), int(usage.completion_tokens or 0)

    def total_usage(self, prompt: int, completion: int) -> Any:
        from ..types.chat import UsageInfo

        return UsageInfo(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion)


def _as_dict(item: Any) -> Dict[str, Any]:
    dump = getattr(item, "model_dump", None)
    return dict(dump(exclude_none=True)) if callable(dump) else {}


def _signature(name: str, arguments: str) -> Tuple[str, str]:
    try:
        return name, json.dumps(json.loads(arguments), sort_keys=True)
    except ValueError:
        return name, arguments.strip()


@dataclass
class RunState:
    """A run's transcript, totals and rules; ``plan(completion)`` says what the next step is."""

    wire: Any
    request: Dict[str, Any]
    tools: Dict[str, FunctionTool]
    options: RunOptions
    extra_tools: List[Any] = field(default_factory=list)
    toolsets: List[Any] = field(default_factory=list)
    transcript: List[Any] = field(default_factory=list)
    completions: List[Any] = field(default_factory=list)
    results: List[ToolResult] = field(default_factory=list)
    history: List[Tuple[str, str]] = field(default_factory=list)
    uses: Dict[str, int] = field(default_factory=dict)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    turn_costs: List[Optional[Decimal]] = field(default_factory=list)  # per turn; None: not known (yet)
    turn_ids: List[Optional[str]] = field(default_factory=list)  # per turn: the request id it was served by
    estimated_turns: int = 0  # turns whose cost is the catalog's estimate
    unplanned: Any = None  # a reply handed out whose calls are not planned yet
    asked_final: bool = False
    stopped: Optional[str] = None
    done: bool = False

    @classmethod
    def start(cls, wire: Any, request: Dict[str, Any], tools: Sequence[Any], options: RunOptions) -> RunState:
        """The state before the first turn; ``request`` holds the create keywords (its transcript too)."""
        request = dict(request)
        transcript = wire.initial(request.pop(wire.transcript_key, None))
        toolsets = _toolsets(tools)
        state = cls(wire, request, {}, options, [], toolsets, transcript)
        try:
            items = [t for t in tools or () if not any(t is s for s in toolsets)]
            for toolset in toolsets:
                items.extend(toolset.tools_for_runner())  # starts its servers when not running yet
            for item in items:
                if _is_wire_only(item):
                    state.extra_tools.append(item)  # a hosted / plain wire tool: offered, never run here
                    continue
                made = as_tool(item)
                if made.name in state.tools:
                    raise InvalidParamsError(f"two tools are named {made.name!r}")
                state.tools[made.name] = made
        except BaseException:
            state.release()
            raise
        return state

    # --- requests and replies ----------------------------------------------------------------------
    def next_request(self) -> Dict[str, Any]:
        """The create keywords of the next turn."""
        request = dict(self.request)
        request[self.wire.transcript_key] = list(self.transcript)
        offered = [self.wire.tool_spec(t.spec) for t in self.tools.values()] + list(self.extra_tools)
        if offered:
            request["tools"] = offered
        if self.asked_final:
            request.update(self.wire.ask_final()[1])
        return request

    def record(self, completion: Any, cost: Any = None, request_id: Optional[str] = None) -> Any:
        """Count a turn's reply: usage, and its cost when the reply carries one (``cost``: a streamed turn's;
        ``request_id``: a streamed turn's, whose accumulated reply does not know it).

        Returns the reply as the run hands it out (a Responses turn with ``text_format``: parsed).
        """
        completion = self.wire.typed(completion)
        self.completions.append(completion)
        self.unplanned = completion
        prompt, completion_tokens = self.wire.usage(completion)
        self.prompt_tokens += prompt
        self.completion_tokens += completion_tokens
        cost = cost if cost is not None else getattr(completion, "cost", None)
        try:
            self.turn_costs.append(Decimal(str(cost)) if cost is not None else None)
        except (InvalidOperation, ValueError):
            self.turn_costs.append(None)
        self.turn_ids.append(request_id or getattr(completion, "_request_id", None) or None)
        return completion

    # --- costs -------------------------------------------------------------------------------------
    @property
    def cost(self) -> Optional[Decimal]:
        """Every known turn cost added up (``None`` when no turn's cost is known)."""
        known = [cost for cost in self.turn_costs if cost is not None]
        return sum(known, Decimal(0)) if known else None

    @property
    def cost_estimated(self) -> bool:
        """Whether ``cost`` is not exact: a turn's cost is the catalog's estimate, or is not known."""
        return self.estimated_turns > 0 or any(cost is None for cost in self.turn_costs)

    def cost_query(self) -> Optional[Tuple[List[str], Dict[str, Dict[str, Any]]]]:
        """The request ids (and estimate hints: model, tokens) of the turns whose cost is not known, or ``None``."""
        ids: List[str] = []
        hints: Dict[str, Dict[str, Any]] = {}
        for completion, cost, request_id in zip(self.completions, self.turn_costs, self.turn_ids):
            if cost is None and request_id is not None:
                ids.append(request_id)
                prompt, completion_tokens = self.wire.usage(completion)
                hint: Dict[str, Any] = {"prompt_tokens": prompt, "completion_tokens": completion_tokens}
                model = getattr(completion, "model", None)
                if isinstance(model, str) and model:
                    hint["model"] = model
                hints[request_id] = hint
        return (ids, hints) if ids else None

    def apply_costs(self, lookup: Any) -> None:
        """Fill the unknown turn costs from a ``CostLookup`` (``None``: the lookup failed; they stay unknown)."""
        if lookup is None:
            return
        for turn, request_id in enumerate(self.turn_ids):
            found = lookup.get(request_id) if request_id is not None else None
            if self.turn_costs[turn] is None and found is not None and found.cost_usd is not None:
                self.turn_costs[turn] = found.cost_usd
                self.estimated_turns += 1 if found.estimated else 0

    def plan(self, completion: Any) -> List[PendingToolCall]:
        """The calls to run after this reply (``[]`` and ``done`` when it is the answer).

        Raises ``ToolLoopError`` (a stall) or ``ToolLoopLimitError`` (a limit with ``on_limit="raise"``),
        the transcript sealed first.
        """
        calls = self.wire.calls(completion)
        self.unplanned = None
        self.transcript.extend(self.wire.replies(completion))
        if not calls or self.asked_final:
            self.done = True
            self.seal("the run ended")
            return []
        turns = len(self.completions)
        over_calls = self.options.max_tool_calls is not None and len(self.history) + len(calls) > (
            self.options.max_tool_calls
        )
        if turns >= self.options.max_iterations or over_calls:
            what = (
                f"max_tool_calls ({self.options.max_tool_calls})"
                if over_calls
                else f"max_iterations ({self.options.max_iterations})"
            )
            self.seal(f"not run: the run reached {what}")
            if self.options.on_limit == "final_answer":
                self.asked_final = True
                self.transcript.append(self.wire.ask_final()[0])
                return []
            raise self._error(
                ToolLoopLimitError, f"The tool run reached {what} with the model still calling tools"
            )
        self.history.extend(_signature(name, arguments) for _, name, arguments in calls)
        stall = self._stall(len(calls))
        if stall:
            self.seal("not run: the run was stopped (it was repeating itself)")
            raise self._error(ToolLoopError, stall)
        return [self._pending(call_id, name, arguments) for call_id, name, arguments in calls]

    def _pending(self, call_id: str, name: str, arguments: str) -> PendingToolCall:
        made = self.tools.get(name)
        pending = PendingToolCall(call_id, name, arguments, made)
        if made is None:
            pending.error = f"Error: there is no tool named {name!r}"
            return pending
        used = self.uses.get(name, 0)
        if made.max_uses is not None and used >= made.max_uses:
            pending.error = f"Error: the tool {name!r} may be used at most {made.max_uses} times in this run"
            return pending
        self.uses[name] = used + 1
        try:
            pending.kwargs = made.validate(arguments)
        except ToolArgumentsError as exc:
            pending.error = f"Error: invalid arguments for {name!r}: {exc}"
        return pending

    def _stall(self, new: int) -> Optional[str]:
        for last in self.history[-new:]:
            if self.history.count(last) >= 3:
                return f"The tool run stopped: {last[0]} was called three times with the same arguments"
        tail = self.history[-4:]
        if len(tail) == 4 and tail[0] == tail[2] and tail[1] == tail[3] and tail[0] != tail[1]:
            return (
                f"The tool run stopped: a cycle {tail[0][0]} -> {tail[1][0]} -> {tail[0][0]} -> {tail[1][0]}"
            )
        return None

    def _error(self, cls: Any, message: str) -> Any:
        error = cls(message)
        error.messages = list(self.transcript)
        error.completion = self.completions[-1] if self.completions else None
        return error

    # --- results -----------------------------------------------------------------------------------
    def add(self, result: ToolResult) -> None:
        """A call's result, into the transcript."""
        self.results.append(result)
        self.transcript.append(self.wire.result(result.call_id, result.content))

    def seal(self, reason: str) -> None:
        """Answer every unanswered call of the transcript with ``reason`` (it can then be sent again).

        A reply handed out but not acted on yet (the run stopped between turns) joins the transcript first.
        """
        if self.unplanned is not None:
            self.transcript.extend(self.wire.replies(self.unplanned))
            self.unplanned = None
        for call_id in self.wire.unanswered(self.transcript):
            self.transcript.append(self.wire.result(call_id, reason))

    def release(self) -> None:
        """The run is over: toolsets it started stop their servers."""
        for toolset in self.toolsets:
            toolset.release_for_runner()

    def seal_interrupted(self, exc: BaseException) -> None:
        self.seal(f"not run: the run was interrupted ({type(exc).__name__})")

    def end_if_stopped(self) -> None:
        """After a turn's calls: a hook's stop ends the run here (the transcript sealed)."""
        if self.stopped is not None:
            self.seal(f"not run: {self.stopped}")
            self.done = True

    def denied(self, call: PendingToolCall, decision: ToolDecision) -> Optional[ToolResult]:
        """The result of a call the hook did not allow (``None``: it may run); a stop ends the run."""
        if decision.action == "allow":
            return None
        if decision.action == "stop":
            self.stopped = decision.message
        return ToolResult(call.id, call.name, decision.message, is_error=True)


class CallRound:
    """One turn's tool calls on their way to results: asked about, run, answered in the model's order.

    The runners' loop over it: ``decide(call, verdict)`` for each call of ``to_ask`` (the hook's verdict;
    ``None`` without a hook) until it returns ``False``; ``started()``; run ``runnable`` into ``results``;
    then ``answer()`` (in a ``finally``: whatever ran is in the transcript) gives the finished events.
    """

    def __init__(self, state: RunState, turn: int, calls: Sequence[PendingToolCall]) -> None:
        self.state = state
        self.turn = turn
        self.calls = list(calls)
        self.results: Dict[str, ToolResult] = {
            c.id: ToolResult(c.id, c.name, c.error, is_error=True) for c in calls if c.error is not None
        }
        self.to_ask = [c for c in calls if c.error is None]
        self.runnable: List[PendingToolCall] = []

    def decide(self, call: PendingToolCall, verdict: Any) -> bool:
        """Take the hook's verdict on ``call``; ``False`` when it stopped the run (ask no further)."""
        denied = self.state.denied(call, decide(verdict))
        if denied is None:
            self.runnable.append(call)
            return True
        self.results[call.id] = denied
        return self.state.stopped is None

    def started(self) -> List[ToolCallStarted]:
        """The started events of the calls about to run (none when the run was stopped)."""
        if self.state.stopped is not None:
            self.runnable = []
        return [ToolCallStarted(self.turn, c.id, c.name, c.parsed_arguments) for c in self.runnable]

    def answer(self) -> List[ToolCallFinished]:
        """Every result into the transcript, in the model's order; their finished events."""
        done = [self.results[c.id] for c in self.calls if c.id in self.results]
        for result in done:
            self.state.add(result)
        return [finished(self.turn, result) for result in done]


def _toolsets(tools: Sequence[Any]) -> List[Any]:
    """The toolsets (``meshapi.mcp.MCPToolset``) among ``tools``: objects that give several tools."""
    return [
        t for t in tools or () if not isinstance(t, type) and callable(getattr(t, "tools_for_runner", None))
    ]


def _is_wire_only(item: Any) -> bool:
    """A dict tool without a callable: a hosted tool type (``{"type": "mcp"}``, ...) sent as it is."""
    return isinstance(item, dict) and "callable" not in item and item.get("type") != "function"
