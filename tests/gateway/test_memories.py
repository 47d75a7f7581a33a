"""Memories on the gateway: CRUD per key, validation, and the injection into chat with its header."""

from __future__ import annotations

import time
from typing import Any, Dict, Iterator, Optional

import httpx
import pytest

from meshapi_gateway.fakes.engine import count_tokens
from meshapi_gateway.fakes.memory import BUDGET_TOKENS, MAX_FACTS, inject

from .conftest import TOKEN, assert_envelope, chat_body, sse_json

CHAT = "/v1/chat/completions"


@pytest.fixture(autouse=True)
def _forget(client: httpx.Client, other_client: httpx.Client) -> Iterator[None]:
    yield
    for c in (client, other_client):
        for memory in c.get("/v1/memories").json()["data"]:
            assert c.delete(f"/v1/memories/{memory['slug']}").status_code == 204


def memory(c: httpx.Client, slug: str, *items: Dict[str, Any], **fields: Any) -> Dict[str, Any]:
    created = c.post("/v1/memories", json={"slug": slug, **fields})
    assert created.status_code == 201, created.text
    for item in items:
        made = c.post(f"/v1/memories/{slug}/items", json=item)
        assert made.status_code == 201, made.text
    return dict(created.json())


def fact(text: str) -> Dict[str, Any]:
    return {"item_type": "fact", "content": text}


def chat(c: httpx.Client, mem_ids: str, text: str = "What is my name?", **extra: Any) -> httpx.Response:
    response = c.post(CHAT, json=chat_body(text, **extra), headers={"x-mem-id": mem_ids})
    assert response.status_code == 200, response.text
    return response


def injected(gw: Any, mem_ids: str, text: str = "What is my name?", token: str = TOKEN) -> Optional[str]:
    """The system message a chat call with ``x-mem-id: mem_ids`` gets, from the gateway's own store."""
    owner = gw.state.owner_for(token)
    found = inject(gw.state.store, owner, mem_ids, [{"role": "user", "content": text}], time.time())
    return None if found.message is None else str(found.message["content"])


def prompt_tokens(c: httpx.Client, text: str, mem_ids: Optional[str] = None) -> int:
    headers = {"x-mem-id": mem_ids} if mem_ids is not None else {}
    return int(c.post(CHAT, json=chat_body(text), headers=headers).json()["usage"]["prompt_tokens"])


def test_crud_and_item_counts(client: httpx.Client) -> None:
    created = memory(client, "prefs", description="How I like answers", retention_days=30)
    stamp = created["created_at"]
    assert created == {
        "object": "memory",
        "slug": "prefs",
        "description": "How I like answers",
        "retention_days": 30,
        "active": True,
        "created_at": stamp,
        "updated_at": stamp,
        "item_counts": {"guardrail": 0, "preference": 0, "fact": 0},
    }
    item = client.post(
        "/v1/memories/prefs/items", json={"item_type": "preference", "key": "tone", "content": "Be brief."}
    ).json()
    assert item["id"].startswith("memitem_") and len(item["id"]) == len("memitem_") + 24
    assert {k: item[k] for k in ("object", "memory", "item_type", "key", "content", "expires_at")} == {
        "object": "memory.item",
        "memory": "prefs",
        "item_type": "preference",
        "key": "tone",
        "content": "Be brief.",
        "expires_at": None,
    }
    client.post("/v1/memories/prefs/items", json=fact("The user's name is Ada."))
    assert client.get("/v1/memories/prefs").json()["item_counts"] == {
        "guardrail": 0,
        "preference": 1,
        "fact": 1,
    }
    listing = client.get("/v1/memories/prefs/items", params={"item_type": "fact"}).json()
    assert listing["object"] == "list" and [i["content"] for i in listing["data"]] == [
        "The user's name is Ada."
    ]
    assert client.get(f"/v1/memories/prefs/items/{item['id']}").json() == item
    changed = client.patch(
        f"/v1/memories/prefs/items/{item['id']}", json={"content": "Be very brief."}
    ).json()
    assert changed["content"] == "Be very brief." and changed["item_type"] == "preference"
    assert (
        client.patch("/v1/memories/prefs", json={"retention_days": None, "active": False}).json()["active"]
        is False
    )
    assert client.get("/v1/memories/prefs").json()["retention_days"] is None
    assert client.delete(f"/v1/memories/prefs/items/{item['id']}").status_code == 204
    assert_envelope(client.get(f"/v1/memories/prefs/items/{item['id']}"), 404, "not_found")
    memory(client, "team-facts", description="Shared FACTS")
    assert [m["slug"] for m in client.get("/v1/memories").json()["data"]] == ["prefs", "team-facts"]
    assert [m["slug"] for m in client.get("/v1/memories", params={"q": "facts"}).json()["data"]] == [
        "team-facts"
    ]
    assert client.delete("/v1/memories/prefs").status_code == 204
    assert_envelope(client.get("/v1/memories/prefs"), 404, "not_found")
    assert_envelope(client.get("/v1/memories/prefs/items"), 404, "not_found")


@pytest.mark.parametrize(
    "slug", ["has space", "a,b", "-lead", "x" * 65, "123e4567-e89b-12d3-a456-426614174000", "caf\u00e9"]
)
def test_bad_slugs_are_refused(client: httpx.Client, slug: str) -> None:
    response = client.post("/v1/memories", json={"slug": slug})
    if len(slug) > 64:
        assert_envelope(response, 422, "validation_error")
    else:
        assert assert_envelope(response, 400, "invalid_request")["error"]["param"] == "slug"


