"""RetryPolicy, FallbackConfig and resilience events on a mock transport, sync and async."""

from __future__ import annotations

import json
from typing import Any, Dict, List

import httpx
import pytest

import meshapi
from meshapi import FallbackConfig, FallbackEvent, GatewayRoutingEvent, RetryEvent, RetryPolicy
from meshapi._resilience import MAX_FALLBACK_MODELS, debug_line, routing_event
from tests.conftest import collect, resolve
from tests.unit.test_client_options import fake_sleep
from tests.unit.test_raw_response import sse
from tests.unit.test_transport import COMPLETION, MESSAGES, create, ok, raise_, sequence, status

FAST = RetryPolicy(backoff_base_ms=0, backoff_max_ms=0)


def err(code: int, error_code: str, rid: str = "") -> Any:
    body = {"error": {"code": error_code, "message": f"status {code}"}, "request_id": rid or f"req_{code}"}
    return status(code, body=body)


def models_sent(handler: Any) -> List[str]:
    return [json.loads(r.content)["model"] for r in handler.seen]


# -- policy resolution --------------------------------------------------------------------------------


def test_retry_policy_defaults_are_the_official_ones() -> None:
    policy = RetryPolicy()
    assert (policy.max_retries, policy.retry_on_status) == (3, (429, 502, 503, 504))
    assert (policy.backoff_base_ms, policy.backoff_max_ms) == (500, 30000)
    assert policy.respect_retry_after is True and policy.retry_on_network_error is False
    assert FallbackConfig().on_status == (502, 503, 504) and FallbackConfig().models == ()


@pytest.mark.parametrize(
    "kwargs",
    [{"max_retries": -1}, {"max_retries": True}, {"retry_on_status": (99,)}, {"backoff_base_ms": -5}],
)
def test_bad_retry_policy_is_a_configuration_error(kwargs: Dict[str, Any]) -> None:
    with pytest.raises(meshapi.ConfigurationError):
        RetryPolicy(**kwargs)


@pytest.mark.parametrize("value", ["gpt", ["ok", ""], [3]])
def test_bad_fallback_models_are_refused(value: Any) -> None:
    with pytest.raises(meshapi.ConfigurationError):
        FallbackConfig(models=value)


def test_fallback_chain_is_deduplicated_and_capped() -> None:
    assert MAX_FALLBACK_MODELS == 16
    assert FallbackConfig(models=["b/x", "a/y", "b/x", "c/z", "a/y"]).models == ("b/x", "a/y", "c/z")
    sixteen = [f"v/m{i}" for i in range(16)]
    assert FallbackConfig(models=sixteen * 3).models == tuple(sixteen)
    for count in (17, 100_000):
        with pytest.raises(meshapi.ConfigurationError) as caught:
            FallbackConfig(models=[f"v/m{i}" for i in range(count)])
        assert caught.value.message == (
            f"FallbackConfig.models may name at most 16 distinct models, got {count}"
        )


async def test_per_call_chain_past_the_cap_is_refused_before_sending(make_client: Any) -> None:
    handler = sequence(ok)
    client = make_client(handler, retry=RetryPolicy(0))
    with pytest.raises(meshapi.InvalidParamsError) as caught:
        await create(client, fallback_models=[f"v/m{i}" for i in range(17)])
    assert caught.value.message == "fallback_models may name at most 16 distinct models, got 17"
    assert handler.seen == []


async def test_per_call_chain_repeats_are_tried_once(make_client: Any) -> None:
    handler = sequence(err(503, "provider_not_available"))
    client = make_client(handler, retry=RetryPolicy(0))
    with pytest.raises(meshapi.APIStatusError):
        await create(client, fallback_models=["b/one", "b/one", "c/two", "b/one"])
    assert models_sent(handler) == ["openai/gpt-4o-mini", "b/one", "c/two"]


def test_policy_wins_over_max_retries_and_shapes_the_schedule() -> None:
    client = meshapi.MeshAPI(
        base_url="http://x.test", token="rsk_abcdefghij", max_retries=9, retry=RetryPolicy(2)
    )
    schedule = client.config.retry_schedule
    assert client.config.max_retries == 2 and schedule.max_retries == 2
    assert (schedule.initial_delay, schedule.max_delay) == (0.5, 30.0)
    assert client.with_options(max_retries=5).config.retry.max_retries == 5  # the alias follows
    plain = meshapi.MeshAPI(base_url="http://x.test", token="rsk_abcdefghij").config.retry_schedule
    assert (plain.max_retries, plain.max_delay, plain.unsent_only) == (3, 8.0, False)  # older knobs
    client.close()


