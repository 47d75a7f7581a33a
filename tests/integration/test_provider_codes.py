"""Error codes and ``provider_code`` over real sockets: the typed classes the gateway's answers become."""

from __future__ import annotations

from typing import Any

import pytest

import meshapi
from tests.conftest import collect, resolve

CHAT = "/v1/chat/completions"
MODEL = "openai/gpt-4o-mini"
MESSAGES = [{"role": "user", "content": "Hi there"}]


async def test_context_window_exceeded_is_typed(any_client: Any, gateway: Any) -> None:
    with pytest.raises(meshapi.ContextWindowExceededError) as info:
        await resolve(any_client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=200_000))
    err = info.value
    assert isinstance(err, meshapi.BadRequestError)
    assert (err.status, err.error_code, err.provider_code) == (
        400,
        "context_window_exceeded",
        "context_window_exceeded",
    )
    assert err.request_id == gateway.requests.filter(path=CHAT)[-1].request_id


async def test_fault_plan_provider_code_reaches_the_error(any_client: Any, gateway: Any) -> None:
    gateway.faults.add(CHAT, status=400, provider_code="content_policy_violation")
    with pytest.raises(meshapi.ContentPolicyViolationError) as info:
        await resolve(any_client.chat.completions.create(model=MODEL, messages=MESSAGES))
    assert info.value.provider_code == "content_policy_violation"
    gateway.faults.add(
        CHAT, error_event_after=1, error_code="gateway_timeout", provider_code="provider_timeout"
    )
    stream = await resolve(any_client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True))
    with pytest.raises(meshapi.StreamEventError) as frame:
        await collect(stream)
    assert (frame.value.error_code, frame.value.provider_code) == ("gateway_timeout", "provider_timeout")
    assert frame.value.request_id == gateway.requests.filter(path=CHAT)[-1].request_id


async def test_provider_fault_provider_code(any_client: Any, gateway: Any) -> None:
    gateway.provider_faults.add(MODEL, status=500, error_code="upstream_error", times=1)
    try:
        with pytest.raises(meshapi.InternalServerError) as info:
            await resolve(any_client.chat.completions.create(model=MODEL, messages=MESSAGES))
    finally:
        gateway.provider_faults.clear()
    assert (info.value.error_code, info.value.provider_code) == ("upstream_error", "internal_provider_error")
