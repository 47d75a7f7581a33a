"""Compare against the local gateway over real sockets, sync and async: a provider fault on one model fails
that model inside the stream (an error frame scoped to it), typed on its result, while the others finish;
every model faulted raises ``all_models_failed``; the same faults in a plain call."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from meshapi import MeshAPIError, StreamEventError
from tests.conftest import resolve

A, B, C = "openai/gpt-4o-mini", "anthropic/claude-3.5-haiku", "google/gemini-2.5-flash"
HI = [{"role": "user", "content": "Summarise vector search in one sentence."}]
MESSAGE = f"The provider of {B} is not available right now."


@pytest.fixture(autouse=True)
def _no_provider_faults_left(gateway: Any) -> Iterator[None]:
    yield
    gateway.provider_faults.clear()


@pytest.mark.parametrize("skip", [True, False])
async def test_one_faulted_model_fails_alone(any_client: Any, gateway: Any, skip: bool) -> None:
    clean = await resolve(any_client.compare.create(models=[A, B, C], messages=HI, skip_comparison=True))
    gateway.provider_faults.add(B, status=503, times=1)
    stream = await resolve(
        any_client.compare.create(models=[A, B, C], messages=HI, skip_comparison=skip, stream=True)
    )
    final = await resolve(stream.get_final())
    assert final.done and final.succeeded == [A, C] and final.errors == {B: MESSAGE}
    failure = final.failures[B]
    assert isinstance(failure, StreamEventError) and failure.error_code == "provider_not_available"
    assert failure.provider_error == {"provider": "anthropic", "status": 503, "message": "planned fault"}
    assert failure.request_id.endswith(f"::{B}")
    expected = {r.model: r.content for r in clean.results}
    assert (final.text(A), final.text(C)) == (expected[A], expected[C])
    assert final.partial is True and (final.synthesis != "") is (not skip)
    results = {r.model: r for r in final.to_response().results}
    assert results[B].failure is failure and results[A].failure is None and results[C].failure is None


async def test_every_model_faulted_fails_the_stream(any_client: Any, gateway: Any) -> None:
    gateway.provider_faults.add(A, times=1)
    gateway.provider_faults.add(B, times=1)
    stream = await resolve(
        any_client.compare.create(models=[A, B], messages=HI, skip_comparison=True, stream=True)
    )
    with pytest.raises(StreamEventError) as info:
        await resolve(stream.get_final())
    assert info.value.error_code == "all_models_failed" and info.value.message == "All models failed."
    assert info.value.details == [
        {
            "model": A,
            "error": f"The provider of {A} is not available right now.",
            "error_code": "provider_not_available",
        },
        {"model": B, "error": MESSAGE, "error_code": "provider_not_available"},
    ]


async def test_plain_calls_report_the_faulted_model_on_its_result(any_client: Any, gateway: Any) -> None:
    gateway.provider_faults.add(B, times=1)
    reply = await resolve(any_client.compare.create(models=[A, B], messages=HI))
    assert [(r.model, r.error, r.error_code, r.content) for r in reply.results][1] == (
        B,
        MESSAGE,
        "provider_not_available",
        None,
    )
    assert reply.partial is True and reply.results[0].error is None
    gateway.provider_faults.add(A, times=1)
    gateway.provider_faults.add(B, times=1)
    with pytest.raises(MeshAPIError) as info:
        await resolve(any_client.compare.create(models=[A, B], messages=HI, max_retries=0))
    assert info.value.status == 502 and info.value.error_code == "all_models_failed"


async def test_one_faulted_model_fails_alone_on_aiohttp(gateway: Any) -> None:
    pytest.importorskip("aiohttp")
    from meshapi import AsyncMeshAPI

    gateway.provider_faults.add(B, times=1)
    async with AsyncMeshAPI(
        base_url=gateway.base_url, token=gateway.token, http_transport="aiohttp"
    ) as client:
        stream = await client.compare.create(models=[A, B], messages=HI, skip_comparison=True, stream=True)
        final = await stream.get_final()
    assert final.succeeded == [A] and final.failures[B].error_code == "provider_not_available"
