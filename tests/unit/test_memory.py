"""Memories: the ``memory=[...]`` option as ``x-mem-id``, ``memory_applied``, and ``client.memories`` (MockTransport)."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional

import httpx
import pytest

import meshapi
from meshapi import Memory, MemoryItem
from meshapi._memory import check_memory_ids, memory_applied
from tests.conftest import resolve

MESSAGES = [{"role": "user", "content": "hi"}]
COMPLETION = {
    "id": "c1",
    "object": "chat.completion",
    "created": 1,
    "model": "openai/gpt-4o-mini",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
}
MEMORY = {
    "object": "memory",
    "slug": "prefs",
    "description": "d",
    "retention_days": None,
    "active": True,
    "item_counts": {"guardrail": 1, "preference": 0, "fact": 2},
    "created_at": 10,
    "updated_at": 11,
    "owner_team": "t1",  # a field the SDK does not declare: kept
}
ITEM = {
    "id": "memitem_1",
    "object": "memory.item",
    "memory": "prefs",
    "item_type": "preference",
    "content": "Be brief.",
    "key": "tone",
    "expires_at": None,
    "created_at": 10,
    "updated_at": 10,
    "embedding_model": "x",
}


class Recorder:
    """A MockTransport handler that records requests and answers from a fixed reply."""

    def __init__(self, status: int = 200, body: Any = None, headers: Optional[Dict[str, str]] = None) -> None:
        self.requests: List[httpx.Request] = []
        self.status, self.body, self.headers = status, body, headers or {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.status == 204:
            return httpx.Response(204, headers={"x-request-id": "req_m"})
        body = self.body if self.body is not None else COMPLETION
        return httpx.Response(self.status, json=body, headers={"x-request-id": "req_m", **self.headers})

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]


# -- the option ---------------------------------------------------------------------------------------


async def test_client_option_sends_x_mem_id_on_every_request(make_client: Any) -> None:
    rec = Recorder()
    client = make_client(rec, memory=["prefs", "team-facts", "prefs"])
    await resolve(client.chat.completions.create(model="a/x", messages=MESSAGES))
    assert rec.last.headers["x-mem-id"] == "prefs,team-facts"  # each once, order kept
    rec.body = {"object": "list", "data": []}
    await resolve(client.models.list())
    assert rec.last.headers["x-mem-id"] == "prefs,team-facts"
    assert client.config.memory == ("prefs", "team-facts")


async def test_per_call_option_overrides_or_drops_the_client_s(make_client: Any) -> None:
    rec = Recorder()
    client = make_client(rec, memory=["prefs"])
    await resolve(client.chat.completions.create(model="a/x", messages=MESSAGES, memory=["other", "prefs"]))
    assert rec.last.headers["x-mem-id"] == "other,prefs"
    for none in (None, []):
        await resolve(client.chat.completions.create(model="a/x", messages=MESSAGES, memory=none))
        assert "x-mem-id" not in rec.last.headers
    stream_rec = Recorder()
    plain = make_client(stream_rec)
    await resolve(plain.chat.completions.create(model="a/x", messages=MESSAGES))
    assert "x-mem-id" not in stream_rec.last.headers
    await resolve(plain.chat.completions.create(model="a/x", messages=MESSAGES, memory=["solo"]))
    assert stream_rec.last.headers["x-mem-id"] == "solo"


async def test_with_options_changes_the_memories(make_client: Any) -> None:
    rec = Recorder()
    client = make_client(rec, memory=["prefs"])
    copy = client.with_options(memory=["facts"])
    await resolve(copy.chat.completions.create(model="a/x", messages=MESSAGES))
    assert rec.last.headers["x-mem-id"] == "facts"
    await resolve(client.with_options(memory=None).chat.completions.create(model="a/x", messages=MESSAGES))
    assert "x-mem-id" not in rec.last.headers
    await resolve(client.chat.completions.create(model="a/x", messages=MESSAGES))
    assert rec.last.headers["x-mem-id"] == "prefs"


@pytest.mark.parametrize(
    "value",
    [
        "prefs",
        ["has space"],
        ["a,b"],
        [""],
        [7],
        ["caf\u00e9"],
        ["x" * 129],
        [f"m{i}" for i in range(17)],
        {"a": 1},
    ],
)
async def test_bad_memory_ids_fail_before_sending(make_client: Any, value: Any) -> None:
    rec = Recorder()
    with pytest.raises(meshapi.ConfigurationError):
        make_client(rec, memory=value)
    client = make_client(rec)
    with pytest.raises(meshapi.InvalidParamsError):
        await resolve(client.chat.completions.create(model="a/x", messages=MESSAGES, memory=value))
    with pytest.raises(meshapi.ConfigurationError):
        client.with_options(memory=value)
    assert rec.requests == []


def test_memory_id_rules() -> None:
    assert check_memory_ids(None) is None and check_memory_ids([]) is None
    assert check_memory_ids(("a", "b", "a")) == ("a", "b")
    assert check_memory_ids([f"m{i}" for i in range(16)] * 2) == tuple(f"m{i}" for i in range(16))
    assert check_memory_ids(["Mem_1.v2:x-~!"]) == ("Mem_1.v2:x-~!",)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"x-mesh-memory-applied": ""}, []),
        ({"x-mesh-memory-applied": "a, b,,c "}, ["a", "b", "c"]),
    ],
)
def test_memory_applied_header(headers: Dict[str, str], expected: Any) -> None:
    assert memory_applied(headers) == expected


async def test_raw_response_memory_applied(make_client: Any) -> None:
    client = make_client(Recorder(headers={"X-Mesh-Memory-Applied": "prefs,facts"}))
    raw = await resolve(
        client.chat.completions.with_raw_response.create(model="a/x", messages=MESSAGES, memory=["prefs"])
    )
    assert raw.memory_applied == ["prefs", "facts"]
    plain = make_client(Recorder())
    raw = await resolve(plain.chat.completions.with_raw_response.create(model="a/x", messages=MESSAGES))
    assert raw.memory_applied is None


# -- client.memories ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "method", "path", "body", "query"),
    [
        (lambda m: m.list(), "GET", "/v1/memories", None, {}),
        (lambda m: m.list(q="tone"), "GET", "/v1/memories", None, {"q": "tone"}),
        (
            lambda m: m.create(slug="prefs", description="d", retention_days=30),
            "POST",
            "/v1/memories",
            {"slug": "prefs", "description": "d", "retention_days": 30},
            {},
        ),
        (lambda m: m.create({"slug": "prefs"}), "POST", "/v1/memories", {"slug": "prefs"}, {}),
        (lambda m: m.get("prefs"), "GET", "/v1/memories/prefs", None, {}),
        (lambda m: m.get("a/b"), "GET", "/v1/memories/a%2Fb", None, {}),
        (lambda m: m.update("prefs", active=False), "PATCH", "/v1/memories/prefs", {"active": False}, {}),
        (
            lambda m: m.update("prefs", description="new", retention_days=7),
            "PATCH",
            "/v1/memories/prefs",
            {"description": "new", "retention_days": 7},
            {},
        ),
        (lambda m: m.delete("prefs"), "DELETE", "/v1/memories/prefs", None, {}),
        (lambda m: m.items.list("prefs"), "GET", "/v1/memories/prefs/items", None, {}),
        (
            lambda m: m.items.list("prefs", item_type="fact"),
            "GET",
            "/v1/memories/prefs/items",
            None,
            {"item_type": "fact"},
        ),
        (
            lambda m: m.items.create("prefs", item_type="preference", content="Be brief.", key="tone"),
            "POST",
            "/v1/memories/prefs/items",
            {"item_type": "preference", "content": "Be brief.", "key": "tone"},
            {},
        ),
        (lambda m: m.items.get("prefs", "memitem_1"), "GET", "/v1/memories/prefs/items/memitem_1", None, {}),
        (
            lambda m: m.items.update("prefs", "memitem_1", content="Be very brief.", expires_at=99),
            "PATCH",
            "/v1/memories/prefs/items/memitem_1",
            {"content": "Be very brief.", "expires_at": 99},
            {},
        ),
        (
            lambda m: m.items.delete("prefs", "memitem_1"),
            "DELETE",
            "/v1/memories/prefs/items/memitem_1",
            None,
            {},
        ),
    ],
)
async def test_every_memories_call_shape(
    make_client: Any, call: Any, method: str, path: str, body: Any, query: Dict[str, str]
) -> None:
    listing = path.endswith(("/v1/memories", "/items")) and method == "GET"
    reply: Any = {"object": "list", "data": [ITEM if "items" in path else MEMORY]} if listing else None
    if reply is None:
        reply = ITEM if "/items" in path else MEMORY
    rec = Recorder(204 if method == "DELETE" else 200, reply)
    client = make_client(rec, memory=["prefs"])
    result = await resolve(call(client.memories))
    sent = rec.last
    assert (sent.method, sent.url.raw_path.split(b"?")[0].decode(), dict(sent.url.params)) == (
        method,
        path,
        query,
    )
    assert (json.loads(sent.content) if sent.content else None) == body
    if method == "DELETE":
        assert result is None
    elif listing:
        assert [type(x) for x in result] == [MemoryItem if "items" in path else Memory]
        assert result.request_id == "req_m"
    elif "/items" in path:
        assert (
            isinstance(result, MemoryItem)
            and result.key == "tone"
            and result.model_extra == {"embedding_model": "x"}
        )
        assert result._request_id == "req_m"
    else:
        assert isinstance(result, Memory) and result.item_counts == {
            "guardrail": 1,
            "preference": 0,
            "fact": 2,
        }
        assert result.model_extra == {"owner_team": "t1"} and result._request_id == "req_m"


async def test_memories_arguments_checked_before_sending(make_client: Any) -> None:
    rec = Recorder(body=MEMORY)
    memories = make_client(rec).memories
    with pytest.raises(meshapi.InvalidParamsError, match="at least one field"):
        await resolve(memories.update("prefs"))
    with pytest.raises(meshapi.InvalidParamsError, match="at least one field"):
        await resolve(memories.items.update("prefs", "memitem_1"))
    with pytest.raises(meshapi.InvalidParamsError):
        await resolve(memories.create(slug="prefs", colour="red"))
    with pytest.raises(meshapi.InvalidParamsError):
        await resolve(memories.items.create("prefs", content="no type"))
    with pytest.raises(meshapi.InvalidParamsError):
        await resolve(memories.list(q=5))
    with pytest.raises(meshapi.InvalidParamsError):
        await resolve(memories.get(""))
    assert rec.requests == []


async def test_memories_raw_views_and_per_call_options(make_client: Any) -> None:
    rec = Recorder(body=ITEM, headers={"x-mesh-version": "2026-08"})
    client = make_client(rec)
    raw = await resolve(
        client.memories.items.with_raw_response.create(
            "prefs", item_type="fact", content="Ada", request_id="mine-1", timeout=5.0
        )
    )
    assert raw.status_code == 200 and raw.request_id == "req_m" and raw.parse().id == "memitem_1"
    assert rec.last.headers["x-request-id"] == "mine-1"
    raw = await resolve(client.memories.with_raw_response.items.get("prefs", "memitem_1"))
    assert isinstance(raw.parse(), MemoryItem)
    rec.body = MEMORY
    raw = await resolve(client.memories.with_raw_response.get("prefs", extra_headers={"X-Trace": "t"}))
    assert raw.parse().slug == "prefs" and rec.last.headers["x-trace"] == "t"


async def test_memories_errors_are_typed(make_client: Any) -> None:
    body = {"error": {"code": "not_found", "message": "Memory 'x' not found."}, "request_id": "req_404"}
    client = make_client(Recorder(404, body))
    with pytest.raises(meshapi.NotFoundError) as info:
        await resolve(client.memories.get("x"))
    assert info.value.request_id == "req_404"
