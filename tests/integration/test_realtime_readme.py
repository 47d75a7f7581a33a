"""The 0.1.x README's realtime example against the local gateway: send audio, read until ``response.done``.

The README sends ``session.update``, then audio with ``send_audio``, then iterates the session until
``response.done``: no commit, no ``response.create``. That ends only because server voice activity
detection is on by default (GA protocol): the gateway hears the speech stop, commits and answers.
The audio is speech the gateway synthesized followed by silence, so the committed item's transcript
is the question itself. The README's ``session.update`` lacks ``session.type``, which the GA protocol
requires (docs/protocol.md §7.3): that one field is added. Every run is bounded: a watchdog closes a
session that has not finished in time, which ends the iteration and fails the test instead of hanging.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Dict, List

import pytest

pytest.importorskip("websockets")

from meshapi import AsyncMeshAPI, MeshAPI
from meshapi.realtime import voice
from meshapi_gateway.fakes import sound

BOUND = 10.0  # seconds; the whole exchange takes well under one
QUESTION = "What is the weather like today?"


def spoken_question() -> bytes:
    """A question as the gateway speaks it, then 600 ms of silence (GA ``silence_duration_ms`` is 500)."""
    return sound.speech_pcm(QUESTION) + voice.silence(600)


def check(types: List[str], audio: List[bytes], last: Dict[str, Any]) -> None:
    assert types[0] == "session.created" and types[-1] == "response.done", types
    assert types.index("input_audio_buffer.speech_started") < types.index("input_audio_buffer.committed")
    user = next(e for e in last["items"] if e["role"] == "user")
    assert user["content"][0]["transcript"] == QUESTION  # its own speech heard as its text
    response = last["done"]["response"]
    assert response["status"] == "completed"
    transcript = response["output"][0]["content"][0]["transcript"]
    assert b"".join(audio) == sound.speech_pcm(transcript)  # the answer, spoken at a speaking pace
    assert len(b"".join(audio)) == len(transcript.encode()) * 70 * 48


def test_readme_example_sync(gateway: Any, capsys: pytest.CaptureFixture[str]) -> None:
    pcm_bytes = spoken_question()
    received: List[bytes] = []
    items: List[Dict[str, Any]] = []
    done: Dict[str, Any] = {}

    def process_audio(audio: bytes) -> None:
        received.append(audio)

    client = MeshAPI(base_url=gateway.base_url, token=gateway.token)

    # Sync — use as a context manager
    with client.realtime.connect(model="openai/gpt-4o-realtime-preview") as session:
        watchdog = threading.Timer(BOUND, session.close)
        watchdog.start()
        try:
            session.send(
                {
                    "type": "session.update",
                    "session": {"type": "realtime", "instructions": "You are a helpful assistant."},
                }
            )
            session.send_audio(pcm_bytes)  # an input_audio_buffer.append event (0.1.4: a binary frame)

            for msg in session:  # iterate until connection closes
                print(msg.event["type"])  # "session.created", "response.done", …
                if msg.audio:  # decoded from response.output_audio.delta (0.1.4: a binary frame)
                    process_audio(msg.audio)
                if msg.event and msg.event["type"] == "conversation.item.added":
                    items.append(msg.event["item"])
                if msg.event and msg.event["type"] == "response.done":
                    done = msg.event
                    break
        finally:
            watchdog.cancel()
    client.close()
    types = capsys.readouterr().out.splitlines()
    assert done, f"no response.done within {BOUND} s: {types}"
    check(types, received, {"items": items, "done": done})


async def test_readme_example_async(gateway: Any) -> None:
    types: List[str] = []
    received: List[bytes] = []
    items: List[Dict[str, Any]] = []
    done: Dict[str, Any] = {}

    async def example() -> None:
        nonlocal done
        async with AsyncMeshAPI(base_url=gateway.base_url, token=gateway.token) as client:  # noqa: SIM117 (README shape)
            async with client.realtime.connect(model="openai/gpt-4o-realtime-preview") as session:
                await session.send(
                    {"type": "session.update", "session": {"type": "realtime", "instructions": "Be brief."}}
                )
                await session.send_audio(spoken_question())
                async for msg in session:
                    types.append(msg.event["type"])
                    if msg.audio:
                        received.append(msg.audio)
                    if msg.event["type"] == "conversation.item.added":
                        items.append(msg.event["item"])
                    if msg.event["type"] == "response.done":
                        done = msg.event
                        break

    try:
        await asyncio.wait_for(example(), BOUND)
    except asyncio.TimeoutError:
        pytest.fail(f"no response.done within {BOUND} s: {types}")
    check(types, received, {"items": items, "done": done})
