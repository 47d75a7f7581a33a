"""Errors as users catch them: 401, 404, typed subclasses, request ids, retries."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import MODEL, Target

import meshapi
from meshapi import AsyncMeshAPI, ChatCompletionParams, ChatMessage, MeshAPI, MeshAPIError

PARAMS = ChatCompletionParams(model=MODEL, messages=[ChatMessage(role="user", content="hi")])


def test_bad_token_is_401(target: Target) -> None:
    with (
        MeshAPI(base_url=target.base_url, token="rsk_definitely_not_valid") as bad,
        pytest.raises(MeshAPIError) as info,
    ):
        bad.chat.completions.create(PARAMS)
    assert info.value.status == 401
    assert info.value.error_code
    assert isinstance(info.value, meshapi.AuthenticationError)
    assert "rsk_definitely_not_valid" not in str(info.value) + repr(info.value)


def test_unknown_template_is_404(client: MeshAPI) -> None:
    with pytest.raises(meshapi.NotFoundError) as info:
        client.templates.get("00000000-0000-0000-0000-000000000000")
    assert info.value.status == 404 and info.value.request_id
    assert info.value.request_id in str(info.value)


def test_unknown_model(client: MeshAPI) -> None:
    with pytest.raises(MeshAPIError) as info:
        client.chat.completions.create(
            model="nobody/no-such-model", messages=[{"role": "user", "content": "x"}]
        )
    assert info.value.status in (400, 404)


def test_retried_429_succeeds(client: MeshAPI, local: Any) -> None:
    local.faults.add("/v1/chat/completions", status=429, retry_after="0", times=1)
    local.requests.clear()
    assert client.chat.completions.create(PARAMS).choices
    attempts = local.requests.filter(path="/v1/chat/completions")
    assert len(attempts) == 2
    assert attempts[0].headers["idempotency-key"] == attempts[1].headers["idempotency-key"]


async def test_async_bad_token(target: Target) -> None:
    async with AsyncMeshAPI(base_url=target.base_url, token="rsk_bad_async") as bad:
        with pytest.raises(meshapi.AuthenticationError):
            await bad.models.list()


def test_context_window_exceeded_is_typed(client: MeshAPI) -> None:
    # max_tokens far past any chat model's context window: the provider refuses before generating
    with pytest.raises(meshapi.BadRequestError) as info:
        client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "hi"}], max_tokens=10_000_000
        )
    assert info.value.request_id
    if info.value.error_code == "context_window_exceeded":
        assert isinstance(info.value, meshapi.ContextWindowExceededError)
    assert info.value.provider_code is None or isinstance(info.value.provider_code, str)
