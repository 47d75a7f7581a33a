"""The Responses API's ergonomics on ``httpx.MockTransport``, sync and async: ``parse()`` with
``output_parsed``, typed output items and ``output_text``, ``wait()`` for background responses, hosted
tool types sent untouched."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional

import httpx
import pytest
from pydantic import BaseModel

from meshapi import InvalidParamsError, StructuredOutputError
from meshapi.lib._parsing import to_strict_json_schema
from meshapi.types import ParsedResponse
from tests.conftest import resolve


class City(BaseModel):
    name: str
    population: int


def _message(*parts: Dict[str, Any]) -> Dict[str, Any]:
    return {
        "type": "message",
        "id": "msg_1",
        "role": "assistant",
        "status": "completed",
        "content": list(parts),
    }


def _text(text: str) -> Dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": []}


def _reply(output: List[Dict[str, Any]], status: str = "completed", **extra: Any) -> Dict[str, Any]:
    return {"id": "resp_1", "object": "response", "model": "m", "status": status, "output": output, **extra}


class Recorder:
    """A MockTransport handler answering ``replies`` in turn and keeping each request's JSON body."""

    def __init__(self, *replies: Dict[str, Any]) -> None:
        self.replies = list(replies)
        self.bodies: List[Optional[Dict[str, Any]]] = []
        self.paths: List[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(json.loads(request.content) if request.content else None)
        self.paths.append(f"{request.method} {request.url.raw_path.decode()}")
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        return httpx.Response(200, json=reply, headers={"x-request-id": "req_1"})


# --- parse() ---------------------------------------------------------------------------------------------


async def test_parse_sends_the_strict_schema_as_text_format_and_fills_output_parsed(make_client: Any) -> None:
    handler = Recorder(
        _reply(
            [
                {"type": "reasoning", "id": "rs_1", "summary": []},
                _message(_text('{"name": "Oslo", "population": 700000}')),
            ]
        )
    )
    client = make_client(handler)
    reply = await resolve(
        client.responses.parse(model="m", input="A city", text_format=City, text={"verbosity": "low"})
    )
    assert isinstance(reply, ParsedResponse)
    assert reply.output_parsed == City(name="Oslo", population=700000)
    assert reply.status == "completed" and reply._request_id == "req_1"
    sent = handler.bodies[0]
    assert sent == {
        "model": "m",
        "input": "A city",
        "stream": False,
        "text": {
            "verbosity": "low",
            "format": {
                "type": "json_schema",
                "name": "City",
                "schema": to_strict_json_schema(City),
                "strict": True,
            },
        },
    }


async def test_parse_with_a_schema_dict_returns_the_decoded_json(make_client: Any) -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    handler = Recorder(_reply([_message(_text('{"n": 3}'))]))
    reply = await resolve(make_client(handler).responses.parse(input="x", text_format=schema))
    assert reply.output_parsed == {"n": 3}
    assert handler.bodies[0]["text"] == {
        "format": {"type": "json_schema", "name": "response", "schema": schema}
    }


async def test_parse_refusal_raises_structured_output_error(make_client: Any) -> None:
    client = make_client(Recorder(_reply([_message({"type": "refusal", "refusal": "No."})])))
    with pytest.raises(StructuredOutputError) as caught:
        await resolve(client.responses.parse(input="x", text_format=City))
    assert caught.value.message == "The reply does not match City: the model refused: No."
    assert caught.value.content == "" and caught.value.request_id == "req_1"
    assert isinstance(caught.value.completion, ParsedResponse)


async def test_parse_incomplete_response_names_the_reason(make_client: Any) -> None:
    reply = _reply(
        [_message(_text('{"name": "Os'))],
        status="incomplete",
        incomplete_details={"reason": "max_output_tokens"},
    )
    client = make_client(Recorder(reply))
    with pytest.raises(StructuredOutputError) as caught:
        await resolve(client.responses.parse(input="x", text_format=City, max_output_tokens=5))
    assert caught.value.message == (
        "The reply does not match City: the response is incomplete (max_output_tokens), its text cut short"
    )
    assert caught.value.content == '{"name": "Os' and isinstance(caught.value.cause, ValueError)


async def test_parse_text_that_does_not_fit_raises(make_client: Any) -> None:
    client = make_client(Recorder(_reply([_message(_text('{"name": "Oslo"}'))])))
    with pytest.raises(StructuredOutputError) as caught:
        await resolve(client.responses.parse(input="x", text_format=City))
    assert caught.value.message == "The reply does not match City: population: Field required"


async def test_parse_without_text_keeps_output_parsed_none(make_client: Any) -> None:
    call = {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "f", "arguments": "{}"}
    reply = await resolve(make_client(Recorder(_reply([call]))).responses.parse(input="x", text_format=City))
    assert reply.output_parsed is None and reply.status == "completed"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({}, r"responses\.parse\(\) needs text_format"),
        ({"text_format": City, "text": {"format": {"type": "text"}}}, r"sets text\.format from text_format"),
    ],
)
async def test_parse_refuses_before_sending(make_client: Any, kwargs: Dict[str, Any], message: str) -> None:
    handler = Recorder(_reply([]))
    with pytest.raises(InvalidParamsError, match=message):
        await resolve(make_client(handler).responses.parse(input="x", **kwargs))
    assert handler.bodies == []


