"""Schema-driven answers: valid for the schema sent, bounded in size and time, strict mode, refusals.

Validity is checked by pydantic (independent of the gateway's own validator): each schema here is a
pydantic model's, and the answer must validate as that model.
"""

from __future__ import annotations

import datetime
import enum
import json
import re
import time
from typing import Any, Dict, List, Literal, Optional, Tuple, Type, Union

import httpx
import pytest
from pydantic import BaseModel, Field

from .conftest import assert_envelope, sse_json, user


class Color(str, enum.Enum):
    RED = "red"
    BLUE = "blue"


class Address(BaseModel):
    street: str = Field(min_length=3, max_length=40)
    code: str = Field(pattern=r"^[A-Z]{2}-\d{4}$")


class Person(BaseModel):
    name: str
    age: int = Field(ge=18, le=30)
    height: float = Field(gt=1.5, lt=2.1)
    step: int = Field(multiple_of=5, ge=11)
    email: Optional[str] = None
    tags: List[str] = Field(min_length=3, max_length=4)
    color: Color
    kind: Literal["a", "b"]
    born: datetime.date
    address: Address
    pair: Tuple[int, str]


class Tree(BaseModel):
    label: str
    children: List[Tree] = []


class Cat(BaseModel):
    pet: Literal["cat"]
    lives: int


class Dog(BaseModel):
    pet: Literal["dog"]
    good: bool


class Owner(BaseModel):
    animal: Union[Cat, Dog] = Field(discriminator="pet")
    scores: Dict[str, int]
    maybe: Optional[Tree] = None


class Linked(BaseModel):
    value: int
    next: Optional[Linked]


def ask(
    client: httpx.Client, schema: Dict[str, Any], *, strict: Optional[bool] = None, **extra: Any
) -> httpx.Response:
    spec: Dict[str, Any] = {"name": "answer", "schema": schema}
    if strict is not None:
        spec["strict"] = strict
    body = {
        "messages": user("Describe Ada from London."),
        "response_format": {"type": "json_schema", "json_schema": spec},
    }
    return client.post("/v1/chat/completions", json={**body, **extra})


