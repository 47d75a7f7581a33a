"""The API 2026-08/09 families as users reach them: per-unit and flex prices, a model's providers, web
page content, service tiers, provider prompt caching, the response cache, provider error codes, the
routing model header, and a compare billed per model.

Against the local gateway the values are exact; against a real one each test checks what the docs
promise and skips where a deployment does not serve the family (403/404/501), and the tests that need
the local fault plan skip themselves (``local``)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any, Callable, List, Optional, TypeVar

import pytest
from conftest import MODEL, SECOND_MODEL, Target

import meshapi
from meshapi import AsyncMeshAPI, MeshAPI, ModelInfo

T = TypeVar("T")
SKIPPED = (meshapi.NotFoundError, meshapi.PermissionDeniedError)
#: a stable prefix long enough for a provider to cache (over 1024 tokens)
LONG_SYSTEM = " ".join(f"Rule {n}: answer in plain words and keep every reply short." for n in range(160))


def served(call: Callable[[], T]) -> T:
    try:
        return call()
    except SKIPPED as exc:
        pytest.skip(f"this deployment does not serve it to API keys ({exc.status})")
    except meshapi.MeshAPIError as exc:
        if exc.status == 501:
            pytest.skip("not implemented by this deployment")
        raise


def flex_model(models: List[ModelInfo]) -> Optional[ModelInfo]:
    return next((m for m in models if m.supports_flex and (m.model_type or "text") == "text"), None)


def test_prices_per_token_and_per_unit(client: MeshAPI, target: Target) -> None:
    models = client.models.list()
    chat = next(m for m in models if m.id == MODEL)
    assert chat.pricing is not None and chat.pricing.pricing_unit == "per_1m_tokens"
    assert chat.pricing.input_usd_per_unit == chat.pricing.prompt_usd_per_1m
    assert chat.pricing.output_usd_per_unit == chat.pricing.completion_usd_per_1m
    if not target.local:  # retired in production; the local gateway still sends them for 0.1.x clients
        assert chat.pricing.prompt_usd_per_1k is None and chat.pricing.completion_usd_per_1k is None
    per_unit = [
        m for m in models if m.pricing is not None and m.pricing.pricing_unit not in (None, "per_1m_tokens")
    ]
    for model in per_unit:  # video, image, speech: the per-unit pair is the only price
        assert model.pricing is not None and model.pricing.prompt_usd_per_1m is None
        assert model.pricing.input_usd_per_unit is not None or model.pricing.output_usd_per_unit is not None
    if target.local:
        assert {m.pricing.pricing_unit for m in per_unit if m.pricing} >= {"per_second", "per_1k_chars"}
        flex = flex_model(models)
        assert (
            flex is not None and flex.pricing is not None and flex.pricing.flex_input_usd_per_1m is not None
        )


def test_a_models_providers(client: MeshAPI) -> None:
    providers = served(lambda: client.models.providers(MODEL))
    assert providers.model == MODEL and providers.providers
    assert all(p.provider for p in providers.providers)
    assert providers.providers[0].is_default in (True, None)


async def test_async_web_search_with_page_content(async_client: AsyncMeshAPI, target: Target) -> None:
    try:
        found = await async_client.web.search(
            "vector search", provider="tinyfish", include_page_content=True, max_results=3
        )
    except (*SKIPPED, meshapi.BadRequestError) as exc:
        pytest.skip(f"this deployment has no tinyfish page content ({exc.status})")
    assert found.results
    for result in found.results:
        assert result.page_content is None or isinstance(result.page_content, str)
        assert isinstance(result.page_content_truncated, bool)
    if target.local:
        assert all(r.page_content and r.content and r.page_content != r.content for r in found.results)
        plain = await async_client.web.search("vector search", max_results=3)
        assert [(r.page_content, r.page_content_truncated) for r in plain.results] == [(None, False)] * len(
            plain.results
        )


def test_flex_tier_and_its_refusal(client: MeshAPI) -> None:
    flex = flex_model(client.models.list())
    if flex is None:
        pytest.skip("no model with a flex price in this catalogue")
    raw = client.chat.completions.with_raw_response.create(
        model=flex.id, messages=[{"role": "user", "content": "Say ok."}], service_tier="flex", max_tokens=5
    )
    assert raw.parse().choices and raw.request_id
    not_flex = MODEL if flex.id != MODEL else SECOND_MODEL
    with pytest.raises(meshapi.ModelCapabilityNotSupportedError) as info:
        client.chat.completions.create(
            model=not_flex, messages=[{"role": "user", "content": "Say ok."}], service_tier="flex"
        )
    assert info.value.status == 400 and info.value.error_code == "model_capability_not_supported"
    try:
        events = client.usage.events(limit=20).events
    except SKIPPED:
        return
    event = next((e for e in events if e.request_id == raw.request_id), None)
    assert event is None or event.service_tier == "flex"


def test_a_flex_capacity_503_is_retried(client: MeshAPI, local: Any) -> None:
    flex = flex_model(client.models.list())
    assert flex is not None
    local.provider_faults.flex_capacity(flex.id, times=1, retry_after=0)
    local.requests.clear()
    try:
        reply = client.chat.completions.create(
            model=flex.id, messages=[{"role": "user", "content": "Say ok."}], service_tier="flex"
        )
    finally:
        local.provider_faults.clear()
    attempts = local.requests.filter(path="/v1/chat/completions")
    assert reply.choices and [a.status for a in attempts] == [503, 200]


def test_provider_prompt_caching(client: MeshAPI, target: Target) -> None:
    marker = {"type": "ephemeral"}
    system = {"role": "system", "content": [{"type": "text", "text": LONG_SYSTEM, "cache_control": marker}]}
    tokens: List[Any] = []
    for question in ("Say one.", "Say two."):
        reply = client.chat.completions.create(
            model=SECOND_MODEL,
            messages=[system, {"role": "user", "content": question}],
            max_tokens=5,
            response_cache=False,
        )
        assert reply.usage is not None
        details = reply.usage.prompt_tokens_details
        tokens.append(details.cached_tokens if details is not None else None)
    if target.local:
        assert tokens[0] in (None, 0) and isinstance(tokens[1], int) and tokens[1] > 1024
    else:
        assert all(t is None or isinstance(t, int) for t in tokens)


def test_the_response_cache_and_its_opt_out(client: MeshAPI, target: Target) -> None:
    question = [{"role": "user", "content": f"Cache check {uuid.uuid4().hex}"}]
    first = client.chat.completions.with_raw_response.create(model=MODEL, messages=question, temperature=0)
    again = client.chat.completions.with_raw_response.create(model=MODEL, messages=question, temperature=0)
    skipped = client.chat.completions.with_raw_response.create(
        model=MODEL, messages=question, temperature=0, response_cache=False
    )
    assert first.cache_hit is False and skipped.cache_hit is False
    if target.local:
        assert again.cache_hit is True
        assert again.parse().choices[0].message.content == first.parse().choices[0].message.content


def test_provider_codes_reach_the_error(client: MeshAPI, local: Any) -> None:
    local.faults.add("/v1/chat/completions", status=400, provider_code="context_window_exceeded", times=1)
    with pytest.raises(meshapi.ContextWindowExceededError) as info:
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    assert (info.value.status, info.value.error_code, info.value.provider_code) == (
        400,
        "context_window_exceeded",
        "context_window_exceeded",
    )
    assert isinstance(info.value, meshapi.BadRequestError) and info.value.request_id


def test_the_routing_model_header(client: MeshAPI, target: Target) -> None:
    try:
        raw = client.chat.completions.with_raw_response.create(
            model="auto", messages=[{"role": "user", "content": "Write a haiku about rain."}]
        )
    except (meshapi.BadRequestError, meshapi.NotFoundError) as exc:
        pytest.skip(f"this deployment does not route model 'auto' ({exc.status})")
    served_model = raw.parse().model
    assert raw.routing_model is None or raw.routing_model == served_model
    if target.local:
        assert raw.routing_model == served_model and served_model != "auto"


def test_each_compared_model_is_billed(client: MeshAPI, target: Target) -> None:
    raw = client.compare.with_raw_response.create(
        models=[MODEL, SECOND_MODEL], messages=[{"role": "user", "content": "Say ok."}], max_tokens=5
    )
    result = raw.parse()
    ids = [r.request_id for r in result.results]
    try:
        found = client.costs.lookup(ids)
    except SKIPPED:
        pytest.skip("this deployment does not serve usage events to API keys")
    for cost in found.costs:
        assert cost.cost_usd is None or isinstance(cost.cost_usd, Decimal)
    if target.local:
        assert [(c.request_id, c.model, c.estimated) for c in found.costs] == [
            (ids[0], MODEL, False),
            (ids[1], SECOND_MODEL, False),
        ]
        assert all(c.cost_usd is not None and c.cost_usd > 0 for c in found.costs)