# --- typed output items and output_text -----------------------------------------------------------------

MIXED = [
    {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "think"}]},
    {
        "type": "web_search_call",
        "id": "ws_1",
        "status": "completed",
        "action": {"type": "search", "query": "q"},
    },
    {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "get", "arguments": '{"a": 1}'},
    _message(_text("Hello, "), {"type": "refusal", "refusal": "not that"}, {"type": "audio_clip", "ms": 5}),
    {"type": "mcp_list_tools", "id": "mcpl_1", "server_label": "deepwiki", "tools": [{"name": "ask"}]},
    {"type": "function_call", "id": "fc_2", "arguments": "{}"},  # no name: kept raw, not rejected
    _message(_text("world")),
]


async def test_output_items_are_typed_and_unknown_ones_kept(make_client: Any) -> None:
    from meshapi.types.response_items import (
        ResponseFunctionCall,
        ResponseOutputMessage,
        ResponseOutputRefusal,
        ResponseOutputText,
        ResponseReasoningItem,
        ResponseUnknownContent,
        ResponseUnknownItem,
        ResponseWebSearchCall,
    )

    reply = await resolve(make_client(Recorder(_reply(MIXED))).responses.create(input="x"))
    kinds = [type(item) for item in reply.output]
    assert kinds == [
        ResponseReasoningItem,
        ResponseWebSearchCall,
        ResponseFunctionCall,
        ResponseOutputMessage,
        ResponseUnknownItem,
        ResponseUnknownItem,
        ResponseOutputMessage,
    ]
    reasoning, search, call, message, mcp, nameless, _ = reply.output
    assert reasoning.summary == [{"type": "summary_text", "text": "think"}]
    assert search.action == {"type": "search", "query": "q"} and search.status == "completed"
    assert (call.name, call.call_id, call.arguments) == ("get", "call_1", '{"a": 1}')
    assert [type(part) for part in message.content] == [
        ResponseOutputText,
        ResponseOutputRefusal,
        ResponseUnknownContent,
    ]
    assert message.text == "Hello, " and message.refusal == "not that" and message.content[2]["ms"] == 5
    assert (
        mcp.type == "mcp_list_tools"
        and mcp["server_label"] == "deepwiki"
        and mcp["tools"] == [{"name": "ask"}]
    )
    assert nameless.type == "function_call" and nameless["arguments"] == "{}" and "name" not in nameless
    assert reply.output_text == "Hello, world"
    # the dicts 0.1.12 held: indexing, .get, equality and the dump give them back
    assert reply.output[3]["content"][0]["text"] == "Hello, " and reply.output[0].get("missing", 7) == 7
    assert reply.output == MIXED
    assert reply.model_dump(exclude_unset=True)["output"] == MIXED


def test_output_text_is_empty_without_messages() -> None:
    from meshapi.types import ResponsesResponse

    assert ResponsesResponse.model_validate({"output": None}).output_text == ""
    assert ResponsesResponse.model_validate({"output": [MIXED[2]]}).output_text == ""


async def test_streamed_final_response_has_typed_items(make_client: Any) -> None:
    from meshapi.types.response_items import ResponseOutputMessage

    final = _reply([_message(_text("Hi"))])
    body = (
        b'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"Hi"}\n\n'
        b"event: response.completed\ndata: "
        + json.dumps({"type": "response.completed", "response": final}).encode()
        + b"\n\n"
    )
    client = make_client(
        lambda request: httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})
    )
    stream = client.responses.stream(input="x")
    done = await resolve(stream.get_final_response())
    assert isinstance(done.output[0], ResponseOutputMessage) and done.output_text == "Hi"


# --- wait() and cancel() ---------------------------------------------------------------------------------


async def test_wait_polls_get_until_the_response_is_terminal(make_client: Any) -> None:
    handler = Recorder(_reply([], "queued"), _reply([], "in_progress"), _reply([_message(_text("done"))]))
    reply = await resolve(make_client(handler).responses.wait("resp_1", poll_interval=0))
    assert reply.status == "completed" and reply.output_text == "done"
    assert handler.paths == ["GET /v1/responses/resp_1"] * 3


