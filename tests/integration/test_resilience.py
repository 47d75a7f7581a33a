"""Retry policy, model fallback, the gateway's routing policy and caller request ids, over real sockets."""

from __future__ import annotations

from typing import Any, Iterator, List

import httpx
import pytest

import meshapi
from meshapi import FallbackConfig, FallbackEvent, GatewayRoutingEvent, RetryEvent, RetryPolicy
from meshapi_gateway.fakes.routing import RoutingPolicy, parse_policy
from tests.conftest import close, collect, resolve

PLAIN = "rsk_resilience_plain"
ROUTED = "rsk_resilience_routed"
PRIMARY = "openai/gpt-4o-mini"
BACKUP = "anthropic/claude-3.5-haiku"
CHAT = "/v1/chat/completions"
MESSAGES = [{"role": "user", "content": "Say hello"}]
FAST = RetryPolicy(1, backoff_base_ms=0, backoff_max_ms=0)


@pytest.fixture(scope="module")
def gw() -> Iterator[Any]:
    from meshapi_gateway import serve

    with serve(tokens=[PLAIN, ROUTED], routing={ROUTED: RoutingPolicy(retries=1)}) as gateway:
        yield gateway


@pytest.fixture(autouse=True)
def _clean(gw: Any) -> Iterator[None]:
    gw.requests.clear()
    yield
    gw.provider_faults.clear()
    gw.faults.clear()
    gw.state.response_cache.clear()  # one test's answers are not the next one's hits


def make(mode: str, gw: Any, token: str = PLAIN, **kwargs: Any) -> Any:
    cls = meshapi.MeshAPI if mode == "sync" else meshapi.AsyncMeshAPI
    kwargs.setdefault("retry", FAST)
    return cls(base_url=gw.base_url, token=token, **kwargs)


def chat_models(gw: Any) -> List[str]:
    return [r.json["model"] for r in gw.requests.filter(path=CHAT)]


async def test_client_chain_moves_past_a_failing_primary(mode: str, gw: Any) -> None:
    gw.provider_faults.add(PRIMARY, status=503, times=-1)
    events: List[Any] = []
    client = make(mode, gw, fallback=FallbackConfig([BACKUP]), logger=events.append)
    reply = await resolve(client.chat.completions.create(model=PRIMARY, messages=MESSAGES))
    assert reply.model == BACKUP and chat_models(gw) == [PRIMARY, PRIMARY, BACKUP]
    retry, hop = events
    records = gw.requests.filter(path=CHAT)
    assert isinstance(retry, RetryEvent) and retry.status == 503 and retry.request_id == records[0].request_id
    assert isinstance(hop, FallbackEvent) and (hop.from_model, hop.to_model) == (PRIMARY, BACKUP)
    assert (hop.error_code, hop.request_id) == ("provider_not_available", records[1].request_id)
    assert "fallback_models" not in records[-1].json
    await close(client)


async def test_terminal_provider_error_never_advances(mode: str, gw: Any) -> None:
    gw.provider_faults.add(PRIMARY, status=402, error_code="insufficient_credits", times=-1)
    client = make(mode, gw, fallback=FallbackConfig([BACKUP], on_status=(402, 503)))
    with pytest.raises(meshapi.PaymentRequiredError):
        await resolve(client.chat.completions.create(model=PRIMARY, messages=MESSAGES))
    assert chat_models(gw) == [PRIMARY]
    await close(client)


async def test_stream_falls_back_per_call(mode: str, gw: Any) -> None:
    gw.provider_faults.add("openai", status=502, error_code="upstream_error", times=-1)
    client = make(mode, gw, retry=RetryPolicy(0))
    stream = client.chat.completions.stream(model=PRIMARY, messages=MESSAGES, fallback_models=[BACKUP])
    chunks = await collect(stream)
    assert chunks[0].model == BACKUP and chat_models(gw) == [PRIMARY, BACKUP]
    await close(client)


