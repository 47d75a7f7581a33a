"""The tool runner's rules without a server: schemas from functions, argument validation, turns and
totals, limits, the stall guard and sealing (sync and async runners; approval, parallel calls, timeouts
and the Responses shape are in ``test_tool_runner_calls``).

Each turn's reply is scripted: the runner is given a ``create`` that returns the next prepared
``ChatCompletionResponse`` and records the keywords it was called with.
"""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Annotated, Any, Dict, List, Optional

import pytest
from pydantic import BaseModel, Field

import meshapi
from meshapi import InvalidParamsError, ToolLoopError, ToolLoopLimitError
from meshapi.lib.tool_loop import LIMIT_PROMPT, ChatWire, start_run
from meshapi.lib.tool_runner import ToolRunner
from meshapi.lib.tool_runner_async import AsyncToolRunner
from meshapi.types.chat import ChatCompletionResponse

USER = {"role": "user", "content": "go"}


def reply(*calls: Any, content: Optional[str] = None, cost: Optional[str] = None) -> ChatCompletionResponse:
    """A completion calling ``calls`` (``(name, arguments)`` pairs), or answering ``content``."""
    tool_calls = [
        {
            "id": f"call_{i}_{name}",
            "type": "function",
            "function": {"name": name, "arguments": json.dumps(args)},
        }
        for i, (name, args) in enumerate(calls)
    ]
    message: Dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = tool_calls
    body: Dict[str, Any] = {
        "id": "c",
        "object": "chat.completion",
        "created": 0,
        "model": "m",
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12},
    }
    if cost is not None:
        body["cost"] = cost
    return ChatCompletionResponse.model_validate(body)


class Script:
    """A fake ``create``: returns the scripted replies in order and keeps what each turn sent."""

    def __init__(self, *replies: ChatCompletionResponse) -> None:
        self.replies = list(replies)
        self.sent: List[Dict[str, Any]] = []

    def __call__(self, **kwargs: Any) -> ChatCompletionResponse:
        self.sent.append(kwargs)
        return self.replies.pop(0)


class AsyncScript(Script):
    async def __call__(self, **kwargs: Any) -> ChatCompletionResponse:  # type: ignore[override]
        return Script.__call__(self, **kwargs)


def runner(script: Script, tools: List[Any], **options: Any) -> ToolRunner:
    return ToolRunner(
        script,
        start_run(ChatWire(), None, {"model": "m", "messages": [USER], "tools": tools, **options}, None),
    )


def unanswered(messages: List[Any]) -> List[str]:
    return ChatWire().unanswered(messages)


@meshapi.tool
def add(a: int, b: int = 1) -> int:
    """Add two numbers.

    Args:
        a: the first number
        b: the second number
    """
    return a + b


# --- schemas and validation ---------------------------------------------------------------------------


def test_the_schema_comes_from_the_hints_the_docstring_and_the_defaults() -> None:
    @meshapi.tool(name="lookup", strict=True)
    def find(city: Annotated[str, "The city name"], limit: int = 3) -> str:
        """Look a city up."""
        return city

    assert dict(add) == {
        "type": "function",
        "function": {
            "name": "add",
            "description": "Add two numbers.",
            "parameters": {
                "type": "object",
                "properties": {
                    "a": {"type": "integer", "description": "the first number"},
                    "b": {"type": "integer", "default": 1, "description": "the second number"},
                },
                "required": ["a"],
                "additionalProperties": False,
            },
        },
    }
    assert find["function"]["strict"] is True
    assert find["function"]["parameters"]["required"] == ["city", "limit"]
    assert find["function"]["parameters"]["properties"]["city"]["description"] == "The city name"
    assert add(2, 3) == 5  # still the function


