"""``client.costs.lookup`` end to end over real sockets, sync and async: calls made through the SDK are
looked up by their request ids and cost exactly what their usage events say (``Decimal``), across pages;
an id the gateway never served is an estimate from the catalog's prices when hinted."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, AsyncIterator, List

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from meshapi import AsyncMeshAPI, MeshAPI
from meshapi_gateway import serve
from tests.conftest import collect, resolve

TOKEN = "rsk_costs_integration"
MODEL = "openai/gpt-4o-mini"


@pytest.fixture
async def client(mode: str) -> AsyncIterator[Any]:
    gw = serve([TOKEN])
    kind = MeshAPI if mode == "sync" else AsyncMeshAPI
    made = kind(base_url=gw.base_url, token=TOKEN)
    try:
        yield made
    finally:
        if isinstance(made, AsyncMeshAPI):
            await made.close()
        else:
            made.close()
        gw.stop()


async def test_costs_equal_the_usage_events(client: Any) -> None:
    ids: List[str] = []
    for text in ("one", "two words", "three more words", "four"):
        raw = await resolve(client.chat.completions.with_raw_response.create(
            model=MODEL, messages=[{"role": "user", "content": text}]))  # fmt: skip
        ids.append(raw.request_id)
    events = {e.request_id: e for e in await collect(client.usage.iter_events())}
    asked = [ids[0], ids[2], ids[3]]
    found = await resolve(client.costs.lookup(asked, page_size=1))
    assert found.pages_read == 4  # newest first: the oldest id is on the last page
    assert [c.request_id for c in found.costs] == asked and not found.estimated
    for cost in found.costs:
        assert isinstance(cost.cost_usd, Decimal) and cost.cost_usd > 0
        assert cost.cost_usd == events[cost.request_id].cost_usd
        assert (cost.event_id, cost.model) == (events[cost.request_id].id, MODEL)
    assert found.total_usd == sum((events[i].cost_usd for i in asked), Decimal(0))


async def test_unknown_id_is_an_estimate_from_the_catalog(client: Any) -> None:
    info = await resolve(client.models.get(MODEL))
    assert info.max_context == 128000
    hints = {"req_never": {"model": MODEL, "prompt_tokens": 2000, "completion_tokens": 500}}
    found = await resolve(client.costs.lookup(["req_never", "req_other"], hints=hints))
    assert found.pages_read == 1
    assert [(c.request_id, c.cost_usd, c.estimated) for c in found.costs] == [
        ("req_never", Decimal("0.00060"), True),  # 2000 * 0.15/1M + 500 * 0.6/1M
        ("req_other", None, True),
    ]
