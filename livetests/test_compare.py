"""Compare: several models and a synthesis, plain and streamed."""

from __future__ import annotations

from conftest import MODEL, SECOND_MODEL

from meshapi import AsyncMeshAPI, ChatMessage, CompareParams, CompareResponse, MeshAPI

PARAMS = CompareParams(
    models=[MODEL, SECOND_MODEL],
    messages=[ChatMessage(role="user", content="Explain vector search in one sentence.")],
)


def test_compare_create(client: MeshAPI) -> None:
    result = client.compare.create(PARAMS)
    assert isinstance(result, CompareResponse)
    assert [r.model for r in result.results] == [MODEL, SECOND_MODEL] or {
        r.model for r in result.results
    } == {MODEL, SECOND_MODEL}
    assert result.comparison


def test_compare_stream_named_events(client: MeshAPI) -> None:
    events = list(client.compare.stream(PARAMS))
    names = [e.event for e in events]
    assert names[0] == "meta" and names[-1] == "done"
    assert "model_chunk" in names and "model_done" in names
    assert {e.model for e in events if e.event == "model_chunk"} == {MODEL, SECOND_MODEL}


def test_compare_stream_per_model_failure_keeps_the_others(client: MeshAPI) -> None:
    params = CompareParams(
        models=[MODEL, "nobody/missing-model"],
        messages=[ChatMessage(role="user", content="hi")],
        skip_comparison=True,
    )
    events = list(client.compare.stream(params))
    failed = [e for e in events if e.model == "nobody/missing-model" and e.error]
    succeeded = [e for e in events if e.model == MODEL and e.delta]
    assert failed and succeeded
    assert events[-1].event == "done"


async def test_async_compare_stream(async_client: AsyncMeshAPI) -> None:
    names = [e.event async for e in async_client.compare.stream(PARAMS)]
    assert names[0] == "meta" and names[-1] == "done"
