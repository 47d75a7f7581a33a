"""Whole tool runs against the local gateway: the stand-in model calls the offered tool, the runner runs it,
the model answers; scripted replies drive typed answers and limits turn by turn (sync and async)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterator, List

import pytest
from pydantic import BaseModel

import meshapi
from meshapi import AsyncMeshAPI, MeshAPI, ToolLoopLimitError
from meshapi.lib.tool_loop import LIMIT_PROMPT
from tests.conftest import resolve

QUESTION = [{"role": "user", "content": "What is the weather in Paris?"}]
ANSWER = (
    "Based on the tool result, Good question about Paris. Most discussions of Paris start with rain and "
    "the balance it extends."
)
calls: List[Any] = []


@meshapi.tool
def get_weather(city: str, unit: str = "C") -> str:
    """Current weather for a city."""
    calls.append((city, unit))
    return f"{city}: rain, 9 {unit}"


@meshapi.tool(name="get_weather")
async def get_weather_async(city: str, unit: str = "C") -> str:
    """Current weather for a city."""
    calls.append((city, unit))
    return f"{city}: rain, 9 {unit}"


class Forecast(BaseModel):
    city: str
    umbrella: bool


@pytest.fixture
def replies(gateway: Any) -> Iterator[Any]:
    calls.clear()
    yield gateway.replies
    gateway.replies.reset()


def _sent(gateway: Any, since: int) -> List[Any]:
    return [record.json for record in list(gateway.requests)[since:] if record.path == "/v1/chat/completions"]


def test_a_sync_run_calls_the_tool_and_answers(client: MeshAPI, gateway: Any, replies: Any) -> None:
    since = len(gateway.requests)
    run = client.chat.completions.run_tools(model="gpt-4o-mini", messages=QUESTION, tools=[get_weather])
    final = run.until_done()
    assert final.choices[0].message.content == ANSWER
    assert calls == [("Paris", "celsius")]
    sent = _sent(gateway, since)
    assert len(sent) == 2
    assert sent[1]["messages"][-1]["content"] == "Paris: rain, 9 celsius"
    assert sent[0]["tools"] == [dict(get_weather)]
    assert [m["role"] for m in run.messages] == ["user", "assistant", "tool", "assistant"]
    assert run.usage.total_tokens == sum(c.usage.total_tokens for c in run.completions)
    again = client.chat.completions.create(model="gpt-4o-mini", messages=run.messages, tools=[get_weather])
    assert again.choices[0].finish_reason == "stop"  # the transcript can be sent again


async def test_an_async_run_calls_the_tool_and_answers(
    async_client: AsyncMeshAPI, gateway: Any, replies: Any
) -> None:
    run = async_client.chat.completions.run_tools(
        model="gpt-4o-mini", messages=QUESTION, tools=[get_weather_async]
    )
    turns = [turn async for turn in run]
    assert [t.choices[0].finish_reason for t in turns] == ["tool_calls", "stop"]
    assert turns[-1].choices[0].message.content.startswith("Based on the tool result")  # type: ignore[union-attr]
    assert calls == [("Paris", "celsius")]


async def test_a_scripted_run_ends_with_a_typed_answer(any_client: Any, mode: str, replies: Any) -> None:
    replies.add(
        [
            {
                "match": "umbrella in Bergen",
                "turns": [
                    {"tool_calls": [{"name": "get_weather", "arguments": {"city": "Bergen"}}]},
                    {"json": {"city": "Bergen", "umbrella": True}},
                ],
            }
        ]
    )
    run = any_client.chat.completions.run_tools(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Do I need an umbrella in Bergen?"}],
        tools=[get_weather],
        response_format=Forecast,
    )
    final = run.until_done() if mode == "sync" else await run.until_done()
    assert final.choices[0].message.parsed == Forecast(city="Bergen", umbrella=True)
    assert calls == [("Bergen", "C")]
    assert len(run.completions) == 2


def test_a_run_past_max_iterations_raises_and_on_limit_answers(client: MeshAPI, replies: Any) -> None:
    looping = [{"tool_calls": [{"name": "get_weather", "arguments": {"city": c}}]} for c in ("A", "B", "C")]
    replies.add([{"match": "forever", "turns": [*looping, {"content": "I give up."}]}])
    ask = [{"role": "user", "content": "Check the weather forever"}]
    with pytest.raises(ToolLoopLimitError) as caught:
        client.chat.completions.run_tools(
            model="gpt-4o-mini", messages=ask, tools=[get_weather], max_iterations=2
        ).until_done()
    assert [m["role"] for m in caught.value.messages] == ["user", "assistant", "tool", "assistant", "tool"]
    run = client.chat.completions.run_tools(
        model="gpt-4o-mini", messages=ask, tools=[get_weather], max_iterations=2, on_limit="final_answer"
    )
    final = run.until_done()
    # the scripted turn 2 is a tool call, but tool_choice "none" was sent: the reply is text
    assert final.choices[0].message.tool_calls is None
    assert run.messages[-2] == {"role": "user", "content": LIMIT_PROMPT}
    assert final.choices[0].message.content == run.messages[-1]["content"]


def _costs(gateway: Any, since: int) -> Decimal:
    records = [r for r in list(gateway.requests)[since:] if r.path == "/v1/chat/completions"]
    assert len(records) == 2
    return sum((Decimal(r.cost) for r in records), Decimal(0))


def _check_events(events: List[Any], final: Any) -> None:
    kinds = [event.type for event in events]
    assert kinds[0] == "turn.finished"  # the first turn only calls the tool: no text
    assert kinds[1:3] == ["tool_call.started", "tool_call.finished"]
    assert kinds[-1] == "turn.finished" and set(kinds[3:-1]) == {"content.delta"}
    started, done = events[1], events[2]
    assert (started.name, started.arguments) == ("get_weather", {"city": "Paris", "unit": "celsius"})
    assert (done.call_id, done.content, done.is_error) == (started.call_id, "Paris: rain, 9 celsius", False)
    assert done.duration >= 0
    assert "".join(e.delta for e in events if e.type == "content.delta") == ANSWER
    assert [e.turn for e in events if e.type == "turn.finished"] == [0, 1]
    assert events[-1].completion is final and final.choices[0].message.content == ANSWER


def test_a_streamed_run_yields_typed_events(client: MeshAPI, gateway: Any, replies: Any) -> None:
    since = len(gateway.requests)
    run = client.chat.completions.run_tools(
        model="gpt-4o-mini", messages=QUESTION, tools=[get_weather], stream=True
    )
    events = list(run)
    _check_events(events, run.completions[-1])
    assert all(record.json["stream"] is True for record in list(gateway.requests)[since:])
    assert run.cost_usd == _costs(gateway, since) and run.cost_usd > 0
    assert run.usage.total_tokens == sum(c.usage.total_tokens for c in run.completions)


async def test_an_async_streamed_run_yields_typed_events(
    async_client: AsyncMeshAPI, gateway: Any, replies: Any
) -> None:
    since = len(gateway.requests)
    run = async_client.chat.completions.run_tools(
        model="gpt-4o-mini", messages=QUESTION, tools=[get_weather_async], stream=True
    )
    events = [event async for event in run]
    _check_events(events, run.completions[-1])
    assert run.cost_usd == _costs(gateway, since)
    assert calls == [("Paris", "celsius")]


RESPONSES_ANSWER = "Based on the tool result, Paris in brief. Most discussions of rain start with Paris and the goal it reflects."


def _output_text(response: Any) -> str:
    (message,) = [item for item in response.output if item["type"] == "message"]
    return str(message["content"][0]["text"])


async def test_a_responses_run_sends_function_call_outputs(
    any_client: Any, gateway: Any, replies: Any
) -> None:
    since = len(gateway.requests)
    tool = get_weather if isinstance(any_client, MeshAPI) else get_weather_async
    run = any_client.responses.run_tools(
        model="gpt-4o-mini", input="What is the weather in Paris?", tools=[tool]
    )
    final = await resolve(run.until_done())
    assert _output_text(final) == RESPONSES_ANSWER
    assert calls == [("Paris", "celsius")]
    sent = [r.json for r in list(gateway.requests)[since:] if r.path == "/v1/responses"]
    assert len(sent) == 2
    assert sent[0]["tools"] == [{"type": "function", **dict(get_weather)["function"]}]
    call_item, output_item = sent[1]["input"][1:]
    assert (call_item["type"], call_item["name"]) == ("function_call", "get_weather")
    assert output_item == {
        "type": "function_call_output",
        "call_id": call_item["call_id"],
        "output": "Paris: rain, 9 celsius",
    }
    assert [item.get("type", "user") for item in run.messages] == [
        "user",
        "function_call",
        "function_call_output",
        "message",
    ]
    assert run.usage.total_tokens == sum(r.usage.total_tokens for r in run.completions)


def test_a_streamed_responses_run_yields_typed_events(client: MeshAPI, replies: Any) -> None:
    run = client.responses.run_tools(
        model="gpt-4o-mini", input="What is the weather in Paris?", tools=[get_weather], stream=True
    )
    events = list(run)
    kinds = [event.type for event in events]
    assert kinds[:3] == ["turn.finished", "tool_call.started", "tool_call.finished"]
    assert kinds[-1] == "turn.finished" and set(kinds[3:-1]) == {"content.delta"}
    assert "".join(e.delta for e in events if e.type == "content.delta") == RESPONSES_ANSWER
    assert _output_text(run.completions[-1]) == RESPONSES_ANSWER


def test_each_turn_goes_through_the_clients_retries_and_hooks(gateway: Any, replies: Any) -> None:
    from tests.integration.conftest import FAST

    seen: List[int] = []
    since = len(gateway.requests)
    with MeshAPI(
        base_url=gateway.base_url,
        token=gateway.token,
        on_response=lambda view: seen.append(view.status_code),
        **FAST,
    ) as hooked:
        run = hooked.chat.completions.run_tools(model="gpt-4o-mini", messages=QUESTION, tools=[get_weather])
        next(run)  # the first turn
        gateway.faults.add("/v1/chat/completions", status=503, times=1)  # the second one is retried
        final = run.until_done()
    assert final.choices[0].message.content == ANSWER
    assert seen == [200, 503, 200, 200]  # the two turns (the second one retried), then the cost lookup
    paths = [r.path for r in list(gateway.requests)[since:]]
    assert paths == ["/v1/chat/completions"] * 3 + ["/v1/usage/events"]


def test_each_turn_goes_along_the_clients_fallback_chain(gateway: Any, replies: Any) -> None:
    from tests.integration.conftest import FAST

    primary, backup = "openai/gpt-4o-mini", "anthropic/claude-haiku-4.5"
    hops: List[Any] = []
    since = len(gateway.requests)
    gateway.provider_faults.add(primary, status=503, times=-1)
    try:
        with MeshAPI(
            base_url=gateway.base_url,
            token=gateway.token,
            max_retries=0,
            fallback=meshapi.FallbackConfig([backup]),
            logger=hops.append,
            **FAST,
        ) as chained:
            run = chained.chat.completions.run_tools(model=primary, messages=QUESTION, tools=[get_weather])
            final = run.until_done()
    finally:
        gateway.provider_faults.clear()
    assert calls == [("Paris", "celsius")] and final.choices[0].message.content == run.messages[-1]["content"]
    assert final.choices[0].message.content.startswith("Based on the tool result, ")  # the backup's answer
    assert [c.model for c in run.completions] == [backup, backup]
    assert [m["model"] for m in _sent(gateway, since)] == [primary, backup, primary, backup]
    assert [(h.from_model, h.to_model) for h in hops if isinstance(h, meshapi.FallbackEvent)] == [
        (primary, backup)
    ] * 2
