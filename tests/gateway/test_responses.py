"""Responses: the non-streaming object and the named-event stream."""

from __future__ import annotations

import json
from typing import Any, Dict

import httpx

from tests._poll import wait_until

from .conftest import sse_json


def create(client: httpx.Client, **extra: Any) -> httpx.Response:
    body: Dict[str, Any] = {
        "model": "openai/o4-mini",
        "input": "Give me one prime number above 100.",
        "stream": False,
    }
    body.update(extra)
    return client.post("/v1/responses", json=body)


def test_response_object(client: httpx.Client) -> None:
    body = create(client, reasoning={"effort": "low"}).json()
    assert body["id"].startswith("resp_") and body["object"] == "response"
    assert body["status"] == "completed" and body["model"] == "openai/o4-mini"
    assert isinstance(body["created_at"], int)
    kinds = [item["type"] for item in body["output"]]
    assert kinds == ["reasoning", "message"]
    message = body["output"][1]
    assert message["role"] == "assistant"
    text = message["content"][0]["text"]
    assert message["content"][0]["type"] == "output_text" and text
    usage = body["usage"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert create(client, reasoning={"effort": "low"}).json()["output"][1]["content"][0]["text"] == text


def test_max_output_tokens_and_function_tools(client: httpx.Client) -> None:
    cut = create(client, model="openai/gpt-4o-mini", max_output_tokens=2).json()
    assert cut["status"] == "incomplete" and cut["incomplete_details"] == {"reason": "max_output_tokens"}
    assert cut["usage"]["output_tokens"] == 2
    tool = {
        "type": "function",
        "name": "lookup_city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    }
    body = create(client, model="openai/gpt-4o-mini", input="Population of Lisbon?", tools=[tool]).json()
    call = body["output"][0]
    assert call["type"] == "function_call" and call["name"] == "lookup_city"
    assert json.loads(call["arguments"]) == {"city": "Lisbon"}


def test_input_items_and_errors(client: httpx.Client) -> None:
    items = [{"role": "user", "content": [{"type": "input_text", "text": "Name a blue flower."}]}]
    assert create(client, input=items).status_code == 200
    missing = client.post("/v1/responses", json={"model": "openai/o4-mini"})
    assert missing.status_code == 422
    assert create(client, model="acme/none").json()["error"]["code"] == "model_not_found"


def test_response_stream(client: httpx.Client) -> None:
    response = create(client, stream=True)
    assert response.headers["content-type"] == "text/event-stream"
    raw = response.content
    assert b"[DONE]" not in raw
    events = sse_json(raw)
    for name, data in events:
        assert name == data["type"]
    assert [d["sequence_number"] for _, d in events] == list(range(len(events)))
    names = [name for name, _ in events]
    assert names[:2] == ["response.created", "response.in_progress"]
    assert names[-1] == "response.completed"
    assert "response.output_item.added" in names and "response.content_part.added" in names
    deltas = "".join(d["delta"] for n, d in events if n == "response.output_text.delta")
    final = events[-1][1]["response"]
    assert final["status"] == "completed"
    message = next(i for i in final["output"] if i["type"] == "message")
    assert message["content"][0]["text"] == deltas
    assert final["usage"]["output_tokens"] > 0
    assert events[0][1]["response"]["status"] == "in_progress"


def test_background_get_and_list(client: httpx.Client) -> None:
    queued = create(client, background=True).json()
    assert queued["status"] == "queued" and queued["output"] == []
    fetched = wait_until(
        lambda: (lambda r: r if r["status"] == "completed" else None)(
            client.get(f"/v1/responses/{queued['id']}").json()
        ),
        what="the background response completed",
    )
    assert fetched["output"]
    second = create(client).json()
    listing = client.get("/v1/responses", params={"limit": 1}).json()
    assert listing["object"] == "list" and listing["data"][0]["id"] == second["id"]
    assert listing["has_more"] is True and listing["first_id"] == second["id"]
    older = client.get("/v1/responses", params={"after": second["id"]}).json()
    assert older["data"][0]["id"] == queued["id"]
    missing = client.get("/v1/responses/resp_missing")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_hosted_tools_are_accepted_and_ignored(client: httpx.Client) -> None:
    hosted = [
        {"type": "mcp", "server_label": "w", "allowed_tools": None},
        {"type": "web_search"},
        {"type": "new_one"},
    ]
    plain = create(client, seed=3).json()
    with_tools = create(client, seed=3, tools=hosted, tool_choice="auto").json()
    assert (
        with_tools["status"] == "completed"
        and with_tools["output"][-1]["content"] == plain["output"][-1]["content"]
    )
