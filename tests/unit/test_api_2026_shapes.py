"""Request and response shapes of API 2026-08/09 that 0.1.12 dropped or refused (docs/protocol.md §V3-§V6).

Per-unit and flex prices, unknown catalogue fields, ``models.providers``; web search page content; service
tiers and ``ModelCapabilityNotSupportedError``; ``cache_control`` and typed token details; each over a MockTransport, sync and async, with the exact
bytes sent and the exact values parsed.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List

import httpx
import pytest

import meshapi
from meshapi.types import ModelInfo, ModelPricing
from tests.conftest import resolve

# --- models and pricing (§V6) ---------------------------------------------------------------------------

CURRENT_LIST: List[Dict[str, Any]] = [
    {
        "id": "openai/gpt-4o-mini",
        "name": "GPT-4o mini",
        "is_free": False,
        "supports_flex": True,
        "supports_video_first_frame": False,
        "brand_new_flag": {"kept": True},
        "pricing": {
            "pricing_unit": "per_1m_tokens",
            "prompt_usd_per_1m": "0.15000000",
            "completion_usd_per_1m": "0.60000000",
            "input_usd_per_unit": "0.15000000",
            "output_usd_per_unit": "0.60000000",
            "cache_read_input_usd_per_1m": "0.07500000",
            "flex_input_usd_per_1m": "0.07500000",
            "flex_output_usd_per_1m": "0.30000000",
            "flex_batch_usd_per_1m": "0.01",
        },
    },
    {
        "id": "bytedance/seedance-2-5",
        "name": "Seedance 2.5",
        "is_free": False,
        "supports_video_first_frame": True,
        "supports_video_last_frame": True,
        "pricing": {
            "pricing_unit": "per_second",
            "prompt_usd_per_1m": None,
            "completion_usd_per_1m": None,
            "input_usd_per_unit": "10.70000000",
            "output_usd_per_unit": "6.40000000",
        },
    },
]


def test_per_unit_prices_of_token_and_non_token_rows() -> None:
    tokens, video = (ModelInfo.model_validate(item) for item in CURRENT_LIST)
    assert tokens.pricing is not None and video.pricing is not None
    assert tokens.pricing.input_usd_per_unit == tokens.pricing.prompt_usd_per_1m == "0.15000000"
    assert tokens.pricing.output_usd_per_unit == "0.60000000"
    assert tokens.pricing.cache_read_input_usd_per_1m == "0.07500000"
    assert video.pricing.pricing_unit == "per_second"
    assert video.pricing.prompt_usd_per_1m is None and video.pricing.completion_usd_per_1m is None
    assert (video.pricing.input_usd_per_unit, video.pricing.output_usd_per_unit) == (
        "10.70000000",
        "6.40000000",
    )
    chars = ModelPricing(pricing_unit="per_1k_chars", input_usd_per_unit="0.00030000")
    assert chars.input_usd_per_unit == "0.00030000" and chars.output_usd_per_unit is None


def test_flex_prices_video_flags_and_unknown_fields_are_kept() -> None:
    tokens, video = (ModelInfo.model_validate(item) for item in CURRENT_LIST)
    assert tokens.supports_flex is True and video.supports_flex is None
    assert tokens.pricing is not None
    assert (tokens.pricing.flex_input_usd_per_1m, tokens.pricing.flex_output_usd_per_1m) == (
        "0.07500000",
        "0.30000000",
    )
    assert video.supports_video_first_frame is True and video.supports_video_last_frame is True
    assert video.supports_video_reference_image is None
    # Fields this release does not declare survive parsing and dumping.
    assert tokens.model_extra == {"brand_new_flag": {"kept": True}}
    assert tokens.pricing.model_extra == {"flex_batch_usd_per_1m": "0.01"}
    assert tokens.model_dump()["brand_new_flag"] == {"kept": True}


def test_retired_per_1k_fields_stay_declared_and_null() -> None:
    fields = ModelPricing.model_fields
    for name in ("prompt_usd_per_1k", "completion_usd_per_1k", "input_usd_per_unit", "output_usd_per_unit"):
        assert name in fields and fields[name].default is None
    pricing = ModelPricing.model_validate(CURRENT_LIST[0]["pricing"])
    assert pricing.prompt_usd_per_1k is None and pricing.completion_usd_per_1k is None


PROVIDERS = {
    "object": "list",
    "model": "openai/gpt-5-nano",
    "providers": [
        {"provider": "openai", "is_default": True, "supports_flex": True, "region": "us",
         "pricing": {"flex_input_usd_per_1m": "0.025", "input_usd_per_unit": "0.05"}},
        {"provider": "azure", "is_default": False, "supports_flex": False, "video_inputs": []},
    ],
}  # fmt: skip


async def test_models_providers_path_parse_and_raw_view(make_client: Any) -> None:
    seen: List[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=PROVIDERS, headers={"x-request-id": "req_providers"})

    client = make_client(handler)
    answer = await resolve(client.models.providers("openai/gpt-5-nano"))
    assert isinstance(answer, meshapi.ModelProvidersResponse)
    assert seen[0].method == "GET" and seen[0].url.raw_path == b"/v1/models/openai/gpt-5-nano/providers"
    assert answer.model == "openai/gpt-5-nano" and [p.provider for p in answer.providers] == [
        "openai",
        "azure",
    ]
    first = answer.providers[0]
    assert (
        isinstance(first, meshapi.ModelProvider) and first.is_default is True and first.supports_flex is True
    )
    assert first.pricing is not None and first.pricing.flex_input_usd_per_1m == "0.025"
    assert first.model_extra == {"region": "us"}
    assert answer._request_id == "req_providers"
    raw = await resolve(
        client.models.with_raw_response.providers("openai/gpt-5-nano", extra_headers={"X-A": "1"})
    )
    assert raw.request_id == "req_providers" and seen[1].headers["x-a"] == "1"
    parsed = raw.parse()
    assert isinstance(parsed, meshapi.ModelProvidersResponse) and parsed.providers[1].provider == "azure"
    with pytest.raises(meshapi.InvalidParamsError):
        await resolve(client.models.providers(""))
    assert len(seen) == 2


async def test_models_providers_unknown_model_is_not_found(make_client: Any) -> None:
    client = make_client(lambda r: httpx.Response(404, json={"detail": "Model 'x/y' not found."}))
    with pytest.raises(meshapi.NotFoundError):
        await resolve(client.models.providers("x/y"))


def test_models_list_keeps_unknown_fields_from_the_wire() -> None:
    body = json.dumps(CURRENT_LIST).encode()
    client = meshapi.MeshAPI(
        base_url="http://gateway.test",
        token="rsk_unit_test_token",
        httpx_client=httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, content=body))),
    )
    with client:
        models = client.models.list()
    assert models[0].model_extra == {"brand_new_flag": {"kept": True}}
    assert models[1].pricing is not None and models[1].pricing.output_usd_per_unit == "6.40000000"


# --- web search page content (§V5) ----------------------------------------------------------------------

SEARCH_ANSWER = {
    "query": "q",
    "provider": "tinyfish",
    "results": [
        {"title": "A", "url": "https://a.test/", "content": "snippet",
         "page_content": "the full extracted page text", "page_content_truncated": True},
        {"title": "B", "url": "https://b.test/", "content": "other", "page_content": None},
        {"title": "C", "url": "https://c.test/", "content": "third"},
    ],
}  # fmt: skip


async def test_web_search_page_content_request_and_results(make_client: Any) -> None:
    bodies: List[Dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(200, json=SEARCH_ANSWER)

    client = make_client(handler)
    found = await resolve(client.web.search("q", provider="tinyfish", include_page_content=True))
    await resolve(client.web.search("q", include_page_content=False))
    await resolve(client.web.search("q"))
    assert (bodies[0]["provider"], bodies[0]["include_page_content"]) == ("tinyfish", True)
    assert bodies[1]["include_page_content"] is False and "provider" not in bodies[1]
    assert "include_page_content" not in bodies[2]
    first, second, third = found.results
    assert (first.content, first.page_content, first.page_content_truncated) == (
        "snippet",
        "the full extracted page text",
        True,
    )
    assert (second.page_content, second.page_content_truncated) == (None, False)
    assert (third.page_content, third.page_content_truncated) == (None, False)
    params = meshapi.WebSearchParams(query="q", provider="tinyfish", include_page_content=True)
    assert params.to_body()["include_page_content"] is True
    with pytest.raises(meshapi.InvalidParamsError):
        await resolve(client.web.search("q", provider="not-an-engine"))
    assert len(bodies) == 3


# --- service tiers (§V4) --------------------------------------------------------------------------------

CHAT_REPLY = {
    "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "openai/gpt-5-nano",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
    "service_tier": "flex",
}  # fmt: skip
RESPONSE_REPLY = {"id": "resp_1", "object": "response", "model": "openai/gpt-5-nano", "status": "completed",
                  "output": [], "service_tier": "flex"}  # fmt: skip
NOT_SUPPORTED = {
    "error": {
        "code": "model_capability_not_supported",
        "message": "Model 'openai/gpt-4o-mini' does not support service_tier 'flex'.",
        "param": "service_tier",
    },
    "request_id": "req_flex_400",
}
MESSAGES = [{"role": "user", "content": "hi"}]


async def test_service_tier_is_sent_and_read_on_chat_and_responses(make_client: Any) -> None:
    bodies: List[Dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(
            200, json=CHAT_REPLY if request.url.path.endswith("completions") else RESPONSE_REPLY
        )

    client = make_client(handler)
    chat = await resolve(
        client.chat.completions.create(model="openai/gpt-5-nano", messages=MESSAGES, service_tier="flex")
    )
    reply = await resolve(client.responses.create(model="openai/gpt-5-nano", input="hi", service_tier="auto"))
    await resolve(client.responses.create(model="openai/gpt-5-nano", input="hi"))
    assert bodies[0]["service_tier"] == "flex" and bodies[1]["service_tier"] == "auto"
    assert "service_tier" not in bodies[2]
    assert chat.service_tier == "flex" and reply.service_tier == "flex"
    assert meshapi.ResponsesParams(input="x", service_tier="default").to_body()["service_tier"] == "default"


async def test_model_capability_not_supported_is_typed_and_never_retried(make_client: Any) -> None:
    seen: List[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(400, json=NOT_SUPPORTED)

    client = make_client(handler, max_retries=3)
    with pytest.raises(meshapi.ModelCapabilityNotSupportedError) as caught:
        await resolve(
            client.chat.completions.create(model="openai/gpt-4o-mini", messages=MESSAGES, service_tier="flex")
        )
    error = caught.value
    assert isinstance(error, meshapi.BadRequestError) and isinstance(error, meshapi.APIStatusError)
    assert (error.status, error.error_code, error.request_id) == (
        400,
        "model_capability_not_supported",
        "req_flex_400",
    )
    assert len(seen) == 1
    with pytest.raises(meshapi.ModelCapabilityNotSupportedError):
        await resolve(client.responses.create(model="openai/gpt-4o-mini", input="hi", service_tier="flex"))
    assert len(seen) == 2


def test_the_code_subclass_applies_only_under_its_own_status() -> None:
    def error_for(status: int, code: str) -> meshapi.MeshAPIError:
        body = {"error": {"code": code, "message": "m"}}
        return meshapi.MeshAPIError.from_response(httpx.Response(status, json=body))

    assert type(error_for(400, "model_capability_not_supported")) is meshapi.ModelCapabilityNotSupportedError
    assert type(error_for(400, "invalid_request")) is meshapi.BadRequestError
    # A status whose class the subclass does not extend keeps its own class (an except clause still matches).
    assert type(error_for(422, "model_capability_not_supported")) is meshapi.UnprocessableEntityError
    assert "ModelCapabilityNotSupportedError" in meshapi.__all__


async def test_flex_capacity_503_with_retry_after_is_retried(make_client: Any) -> None:
    seen: List[httpx.Request] = []
    events: List[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:
            full = {"error": {"code": "flex_capacity_exceeded", "message": "flex capacity full"}}
            return httpx.Response(503, json=full, headers={"Retry-After": "0"})
        return httpx.Response(200, json=CHAT_REPLY)

    client = make_client(handler, logger=events.append)
    reply = await resolve(
        client.chat.completions.create(model="openai/gpt-5-nano", messages=MESSAGES, service_tier="flex")
    )
    assert reply.service_tier == "flex" and len(seen) == 2
    assert [json.loads(r.content)["service_tier"] for r in seen] == ["flex", "flex"]
    assert seen[0].headers["idempotency-key"] == seen[1].headers["idempotency-key"]
    (retry,) = events
    assert isinstance(retry, meshapi.RetryEvent) and (retry.status, retry.delay_ms) == (503, 0)


# --- caching request shapes (§V3) -----------------------------------------------------------------------

EPHEMERAL = {"type": "ephemeral"}


async def test_cache_control_on_parts_messages_and_tools_is_sent_as_given(make_client: Any) -> None:
    bodies: List[Dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(200, json=CHAT_REPLY)

    client = make_client(handler)
    tool = {"type": "function", "function": {"name": "lookup"}, "cache_control": EPHEMERAL}
    messages = [
        {"role": "system", "content": "You are terse.", "cache_control": EPHEMERAL},
        {"role": "user", "content": [{"type": "text", "text": "long document", "cache_control": {"type": "ephemeral", "ttl": "1h", "scope": "x"}}]},
    ]  # fmt: skip
    await resolve(client.chat.completions.create(model="m", messages=messages, tools=[tool], cache=False))
    sent = bodies[0]
    assert sent["messages"] == messages and sent["tools"] == [tool] and sent["cache"] is False
    typed = [
        meshapi.ChatMessage(role="system", content="You are terse.", cache_control=meshapi.CacheControl()),
        meshapi.ChatMessage(
            role="user",
            content=[
                meshapi.ContentPartText(
                    type="text", text="long document", cache_control=meshapi.CacheControl(ttl="5m")
                )
            ],
        ),
    ]
    typed_tool = meshapi.Tool(
        type="function", function=meshapi.ToolFunction(name="lookup"), cache_control=EPHEMERAL
    )
    await resolve(client.chat.completions.create(model="m", messages=typed, tools=[typed_tool]))
    assert bodies[1]["messages"][0]["cache_control"] == EPHEMERAL
    assert bodies[1]["messages"][1]["content"][0]["cache_control"] == {"type": "ephemeral", "ttl": "5m"}
    assert bodies[1]["tools"][0]["cache_control"] == EPHEMERAL
    assert "cache" not in bodies[1]
    with pytest.raises(meshapi.InvalidParamsError):  # a misspelled marker is still caught before sending
        await resolve(
            client.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "x", "cache_contrl": EPHEMERAL}]
            )
        )
    with pytest.raises(meshapi.InvalidParamsError):
        await resolve(
            client.chat.completions.create(
                model="m",
                messages=[
                    {"role": "user", "content": [{"type": "text", "text": "x", "cache_contrl": EPHEMERAL}]}
                ],
            )
        )
    assert len(bodies) == 2


def test_an_unset_marker_is_left_out_of_dumps() -> None:
    message = meshapi.ChatMessage(role="user", content=[meshapi.ContentPartText(type="text", text="x")])
    assert message.model_dump(exclude_none=False)["content"] == [{"type": "text", "text": "x"}]
    assert "cache_control" not in message.model_dump() and "cache_control" not in message.model_dump(
        mode="json"
    )
    tool = meshapi.Tool(type="function", function=meshapi.ToolFunction(name="f"))
    assert "cache_control" not in tool.model_dump()
    marked = meshapi.ChatMessage(role="user", content="x", cache_control={"type": "ephemeral"})
    assert marked.model_dump()["cache_control"] == {"type": "ephemeral", "ttl": None}
    assert marked.to_body()["cache_control"] == {"type": "ephemeral"}


def test_prompt_tokens_details_are_typed_and_still_read_like_a_dict() -> None:
    usage = meshapi.UsageInfo.model_validate(
        {"prompt_tokens": 30, "completion_tokens": 2, "total_tokens": 32,
         "prompt_tokens_details": {"cached_tokens": 20, "cache_write_tokens": 10, "new_counter": 1}}
    )  # fmt: skip
    details = usage.prompt_tokens_details
    assert isinstance(details, meshapi.PromptTokensDetails)
    assert (details.cached_tokens, details.cache_write_tokens) == (20, 10)
    assert details["cached_tokens"] == 20 and details.get("audio_tokens") is None and "new_counter" in details
    assert details == {"cached_tokens": 20, "cache_write_tokens": 10, "new_counter": 1}
    zero = meshapi.UsageInfo.model_validate(
        {
            "prompt_tokens": 1,
            "completion_tokens": 1,
            "total_tokens": 2,
            "prompt_tokens_details": {"cached_tokens": 0},
        }
    )
    assert zero.prompt_tokens_details == {"cached_tokens": 0}
    assert zero.model_dump()["prompt_tokens_details"]["cached_tokens"] == 0
    responses = meshapi.ResponsesUsage.model_validate(
        {"input_tokens": 5, "input_tokens_details": {"cached_tokens": 3}}
    )
    assert responses.input_tokens_details is not None and responses.input_tokens_details.cached_tokens == 3
