"""The gateway's realtime session on its own (raw websockets, no SDK): the realtime fault plan, VAD,
cancel and rate-limit events."""

from __future__ import annotations

import base64
import json
import math
import struct
import time
from typing import Any, Dict, Iterator, List

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from meshapi_gateway import Gateway

from .conftest import TOKEN


@pytest.fixture
def ws(gw: Gateway) -> Iterator[ClientConnection]:
    url = (
        gw.base_url.replace("http://", "ws://") + f"/v1/realtime?model=openai%2Fgpt-realtime&api_key={TOKEN}"
    )
    with connect(url, subprotocols=["openai-realtime"], open_timeout=5) as conn:  # type: ignore[list-item]
        assert json.loads(conn.recv(timeout=5))["type"] == "session.created"
        yield conn
    gw.faults.clear()


def send(ws: ClientConnection, event: Dict[str, Any]) -> None:
    ws.send(json.dumps(event))


def until(ws: ClientConnection, kind: str) -> List[Dict[str, Any]]:
    out: List[Dict[str, Any]] = []
    while not out or out[-1]["type"] != kind:
        out.append(json.loads(ws.recv(timeout=5)))
    return out


def tone(ms: int, amplitude: int = 8000) -> bytes:
    count = 24 * ms
    return b"".join(struct.pack("<h", int(amplitude * math.sin(i / 10))) for i in range(count))


def test_drop_closes_without_a_close_frame(gw: Gateway) -> None:
    gw.faults.add("/v1/realtime", drop_after_events=1)
    url = (
        gw.base_url.replace("http://", "ws://") + f"/v1/realtime?model=openai%2Fgpt-realtime&api_key={TOKEN}"
    )
    with connect(url, subprotocols=["openai-realtime"], open_timeout=5) as conn:  # type: ignore[list-item]
        assert json.loads(conn.recv(timeout=5))["type"] == "session.created"
        with pytest.raises(ConnectionClosed) as info:
            conn.recv(timeout=5)
    assert info.value.rcvd is None  # no close frame: the TCP connection was dropped


def test_stall_holds_both_directions(gw: Gateway) -> None:
    gw.faults.add("/v1/realtime", stall_after_events=1, stall_seconds=0.6)
    url = (
        gw.base_url.replace("http://", "ws://") + f"/v1/realtime?model=openai%2Fgpt-realtime&api_key={TOKEN}"
    )
    with connect(url, subprotocols=["openai-realtime"], open_timeout=5) as conn:  # type: ignore[list-item]
        started = time.monotonic()
        assert json.loads(conn.recv(timeout=5))["type"] == "session.created"
        send(conn, {"type": "session.update", "session": {"type": "realtime"}})
        assert json.loads(conn.recv(timeout=5))["type"] == "session.updated"
        assert time.monotonic() - started >= 0.5


def test_terminating_error_event_then_close(gw: Gateway) -> None:
    gw.faults.add("/v1/realtime", error_event_after=1, error_code="session_duration_exceeded")
    url = (
        gw.base_url.replace("http://", "ws://") + f"/v1/realtime?model=openai%2Fgpt-realtime&api_key={TOKEN}"
    )
    with connect(url, subprotocols=["openai-realtime"], open_timeout=5) as conn:  # type: ignore[list-item]
        assert json.loads(conn.recv(timeout=5))["type"] == "session.created"
        error = json.loads(conn.recv(timeout=5))
        assert error["type"] == "error" and error["error"]["code"] == "session_duration_exceeded"
        with pytest.raises(ConnectionClosed) as info:
            conn.recv(timeout=5)
    assert info.value.rcvd is not None and info.value.rcvd.code == 1000


def test_in_band_error_event_keeps_the_session(gw: Gateway) -> None:
    gw.faults.add("/v1/realtime", error_event_after=1, error_code="provider_error")
    url = (
        gw.base_url.replace("http://", "ws://") + f"/v1/realtime?model=openai%2Fgpt-realtime&api_key={TOKEN}"
    )
    with connect(url, subprotocols=["openai-realtime"], open_timeout=5) as conn:  # type: ignore[list-item]
        until(conn, "error")
        send(conn, {"type": "input_audio_buffer.clear"})
        assert until(conn, "input_audio_buffer.cleared")


def test_server_vad_and_rate_limits(ws: ClientConnection) -> None:
    turn = {"type": "server_vad", "silence_duration_ms": 200, "prefix_padding_ms": 0}
    send(
        ws,
        {
            "type": "session.update",
            "session": {
                "type": "realtime",
                "output_modalities": ["text"],
                "audio": {"input": {"turn_detection": turn}},
            },
        },
    )
    until(ws, "session.updated")
    audio = bytes(4800 * 2) + tone(400) + bytes(4800 * 2)
    send(ws, {"type": "input_audio_buffer.append", "audio": base64.b64encode(audio).decode()})
    events = until(ws, "rate_limits.updated")
    kinds = [e["type"] for e in events]
    assert kinds[:3] == [
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
    ]
    assert events[0]["audio_start_ms"] == 200 and events[1]["audio_end_ms"] == 600
    assert "response.done" in kinds
    limits = {r["name"]: r for r in events[-1]["rate_limits"]}
    assert limits["requests"]["remaining"] < limits["requests"]["limit"]


def test_a_second_response_while_one_runs_is_refused(gw: Gateway, ws: ClientConnection) -> None:
    gw.state.latency = 0.02
    try:
        send(
            ws,
            {
                "type": "conversation.item.create",
                "item": {
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": "hi"}],
                },
            },
        )
        send(ws, {"type": "response.create"})
        send(ws, {"type": "response.create"})
        events = until(ws, "response.done")
    finally:
        gw.state.latency = 0.0
    errors = [e for e in events if e["type"] == "error"]
    assert [e["error"]["code"] for e in errors] == ["conversation_already_has_active_response"]
    assert events[-1]["response"]["status"] == "completed"
