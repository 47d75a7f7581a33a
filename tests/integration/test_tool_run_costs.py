"""A tool run's cost and typed answer against the local gateway (sync and async): ``cost_usd`` of a run of
plain (not streamed) turns is the sum of the turns' usage-event costs, exact; ``responses.run_tools``
with ``text_format`` ends in a ``ParsedResponse`` whose ``output_parsed`` is the typed answer."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterator, List

import pytest
from pydantic import BaseModel

import meshapi
from meshapi.types.responses import ParsedResponse
from tests.conftest import collect, resolve

QUESTION = [{"role": "user", "content": "What is the weather in Paris?"}]
calls: List[Any] = []


@meshapi.tool
def get_weather(city: str, unit: str = "C") -> str:
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


async def _event_costs(client: Any, request_ids: List[str]) -> Decimal:
    events = {e.request_id: e for e in await collect(client.usage.iter_events())}
    return sum((events[request_id].cost_usd for request_id in request_ids), Decimal(0))


async def test_cost_usd_is_the_sum_of_the_turns_usage_event_costs(
    any_client: Any, gateway: Any, replies: Any
) -> None:
    since = len(gateway.requests)
    run = any_client.chat.completions.run_tools(model="gpt-4o-mini", messages=QUESTION, tools=[get_weather])
    await resolve(run.until_done())
    ids = [completion._request_id for completion in run.completions]
    assert len(ids) == 2 and all(ids)
    assert all(getattr(c, "cost", None) is None for c in run.completions)  # plain replies carry no cost
    paths = [r.path for r in list(gateway.requests)[since:]]
    assert paths == ["/v1/chat/completions", "/v1/chat/completions", "/v1/usage/events"]  # one walk
    expected = await _event_costs(any_client, ids)
    assert expected > 0
    assert run.cost_usd == expected
    assert run.cost_estimated is False


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
async def test_a_responses_run_prices_its_turns_too(
    any_client: Any, gateway: Any, replies: Any, stream: bool
) -> None:
    since = len(gateway.requests)
    run = any_client.responses.run_tools(
        model="gpt-4o-mini", input="What is the weather in Paris?", tools=[get_weather], stream=stream
    )
    await resolve(run.until_done())
    sent = [r for r in list(gateway.requests)[since:] if r.path == "/v1/responses"]
    ids = [r.request_id for r in sent]  # a streamed turn's reply is accumulated: the log knows its id
    assert len(ids) == 2 and all(ids)
    expected = await _event_costs(any_client, ids)
    assert (
        expected > 0 or stream
    )  # the local gateway bills a streamed response at 0 (its events carry no cost)
    assert run.cost_usd == expected
    assert run.cost_estimated is False


async def test_responses_run_tools_text_format_gives_a_typed_final_answer(
    any_client: Any, gateway: Any, replies: Any
) -> None:
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
    since = len(gateway.requests)
    run = any_client.responses.run_tools(
        model="gpt-4o-mini",
        input="Do I need an umbrella in Bergen?",
        tools=[get_weather],
        text_format=Forecast,
    )
    final = await resolve(run.until_done())
    assert isinstance(final, ParsedResponse)
    assert final.output_parsed == Forecast(city="Bergen", umbrella=True)
    first = run.completions[0]
    assert isinstance(first, ParsedResponse) and first.output_parsed is None  # a turn that calls a tool
    assert calls == [("Bergen", "C")]
    sent = [r.json for r in list(gateway.requests)[since:] if r.path == "/v1/responses"]
    assert len(sent) == 2
    for body in sent:
        fmt = body["text"]["format"]
        assert (fmt["type"], fmt["name"], fmt["strict"]) == ("json_schema", "Forecast", True)
        assert sorted(fmt["schema"]["properties"]) == ["city", "umbrella"]
    assert "text_format" not in sent[0]
