"""Agent patterns against the local gateway, spoken on the wire (raw httpx over real sockets, no framework).

Each test is one pattern an agent framework relies on: a typed answer after a tool result, a
``tool_choice: "required"`` loop that ends, JSON mode following the prompt's schema, parallel tool calls.
Answers are checked against pydantic models built for the schemas sent (independent of the gateway's own
validator) and against the exact values the deterministic models give.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any, Dict, Iterator, List, Literal, Optional, Tuple

import httpx
import pytest
from pydantic import BaseModel, ConfigDict, Field

MODEL = "openai/gpt-4o-mini"
MAX_TURNS = 10


class Forecast(BaseModel):
    model_config = ConfigDict(extra="forbid")
    city: str
    temperature: int = Field(ge=-50, le=60)
    conditions: Literal["sunny", "cloudy", "rainy"]


class Hire(BaseModel):
    name: str
    age: int = Field(ge=16, le=99)
    email: str = Field(json_schema_extra={"format": "email"})
    start: date
    team: Literal["sales", "research", "support"]
    skills: List[str] = Field(min_length=1, max_length=3)


class Trip(BaseModel):
    note: str
    origin: str
    destination: str
    passengers: int = Field(ge=1, le=9)


def _tool(name: str, description: str, parameters: Dict[str, Any]) -> Dict[str, Any]:
    return {
        "type": "function",
        "function": {"name": name, "description": description, "parameters": parameters},
    }


CITY = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
WEATHER = _tool("get_weather", "Current weather for a city", CITY)
CLOCK = _tool("get_time", "Current local time in a city", CITY)
FINAL = _tool("final_result", "The final response which ends this conversation", Forecast.model_json_schema())
RESULTS = {"get_weather": {"temp": 21, "conditions": "cloudy"}, "get_time": {"time": "09:30"}}
PROMPTED = (  # pydantic-ai's prompted-output wording
    "Always respond with a JSON object that's compatible with this schema:\n\n{schema}\n\n"
    "Don't include any text or Markdown fencing before or after.\n"
)
HIRE_TEXT = "Add our new hire Ada, aged 36, mail ada@example.org, starting 2026-03-04 in research."
HIRE = {"name": "Ada", "age": 36, "email": "ada@example.org", "start": "2026-03-04", "team": "research"}


@pytest.fixture
def http(gateway: Any) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {gateway.token}"}
    with httpx.Client(base_url=gateway.base_url, headers=headers, timeout=10.0) as client:
        yield client


def _json(response: httpx.Response) -> Dict[str, Any]:
    assert response.status_code == 200, response.text
    return dict(response.json())


def _data(response: httpx.Response) -> List[Dict[str, Any]]:
    assert response.status_code == 200, response.text
    lines = [line[6:] for line in response.text.splitlines() if line.startswith("data: ")]
    return [json.loads(line) for line in lines if line != "[DONE]"]


def chat(http: httpx.Client, stream: bool, **body: Any) -> Tuple[Dict[str, Any], str]:
    """``(message, finish_reason)`` of choice 0; streamed, rebuilt from the deltas (tool calls by index)."""
    body = {"model": MODEL, **body}
    if not stream:
        choice = _json(http.post("/v1/chat/completions", json=body))["choices"][0]
        return choice["message"], choice["finish_reason"]
    chunks = _data(http.post("/v1/chat/completions", json={**body, "stream": True}))
    content, calls, finish = "", {}, ""
    for chunk in chunks:
        for choice in chunk["choices"]:
            delta = choice["delta"]
            content += delta.get("content") or ""
            for part in delta.get("tool_calls") or ():
                call = calls.setdefault(part["index"], {"id": None, "type": "function", "function": {}})
                call["id"] = part.get("id") or call["id"]
                function = call["function"]
                if "name" in part.get("function", {}):
                    function["name"] = part["function"]["name"]
                function["arguments"] = function.get("arguments", "") + part["function"].get("arguments", "")
            finish = choice["finish_reason"] or finish
    assert sorted(calls) == list(range(len(calls)))  # indexes 0, 1, ... in order
    message: Dict[str, Any] = {"role": "assistant", "content": content if not calls else None}
    if calls:
        message["tool_calls"] = [calls[i] for i in sorted(calls)]
    return message, finish


def respond(http: httpx.Client, stream: bool, **body: Any) -> List[Dict[str, Any]]:
    """The ``output`` items of a Responses call; streamed, those of ``response.completed`` (checked)."""
    body = {"model": MODEL, **body}
    if not stream:
        return list(_json(http.post("/v1/responses", json=body))["output"])
    events = _data(http.post("/v1/responses", json={**body, "stream": True}))
    final = events[-1]
    assert final["type"] == "response.completed"
    texts = [e["text"] for e in events if e["type"] == "response.output_text.done"]
    assert texts == [i["content"][0]["text"] for i in final["response"]["output"] if i["type"] == "message"]
    added = [e["output_index"] for e in events if e["type"] == "response.output_item.added"]
    assert added == list(range(len(final["response"]["output"])))
    return list(final["response"]["output"])


def _answer_tools(message: Dict[str, Any]) -> List[Dict[str, Any]]:
    return [
        {
            "role": "tool",
            "tool_call_id": c["id"],
            "content": json.dumps(RESULTS.get(c["function"]["name"], {})),
        }
        for c in message.get("tool_calls") or ()
    ]


def _names(message: Dict[str, Any]) -> List[str]:
    return [c["function"]["name"] for c in message.get("tool_calls") or ()]


def _schema_format(model: Any, strict: bool = True) -> Dict[str, Any]:
    spec = {"name": model.__name__, "schema": model.model_json_schema(), "strict": strict}
    return {"type": "json_schema", "json_schema": spec}


# -- 1. structured output on every turn ---------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_a_strict_schema_is_honoured_on_the_turn_after_a_tool_result(
    http: httpx.Client, stream: bool
) -> None:
    messages: List[Dict[str, Any]] = [{"role": "user", "content": "What is the weather in Paris?"}]
    first, finish = chat(http, stream, messages=messages, tools=[WEATHER])
    assert finish == "tool_calls" and _names(first) == ["get_weather"]
    messages += [first, *_answer_tools(first)]
    answer, finish = chat(
        http, stream, messages=messages, tools=[WEATHER], response_format=_schema_format(Forecast)
    )
    assert finish == "stop"
    forecast = Forecast.model_validate_json(answer["content"])  # not prose
    assert forecast.model_dump() == {"city": "Paris", "temperature": 21, "conditions": "cloudy"}
    again, _ = chat(
        http, stream, messages=messages, tools=[WEATHER], response_format=_schema_format(Forecast)
    )
    assert again["content"] == answer["content"]  # same request, same reply


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_json_mode_after_a_tool_result_is_json(http: httpx.Client, stream: bool) -> None:
    system = {"role": "system", "content": PROMPTED.format(schema=json.dumps(Forecast.model_json_schema()))}
    messages = [system, {"role": "user", "content": "What is the weather in Paris?"}]
    first, _ = chat(http, stream, messages=messages, tools=[WEATHER])
    messages += [first, *_answer_tools(first)]
    answer, _ = chat(
        http, stream, messages=messages, tools=[WEATHER], response_format={"type": "json_object"}
    )
    assert Forecast.model_validate_json(answer["content"]).model_dump() == {
        "city": "Paris",
        "temperature": 21,
        "conditions": "cloudy",
    }
    plain, _ = chat(
        http, stream, messages=messages[1:], tools=[WEATHER], response_format={"type": "json_object"}
    )
    assert sorted(json.loads(plain["content"])) == ["answer", "topic"]  # no schema: the generic object


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_responses_text_format_is_honoured_after_a_function_call_output(
    http: httpx.Client, stream: bool
) -> None:
    tool = {"type": "function", **WEATHER["function"]}
    question = {"role": "user", "content": "What is the weather in Paris?"}
    first = respond(http, stream, input=[question], tools=[tool])
    assert [(i["type"], i.get("name")) for i in first] == [("function_call", "get_weather")]
    call = first[0]
    output = {
        "type": "function_call_output",
        "call_id": call["call_id"],
        "output": json.dumps(RESULTS["get_weather"]),
    }
    fmt = {"type": "json_schema", "name": "Forecast", "schema": Forecast.model_json_schema(), "strict": True}
    items = respond(http, stream, input=[question, call, output], tools=[tool], text={"format": fmt})
    assert [i["type"] for i in items] == ["message"]
    forecast = Forecast.model_validate_json(items[0]["content"][0]["text"])
    assert forecast.model_dump() == {"city": "Paris", "temperature": 21, "conditions": "cloudy"}


# -- 2. tool_choice "required" ends -------------------------------------------------------------------


def _run_chat_loop(
    http: httpx.Client, stream: bool, tools: List[Dict[str, Any]], **extra: Any
) -> Tuple[List[List[str]], Optional[Dict[str, Any]], str]:
    """A framework's loop, at most MAX_TURNS: ``(tool names per turn, output-tool arguments, final text)``."""
    messages: List[Dict[str, Any]] = [
        {"role": "user", "content": "What is the weather in Paris and the time there?"}
    ]
    turns: List[List[str]] = []
    for _ in range(MAX_TURNS):
        message, finish = chat(http, stream, messages=messages, tools=tools, tool_choice="required", **extra)
        turns.append(_names(message))
        if finish != "tool_calls":
            return turns, None, str(message["content"])
        for call in message["tool_calls"]:
            if call["function"]["name"] == "final_result":
                return turns, json.loads(call["function"]["arguments"]), ""
        messages += [message, *_answer_tools(message)]
    raise AssertionError(f"no end within {MAX_TURNS} turns: {turns}")


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_required_calls_each_needed_tool_then_the_output_tool(http: httpx.Client, stream: bool) -> None:
    turns, result, _ = _run_chat_loop(http, stream, [WEATHER, CLOCK, FINAL])
    assert turns == [["get_weather", "get_time"], ["final_result"]]
    assert Forecast.model_validate(result).model_dump() == {
        "city": "Paris",
        "temperature": 21,
        "conditions": "cloudy",
    }
    turns, _, _ = _run_chat_loop(http, stream, [WEATHER, CLOCK, FINAL], parallel_tool_calls=False)
    assert turns == [["get_weather"], ["get_time"], ["final_result"]]


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_required_without_an_output_tool_ends_with_text(http: httpx.Client, stream: bool) -> None:
    turns, result, text = _run_chat_loop(http, stream, [WEATHER])
    assert turns == [["get_weather"], []] and result is None
    assert text.startswith("Based on the tool result, ")
    turns, _, text = _run_chat_loop(http, stream, [WEATHER], response_format=_schema_format(Forecast))
    assert turns == [["get_weather"], []]
    assert Forecast.model_validate_json(text).city == "Paris"


