"""The gateway's ``/v1/realtime`` over a raw WebSocket (the ``websockets`` client, never the SDK).

What a realtime client of any language relies on: the three ways to authenticate, refusals as HTTP
statuses before the upgrade, the GA event flow of a text turn and an audio turn, and in-band errors
that name the bad event and leave the session usable.
"""

from __future__ import annotations

import base64
import json
from typing import Any, Dict, Iterator, List

import pytest

pytest.importorskip("websockets")

from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from meshapi_gateway import Gateway

from .conftest import TOKEN

MODEL = "openai%2Fgpt-realtime"
WAIT = 5


def ws_url(gw: Gateway, query: str) -> str:
    return gw.base_url.replace("http://", "ws://") + "/v1/realtime?" + query


def send(ws: ClientConnection, event: Dict[str, Any]) -> None:
    ws.send(json.dumps(event))


def recv(ws: ClientConnection) -> Dict[str, Any]:
    event = json.loads(ws.recv(timeout=WAIT))
    assert isinstance(event, dict) and event["type"] and event["event_id"].startswith("evt_")
    return event


def until(ws: ClientConnection, kind: str) -> List[Dict[str, Any]]:
    """Events up to and including the first of type ``kind``."""
    events = []
    for _ in range(500):
        events.append(recv(ws))
        if events[-1]["type"] == kind:
            return events
    raise AssertionError(f"no {kind} in {[e['type'] for e in events]}")


@pytest.fixture
def session(gw: Gateway) -> Iterator[ClientConnection]:
    with connect(
        ws_url(gw, f"model={MODEL}"),
        additional_headers={"Authorization": f"Bearer {TOKEN}"},
        open_timeout=WAIT,
    ) as ws:
        created = recv(ws)
        assert created["type"] == "session.created"
        assert created["session"]["model"] == "openai/gpt-realtime"
        yield ws


@pytest.mark.parametrize("how", ["header", "subprotocol", "query"])
def test_each_way_to_send_the_key_is_accepted(gw: Gateway, how: str) -> None:
    kwargs: Dict[str, Any] = {"open_timeout": WAIT}
    query = f"model={MODEL}"
    if how == "header":
        kwargs["additional_headers"] = {"Authorization": f"Bearer {TOKEN}"}
    elif how == "subprotocol":
        kwargs["subprotocols"] = ["openai-realtime", f"bearer.{TOKEN}"]
    else:
        query += f"&api_key={TOKEN}"
    with connect(ws_url(gw, query), **kwargs) as ws:
        assert recv(ws)["type"] == "session.created"
        if how == "subprotocol":
            assert ws.subprotocol == "openai-realtime"  # the key itself is never echoed back


@pytest.mark.parametrize(
    ("query", "headers", "status"),
    [
        (f"model={MODEL}", {}, 401),
        (f"model={MODEL}", {"Authorization": "Bearer rsk_not_a_known_key"}, 401),
        ("", {"Authorization": f"Bearer {TOKEN}"}, 400),
        ("model=nobody%2Fnone", {"Authorization": f"Bearer {TOKEN}"}, 404),
        ("model=openai%2Fgpt-4o-mini", {"Authorization": f"Bearer {TOKEN}"}, 404),  # not a realtime model
    ],
)
def test_refusals_are_http_statuses_before_the_upgrade(
    gw: Gateway, query: str, headers: Dict[str, str], status: int
) -> None:
    with pytest.raises(InvalidStatus) as info:
        connect(ws_url(gw, query), additional_headers=headers, open_timeout=WAIT).close()
    response = info.value.response
    assert response.status_code == status
    assert response.headers.get("x-request-id", "").startswith("req_")
    assert b"rsk_not_a_known_key" not in (response.body or b"")


def test_text_turn_event_flow(session: ClientConnection) -> None:
    send(session, {"type": "session.update", "session": {"type": "realtime", "output_modalities": ["text"]}})
    updated = recv(session)
    assert updated["type"] == "session.updated" and updated["session"]["output_modalities"] == ["text"]
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Say hello"}]}
    send(session, {"type": "conversation.item.create", "item": item})
    added, done = recv(session), recv(session)
    assert (added["type"], done["type"]) == ("conversation.item.added", "conversation.item.done")
    assert added["item"]["role"] == "user" and added["item"]["id"].startswith("item_")
    send(session, {"type": "response.create"})
    events = until(session, "response.done")
    kinds = [e["type"] for e in events]
    assert kinds[0] == "response.created" and "response.output_text.done" in kinds
    deltas = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    (text_done,) = [e for e in events if e["type"] == "response.output_text.done"]
    assert deltas and deltas == text_done["text"]
    assert events[-1]["response"]["status"] == "completed"


def test_audio_turn_commits_the_buffer(session: ClientConnection) -> None:
    # manual turns: server voice activity detection (on by default, as in the GA protocol) turned off
    manual = {"type": "realtime", "audio": {"input": {"turn_detection": None}}}
    send(session, {"type": "session.update", "session": manual})
    assert recv(session)["session"]["audio"]["input"]["turn_detection"] is None
    pcm = bytes(range(256)) * 8
    send(session, {"type": "input_audio_buffer.append", "audio": base64.b64encode(pcm).decode()})
    send(session, {"type": "input_audio_buffer.commit"})
    committed = recv(session)
    assert committed["type"] == "input_audio_buffer.committed" and committed["item_id"].startswith("item_")
    added = recv(session)
    assert added["type"] == "conversation.item.added" and added["item"]["id"] == committed["item_id"]
    assert f"{len(pcm)} bytes" in added["item"]["content"][0]["transcript"]
    recv(session)  # conversation.item.done
    send(session, {"type": "response.create"})
    events = until(session, "response.done")
    audio = b"".join(
        base64.b64decode(e["delta"]) for e in events if e["type"] == "response.output_audio.delta"
    )
    assert audio and len(audio) % 2 == 0  # PCM16 samples


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("not json", "invalid_json"),
        ("[1, 2]", "invalid_event"),
        ('{"type": "no.such.event", "event_id": "client_evt_1"}', "unknown_event_type"),
        ('{"type": "input_audio_buffer.commit"}', "input_audio_buffer_commit_empty"),
        ('{"type": "session.update", "session": {"modalities": ["text"]}}', "invalid_value"),
        ('{"type": "input_audio_buffer.append", "audio": "%%%"}', "invalid_value"),
    ],
)
def test_bad_events_get_an_error_event_and_the_session_goes_on(
    session: ClientConnection, raw: str, code: str
) -> None:
    session.send(raw)
    error = recv(session)
    assert error["type"] == "error" and error["error"]["code"] == code
    assert error["request_id"].startswith("req_") and error["error"]["message"]
    if "client_evt_1" in raw:
        assert error["error"]["event_id"] == "client_evt_1"
    send(session, {"type": "input_audio_buffer.clear"})
    assert recv(session)["type"] == "input_audio_buffer.cleared"  # still usable
