"""Client and per-call options on a mock transport, sync and async: what is sent, and when it is re-sent."""

from __future__ import annotations

import email.utils
import json
import time
from typing import Any, AsyncIterator, Dict, Iterator, List

import anyio
import httpx
import pytest

import meshapi
from meshapi import AsyncMeshAPI, MeshAPI
from tests.conftest import resolve
from tests.unit.test_transport import COMPLETION, create, ok, sequence, status


def snapshots(handler: Any) -> Any:
    """``handler`` that also keeps a copy of each attempt's headers as sent."""
    sent: List[Dict[str, str]] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(dict(request.headers))
        return handler(request)

    record.seen = handler.seen  # type: ignore[attr-defined]
    record.sent = sent  # type: ignore[attr-defined]
    return record


def fake_sleep(client: Any) -> List[float]:
    slept: List[float] = []
    if isinstance(client, MeshAPI):
        client._http._sleep = slept.append
    else:

        async def record(delay: float) -> None:
            slept.append(delay)

        client._http._sleep = record
    return slept


async def test_every_per_call_option_reaches_the_wire(make_client: Any) -> None:
    handler = snapshots(sequence(status(503), ok))
    client = make_client(handler, default_query={"tenant": "t1", "page": "0"})
    result = await create(
        client,
        max_retries=1,
        extra_headers={"X-Trace": "abc"},
        extra_query={"page": "2", "debug": "1"},
        extra_body={"seed": 7},
        total_timeout=30,
        request_id="my-req.1",
        timeout=5,
    )
    assert result.id == "chatcmpl-1"
    first, second = handler.seen
    assert dict(first.url.params) == {"tenant": "t1", "page": "2", "debug": "1"}
    assert first.headers["x-trace"] == "abc" and first.headers["x-request-id"] == "my-req.1"
    assert json.loads(first.content)["seed"] == 7
    assert [h["x-meshapi-retry-count"] for h in handler.sent] == ["0", "1"]
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"]
    assert first.extensions["timeout"]["read"] <= 5


async def test_per_call_max_retries_overrides_the_client(make_client: Any) -> None:
    handler = sequence(status(503))
    client = make_client(handler, max_retries=5)
    with pytest.raises(meshapi.InternalServerError):
        await create(client, max_retries=1)
    assert len(handler.seen) == 2
    handler.seen.clear()
    with pytest.raises(meshapi.InternalServerError):
        await create(client, max_retries=0)
    assert len(handler.seen) == 1


async def test_extra_body_on_a_method_without_a_body_is_sent(make_client: Any) -> None:
    handler = sequence(lambda r: httpx.Response(200, json={"data": []}))
    client = make_client(handler)
    await resolve(client.models.list(extra_body={"probe": True}, extra_query={"x": "1"}))
    assert json.loads(handler.seen[0].content) == {"probe": True}
    assert handler.seen[0].url.params["x"] == "1"


@pytest.mark.parametrize(("code", "header", "sent"), [(500, "true", 3), (503, "false", 1), (400, "true", 3)])
async def test_x_should_retry_overrides_the_status_rule(
    make_client: Any, code: int, header: str, sent: int
) -> None:
    handler = sequence(status(code, {"x-should-retry": header}))
    client = make_client(handler, max_retries=2)
    with pytest.raises(meshapi.APIStatusError):
        await create(client)
    assert len(handler.seen) == sent


async def test_http_date_hint_is_both_slept_and_reported(make_client: Any) -> None:
    when = email.utils.formatdate(time.time() + 3, usegmt=True)
    handler = sequence(status(429, {"retry-after": when}))
    client = make_client(handler, max_retries=1)
    slept = fake_sleep(client)
    with pytest.raises(meshapi.RateLimitError) as info:
        await create(client)
    reported = info.value.retry_after_seconds
    assert reported is not None and 1.0 <= reported <= 3.0
    assert len(slept) == 1 and reported - 0.1 <= slept[0] <= reported * 1.2 + 0.1


async def test_body_hint_is_used_when_no_header(make_client: Any) -> None:
    body = {"error": {"code": "rate_limit_exceeded", "message": "slow", "retry_after_seconds": 2}}
    handler = sequence(status(429, body=body), ok)
    client = make_client(handler)
    slept = fake_sleep(client)
    await create(client)
    assert len(slept) == 1 and 2.0 <= slept[0] <= 2.4


async def test_a_post_read_timeout_is_resent_only_when_asked(make_client: Any) -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    handler = sequence(timeout, ok)
    client = make_client(handler)
    with pytest.raises(meshapi.APITimeoutError):
        await create(client)
    assert len(handler.seen) == 1
    handler.seen.clear()
    opted = client.with_options(retry_read_timeouts=True)
    assert (await create(opted)).id == "chatcmpl-1"
    assert len(handler.seen) == 2
    # a GET is always safe to re-send
    handler2 = sequence(timeout, lambda r: httpx.Response(200, json={"data": []}))
    listing = make_client(handler2)
    assert list(await resolve(listing.models.list())) == []
    assert len(handler2.seen) == 2


