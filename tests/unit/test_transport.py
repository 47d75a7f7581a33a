"""The transport loop on a mock transport: retries, idempotency keys, error mapping, options, leaks."""

from __future__ import annotations

import json
import logging
from typing import Any, Callable, Dict, List

import httpx
import pytest

import meshapi
from meshapi import MeshAPI
from tests.conftest import RecordingStream, resolve

MESSAGES = [{"role": "user", "content": "Hi"}]
COMPLETION = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "openai/gpt-4o-mini",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello"}, "finish_reason": "stop"}],
}


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=COMPLETION, headers={"x-request-id": "req_ok"})


def sequence(*responses: Callable[[httpx.Request], httpx.Response]) -> Any:
    seen: List[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return responses[min(len(seen) - 1, len(responses) - 1)](request)

    handler.seen = seen  # type: ignore[attr-defined]
    return handler


def status(
    code: int, headers: Dict[str, str] | None = None, body: Any = None
) -> Callable[[httpx.Request], httpx.Response]:
    def respond(request: httpx.Request) -> httpx.Response:
        payload = (
            body
            if body is not None
            else {"error": {"code": "x", "message": f"status {code}"}, "request_id": f"req_{code}"}
        )
        return httpx.Response(code, json=payload, headers=headers or {})

    return respond


def raise_(exc: Exception) -> Callable[[httpx.Request], httpx.Response]:
    def respond(request: httpx.Request) -> httpx.Response:
        raise exc

    return respond


async def create(client: Any, **kwargs: Any) -> Any:
    return await resolve(
        client.chat.completions.create(model="openai/gpt-4o-mini", messages=MESSAGES, **kwargs)
    )


async def test_request_shape(make_client: Any) -> None:
    handler = sequence(ok)
    client = make_client(handler, base_url="http://gateway.test/base/")
    result = await create(client, temperature=0.5)
    request = handler.seen[0]
    assert request.method == "POST"
    assert str(request.url) == "http://gateway.test/base/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer rsk_unit_test_token"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["accept"] == "application/json"
    assert request.headers["x-meshapi-sdk"] == f"python/{meshapi.__version__}"
    assert request.headers["idempotency-key"].startswith("meshapi-")
    assert json.loads(request.content) == {
        "model": "openai/gpt-4o-mini",
        "messages": MESSAGES,
        "temperature": 0.5,
        "stream": False,
    }
    assert result.choices[0].message.content == "Hello"
    assert result._request_id == "req_ok"
    assert result._response.status_code == 200


@pytest.mark.parametrize("code", [429, 502, 503, 504])
async def test_retryable_status_then_success_reuses_idempotency_key(make_client: Any, code: int) -> None:
    handler = sequence(status(code, {"retry-after": "0"}), status(code), ok)
    client = make_client(handler)
    result = await create(client)
    assert result.id == "chatcmpl-1"
    keys = {r.headers["idempotency-key"] for r in handler.seen}
    assert len(handler.seen) == 3 and len(keys) == 1


@pytest.mark.parametrize("code", [400, 401, 403, 404, 409, 422, 500])
async def test_non_retryable_status_raises_at_once(make_client: Any, code: int) -> None:
    handler = sequence(status(code))
    client = make_client(handler)
    with pytest.raises(meshapi.APIStatusError) as info:
        await create(client)
    assert len(handler.seen) == 1
    assert info.value.status == code and info.value.request_id == f"req_{code}"


async def test_retries_exhausted_raise_last_error(make_client: Any) -> None:
    handler = sequence(status(503))
    client = make_client(handler, max_retries=2)
    with pytest.raises(meshapi.InternalServerError):
        await create(client)
    assert len(handler.seen) == 3


async def test_huge_retry_after_is_not_waited(make_client: Any) -> None:
    handler = sequence(status(429, {"retry-after": "3600"}))
    client = make_client(handler)
    with pytest.raises(meshapi.RateLimitError) as info:
        await create(client)
    assert len(handler.seen) == 1
    assert info.value.retry_after_seconds == 3600


@pytest.mark.parametrize(
    ("exc", "cls", "sent"),
    [
        (httpx.ConnectError("[Errno 111] Connection refused"), meshapi.APIConnectionError, 3),
        (httpx.ConnectTimeout("timed out"), meshapi.APITimeoutError, 3),
        # the POST was sent and may still be running: not re-sent by default
        (httpx.ReadTimeout("timed out"), meshapi.APITimeoutError, 1),
        (
            httpx.RemoteProtocolError("Server disconnected without sending a response."),
            meshapi.APIConnectionError,
            3,
        ),
        (httpx.ReadError("Connection reset by peer"), meshapi.APIConnectionError, 3),
    ],
)
async def test_transport_errors_are_retried_then_mapped(
    make_client: Any, exc: Exception, cls: type, sent: int
) -> None:
    handler = sequence(raise_(exc))
    client = make_client(handler, max_retries=2)
    with pytest.raises(cls) as info:
        await create(client)
    assert len(handler.seen) == sent
    assert isinstance(info.value.__cause__, httpx.HTTPError)
    assert len({r.headers["idempotency-key"] for r in handler.seen}) == 1


async def test_transport_error_then_success(make_client: Any) -> None:
    handler = sequence(raise_(httpx.ConnectError("refused")), ok)
    assert (await create(make_client(handler))).id == "chatcmpl-1"


async def test_max_retries_zero_means_one_attempt(make_client: Any) -> None:
    handler = sequence(status(503))
    with pytest.raises(meshapi.InternalServerError):
        await create(make_client(handler, max_retries=0))
    assert len(handler.seen) == 1


async def test_failed_attempt_bodies_are_closed(make_client: Any) -> None:
    streams: List[RecordingStream] = []

    def handler(request: httpx.Request) -> httpx.Response:
        stream = RecordingStream([b'{"error":{"code":"x","message":"busy"}}'])
        streams.append(stream)
        return httpx.Response(503, headers={"content-type": "application/json"}, stream=stream)

    with pytest.raises(meshapi.InternalServerError):
        await create(make_client(handler))
    assert len(streams) == 4 and all(s.closed for s in streams)


async def test_per_call_timeout_and_headers(make_client: Any) -> None:
    handler = sequence(ok)
    client = make_client(handler, timeout=12.0)
    await create(client, timeout=3.5, extra_headers={"X-Trace": "abc"})
    await create(client)
    first, second = handler.seen
    assert first.extensions["timeout"]["read"] == 3.5
    assert second.extensions["timeout"]["read"] == 12.0
    assert first.headers["x-trace"] == "abc"


async def test_extra_body_is_merged(make_client: Any) -> None:
    handler = sequence(ok)
    await create(make_client(handler), extra_body={"custom_flag": True})
    assert json.loads(handler.seen[0].content)["custom_flag"] is True


@pytest.mark.parametrize(
    "kwargs",
    [
        {"timeout": -1},
        {"timeout": 0},
        {"timeout": "soon"},
        {"extra_headers": {"X": "a\r\nb"}},
        {"nonsense_field": 1},
        {"messages": "hello"},
        {"temperature": "hot"},
    ],
)
async def test_bad_arguments_fail_before_sending(make_client: Any, kwargs: Dict[str, Any]) -> None:
    handler = sequence(ok)
    client = make_client(handler)
    call = {"model": "m", "messages": MESSAGES, **kwargs}
    with pytest.raises(meshapi.InvalidParamsError) as info:
        await resolve(client.chat.completions.create(**call))
    assert handler.seen == []
    assert isinstance(info.value, ValueError)


async def test_param_model_and_keywords_merge(make_client: Any) -> None:
    handler = sequence(ok)
    params = meshapi.ChatCompletionParams(model="a", messages=[meshapi.ChatMessage(role="user", content="x")])
    await resolve(make_client(handler).chat.completions.create(params, max_tokens=5))
    assert json.loads(handler.seen[0].content) == {
        "model": "a",
        "messages": [{"role": "user", "content": "x"}],
        "max_tokens": 5,
        "stream": False,
    }


async def test_dict_params_are_accepted(make_client: Any) -> None:
    handler = sequence(ok)
    await resolve(make_client(handler).chat.completions.create({"model": "a", "messages": MESSAGES}))
    assert json.loads(handler.seen[0].content)["model"] == "a"


async def test_non_json_success_body_is_typed(make_client: Any) -> None:
    handler = sequence(
        lambda r: httpx.Response(200, text="<html>oops</html>", headers={"content-type": "text/html"})
    )
    with pytest.raises(meshapi.APIResponseValidationError):
        await create(make_client(handler))


async def test_wrong_shape_success_body_is_typed(make_client: Any) -> None:
    handler = sequence(lambda r: httpx.Response(200, json={"id": "x"}, headers={"x-request-id": "req_bad"}))
    with pytest.raises(meshapi.APIResponseValidationError) as info:
        await create(make_client(handler))
    assert info.value.request_id == "req_bad"
    assert "ChatCompletionResponse" in str(info.value)


async def test_models_list_accepts_bare_array_and_data_wrapper(make_client: Any) -> None:
    info = {"id": "openai/gpt-4o-mini", "name": "GPT-4o mini", "is_free": False}
    replies = [[info], {"data": [info]}, None]
    handler = sequence(
        *(
            lambda r, body=body: httpx.Response(200, json=body, headers={"x-request-id": "req_m"})
            for body in replies
        )
    )
    client = make_client(handler)
    first = await resolve(client.models.list(free=False))
    second = await resolve(client.models.free())
    third = await resolve(client.models.paid())
    assert [m.id for m in first] == [m.id for m in second] == ["openai/gpt-4o-mini"]
    assert list(third) == [] and first.request_id == "req_m"
    assert [r.url.path for r in handler.seen] == ["/v1/models", "/v1/models/free", "/v1/models/paid"]
    assert handler.seen[0].url.params["free"] == "false"
    assert "idempotency-key" not in handler.seen[0].headers


def test_config_validation_and_env_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MESHAPI_BASE_URL", raising=False)
    monkeypatch.delenv("MESHAPI_TOKEN", raising=False)
    with pytest.raises(meshapi.ConfigurationError, match=r"MESHAPI_BASE_URL.*MESHAPI_TOKEN"):
        MeshAPI()
    with pytest.raises(meshapi.ConfigurationError, match="MESHAPI_TOKEN"):
        MeshAPI(base_url="http://x")
    monkeypatch.setenv("MESHAPI_BASE_URL", "http://env.test/")
    monkeypatch.setenv("MESHAPI_TOKEN", "rsk_env_token")
    with MeshAPI() as client:
        assert client.base_url == "http://env.test"
    for bad in ("ftp://x", "not a url", "http://", "http://x?q=1", ""):
        with pytest.raises(meshapi.ConfigurationError):
            MeshAPI(base_url=bad, token="t")
    for kwargs in ({"timeout": -1}, {"max_retries": -1}, {"max_retries": 1.5}, {"token": "a\nb"}):
        with pytest.raises(meshapi.ConfigurationError):
            MeshAPI(**{"base_url": "http://x", "token": "t", **kwargs})
    with pytest.raises(meshapi.ConfigurationError, match="AsyncMeshAPI"):
        MeshAPI(base_url="http://x", token="t", httpx_client=httpx.AsyncClient())  # type: ignore[arg-type]


def test_token_never_in_reprs_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    token = "rsk_SUPERSECRET_0123456789"
    handler = sequence(status(503), ok)
    caplog.set_level(logging.DEBUG, logger="meshapi")
    inner = httpx.Client(transport=httpx.MockTransport(handler))
    with MeshAPI(
        base_url="http://x", token=token, httpx_client=inner, retry_initial_delay=0, retry_max_delay=0
    ) as client:
        client.chat.completions.create(model="m", messages=MESSAGES)
        texts = [repr(client), repr(client.config), str(client.config), caplog.text]
    inner.close()
    assert caplog.records, "debug logging should say something"
    for text in texts:
        assert token not in text and "SUPERSECRET" not in text


def test_injected_client_keeps_sdk_base_url_and_timeout_and_stays_open() -> None:
    handler = sequence(ok)
    inner = httpx.Client(transport=httpx.MockTransport(handler), timeout=99.0)
    client = MeshAPI(base_url="http://sdk.test/p", token="t", httpx_client=inner, timeout=4.0)
    client.chat.completions.create(model="m", messages=MESSAGES)
    client.close()
    assert str(handler.seen[0].url) == "http://sdk.test/p/v1/chat/completions"
    assert handler.seen[0].extensions["timeout"]["connect"] == 4.0
    assert not inner.is_closed
    inner.close()


def test_own_client_is_closed() -> None:
    client = MeshAPI(base_url="http://x", token="t")
    client.close()
    assert client._http._client.is_closed