def content(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return str(response.json()["choices"][0]["message"]["content"])


@pytest.mark.parametrize("model", [Person, Tree, Owner, Linked, Address])
def test_answers_validate_against_pydantic_schemas(client: httpx.Client, model: Type[BaseModel]) -> None:
    model.model_validate_json(content(ask(client, model.model_json_schema())))


def test_streamed_answer_is_the_same_valid_json(client: httpx.Client) -> None:
    plain = content(ask(client, Person.model_json_schema()))
    streamed = ask(client, Person.model_json_schema(), stream=True)
    frames = [data for _, data in sse_json(streamed.content) if data != "[DONE]"]
    text = "".join(c["delta"].get("content") or "" for f in frames for c in f["choices"])
    assert text == plain
    Person.model_validate_json(text)


def test_tool_call_arguments_validate_against_the_tool_schema(client: httpx.Client) -> None:
    tool = {"type": "function", "function": {"name": "register", "parameters": Person.model_json_schema()}}
    body = {"messages": user("Register Ada."), "tools": [tool], "tool_choice": "required"}
    reply = client.post("/v1/chat/completions", json=body)
    assert reply.status_code == 200, reply.text
    call = reply.json()["choices"][0]["message"]["tool_calls"][0]
    Person.model_validate_json(call["function"]["arguments"])


@pytest.mark.parametrize(
    ("schema", "reason"),
    [
        ({"type": "array", "items": {"type": "string"}, "minItems": 10**7}, "minItems"),
        ({"type": "string", "minLength": 10**8}, "minLength"),
        ({"type": "string", "pattern": "a{5000000}"}, "budget"),
        ({"type": "string", "pattern": "(unclosed"}, "not a valid regular expression"),
        (
            {
                "$ref": "#/$defs/Loop",
                "$defs": {
                    "Loop": {
                        "type": "object",
                        "properties": {"x": {"$ref": "#/$defs/Loop"}},
                        "required": ["x"],
                    }
                },
            },
            "nesting",
        ),
        (
            {
                "type": "array",
                "items": {"type": "array", "items": {"type": "string", "minLength": 9000}, "minItems": 9000},
                "minItems": 9000,
            },
            "budget",
        ),
        ({"enum": []}, "no value satisfying it"),
    ],
)
def test_schemas_beyond_the_budget_are_a_clear_400_and_quick(
    client: httpx.Client, schema: Dict[str, Any], reason: str
) -> None:
    started = time.monotonic()
    response = ask(client, schema)
    body = assert_envelope(response, 400, "invalid_request")
    assert reason in body["error"]["message"] and body["error"]["param"] == "response_format"
    assert time.monotonic() - started < 3


def test_deep_nesting_beyond_the_limit_is_a_400(client: httpx.Client) -> None:
    schema: Dict[str, Any] = {"type": "integer"}
    for _ in range(200):
        schema = {"type": "object", "properties": {"inner": schema}, "required": ["inner"]}
    assert_envelope(ask(client, schema), 400, "invalid_request")
    shallow: Dict[str, Any] = {"type": "integer"}
    for _ in range(20):
        shallow = {"type": "object", "properties": {"inner": shallow}, "required": ["inner"]}
    value = json.loads(content(ask(client, shallow)))
    for _ in range(20):
        value = value["inner"]
    assert isinstance(value, int)


@pytest.mark.parametrize(
    "pattern", [r"(a+)+$", r"^(a|aa)*b$", r"(x+x+)+y", r"^([a-z0-9]+[-.])*[a-z0-9]+@ex\.com$"]
)
def test_hostile_patterns_cost_nothing_and_match(client: httpx.Client, pattern: str) -> None:
    started = time.monotonic()
    value = json.loads(
        content(
            ask(
                client,
                {
                    "type": "object",
                    "properties": {"v": {"type": "string", "pattern": pattern}},
                    "required": ["v"],
                },
            )
        )
    )
    assert time.monotonic() - started < 2
    assert re.search(pattern, value["v"])


def test_strict_mode_is_honoured(client: httpx.Client) -> None:
    props = {"a": {"type": "string"}, "b": {"type": "integer"}}
    partial = {"type": "object", "properties": props, "required": ["a"], "additionalProperties": False}
    body = assert_envelope(ask(client, partial, strict=True), 400, "invalid_request")
    assert "'required' must list every property" in body["error"]["message"]
    assert body["error"]["param"] == "response_format"
    open_ended = {"type": "object", "properties": props, "required": ["a", "b"]}
    body = assert_envelope(ask(client, open_ended, strict=True), 400, "invalid_request")
    assert "additionalProperties" in body["error"]["message"]
    assert_envelope(ask(client, {"type": "array"}, strict=True), 400, "invalid_request")
    strict = {**open_ended, "additionalProperties": False}
    assert set(json.loads(content(ask(client, strict, strict=True)))) == {"a", "b"}
    ask(client, partial, strict=False).raise_for_status()  # not strict: the same schema is fine
    tool = {"type": "function", "function": {"name": "f", "parameters": partial, "strict": True}}
    reply = client.post("/v1/chat/completions", json={"messages": user("hi"), "tools": [tool]})
    assert assert_envelope(reply, 400, "invalid_request")["error"]["param"] == "tools"


def test_refusals_can_be_scripted(client: httpx.Client) -> None:
    reply = client.post("/v1/chat/completions", json={"messages": user("Please [[refuse]] this.")}).json()
    message = reply["choices"][0]["message"]
    assert message["content"] is None and message["refusal"].startswith("I'm sorry")
    custom = client.post("/v1/chat/completions", json={"messages": user("[[refuse: Not today.]]")}).json()
    assert custom["choices"][0]["message"]["refusal"] == "Not today."
    streamed = client.post(
        "/v1/chat/completions", json={"messages": user("[[refuse: Not today.]]"), "stream": True}
    )
    frames = [data for _, data in sse_json(streamed.content) if data != "[DONE]"]
    text = "".join(c["delta"].get("refusal") or "" for f in frames for c in f["choices"])
    assert text == "Not today."
    assert not any(c["delta"].get("content") for f in frames for c in f["choices"])
