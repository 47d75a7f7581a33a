"""Backpressure, reconnection and fork safety of realtime sessions, against the local gateway's realtime
fault plan (stall, drop, terminating error event), sync and async.

Every wait is bounded: stalls last about a second, reconnect delays are recorded instead of slept,
receives have timeouts.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
import tracemalloc
import warnings
from typing import Any, AsyncIterator, Dict, List

import pytest

pytest.importorskip("websockets")

from meshapi import AsyncMeshAPI, MeshAPI, RealtimeError
from meshapi.realtime import FlowControl, ReconnectPolicy
from meshapi.types.realtime_server import ErrorEvent, ReconnectedEvent
from tests.conftest import resolve

MODEL = "openai/gpt-realtime"
WAIT = 10.0
REALTIME = "/v1/realtime"
FAST: Dict[str, Any] = {"retry_initial_delay": 0.0, "retry_max_delay": 0.0, "timeout": 10.0}
# 64 KiB of PCM16 noise (~87 KB once base64-encoded); noise, because websockets compresses frames
# (permessage-deflate) and a pure tone would shrink to almost nothing on the wire
CHUNK = random.Random(7).randbytes(64 * 1024)
POLICY = ReconnectPolicy(max_attempts=3, initial_delay=0.25, multiplier=2.0, jitter=0.0)


@pytest.fixture
async def rt_client(mode: str, gateway: Any) -> AsyncIterator[Any]:
    if mode == "sync":
        with MeshAPI(base_url=gateway.base_url, token=gateway.token, **FAST) as c:
            yield c
    else:
        async with AsyncMeshAPI(base_url=gateway.base_url, token=gateway.token, **FAST) as c:
            yield c


def record_sleeps(session: Any) -> List[float]:
    """Replace the session's reconnect sleep by a recorder (delays are asserted, never waited)."""
    delays: List[float] = []
    if hasattr(session, "_async_sleep"):

        async def fake(seconds: float) -> None:
            delays.append(seconds)

        session._async_sleep = fake
    else:
        session._sleep = delays.append
    return delays


async def open_session(client: Any, **kwargs: Any) -> Any:
    session = await resolve(client.realtime.connect(model=MODEL, timeout=WAIT, **kwargs))
    first = await resolve(session.recv(timeout=WAIT))
    assert first.type == "session.created"
    return session


async def recv(session: Any) -> Any:
    return await resolve(session.recv(timeout=WAIT))


async def until(session: Any, kind: str) -> List[Any]:
    out: List[Any] = []
    while True:
        out.append(await recv(session))
        if out[-1].type == kind:
            return out


def realtime_records(gateway: Any) -> List[Any]:
    return [r for r in gateway.requests if r.path == REALTIME]


# --- backpressure -----------------------------------------------------------------------------------

FLOW = FlowControl(max_queue_bytes=256 * 1024, max_queue_events=64, send_timeout=0.3)


def test_sync_append_past_a_full_queue_raises_and_memory_stays_bounded(gateway: Any) -> None:
    gateway.faults.add(REALTIME, stall_after_events=1, stall_seconds=2.5)  # the gateway stops reading
    with MeshAPI(base_url=gateway.base_url, token=gateway.token, **FAST) as client:
        session = client.realtime.connect(model=MODEL, timeout=WAIT, flow_control=FLOW)
        offered = 0
        started = time.monotonic()
        tracemalloc.start()
        try:
            with pytest.raises(RealtimeError) as info:
                while offered < 40 * 1024 * 1024:
                    session.input_audio_buffer.append(CHUNK)
                    offered += len(CHUNK)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 4 * 1024 * 1024, peak  # Python memory stayed near the queue's cap (256 KiB)
        assert info.value.code == "send_queue_full" and "0.3 s" in str(info.value)
        assert time.monotonic() - started < 2.5  # raised during the stall, not after it
        frame = session.send_queue.peak_bytes - FLOW.max_queue_bytes
        assert session.send_queue.peak_bytes <= FLOW.max_queue_bytes + 90_000, frame
        assert offered > 10 * session.send_queue.peak_bytes  # far more was offered than ever queued
        # once the gateway reads again, the queue drains and the session carries on
        assert session.recv(timeout=WAIT).type == "session.created"
        session.session.update(instructions="still here")
        events = [session.recv(timeout=WAIT) for _ in range(1)]
        while events[-1].type != "session.updated":
            events.append(session.recv(timeout=WAIT))
        assert events[-1].session.instructions == "still here"
        assert session.send_queue.queued == (0, 0)
        session.close()