async def test_total_timeout_gives_up_instead_of_waiting_past_it(make_client: Any) -> None:
    handler = sequence(status(429, {"retry-after": "5"}))
    client = make_client(handler, max_retries=3)
    slept = fake_sleep(client)
    with pytest.raises(meshapi.RateLimitError):
        await create(client, total_timeout=1.0)
    assert len(handler.seen) == 1 and slept == []


class Drip(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A JSON body that arrives one byte every 20 ms (a server that would hold a call for seconds)."""

    def __init__(self) -> None:
        self.body = json.dumps(COMPLETION).encode()

    def __iter__(self) -> Iterator[bytes]:
        for i in range(len(self.body)):
            time.sleep(0.02)
            yield self.body[i : i + 1]

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for i in range(len(self.body)):
            await anyio.sleep(0.02)
            yield self.body[i : i + 1]


async def test_total_timeout_bounds_a_dripping_body(make_client: Any) -> None:
    handler = sequence(
        lambda r: httpx.Response(200, stream=Drip(), headers={"content-type": "application/json"})
    )
    client = make_client(handler, timeout=5.0)
    started = time.monotonic()
    with pytest.raises(meshapi.APITimeoutError) as info:
        await create(client, total_timeout=0.3)
    assert time.monotonic() - started < 1.5
    assert info.value.error_code == "total_timeout"
    assert len(handler.seen) == 1  # the deadline passed: not retried


async def test_callable_token_is_called_for_every_attempt(mode: str, make_client: Any) -> None:
    tokens = iter(["rsk_first_token_1", "rsk_second_token_2"])
    if mode == "sync":
        provider: Any = lambda: next(tokens)  # noqa: E731
    else:

        async def provider() -> str:
            return next(tokens)

    handler = snapshots(sequence(status(503), ok))
    client = make_client(handler, token=provider)
    await create(client)
    assert [h["authorization"] for h in handler.sent] == [
        "Bearer rsk_first_token_1",
        "Bearer rsk_second_token_2",
    ]
    assert "rsk_" not in repr(client.config)


async def test_a_failing_token_provider_is_a_typed_error_and_sends_nothing(make_client: Any) -> None:
    def broken() -> str:
        raise RuntimeError("vault down")

    handler = sequence(ok)
    client = make_client(handler, token=broken)
    with pytest.raises(meshapi.ConfigurationError, match="token provider raised RuntimeError"):
        await create(client)
    bad = make_client(handler, token=lambda: "has space")
    with pytest.raises(meshapi.ConfigurationError):
        await create(bad)
    assert handler.seen == []


async def test_hooks_see_every_attempt_redacted(mode: str, make_client: Any) -> None:
    seen: List[Any] = []
    if mode == "sync":
        on_request: Any = seen.append
        on_response: Any = seen.append
    else:

        async def on_request(view: Any) -> None:
            seen.append(view)

        on_response = on_request
    handler = sequence(status(503, {"x-request-id": "req_a"}), ok)
    client = make_client(handler, on_request=on_request, on_response=on_response)
    await create(client)
    kinds = [type(v).__name__ for v in seen]
    assert kinds == ["RequestView", "ResponseView", "RequestView", "ResponseView"]
    assert [seen[0].attempt, seen[2].attempt] == [0, 1]
    assert seen[0].headers["authorization"] == "<redacted>"
    assert "rsk_unit_test_token" not in repr(seen)
    assert [seen[1].status_code, seen[3].status_code] == [503, 200]
    assert seen[1].request_id == "req_a" and seen[3].request.method == "POST"


@pytest.mark.parametrize("which", ["on_request", "on_response"])
async def test_a_raising_hook_is_a_typed_error(make_client: Any, which: str) -> None:
    def hook(view: Any) -> None:
        raise KeyError("boom")

    handler = sequence(ok)
    client = make_client(handler, **{which: hook})
    with pytest.raises(meshapi.HookError) as info:
        await create(client)
    assert isinstance(info.value.__cause__, KeyError) and which in str(info.value)
    assert len(handler.seen) == (0 if which == "on_request" else 1)


async def test_with_options_shares_the_pool_and_closing_the_copy_keeps_it(mode: str) -> None:
    cls: Any = MeshAPI if mode == "sync" else AsyncMeshAPI
    client = cls(base_url="http://127.0.0.1:9", token="rsk_unit_test_token", timeout=30, max_retries=3)
    copy = client.with_options(
        timeout=2.5, max_retries=0, default_headers={"X-A": "1"}, default_query={"q": "1"}
    )
    assert copy._http._client is client._http._client
    assert copy.config.timeout == 2.5 and copy.config.max_retries == 0
    assert client.config.timeout == 30 and client.config.max_retries == 3
    assert copy.config.default_headers == {"X-A": "1"} and copy.config.default_query == {"q": "1"}
    assert client.copy(max_retries=1).config.max_retries == 1
    with pytest.raises(meshapi.ConfigurationError, match="does not accept"):
        client.with_options(colour="red")
    with pytest.raises(meshapi.ConfigurationError):
        client.with_options(timeout=-1)
    await resolve(copy.close() if mode == "sync" else copy.aclose())
    assert not client._http._client.is_closed
    await resolve(client.close() if mode == "sync" else client.aclose())
    assert client._http._client.is_closed


def test_with_options_checks_the_base_url_and_token_again_only_when_it_changes_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from meshapi import _config, _redact

    calls: Dict[str, int] = {"base_url": 0, "token": 0}

    def counted(name: str, check: Any) -> Any:
        def wrapper(value: Any) -> Any:
            calls[name] += 1
            return check(value)

        return wrapper

    monkeypatch.setattr(_config, "checked_base_url", counted("base_url", _config.checked_base_url))
    monkeypatch.setattr(_config, "check_token", counted("token", _config.check_token))
    client = MeshAPI(base_url="http://127.0.0.1:9/v1/", token="rsk_unit_test_token", timeout=30)
    assert calls == {"base_url": 1, "token": 1}
    copy = client.with_options(timeout=2.5, default_headers={"X-A": "1"}, max_retries=0)
    assert calls == {"base_url": 1, "token": 1}  # the same URL and token: not parsed or walked again
    assert (copy.config.base_url, copy.config.token) == (client.config.base_url, client.config.token)
    assert copy.config.timeout == 2.5 and copy.config.max_retries == 0 and client.config.timeout == 30
    assert "rsk_unit_test_token" in _redact._pins.values() and id(copy.config) in _redact._pins
    with pytest.raises(meshapi.ConfigurationError, match="default_headers"):
        client.with_options(default_headers={"X-A": "a\nb"})  # the other settings are still checked
    moved = client.with_options(base_url="http://127.0.0.1:10/")
    assert calls == {"base_url": 2, "token": 1} and moved.config.base_url == "http://127.0.0.1:10"
    rotated = client.with_options(api_key="rsk_other_test_token")
    assert calls == {"base_url": 2, "token": 2} and str(rotated.config.token) == "rsk_other_test_token"
    with pytest.raises(meshapi.ConfigurationError, match="base_url"):
        client.with_options(base_url="ftp://127.0.0.1")
    with pytest.raises(meshapi.ConfigurationError):
        client.with_options(token="bad token with spaces")
    client.close()


def test_custom_headers_env_merges_under_default_headers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MESHAPI_CUSTOM_HEADERS", "X-Team: search\n\nX-Env: dev")
    handler = sequence(ok)
    with MeshAPI(
        base_url="http://gateway.test",
        token="rsk_unit_test_token",
        default_headers={"X-Env": "prod"},
        httpx_client=httpx.Client(transport=httpx.MockTransport(handler)),
    ) as client:
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    assert handler.seen[0].headers["x-team"] == "search" and handler.seen[0].headers["x-env"] == "prod"
    monkeypatch.setenv("MESHAPI_CUSTOM_HEADERS", "no colon here")
    with pytest.raises(meshapi.ConfigurationError, match="MESHAPI_CUSTOM_HEADERS"):
        MeshAPI(base_url="http://gateway.test", token="rsk_unit_test_token")


def test_meshapi_log_env_turns_the_logger_on(monkeypatch: pytest.MonkeyPatch) -> None:
    import logging

    from meshapi import _config

    logger = logging.getLogger("meshapi")
    level, handlers = logger.level, list(logger.handlers)
    try:
        monkeypatch.setenv("MESHAPI_LOG", "debug")
        MeshAPI(base_url="http://127.0.0.1:9", token="rsk_unit_test_token").close()
        assert logger.level == logging.DEBUG and _config._env_handler in logger.handlers
        monkeypatch.setenv("MESHAPI_LOG", "info")
        MeshAPI(base_url="http://127.0.0.1:9", token="rsk_unit_test_token").close()
        assert logger.level == logging.INFO
        assert logger.handlers.count(_config._env_handler) == 1
    finally:
        logger.setLevel(level)
        logger.handlers[:] = handlers
        _config._env_handler = None


def test_current_token_for_code_outside_the_transport() -> None:
    from meshapi._config import MeshAPIConfig

    assert (
        MeshAPIConfig(base_url="http://x.test", token="rsk_static_token").current_token()
        == "rsk_static_token"
    )
    dynamic = MeshAPIConfig(base_url="http://x.test", token=lambda: "rsk_dynamic_token")
    assert dynamic.current_token() == "rsk_dynamic_token" and "rsk_" not in repr(dynamic)

    async def provider() -> str:
        return "rsk_async_token"

    with pytest.raises(meshapi.ConfigurationError, match="async"):
        MeshAPIConfig(base_url="http://x.test", token=provider).current_token()
