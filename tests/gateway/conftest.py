"""Fixtures for the gateway's own tests: one gateway per module, raw httpx clients (never the SDK)."""

from __future__ import annotations

import json
from typing import Any, Dict, Iterator, List, Optional, Tuple

import httpx
import pytest

from meshapi_gateway import Gateway, serve

TOKEN = "rsk_gateway_tests_token"
OTHER_TOKEN = "rsk_gateway_tests_other"


@pytest.fixture(scope="module")
def gw() -> Iterator[Gateway]:
    with serve([TOKEN, OTHER_TOKEN], batch_step_seconds=0.02, embed_step_seconds=0.01) as gateway:
        yield gateway


@pytest.fixture
def client(gw: Gateway) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=gw.base_url, headers=headers, timeout=10) as c:
        yield c
    gw.faults.clear()
    gw.state.response_cache.clear()  # one test's stored answers are not the next one's hits


@pytest.fixture
def other_client(gw: Gateway) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {OTHER_TOKEN}"}
    with httpx.Client(base_url=gw.base_url, headers=headers, timeout=10) as c:
        yield c


def user(text: str) -> List[Dict[str, Any]]:
    return [{"role": "user", "content": text}]


def chat_body(text: str = "Tell me about vector search in Paris.", **extra: Any) -> Dict[str, Any]:
    return {"model": "openai/gpt-4o-mini", "messages": user(text), **extra}


def split_events(raw: bytes) -> List[bytes]:
    """The raw SSE body cut into events (each without its closing blank line); checks the framing."""
    assert b"\r" not in raw, "SSE must use LF only"
    assert raw.endswith(b"\n\n"), "the last event must end with a blank line"
    return raw[:-2].split(b"\n\n")


def parse_event(block: bytes) -> Tuple[Optional[str], str]:
    """``(event name or None, data)``; asserts one ``data: `` line with exactly one space."""
    name = None
    data_lines = []
    for line in block.decode("utf-8").split("\n"):
        if line.startswith("event: "):
            name = line[len("event: ") :]
        elif line.startswith("data: "):
            assert not line.startswith("data:  "), "exactly one space after 'data:'"
            data_lines.append(line[len("data: ") :])
        elif line.startswith(":"):
            continue
        else:
            raise AssertionError(f"unexpected SSE line {line!r}")
    assert len(data_lines) <= 1, "one data line per event"
    return name, data_lines[0] if data_lines else ""


def sse_json(raw: bytes) -> List[Tuple[Optional[str], Any]]:
    """Every event with a data line: ``(name, parsed JSON or the literal '[DONE]')``."""
    out: List[Tuple[Optional[str], Any]] = []
    for block in split_events(raw):
        name, data = parse_event(block)
        if not data:
            continue
        out.append((name, data if data == "[DONE]" else json.loads(data)))
    return out


def assert_envelope(response: httpx.Response, status: int, code: str) -> Dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert body["request_id"] == response.headers["x-request-id"]
    return dict(body)
