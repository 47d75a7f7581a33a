"""Typed realtime events, senders and handlers against the local gateway, sync and async (one body each).

Also the gateway's side of the voice features: server VAD on synthesized speech and silence, audio
answers whose transcript matches the text, ``response.cancel`` mid-answer, ``rate_limits.updated``.
"""

from __future__ import annotations

import base64
from typing import Any, AsyncIterator, Callable, Dict, List

import pytest

pytest.importorskip("websockets")

from meshapi import AsyncMeshAPI, InvalidParamsError, MeshAPI, RealtimeError
from meshapi.realtime import voice
from meshapi.realtime.async_session import AsyncRealtimeSession
from meshapi.types.realtime_server import (
    ErrorEvent,
    InputAudioBufferSpeechStartedEvent,
    InputAudioBufferSpeechStoppedEvent,
    RateLimitsUpdatedEvent,
    ResponseDoneEvent,
    ResponseOutputAudioDeltaEvent,
    ResponseOutputTextDeltaEvent,
    SessionCreatedEvent,
    SessionUpdatedEvent,
)
from tests.conftest import resolve

MODEL = "openai/gpt-realtime"
WAIT = 5.0
FAST: Dict[str, Any] = {"retry_initial_delay": 0.0, "retry_max_delay": 0.0, "timeout": 10.0}


@pytest.fixture
async def rt(mode: str, gateway: Any) -> AsyncIterator[Any]:
    """An open session whose ``session.created`` has been received (typed)."""
    if mode == "sync":
        client: Any = MeshAPI(base_url=gateway.base_url, token=gateway.token, **FAST)
    else:
        client = AsyncMeshAPI(base_url=gateway.base_url, token=gateway.token, **FAST)
    session = await resolve(client.realtime.connect(model=MODEL, timeout=WAIT))
    first = await resolve(session.recv(timeout=WAIT))
    assert isinstance(first, SessionCreatedEvent) and first.session is not None
    assert first.session.id == session.session_id
    yield session
    await resolve(session.close())
    await resolve(client.close() if mode == "sync" else client.aclose())


async def recv(session: Any) -> Any:
    return await resolve(session.recv(timeout=WAIT))


async def until(session: Any, kind: str) -> List[Any]:
    """Typed events up to and including the first of ``kind``."""
    out: List[Any] = []
    while True:
        event = await recv(session)
        out.append(event)
        if event.type == kind:
            return out


async def iterate(session: Any, stop: Callable[[Any], bool]) -> List[Any]:
    out: List[Any] = []
    if isinstance(session, AsyncRealtimeSession):
        async for event in session.iter_events(timeout=WAIT):
            out.append(event)
            if stop(event):
                break
    else:
        for event in session.iter_events(timeout=WAIT):
            out.append(event)
            if stop(event):
                break
    return out


async def text_mode(session: Any) -> None:
    await resolve(session.session.update(output_modalities=["text"], instructions="Be brief."))
    updated = await recv(session)
    assert isinstance(updated, SessionUpdatedEvent) and updated.session is not None
    assert updated.session.output_modalities == ["text"] and updated.session.instructions == "Be brief."


# --- typed events and senders -----------------------------------------------------------------------


async def test_a_text_turn_is_typed_end_to_end(rt: Any) -> None:
    await text_mode(rt)
    await resolve(rt.conversation.item.create(text="Tell me about typed events"))
    await resolve(rt.response.create())
    events = await until(rt, "response.done")
    deltas = [e for e in events if isinstance(e, ResponseOutputTextDeltaEvent)]
    done = events[-1]
    assert isinstance(done, ResponseDoneEvent) and done.response is not None
    assert deltas and "".join(d.delta for d in deltas) == done.response.text
    assert done.response.status == "completed" and done.response.usage is not None
    assert (
        done.response.usage.total_tokens
        == done.response.usage.input_tokens + done.response.usage.output_tokens
    )
    limits = await recv(rt)
    assert isinstance(limits, RateLimitsUpdatedEvent) and limits.rate_limits is not None
    assert {r.name for r in limits.rate_limits} == {"requests", "tokens"}
    assert rt.last_response["id"] == done.response.id


async def test_spoken_answer_audio_matches_its_transcript(rt: Any) -> None:
    from meshapi_gateway.realtime.parts import pcm_for

    await resolve(rt.conversation.item.create(text="Say something"))
    await resolve(rt.response.create(output_modalities=["audio"]))
    events = await until(rt, "response.done")
    pieces = [e.delta for e in events if e.type == "response.output_audio_transcript.delta"]
    transcript = "".join(pieces)
    audio = b"".join(e.audio for e in events if isinstance(e, ResponseOutputAudioDeltaEvent))
    assert transcript and audio == b"".join(pcm_for(piece) for piece in pieces)  # each delta speaks its text
    done = events[-1]
    assert done.response.output[0].content[0].transcript == transcript