def test_only_an_output_tool_is_called_at_once(http: httpx.Client) -> None:
    turns, result, _ = _run_chat_loop(http, False, [FINAL])
    assert turns == [["final_result"]]
    assert Forecast.model_validate(result).city == "Paris"


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_a_responses_loop_with_required_ends(http: httpx.Client, stream: bool) -> None:
    tools = [{"type": "function", **t["function"]} for t in (WEATHER, CLOCK, FINAL)]
    items: List[Dict[str, Any]] = [
        {"role": "user", "content": "What is the weather in Paris and the time there?"}
    ]
    turns: List[List[str]] = []
    for _ in range(MAX_TURNS):
        output = respond(http, stream, input=items, tools=tools, tool_choice="required")
        calls = [i for i in output if i["type"] == "function_call"]
        turns.append([c["name"] for c in calls])
        if not calls or any(c["name"] == "final_result" for c in calls):
            break
        for call in calls:
            result = json.dumps(RESULTS[call["name"]])
            items += [call, {"type": "function_call_output", "call_id": call["call_id"], "output": result}]
    assert turns == [["get_weather", "get_time"], ["final_result"]]
    final = Forecast.model_validate_json(calls[0]["arguments"])
    assert final.model_dump() == {"city": "Paris", "temperature": 21, "conditions": "cloudy"}


