"""The gateway response cache through the SDK over real sockets (sync and async): ``cache_hit``, the
``response_cache=False`` opt-out (per call and client), the ``cache`` body field, streams."""

from __future__ import annotations

from typing import Any

from meshapi import AsyncMeshAPI, MeshAPI
from tests.conftest import close, resolve

CHAT = "/v1/chat/completions"
MODEL = "openai/gpt-4o-mini"


def messages(mode: str, name: str) -> Any:
    return [{"role": "user", "content": f"Response cache, {name}, {mode}: what is a lighthouse?"}]


async def test_second_call_is_a_hit(mode: str, any_client: Any) -> None:
    create = any_client.chat.completions.with_raw_response.create
    sent = messages(mode, "hit")
    first = await resolve(create(model=MODEL, messages=sent))
    second = await resolve(create(model=MODEL, messages=sent))
    assert (first.cache_hit, second.cache_hit) == (False, True)
    assert second.parse().id == first.parse().id
    assert second.parse().choices[0].message.content == first.parse().choices[0].message.content
    assert second.request_id != first.request_id


async def test_opt_outs_skip_read_and_write(mode: str, any_client: Any, gateway: Any) -> None:
    create = any_client.chat.completions.with_raw_response.create
    sent = messages(mode, "opt-outs")
    assert not (await resolve(create(model=MODEL, messages=sent, response_cache=False))).cache_hit
    assert gateway.requests.filter(path=CHAT)[-1].headers["x-mesh-cache"] == "no-store"
    assert not (await resolve(create(model=MODEL, messages=sent, cache=False))).cache_hit
    assert not (await resolve(create(model=MODEL, messages=sent))).cache_hit  # neither wrote
    assert not (await resolve(create(model=MODEL, messages=sent, response_cache=False))).cache_hit
    assert (await resolve(create(model=MODEL, messages=sent, cache=True))).cache_hit
    assert not (await resolve(create(model=MODEL, messages=sent, temperature=0.7))).cache_hit


async def test_client_option(mode: str, gateway: Any) -> None:
    cls = MeshAPI if mode == "sync" else AsyncMeshAPI
    client = cls(base_url=gateway.base_url, token=gateway.token, response_cache=False)
    try:
        create = client.chat.completions.with_raw_response.create
        sent = messages(mode, "client")
        assert [(await resolve(create(model=MODEL, messages=sent))).cache_hit for _ in range(2)] == [
            False,
            False,
        ]
        assert not (await resolve(create(model=MODEL, messages=sent, response_cache=True))).cache_hit
        assert (await resolve(create(model=MODEL, messages=sent, response_cache=True))).cache_hit
    finally:
        await close(client)


async def test_a_stored_answer_streams_with_the_hit_marker(mode: str, any_client: Any) -> None:
    sent = messages(mode, "stream")
    plain = await resolve(any_client.chat.completions.create(model=MODEL, messages=sent))
    raw = await resolve(
        any_client.chat.completions.with_raw_response.create(model=MODEL, messages=sent, stream=True)
    )
    assert raw.cache_hit is True
    stream = raw.parse()
    chunks = list(stream) if mode == "sync" else [chunk async for chunk in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == plain.choices[0].message.content
    assert {c.id for c in chunks} == {plain.id} and chunks[-1].cost == "0"