@pytest.mark.parametrize("terminal", ["incomplete", "failed", "cancelled"])
async def test_wait_returns_other_terminal_statuses(make_client: Any, terminal: str) -> None:
    handler = Recorder(_reply([], "in_progress"), _reply([], terminal))
    assert (await resolve(make_client(handler).responses.wait("r", poll_interval=0))).status == terminal
    assert len(handler.paths) == 2


async def test_wait_is_bounded_and_raises_a_typed_timeout(make_client: Any) -> None:
    from meshapi import APITimeoutError, WaitTimeoutError

    handler = Recorder(_reply([], "in_progress"))
    with pytest.raises(WaitTimeoutError) as info:
        await resolve(make_client(handler).responses.wait("resp_1", timeout=0.05, poll_interval=0.01))
    assert isinstance(info.value, APITimeoutError) and info.value.error_code == "wait_timeout"
    assert info.value.last.status == "in_progress" and info.value.resource_id == "resp_1"
    assert info.value.message == (
        "Response 'resp_1' did not finish within 0.05s (last status: 'in_progress'); "
        "it keeps running on the gateway: wait again or cancel it."
    )
    assert 2 <= len(handler.paths) <= 10


@pytest.mark.parametrize("kwargs", [{"timeout": 0}, {"timeout": float("nan")}, {"poll_interval": -1}])
async def test_wait_refuses_bad_bounds_before_sending(make_client: Any, kwargs: Dict[str, Any]) -> None:
    handler = Recorder(_reply([]))
    with pytest.raises(InvalidParamsError):
        await resolve(make_client(handler).responses.wait("r", **kwargs))
    assert handler.paths == []


async def test_cancel_posts_to_the_cancel_path(make_client: Any) -> None:
    handler = Recorder(_reply([], "cancelled"))
    reply = await resolve(make_client(handler).responses.cancel("resp/1"))
    assert reply.status == "cancelled" and handler.paths == ["POST /v1/responses/resp%2F1/cancel"]


async def test_wait_and_cancel_take_the_response_itself(make_client: Any) -> None:
    from meshapi.types import ResponsesResponse

    handler = Recorder(_reply([], "cancelled"))
    client = make_client(handler)
    job = ResponsesResponse.model_validate(_reply([], "queued"))
    assert (await resolve(client.responses.cancel(job))).status == "cancelled"
    assert (await resolve(client.responses.wait(job))).status == "cancelled"
    assert handler.paths == ["POST /v1/responses/resp_1/cancel", "GET /v1/responses/resp_1"]
    with pytest.raises(InvalidParamsError, match="this response has no id"):
        await resolve(client.responses.wait(ResponsesResponse()))
    assert len(handler.paths) == 2


# --- hosted tools ----------------------------------------------------------------------------------------

HOSTED = [
    {"type": "mcp", "server_label": "wiki", "server_url": "https://mcp.example/sse", "allowed_tools": None},
    {
        "type": "web_search",
        "search_context_size": "low",
        "user_location": {"type": "approximate", "city": None},
    },
    {"type": "file_search", "vector_store_ids": ["vs_1"], "filters": None},
    {"type": "code_interpreter", "container": {"type": "auto"}},
    {"type": "a_tool_from_next_year", "knob": 3},
    {"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {}}},
]


async def test_hosted_tools_are_sent_untouched(make_client: Any) -> None:
    from meshapi.types import BuiltinTool, ResponsesParams

    handler = Recorder(_reply([_message(_text('{"name": "Oslo", "population": 1}'))]))
    client = make_client(handler)
    await resolve(client.responses.create(model="m", input="x", tools=HOSTED))
    stream = client.responses.stream(model="m", input="x", tools=HOSTED)
    await resolve(stream.close())  # lazy: nothing sent; open() sends
    await resolve(client.responses.parse(model="m", input="x", tools=HOSTED, text_format=City))
    typed = ResponsesParams(
        input="x", tools=[BuiltinTool(type="mcp", server_label="wiki", allowed_tools=None)]
    )
    await resolve(client.responses.create(typed))
    assert [body["tools"] for body in handler.bodies] == [
        HOSTED,
        HOSTED,
        [{"type": "mcp", "server_label": "wiki", "allowed_tools": None}],
    ]
    assert (
        typed.tools is not None and isinstance(typed.tools[0], BuiltinTool) and typed.tools[0].type == "mcp"
    )


@pytest.mark.parametrize(
    "tool", [{"type": "function"}, {"type": 7}, {"type": "function", "name": "f", "surprise": 1}]
)
async def test_malformed_tools_are_still_refused_before_sending(
    make_client: Any, tool: Dict[str, Any]
) -> None:
    handler = Recorder(_reply([]))
    with pytest.raises(InvalidParamsError):
        await resolve(make_client(handler).responses.create(input="x", tools=[tool]))
    assert handler.bodies == []
