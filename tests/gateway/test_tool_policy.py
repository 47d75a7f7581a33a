"""The stand-in model's tool policy and JSON-answer search as pure functions: edge cases and bounds.

The wire behaviour is proven in ``tests/integration/test_agent_patterns_wire.py``; these are the rules
underneath it that a conversation rarely reaches (mismatched call ids, names that only look like output
tools, schemas hidden in hostile text).
"""

from __future__ import annotations

import json
import time
from typing import Any, Dict, List

from meshapi_gateway.fakes.json_reply import MAX_SEARCH, MAX_TRIES, json_answer, schema_in_prompt
from meshapi_gateway.fakes.schemas import PromptHints
from meshapi_gateway.fakes.tool_policy import answered_tools, is_output_tool, plan_calls


def _fn(name: str, description: str = "") -> Dict[str, Any]:
    return {"name": name, "description": description, "parameters": {"type": "object"}}


def _call(name: str, call_id: str = "") -> Dict[str, Any]:
    call: Dict[str, Any] = {"type": "function", "function": {"name": name, "arguments": "{}"}}
    if call_id:
        call["id"] = call_id
    return call


def test_output_tools_are_named_or_described_as_the_final_answer() -> None:
    assert is_output_tool(_fn("final_result")) and is_output_tool(_fn("submitAnswer"))
    assert is_output_tool(_fn("respond", "Give the final response to the user"))
    assert not is_output_tool(_fn("search_results")) and not is_output_tool(_fn("outputs_list"))
    assert not is_output_tool(_fn("lookup", "Finds the final score of a match"))


def test_a_call_counts_as_answered_only_with_its_result_after_the_last_user_message() -> None:
    asked = {"role": "user", "content": "weather?"}
    called = {"role": "assistant", "content": None, "tool_calls": [_call("get_weather", "call_1")]}
    assert answered_tools([asked, called]) == set()
    assert answered_tools([asked, called, {"role": "tool", "tool_call_id": "call_1", "content": "{}"}]) == {
        "get_weather"
    }
    other = {"role": "tool", "tool_call_id": "call_9", "content": "{}"}
    assert answered_tools([asked, called, other]) == set()  # the result of another call
    bare = {"role": "assistant", "content": None, "tool_calls": [_call("get_weather")]}
    assert answered_tools([asked, bare, {"role": "tool", "content": "{}"}]) == {"get_weather"}  # no ids
    result = {"role": "tool", "tool_call_id": "call_1", "content": "{}"}
    assert answered_tools([asked, called, result, {"role": "user", "content": "and tomorrow?"}]) == set()


def test_the_plan_of_each_turn() -> None:
    tools = [
        {"type": "function", "function": f} for f in (_fn("get_weather", "Weather"), _fn("final_result"))
    ]
    asked: List[Dict[str, Any]] = [{"role": "user", "content": "Weather in Oslo?"}]
    assert [c.function["name"] for c in plan_calls(tools, "required", asked, "Weather in Oslo?")] == [
        "get_weather"
    ]
    called = {"role": "assistant", "content": None, "tool_calls": [_call("get_weather", "c1")]}
    after = [*asked, called, {"role": "tool", "tool_call_id": "c1", "content": "{}"}]
    assert [c.function["name"] for c in plan_calls(tools, "auto", after, "Weather in Oslo?")] == [
        "final_result"
    ]
    done = [
        *after,
        {"role": "assistant", "tool_calls": [_call("final_result", "c2")]},
        {"role": "tool", "tool_call_id": "c2"},
    ]
    assert plan_calls(tools, "required", done, "Weather in Oslo?") == []  # nothing left: text
    assert plan_calls(tools, "none", asked, "Weather in Oslo?") == []
    twice = [tools[0], {"type": "function", "function": _fn("get_weather", "Weather again")}]
    assert [c.function["description"] for c in plan_calls(twice, "auto", asked, "Weather?")] == ["Weather"]
    named = {"type": "function", "function": {"name": "get_weather"}}
    assert [c.function["name"] for c in plan_calls(tools, named, done, "Weather in Oslo?")] == ["get_weather"]


def test_the_schema_search_finds_the_last_schema_and_skips_other_json() -> None:
    first = {"type": "object", "properties": {"a": {"type": "string"}}}
    second = {"type": "object", "properties": {"b": {"type": "integer"}}}
    text = f'Example {{"a": 1}} then {json.dumps(first)} and finally {json.dumps(second)}.'
    found = schema_in_prompt([("system", text)])
    assert found is not None and found[0] == second and found[1] == 0
    assert json.dumps(second) not in found[2] and "finally" in found[2]
    assert schema_in_prompt([("assistant", text), ("tool", text)]) is None  # only system/developer/user
    unclosed = "```json\n" + json.dumps(first)
    assert schema_in_prompt([("user", unclosed)]) == (first, 0, "```json\n ")


def test_the_schema_search_is_bounded() -> None:
    schema = json.dumps({"type": "object", "properties": {}})
    assert schema_in_prompt([("user", "x" * MAX_SEARCH + schema)]) is None
    assert schema_in_prompt([("user", "{ " * MAX_TRIES + schema)]) is None  # past the tries
    assert schema_in_prompt([("user", "{ " * (MAX_TRIES - 1) + schema)]) is not None
    start = time.monotonic()
    for hostile in ("{" * 150_000, "```" * 60_000, "a" * 150_000 + "@", "x1" * 80_000):
        schema_in_prompt([("user", hostile)])
        PromptHints(hostile)
    assert time.monotonic() - start < 3.0


def test_an_unusable_schema_in_the_prompt_falls_back_to_the_generic_object() -> None:
    huge = json.dumps({"type": "object", "properties": {"a": {"type": "string", "minLength": 10**9}}})
    assert json_answer({"type": "json_object"}, [("user", f"Use {huge}")]) is None
    scalar = json.dumps({"type": "string"})
    assert json_answer({"type": "json_object"}, [("user", f"Use {scalar}")]) is None  # not an object


def test_numbers_are_labelled_by_the_word_before_them_but_not_by_stop_words() -> None:
    hints = PromptHints('{"temp": 21} for 3 days, age=40')
    assert hints.labelled == [("temp", 21.0), ("age", 40.0)]
