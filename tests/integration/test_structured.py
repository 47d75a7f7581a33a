"""Structured outputs and stream events against the local gateway over real sockets, sync and async."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import pytest
from pydantic import BaseModel, Field

import meshapi
from tests.conftest import resolve

MODEL = "openai/gpt-4o-mini"


class Trip(BaseModel):
    """A trip."""

    city: str
    country: str
    days: int = Field(ge=1, le=14)
    sights: List[str]
    budget: Optional[float] = None


class Booking(BaseModel):
    city: str
    nights: int


class Scores(BaseModel):  # Dict[...] cannot be strict: sent as a plain schema
    scores: Dict[str, int]


def ask(text: str) -> List[Dict[str, str]]:
    return [{"role": "user", "content": text}]


async def events_of(stream: Any) -> List[Any]:
    if hasattr(stream, "__aiter__"):
        return [e async for e in stream.events()]
    return list(stream.events())


async def test_parse_returns_a_validated_instance(any_client: Any, gateway: Any) -> None:
    trip = await resolve(
        any_client.chat.completions.parse(
            model=MODEL, messages=ask("A week in Lisbon, Portugal"), response_format=Trip
        )
    )
    assert isinstance(trip, Trip) and 1 <= trip.days <= 14
    sent = gateway.requests.filter(path="/v1/chat/completions")[-1].json
    assert sent["response_format"]["json_schema"]["strict"] is True


async def test_parse_other_types_and_a_plain_schema(any_client: Any) -> None:
    numbers = await resolve(
        any_client.chat.completions.parse(messages=ask("3 and 4"), response_format=List[int])
    )
    assert isinstance(numbers, list) and all(isinstance(n, int) for n in numbers)
    scores = await resolve(any_client.chat.completions.parse(messages=ask("scores"), response_format=Scores))
    assert isinstance(scores, Scores)


async def test_create_with_a_model_and_pydantic_tools(any_client: Any) -> None:
    reply = await resolve(
        any_client.chat.completions.create(messages=ask("Trip to Oslo"), response_format=Trip)
    )
    assert isinstance(reply.choices[0].message.parsed, Trip)
    tool = meshapi.pydantic_function_tool(Booking, description="Book a hotel")
    reply = await resolve(
        any_client.chat.completions.create(messages=ask("Book Oslo"), tools=[tool], tool_choice="required")
    )
    call = reply.choices[0].message.tool_calls[0]
    assert call.function.parsed_arguments == Booking.model_validate_json(call.function.arguments)


async def test_stream_events_with_partial_and_final_values(any_client: Any) -> None:
    stream = await resolve(
        any_client.chat.completions.create(messages=ask("Rome, Italy"), response_format=Trip, stream=True)
    )
    events = await events_of(stream)
    deltas = [e for e in events if e.type == "content.delta"]
    done = [e for e in events if e.type == "content.done"]
    assert len(deltas) > 3 and len(done) == 1
    assert isinstance(deltas[-1].parsed, dict) and deltas[-1].snapshot == done[0].content
    assert isinstance(done[0].parsed, Trip)
    final = await resolve(stream.get_final_completion())
    assert final.choices[0].message.parsed == done[0].parsed


async def test_tool_call_events(any_client: Any) -> None:
    tool = meshapi.pydantic_function_tool(Booking)
    stream = any_client.chat.completions.stream(
        messages=ask("Book Oslo"), tools=[tool], tool_choice="required"
    )
    events = [e for e in await events_of(stream) if e.type.startswith("tool_calls")]
    assert events[-1].type == "tool_calls.function.arguments.done"
    assert isinstance(events[-1].parsed_arguments, Booking)
    assert all(e.name == "Booking" for e in events)


async def test_scripted_refusals(any_client: Any) -> None:
    with pytest.raises(meshapi.StructuredOutputError, match="refused"):
        await resolve(
            any_client.chat.completions.parse(messages=ask("[[refuse: No trips.]]"), response_format=Trip)
        )
    stream = any_client.chat.completions.stream(messages=ask("[[refuse: No trips.]]"), response_format=Trip)
    kinds = [e.type for e in await events_of(stream) if e.type != "chunk"]
    assert kinds[-1] == "refusal.done" and "content.done" not in kinds


async def test_a_schema_beyond_the_gateway_budget_is_a_bad_request(any_client: Any) -> None:
    huge = {"type": "object", "properties": {"v": {"type": "string", "minLength": 10**8}}, "required": ["v"]}
    with pytest.raises(meshapi.BadRequestError, match="minLength"):
        await resolve(any_client.chat.completions.parse(messages=ask("x"), response_format=huge))