def test_conflicts_and_immutable_fields(client: httpx.Client) -> None:
    memory(client, "prefs", fact("x"))
    assert_envelope(client.post("/v1/memories", json={"slug": "prefs"}), 409, "conflict")
    assert_envelope(client.patch("/v1/memories/prefs", json={"slug": "other"}), 400, "invalid_request")
    item = client.get("/v1/memories/prefs/items").json()["data"][0]
    path = f"/v1/memories/prefs/items/{item['id']}"
    assert_envelope(client.patch(path, json={"item_type": "guardrail"}), 400, "invalid_request")
    assert_envelope(client.patch(path, json={"key": "k"}), 400, "invalid_request")  # only preferences
    bad_type = client.post("/v1/memories/prefs/items", json={"item_type": "rule", "content": "x"})
    assert_envelope(bad_type, 422, "validation_error")
    assert_envelope(
        client.post("/v1/memories/prefs/items", json={"item_type": "fact"}), 422, "validation_error"
    )


def test_memories_belong_to_their_key(client: httpx.Client, other_client: httpx.Client) -> None:
    memory(client, "prefs", fact("Mine."))
    assert other_client.get("/v1/memories").json()["data"] == []
    assert_envelope(other_client.get("/v1/memories/prefs"), 404, "not_found")
    memory(other_client, "prefs", fact("Theirs."))  # the same slug under another key
    response = chat(other_client, "prefs")
    assert response.headers["x-mesh-memory-applied"] == "prefs"
    assert [i["content"] for i in client.get("/v1/memories/prefs/items").json()["data"]] == ["Mine."]


def test_injection_order_priorities_and_header(gw: Any, client: httpx.Client) -> None:
    memory(
        client,
        "prefs",
        {"item_type": "fact", "content": "The user lives in Paris."},
        {"item_type": "preference", "key": "tone", "content": "Be brief."},
        {"item_type": "guardrail", "content": "Never share secrets."},
    )
    memory(
        client,
        "team",
        {"item_type": "preference", "key": "tone", "content": "Be chatty."},  # prefs (left-most) wins
        {"item_type": "preference", "content": "Use metric units."},
        {"item_type": "fact", "content": "The user's name is Ada."},
    )
    memory(client, "idle", fact("Skipped."))
    client.patch("/v1/memories/idle", json={"active": False})
    assert chat(client, "").headers["x-mesh-memory-applied"] == ""
    asked = "ghost,prefs,idle,team, prefs"
    assert chat(client, asked).headers["x-mesh-memory-applied"] == "prefs,team"
    text = injected(gw, asked)
    assert text == (
        "Memory for this conversation.\n"
        "Guardrails:\n- Never share secrets.\n"
        "Preferences:\n- tone: Be brief.\n- Use metric units.\n"
        "Facts:\n- The user's name is Ada.\n- The user lives in Paris."  # the most relevant first
    )
    # injected tokens are prompt tokens: one more message (3 framing tokens) and its text
    plain = prompt_tokens(client, "What is my name?")
    assert prompt_tokens(client, "What is my name?", asked) == plain + 3 + count_tokens(text)
    assert "x-mesh-memory-applied" not in client.post(CHAT, json=chat_body("hi")).headers
    streamed = client.post(CHAT, json=chat_body("hi", stream=True), headers={"x-mem-id": "team"})
    assert streamed.headers["x-mesh-memory-applied"] == "team" and sse_json(streamed.content)[-1] == (
        None,
        "[DONE]",
    )
    swapped = injected(gw, "team,prefs")
    assert swapped is not None and "- tone: Be chatty." in swapped and "Be brief." not in swapped


def test_facts_are_capped_and_the_budget_holds(gw: Any, client: httpx.Client) -> None:
    facts = [fact(f"Fact number {i} about topic{i}.") for i in range(MAX_FACTS + 4)]
    memory(client, "many", *facts)
    question = "Tell me about topic11 and topic3."
    text = injected(gw, "many", question)
    assert text is not None
    lines = text.splitlines()
    assert lines[:4] == [
        "Memory for this conversation.",
        "Facts:",
        "- Fact number 3 about topic3.",  # the two relevant facts first, then creation order
        "- Fact number 11 about topic11.",
    ]
    assert lines[4:] == [f"- Fact number {i} about topic{i}." for i in (0, 1, 2, 4, 5, 6)]
    assert prompt_tokens(client, question, "many") == prompt_tokens(client, question) + 3 + count_tokens(text)
    long_rule = {"item_type": "guardrail", "content": "rule " * (BUDGET_TOKENS + 10)}
    memory(client, "strict", long_rule, {"item_type": "preference", "content": "Be brief."})
    assert chat(client, "strict").headers["x-mesh-memory-applied"] == "strict"
    strict = injected(gw, "strict")
    assert strict is not None and strict.startswith("Memory for this conversation.\nGuardrails:\n- rule rule")
    assert "Be brief." not in strict  # guardrails kept past the budget, the preference left out


def test_expired_and_retained_items(gw: Any, client: httpx.Client) -> None:
    past = int(time.time()) - 10
    memory(client, "old", {"item_type": "fact", "content": "Gone.", "expires_at": past}, fact("Kept."))
    assert injected(gw, "old") == "Memory for this conversation.\nFacts:\n- Kept."
    memory(client, "gone", {"item_type": "fact", "content": "Expired.", "expires_at": past})
    assert chat(client, "gone").headers["x-mesh-memory-applied"] == ""
    assert injected(gw, "gone") is None


def test_sixteen_memories_at_most(gw: Any, client: httpx.Client) -> None:
    for i in range(17):  # preferences: facts would stop at eight
        memory(client, f"m{i}", {"item_type": "preference", "content": f"Preference {i}."})
    names = ",".join(f"m{i}" for i in range(17))
    assert chat(client, names).headers["x-mesh-memory-applied"] == ",".join(f"m{i}" for i in range(16))
