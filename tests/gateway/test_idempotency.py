"""``Idempotency-Key`` on the gateway: replay of a stored reply, conflicts, scope and bounds (raw httpx)."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any, Dict, List, Optional

import httpx
import pytest

from meshapi_gateway import Gateway
from meshapi_gateway.store.idempotency import IdempotencyCache, fingerprint

from .conftest import chat_body


def _batch_body(text: str = "What is a tide?") -> Dict[str, Any]:
    return {"requests": [{"custom_id": "q1", "body": chat_body(text)}]}


def _key() -> str:
    return f"idem-{uuid.uuid4().hex}"


def _batch_ids(client: httpx.Client) -> List[str]:
    response = client.get("/v1/batches", params={"limit": 100})
    assert response.status_code == 200
    data = response.json()
    items = data["data"] if isinstance(data, dict) else data
    return [item["id"] for item in items]


def test_same_key_same_body_replays_the_first_reply(client: httpx.Client) -> None:
    key = _key()
    first = client.post("/v1/batches", json=_batch_body(), headers={"Idempotency-Key": key})
    assert first.status_code == 200
    assert "idempotent-replayed" not in first.headers
    # Same document, other key order and spacing: still the same request.
    raw = json.dumps(dict(reversed(list(_batch_body().items()))), indent=2).encode()
    second = client.post(
        "/v1/batches", content=raw, headers={"Idempotency-Key": key, "Content-Type": "application/json"}
    )
    assert second.status_code == 200
    assert second.headers["idempotent-replayed"] == "true"
    assert second.content == first.content
    assert second.json()["id"] == first.json()["id"]
    # Each attempt still has its own request id.
    assert second.headers["x-request-id"] != first.headers["x-request-id"]
    assert _batch_ids(client).count(first.json()["id"]) == 1


def test_templates_are_created_once(client: httpx.Client) -> None:
    key = _key()
    body = {"name": f"idem-{uuid.uuid4().hex[:8]}", "system": "Be brief."}
    first = client.post("/v1/templates", json=body, headers={"Idempotency-Key": key})
    second = client.post("/v1/templates", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == second.status_code == 201
    assert second.headers["idempotent-replayed"] == "true"
    listed = client.get("/v1/templates").json()
    names = [t["name"] for t in (listed["data"] if isinstance(listed, dict) else listed)]
    assert names.count(body["name"]) == 1
    # Without the key the duplicate name is refused as usual: proof the replay did not run the handler.
    assert client.post("/v1/templates", json=body).status_code == 409


def test_same_key_other_body_is_a_409_naming_the_conflict(client: httpx.Client) -> None:
    key = _key()
    before = len(_batch_ids(client))
    assert (
        client.post("/v1/batches", json=_batch_body("a"), headers={"Idempotency-Key": key}).status_code == 200
    )
    other = client.post("/v1/batches", json=_batch_body("b"), headers={"Idempotency-Key": key})
    assert other.status_code == 409
    body = other.json()
    assert body["error"]["code"] == "conflict"
    assert key in body["error"]["message"] and "different request" in body["error"]["message"]
    assert body["error"]["details"] == [{"reason": "idempotency_key_reused"}]
    assert body["request_id"] == other.headers["x-request-id"]
    # The same key on another route is a different request too.
    elsewhere = client.post("/v1/templates", json={"name": "x"}, headers={"Idempotency-Key": key})
    assert elsewhere.status_code == 409
    assert "POST /v1/batches" in elsewhere.json()["error"]["message"]
    assert len(_batch_ids(client)) == before + 1


def test_failed_replies_are_not_stored(client: httpx.Client, gw: Gateway) -> None:
    key = _key()
    gw.faults.add("/v1/batches", status=503, times=1)
    first = client.post("/v1/batches", json=_batch_body(), headers={"Idempotency-Key": key})
    assert first.status_code == 503
    invalid = client.post("/v1/batches", json={"requests": 5}, headers={"Idempotency-Key": _key()})
    assert invalid.status_code == 422
    # The retry after the 503 runs for real, once; a further retry replays it.
    second = client.post("/v1/batches", json=_batch_body(), headers={"Idempotency-Key": key})
    third = client.post("/v1/batches", json=_batch_body(), headers={"Idempotency-Key": key})
    assert second.status_code == 200 and "idempotent-replayed" not in second.headers
    assert third.headers["idempotent-replayed"] == "true"
    assert third.json()["id"] == second.json()["id"]


def test_a_reply_lost_on_the_way_is_replayed_on_retry(client: httpx.Client, gw: Gateway) -> None:
    key = _key()
    gw.faults.add("/v1/batches", truncate_body=True, times=1)
    with pytest.raises(httpx.HTTPError):
        client.post("/v1/batches", json=_batch_body(), headers={"Idempotency-Key": key})
    retry = client.post("/v1/batches", json=_batch_body(), headers={"Idempotency-Key": key})
    assert retry.status_code == 200
    assert retry.headers["idempotent-replayed"] == "true"
    assert _batch_ids(client).count(retry.json()["id"]) == 1


def test_keys_are_per_caller_and_streams_are_not_stored(
    client: httpx.Client, other_client: httpx.Client
) -> None:
    key = _key()
    mine = client.post("/v1/batches", json=_batch_body(), headers={"Idempotency-Key": key})
    theirs = other_client.post("/v1/batches", json=_batch_body(), headers={"Idempotency-Key": key})
    assert theirs.status_code == 200 and "idempotent-replayed" not in theirs.headers
    assert theirs.json()["id"] != mine.json()["id"]
    stream_key = _key()
    for _ in range(2):
        streamed = client.post(
            "/v1/chat/completions", json=chat_body(stream=True), headers={"Idempotency-Key": stream_key}
        )
        assert streamed.status_code == 200
        assert "idempotent-replayed" not in streamed.headers
        assert streamed.text.rstrip().endswith("data: [DONE]")
    # Non-streamed chat completions are replayed like any other POST.
    plain_key = _key()
    a = client.post("/v1/chat/completions", json=chat_body(), headers={"Idempotency-Key": plain_key})
    b = client.post("/v1/chat/completions", json=chat_body(), headers={"Idempotency-Key": plain_key})
    assert b.headers["idempotent-replayed"] == "true" and a.json()["id"] == b.json()["id"]


def test_an_overlong_key_is_refused(client: httpx.Client) -> None:
    response = client.post("/v1/batches", json=_batch_body(), headers={"Idempotency-Key": "k" * 256})
    assert response.status_code == 422
    assert response.json()["error"]["details"] == [{"reason": "idempotency_key_invalid"}]


# --- the cache on its own: multipart, concurrency, bounds and expiry ---------------------------------


class _Counter:
    """A tiny ASGI app answering ``{"n": <calls so far>}``; it can be told to wait for an event."""

    def __init__(self, status: int = 200) -> None:
        self.calls = 0
        self.status = status
        self.gate: Optional[asyncio.Event] = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.calls += 1
        if self.gate is not None:
            await self.gate.wait()
        body = json.dumps({"n": self.calls, "pad": "x" * 100}).encode()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})


async def _call(cache: IdempotencyCache, app: _Counter, key: str, body: bytes, ctype: str) -> Dict[str, Any]:
    sent: List[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    async def receive() -> Any:
        return {"type": "http.request", "body": body, "more_body": False}

    scope = {"type": "http", "method": "POST", "path": "/v1/x", "meshapi.owner": "own_1"}
    await cache.wrap(app, key, body, ctype)(scope, receive, send)
    headers = dict(sent[0]["headers"])
    return {"status": sent[0]["status"], "headers": headers, "body": json.loads(sent[1]["body"])}


def _multipart(boundary: str) -> bytes:
    return (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\n'
        f"hello\r\n--{boundary}--\r\n"
    ).encode()


def test_multipart_bodies_match_whatever_the_boundary() -> None:
    cache, app = IdempotencyCache(), _Counter()

    async def scenario() -> None:
        first = await _call(cache, app, "k", _multipart("aaa"), "multipart/form-data; boundary=aaa")
        again = await _call(cache, app, "k", _multipart("bbb"), 'multipart/form-data; boundary="bbb"')
        assert again["headers"][b"idempotent-replayed"] == b"true" and again["body"] == first["body"]
        changed = _multipart("ccc").replace(b"hello", b"world")
        other = await _call(cache, app, "k", changed, "multipart/form-data; boundary=ccc")
        assert other["status"] == 409

    asyncio.run(scenario())
    assert app.calls == 1
    assert fingerprint("POST", "/a", "application/json", b'{"a":1,"b":2}') == fingerprint(
        "POST", "/a", "application/json", b'{ "b": 2, "a": 1 }'
    )
    assert fingerprint("POST", "/a", "", b"x") != fingerprint("POST", "/b", "", b"x")


def test_a_key_still_running_is_a_409_in_use() -> None:
    cache, app = IdempotencyCache(), _Counter()

    async def scenario() -> None:
        app.gate = asyncio.Event()
        first = asyncio.ensure_future(_call(cache, app, "k", b"{}", "application/json"))
        await asyncio.sleep(0)
        busy = await _call(cache, app, "k", b"{}", "application/json")
        assert busy["status"] == 409
        assert busy["body"]["error"]["details"] == [{"reason": "idempotency_key_in_use"}]
        app.gate.set()
        assert (await first)["status"] == 200

    asyncio.run(scenario())
    assert app.calls == 1


def test_memory_is_bounded_and_entries_expire() -> None:
    now = [1000.0]
    cache = IdempotencyCache(max_entries=3, max_bytes=10_000, ttl=100.0, clock=lambda: now[0])
    app = _Counter()

    async def scenario() -> None:
        for index in range(5):
            await _call(cache, app, f"k{index}", b"{}", "application/json")
        assert len(cache) == 3  # the two oldest were dropped
        replay = await _call(cache, app, "k4", b"{}", "application/json")
        assert replay["headers"][b"idempotent-replayed"] == b"true"
        fresh = await _call(cache, app, "k0", b"{}", "application/json")
        assert b"idempotent-replayed" not in fresh["headers"]
        now[0] += 101.0  # a day later, in this cache's terms
        assert len(cache) == 0 and cache.stored_bytes == 0
        expired = await _call(cache, app, "k4", b"{}", "application/json")
        assert b"idempotent-replayed" not in expired["headers"]

    asyncio.run(scenario())
    assert app.calls == 7
    small = IdempotencyCache(max_bytes=50)
    asyncio.run(_call(small, app, "big", b"{}", "application/json"))
    assert len(small) == 0 and small.stored_bytes == 0  # a reply bigger than the cap is not kept
