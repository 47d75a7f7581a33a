"""openai-python habits that work unchanged: each an additive alias of a meshapi name.

Why this exists: a service moved from openai-python keeps ``api_key=`` / ``http_client=``, the
``*_API_KEY`` variable, ``await client.close()``, ``e.status_code`` / ``e.code``, ``except APIError``,
``model.to_dict()`` and ``messages.append(reply.choices[0].message)``. Each alias is pinned here with the
exact value it gives, in sync and async mode, and a disagreement between two spellings is an error that
names the arguments, never the key. (The same tool loop over real sockets: tests/integration/test_core.py.)
"""

from __future__ import annotations

import datetime
import inspect
import json
import pickle
from typing import Any, Callable, Dict, List, Optional

import httpx
import pytest
from pydantic import BaseModel, Field

import meshapi
from meshapi import AsyncMeshAPI, MeshAPI
from meshapi.types import _base
from tests.conftest import resolve

KEY = "rsk_alias_key_4KQ9_secret"
OTHER = "rsk_other_key_7ZP2_secret"
REPLY = {
    "id": "c1",
    "object": "chat.completion",
    "created": 1,
    "model": "m",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
}


class Recorder:
    """A MockTransport handler answering ``replies`` in turn and keeping every request."""

    def __init__(self, *replies: Dict[str, Any]) -> None:
        self.replies = list(replies) or [REPLY]
        self.seen: List[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        return httpx.Response(200, json=self.replies[min(len(self.seen), len(self.replies)) - 1])

    def bearer(self, index: int = -1) -> str:
        return self.seen[index].headers["authorization"]

    def body(self, index: int = -1) -> Any:
        return json.loads(self.seen[index].content)


def build(mode: str, handler: Recorder, **kwargs: Any) -> Any:
    """A client of ``mode`` whose injected httpx client goes to ``handler`` (as ``http_client`` by default)."""
    kwargs.setdefault("base_url", "http://gateway.test")
    transport = httpx.MockTransport(handler)
    if mode == "sync":
        kwargs.setdefault("http_client", httpx.Client(transport=transport))
        return MeshAPI(**kwargs)
    kwargs.setdefault("http_client", httpx.AsyncClient(transport=transport))
    return AsyncMeshAPI(**kwargs)


async def shut(client: Any) -> None:
    injected = client.config.httpx_client or client.config.async_httpx_client
    await resolve(client.close())
    await resolve(injected.close() if isinstance(injected, httpx.Client) else injected.aclose())


async def chat(client: Any, messages: Optional[List[Any]] = None, **kwargs: Any) -> Any:
    messages = messages or [{"role": "user", "content": "hi"}]
    return await resolve(client.chat.completions.create(model="m", messages=messages, **kwargs))


def assert_no_key(error: BaseException) -> None:
    for text in (str(error), repr(error), repr(vars(error)), repr(pickle.dumps(error))):
        assert KEY not in text and OTHER not in text and "4KQ9" not in text and "7ZP2" not in text


# --- api_key= / MESHAPI_API_KEY ---------------------------------------------------------------------------


async def test_api_key_is_the_token(mode: str) -> None:
    handler = Recorder()
    client = build(mode, handler, api_key=KEY)
    await chat(client)
    assert handler.bearer() == f"Bearer {KEY}"
    assert KEY not in repr(client) and KEY not in repr(client.config)
    await shut(client)
    same = build(mode, handler, api_key=KEY, token=KEY)  # both spellings, one value: fine
    await chat(same)
    assert handler.bearer() == f"Bearer {KEY}"
    await shut(same)


@pytest.mark.parametrize("cls", [MeshAPI, AsyncMeshAPI])
def test_api_key_and_token_that_differ_are_a_configuration_error(cls: Any) -> None:
    with pytest.raises(meshapi.ConfigurationError) as info:
        cls(base_url="http://gateway.test", token=KEY, api_key=OTHER)
    assert str(info.value) == "api_key= is another name for token=; they were given different values"
    assert_no_key(info.value)


async def test_with_options_takes_api_key(mode: str) -> None:
    handler = Recorder()
    client = build(mode, handler, token=KEY)
    copy = client.with_options(api_key=OTHER)
    await chat(copy)
    assert handler.bearer() == f"Bearer {OTHER}"
    assert client.with_options(api_key=KEY, token=KEY).config.token == KEY
    with pytest.raises(meshapi.ConfigurationError, match="api_key= is another name for token=") as info:
        client.with_options(token=KEY, api_key=OTHER)
    assert_no_key(info.value)
    with pytest.raises(meshapi.ConfigurationError, match="it accepts api_key, api_version, base_url"):
        client.with_options(colour="red")
    await shut(client)


async def test_meshapi_api_key_is_the_fallback_of_meshapi_token(
    mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler = Recorder()
    monkeypatch.setenv("MESHAPI_API_KEY", OTHER)
    client = build(mode, handler)
    await chat(client)
    assert handler.bearer() == f"Bearer {OTHER}"
    await shut(client)
    monkeypatch.setenv("MESHAPI_TOKEN", KEY)  # MESHAPI_TOKEN wins
    client = build(mode, handler)
    await chat(client)
    assert handler.bearer() == f"Bearer {KEY}"
    await shut(client)
    client = build(mode, handler, api_key="rsk_explicit_key")  # an argument wins over both
    await chat(client)
    assert handler.bearer() == "Bearer rsk_explicit_key"
    await shut(client)


# --- http_client= -----------------------------------------------------------------------------------------


async def test_http_client_is_the_injected_httpx_client(mode: str) -> None:
    handler = Recorder()
    client = build(mode, handler, token=KEY)
    injected = client.config.httpx_client if mode == "sync" else client.config.async_httpx_client
    assert isinstance(injected, httpx.Client if mode == "sync" else httpx.AsyncClient)
    assert client._http._client is injected
    await chat(client)
    assert len(handler.seen) == 1
    await resolve(client.close())
    assert not injected.is_closed  # yours, as with httpx_client=
    twice = build(mode, handler, token=KEY, **{_own_name(mode): injected, "http_client": injected})
    assert twice._http._client is injected
    await shut(twice)


def _own_name(mode: str) -> str:
    return "httpx_client" if mode == "sync" else "async_httpx_client"


async def test_http_client_and_its_twin_that_differ_are_a_configuration_error(mode: str) -> None:
    factory: Callable[[], Any] = httpx.Client if mode == "sync" else httpx.AsyncClient
    one, two = factory(), factory()
    cls: Any = MeshAPI if mode == "sync" else AsyncMeshAPI
    with pytest.raises(meshapi.ConfigurationError) as info:
        cls(base_url="http://gateway.test", token=KEY, http_client=one, **{_own_name(mode): two})
    name = _own_name(mode)
    assert str(info.value) == f"http_client= is another name for {name}=; they were given different values"
    wrong = httpx.AsyncClient() if mode == "sync" else httpx.Client()
    with pytest.raises(meshapi.ConfigurationError) as info:
        cls(base_url="http://gateway.test", token=KEY, http_client=wrong)
    expected = "httpx.Client" if mode == "sync" else "httpx.AsyncClient"
    assert str(info.value).startswith(f"http_client must be an {expected}, got {type(wrong).__name__}")
    for item in (one, two, wrong):
        await resolve(item.close() if isinstance(item, httpx.Client) else item.aclose())


# --- await AsyncMeshAPI.close() ---------------------------------------------------------------------------


async def test_async_close_is_awaitable_and_aclose_stays() -> None:
    assert inspect.iscoroutinefunction(AsyncMeshAPI.close)
    client = AsyncMeshAPI(base_url="http://127.0.0.1:9", token=KEY)
    pool = client._http._client
    await client.close()
    assert pool.is_closed
    await client.aclose()  # idempotent, and the old name still works
    other = AsyncMeshAPI(base_url="http://127.0.0.1:9", token=KEY)
    await other.aclose()
    assert other._http._client.is_closed


# --- errors: status_code, code, APIError -------------------------------------------------------------------


def test_status_code_and_code_are_read_only_aliases() -> None:
    response = httpx.Response(
        429,
        json={"error": {"code": "rate_limited", "message": "slow down"}},
        headers={"x-request-id": "req_1"},
        request=httpx.Request("POST", "http://gateway.test/v1/chat/completions"),
    )
    error = meshapi.MeshAPIError.from_response(response)
    assert isinstance(error, meshapi.RateLimitError)
    assert (error.status_code, error.code) == (error.status, error.error_code) == (429, "rate_limited")
    before = repr(error)
    with pytest.raises(AttributeError):
        error.status_code = 500  # type: ignore[misc]
    with pytest.raises(AttributeError):
        error.code = "other"  # type: ignore[misc]
    assert "status_code" not in vars(error) and "code" not in vars(error)
    clone = pickle.loads(pickle.dumps(error))
    assert (clone.status_code, clone.code, repr(clone)) == (429, "rate_limited", before)
    assert before == (
        "RateLimitError(status=429, error_code='rate_limited', request_id='req_1', message='slow down')"
    )
    offline = meshapi.ConfigurationError("bad")
    assert (offline.status_code, offline.code) == (0, "configuration_error")


def test_realtime_error_code_is_its_error_code() -> None:
    error = meshapi.RealtimeError("session_closed", "gone", "p", "req_9", status=0, close_code=1011)
    assert error.code == error.error_code == "session_closed"
    clone = pickle.loads(pickle.dumps(error))
    assert (clone.code, clone.param, clone.close_code, str(clone)) == (
        "session_closed",
        "p",
        1011,
        str(error),
    )


def test_api_error_is_meshapi_error() -> None:
    assert meshapi.APIError is meshapi.MeshAPIError
    assert "APIError" in meshapi.__all__ and meshapi.__all__ == sorted(meshapi.__all__)
    namespace: Dict[str, Any] = {}
    exec("from meshapi import *", namespace)
    assert namespace["APIError"] is meshapi.MeshAPIError
    with pytest.raises(meshapi.APIError):
        raise meshapi.NotFoundError("no such model", status=404, error_code="not_found", request_id="")


# --- to_dict() / to_json() on every model -----------------------------------------------------------------


def _every_model() -> List[type]:
    import meshapi.types as types

    found = {
        value
        for name in dir(types)
        if isinstance(value := getattr(types, name), type) and issubclass(value, BaseModel)
    }
    return sorted(found, key=lambda cls: cls.__name__)


@pytest.mark.parametrize("cls", _every_model(), ids=lambda cls: cls.__name__)
def test_every_model_has_to_dict_and_to_json(cls: type) -> None:
    assert cls.to_dict is _base._OpenAIDumps.to_dict  # type: ignore[attr-defined]
    assert cls.to_json is _base._OpenAIDumps.to_json  # type: ignore[attr-defined]


def test_every_model_lists_the_families() -> None:
    names = {cls.__name__ for cls in _every_model()}
    assert {"ChatCompletionResponse", "ChatCompletionParams", "ToolCall", "EmbeddingsResponse"} <= names
    assert len(names) > 100


def test_to_dict_and_to_json_follow_openai_python() -> None:
    reply = meshapi.ChatCompletionResponse.model_validate({**REPLY, "x_new": 1})
    expected = {**REPLY, "x_new": 1}
    assert reply.to_dict() == expected  # only what was set (no usage: None), unknown keys kept
    assert reply.to_json() == json.dumps(expected, indent=2)
    assert json.loads(reply.to_json(indent=None)) == expected and "\n" not in reply.to_json(indent=None)
    full = reply.to_dict(exclude_unset=False)
    assert full["usage"] is None and full["choices"][0]["message"]["tool_calls"] is None
    assert "usage" not in reply.to_dict(exclude_unset=False, exclude_none=True)
    assert reply._request_id is None and "_request_id" not in reply.to_dict()
    params = meshapi.ChatCompletionParams(messages=[{"role": "user", "content": "x"}], temperature=0.5)
    assert params.to_dict() == {"messages": [{"role": "user", "content": "x"}], "temperature": 0.5}
    options = meshapi.AudioOutputOptions(voice="nova")
    assert options.to_dict() == {"voice": "nova"}
    assert options.to_dict(exclude_unset=False) == {"voice": "nova", "format": "wav"}
    assert options.to_dict(exclude_unset=False, exclude_defaults=True) == {"voice": "nova"}


class _Stamped(_base.MeshModel):
    created_at: datetime.datetime
    kind: str = Field(alias="type")


def test_to_dict_modes_and_api_names() -> None:
    item = _Stamped.model_validate({"created_at": "2026-01-02T03:04:05Z", "type": "x"})
    stamp = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    assert item.to_dict() == {"created_at": stamp, "type": "x"}
    assert item.to_dict(mode="json") == {"created_at": "2026-01-02T03:04:05Z", "type": "x"}
    assert item.to_dict(use_api_names=False) == {"created_at": stamp, "kind": "x"}
    assert json.loads(item.to_json(use_api_names=False)) == {
        "created_at": "2026-01-02T03:04:05Z",
        "kind": "x",
    }


# --- a reply's message appended as it is ------------------------------------------------------------------

TOOL_REPLY = {
    **REPLY,
    "choices": [
        {
            "index": 0,
            "finish_reason": "tool_calls",
            "message": {
                "role": "assistant",
                "content": None,
                "reasoning": "the server's own extra key",
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}', "x": 1},
                    }
                ],
            },
        }
    ],
}


async def test_a_reply_message_goes_back_into_messages(mode: str) -> None:
    handler = Recorder(TOOL_REPLY, REPLY, REPLY)
    client = build(mode, handler, token=KEY)
    messages: List[Any] = [{"role": "user", "content": "Weather in Paris?"}]
    first = await chat(client, messages, tools=[{"type": "function", "function": {"name": "get_weather"}}])
    message = first.choices[0].message
    messages.append(message)
    for call in message.tool_calls:
        messages.append({"role": "tool", "tool_call_id": call.id, "content": "18 C"})
    second = await chat(client, messages)
    assert second.choices[0].message.content == "ok"
    assert handler.body()["messages"] == [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                }
            ],
        },
        {"role": "tool", "content": "18 C", "tool_call_id": "call_1"},
    ]
    plain = second.choices[0].message  # a text reply, inside a params model this time
    await resolve(
        client.chat.completions.create(
            meshapi.ChatCompletionParams(model="m", messages=[{"role": "user", "content": "hi"}, plain])
        )
    )
    assert handler.body()["messages"][1] == {"role": "assistant", "content": "ok"}
    await shut(client)