def test_a_pydantic_model_and_a_dict_are_tools_too() -> None:
    class Square(BaseModel):
        """Square a number."""

        n: int = Field(description="the number")

        def __call__(self) -> int:
            return self.n * self.n

    script = Script(reply(("Square", {"n": 4}), ("cube", {"n": 2})), reply(content="done"))
    cube = {
        "type": "function",
        "function": {
            "name": "cube",
            "parameters": {"type": "object", "properties": {"n": {"type": "integer"}}},
        },
        "callable": lambda n: n**3,
    }
    run = runner(script, [Square, cube])
    assert run.until_done().choices[0].message.content == "done"
    assert [m["content"] for m in run.messages if m.get("role") == "tool"] == ["16", "8"]
    sent = script.sent[0]["tools"]
    assert [t["function"]["name"] for t in sent] == ["Square", "cube"]
    assert "callable" not in sent[1]
    with pytest.raises(InvalidParamsError, match="__call__"):
        meshapi.tool(BaseModel)


def test_invalid_arguments_go_back_to_the_model_as_the_result() -> None:
    script = Script(reply(("add", {"a": "many"})), reply(("add", {"a": 2})), reply(content="3"))
    run = runner(script, [add])
    run.until_done()
    results = [r.content for r in run.tool_results]
    assert (
        results[0]
        == "Error: invalid arguments for 'add': a: Input should be a valid integer, unable to parse string as an integer"
    )
    assert results[1] == "3"
    assert [r.is_error for r in run.tool_results] == [True, False]


def test_an_unknown_tool_and_a_failing_tool_answer_with_an_error_text() -> None:
    @meshapi.tool
    def boom() -> str:
        """Fails."""
        raise RuntimeError("no disk")

    script = Script(reply(("nope", {}), ("boom", {})), reply(content="ok"))
    run = runner(script, [boom])
    run.until_done()
    assert [r.content for r in run.tool_results] == [
        "Error: there is no tool named 'nope'",
        "Error: RuntimeError: no disk",
    ]
    script = Script(reply(("boom", {})), reply(content="ok"))
    run = runner(script, [boom], tool_tracebacks=True)
    run.until_done()
    assert run.tool_results[0].content.startswith(
        "Error: RuntimeError: no disk\nTraceback (most recent call last):"
    )


# --- turns, totals, limits ----------------------------------------------------------------------------


def test_iterating_yields_each_turn_and_totals_add_up() -> None:
    script = Script(reply(("add", {"a": 1})), reply(content="2", cost="0.5"))
    run = runner(script, [add])
    assert script.sent == []  # nothing before iteration
    turns = list(run)
    assert [t.choices[0].finish_reason for t in turns] == ["tool_calls", "stop"]
    assert (run.usage.prompt_tokens, run.usage.completion_tokens, run.usage.total_tokens) == (20, 4, 24)
    assert run.cost_usd == Decimal("0.5")
    assert script.sent[1]["messages"][1:] == [
        {
            "role": "assistant",
            "tool_calls": [
                {"id": "call_0_add", "type": "function", "function": {"name": "add", "arguments": '{"a": 1}'}}
            ],
        },
        {"role": "tool", "tool_call_id": "call_0_add", "content": "2"},
    ]
    assert script.sent[1]["model"] == "m" and "max_iterations" not in script.sent[1]
    assert run.messages[-1] == {"role": "assistant", "content": "2"}


def test_max_iterations_raises_with_a_sealed_transcript() -> None:
    script = Script(reply(("add", {"a": 1})), reply(("add", {"a": 2})))
    run = runner(script, [add], max_iterations=2)
    with pytest.raises(ToolLoopLimitError, match=r"max_iterations \(2\)") as caught:
        run.until_done()
    assert caught.value.messages[-1] == {
        "role": "tool",
        "tool_call_id": "call_0_add",
        "content": "not run: the run reached max_iterations (2)",
    }
    assert unanswered(caught.value.messages) == [] and unanswered(run.messages) == []
    assert isinstance(caught.value, ToolLoopError)


