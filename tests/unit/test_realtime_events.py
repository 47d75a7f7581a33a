"""Typed realtime events from raw recorded frames (API.md §7.7 and a provider-style capture), client
events and the senders' builders, and ``event.type`` narrowing as mypy sees it."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Dict, List

import pytest

from meshapi import InvalidParamsError
from meshapi.realtime.messages import typed_event
from meshapi.realtime.protocol import decode_frame
from meshapi.realtime.senders import (
    build_append,
    build_item_create,
    build_response_create,
    build_session_update,
)
from meshapi.types import realtime_server as srv
from meshapi.types.realtime_client import (
    CLIENT_EVENT_TYPES,
    InputAudioBufferAppendEvent,
    ResponseCreateEvent,
    SessionUpdateEvent,
    UnknownClientEvent,
    parse_client_event,
)

# API.md §7.7, server side, as the frames arrive.
RECORDED = [
    '{"type":"session.created","event_id":"evt_01","session":{"id":"sess_9a","type":"realtime","model":"gpt-realtime"}}',
    '{"type":"session.updated","event_id":"evt_02","session":{"id":"sess_9a","type":"realtime","output_modalities":["audio"]}}',
    '{"type":"response.created","event_id":"evt_05","response":{"id":"resp_3c","status":"in_progress"}}',
    '{"type":"response.output_audio.delta","event_id":"evt_06","response_id":"resp_3c","item_id":"item_7",'
    '"output_index":0,"content_index":0,"delta":"UklGRiQAAABXQVZF"}',
    '{"type":"response.done","event_id":"evt_09","response":{"id":"resp_3c","status":"completed",'
    '"usage":{"total_tokens":412,"input_tokens":180,"output_tokens":232}}}',
    '{"type":"error","error":{"code":"idle_timeout","message":"Session idle for too long."},'
    '"request_id":"req_01JBD7Q2R3S4T5V6W7X8Y9Z0A1"}',
]

# One example of every other server event of API.md §7.4 (shapes of the GA catalogue).
MORE: List[Dict[str, Any]] = [
    {"type": "input_audio_buffer.speech_started", "audio_start_ms": 120, "item_id": "item_1"},
    {"type": "input_audio_buffer.speech_stopped", "audio_end_ms": 980, "item_id": "item_1"},
    {"type": "input_audio_buffer.committed", "previous_item_id": None, "item_id": "item_1"},
    {"type": "input_audio_buffer.cleared"},
    {
        "type": "conversation.item.created",
        "item": {"id": "i", "type": "message", "role": "user", "content": []},
    },
    {
        "type": "conversation.item.added",
        "item": {"id": "i", "content": [{"type": "input_text", "text": "Hi"}]},
    },
    {
        "type": "conversation.item.done",
        "item": {"id": "i", "content": [{"type": "input_audio", "transcript": "x"}]},
    },
    {"type": "response.output_item.added", "response_id": "r", "output_index": 0, "item": {"id": "i"}},
    {"type": "response.output_item.done", "response_id": "r", "output_index": 0, "item": {"id": "i"}},
    {"type": "response.output_audio.done", "response_id": "r", "item_id": "i"},
    {"type": "response.output_audio_transcript.delta", "response_id": "r", "delta": "Hel"},
    {"type": "response.output_audio_transcript.done", "response_id": "r", "transcript": "Hello"},
    {"type": "response.output_text.delta", "response_id": "r", "delta": "Hel"},
    {"type": "response.output_text.done", "response_id": "r", "text": "Hello"},
    {"type": "response.audio.delta", "response_id": "r", "delta": "AAA="},
    {"type": "response.audio_transcript.delta", "response_id": "r", "delta": "x"},
    {"type": "response.text.delta", "response_id": "r", "delta": "x"},
    {"type": "rate_limits.updated", "rate_limits": [{"name": "requests", "limit": 10, "remaining": 9}]},
    {"type": "reconnected", "attempt": 2, "undelivered": [{"type": "response.create"}]},
]


def test_every_recorded_frame_becomes_its_model() -> None:
    events = [typed_event(decode_frame(frame)) for frame in RECORDED]
    assert [type(e).__name__ for e in events] == [
        "SessionCreatedEvent",
        "SessionUpdatedEvent",
        "ResponseCreatedEvent",
        "ResponseOutputAudioDeltaEvent",
        "ResponseDoneEvent",
        "ErrorEvent",
    ]
    created, _, _, audio, done, error = events
    assert (
        isinstance(created, srv.SessionCreatedEvent) and created.session and created.session.id == "sess_9a"
    )
    assert isinstance(audio, srv.ResponseOutputAudioDeltaEvent)
    assert audio.audio == base64.b64decode("UklGRiQAAABXQVZF") and audio.item_id == "item_7"
    assert isinstance(done, srv.ResponseDoneEvent) and done.response and done.response.usage
    assert done.response.usage.total_tokens == 412
    assert isinstance(error, srv.ErrorEvent) and error.error and error.error.code == "idle_timeout"
    assert error.request_id == "req_01JBD7Q2R3S4T5V6W7X8Y9Z0A1"


@pytest.mark.parametrize("raw", MORE, ids=[e["type"] for e in MORE])
def test_every_catalogue_event_has_a_model(raw: Dict[str, Any]) -> None:
    event = srv.parse_server_event(raw)
    assert not isinstance(event, srv.UnknownServerEvent), raw["type"]
    assert event.type == raw["type"] and raw["type"] in srv.SERVER_EVENT_TYPES
    assert event.model_dump(exclude_none=True, exclude_defaults=False)["type"] == raw["type"]


def test_unknown_types_and_fields_are_kept_never_an_error() -> None:
    event = srv.parse_server_event({"type": "response.mcp_call.in_progress", "item_id": "x", "extra": [1, 2]})
    assert isinstance(event, srv.UnknownServerEvent)
    assert event.type == "response.mcp_call.in_progress" and event.model_extra == {
        "item_id": "x",
        "extra": [1, 2],
    }
    known = srv.parse_server_event({"type": "response.output_text.delta", "delta": "a", "obfuscation": "zz"})
    assert isinstance(known, srv.ResponseOutputTextDeltaEvent) and known.model_extra == {"obfuscation": "zz"}
    misfit = srv.parse_server_event({"type": "response.output_text.delta", "delta": {"not": "text"}})
    assert isinstance(misfit, srv.UnknownServerEvent) and misfit.model_extra == {"delta": {"not": "text"}}
    typeless = srv.parse_server_event({"type": 7, "x": 1})
    assert isinstance(typeless, srv.UnknownServerEvent) and typeless.type == ""
    binary = typed_event(decode_frame(b"\x00\x01\x02\x03"))
    assert isinstance(binary, srv.UnknownServerEvent) and binary.type == "binary"


def test_nested_models_help_with_text() -> None:
    done = srv.parse_server_event(
        {
            "type": "response.done",
            "response": {
                "output": [{"content": [{"type": "output_audio", "transcript": "Hi "}, {"text": "there"}]}],
            },
        }
    )
    assert isinstance(done, srv.ResponseDoneEvent) and done.response and done.response.text == "Hi there"


def test_client_events_parse_and_round_trip() -> None:
    frames = [
        {"type": "session.update", "session": {"type": "realtime", "instructions": "x", "new_knob": 1}},
        {"type": "input_audio_buffer.append", "audio": "AAAB"},
        {"type": "input_audio_buffer.commit"},
        {"type": "input_audio_buffer.clear"},
        {"type": "conversation.item.create", "item": {"type": "message"}},
        {"type": "response.create", "response": {"output_modalities": ["text"]}},
        {"type": "response.cancel"},
    ]
    for frame in frames:
        event = parse_client_event(frame)
        assert not isinstance(event, UnknownClientEvent) and event.to_event() == frame
    assert {f["type"] for f in frames} == CLIENT_EVENT_TYPES
    assert isinstance(
        parse_client_event({"type": "session.update", "session": {"type": "beta"}}), UnknownClientEvent
    )


def test_sender_builders() -> None:
    update = build_session_update(instructions="Be brief.", output_modalities=["text"], event_id="e1")
    assert update == {
        "type": "session.update",
        "event_id": "e1",
        "session": {"type": "realtime", "instructions": "Be brief.", "output_modalities": ["text"]},
    }
    assert SessionUpdateEvent.model_validate(update).session.instructions == "Be brief."
    assert build_item_create(text="Hi") == {
        "type": "conversation.item.create",
        "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hi"}]},
    }
    said = build_item_create(text="Ok", role="assistant")["item"]["content"][0]
    assert said == {"type": "output_text", "text": "Ok"}
    assert build_response_create() == {"type": "response.create"}
    created = build_response_create({"instructions": "x"}, output_modalities=["audio"])
    assert ResponseCreateEvent.model_validate(created).response.output_modalities == ["audio"]
    append = build_append(b"\x01\x02")
    assert InputAudioBufferAppendEvent.model_validate(append).audio == base64.b64encode(b"\x01\x02").decode()
    for bad in (
        lambda: build_session_update(output_modalities="text"),
        lambda: build_item_create(),
        lambda: build_item_create({"type": "message"}, text="both"),
        lambda: build_append("text"),
        lambda: build_response_create(7),
    ):
        with pytest.raises(InvalidParamsError):
            bad()


def test_deeply_nested_frames_are_typed_errors() -> None:
    from meshapi import RealtimeError
    from meshapi.realtime.protocol import encode_event

    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(RealtimeError) as info:
        decode_frame('{"type":"x","a":' + deep + "}")
    assert info.value.code == "malformed_event" and "nested too deeply" in str(info.value)
    nested: Dict[str, Any] = {}
    cursor = nested
    for _ in range(100_000):
        cursor["a"] = {}
        cursor = cursor["a"]
    with pytest.raises(InvalidParamsError):
        encode_event({"type": "x", "payload": nested})


NARROWING = """
from meshapi.types.realtime_server import RealtimeServerEvent, UnknownServerEvent

def use(event: RealtimeServerEvent) -> str:
    if event.type == "response.output_text.delta":
        return event.delta
    if event.type == "response.output_audio.delta":
        return str(len(event.audio))
    if event.type == "error":
        return event.error.code if event.error and event.error.code else ""
    if isinstance(event, UnknownServerEvent):
        return str(event.model_extra)
    return event.type
"""


def test_event_type_narrows_for_mypy(tmp_path: Path) -> None:
    pytest.importorskip("mypy")
    source = tmp_path / "narrowing.py"
    source.write_text(textwrap.dedent(NARROWING))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "--follow-imports=silent",
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_0_1_x_message_reaches_its_typed_event() -> None:
    message = decode_frame(RECORDED[3])
    assert message.type == "response.output_audio.delta" and message.audio == base64.b64decode(
        "UklGRiQAAABXQVZF"
    )
    typed = message.typed
    assert isinstance(typed, srv.ResponseOutputAudioDeltaEvent) and typed.audio == message.audio
    assert all(isinstance(json.loads(f), dict) for f in RECORDED)
