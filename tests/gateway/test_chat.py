"""Chat completions: the response shape, SSE framing, determinism and the model knobs."""

from __future__ import annotations

import json
import re
import time
from decimal import Decimal
from typing import Any, Dict, List

import httpx

from meshapi_gateway import serve

from .conftest import assert_envelope, chat_body, split_events, sse_json, user

TOKENS = re.compile(r"\w+|[^\w\s]")


def completion(client: httpx.Client, **body: Any) -> Dict[str, Any]:
    response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_non_streaming_shape_and_usage(client: httpx.Client) -> None:
    body = completion(client, **chat_body())
    assert body["object"] == "chat.completion"
    assert body["id"].startswith("chatcmpl-") and isinstance(body["created"], int)
    assert body["model"] == "openai/gpt-4o-mini"
    choice = body["choices"][0]
    assert choice["index"] == 0 and choice["finish_reason"] == "stop"
    text = choice["message"]["content"]
    assert choice["message"]["role"] == "assistant" and text
    usage = body["usage"]
    assert usage["completion_tokens"] == len(TOKENS.findall(text))
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_same_request_same_answer_and_prompt_dependent(client: httpx.Client) -> None:
    first = completion(client, **chat_body("Explain how tides depend on the Moon."))
    again = completion(client, **chat_body("Explain how tides depend on the Moon."))
    other = completion(client, **chat_body("Give me a recipe for lemon bread."))
    text = first["choices"][0]["message"]["content"]
    assert text == again["choices"][0]["message"]["content"]
    assert text != other["choices"][0]["message"]["content"]
    assert "tides" in text.lower() or "moon" in text.lower()
    assert (
        "lemon" in other["choices"][0]["message"]["content"].lower()
        or "bread" in other["choices"][0]["message"]["content"].lower()
    )


def test_seed_varies_answers_only_above_zero_temperature(client: httpx.Client) -> None:
    def answer(**extra: Any) -> str:
        return str(
            completion(client, **chat_body("Describe a calm lake.", **extra))["choices"][0]["message"][
                "content"
            ]
        )

    assert answer(temperature=0.9, seed=1) == answer(temperature=0.9, seed=1)
    seeds = {answer(temperature=0.9, seed=s) for s in range(5)}
    assert len(seeds) > 1
    assert answer(temperature=0, seed=1) == answer(temperature=0, seed=2)


def test_max_tokens_cuts_with_length(client: httpx.Client) -> None:
    body = completion(client, **chat_body(max_tokens=3))
    choice = body["choices"][0]
    assert choice["finish_reason"] == "length"
    assert len(TOKENS.findall(choice["message"]["content"])) == 3
    assert body["usage"]["completion_tokens"] == 3


def test_stop_cuts_before_the_stop_string(client: httpx.Client) -> None:
    full = completion(client, **chat_body())["choices"][0]["message"]["content"]
    word = full.split()[3]
    cut = completion(client, **chat_body(stop=[word]))["choices"][0]
    assert cut["finish_reason"] == "stop"
    assert cut["message"]["content"] == full[: full.index(word)]
    assert word not in cut["message"]["content"]


def test_n_gives_several_choices(client: httpx.Client) -> None:
    body = completion(client, **chat_body(n=3, temperature=1))
    assert [c["index"] for c in body["choices"]] == [0, 1, 2]
    assert len({c["message"]["content"] for c in body["choices"]}) == 3
    total = sum(len(TOKENS.findall(c["message"]["content"])) for c in body["choices"])
    assert body["usage"]["completion_tokens"] == total


WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 7},
            },
            "required": ["city", "unit"],
        },
    },
}
CALENDAR = {
    "type": "function",
    "function": {
        "name": "add_event",
        "description": "Add a calendar event",
        "parameters": {"type": "object"},
    },
}


