"""API 2026-08/09 shapes end to end: the SDK against the local gateway over real sockets, sync and async.

Per-unit and flex prices in the catalogue, a model's providers, web search page content, service tiers
(flex, the 400 before any work, the flex capacity fault), prompt caching (docs/protocol.md §V3-§V6); values are the
gateway's own catalogue and corpus, so every assertion is exact.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any, Dict, Iterator, List

import pytest

import meshapi
from tests.conftest import collect, resolve

from .conftest import FAST


async def test_catalogue_has_per_unit_and_flex_prices(any_client: Any) -> None:
    models = {m.id: m for m in await resolve(any_client.models.list())}
    mini = models["openai/gpt-4o-mini"]
    assert mini.pricing.pricing_unit == "per_1m_tokens"
    assert mini.pricing.input_usd_per_unit == mini.pricing.prompt_usd_per_1m == "0.15"
    assert mini.pricing.output_usd_per_unit == "0.6" and mini.supports_flex is False
    nano = models["openai/gpt-5-nano"]
    assert nano.supports_flex is True
    assert (nano.pricing.flex_input_usd_per_1m, nano.pricing.flex_output_usd_per_1m) == ("0.025", "0.2")
    assert nano.pricing.flex_cache_read_input_usd_per_1m == "0.0025"
    video = models["byteplus/seedance-1-5-pro-251215"]
    assert video.pricing.pricing_unit == "per_second"
    assert video.pricing.prompt_usd_per_1m is None and video.pricing.completion_usd_per_1m is None
    assert (video.pricing.input_usd_per_unit, video.pricing.output_usd_per_unit) == (None, "0.05")
    assert video.supports_video_first_frame is True and video.supports_video_reference_video is False
    speech = models["sarvam/bulbul:v2"].pricing
    assert (speech.pricing_unit, speech.input_usd_per_unit) == ("per_1k_chars", "0.018")
    hearing = models["sarvam/saaras:v3"].pricing
    assert (hearing.pricing_unit, hearing.input_usd_per_unit) == ("per_hour", "0.36")
    assert sorted(m for m in models if models[m].supports_flex) == ["openai/gpt-5-nano", "openai/o4-mini"]


async def test_model_providers(any_client: Any) -> None:
    nano = await resolve(any_client.models.providers("openai/gpt-5-nano"))
    assert nano.model == "openai/gpt-5-nano" and nano._request_id
    assert [(p.provider, p.is_default, p.supports_flex) for p in nano.providers] == [
        ("openai", True, True),
        ("azure", False, False),
    ]
    assert nano.providers[0].pricing.flex_input_usd_per_1m == "0.025"
    assert nano.providers[1].pricing.flex_input_usd_per_1m is None
    claude = await resolve(any_client.models.providers("anthropic/claude-haiku-4.5"))
    assert [(p.provider, p.max_cache_breakpoints) for p in claude.providers] == [
        ("anthropic", None),
        ("bedrock", 4),
    ]
    video = await resolve(any_client.models.providers("byteplus/seedance-1-5-pro-251215"))
    assert video.providers[0].video_inputs == ["first_frame", "last_frame", "reference_image", "audio"]
    raw = await resolve(any_client.models.with_raw_response.providers("openai/o4-mini"))
    assert raw.status_code == 200 and raw.parse().providers[0].pricing.flex_output_usd_per_1m == "2.2"
    with pytest.raises(meshapi.NotFoundError):
        await resolve(any_client.models.providers("openai/no-such-model"))


async def test_web_search_page_content_from_the_corpus(any_client: Any) -> None:
    plain = await resolve(any_client.web.search("python httpx client", max_results=2))
    assert plain.provider == "native"
    assert all(r.page_content is None and r.page_content_truncated is False for r in plain.results)
    ignored = await resolve(
        any_client.web.search("python httpx client", max_results=2, include_page_content=True)
    )
    assert all(r.page_content is None for r in ignored.results)  # only tinyfish extracts page text
    pinned = await resolve(
        any_client.web.search(
            "python httpx client", max_results=2, provider="tinyfish", include_page_content=True
        )
    )
    assert pinned.provider == "tinyfish" and pinned.results
    top = pinned.results[0]
    assert top.url == "https://www.python-httpx.org/"
    assert top.page_content == top.title + "\n\n" + top.content and top.page_content_truncated is False
    no_flag = await resolve(any_client.web.search("python httpx client", max_results=1, provider="tinyfish"))
    assert no_flag.results[0].page_content is None


async def test_web_search_page_content_is_cut_at_the_limit(any_client: Any) -> None:
    from meshapi_gateway.routes.web import PAGE_CONTENT_LIMIT

    line = "The zebrafish aquarium keeps seven striped zebrafish in filtered water at 27 degrees.\n"
    text = "".join(f"{n:04d} {line}" for n in range(60))  # longer than the limit
    assert len(text) > PAGE_CONTENT_LIMIT
    created = await resolve(
        any_client.rag.upload_file(file_name="zebrafish.txt", mime_type="text/plain", content=text.encode())
    )
    await resolve(any_client.rag.wait_until_ready(created.file_id, timeout=30, poll_interval=0.05))
    found = await resolve(
        any_client.web.search(
            "zebrafish aquarium", provider="tinyfish", include_page_content=True, max_results=1
        )
    )
    (hit,) = found.results
    assert hit.url.endswith("/zebrafish.txt") and hit.page_content_truncated is True
    assert hit.page_content == text[:PAGE_CONTENT_LIMIT]


# --- service tiers (§V4) --------------------------------------------------------------------------------

FLEX_MODEL, PLAIN_MODEL = "openai/gpt-5-nano", "openai/gpt-4o-mini"
HELLO = [{"role": "user", "content": "Say hello"}]


def _flex_cost(prompt_tokens: int, completion_tokens: int) -> Decimal:
    return (Decimal("0.025") * prompt_tokens + Decimal("0.2") * completion_tokens) / 1_000_000


async def test_chat_and_responses_echo_the_tier_that_served(any_client: Any) -> None:
    flex = await resolve(
        any_client.chat.completions.create(model=FLEX_MODEL, messages=HELLO, service_tier="flex")
    )
    assert flex.service_tier == "flex"
    auto_flex = await resolve(
        any_client.chat.completions.create(model=FLEX_MODEL, messages=HELLO, service_tier="auto")
    )
    auto_plain = await resolve(
        any_client.chat.completions.create(model=PLAIN_MODEL, messages=HELLO, service_tier="auto")
    )
    plain = await resolve(any_client.chat.completions.create(model=FLEX_MODEL, messages=HELLO))
    assert (auto_flex.service_tier, auto_plain.service_tier, plain.service_tier) == (
        "flex",
        "default",
        "default",
    )
    stream = await resolve(  # the same request as ``flex``: not from the response cache, so it is priced
        any_client.chat.completions.create(
            model=FLEX_MODEL, messages=HELLO, service_tier="flex", stream=True, response_cache=False
        )
    )
    chunks = await collect(stream)
    assert {c.service_tier for c in chunks} == {"flex"}
    (tail,) = [c for c in chunks if c.usage is not None]
    assert Decimal(tail.cost) == _flex_cost(tail.usage.prompt_tokens, tail.usage.completion_tokens)
    reply = await resolve(
        any_client.responses.create(model=FLEX_MODEL, input="Say hello", service_tier="flex")
    )
    assert reply.service_tier == "flex"
    default = await resolve(any_client.responses.create(model=PLAIN_MODEL, input="Say hello"))
    assert default.service_tier == "default"


async def test_flex_on_a_model_without_it_is_refused_before_any_work(any_client: Any, gateway: Any) -> None:
    gateway.requests.clear()
    with pytest.raises(meshapi.ModelCapabilityNotSupportedError) as caught:
        await resolve(
            any_client.chat.completions.create(model=PLAIN_MODEL, messages=HELLO, service_tier="flex")
        )
    error = caught.value
    assert (error.status, error.error_code) == (400, "model_capability_not_supported")
    assert error.body["error"]["param"] == "service_tier" and error.request_id
    with pytest.raises(meshapi.ModelCapabilityNotSupportedError):
        await resolve(any_client.responses.create(model=PLAIN_MODEL, input="hi", service_tier="flex"))
    assert [r.status for r in gateway.requests.filter(path="/v1/chat/completions")] == [400]  # not retried
    with pytest.raises(meshapi.UnprocessableEntityError):
        await resolve(
            any_client.chat.completions.create(model=FLEX_MODEL, messages=HELLO, service_tier="turbo")
        )


@pytest.fixture
def no_provider_faults(gateway: Any) -> Iterator[Any]:
    gateway.requests.clear()
    yield gateway
    gateway.provider_faults.clear()


async def test_a_full_flex_tier_answers_503_with_retry_after_and_is_retried(
    any_client: Any, no_provider_faults: Any
) -> None:
    gateway = no_provider_faults
    fault = gateway.provider_faults.flex_capacity(FLEX_MODEL, retry_after=0)
    plain = await resolve(any_client.chat.completions.create(model=FLEX_MODEL, messages=HELLO))
    assert plain.service_tier == "default" and fault.hits == 0  # the standard tier is not affected
    reply = await resolve(
        any_client.chat.completions.create(model=FLEX_MODEL, messages=HELLO, service_tier="flex")
    )
    assert reply.service_tier == "flex" and fault.hits == 1
    statuses = [r.status for r in gateway.requests.filter(path="/v1/chat/completions")]
    assert statuses == [200, 503, 200]
    failed = gateway.requests.filter(path="/v1/chat/completions")[1]
    assert failed.response_headers["retry-after"] == "0"


def test_a_full_flex_tier_error_when_retries_run_out(gateway: Any, no_provider_faults: Any) -> None:
    gateway.provider_faults.flex_capacity(FLEX_MODEL, times=-1, retry_after=0)
    client = meshapi.MeshAPI(base_url=gateway.base_url, token=gateway.token, max_retries=1, **FAST)
    with client, pytest.raises(meshapi.InternalServerError) as caught:
        client.chat.completions.create(model=FLEX_MODEL, messages=HELLO, service_tier="flex")
    assert (caught.value.status, caught.value.error_code) == (503, "flex_capacity_exceeded")
    assert caught.value.retry_after_seconds == 0
    assert len(gateway.requests.filter(path="/v1/chat/completions")) == 2


def test_gateway_fallback_drops_the_flex_tier() -> None:
    from meshapi_gateway import serve
    from meshapi_gateway.fakes.routing import RoutingPolicy

    with serve(tokens=["rsk_flex_routed"], routing={"*": RoutingPolicy(retries=0)}) as gw:
        gw.provider_faults.flex_capacity(FLEX_MODEL, times=-1, retry_after=0)
        with meshapi.MeshAPI(base_url=gw.base_url, token="rsk_flex_routed", max_retries=0) as client:
            raw = client.chat.completions.with_raw_response.create(
                model=FLEX_MODEL, models=[PLAIN_MODEL], messages=HELLO, service_tier="flex"
            )
        reply = raw.parse()
        assert (reply.model, reply.service_tier) == (PLAIN_MODEL, "default")
        assert raw.headers["x-mesh-routing-fallback"] == "true"


# --- provider prompt caching (§V3.2) --------------------------------------------------------------------

CLAUDE = "anthropic/claude-haiku-4.5"
EPHEMERAL = {"type": "ephemeral"}


def _system(text: str, marked: bool = True) -> Dict[str, Any]:
    message: Dict[str, Any] = {"role": "system", "content": text}
    if marked:
        message["cache_control"] = EPHEMERAL
    return message


async def test_a_repeated_marked_prefix_reports_cached_tokens(any_client: Any, mode: str) -> None:
    from meshapi_gateway.fakes.engine import prompt_token_count

    system = _system(f"You answer questions about lighthouses ({mode} {uuid.uuid4().hex}).")
    prefix_tokens = prompt_token_count([{"role": "system", "content": system["content"]}])
    first = await resolve(
        any_client.chat.completions.create(model=CLAUDE, messages=[system, {"role": "user", "content": "hi"}])
    )
    assert first.usage.prompt_tokens_details == {"cached_tokens": 0, "cache_write_tokens": prefix_tokens}
    second = await resolve(
        any_client.chat.completions.create(
            model=CLAUDE, messages=[system, {"role": "user", "content": "and now?"}]
        )
    )
    details = second.usage.prompt_tokens_details
    assert (details.cached_tokens, details.cache_write_tokens) == (prefix_tokens, 0)
    assert details.cached_tokens < second.usage.prompt_tokens
    stream = await resolve(
        any_client.chat.completions.create(
            model=CLAUDE, messages=[system, {"role": "user", "content": "x"}], stream=True
        )
    )
    (tail,) = [c for c in await collect(stream) if c.usage is not None]
    assert tail.usage.prompt_tokens_details.cached_tokens == prefix_tokens
    unmarked = await resolve(
        any_client.chat.completions.create(model=CLAUDE, messages=[_system(system["content"], marked=False)])
    )
    assert unmarked.usage.prompt_tokens_details == {"cached_tokens": 0}
    # The OpenAI route drops the markers (it caches by itself): nothing reported, same prompt tokens.
    openai_first = await resolve(any_client.chat.completions.create(model=PLAIN_MODEL, messages=[system]))
    openai_again = await resolve(any_client.chat.completions.create(model=PLAIN_MODEL, messages=[system]))
    assert openai_again.usage.prompt_tokens_details == {"cached_tokens": 0}
    bare = await resolve(
        any_client.chat.completions.create(
            model=PLAIN_MODEL, messages=[_system(system["content"], marked=False)]
        )
    )
    assert openai_first.usage.prompt_tokens == bare.usage.prompt_tokens


async def test_parts_and_tools_are_breakpoints_and_only_the_last_four_are_kept(
    any_client: Any, mode: str
) -> None:
    from meshapi_gateway.fakes.engine import prompt_token_count

    tag = f"{mode} {uuid.uuid4().hex}"
    texts = [f"Document {n} of the handbook ({tag})." for n in range(5)]
    parts = [{"type": "text", "text": t, "cache_control": EPHEMERAL} for t in texts]  # five breakpoints
    await resolve(
        any_client.chat.completions.create(model=CLAUDE, messages=[{"role": "user", "content": parts}])
    )

    def only(marked: int) -> List[Dict[str, Any]]:
        content = [
            {"type": "text", "text": t, **({"cache_control": EPHEMERAL} if n == marked else {})}
            for n, t in enumerate(texts)
        ]
        return [{"role": "user", "content": content}]

    dropped = await resolve(any_client.chat.completions.create(model=CLAUDE, messages=only(0)))
    assert dropped.usage.prompt_tokens_details.cached_tokens == 0  # the first breakpoint was not kept
    kept = await resolve(any_client.chat.completions.create(model=CLAUDE, messages=only(1)))
    two_parts = [{"role": "user", "content": [{"type": "text", "text": t} for t in texts[:2]]}]
    assert kept.usage.prompt_tokens_details.cached_tokens == prompt_token_count(two_parts)

    tool = {
        "type": "function",
        "function": {"name": f"lookup_{uuid.uuid4().hex[:8]}", "parameters": {"type": "object"}},
    }
    marked_tool = {**tool, "cache_control": EPHEMERAL}
    hello = [{"role": "user", "content": "hi"}]
    await resolve(any_client.chat.completions.create(model=CLAUDE, messages=hello, tools=[marked_tool]))
    again = await resolve(
        any_client.chat.completions.create(model=CLAUDE, messages=hello, tools=[marked_tool])
    )
    assert again.usage.prompt_tokens_details.cached_tokens == prompt_token_count([], [tool])


async def test_a_malformed_marker_is_a_422(any_client: Any) -> None:
    bad = [{"role": "user", "content": "hi", "cache_control": {"type": "persistent"}}]
    with pytest.raises(meshapi.UnprocessableEntityError) as caught:
        await resolve(any_client.chat.completions.create(model=CLAUDE, messages=bad))
    assert caught.value.details[0]["loc"] == ["body", "messages", 0, "cache_control", "type"]
    part = [
        {
            "role": "user",
            "content": [{"type": "text", "text": "x", "cache_control": {"type": "ephemeral", "ttl": "9d"}}],
        }
    ]
    with pytest.raises(meshapi.UnprocessableEntityError) as caught:
        await resolve(any_client.chat.completions.create(model=CLAUDE, messages=part))
    assert caught.value.details[0]["loc"] == ["body", "messages", 0, "content", 0, "cache_control", "ttl"]
    sent = await resolve(
        any_client.chat.completions.create(
            model=CLAUDE, messages=[{"role": "user", "content": "hi"}], cache=False
        )
    )
    assert sent.choices[0].message.content
