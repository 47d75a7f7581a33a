"""Over real sockets: a stream's HTTP error is raised by the call that opens it, with the gateway's id.

``await client.chat.completions.create(stream=True)`` (also ``responses.create``, ``compare.create`` and
``images.generate`` with ``stream=True``, and ``open()`` on any family's stream) waits for the status
line, so a planned 404 / 429 surfaces there, before any iteration, as it must for a web handler that
answers with a ``StreamingResponse`` only once the stream is open. ``.stream()`` sends nothing until it is read.
"""

from __future__ import annotations

from typing import Any, Callable, Dict

import pytest

import meshapi
from meshapi import AsyncMeshAPI, MeshAPI
from tests.conftest import close, collect, resolve

MESSAGES = [{"role": "user", "content": "hi"}]
COMPARED = ["openai/gpt-4o-mini", "openai/gpt-4o"]
FAMILIES: Dict[str, Any] = {
    "chat": (
        "/v1/chat/completions",
        lambda c: c.chat.completions.create(model="openai/gpt-4o-mini", messages=MESSAGES, stream=True),
    ),
    "responses": (
        "/v1/responses",
        lambda c: c.responses.create(model="openai/o4-mini", input="hi", stream=True),
    ),
    "compare": (
        "/v1/chat/compare",
        lambda c: c.compare.create(models=COMPARED, messages=MESSAGES, stream=True),
    ),
    "images": (
        "/v1/images/generations",
        lambda c: c.images.generate(model="openai/gpt-image-1", prompt="a lighthouse", stream=True),
    ),
    "responses.stream().open()": (
        "/v1/responses",
        lambda c: c.responses.stream(model="openai/o4-mini", input="hi").open(),
    ),
    "compare.stream().open()": (
        "/v1/chat/compare",
        lambda c: c.compare.stream(models=COMPARED, messages=MESSAGES).open(),
    ),
    "images.stream().open()": (
        "/v1/images/generations",
        lambda c: c.images.stream(model="openai/gpt-image-1", prompt="a lighthouse").open(),
    ),
}
PLANNED: Dict[int, Any] = {404: meshapi.NotFoundError, 429: meshapi.RateLimitError}


def _client(mode: str, gateway: Any) -> Any:
    make: Callable[..., Any] = MeshAPI if mode == "sync" else AsyncMeshAPI
    return make(base_url=gateway.base_url, token=gateway.token, max_retries=0)


@pytest.mark.parametrize("status", sorted(PLANNED))
@pytest.mark.parametrize("family", list(FAMILIES))
async def test_a_planned_error_status_is_raised_when_the_stream_opens(
    mode: str, gateway: Any, family: str, status: int
) -> None:
    path, opener = FAMILIES[family]
    gateway.faults.add(path, method="POST", status=status, retry_after="2", times=1)
    before = len(gateway.requests.filter(path=path, method="POST"))
    client = _client(mode, gateway)
    try:
        with pytest.raises(PLANNED[status]) as caught:
            await resolve(opener(client))
    finally:
        await close(client)
    error = caught.value
    sent = gateway.requests.filter(path=path, method="POST")[before:]
    assert [r.status for r in sent] == [status]
    assert error.status == status and error.request_id == sent[0].request_id
    assert error.response is not None and error.response.status_code == status


async def test_an_unknown_model_is_a_not_found_error_at_create(mode: str, gateway: Any) -> None:
    client = _client(mode, gateway)
    try:
        with pytest.raises(meshapi.NotFoundError) as caught:
            await resolve(
                client.chat.completions.create(model="acme/no-such-model", messages=MESSAGES, stream=True)
            )
    finally:
        await close(client)
    assert caught.value.request_id and caught.value.response.status_code == 404


async def test_an_opened_stream_reads_to_the_end_and_stream_stays_lazy(mode: str, gateway: Any) -> None:
    path = "/v1/chat/completions"
    client = _client(mode, gateway)
    try:
        before = len(gateway.requests.filter(path=path))
        lazy = client.chat.completions.stream(model="openai/gpt-4o-mini", messages=MESSAGES)
        assert len(gateway.requests.filter(path=path)) == before and lazy.response is None
        await close(lazy)
        opened = await resolve(FAMILIES["chat"][1](client))
        assert len(gateway.requests.filter(path=path)) == before + 1 and opened.response.status_code == 200
        text = "".join(await collect(opened.text_stream))
        assert text and opened.closed
    finally:
        await close(client)


async def test_each_family_opened_by_create_reads_its_stream_to_the_end(mode: str, gateway: Any) -> None:
    client = _client(mode, gateway)
    try:
        responses = await resolve(FAMILIES["responses"][1](client))
        await collect(responses)
        assert responses.closed and (await resolve(responses.get_final_response())).status == "completed"
        compare = await resolve(FAMILIES["compare"][1](client))
        await collect(compare)
        assert compare.closed and (await resolve(compare.get_final())).models == COMPARED
        images = await resolve(FAMILIES["images"][1](client))
        await collect(images)
        assert images.closed and len((await resolve(images.get_final())).data) == 1
    finally:
        await close(client)