def test_tools_produce_schema_valid_tool_calls(client: httpx.Client) -> None:
    body = completion(
        client,
        **chat_body("What is the weather in Paris in fahrenheit for 3 days?", tools=[CALENDAR, WEATHER]),
    )
    choice = body["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    call = choice["message"]["tool_calls"][0]
    assert call["type"] == "function" and call["id"].startswith("call_")
    assert call["function"]["name"] == "get_weather"
    args = json.loads(call["function"]["arguments"])
    assert args == {"city": "Paris", "unit": "fahrenheit", "days": 3}


def test_tool_choice_none_named_and_tool_result(client: httpx.Client) -> None:
    none = completion(client, **chat_body("Weather in Rome?", tools=[WEATHER], tool_choice="none"))
    assert none["choices"][0]["finish_reason"] == "stop"
    named = completion(
        client,
        **chat_body(
            "Weather in Rome?",
            tools=[WEATHER, CALENDAR],
            tool_choice={"type": "function", "function": {"name": "add_event"}},
        ),
    )
    assert named["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "add_event"
    call = completion(client, **chat_body("Weather in Rome?", tools=[WEATHER]))["choices"][0]["message"]
    follow_up = completion(
        client,
        model="openai/gpt-4o-mini",
        tools=[WEATHER],
        messages=[
            *user("Weather in Rome?"),
            call,
            {"role": "tool", "tool_call_id": call["tool_calls"][0]["id"], "content": '{"temp": 21}'},
        ],
    )
    assert follow_up["choices"][0]["finish_reason"] == "stop"
    bad = client.post(
        "/v1/chat/completions",
        json=chat_body(tools=[WEATHER], tool_choice={"type": "function", "function": {"name": "nope"}}),
    )
    assert_envelope(bad, 400, "invalid_request")


def _valid(value: Any, schema: Dict[str, Any]) -> bool:
    """A tiny checker for the schema subset used below."""
    kind = schema.get("type")
    if "enum" in schema:
        return value in schema["enum"]
    if kind == "object":
        props = schema.get("properties", {})
        return (
            isinstance(value, dict)
            and all(k in value for k in schema.get("required", []))
            and all(_valid(value[k], props[k]) for k in value if k in props)
        )
    if kind == "array":
        return (
            isinstance(value, list)
            and len(value) >= schema.get("minItems", 0)
            and all(_valid(v, schema["items"]) for v in value)
        )
    if kind == "integer":
        ok = isinstance(value, int) and not isinstance(value, bool)
        return ok and schema.get("minimum", value) <= value <= schema.get("maximum", value)
    if kind == "number":
        return isinstance(value, (int, float)) and schema.get("minimum", value) <= value <= schema.get(
            "maximum", value
        )
    if kind == "boolean":
        return isinstance(value, bool)
    return isinstance(value, str)


def test_json_schema_response_format_validates(client: httpx.Client) -> None:
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer", "minimum": 0, "maximum": 150},
            "score": {"type": "number", "minimum": 0, "maximum": 1},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
            "active": {"type": "boolean"},
            "level": {"enum": ["low", "high"]},
        },
        "required": ["name", "age", "score", "tags", "active", "level"],
    }
    body = completion(
        client,
        **chat_body(
            "Alice is 34 years old and plays chess at a high level.",
            response_format={"type": "json_schema", "json_schema": {"name": "person", "schema": schema}},
        ),
    )
    value = json.loads(body["choices"][0]["message"]["content"])
    assert _valid(value, schema)
    assert value["name"] == "Alice" and value["age"] == 34 and value["level"] == "high"
    obj = completion(client, **chat_body(response_format={"type": "json_object"}))
    assert isinstance(json.loads(obj["choices"][0]["message"]["content"]), dict)


