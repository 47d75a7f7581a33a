"""Responses chained with ``previous_response_id``: the chained turn sees the earlier turns; an unknown,
foreign or unstored id is a 404 (plain and streamed, over real sockets)."""

from __future__ import annotations

from typing import Any, Dict, List

import httpx

from .conftest import assert_envelope, sse_json

MODEL = "openai/gpt-4o-mini"


def create(client: httpx.Client, given: Any, **extra: Any) -> Dict[str, Any]:
    response = client.post("/v1/responses", json={"model": MODEL, "input": given, **extra})
    assert response.status_code == 200, response.text
    return dict(response.json())


def text_of(response: Dict[str, Any]) -> str:
    message = next(item for item in response["output"] if item["type"] == "message")
    return str(message["content"][0]["text"])


def streamed(client: httpx.Client, given: Any, **extra: Any) -> Dict[str, Any]:
    body = {"model": MODEL, "input": given, "stream": True, **extra}
    response = client.post("/v1/responses", json=body)
    assert response.status_code == 200, response.text
    events = [data for _, data in sse_json(response.content)]
    assert events[-1]["type"] == "response.completed"
    return dict(events[-1]["response"])


def user(text: str) -> Dict[str, str]:
    return {"role": "user", "content": text}


def test_a_chained_turn_equals_the_same_conversation_sent_whole(client: httpx.Client) -> None:
    first = create(client, "Remember the code word: pelican.")
    second = create(client, "Which code word did I give you?", previous_response_id=first["id"])
    whole: List[Dict[str, Any]] = [
        user("Remember the code word: pelican."),
        {"role": "assistant", "content": text_of(first)},
        user("Which code word did I give you?"),
    ]
    explicit = create(client, whole)
    alone = create(client, "Which code word did I give you?")
    assert second["usage"]["input_tokens"] == explicit["usage"]["input_tokens"]
    assert second["usage"]["input_tokens"] > alone["usage"]["input_tokens"]
    assert text_of(second) == text_of(explicit) != text_of(alone)
    # A third turn sees both earlier ones.
    third = create(client, "Thanks.", previous_response_id=second["id"])
    whole += [{"role": "assistant", "content": text_of(second)}, user("Thanks.")]
    assert third["usage"]["input_tokens"] == create(client, whole)["usage"]["input_tokens"]


def test_instructions_are_not_carried_over(client: httpx.Client) -> None:
    first = create(client, "Name a colour.", instructions="Answer in one word.")
    second = create(client, "Another one.", previous_response_id=first["id"])
    whole = [user("Name a colour."), {"role": "assistant", "content": text_of(first)}, user("Another one.")]
    assert second["usage"]["input_tokens"] == create(client, whole)["usage"]["input_tokens"]


def test_a_tool_call_turn_then_its_output_chained(client: httpx.Client) -> None:
    tools = [
        {
            "type": "function",
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        }
    ]
    first = create(client, "What is the weather in Lisbon?", tools=tools)
    call = next(item for item in first["output"] if item["type"] == "function_call")
    output = [{"type": "function_call_output", "call_id": call["call_id"], "output": "Sunny, 24 C"}]
    chained = create(client, output, previous_response_id=first["id"])
    unchained = create(client, output)
    assert chained["usage"]["input_tokens"] > unchained["usage"]["input_tokens"]
    assert text_of(chained) != text_of(unchained)


def test_streamed_turns_chain_like_plain_ones(client: httpx.Client) -> None:
    first = streamed(client, "Remember the code word: pelican.")
    same = create(client, "Remember the code word: pelican.")
    assert (text_of(first), first["usage"]) == (text_of(same), same["usage"])
    plain = create(client, "Which code word?", previous_response_id=first["id"])
    chained = streamed(client, "Which code word?", previous_response_id=first["id"])
    assert chained["usage"] == plain["usage"]
    assert chained["usage"]["input_tokens"] > streamed(client, "Which code word?")["usage"]["input_tokens"]
    assert text_of(chained) == text_of(plain)
    # A streamed response is stored too: it can be chained in turn.
    assert create(client, "Thanks.", previous_response_id=chained["id"])["status"] == "completed"


def test_unknown_foreign_and_unstored_ids_are_404(client: httpx.Client, other_client: httpx.Client) -> None:
    mine = create(client, "Remember the code word: pelican.")
    unstored = create(client, "Remember the code word: heron.", store=False)
    for ident, who in [("resp_missing", client), (mine["id"], other_client), (unstored["id"], client)]:
        for stream in (False, True):
            body = {"model": MODEL, "input": "Which?", "previous_response_id": ident, "stream": stream}
            error = assert_envelope(who.post("/v1/responses", json=body), 404, "resource_not_found")["error"]
            assert error == {
                "code": "resource_not_found",
                "message": f"Previous response '{ident}' not found (unknown, or created with store=false).",
                "param": "previous_response_id",
            }
    # store: true (and leaving it out) keeps the response chainable.
    kept = create(client, "Remember the code word: ibis.", store=True)
    assert create(client, "Which?", previous_response_id=kept["id"])["status"] == "completed"
