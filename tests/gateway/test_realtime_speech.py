"""The gateway's realtime speech over a raw WebSocket: its length, its text heard back, GA turn detection.

A spoken answer lasts about as long as someone saying it (70 ms per byte of its transcript: about 14
characters a second of 24 kHz PCM16 mono); audio the gateway synthesized, sent back into the input
buffer, is heard as its own text; server voice activity detection is on by default with the GA values,
so "append audio, read until ``response.done``" ends with no commit and no ``response.create``.
"""

from __future__ import annotations

import base64
from typing import Any, Dict, Iterator, List, Tuple

import pytest

pytest.importorskip("websockets")

from websockets.sync.client import ClientConnection, connect

from meshapi_gateway import Gateway
from meshapi_gateway.fakes import sound
from meshapi_gateway.realtime.parts import default_session, merge_session

from .conftest import TOKEN
from .test_realtime_raw import MODEL, WAIT, recv, send, until, ws_url

GA_SERVER_VAD = {
    "type": "server_vad",
    "threshold": 0.5,
    "prefix_padding_ms": 300,
    "silence_duration_ms": 500,
    "idle_timeout_ms": None,
    "create_response": True,
    "interrupt_response": True,
}
BYTES_PER_MS = 48  # PCM16 mono at 24 kHz
QUESTION = "What is the weather like today?"


@pytest.fixture
def opened(gw: Gateway) -> Iterator[Tuple[ClientConnection, Dict[str, Any]]]:
    """An open session and its ``session.created`` event."""
    with connect(
        ws_url(gw, f"model={MODEL}"),
        additional_headers={"Authorization": f"Bearer {TOKEN}"},
        open_timeout=WAIT,
    ) as ws:
        created = recv(ws)
        assert created["type"] == "session.created"
        yield ws, created


def append(ws: ClientConnection, pcm: bytes, ms: int = 100) -> None:
    step = ms * BYTES_PER_MS
    for start in range(0, len(pcm), step):
        send(
            ws,
            {
                "type": "input_audio_buffer.append",
                "audio": base64.b64encode(pcm[start : start + step]).decode(),
            },
        )


def manual_turns(ws: ClientConnection) -> None:
    send(
        ws,
        {
            "type": "session.update",
            "session": {"type": "realtime", "audio": {"input": {"turn_detection": None}}},
        },
    )
    assert recv(ws)["session"]["audio"]["input"]["turn_detection"] is None


def spoken_answer(ws: ClientConnection, text: str) -> Tuple[str, bytes, List[Dict[str, Any]]]:
    """Ask ``text`` as a text item; the answer's transcript, its audio and its events."""
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
    send(ws, {"type": "conversation.item.create", "item": item})
    until(ws, "conversation.item.done")
    send(ws, {"type": "response.create"})
    events = until(ws, "response.done")
    audio = b"".join(
        base64.b64decode(e["delta"]) for e in events if e["type"] == "response.output_audio.delta"
    )
    (done,) = [e for e in events if e["type"] == "response.output_audio_transcript.done"]
    return done["transcript"], audio, events


def test_session_created_has_server_vad_on_with_the_ga_values(opened: Tuple[ClientConnection, Any]) -> None:
    _, created = opened
    assert created["session"]["audio"]["input"]["turn_detection"] == GA_SERVER_VAD


def test_a_spoken_answer_lasts_as_long_as_saying_it(opened: Tuple[ClientConnection, Any]) -> None:
    ws, _ = opened
    transcript, audio, _ = spoken_answer(ws, "Tell me about rivers.")
    seconds = len(audio) / (BYTES_PER_MS * 1000)
    assert transcript and len(audio) == len(transcript.encode()) * 70 * BYTES_PER_MS  # 70 ms per byte
    assert 12 <= len(transcript) / seconds <= 16  # characters a second: a speaking pace
    assert sound.heard_text(audio) == transcript


def test_an_answer_sent_back_is_heard_as_its_text(opened: Tuple[ClientConnection, Any]) -> None:
    ws, _ = opened
    manual_turns(ws)
    transcript, audio, _ = spoken_answer(ws, "Tell me about rivers.")
    append(ws, bytes(100 * BYTES_PER_MS) + audio + bytes(300 * BYTES_PER_MS))  # silence around it is fine
    send(ws, {"type": "input_audio_buffer.commit"})
    committed = until(ws, "conversation.item.added")[-1]
    assert committed["item"]["content"][0] == {"type": "input_audio", "transcript": transcript}


def test_appended_speech_is_turned_and_answered_by_default(opened: Tuple[ClientConnection, Any]) -> None:
    """What the 0.1.x README does: send audio, then read events until ``response.done``."""
    ws, _ = opened
    speech = sound.speech_pcm(QUESTION)
    speech_ms = len(speech) // BYTES_PER_MS
    append(ws, bytes(200 * BYTES_PER_MS) + speech + bytes(600 * BYTES_PER_MS))
    events = until(ws, "response.done")
    kinds = [e["type"] for e in events]
    assert kinds[:5] == [
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
        "conversation.item.added",
        "conversation.item.done",
    ]
    assert events[0]["audio_start_ms"] == 0  # 200 ms of silence, less the 300 ms prefix padding
    assert events[1]["audio_end_ms"] == 200 + -(-speech_ms // 20) * 20  # the end of the last loud 20 ms frame
    assert events[3]["item"]["content"][0]["transcript"] == QUESTION
    assert events[-1]["response"]["status"] == "completed"
    answer = events[-1]["response"]["output"][0]["content"][0]["transcript"]
    assert answer == spoken_answer(ws, QUESTION)[0]  # the same answer as the question typed


# --- pure parts ---------------------------------------------------------------------------------------


def test_heard_text_reads_only_speech_the_gateway_made() -> None:
    speech = sound.speech_pcm("Héllo ✓")
    assert sound.heard_text(speech) == "Héllo ✓"
    assert sound.heard_text(bytes(4800) + speech + bytes(96000)) == "Héllo ✓"
    tts = sound.synthesize(
        "Say it again.", sound.AudioFormat.parse("pcm_24000") or sound.AudioFormat("pcm", 24000)
    )
    assert sound.heard_text(tts) == "Say it again."  # text-to-speech at 24 kHz too
    assert sound.heard_text(speech[:-3000]) is None  # cut short
    assert sound.heard_text(speech[: 840 * 2]) is None  # one tone of a byte's two (cut on a tone boundary)
    assert sound.heard_text(bytes(48000)) is None and sound.heard_text(b"") is None
    assert sound.heard_text(bytes(range(256)) * 8) is None
    assert sound.speech_seconds("Héllo ✓") == pytest.approx(len(speech) / 48000)


def test_turn_detection_updates_keep_the_ga_shape() -> None:
    session = default_session("openai/gpt-realtime")
    merge_session(
        session, {"audio": {"input": {"turn_detection": {"type": "server_vad", "silence_duration_ms": 300}}}}
    )
    assert session["audio"]["input"]["turn_detection"] == {**GA_SERVER_VAD, "silence_duration_ms": 300}
    merge_session(
        session, {"audio": {"input": {"turn_detection": {"type": "semantic_vad", "eagerness": "low"}}}}
    )
    assert session["audio"]["input"]["turn_detection"] == {"type": "semantic_vad", "eagerness": "low"}
    merge_session(session, {"audio": {"input": {"turn_detection": None}}})
    assert session["audio"]["input"]["turn_detection"] is None
    merge_session(session, {"audio": {"input": {"turn_detection": {"type": "server_vad"}}}})
    assert session["audio"]["input"]["turn_detection"] == GA_SERVER_VAD