def test_on_limit_final_answer_asks_for_an_answer_without_tools() -> None:
    script = Script(reply(("add", {"a": 1}), ("add", {"a": 2})), reply(content="fine"))
    run = runner(script, [add], max_tool_calls=1, on_limit="final_answer")
    assert run.until_done().choices[0].message.content == "fine"
    last = script.sent[-1]
    assert last["tool_choice"] == "none"
    assert last["messages"][-1] == {"role": "user", "content": LIMIT_PROMPT}
    assert unanswered(last["messages"]) == []
    assert run.tool_results == []  # the calls past the limit were not run


def test_max_uses_answers_the_extra_call_with_an_error() -> None:
    limited = meshapi.tool(lambda: "hi", name="greet", max_uses=1)
    script = Script(reply(("greet", {})), reply(("greet", {"x": 1})), reply(content="bye"))
    run = runner(script, [limited])
    run.until_done()
    assert [r.content for r in run.tool_results] == [
        "hi",
        "Error: the tool 'greet' may be used at most 1 times in this run",
    ]


def test_options_are_checked() -> None:
    for bad in ({"max_iterations": 0}, {"on_limit": "ignore"}, {"tool_timeout": -1}, {"parallel": 0}):
        with pytest.raises(InvalidParamsError):
            runner(Script(), [add], **bad)


def test_an_option_passed_as_none_is_its_default() -> None:
    # help() shows every run_tools keyword with the default None: None means the default (10 iterations)
    script = Script(*[reply(("add", {"a": i})) for i in range(11)])
    none = dict.fromkeys(("max_iterations", "max_tool_calls", "parallel", "on_limit", "tool_tracebacks"))
    run = runner(script, [add], **none)
    with pytest.raises(ToolLoopLimitError, match=r"max_iterations \(10\)"):
        run.until_done()
    assert len(script.sent) == 10


# --- stall detection ----------------------------------------------------------------------------------


def test_the_same_call_three_times_stops_the_run() -> None:
    script = Script(*[reply(("add", {"b": 2, "a": 1})) for _ in range(3)])
    run = runner(script, [add])
    with pytest.raises(ToolLoopError, match="add was called three times with the same arguments") as caught:
        run.until_done()
    assert not isinstance(caught.value, ToolLoopLimitError)
    assert len(script.sent) == 3 and len(run.tool_results) == 2
    assert caught.value.messages[-1]["content"] == "not run: the run was stopped (it was repeating itself)"
    assert unanswered(caught.value.messages) == []


def test_an_a_b_a_b_cycle_stops_the_run() -> None:
    script = Script(
        reply(("add", {"a": 1})), reply(("add", {"a": 2})), reply(("add", {"a": 1})), reply(("add", {"a": 2}))
    )
    with pytest.raises(ToolLoopError, match="a cycle add -> add -> add -> add"):
        runner(script, [add]).until_done()
    assert len(script.sent) == 4
    script = Script(
        reply(("add", {"a": 1})), reply(("add", {"a": 2})), reply(("add", {"a": 3})), reply(content="6")
    )
    assert runner(script, [add]).until_done().choices[0].message.content == "6"  # progress is not a stall


# --- sealing ------------------------------------------------------------------------------------------


def test_an_exception_inside_a_tool_run_seals_every_call() -> None:
    @meshapi.tool
    def interrupt() -> str:
        """Ctrl-C while running."""
        raise KeyboardInterrupt

    script = Script(reply(("add", {"a": 1}), ("interrupt", {}), ("add", {"a": 5})))
    run = runner(script, [add, interrupt])
    with pytest.raises(KeyboardInterrupt):
        run.until_done()
    tool_messages = [m for m in run.messages if m.get("role") == "tool"]
    assert [(m["tool_call_id"], m["content"]) for m in tool_messages] == [
        ("call_0_add", "2"),
        ("call_1_interrupt", "not run: the run was interrupted (KeyboardInterrupt)"),
        ("call_2_add", "not run: the run was interrupted (KeyboardInterrupt)"),
    ]