# -- 3. JSON mode follows the prompt's schema ---------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_json_mode_follows_a_schema_in_the_system_message(http: httpx.Client, stream: bool) -> None:
    system = {"role": "system", "content": PROMPTED.format(schema=json.dumps(Hire.model_json_schema()))}
    body = {
        "messages": [system, {"role": "user", "content": HIRE_TEXT}],
        "response_format": {"type": "json_object"},
    }
    answer, finish = chat(http, stream, **body)
    hire = Hire.model_validate_json(answer["content"])
    assert finish == "stop" and hire.model_dump(mode="json", exclude={"skills"}) == HIRE
    assert 1 <= len(hire.skills) <= 3


def test_json_mode_follows_a_fenced_schema_in_the_user_message(http: httpx.Client) -> None:
    fenced = (
        f"{HIRE_TEXT}\nReply with JSON for this schema:\n```json\n{json.dumps(Hire.model_json_schema())}\n```"
    )
    answer, _ = chat(
        http, False, messages=[{"role": "user", "content": fenced}], response_format={"type": "json_object"}
    )
    hire = Hire.model_validate_json(answer["content"])
    assert hire.model_dump(mode="json", exclude={"skills"}) == HIRE
    assert not {"properties", "type", "title"} & set(hire.skills)  # words of the schema are not values


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_responses_json_mode_follows_the_schema_in_the_instructions(http: httpx.Client, stream: bool) -> None:
    instructions = PROMPTED.format(schema=json.dumps(Hire.model_json_schema()))
    body = {"input": HIRE_TEXT, "instructions": instructions, "text": {"format": {"type": "json_object"}}}
    items = respond(http, stream, **body)
    hire = Hire.model_validate_json(items[-1]["content"][0]["text"])
    assert hire.model_dump(mode="json", exclude={"skills"}) == HIRE