def test_stream_framing_is_byte_exact(client: httpx.Client) -> None:
    response = client.post("/v1/chat/completions", json=chat_body(stream=True))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    assert response.headers["x-request-id"].startswith("req_")
    raw = response.content
    blocks = split_events(raw)
    for block in blocks:
        assert block.startswith(b"data: ") and b"\n" not in block
    events = sse_json(raw)
    assert raw.endswith(b"\n\ndata: [DONE]\n\n")
    assert events[-1] == (None, "[DONE]")
    chunks: List[Dict[str, Any]] = [e for _, e in events[:-1]]
    ids = {c["id"] for c in chunks}
    assert len(ids) == 1
    for chunk in chunks:
        assert chunk["object"] == "chat.completion.chunk"
        assert {"id", "object", "created", "model", "choices"} <= set(chunk)
        assert "error" not in chunk
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    contents = [c["choices"][0]["delta"]["content"] for c in chunks[1:-2]]
    assert len(contents) > 3 and all(contents)
    finish = chunks[-2]["choices"][0]
    assert finish["delta"] == {} and finish["finish_reason"] == "stop"
    tail = chunks[-1]
    assert tail["choices"] == []
    usage = tail["usage"]
    text = "".join(contents)
    assert usage["completion_tokens"] == len(TOKENS.findall(text))
    expected = (
        Decimal("0.00015") * usage["prompt_tokens"] + Decimal("0.0006") * usage["completion_tokens"]
    ) / 1000
    assert Decimal(tail["cost"]) == expected
    non_stream = completion(client, **chat_body())
    assert non_stream["choices"][0]["message"]["content"] == text


def test_stream_tool_calls_and_free_model_cost(client: httpx.Client) -> None:
    raw = client.post(
        "/v1/chat/completions",
        json=chat_body("Weather in Oslo?", stream=True, tools=[WEATHER])
        | {"model": "mistralai/mistral-small"},
    ).content
    chunks = [e for _, e in sse_json(raw)[:-1]]
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    calls = [d["tool_calls"][0] for d in deltas if "tool_calls" in d]
    assert calls[0]["id"].startswith("call_") and calls[0]["function"]["name"] == "get_weather"
    arguments = "".join(c["function"]["arguments"] for c in calls)
    assert json.loads(arguments)["city"] == "Oslo"
    assert chunks[-2]["choices"][0]["finish_reason"] == "tool_calls"
    assert chunks[-1]["cost"] == "0"


def test_templates_fill_chat_requests(client: httpx.Client) -> None:
    created = client.post(
        "/v1/templates",
        json={
            "name": "chat-tpl-test",
            "system": "You support {{ product }} users.",
            "model": "openai/gpt-4o",
        },
    )
    assert created.status_code == 201
    try:
        ok = completion(
            client, template="chat-tpl-test", variables={"product": "Zephyr"}, messages=user("Hi")
        )
        assert ok["model"] == "openai/gpt-4o"
        by_id = completion(
            client, template=created.json()["id"], variables={"product": "Zephyr"}, messages=user("Hi")
        )
        assert by_id["usage"]["prompt_tokens"] == ok["usage"]["prompt_tokens"]
        missing = client.post(
            "/v1/chat/completions", json={"template": "chat-tpl-test", "messages": user("Hi")}
        )
        assert_envelope(missing, 422, "unprocessable_entity")
        unknown = client.post(
            "/v1/chat/completions", json={"template": "no-such-template", "messages": user("Hi")}
        )
        assert_envelope(unknown, 404, "not_found")
    finally:
        client.delete(f"/v1/templates/{created.json()['id']}")


def test_latency_paces_stream_chunks() -> None:
    with (
        serve(["rsk_slow"], latency=0.02) as slow,
        httpx.Client(base_url=slow.base_url, headers={"Authorization": "Bearer rsk_slow"}, timeout=10) as c,
    ):
        started = time.monotonic()
        raw = c.post("/v1/chat/completions", json=chat_body(stream=True, max_tokens=10)).content
        elapsed = time.monotonic() - started
        assert len(sse_json(raw)) >= 5
        assert elapsed >= 0.1