async def test_retry_on_status_is_honoured(make_client: Any) -> None:
    handler = sequence(status(500), ok)
    client = make_client(handler, retry=RetryPolicy(retry_on_status=(500,), backoff_base_ms=0))
    assert (await create(client)).id == "chatcmpl-1" and len(handler.seen) == 2
    handler = sequence(status(503), ok)
    client = make_client(handler, retry=RetryPolicy(retry_on_status=(500,), backoff_base_ms=0))
    with pytest.raises(meshapi.APIStatusError):
        await create(client)
    assert len(handler.seen) == 1


async def test_respect_retry_after_false_ignores_the_hint(make_client: Any) -> None:
    for respect, low in ((True, 2.0), (False, 0.0)):
        handler = sequence(status(429, {"retry-after": "2"}), ok)
        client = make_client(handler, retry=RetryPolicy(backoff_base_ms=0, respect_retry_after=respect))
        slept = fake_sleep(client)
        await create(client)
        assert len(slept) == 1 and low <= slept[0] <= max(low * 1.2, 0.0)


@pytest.mark.parametrize(
    ("exc", "network", "attempts"),
    [
        (httpx.ConnectError("refused"), False, 2),  # never sent: retried anyway (our safer default)
        (httpx.ReadError("reset"), False, 1),
        (httpx.ReadError("reset"), True, 2),
        (httpx.RemoteProtocolError("closed"), True, 2),
    ],
)
async def test_network_errors_per_policy(
    make_client: Any, exc: Exception, network: bool, attempts: int
) -> None:
    handler = sequence(raise_(exc), ok)
    client = make_client(handler, retry=RetryPolicy(backoff_base_ms=0, retry_on_network_error=network))
    if attempts == 2:
        assert (await create(client)).id == "chatcmpl-1"
    else:
        with pytest.raises(meshapi.APIConnectionError):
            await create(client)
    assert len(handler.seen) == attempts


# -- the fallback chain -------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [502, 503, 504])
async def test_chain_advances_on_transient_status(make_client: Any, code: int) -> None:
    handler = sequence(err(code, "provider_not_available"), ok)
    client = make_client(handler, retry=RetryPolicy(0), fallback=FallbackConfig(models=["b/one", "c/two"]))
    assert (await create(client)).id == "chatcmpl-1"
    assert models_sent(handler) == ["openai/gpt-4o-mini", "b/one"]
    first, second = handler.seen
    assert first.headers["idempotency-key"] != second.headers["idempotency-key"]  # a new request


@pytest.mark.parametrize(
    ("code", "error_code"),
    [
        (400, "invalid_request"),
        (401, "unauthorized"),
        (402, "insufficient_credits"),
        (403, "forbidden"),
        (422, "validation_error"),
        (429, "rate_limited"),
        (500, "internal_error"),
    ],
)
async def test_chain_never_advances_on_terminal_errors(make_client: Any, code: int, error_code: str) -> None:
    handler = sequence(err(code, error_code), ok)
    client = make_client(handler, retry=RetryPolicy(0), fallback=FallbackConfig(models=["b/one"]))
    with pytest.raises(meshapi.MeshAPIError) as caught:
        await create(client)
    assert caught.value.status == code and models_sent(handler) == ["openai/gpt-4o-mini"]


async def test_terminal_codes_block_even_when_listed(make_client: Any) -> None:
    handler = sequence(err(401, "unauthorized"), ok)
    config = FallbackConfig(models=["b/one"], on_status=(401, 503))
    client = make_client(handler, retry=RetryPolicy(0), fallback=config)
    with pytest.raises(meshapi.AuthenticationError):
        await create(client)
    handler = sequence(err(500, "upstream_error"), ok)
    client = make_client(
        handler, retry=RetryPolicy(0), fallback=FallbackConfig(models=["b/one"], on_status=(500,))
    )
    assert (await create(client)).id == "chatcmpl-1" and models_sent(handler)[1] == "b/one"


async def test_transport_retries_first_then_the_chain_then_the_last_error(make_client: Any) -> None:
    handler = sequence(err(503, "provider_not_available"))
    client = make_client(
        handler, retry=RetryPolicy(1, backoff_base_ms=0), fallback=FallbackConfig(["b/one", "c/two"])
    )
    with pytest.raises(meshapi.APIStatusError):
        await create(client)
    assert models_sent(handler) == ["openai/gpt-4o-mini"] * 2 + ["b/one"] * 2 + ["c/two"] * 2


