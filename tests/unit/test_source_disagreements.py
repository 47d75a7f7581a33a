"""The SDK's side of the choices docs/protocol.md §V16.1 lists where the sources disagree.

Each test names its item. Only the choices no other unit test pins yet are here; the rest are
named in the note next to the test that pins them.
"""

from __future__ import annotations

from typing import Any, List

import httpx
import pytest

from meshapi import InvalidParamsError
from tests.conftest import resolve

COMPLETION = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "openai/gpt-4o-mini",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}],
}
MESSAGES = [{"role": "user", "content": "Hi"}]


class Seen:
    """A MockTransport handler that answers a completion with fixed headers and keeps each request."""

    def __init__(self, **headers: str) -> None:
        self.requests: List[httpx.Request] = []
        self.headers = {"x-request-id": "req_1", **headers}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200, json=COMPLETION, headers=self.headers)


@pytest.mark.parametrize("rid", ["bad id", "x" * 65, "req/1", "é", ""])
async def test_15_a_request_id_the_gateway_would_replace_is_refused_before_sending(
    make_client: Any, rid: str
) -> None:
    seen = Seen()
    client = make_client(seen)
    with pytest.raises(InvalidParamsError, match="request_id must be 1 to 64 characters"):
        await resolve(client.chat.completions.create(model="a/x", messages=MESSAGES, request_id=rid))
    assert seen.requests == []


async def test_15_a_request_id_the_gateway_keeps_is_sent_as_is(make_client: Any) -> None:
    seen = Seen()
    client = make_client(seen)
    longest = "Az09._:-" * 8  # 64 characters, every kind the pattern allows
    await resolve(client.chat.completions.create(model="a/x", messages=MESSAGES, request_id=longest))
    assert seen.requests[0].headers["x-request-id"] == longest


async def test_10_the_current_echo_name_wins_over_the_legacy_one(make_client: Any) -> None:
    both = Seen(**{"X-Mesh-Version": "2026-09", "Mesh-Version": "2026-08"})
    raw = await resolve(
        make_client(both).chat.completions.with_raw_response.create(model="a/x", messages=MESSAGES)
    )
    assert raw.api_version == "2026-09"
    legacy = Seen(**{"Mesh-Version": "2026-08"})
    raw = await resolve(
        make_client(legacy).chat.completions.with_raw_response.create(model="a/x", messages=MESSAGES)
    )
    assert raw.api_version == "2026-08"


async def test_5_memory_ids_are_sent_as_given_and_the_gateway_matches_slugs(make_client: Any) -> None:
    seen = Seen(**{"X-Mesh-Memory-Applied": "prefs"})
    client = make_client(seen, memory=["prefs", "mem_01HZY", "prefs"])
    raw = await resolve(client.chat.completions.with_raw_response.create(model="a/x", messages=MESSAGES))
    # no slug-shape check in the SDK: an id or a name goes out unchanged, each once, in order
    assert seen.requests[0].headers["x-mem-id"] == "prefs,mem_01HZY"
    assert raw.memory_applied == ["prefs"]