async def test_routing_policy_retries_server_side(
    mode: str, gw: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    gw.provider_faults.add(PRIMARY, status=503, times=1)
    events: List[Any] = []
    client = make(mode, gw, token=ROUTED, logger=events.append, debug=True)
    raw = await resolve(client.chat.completions.with_raw_response.create(model=PRIMARY, messages=MESSAGES))
    assert raw.headers["x-mesh-routing-attempts"] == "2" and raw.headers["x-mesh-routing-fallback"] == "false"
    assert raw.routing == GatewayRoutingEvent(CHAT, 2, False, "openai", raw.request_id)
    assert events == [raw.routing] and len(chat_models(gw)) == 1  # one HTTP request, two upstream attempts
    assert capsys.readouterr().err.splitlines() == [
        f"[meshapi] gateway served {CHAT} via openai (2 attempts) [{raw.request_id}]"
    ]
    await close(client)


async def test_routing_policy_falls_back_along_models(
    mode: str, gw: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    gw.provider_faults.add(PRIMARY, status=503, times=-1)
    events: List[Any] = []
    client = make(mode, gw, token=ROUTED, logger=events.append, debug=True)
    reply = await resolve(client.chat.completions.create(model=PRIMARY, models=[BACKUP], messages=MESSAGES))
    assert reply.model == BACKUP
    (event,) = events
    assert (event.attempts, event.fallback, event.served_provider) == (3, True, "anthropic")
    assert event.routing_model == BACKUP
    assert capsys.readouterr().err.strip() == (
        f"[meshapi] gateway served {CHAT} with {BACKUP} via anthropic (3 attempts, provider fallback) "
        f"[{reply._request_id}]"
    )
    raw = await resolve(
        client.chat.completions.with_raw_response.create(model=PRIMARY, models=[BACKUP], messages=MESSAGES)
    )
    assert raw.routing_model == BACKUP == raw.routing.routing_model
    await close(client)


async def test_routing_model_only_when_another_model_served(mode: str, gw: Any) -> None:
    gw.provider_faults.add(PRIMARY, status=503, times=1)  # one retry on the same model serves it
    events: List[Any] = []
    client = make(mode, gw, token=ROUTED, logger=events.append)
    raw = await resolve(
        client.chat.completions.with_raw_response.create(model=PRIMARY, models=[BACKUP], messages=MESSAGES)
    )
    assert raw.routing_model is None and raw.parse().model == PRIMARY
    assert (events[0].attempts, events[0].fallback, events[0].routing_model) == (2, False, None)
    auto = await resolve(client.chat.completions.with_raw_response.create(model="auto", messages=MESSAGES))
    assert auto.routing_model == auto.parse().model == PRIMARY  # the router's pick
    assert (events[-1].attempts, events[-1].routing_model) == (1, PRIMARY)
    plain = make(mode, gw)
    picked = await resolve(plain.chat.completions.with_raw_response.create(model="auto", messages=MESSAGES))
    assert picked.routing_model == PRIMARY and picked.routing == GatewayRoutingEvent(
        CHAT, 1, False, None, picked.request_id, routing_model=PRIMARY
    )
    await close(plain)
    await close(client)


async def test_routing_policy_gives_up_with_the_headers(mode: str, gw: Any) -> None:
    gw.provider_faults.add(PRIMARY, status=503, times=-1)
    gw.provider_faults.add(BACKUP, status=503, times=-1)
    client = make(mode, gw, token=ROUTED, retry=RetryPolicy(0))
    with pytest.raises(meshapi.APIStatusError) as caught:
        await resolve(client.chat.completions.create(model=PRIMARY, models=[BACKUP], messages=MESSAGES))
    assert caught.value.status == 503 and caught.value.error_code == "provider_not_available"
    assert caught.value.headers["x-mesh-routing-attempts"] == "4"
    await close(client)


async def test_plain_token_has_no_routing_headers(mode: str, gw: Any) -> None:
    client = make(mode, gw)
    raw = await resolve(client.chat.completions.with_raw_response.create(model=PRIMARY, messages=MESSAGES))
    assert "x-mesh-routing-attempts" not in raw.headers and raw.routing is None
    await close(client)


async def test_caller_request_id_names_reply_errors_and_log(mode: str, gw: Any) -> None:
    client = make(mode, gw, retry=RetryPolicy(0))
    reply = await resolve(
        client.chat.completions.create(model=PRIMARY, messages=MESSAGES, request_id="trace-42")
    )
    assert reply._request_id == "trace-42"
    with pytest.raises(meshapi.NotFoundError) as caught:
        await resolve(
            client.chat.completions.create(model="nope/nope", messages=MESSAGES, request_id="trace:43")
        )
    assert caught.value.request_id == "trace:43"
    stream = client.chat.completions.stream(model=PRIMARY, messages=MESSAGES, request_id="trace.44")
    assert await collect(stream)
    assert [r.request_id for r in gw.requests.filter(path=CHAT)] == ["trace-42", "trace:43", "trace.44"]
    await close(client)


def test_gateway_ignores_an_invalid_caller_id(gw: Any) -> None:
    with httpx.Client(base_url=gw.base_url) as raw:
        for bad in ("has space", "x" * 65, "a/b"):
            response = raw.get(
                "/v1/models", headers={"Authorization": f"Bearer {PLAIN}", "X-Request-Id": bad}
            )
            assert response.status_code == 200 and response.headers["x-request-id"].startswith("req_")


def test_routing_policy_specs() -> None:
    assert parse_policy("retries=2,fallback=off") == ("*", RoutingPolicy(2, False))
    assert parse_policy("rsk_x=retries=0") == ("rsk_x", RoutingPolicy(0, True))
    for bad in ("retries=many", "fallback=maybe", "speed=3", "retries=99"):
        with pytest.raises(ValueError):
            parse_policy(bad)


def test_cli_builds_the_routing_setting() -> None:
    from meshapi_gateway.http.cli import _parser

    args = _parser().parse_args(["--routing-policy", "rsk_a=retries=3", "--routing-policy", "fallback=off"])
    assert dict(args.routing) == {"rsk_a": RoutingPolicy(3), "*": RoutingPolicy(1, False)}
    with pytest.raises(SystemExit):
        _parser().parse_args(["--routing-policy", "retries=x"])