async def test_per_call_chain_overrides_and_is_never_sent(make_client: Any) -> None:
    handler = sequence(err(503, "provider_not_available"), ok)
    client = make_client(handler, retry=RetryPolicy(0), fallback=FallbackConfig(["b/one"]))
    await create(client, fallback_models=["z/call", "openai/gpt-4o-mini"])
    assert models_sent(handler) == ["openai/gpt-4o-mini", "z/call"]
    assert all("fallback_models" not in json.loads(r.content) for r in handler.seen)
    handler = sequence(err(503, "provider_not_available"), ok)
    client = make_client(handler, retry=RetryPolicy(0), fallback=FallbackConfig(["b/one"]))
    with pytest.raises(meshapi.APIStatusError):
        await create(client, fallback_models=[])  # an empty chain turns fallback off for the call
    with pytest.raises(meshapi.InvalidParamsError):
        await create(client, fallback_models="b/one")


async def test_other_resources_never_fall_back(make_client: Any) -> None:
    handler = sequence(err(503, "provider_not_available"), ok)
    client = make_client(handler, retry=RetryPolicy(0), fallback=FallbackConfig(["b/one"]))
    with pytest.raises(meshapi.APIStatusError):
        await resolve(client.embeddings.create(model="a/e", input="hi"))
    assert len(handler.seen) == 1


async def test_stream_falls_back_before_the_first_event(make_client: Any) -> None:
    handler = sequence(err(503, "provider_not_available"), sse)
    client = make_client(handler, retry=RetryPolicy(0))
    stream = client.chat.completions.stream(model="a/x", messages=MESSAGES, fallback_models=["b/y"])
    chunks = await collect(stream)
    assert chunks and models_sent(handler) == ["a/x", "b/y"]


async def test_parse_falls_back(make_client: Any) -> None:
    reply = {**COMPLETION, "choices": [{"index": 0, "message": {"role": "assistant", "content": '{"n": 2}'}}]}
    handler = sequence(err(502, "upstream_error"), lambda r: httpx.Response(200, json=reply))
    client = make_client(handler, retry=RetryPolicy(0), fallback=FallbackConfig(["b/y"]))
    value = await resolve(client.chat.completions.parse(model="a/x", messages=MESSAGES, response_format=dict))
    assert value == {"n": 2} and models_sent(handler) == ["a/x", "b/y"]


# -- events and debug lines ---------------------------------------------------------------------------


async def test_events_reach_the_logger_with_their_fields(make_client: Any) -> None:
    events: List[Any] = []
    handler = sequence(
        err(503, "provider_not_available", "req_a"), err(503, "provider_not_available", "req_b"), ok
    )
    client = make_client(
        handler,
        retry=RetryPolicy(1, backoff_base_ms=0),
        fallback=FallbackConfig(["b/one", "c/two"]),
        logger=events.append,
    )
    await create(client)
    retry, hop = events
    assert retry == RetryEvent("POST", "/v1/chat/completions", 1, 1, 0, "status", 503, "req_a")
    assert hop == FallbackEvent("openai/gpt-4o-mini", "b/one", 1, 2, 503, "provider_not_available", "req_b")
    assert (retry.type, hop.type) == ("retry", "fallback")


async def test_a_failing_logger_is_a_hook_error(make_client: Any) -> None:
    def broken(event: Any) -> None:
        raise RuntimeError("boom")

    client = make_client(sequence(status(503), ok), retry=FAST, logger=broken)
    with pytest.raises(meshapi.HookError):
        await create(client)


async def test_debug_lines_exact_text(make_client: Any, capsys: pytest.CaptureFixture[str]) -> None:
    routed = {
        "x-request-id": "req_ok",
        "x-mesh-routing-attempts": "2",
        "x-mesh-routing-fallback": "true",
        "x-mesh-served-provider": "anthropic",
    }
    handler = sequence(
        err(503, "provider_not_available", "req_1"),
        raise_(httpx.ConnectError("refused")),
        err(503, "provider_not_available", "req_3"),
        lambda r: httpx.Response(200, json=COMPLETION, headers=routed),
    )
    client = make_client(handler, retry=RetryPolicy(2, backoff_base_ms=0), debug=True)
    await create(client, fallback_models=["b/one"], request_id="mine-1")
    assert capsys.readouterr().err.splitlines() == [
        "[meshapi] retrying POST /v1/chat/completions (attempt 1/3 failed: 503, next in 0ms) [req_1]",
        "[meshapi] retrying POST /v1/chat/completions (attempt 2/3 failed: network error, next in 0ms) [mine-1]",
        "[meshapi] falling back openai/gpt-4o-mini \u2192 b/one (1/1: 503 provider_not_available) [req_3]",
        "[meshapi] gateway served /v1/chat/completions via anthropic (2 attempts, provider fallback) [req_ok]",
    ]


