"""Realtime sessions over WebSocket: session.created, session.update, a text turn, sync and async."""

from __future__ import annotations

import pytest
from conftest import REALTIME_MODEL

pytest.importorskip("websockets")

from meshapi import AsyncMeshAPI, MeshAPI, MeshAPIError, RealtimeMessage
from meshapi.resources.realtime import RealtimeError


def test_connect_and_session_created(client: MeshAPI) -> None:
    with client.realtime.connect(model=REALTIME_MODEL) as session:
        first = session.receive()
        assert isinstance(first, RealtimeMessage)
        assert first.event is not None and first.event["type"] == "session.created"
        session.send({"type": "session.update", "session": {"type": "realtime", "instructions": "Be brief."}})
        for msg in session:
            if msg.event and msg.event["type"] == "session.updated":
                break


def test_text_turn(client: MeshAPI) -> None:
    with client.realtime.connect(model=REALTIME_MODEL) as session:
        reply = session.send_text("Say hello.")
        assert reply


def test_bad_model_is_typed(client: MeshAPI) -> None:
    with pytest.raises(MeshAPIError) as info:
        client.realtime.connect(model="nobody/not-realtime")
    assert info.value.status in (400, 404) and info.value.request_id


def test_error_event_is_a_realtime_error(client: MeshAPI) -> None:
    with client.realtime.connect(model=REALTIME_MODEL) as session:
        session.receive()
        session.send({"type": "no.such.event"})
        with pytest.raises(RealtimeError) as info:
            for _ in session:
                pass
    assert info.value.code


async def test_async_session(async_client: AsyncMeshAPI) -> None:
    async with async_client.realtime.connect(model=REALTIME_MODEL) as session:
        first = await session.receive()
        assert first.event and first.event["type"] == "session.created"
        reply = await session.send_text("Hello there")
        assert reply


def test_typed_events_senders_and_handlers(client: MeshAPI) -> None:
    with client.realtime.connect(model=REALTIME_MODEL) as session:
        first = session.recv(timeout=30)
        assert first.type == "session.created"
        session.session.update(output_modalities=["text"], instructions="Answer in one short sentence.")
        deltas = []
        session.on("response.output_text.delta", lambda event: deltas.append(event.delta))
        session.run(until=lambda event: event.type == "session.updated", timeout=30)
        session.conversation.item.create(text="Say hello.")
        session.response.create()
        session.run(until=lambda event: event.type == "response.done", timeout=60)
        assert deltas and session.last_response is not None


async def test_async_typed_events(async_client: AsyncMeshAPI) -> None:
    async with async_client.realtime.connect(model=REALTIME_MODEL) as session:
        kinds = []
        await session.session.update(output_modalities=["text"])
        await session.conversation.item.create(text="Hello there")
        await session.response.create()
        async for event in session.iter_events(timeout=60):
            kinds.append(event.type)
            if event.type == "response.done":
                break
        assert kinds[0] == "session.created" and "response.created" in kinds
