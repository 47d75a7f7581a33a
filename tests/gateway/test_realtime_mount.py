"""The realtime route is mounted, shares the gateway state, and honours ``ws_close_code`` faults."""

from __future__ import annotations

import json

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from meshapi_gateway import Gateway

from .conftest import TOKEN


def _url(gw: Gateway) -> str:
    return (
        gw.base_url.replace("http://", "ws://") + f"/v1/realtime?model=openai%2Fgpt-realtime&api_key={TOKEN}"
    )


def test_realtime_session_created_and_logged(gw: Gateway) -> None:
    gw.requests.clear()
    with connect(_url(gw), subprotocols=["openai-realtime"], open_timeout=5) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == "openai-realtime"
        first = json.loads(ws.recv(timeout=5))
        assert first["type"] == "session.created"
    records = gw.requests.filter(path="/v1/realtime", method="GET")
    assert len(records) == 1 and records[0].query["api_key"] == "rsk_…redacted"
    assert records[0].sent_secret(TOKEN)


def test_ws_close_code_fault(gw: Gateway) -> None:
    gw.faults.add("/v1/realtime", ws_close_code=1011, ws_close_after_events=1)
    with connect(_url(gw), subprotocols=["openai-realtime"], open_timeout=5) as ws:  # type: ignore[list-item]
        assert json.loads(ws.recv(timeout=5))["type"] == "session.created"
        with pytest.raises(ConnectionClosed) as info:
            ws.recv(timeout=5)
    assert info.value.rcvd is not None and info.value.rcvd.code == 1011