async def test_routing_without_retry_is_an_event_but_no_line(
    make_client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    events: List[Any] = []
    headers = {"x-request-id": "req_r", "x-mesh-routing-attempts": "1", "x-mesh-served-provider": "openai"}
    client = make_client(
        lambda r: httpx.Response(200, json=COMPLETION, headers=headers), debug=True, logger=events.append
    )
    await create(client)
    assert events == [GatewayRoutingEvent("/v1/chat/completions", 1, False, "openai", "req_r")]
    assert capsys.readouterr().err == ""
    raw = await resolve(client.chat.completions.with_raw_response.create(model="a/x", messages=MESSAGES))
    assert raw.routing == events[0] and raw.headers["x-mesh-served-provider"] == "openai"


def test_routing_header_parsing() -> None:
    assert routing_event("/p", {}) is None
    assert routing_event("/p", {"x-mesh-routing-attempts": "lots"}) is None
    assert routing_event("/p", {"x-mesh-routing-attempts": "-1"}) is None
    event = routing_event("/p", {"x-mesh-routing-attempts": " 3 ", "x-mesh-routing-fallback": "TRUE"})
    assert event == GatewayRoutingEvent("/p", 3, True, None, "")
    assert debug_line(event) == "[meshapi] gateway served /p (3 attempts, provider fallback)"
    assert (
        debug_line(GatewayRoutingEvent("/p", 2, False, "x", ""))
        == "[meshapi] gateway served /p via x (2 attempts)"
    )


# -- request ids --------------------------------------------------------------------------------------


@pytest.mark.parametrize("rid", ["", "has space", "x" * 65, "é", "a/b", 7])
async def test_invalid_request_ids_fail_before_sending(make_client: Any, rid: Any) -> None:
    handler = sequence(ok)
    client = make_client(handler)
    calls = [
        lambda: client.chat.completions.create(model="a/x", messages=MESSAGES, request_id=rid),
        lambda: client.chat.completions.stream(model="a/x", messages=MESSAGES, request_id=rid),
        lambda: client.models.list(request_id=rid),
        lambda: client.audio.transcribe(b"RIFF", model="a/w", request_id=rid),
    ]
    for call in calls:
        with pytest.raises(meshapi.InvalidParamsError, match="request_id"):
            await resolve(call())
    assert handler.seen == []


def _public_methods(resource: Any, seen: set) -> List[Any]:
    import inspect

    found = []
    if id(resource) in seen:
        return found
    seen.add(id(resource))
    for name in dir(type(resource)):
        if name.startswith("_") or name in ("with_raw_response", "with_streaming_response"):
            continue
        value = getattr(type(resource), name, None)
        if isinstance(value, property) or name in ("connect",):
            continue
        attr = getattr(resource, name)
        if inspect.ismethod(attr):
            found.append(attr)
        elif type(attr).__module__.startswith("meshapi.resources"):
            found.extend(_public_methods(attr, seen))
    return found


# helpers that make many HTTP calls (paging, polling): one caller-chosen id cannot name them all
MANY_CALLS = frozenset({"iter_batches", "iter_files", "wait", "wait_until_ready"})


@pytest.mark.parametrize("cls", [meshapi.MeshAPI, meshapi.AsyncMeshAPI])
def test_every_http_method_takes_request_id(cls: Any) -> None:
    import inspect

    client = cls(base_url="http://x.test", token="rsk_abcdefghij")
    names = (
        "chat",
        "responses",
        "embeddings",
        "compare",
        "batches",
        "models",
        "templates",
        "images",
        "rag",
        "audio",
        "videos",
        "moderations",
        "web",
        "router",
    )
    missing = []
    for name in names:
        for method in _public_methods(getattr(client, name), set()):
            params = inspect.signature(method).parameters
            if "request_id" not in params and method.__name__ not in MANY_CALLS:
                missing.append(f"{name}.{method.__qualname__}")
    assert missing == []


async def test_the_span_records_retries_and_hops(make_client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("opentelemetry.sdk")
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from meshapi._transport import otel as _otel

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(_otel, "_tracer", provider.get_tracer("meshapi"))
    handler = sequence(err(503, "provider_not_available"), err(503, "provider_not_available"), ok)
    client = make_client(handler, retry=RetryPolicy(1, backoff_base_ms=0), fallback=FallbackConfig(["b/one"]))
    await create(client)
    (span,) = exporter.get_finished_spans()
    names = [event.name for event in span.events]
    assert names == ["meshapi.retry", "meshapi.fallback"]
    assert span.events[1].attributes["meshapi.to_model"] == "b/one"
    assert (
        span.attributes["meshapi.fallback_hops"] == 1 and span.attributes["gen_ai.request.model"] == "b/one"
    )
    provider.shutdown()
