"""Scripted agent runs: replies that call tools, and one answer per turn of a conversation (chat plain
and streamed, Responses chained or sent whole, batches), plus the checks on such rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Iterator, List

import httpx
import pytest

from meshapi_gateway import Gateway, RepliesError, serve
from tests._poll import wait_until

from .conftest import TOKEN, sse_json, user

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
RULES: List[Dict[str, Any]] = [
    {
        "match": "trip to",
        "turns": [
            {
                "tool_calls": [
                    {"name": "get_weather", "arguments": {"city": "Oslo"}},
                    {"name": "get_weather", "arguments": '{"city": "Bergen"}'},
                ]
            },
            {
                "tool_calls": [
                    {"name": "final_result", "arguments": {"city": "Bergen", "pack_umbrella": True}}
                ]
            },
            {"content": "Enjoy Bergen."},
        ],
    },
    {"match": "book a table", "tool_calls": [{"name": "book", "arguments": {"people": 2}}]},
    {"match": "trip to", "content": "Past the script: the next rule answers."},
]


@pytest.fixture(scope="module")
def agent_gateway() -> Iterator[Gateway]:
    with serve([TOKEN], replies=RULES, batch_step_seconds=0.01) as gateway:
        yield gateway


@pytest.fixture
def c(agent_gateway: Gateway) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=agent_gateway.base_url, headers=headers, timeout=10) as client:
        yield client


def chat(c: httpx.Client, messages: List[Dict[str, Any]], **extra: Any) -> Dict[str, Any]:
    body = {"model": "openai/gpt-4o-mini", "messages": messages, "tools": [WEATHER_TOOL], **extra}
    response = c.post("/v1/chat/completions", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json()["choices"][0])


def calls_of(choice: Dict[str, Any]) -> List[Any]:
    return [
        (t["function"]["name"], json.loads(t["function"]["arguments"]))
        for t in choice["message"]["tool_calls"]
    ]


def test_a_scripted_run_answers_each_turn_in_order(c: httpx.Client) -> None:
    messages = user("Plan my trip to Norway.")
    first = chat(c, messages)
    assert first["finish_reason"] == "tool_calls"
    assert calls_of(first) == [("get_weather", {"city": "Oslo"}), ("get_weather", {"city": "Bergen"})]
    ids = [t["id"] for t in first["message"]["tool_calls"]]
    assert len(set(ids)) == 2 and all(i.startswith("call_") for i in ids)
    assert [t["id"] for t in chat(c, messages)["message"]["tool_calls"]] == ids  # deterministic
    messages.append({"role": "assistant", "content": None, "tool_calls": first["message"]["tool_calls"]})
    messages += [{"role": "tool", "tool_call_id": i, "content": "Rain, 9 C"} for i in ids]
    second = chat(c, messages)
    assert calls_of(second) == [("final_result", {"city": "Bergen", "pack_umbrella": True})]
    messages.append({"role": "assistant", "content": None, "tool_calls": second["message"]["tool_calls"]})
    messages.append(
        {"role": "tool", "tool_call_id": second["message"]["tool_calls"][0]["id"], "content": "ok"}
    )
    third = chat(c, messages)
    assert (third["message"]["content"], third["finish_reason"]) == ("Enjoy Bergen.", "stop")
    messages.append({"role": "assistant", "content": "Enjoy Bergen."})
    assert chat(c, messages)["message"]["content"] == "Past the script: the next rule answers."
    # A new user message starts the count again.
    messages += user("And a trip to Tromso?")
    assert calls_of(chat(c, messages))[0] == ("get_weather", {"city": "Oslo"})


def test_scripted_tool_calls_stream_as_tool_call_deltas(c: httpx.Client) -> None:
    body = {"model": "openai/gpt-4o-mini", "messages": user("Book a table"), "stream": True}
    response = c.post("/v1/chat/completions", json=body)
    chunks = [data for _, data in sse_json(response.content) if data != "[DONE]"]
    deltas = [d for ch in chunks for choice in ch["choices"] for d in choice["delta"].get("tool_calls", [])]
    assert deltas[0]["function"]["name"] == "book"
    assert json.loads("".join(d["function"]["arguments"] for d in deltas)) == {"people": 2}
    finishes = [choice["finish_reason"] for ch in chunks for choice in ch["choices"]]
    assert finishes[-1] == "tool_calls"


def test_responses_count_turns_across_previous_response_id(c: httpx.Client) -> None:
    tools = [{"type": "function", **WEATHER_TOOL["function"]}]
    first = c.post("/v1/responses", json={"input": "Plan my trip to Norway.", "tools": tools}).json()
    calls = [item for item in first["output"] if item["type"] == "function_call"]
    assert [(f["name"], json.loads(f["arguments"])) for f in calls] == [
        ("get_weather", {"city": "Oslo"}),
        ("get_weather", {"city": "Bergen"}),
    ]
    outputs = [{"type": "function_call_output", "call_id": f["call_id"], "output": "Rain"} for f in calls]
    body = {"input": outputs, "tools": tools, "previous_response_id": first["id"]}
    second = c.post("/v1/responses", json=body).json()
    assert [item["name"] for item in second["output"] if item["type"] == "function_call"] == ["final_result"]
    unchained = c.post("/v1/responses", json={"input": outputs, "tools": tools}).json()
    assert all(
        item["type"] != "function_call" or item["name"] != "final_result" for item in unchained["output"]
    )


def test_batches_answer_with_scripted_tool_calls(c: httpx.Client) -> None:
    line = {"custom_id": "a", "body": {"model": "openai/gpt-4o-mini", "messages": user("Book a table")}}
    batch = c.post("/v1/batches", json={"requests": [line]}).json()

    def completed() -> Dict[str, Any]:
        found = dict(c.get(f"/v1/batches/{batch['id']}").json())
        return found if found["status"] == "completed" else {}

    results = wait_until(completed, what="the batch completes")["results"]
    message = results[0]["response"]["body"]["choices"][0]["message"]
    assert message["tool_calls"][0]["function"] == {"name": "book", "arguments": '{"people": 2}'}


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"match": "x"}, "rule 0: give exactly one of 'content' or 'json' or 'tool_calls' or 'turns'"),
        ({"match": "x", "content": "a", "turns": []}, "give exactly one of"),
        ({"match": "x", "tool_calls": []}, "'tool_calls' must be a non-empty list"),
        ({"match": "x", "tool_calls": [{"name": ""}]}, "tool call 0: 'name' must be a non-empty string"),
        (
            {"match": "x", "tool_calls": [{"name": "f", "arguments": "{"}]},
            "'arguments' text is not valid JSON",
        ),
        (
            {"match": "x", "tool_calls": [{"name": "f", "arguments": [1]}]},
            "'arguments' must be a JSON object",
        ),
        ({"match": "x", "tool_calls": [{"name": "f", "id": "c"}]}, "must be an object with 'name' and"),
        ({"match": "x", "turns": []}, "'turns' must be a non-empty list of answers"),
        ({"match": "x", "turns": [{"content": "a"}, {"turns": []}]}, "rule 0, turn 1: must be an object"),
        ({"match": "x", "turns": [{}]}, "rule 0, turn 0: give exactly one of 'content' or 'json' or"),
    ],
)
def test_bad_scripts_are_refused_with_the_place(tmp_path: Path, rule: Dict[str, Any], message: str) -> None:
    path = tmp_path / "replies.json"
    path.write_text(json.dumps([rule]), encoding="utf-8")
    with pytest.raises(RepliesError) as caught:
        serve(replies=path)
    assert message in str(caught.value)
