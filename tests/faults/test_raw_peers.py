"""Transport faults no HTTP server produces on purpose: refused, reset before and after the headers.

Each row runs a real socket against a ``RawPeer`` (tests/faults/peers.py) or a closed port, in sync and
async mode, and asserts the attempts, the delays (recorded by the fake sleep), the reused
Idempotency-Key, the typed error and that nothing stays open.
"""

from __future__ import annotations

from typing import Any, List

import pytest

import meshapi
from tests.faults.conftest import Harness
from tests.faults.helpers import CHAT, assert_backoff, chunk_frame, create, drain, stream_chat
from tests.faults.peers import RawPeer, closed_port, headers_then_reset, reset_at_once


def one_key(peer: RawPeer) -> str:
    keys = {r.headers.get("idempotency-key") for r in peer.requests}
    assert len(keys) == 1 and None not in keys, keys
    return keys.pop()  # type: ignore[return-value]


@pytest.mark.parametrize("call", ["create", "stream"])
async def test_connection_refused_is_retried_then_typed(tharness: Harness, call: str) -> None:
    client = tharness.client(f"http://127.0.0.1:{closed_port()}", max_retries=2)
    with pytest.raises(meshapi.APIConnectionError) as info:
        if call == "create":
            await create(client)
        else:
            await stream_chat(client)
    assert not isinstance(info.value, meshapi.APITimeoutError)
    assert info.value.request_id == "" and info.value.status == 0
    assert info.value.error_code == "connection_error"
    assert_backoff(tharness.sleeps, 2)
    await tharness.assert_released(client)


@pytest.mark.parametrize("call", ["create", "stream"])
async def test_reset_before_headers(tharness: Harness, call: str) -> None:
    with RawPeer(reset_at_once) as peer:
        client = tharness.client(peer.base_url)  # default max_retries=3
        with pytest.raises(meshapi.APIConnectionError) as info:
            if call == "create":
                await create(client)
            else:
                await stream_chat(client)
        assert len(peer.requests) == 4
        assert all(r.path == CHAT and r.method == "POST" for r in peer.requests)
        one_key(peer)
        assert_backoff(tharness.sleeps, 3)
        assert info.value.request_id == ""
    await tharness.assert_released(client)


async def test_reset_after_headers_plain_call_is_retried(tharness: Harness) -> None:
    # The headers promise 4096 bytes; 10 arrive, then an RST. The body never completes, so the
    # call failed as a whole and is retried with the same Idempotency-Key.
    with RawPeer(headers_then_reset(body_prefix=b'{"id": "ch')) as peer:
        client = tharness.client(peer.base_url, max_retries=1)
        with pytest.raises(meshapi.APIConnectionError) as info:
            await create(client)
        assert not isinstance(info.value, meshapi.APITimeoutError)
        assert len(peer.requests) == 2
        one_key(peer)
        assert_backoff(tharness.sleeps, 1)
    await tharness.assert_released(client)


async def test_reset_after_headers_mid_stream_keeps_items_and_is_not_retried(tharness: Harness) -> None:
    prefix = chunk_frame(0, "Par") + chunk_frame(1, "is")
    behaviour = headers_then_reset(
        content_type="text/event-stream", body_prefix=prefix, content_length=None, request_id="req_cut"
    )
    with RawPeer(behaviour) as peer:
        client = tharness.client(peer.base_url)
        stream = client.chat.completions.stream(model="m", messages=[{"role": "user", "content": "x"}])
        got: List[Any] = []
        with pytest.raises(meshapi.StreamInterruptedError) as info:
            await drain(stream, got)
        assert [c.choices[0].delta.content for c in got] == ["Par", "is"]
        assert info.value.request_id == "req_cut"
        assert "after 2 items" in str(info.value)
        assert len(peer.requests) == 1 and tharness.sleeps == []
        assert stream.closed
    await tharness.assert_released(client)


async def test_reset_after_headers_before_first_event(tharness: Harness) -> None:
    # Headers reached the caller (the stream is open), no event did: still a single attempt.
    behaviour = headers_then_reset(content_type="text/event-stream", content_length=None, request_id="req_e")
    with RawPeer(behaviour) as peer:
        client = tharness.client(peer.base_url)
        with pytest.raises(meshapi.StreamInterruptedError) as info:
            await stream_chat(client)
        assert info.value.request_id == "req_e" and "after 0 items" in str(info.value)
        assert len(peer.requests) == 1
    await tharness.assert_released(client)
