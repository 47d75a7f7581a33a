"""Prompt templates: create, list, get, update, use in chat, delete."""

from __future__ import annotations

import uuid

import pytest
from conftest import MODEL

import meshapi
from meshapi import AsyncMeshAPI, ChatCompletionParams, ChatMessage, MeshAPI, TemplateSummary
from meshapi._types import CreateTemplateParams, UpdateTemplateParams


def test_template_lifecycle(client: MeshAPI) -> None:
    name = f"livetest-{uuid.uuid4().hex[:8]}"
    created = client.templates.create(
        CreateTemplateParams(
            name=name, system="You are a support agent for {{company}}.", model=MODEL, variables=["company"]
        )
    )
    assert isinstance(created, TemplateSummary) and created.name == name
    try:
        assert created.id in {t.id for t in client.templates.list()}
        assert client.templates.get(created.id).system == created.system
        updated = client.templates.update(created.id, UpdateTemplateParams(description="updated"))
        assert updated.description == "updated"
        reply = client.chat.completions.create(
            ChatCompletionParams(
                messages=[ChatMessage(role="user", content="How do I reset my password?")],
                template=name,
                variables={"company": "Acme"},
            )
        )
        assert reply.choices[0].message.content
    finally:
        assert client.templates.delete(created.id) is None
    with pytest.raises(meshapi.NotFoundError):
        client.templates.get(created.id)


def test_update_without_fields_is_rejected_locally(client: MeshAPI) -> None:
    with pytest.raises(meshapi.InvalidParamsError):
        client.templates.update("any-id", UpdateTemplateParams())


async def test_async_template_lifecycle(async_client: AsyncMeshAPI) -> None:
    created = await async_client.templates.create(
        name=f"livetest-a-{uuid.uuid4().hex[:8]}", system="Be brief."
    )
    try:
        assert (await async_client.templates.get(created.id)).name == created.name
    finally:
        await async_client.templates.delete(created.id)
