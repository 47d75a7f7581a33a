"""One ``AsyncMeshAPI`` used from several event loops (one ``asyncio.run`` per job), over real sockets.

The client keeps a pool per event loop; a pool whose loop has closed is dropped without touching that
loop. Checked on httpx's transport and on aiohttp's: three ``asyncio.run`` in a row with one client made
outside any loop, the same replies as a fresh client's, no ``ResourceWarning``, and the process's open
descriptors back to where they were. An ``async_httpx_client`` of yours holding connections of a closed
loop is a ``ConfigurationError`` that says what to do.
"""

from __future__ import annotations

import asyncio
import gc
import os
import warnings
from typing import Any, Iterator, List

import httpx
import pytest

import meshapi
from meshapi import AsyncMeshAPI
from meshapi._transport.loops import abandon
from tests._poll import wait_until

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts /proc/self/fd")

MESSAGES = [{"role": "user", "content": "Name one prime number."}]


def fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture(params=["httpx", "aiohttp"])
def transport(request: pytest.FixtureRequest) -> str:
    if request.param == "aiohttp":
        pytest.importorskip("aiohttp")
    return str(request.param)


@pytest.fixture
def no_resource_warning() -> Iterator[List[warnings.WarningMessage]]:
    # the thread's current loop from before the test (pytest-asyncio 1.2 leaves its runner's loop there
    # on Python 3.9): asyncio.run() in the test unsets it, and collected here it warned as this test's;
    # kept alive, and set again afterwards
    local = getattr(asyncio.get_event_loop_policy(), "_local", None)
    before = getattr(local, "_loop", None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        yield caught
        gc.collect()  # anything left unclosed warns now
    if before is not None and not before.is_closed():
        asyncio.set_event_loop(before)
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


async def _ask(client: Any) -> str:
    reply = await client.chat.completions.create(model="openai/gpt-4o-mini", messages=MESSAGES)
    return str(reply.choices[0].message.content)


def test_one_client_three_event_loops(gateway: Any, transport: str, no_resource_warning: Any) -> None:
    expected = asyncio.run(_fresh_reply(gateway, transport))
    gc.collect()
    before = fds()
    client = AsyncMeshAPI(base_url=gateway.base_url, token=gateway.token, http_transport=transport)
    replies = [asyncio.run(_ask(client)) for _ in range(2)]
    replies.append(asyncio.run(_ask(client.with_options(timeout=30.0))))  # a copy follows the loop too
    assert replies == [expected] * 3
    # the pools of the two closed loops were dropped: one connection left (its two ends: same process)
    wait_until(lambda: fds() <= before + 2, what="descriptors of the dropped pools closed")
    asyncio.run(client.aclose())
    wait_until(lambda: fds() <= before, what="every descriptor back after aclose")
    with pytest.raises(meshapi.APIConnectionError, match="closed"):
        asyncio.run(_ask(client))


async def _fresh_reply(gateway: Any, transport: str) -> str:
    async with AsyncMeshAPI(base_url=gateway.base_url, token=gateway.token, http_transport=transport) as c:
        return await _ask(c)


def test_your_async_httpx_client_from_a_closed_loop_is_a_typed_error(
    gateway: Any, no_resource_warning: Any
) -> None:
    made: List[Any] = []

    async def first() -> str:
        inner = httpx.AsyncClient()
        client = AsyncMeshAPI(base_url=gateway.base_url, token=gateway.token, async_httpx_client=inner)
        made.extend([inner, client])
        return await _ask(client)

    assert asyncio.run(first())
    inner, client = made
    try:
        with pytest.raises(meshapi.ConfigurationError) as info:
            asyncio.run(_ask(client))
        assert info.value.error_code == "client_used_across_event_loops"
        assert "Create the httpx.AsyncClient inside the event loop that uses it" in str(info.value)
    finally:
        abandon(inner)  # its connections belong to the closed loop: dropped the way the SDK drops its own


def test_closed_from_a_later_loop_while_the_first_is_still_open(
    gateway: Any, no_resource_warning: Any
) -> None:
    # a session-scoped test loop: idle (not running) but open when the client is closed from another loop
    client = AsyncMeshAPI(base_url=gateway.base_url, token=gateway.token)
    idle = asyncio.new_event_loop()
    try:
        expected = idle.run_until_complete(_ask(client))
        gc.collect()
        before = fds()
        asyncio.run(client.aclose())  # idle's pool dropped: its socket closed, idle's selector told
        wait_until(lambda: fds() <= before - 2, what="the idle loop's connection closed (both ends)")
        # the descriptor number comes back on the next socket: the idle loop must take it for a new one
        assert idle.run_until_complete(_fresh_reply(gateway, "httpx")) == expected
    finally:
        idle.close()


def test_closed_from_asyncio_after_a_trio_run(gateway: Any, no_resource_warning: Any) -> None:
    trio = pytest.importorskip("trio")
    client = AsyncMeshAPI(base_url=gateway.base_url, token=gateway.token)
    gc.collect()
    before = fds()
    assert trio.run(_ask, client)
    asyncio.run(client.aclose())  # the trio run's connection: its socket closed directly
    wait_until(lambda: fds() <= before, what="the trio run's connection closed")