async def test_async_append_waits_for_room_and_memory_stays_bounded(gateway: Any) -> None:
    gateway.faults.add(REALTIME, stall_after_events=1, stall_seconds=2.0)
    async with AsyncMeshAPI(base_url=gateway.base_url, token=gateway.token, **FAST) as client:
        session = await client.realtime.connect(model=MODEL, timeout=WAIT, flow_control=FLOW)
        total = 250  # ~21 MB base64, more than the socket buffers and the queue hold together
        sent = 0

        async def produce() -> None:
            nonlocal sent
            for _ in range(total):
                await session.input_audio_buffer.append(CHUNK)
                sent += 1

        producer = asyncio.ensure_future(produce())
        await asyncio.sleep(0.8)
        assert not producer.done() and sent < total  # waiting for room, not failing, not buffering
        assert session.send_queue.bytes <= FLOW.max_queue_bytes + 90_000
        await asyncio.wait_for(producer, WAIT)  # the stall ends and everything goes out
        assert session.send_queue.peak_bytes <= FLOW.max_queue_bytes + 90_000
        await session.input_audio_buffer.commit()
        events = await until(session, "input_audio_buffer.committed")
        assert events[-1].type == "input_audio_buffer.committed"
        item = (await recv(session)).item
        assert item.content[0].transcript == f"({total * len(CHUNK)} bytes of audio)"  # nothing lost
        await session.close()


# --- reconnect --------------------------------------------------------------------------------------


async def test_a_drop_is_reconnected_with_the_config_resent_and_nothing_replayed(
    rt_client: Any, gateway: Any
) -> None:
    # drop after the third event of the connection: session.created, session.updated, item.added
    gateway.faults.add(REALTIME, drop_after_events=3)
    session = await open_session(rt_client, reconnect=POLICY)
    delays = record_sleeps(session)
    old_id = session.session_id
    await resolve(session.session.update(output_modalities=["text"], instructions="Remember me"))
    assert (await recv(session)).type == "session.updated"
    await resolve(session.conversation.item.create(text="Hello"))
    await resolve(session.response.create())
    events = await until(session, "reconnected")
    reconnected = events[-1]
    assert isinstance(reconnected, ReconnectedEvent)
    assert reconnected.close_code == 1006 and reconnected.attempt == 1 and session.reconnects == 1
    assert reconnected.response_interrupted and reconnected.session_resent
    assert delays == [0.25]
    after = await until(session, "session.updated")
    assert after[0].type == "session.created" and session.session_id not in (None, old_id)
    assert after[-1].session.instructions == "Remember me" and after[-1].session.output_modalities == ["text"]
    # the response.create that may have run is not re-sent: no response on the new connection
    await resolve(session.session.update(instructions="probe"))
    probe = await until(session, "session.updated")
    assert not [e for e in probe if e.type.startswith("response.")]
    assert [r.status for r in realtime_records(gateway)[-2:]] == [101, 101]
    await resolve(session.close())


async def test_undelivered_events_are_reported_not_resent(rt_client: Any, gateway: Any) -> None:
    big = FlowControl(max_queue_bytes=64 * 1024 * 1024, max_queue_events=1000, send_timeout=WAIT)
    gateway.faults.add(REALTIME, stall_after_events=1, stall_seconds=0.8, drop_after_events=2)
    session = await resolve(client_connect(rt_client, reconnect=POLICY, flow_control=big))
    record_sleeps(session)
    await resolve(session.session.update(instructions="kept"))
    for _ in range(200):  # ~17 MB: more than the socket buffers take while the gateway stalls
        await resolve(session.input_audio_buffer.append(CHUNK))
    events = await until(session, "reconnected")
    reconnected = events[-1]
    assert reconnected.undelivered, "everything fit in the socket buffers"
    assert {e["type"] for e in reconnected.undelivered} == {"input_audio_buffer.append"}
    assert not reconnected.response_interrupted
    await until(session, "session.updated")  # the configuration, re-sent
    await resolve(session.input_audio_buffer.commit())  # the new buffer is empty: nothing was replayed
    error = (await until(session, "error"))[-1]
    assert isinstance(error, ErrorEvent) and error.error.code == "input_audio_buffer_commit_empty"
    await resolve(session.close())


def client_connect(client: Any, **kwargs: Any) -> Any:
    return client.realtime.connect(model=MODEL, timeout=WAIT, **kwargs)


