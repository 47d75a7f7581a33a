"""Structured outputs on httpx.MockTransport: schemas, parse() of every kind, retries, errors, parsed fields.

Every behaviour runs on the sync and the async client (the ``mode`` fixture behind ``make_client``).
"""

from __future__ import annotations

import dataclasses
import json
import pickle
from typing import Any, Dict, List, Optional

import httpx
import pytest
from pydantic import BaseModel, ConfigDict
from typing_extensions import TypedDict

import meshapi
from meshapi import ChatCompletionParams, StructuredOutputError
from meshapi.lib._parsing import ResponseFormat, to_strict_json_schema
from tests.conftest import resolve

MESSAGES = [{"role": "user", "content": "Tell me about Paris"}]


class Address(BaseModel):
    street: str
    zip_code: Optional[str] = None


class City(BaseModel):
    """A city."""

    name: str
    population: int
    address: Optional[Address] = None
    tags: List[str] = []


class Tree(BaseModel):
    label: str
    children: List[Tree] = []


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Movie(TypedDict):
    title: str
    year: int


class Loose(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str


class Counts(BaseModel):
    counts: Dict[str, int]


def completion(content: Any, **message: Any) -> Dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, **message},
                "finish_reason": "stop",
            }
        ],
    }


def replying(*replies: Dict[str, Any]) -> Any:
    """A handler answering ``replies`` in order (the last one repeats), recording request bodies."""
    bodies: List[Dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        reply = replies[min(len(bodies), len(replies)) - 1]
        return httpx.Response(200, json=reply, headers={"x-request-id": f"req_{len(bodies)}"})

    handler.bodies = bodies  # type: ignore[attr-defined]
    return handler


# --- schemas -----------------------------------------------------------------------------------------


def test_strict_schema_requires_every_property_and_forbids_extra_keys() -> None:
    schema = to_strict_json_schema(City)
    assert schema["required"] == ["name", "population", "address", "tags"]
    assert schema["additionalProperties"] is False
    address = schema["$defs"]["Address"]
    assert address["required"] == ["street", "zip_code"] and address["additionalProperties"] is False
    assert "default" not in schema["properties"]["address"]  # default: null is dropped
    assert schema["properties"]["address"]["anyOf"][1] == {"type": "null"}


def test_strict_schema_keeps_defs_of_recursive_models() -> None:
    schema = to_strict_json_schema(Tree)
    assert set(schema["$defs"]) == {"Tree"}
    assert schema["$defs"]["Tree"]["additionalProperties"] is False
    assert schema["$ref"] == "#/$defs/Tree"


@pytest.mark.parametrize(
    ("tp", "reason"),
    [
        (Loose, "free-form keys"),
        (Counts, "free-form keys"),
        (List[int], "root of a strict schema must be an object"),
        (int, "root of a strict schema must be an object"),
    ],
)
def test_what_strict_mode_cannot_express_is_an_error_naming_it(tp: Any, reason: str) -> None:
    with pytest.raises(meshapi.InvalidParamsError, match=reason):
        to_strict_json_schema(tp)


def test_response_format_falls_back_to_the_plain_schema_when_it_cannot_be_strict() -> None:
    strict = ResponseFormat.of(City, dict_is_schema=True).wire["json_schema"]
    assert strict["name"] == "City" and strict["strict"] is True
    plain = ResponseFormat.of(Counts, dict_is_schema=True).wire["json_schema"]
    assert "strict" not in plain and plain["schema"] == Counts.model_json_schema()


def test_dict_response_formats() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    wrapped = ResponseFormat.of(schema, dict_is_schema=True).wire
    assert wrapped == {"type": "json_schema", "json_schema": {"name": "response", "schema": schema}}
    ready = {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}
    assert ResponseFormat.of(ready, dict_is_schema=True).wire == ready
    assert ResponseFormat.of({"type": "json_object"}, dict_is_schema=False).wire == {"type": "json_object"}
    with pytest.raises(meshapi.InvalidParamsError, match="response_format must be"):
        ResponseFormat.of("City", dict_is_schema=True)


def test_pydantic_function_tool() -> None:
    tool = meshapi.pydantic_function_tool(City)
    assert tool.function.name == "City" and tool.function.strict is True
    assert tool.function.description == "A city."
    assert tool.function.parameters is not None and tool.function.parameters["additionalProperties"] is False
    named = meshapi.pydantic_function_tool(City, name="lookup", description="Find a city")
    assert named.to_body()["function"]["name"] == "lookup"
    assert named.to_body()["function"]["description"] == "Find a city"
    with pytest.raises(meshapi.InvalidParamsError, match="free-form keys"):
        meshapi.pydantic_function_tool(Counts)


# --- parse() -----------------------------------------------------------------------------------------


async def test_parse_a_model_sends_a_strict_schema_and_returns_an_instance(make_client: Any) -> None:
    handler = replying(completion('{"name": "Paris", "population": 2, "address": null, "tags": []}'))
    client = make_client(handler)
    city = await resolve(client.chat.completions.parse(ChatCompletionParams(messages=MESSAGES), City))
    assert city == City(name="Paris", population=2)
    body = handler.bodies[0]
    assert body["stream"] is False
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["name"] == "City"
    assert body["response_format"]["json_schema"]["strict"] is True


@pytest.mark.parametrize(
    ("tp", "content", "expected"),
    [
        (Point, '{"x": 1, "y": 2}', Point(1, 2)),
        (Movie, '{"title": "Up", "year": 2009}', {"title": "Up", "year": 2009}),
        (List[int], "[1, 2, 3]", [1, 2, 3]),
        ({"type": "object"}, '{"free": [1]}', {"free": [1]}),
    ],
)
async def test_parse_other_kinds(make_client: Any, tp: Any, content: str, expected: Any) -> None:
    client = make_client(replying(completion(content)))
    value = await resolve(client.chat.completions.parse(messages=MESSAGES, response_format=tp))
    assert value == expected


async def test_parse_with_keyword_arguments_and_params_positional(make_client: Any) -> None:
    handler = replying(completion('{"x": 1, "y": 2}'))
    client = make_client(handler)
    point = await resolve(client.chat.completions.parse(model="m", messages=MESSAGES, response_format=Point))
    assert point == Point(1, 2) and handler.bodies[0]["model"] == "m"
    again = await resolve(client.chat.completions.parse({"messages": MESSAGES, "seed": 7}, Point))
    assert again == Point(1, 2) and handler.bodies[1]["seed"] == 7


async def test_parse_retries_with_a_correction_then_succeeds(make_client: Any) -> None:
    handler = replying(completion("not json"), completion('{"x": 3, "y": 4}'))
    client = make_client(handler)
    point = await resolve(
        client.chat.completions.parse(messages=MESSAGES, response_format=Point, max_retries=1)
    )
    assert point == Point(3, 4)
    assert len(handler.bodies) == 2
    retry = handler.bodies[1]["messages"]
    assert retry[:1] == MESSAGES
    assert retry[1] == {"role": "assistant", "content": "not json"}
    assert retry[2]["role"] == "user" and "does not match Point" in retry[2]["content"]


async def test_parse_without_retries_raises_with_content_and_cause(make_client: Any) -> None:
    handler = replying(completion('{"x": "many"}'))
    client = make_client(handler)
    with pytest.raises(StructuredOutputError) as info:
        await resolve(client.chat.completions.parse(messages=MESSAGES, response_format=Point, max_retries=2))
    error = info.value
    assert len(handler.bodies) == 3  # the first answer and two corrections
    assert error.error_code == "structured_output_parse_error" and error.status == 0
    assert error.content == '{"x": "many"}'  # type: ignore[attr-defined]
    assert error.__cause__ is error.cause  # type: ignore[attr-defined]
    assert "x" in str(error) and error.request_id == "req_3"
    assert isinstance(error, meshapi.MeshAPIError)
    copied = pickle.loads(pickle.dumps(error))
    assert copied.content == error.content  # type: ignore[attr-defined]


async def test_parse_of_a_refusal_is_an_error(make_client: Any) -> None:
    client = make_client(replying(completion(None, refusal="I can't help with that.")))
    with pytest.raises(StructuredOutputError, match="refused"):
        await resolve(client.chat.completions.parse(messages=MESSAGES, response_format=Point))


async def test_parse_argument_errors(make_client: Any) -> None:
    client = make_client(replying(completion("{}")))
    with pytest.raises(meshapi.InvalidParamsError, match="needs a response_format"):
        await resolve(client.chat.completions.parse(messages=MESSAGES))
    with pytest.raises(meshapi.InvalidParamsError, match="max_retries"):
        await resolve(client.chat.completions.parse(messages=MESSAGES, response_format=Point, max_retries=-1))


# --- create(response_format=...), tools, create(stream=True) -----------------------------------------


async def test_create_with_a_model_fills_message_parsed(make_client: Any) -> None:
    handler = replying(completion('{"x": 5, "y": 6}'))
    client = make_client(handler)
    reply = await resolve(client.chat.completions.create(messages=MESSAGES, response_format=Point))
    assert reply.choices[0].message.parsed == Point(5, 6)
    assert "parsed" not in reply.model_dump()["choices"][0]["message"]
    assert handler.bodies[0]["response_format"]["json_schema"]["name"] == "Point"


@pytest.mark.parametrize(
    "response_format",
    [
        {"type": "json_object"},
        {"type": "json_schema", "json_schema": {"name": "a", "schema": {"type": "object"}}},
    ],
)
async def test_create_with_a_dict_response_format_sends_it_and_parses_nothing(
    make_client: Any, response_format: Dict[str, Any]
) -> None:
    handler = replying(completion("plain text, not JSON"))  # a provider may ignore response_format
    client = make_client(handler)
    reply = await resolve(client.chat.completions.create(messages=MESSAGES, response_format=response_format))
    assert handler.bodies[0]["response_format"] == response_format
    assert reply.choices[0].message.parsed is None


async def test_create_with_a_mismatching_reply_raises(make_client: Any) -> None:
    client = make_client(replying(completion('{"x": 1}')))
    with pytest.raises(StructuredOutputError) as info:
        await resolve(client.chat.completions.create(messages=MESSAGES, response_format=Point))
    assert info.value.content == '{"x": 1}'  # type: ignore[attr-defined]


async def test_refusal_leaves_parsed_empty(make_client: Any) -> None:
    client = make_client(replying(completion(None, refusal="No.")))
    reply = await resolve(client.chat.completions.create(messages=MESSAGES, response_format=Point))
    assert reply.choices[0].message.refusal == "No." and reply.choices[0].message.parsed is None


async def test_pydantic_tool_calls_carry_parsed_arguments(make_client: Any) -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "Point", "arguments": '{"x": 1, "y": 2}'}}
    other = {"id": "c2", "type": "function", "function": {"name": "plain", "arguments": "{}"}}
    handler = replying(completion(None, tool_calls=[call, other]))
    client = make_client(handler)
    plain = {"type": "function", "function": {"name": "plain", "parameters": {"type": "object"}}}

    class PointModel(BaseModel):
        x: int
        y: int

    tool = meshapi.pydantic_function_tool(PointModel, name="Point")
    reply = await resolve(client.chat.completions.create(messages=MESSAGES, tools=[tool, plain]))
    calls = reply.choices[0].message.tool_calls
    assert calls[0].function.parsed_arguments == PointModel(x=1, y=2)
    assert calls[1].function.parsed_arguments is None
    sent = handler.bodies[0]["tools"][0]["function"]
    assert sent["strict"] is True and sent["parameters"]["required"] == ["x", "y"]