async def test_unknown_fields_are_kept_and_error_events_are_returned(rt: Any) -> None:
    await resolve(rt.send({"type": "not.a.real.event", "event_id": "evt_client_1"}))
    event = await recv(rt)
    assert isinstance(event, ErrorEvent) and event.error is not None
    assert event.error.code == "unknown_event_type" and event.error.event_id == "evt_client_1"
    assert event.request_id and event.error.model_extra == {}
    await resolve(rt.session.update(instructions="x", some_future_field={"a": 1}))  # passed through
    updated = await recv(rt)
    assert updated.type == "session.updated" and updated.session.model_extra["some_future_field"] == {"a": 1}


async def test_senders_validate_before_sending(rt: Any) -> None:
    with pytest.raises(InvalidParamsError):
        await resolve(rt.session.update(output_modalities=["video"]))
    with pytest.raises(InvalidParamsError):
        await resolve(rt.conversation.item.create())  # neither item nor text
    with pytest.raises(InvalidParamsError):
        await resolve(rt.input_audio_buffer.append("not bytes"))
    assert rt.send_queue.sent_frames == 0  # nothing reached the socket


async def test_audio_buffer_senders(rt: Any) -> None:
    # manual turns: server voice activity detection (on by default, as in the GA protocol) turned off
    await resolve(rt.session.update(audio={"input": {"turn_detection": None}}))
    assert (await recv(rt)).type == "session.updated"
    await resolve(rt.input_audio_buffer.append(voice.tone(100)))
    await resolve(rt.input_audio_buffer.clear())
    assert (await recv(rt)).type == "input_audio_buffer.cleared"
    await resolve(rt.input_audio_buffer.append(voice.tone(100)))
    await resolve(rt.input_audio_buffer.commit(event_id="evt_commit"))
    committed = await recv(rt)
    assert committed.type == "input_audio_buffer.committed" and committed.item_id
    added = await recv(rt)
    assert added.type == "conversation.item.added" and added.item.id == committed.item_id
    assert added.item.content[0].transcript == f"({len(voice.tone(100))} bytes of audio)"


async def test_response_cancel_stops_the_answer_mid_way(rt: Any, gateway: Any) -> None:
    await text_mode(rt)
    gateway.state.latency = 0.1  # paced deltas, so the cancel lands mid-answer even on a busy machine
    try:
        await resolve(rt.conversation.item.create(text="A long answer, please, with many words in it"))
        await resolve(rt.response.create())
        first = await until(rt, "response.output_text.delta")
        await resolve(rt.response.cancel())
        events = await until(rt, "response.done")
    finally:
        gateway.state.latency = 0.0
    done = events[-1]
    assert done.response.status == "cancelled"
    said = "".join(e.delta for e in first + events if e.type == "response.output_text.delta")
    assert said == done.response.text
    assert 1 <= len([e for e in first + events if e.type == "response.output_text.delta"]) < 8
    await resolve(rt.response.cancel())  # nothing in progress any more: an in-band error
    assert (await until(rt, "error"))[-1].error.code == "response_cancel_not_active"


# --- handlers ---------------------------------------------------------------------------------------


async def test_handlers_on_once_off_run_in_order(rt: Any, mode: str) -> None:
    await text_mode(rt)
    seen: List[str] = []
    deltas: List[str] = []

    def on_delta(event: ResponseOutputTextDeltaEvent) -> None:
        deltas.append(event.delta)

    rt.on("response.output_text.delta", on_delta)
    rt.once("response.created", lambda e: seen.append("created-once"))
    rt.on("*", lambda e: seen.append(e.type))
    if mode == "async":

        async def async_handler(event: Any) -> None:
            seen.append("async:" + event.type)

        rt.on("response.done", async_handler)
    await resolve(rt.conversation.item.create(text="Handlers"))
    await resolve(rt.response.create())
    await resolve(rt.run(until=lambda e: e.type == "response.done", timeout=WAIT))
    assert seen.count("created-once") == 1 and seen.index("created-once") < seen.index("response.created")
    assert (
        "response.done" in seen
        and deltas
        and rt.last_response["output"][0]["content"][0]["text"] == "".join(deltas)
    )
    if mode == "async":
        assert "async:response.done" in seen
    assert rt.off("response.output_text.delta", on_delta) == 1
    assert rt.off("*") == 1
    deltas.clear()
    await resolve(rt.response.create())
    await resolve(rt.run(until=lambda e: e.type == "response.done", timeout=WAIT))
    assert deltas == [] and seen.count("created-once") == 1