async def test_a_draining_gateway_is_reconnected_after_its_error_event(rt_client: Any, gateway: Any) -> None:
    gateway.faults.add(REALTIME, error_event_after=1, error_code="service_draining")
    session = await open_session(rt_client, reconnect=True)
    record_sleeps(session)
    error = await recv(session)
    assert isinstance(error, ErrorEvent) and error.error.code == "service_draining"
    reconnected = await recv(session)
    assert reconnected.type == "reconnected" and reconnected.close_code == 1000
    assert (await recv(session)).type == "session.created"
    await resolve(session.close())


async def test_without_reconnect_a_drop_is_a_typed_error(rt_client: Any, gateway: Any) -> None:
    gateway.faults.add(REALTIME, drop_after_events=1)
    session = await resolve(client_connect(rt_client))
    assert (await recv(session)).type == "session.created"
    with pytest.raises(RealtimeError) as info:
        await recv(session)
    assert info.value.code == "connection_lost" and info.value.close_code == 1006
    await resolve(session.close())


async def test_reconnect_gives_up_after_its_attempts(rt_client: Any, gateway: Any) -> None:
    gateway.faults.add(REALTIME, drop_after_events=1)
    gateway.faults.add(REALTIME, status=503, times=-1)  # every reopen is refused
    session = await resolve(client_connect(rt_client, reconnect=POLICY))
    delays = record_sleeps(session)
    assert (await recv(session)).type == "session.created"
    with pytest.raises(RealtimeError) as info:
        await recv(session)
    assert info.value.code == "connection_lost"
    assert delays == [0.25, 0.5, 1.0]
    assert [r.status for r in realtime_records(gateway)[-3:]] == [503, 503, 503]
    await resolve(session.close())


HOSTILE_PEERS = {
    "1011-before-created": {"ws_close_code": 1011, "ws_close_after_events": 0},
    "1011-after-created": {"ws_close_code": 1011, "ws_close_after_events": 1},
    "dropped-after-created": {"drop_after_events": 1},
}


@pytest.mark.parametrize("peer", sorted(HOSTILE_PEERS))
async def test_a_peer_that_accepts_and_drops_at_once_is_given_up_on(
    rt_client: Any, gateway: Any, peer: str
) -> None:
    # every connection is accepted, then closed at once: each reopen is a failed attempt, not a fresh start
    fault = gateway.faults.add(REALTIME, times=-1, **HOSTILE_PEERS[peer])
    session = await resolve(client_connect(rt_client, reconnect=POLICY))
    delays = record_sleeps(session)
    seen: List[str] = []
    with pytest.raises(RealtimeError) as info:
        for _ in range(20):  # bounded: before the fix this went on reconnecting
            event = await recv(session)
            seen.append(f"reconnected {event.attempt}" if event.type == "reconnected" else event.type)
    assert [s for s in seen if s.startswith("reconnected")] == [
        "reconnected 1",
        "reconnected 2",
        "reconnected 3",
    ]
    assert delays == [0.25, 0.5, 1.0]  # the backoff grows across the quick deaths
    assert fault.hits == 4  # the first connection and exactly 3 further attempts, counted at the gateway
    assert info.value.close_code == (1006 if "dropped" in peer else 1011)
    assert session.closed and session.reconnects == 3
    await resolve(session.close())


# --- fork -------------------------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX only")
async def test_a_session_is_not_shared_across_a_fork(rt_client: Any, mode: str) -> None:
    session = await open_session(rt_client)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # a multi-threaded process forks here
        pid = os.fork()
    if pid == 0:  # the child: every use is a typed error; close() leaves the parent's socket alone
        code = 1
        try:
            run = (lambda value: value) if mode == "sync" else asyncio.new_event_loop().run_until_complete
            try:
                run(session.send({"type": "response.create"}))
            except RealtimeError as exc:
                code = 0 if exc.code == "forked_process" else 2
            run(session.close())
            code = code if session.closed else 3
        except BaseException:
            code = 4
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0
    reply = await resolve(session.send_text("still mine", timeout=WAIT))  # the parent's session works
    assert reply
    await resolve(session.close())


async def test_send_text_across_a_drop_is_a_typed_interruption(rt_client: Any, gateway: Any) -> None:
    gateway.faults.add(REALTIME, drop_after_events=3)  # created, item.added, item.done... then gone
    session = await open_session(rt_client, reconnect=POLICY)
    record_sleeps(session)
    with pytest.raises(RealtimeError) as info:
        await resolve(session.send_text("Hello", timeout=WAIT))
    assert info.value.code == "response_interrupted" and info.value.close_code == 1006
    assert await resolve(session.send_text("Again", timeout=WAIT))  # the reconnected session answers
    await resolve(session.close())