async def test_create_stream_true_returns_the_stream_object(make_client: Any, mode: str) -> None:
    frames = [
        {
            "id": "c",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "m",
            "choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": "stop"}],
        },
    ]
    raw = b"".join(b"data: " + json.dumps(f).encode() + b"\n\n" for f in frames) + b"data: [DONE]\n\n"
    bodies: List[Dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(200, content=raw, headers={"content-type": "text/event-stream"})

    client = make_client(handler)
    stream = await resolve(client.chat.completions.create(messages=MESSAGES, stream=True))
    expected = meshapi.ChatCompletionStream if mode == "sync" else meshapi.AsyncChatCompletionStream
    # eager (unlike stream()): sent, and the status awaited, before create() returns
    assert type(stream) is expected and [b["stream"] for b in bodies] == [True]
    assert stream.response is not None and stream.response.status_code == 200
    final = await resolve(stream.get_final_completion())
    assert final.choices[0].message.content == "hi" and len(bodies) == 1


# --- params and responses -----------------------------------------------------------------------------


async def test_openai_chat_fields_are_sent(make_client: Any) -> None:
    handler = replying(completion("ok"))
    client = make_client(handler)
    await resolve(
        client.chat.completions.create(
            messages=[{"role": "developer", "content": "Be brief."}, *MESSAGES],
            max_completion_tokens=10,
            store=True,
            metadata={"k": "v"},
            parallel_tool_calls=False,
            seed=1,
            n=1,
            logprobs=True,
            top_logprobs=2,
            stop=["\n"],
            prediction={"type": "content", "content": "x"},
            service_tier="auto",
            user="u",
            stream_options={"include_usage": True},
        )
    )
    body = handler.bodies[0]
    assert body["messages"][0]["role"] == "developer"
    for key in ("max_completion_tokens", "store", "metadata", "prediction", "service_tier", "top_logprobs"):
        assert key in body


def test_misspelled_fields_are_still_rejected() -> None:
    with pytest.raises(Exception, match="max_completion_token"):
        ChatCompletionParams(messages=MESSAGES, max_completion_token=3)  # type: ignore[call-arg]


def test_responses_keep_unknown_fields_and_enum_values() -> None:
    data = completion("hi", annotations=[{"type": "url"}])
    data["choices"][0]["message"]["tool_calls"] = [
        {"id": "c", "type": "custom", "function": {"name": "f", "arguments": "{}"}, "custom": {"input": "x"}}
    ]
    data["service_tier"] = "default"
    data["brand_new"] = {"a": 1}
    data["choices"][0]["finish_reason"] = "a_new_reason"
    reply = meshapi.ChatCompletionResponse.model_validate(data)
    assert reply.model_extra == {"brand_new": {"a": 1}} and reply.service_tier == "default"
    message = reply.choices[0].message
    assert message.model_extra == {"annotations": [{"type": "url"}]}
    assert message.tool_calls[0].type == "custom" and message.tool_calls[0].model_extra == {
        "custom": {"input": "x"}
    }
    history = message.to_message()  # back into a request: what ChatMessage knows, nothing more
    assert history.role == "assistant" and history.tool_calls[0].id == "c"
    assert "annotations" not in history.model_dump()
