"""The stream fault scenarios a real gateway's providers cause, seen from a raw httpx client: an error
frame first (N times, then normal), a hint in that frame, a slow first token, keep-alive comments only,
tool-call deltas without ``index`` or ids; planned from Python and over the admin API."""

from __future__ import annotations

import json
import time
from typing import Any, Dict, List

import httpx
import pytest

from meshapi_gateway import Gateway

from .conftest import chat_body, split_events, sse_json

CHAT = "/v1/chat/completions"
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


def tool_deltas(raw: bytes) -> List[Dict[str, Any]]:
    out: List[Dict[str, Any]] = []
    for _, data in sse_json(raw):
        if isinstance(data, dict):
            for choice in data.get("choices") or ():
                out.extend((choice.get("delta") or {}).get("tool_calls") or ())
    return out


def test_error_frame_first_n_times_then_normal(gw: Gateway, client: httpx.Client) -> None:
    gw.faults.add(CHAT, error_event_after=0, times=2, error_code="provider_overloaded", error_retry_after=1.5)
    for _ in range(2):
        response = client.post(CHAT, json=chat_body(stream=True))
        assert response.status_code == 200
        events = sse_json(response.content)
        assert len(events) == 2 and events[1] == (None, "[DONE]")
        error = events[0][1]["error"]
        assert error["code"] == "provider_overloaded" and error["retry_after_seconds"] == 1.5
        assert events[0][1]["request_id"] == response.headers["x-request-id"]
    normal = sse_json(client.post(CHAT, json=chat_body(stream=True)).content)
    assert len(normal) > 3 and all("error" not in data for _, data in normal if isinstance(data, dict))


def test_the_fault_error_frame_is_the_one_built_by_sse_error_event(gw: Gateway, client: httpx.Client) -> None:
    from meshapi_gateway.http.sse import DONE, error_event

    gw.faults.add(CHAT, error_event_after=0, error_code="upstream_error", provider_code="overloaded_error",
                  error_retry_after=3)  # fmt: skip
    response = client.post(CHAT, json=chat_body(stream=True))
    request_id = response.headers["x-request-id"]
    message = "Injected fault: the upstream stream failed."
    assert (
        response.content == error_event("upstream_error", message, request_id, "overloaded_error", 3) + DONE
    )
    assert response.content == (
        b'data: {"error":{"code":"upstream_error","message":"Injected fault: the upstream stream failed.",'
        b'"provider_code":"overloaded_error","retry_after_seconds":3},"request_id":"' + request_id.encode()
        + b'"}\n\ndata: [DONE]\n\n'
    )  # fmt: skip


def test_no_other_module_builds_an_sse_error_frame() -> None:
    """In-band ``{"error": ...}`` data frames come from ``http/sse.py::error_event`` only (compare's
    model-scoped ``event: error`` frames are a shape of their own)."""
    import ast
    from pathlib import Path

    import meshapi_gateway

    root = Path(meshapi_gateway.__file__).parent
    builders = sorted(
        f"{path.relative_to(root).as_posix()}:{node.lineno}"
        for path in root.rglob("*.py")
        if path.relative_to(root).as_posix() != "http/sse.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", getattr(node.func, "attr", None)) == "data_event"
        and any(
            isinstance(arg, ast.Dict)
            and any(isinstance(key, ast.Constant) and key.value == "error" for key in arg.keys)
            for arg in node.args
        )
    )
    assert builders == []


def test_first_event_delay_sends_headers_first(gw: Gateway, client: httpx.Client) -> None:
    gw.faults.add(CHAT, first_event_delay=0.5)
    started = time.monotonic()
    with client.stream("POST", CHAT, json=chat_body(stream=True)) as response:
        headers_after = time.monotonic() - started
        chunks = list(response.iter_bytes())
        body_after = time.monotonic() - started
    assert headers_after < 0.4 <= 0.5 <= body_after
    assert split_events(b"".join(chunks))[-1] == b"data: [DONE]"


def test_keepalive_comments_only_for_a_while(gw: Gateway, client: httpx.Client) -> None:
    gw.faults.add(CHAT, keepalive_seconds=0.6, keepalive_interval=0.1)
    started = time.monotonic()
    with client.stream("POST", CHAT, json=chat_body(stream=True)) as response:
        raw = b"".join(response.iter_bytes())
    assert time.monotonic() - started >= 0.6
    blocks = split_events(raw)
    comments = [b for b in blocks if b.startswith(b":")]
    assert 4 <= len(comments) <= 8 and set(comments) == {b": keep-alive"}
    assert blocks[: len(comments)] == comments  # nothing but comments before the first event
    assert blocks[-1] == b"data: [DONE]"


def test_tool_call_deltas_without_index_or_ids(gw: Gateway, client: httpx.Client) -> None:
    body = chat_body("Weather in Rome?", tools=[WEATHER], stream=True)
    plain = tool_deltas(client.post(CHAT, json=body).content)
    assert plain[0]["index"] == 0 and plain[0]["id"]
    gw.faults.add(CHAT, tool_calls_without_index=True)
    stripped = tool_deltas(client.post(CHAT, json=body).content)
    assert stripped == [{k: v for k, v in d.items() if k not in ("index", "id")} for d in plain]
    assert stripped[0]["function"]["name"] == "get_weather"


def test_scenarios_from_the_admin_api(gw: Gateway, client: httpx.Client) -> None:
    admin_headers = {"Authorization": f"Bearer {gw.admin_token}"}
    spec = {
        "route": CHAT,
        "error_event_after": 0,
        "error_code": "provider_overloaded",
        "error_retry_after": 2,
        "first_event_delay": 0.1,
        "keepalive_seconds": 0.2,
        "keepalive_interval": 0.05,
        "tool_calls_without_index": True,
    }
    added = client.post("/_admin/faults", json=spec, headers=admin_headers)
    assert added.status_code == 200, added.text
    summary = added.json()["faults"][0]
    assert {k: summary[k] for k in spec} == spec
    listed = client.get("/_admin/faults", headers=admin_headers).json()["faults"]
    assert listed[0]["keepalive_seconds"] == 0.2
    bad = client.post("/_admin/faults", json={**spec, "keepalive_interval": 0}, headers=admin_headers)
    assert bad.status_code == 400 and "keepalive_interval" in bad.text
    events = sse_json(client.post(CHAT, json=chat_body(stream=True)).content)
    assert events[0][1]["error"] == {
        "code": "provider_overloaded",
        "message": "Injected fault: the upstream stream failed.",
        "retry_after_seconds": 2,
    }


@pytest.mark.parametrize("field", ["first_event_delay", "keepalive_seconds"])
def test_non_stream_calls_are_untouched(gw: Gateway, client: httpx.Client, field: str) -> None:
    gw.faults.add(CHAT, **{field: 5.0})
    started = time.monotonic()
    reply = client.post(CHAT, json=chat_body())
    assert reply.status_code == 200 and json.loads(reply.content)["choices"]
    assert time.monotonic() - started < 2.0