def test_closing_a_run_between_turns_leaves_no_call_unanswered() -> None:
    script = Script(reply(("add", {"a": 1})), reply(content="x"))
    run = runner(script, [add])
    first = next(run)
    assert first.choices[0].finish_reason == "tool_calls"
    run.close()
    assert unanswered(run.messages) == [] and run.tool_results == []
    assert run.messages[-1]["content"] == "not run: the run was interrupted (GeneratorExit)"


async def test_a_cancelled_async_run_is_sealed() -> None:
    started = asyncio.Event()

    @meshapi.tool
    async def slow() -> str:
        """Waits."""
        started.set()
        await asyncio.sleep(30)
        return "late"

    script = AsyncScript(reply(("slow", {})), reply(content="x"))
    run = AsyncToolRunner(
        script, start_run(ChatWire(), None, {"model": "m", "messages": [USER], "tools": [slow]}, None)
    )
    task = asyncio.ensure_future(run.until_done())
    await asyncio.wait_for(started.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert run.messages[-1] == {
        "role": "tool",
        "tool_call_id": "call_0_slow",
        "content": "not run: the run was interrupted (CancelledError)",
    }


# --- costs of turns that carry none -------------------------------------------------------------------


def _with_id(completion: ChatCompletionResponse, request_id: str) -> ChatCompletionResponse:
    completion._request_id = request_id
    return completion


def _lookup(*costs: Any) -> Any:
    from meshapi.types.usage import CostLookup

    return CostLookup.model_validate({"costs": [dict(c) for c in costs], "pages_read": 1})


def test_turn_costs_are_looked_up_once_at_the_end_and_estimates_are_marked() -> None:
    script = Script(
        _with_id(reply(("add", {"a": 1})), "req_1"),
        _with_id(reply(("add", {"a": 2})), "req_2"),
        _with_id(reply(content="3", cost="0.25"), "req_3"),  # a turn that carries its cost is not asked for
    )
    asked: List[Any] = []

    def costs(ids: List[str], hints: Dict[str, Any]) -> Any:
        asked.append((ids, hints))
        return _lookup(
            {"request_id": "req_1", "cost_usd": "0.5", "estimated": False},
            {"request_id": "req_2", "cost_usd": "0.125", "estimated": True},
        )

    run = ToolRunner(
        script, start_run(ChatWire(), None, {"model": "m", "messages": [USER], "tools": [add]}, None), costs
    )
    assert run.cost_usd is None and run.cost_estimated is False  # nothing ran yet
    run.until_done()
    hint = {"model": "m", "prompt_tokens": 10, "completion_tokens": 2}
    assert asked == [(["req_1", "req_2"], {"req_1": hint, "req_2": hint})]
    assert run.cost_usd == Decimal("0.875")
    assert run.cost_estimated is True  # req_2's cost is the catalog's estimate


async def test_a_failed_lookup_leaves_the_total_partial_and_not_exact() -> None:
    script = AsyncScript(
        _with_id(reply(("add", {"a": 1})), "req_1"), _with_id(reply(content="2", cost="0.5"), "req_2")
    )

    async def costs(ids: List[str], hints: Dict[str, Any]) -> Any:
        assert ids == ["req_1"]
        return None  # the lookup failed (no usage API behind the base URL)

    state = start_run(ChatWire(), None, {"model": "m", "messages": [USER], "tools": [add]}, None)
    run = AsyncToolRunner(script, state, costs)
    await run.until_done()
    assert run.cost_usd == Decimal("0.5")
    assert run.cost_estimated is True


def test_exact_costs_found_for_every_turn_are_not_estimated() -> None:
    script = Script(_with_id(reply(content="done"), "req_9"))
    run = ToolRunner(
        script,
        start_run(ChatWire(), None, {"model": "m", "messages": [USER], "tools": [add]}, None),
        lambda ids, hints: _lookup({"request_id": "req_9", "cost_usd": "0.001", "estimated": False}),
    )
    run.until_done()
    assert (run.cost_usd, run.cost_estimated) == (Decimal("0.001"), False)
