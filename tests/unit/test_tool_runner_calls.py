"""The tool runner's calls without a server: the approval hook (sync and async), parallel calls in
threads and tasks, ``tool_timeout``, and the Responses API's shape of a run (string input, hosted tools
offered as given, sealed ``function_call`` items). Helpers and scripted replies: ``test_tool_runner``.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any, Dict, List, Optional

import pytest

import meshapi
from meshapi import ToolLoopError
from meshapi.lib.tool_calls import ToolDecision
from meshapi.lib.tool_loop import ChatWire, start_run
from meshapi.lib.tool_runner import ToolRunner
from meshapi.lib.tool_runner_async import AsyncToolRunner
from tests.unit.test_tool_runner import USER, AsyncScript, Script, add, reply, runner

# --- approval -----------------------------------------------------------------------------------------


def test_the_approval_hook_allows_denies_and_stops() -> None:
    seen: List[Any] = []

    def hook(call: Any) -> Any:
        seen.append((call.name, call.parsed_arguments))
        return {1: True, 2: "not today", 3: ToolDecision.stop("enough")}[call.parsed_arguments["a"]]

    script = Script(
        reply(("add", {"a": 1}), ("add", {"a": 2})),
        reply(("add", {"a": 3}), ("add", {"a": 4})),
        reply(content="never"),
    )
    run = runner(script, [add], on_tool_call=hook)
    final = run.until_done()
    assert final.choices[0].finish_reason == "tool_calls" and len(script.sent) == 2
    assert run.stop_reason == "enough"
    assert seen == [("add", {"a": 1, "b": 1}), ("add", {"a": 2, "b": 1}), ("add", {"a": 3, "b": 1})]
    tool_messages = [(m["tool_call_id"], m["content"]) for m in run.messages if m.get("role") == "tool"]
    assert tool_messages == [
        ("call_0_add", "2"),
        ("call_1_add", "not today"),
        ("call_0_add", "enough"),
        ("call_1_add", "not run: enough"),
    ]


async def test_an_async_hook_is_awaited() -> None:
    async def hook(call: Any) -> bool:
        return False

    script = AsyncScript(reply(("add", {"a": 1})), reply(content="ok"))
    run = AsyncToolRunner(
        script,
        start_run(
            ChatWire(), None, {"model": "m", "messages": [USER], "tools": [add], "on_tool_call": hook}, None
        ),
    )
    assert (await run.until_done()).choices[0].message.content == "ok"
    assert run.tool_results[0].content == "The user did not allow this tool call."


# --- parallel and timeouts ----------------------------------------------------------------------------


def test_parallel_sync_tools_run_at_the_same_time() -> None:
    barrier = threading.Barrier(3, timeout=5)

    @meshapi.tool
    def meet(n: int) -> int:
        """Waits for the two others."""
        barrier.wait()
        return n

    script = Script(reply(("meet", {"n": 1}), ("meet", {"n": 2}), ("meet", {"n": 3})), reply(content="met"))
    run = runner(script, [meet], parallel=True)
    assert run.until_done().choices[0].message.content == "met"
    assert [r.content for r in run.tool_results] == ["1", "2", "3"]  # in call order


async def test_parallel_async_tools_run_concurrently_and_in_call_order() -> None:
    arrived: List[int] = []
    both = asyncio.Event()

    @meshapi.tool
    async def meet(n: int) -> int:
        """Waits for the other."""
        arrived.append(n)
        if len(arrived) == 2:
            both.set()
        await asyncio.wait_for(both.wait(), 5)
        return n

    script = AsyncScript(reply(("meet", {"n": 1}), ("meet", {"n": 2})), reply(content="met"))
    run = AsyncToolRunner(
        script,
        start_run(ChatWire(), None, {"model": "m", "messages": [USER], "tools": [meet], "parallel": 2}, None),
    )
    await run.until_done()
    assert [r.content for r in run.tool_results] == ["1", "2"]


def test_tool_timeout_answers_with_a_timeout_error() -> None:
    release = threading.Event()

    @meshapi.tool
    def stuck() -> str:
        """Never returns in time."""
        release.wait(10)
        return "late"

    script = Script(reply(("stuck", {})), reply(content="ok"))
    run = runner(script, [stuck], tool_timeout=0.05)
    started = time.monotonic()
    run.until_done()
    release.set()
    assert time.monotonic() - started < 5
    assert run.tool_results[0].content == "Error: TimeoutError: the tool did not finish within 0.05 s"


async def test_async_tool_timeout() -> None:
    @meshapi.tool
    async def stuck() -> str:
        """Never returns in time."""
        await asyncio.sleep(10)
        return "late"

    script = AsyncScript(reply(("stuck", {})), reply(content="ok"))
    run = AsyncToolRunner(
        script,
        start_run(
            ChatWire(), None, {"model": "m", "messages": [USER], "tools": [stuck], "tool_timeout": 0.05}, None
        ),
    )
    await run.until_done()
    assert run.tool_results[0].content == "Error: TimeoutError: the tool did not finish within 0.05 s"


# --- the Responses API's shape ------------------------------------------------------------------------


def response(*calls: Any, text: Optional[str] = None) -> Any:
    from meshapi.types.responses import ResponsesResponse

    output: List[Dict[str, Any]] = [
        {
            "type": "function_call",
            "id": f"fc_{i}",
            "call_id": f"call_{i}",
            "name": n,
            "arguments": json.dumps(a),
        }
        for i, (n, a) in enumerate(calls)
    ]
    if text is not None:
        output.append(
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": text}]}
        )
    usage = {"input_tokens": 5, "output_tokens": 1, "total_tokens": 6}
    return ResponsesResponse.model_validate({"id": "resp_1", "output": output, "usage": usage})


def test_a_responses_run_offers_hosted_tools_as_given_and_seals_function_calls() -> None:
    from meshapi.lib.tool_responses import ResponsesWire

    hosted = {"type": "mcp", "server_label": "docs", "server_url": "https://mcp.example/sse"}
    script = Script(response(("add", {"a": 1})), response(("add", {"a": 1}), ("add", {"a": 1})))
    state = start_run(ResponsesWire(), None, {"model": "m", "input": "go", "tools": [add, hosted]}, None)
    run = ToolRunner(script, state)
    with pytest.raises(ToolLoopError, match="add was called three times"):
        run.until_done()
    assert script.sent[0]["input"] == [{"role": "user", "content": "go"}]
    assert script.sent[0]["tools"] == [{"type": "function", **add["function"]}, hosted]
    assert script.sent[1]["input"][1:] == [
        {"type": "function_call", "id": "fc_0", "call_id": "call_0", "name": "add", "arguments": '{"a": 1}'},
        {"type": "function_call_output", "call_id": "call_0", "output": "2"},
    ]
    assert run.messages[-2:] == [
        {
            "type": "function_call_output",
            "call_id": "call_0",
            "output": "not run: the run was stopped (it was repeating itself)",
        },
        {
            "type": "function_call_output",
            "call_id": "call_1",
            "output": "not run: the run was stopped (it was repeating itself)",
        },
    ]
    assert ResponsesWire().unanswered(run.messages) == []
    assert (run.usage.input_tokens, run.usage.output_tokens, run.usage.total_tokens) == (10, 2, 12)