def test_json_mode_without_a_schema_keeps_the_generic_object(http: httpx.Client) -> None:
    body = {"messages": [{"role": "user", "content": 'Describe {braces} and {"a": 1}'}]}
    answer, _ = chat(http, False, **body, response_format={"type": "json_object"})
    assert sorted(json.loads(answer["content"])) == ["answer", "topic"]


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_typed_values_come_from_the_conversation(http: httpx.Client, stream: bool) -> None:
    body = {
        "messages": [{"role": "user", "content": HIRE_TEXT}],
        "response_format": _schema_format(Hire, False),
    }
    answer, _ = chat(http, stream, **body)
    hire = Hire.model_validate_json(answer["content"])
    assert hire.model_dump(mode="json", exclude={"skills"}) == HIRE  # the address and the date she named
    assert answer["content"] == chat(http, stream, **body)[0]["content"]  # same request, same reply
    other = HIRE_TEXT.replace("36", "120").replace("research", "sales")  # 120 is out of bounds for age
    moved = Hire.model_validate_json(
        chat(
            http,
            stream,
            messages=[{"role": "user", "content": other}],
            response_format=_schema_format(Hire, False),
        )[0]["content"]
    )
    assert (moved.age, moved.team) == (57, "sales")  # the middle of 16..99; the team she named


def test_name_like_fields_take_the_names_in_the_order_the_user_gave_them(http: httpx.Client) -> None:
    booking = _tool("book_train", "Book a train ticket", Trip.model_json_schema())
    ask = [{"role": "user", "content": "Please book a train from Lyon to Geneva for 2 people."}]
    message, _ = chat(http, False, messages=ask, tools=[booking])
    trip = Trip.model_validate_json(message["tool_calls"][0]["function"]["arguments"])
    assert (trip.origin, trip.destination, trip.passengers) == ("Lyon", "Geneva", 2)


# -- parallel tool calls -------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_tools_the_message_calls_for_are_parallel_calls(http: httpx.Client, stream: bool) -> None:
    question = [{"role": "user", "content": "What is the weather in Paris and the time in Tokyo?"}]
    message, finish = chat(http, stream, messages=question, tools=[CLOCK, WEATHER])
    assert finish == "tool_calls"
    calls = [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in message["tool_calls"]]
    assert calls == [("get_time", {"city": "Tokyo"}), ("get_weather", {"city": "Paris"})]  # tools order
    ids = [c["id"] for c in message["tool_calls"]]
    assert len(set(ids)) == 2 and all(i.startswith("call_") for i in ids)
    single, _ = chat(http, stream, messages=question, tools=[CLOCK, WEATHER], parallel_tool_calls=False)
    assert _names(single) == ["get_time"]


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_responses_parallel_function_calls(http: httpx.Client, stream: bool) -> None:
    tools = [{"type": "function", **t["function"]} for t in (CLOCK, WEATHER)]
    prompt = "What is the weather in Paris and the time in Tokyo?"
    items = respond(http, stream, input=prompt, tools=tools)
    assert [(i["name"], json.loads(i["arguments"])) for i in items] == [
        ("get_time", {"city": "Tokyo"}),
        ("get_weather", {"city": "Paris"}),
    ]
    single = respond(http, stream, input=prompt, tools=tools, parallel_tool_calls=False)
    assert [i["name"] for i in single] == ["get_time"]