async def test_a_failing_handler_surfaces_as_a_typed_error(rt: Any) -> None:
    def broken(event: Any) -> None:
        raise ValueError("handler bug")

    rt.on("session.updated", broken)
    await resolve(rt.session.update(instructions="x"))
    with pytest.raises(RealtimeError) as info:
        await resolve(rt.run(timeout=WAIT))
    assert info.value.code == "handler_error" and "handler bug" in str(info.value)
    assert isinstance(info.value.__cause__, ValueError)
    assert not rt.closed  # the session stays usable


async def test_run_raises_an_error_event_nobody_handles(rt: Any) -> None:
    await resolve(rt.send({"type": "nope"}))
    with pytest.raises(RealtimeError) as info:
        await resolve(rt.run(timeout=WAIT))
    assert info.value.code == "unknown_event_type" and info.value.request_id
    errors: List[Any] = []
    rt.on("error", errors.append)
    await resolve(rt.send({"type": "nope"}))
    await resolve(rt.session.update(instructions="after"))
    await resolve(rt.run(until=lambda e: e.type == "session.updated", timeout=WAIT))
    assert len(errors) == 1 and errors[0].error.code == "unknown_event_type"


async def test_sync_sessions_refuse_coroutine_handlers(client: MeshAPI) -> None:
    async def handler(event: Any) -> None:  # pragma: no cover - never called
        pass

    with client.realtime.connect(model=MODEL, timeout=WAIT) as session, pytest.raises(InvalidParamsError):
        session.on("error", handler)


# --- voice activity detection -----------------------------------------------------------------------


async def vad_session(rt: Any, **detection: Any) -> None:
    turn = {"type": "server_vad", "silence_duration_ms": 300, "prefix_padding_ms": 100, **detection}
    await resolve(rt.session.update(output_modalities=["text"], audio={"input": {"turn_detection": turn}}))
    assert (await recv(rt)).type == "session.updated"


async def test_vad_finds_speech_between_silences_and_answers(rt: Any) -> None:
    await vad_session(rt)
    pcm = voice.silence(500) + voice.tone(700, amplitude=0.4) + voice.silence(600)
    for chunk in voice.chunks(pcm, ms=100):
        await resolve(rt.input_audio_buffer.append(chunk))
    events = await until(rt, "response.done")
    kinds = [e.type for e in events]
    started = next(e for e in events if isinstance(e, InputAudioBufferSpeechStartedEvent))
    stopped = next(e for e in events if isinstance(e, InputAudioBufferSpeechStoppedEvent))
    assert started.audio_start_ms == 400  # 500 ms of silence minus 100 ms of prefix padding
    assert stopped.audio_end_ms == 1200  # the end of the tone
    assert kinds.index("input_audio_buffer.speech_stopped") < kinds.index("input_audio_buffer.committed")
    assert kinds.index("input_audio_buffer.committed") < kinds.index("response.created")
    assert events[-1].response.status == "completed"


async def test_vad_stays_quiet_on_silence_and_faint_noise(rt: Any) -> None:
    await vad_session(rt)
    pcm = voice.silence(800) + voice.tone(800, amplitude=0.005) + voice.silence(400)
    for chunk in voice.chunks(pcm, ms=100):
        await resolve(rt.input_audio_buffer.append(chunk))
    await resolve(rt.input_audio_buffer.clear())
    assert (await recv(rt)).type == "input_audio_buffer.cleared"  # nothing came before it


async def test_vad_create_response_false_only_commits(rt: Any) -> None:
    await vad_session(rt, create_response=False)
    for chunk in voice.chunks(voice.tone(400) + voice.silence(400), ms=100):
        await resolve(rt.input_audio_buffer.append(chunk))
    kinds = [e.type for e in await until(rt, "conversation.item.done")]
    assert kinds[:3] == [
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
    ]
    await resolve(rt.session.update(instructions="probe"))
    assert (await recv(rt)).type == "session.updated"  # no response was started


async def test_typed_iteration_ends_quietly_on_a_normal_close(rt: Any) -> None:
    await resolve(rt.session.update(instructions="bye"))
    events = await iterate(rt, lambda e: e.type == "session.updated")
    assert events[-1].type == "session.updated" and events[-1].session.instructions == "bye"
    await resolve(rt.close())
    assert await iterate(rt, lambda e: True) == []


def test_binary_audio_events_decode(gateway: Any) -> None:
    event = ResponseOutputAudioDeltaEvent(
        type="response.output_audio.delta", delta=base64.b64encode(b"\x01\x00").decode()
    )
    assert event.audio == b"\x01\x00"
