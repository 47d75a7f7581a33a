"""The Responses API's ergonomics against the local gateway over real sockets, sync and async: ``parse()``,
typed output items and ``output_text``, ``wait()`` on background responses, hosted tools passed through."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from meshapi import StructuredOutputError
from meshapi.types import ParsedResponse
from tests.conftest import resolve

MODEL = "openai/gpt-4o-mini"


class City(BaseModel):
    name: str
    population: int


async def test_parse_returns_the_validated_instance(any_client: Any, gateway: Any) -> None:
    reply = await resolve(any_client.responses.parse(model=MODEL, input="Name a city.", text_format=City))
    assert isinstance(reply, ParsedResponse) and reply.status == "completed"
    assert isinstance(reply.output_parsed, City)
    text = reply.output[-1]["content"][0]["text"]
    assert City.model_validate_json(text) == reply.output_parsed
    sent = gateway.requests[-1].json["text"]["format"]
    assert sent["type"] == "json_schema" and sent["name"] == "City" and sent["strict"] is True
    assert (
        sent["schema"]["required"] == ["name", "population"]
        and sent["schema"]["additionalProperties"] is False
    )


async def test_parse_refusal_and_incomplete_raise(any_client: Any) -> None:
    with pytest.raises(StructuredOutputError) as refused:
        await resolve(
            any_client.responses.parse(model=MODEL, input="[[refuse: Not this one.]]", text_format=City)
        )
    assert refused.value.message == "The reply does not match City: the model refused: Not this one."
    with pytest.raises(StructuredOutputError) as cut:
        await resolve(
            any_client.responses.parse(model=MODEL, input="A city", text_format=City, max_output_tokens=3)
        )
    assert cut.value.message == (
        "The reply does not match City: the response is incomplete (max_output_tokens), its text cut short"
    )
    assert cut.value.completion.status == "incomplete" and cut.value.content == '{"name'


async def test_output_items_are_typed(any_client: Any) -> None:
    from meshapi.types.response_items import (
        ResponseFunctionCall,
        ResponseOutputMessage,
        ResponseReasoningItem,
    )

    reply = await resolve(
        any_client.responses.create(model="openai/o4-mini", input="Say hi.", reasoning={"effort": "low"})
    )
    assert [type(item) for item in reply.output] == [ResponseReasoningItem, ResponseOutputMessage]
    message = reply.output[1]
    assert reply.output_text == message.text == message["content"][0]["text"] != ""
    tool = {
        "type": "function",
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    }
    called = await resolve(
        any_client.responses.create(
            model=MODEL, input="Weather in Oslo?", tools=[tool], tool_choice="required"
        )
    )
    assert [type(item) for item in called.output] == [ResponseFunctionCall]
    assert called.output[0].name == "get_weather" and called.output[0].call_id and called.output_text == ""


async def test_streamed_output_text_matches_the_final_items(any_client: Any) -> None:
    stream = await resolve(any_client.responses.create(model=MODEL, input="Count to three.", stream=True))
    final = await resolve(stream.get_final_response())
    assert final.output_text == stream.accumulator.output_text != ""


async def test_wait_returns_the_completed_background_response(any_client: Any) -> None:
    queued = await resolve(any_client.responses.create(model=MODEL, input="Say hi.", background=True))
    assert queued.status == "queued" and queued.output == [] and queued.output_text == ""
    done = await resolve(any_client.responses.wait(queued.id, timeout=10, poll_interval=0.02))
    assert done.status == "completed" and done.id == queued.id and done.output_text != ""
    plain = await resolve(any_client.responses.create(model=MODEL, input="Say hi."))
    assert done.output_text == plain.output_text


@pytest.fixture(scope="module")
def slow_gateway() -> Any:
    from meshapi_gateway import serve

    with serve(tokens=["rsk_slow_jobs"], response_step_seconds=60.0) as gw:
        yield gw


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_wait_times_out_and_cancel_ends_the_job(mode: str, slow_gateway: Any) -> None:
    from meshapi import AsyncMeshAPI, MeshAPI, WaitTimeoutError

    client: Any = (MeshAPI if mode == "sync" else AsyncMeshAPI)(
        base_url=slow_gateway.base_url, token=slow_gateway.token
    )
    try:
        queued = await resolve(client.responses.create(model=MODEL, input="Say hi.", background=True))
        with pytest.raises(WaitTimeoutError) as info:
            await resolve(client.responses.wait(queued.id, timeout=0.2, poll_interval=0.05))
        assert info.value.last.status == "queued" and info.value.resource_id == queued.id
        cancelled = await resolve(client.responses.cancel(queued.id))
        assert cancelled.status == "cancelled"
        assert (await resolve(client.responses.wait(queued.id, timeout=5))).status == "cancelled"
    finally:
        await resolve(client.close())


HOSTED = [
    {"type": "mcp", "server_label": "wiki", "server_url": "https://mcp.example/sse", "allowed_tools": None},
    {"type": "web_search", "search_context_size": "low"},
    {"type": "file_search", "vector_store_ids": ["vs_1"], "filters": None},
    {"type": "a_tool_from_next_year", "knob": 3},
]


async def test_hosted_tools_reach_the_gateway_untouched_and_are_ignored(
    any_client: Any, gateway: Any
) -> None:
    plain = await resolve(any_client.responses.create(model=MODEL, input="Weather in Oslo?"))
    hosted = await resolve(any_client.responses.create(model=MODEL, input="Weather in Oslo?", tools=HOSTED))
    assert gateway.requests[-1].json["tools"] == HOSTED
    assert hosted.status == "completed" and hosted.output_text == plain.output_text
    stream = await resolve(
        any_client.responses.create(model=MODEL, input="Weather in Oslo?", tools=HOSTED, stream=True)
    )
    assert await resolve(stream.get_final_text()) == plain.output_text
    assert gateway.requests[-1].json["tools"] == HOSTED
    weather = {"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {}}}
    called = await resolve(
        any_client.responses.create(
            model=MODEL, input="Weather?", tools=[*HOSTED, weather], tool_choice="required"
        )
    )
    assert [(item.type, item.name) for item in called.output] == [("function_call", "get_weather")]


async def test_parse_and_wait_on_aiohttp(gateway: Any) -> None:
    pytest.importorskip("aiohttp")
    from meshapi import AsyncMeshAPI

    async with AsyncMeshAPI(
        base_url=gateway.base_url, token=gateway.token, http_transport="aiohttp"
    ) as client:
        parsed = await client.responses.parse(model=MODEL, input="Name a city.", text_format=City)
        assert isinstance(parsed.output_parsed, City)
        job = await client.responses.create(model=MODEL, input="Say hi.", background=True)
        done = await client.responses.wait(job, timeout=10, poll_interval=0.02)
        assert done.status == "completed" and done.output_text != ""
