"""``X-Mesh-Routing-Model``: the gateway-routing event, its debug line and the raw response."""

from __future__ import annotations

from typing import Any, Dict, List

import httpx
import pytest

from meshapi import GatewayRoutingEvent
from meshapi._resilience import debug_line, routing_event, routing_model
from tests.conftest import resolve
from tests.unit.test_transport import COMPLETION, MESSAGES, create


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"x-mesh-routing-model": "b/two"}, "b/two"),
        ({"x-mesh-routing-model": "  b/two "}, "b/two"),
        ({"x-mesh-routing-model": "  "}, None),
        ({"x-mesh-routing-model": ""}, None),
        ({}, None),
    ],
)
def test_routing_model_header(headers: Dict[str, str], expected: Any) -> None:
    assert routing_model(headers) == expected


def test_routing_event_carries_the_routing_model() -> None:
    headers = {
        "x-mesh-routing-attempts": "3",
        "x-mesh-routing-fallback": "true",
        "x-mesh-routing-model": "anthropic/claude-3.5-haiku",
        "x-mesh-served-provider": "anthropic",
        "x-request-id": "req_9",
    }
    event = routing_event("/v1/chat/completions", headers)
    assert event == GatewayRoutingEvent(
        "/v1/chat/completions", 3, True, "anthropic", "req_9", routing_model="anthropic/claude-3.5-haiku"
    )
    assert debug_line(event) == (
        "[meshapi] gateway served /v1/chat/completions with anthropic/claude-3.5-haiku via anthropic "
        "(3 attempts, provider fallback) [req_9]"
    )
    # the header alone (a router's pick, no attempt count) is one attempt, and no debug line
    alone = routing_event("/p", {"x-mesh-routing-model": "x/y"})
    assert alone == GatewayRoutingEvent("/p", 1, False, None, "", routing_model="x/y")
    assert debug_line(alone) is None
    # without the header the event is what it was
    assert routing_event("/p", {"x-mesh-routing-attempts": "2"}) == GatewayRoutingEvent(
        "/p", 2, False, None, ""
    )


async def test_logger_and_raw_response_get_the_routing_model(make_client: Any) -> None:
    headers = {"x-request-id": "req_r", "x-mesh-routing-model": "openai/gpt-4o"}
    events: List[Any] = []
    client = make_client(
        lambda r: httpx.Response(200, json=COMPLETION, headers=headers), logger=events.append
    )
    await create(client)
    assert events == [
        GatewayRoutingEvent("/v1/chat/completions", 1, False, None, "req_r", routing_model="openai/gpt-4o")
    ]
    raw = await resolve(client.chat.completions.with_raw_response.create(model="auto", messages=MESSAGES))
    assert raw.routing_model == "openai/gpt-4o" and raw.routing == events[0]
    plain = make_client(lambda r: httpx.Response(200, json=COMPLETION, headers={"x-request-id": "q"}))
    raw = await resolve(plain.chat.completions.with_raw_response.create(model="a/x", messages=MESSAGES))
    assert raw.routing_model is None and raw.routing is None
