"""Bad input: every mistake gets a typed error that says what to fix, before anything is sent.

Three layers:

* client settings -> ``ConfigurationError`` (a ``ValueError``) at construction;
* call arguments -> ``InvalidParamsError`` (a ``ValueError``) at the call, with the gateway's request
  log still empty afterwards (so nothing was sent);
* the same inputs sent anyway (``extra_body`` or raw httpx) -> the gateway's documented errors (422
  ``validation_error`` with details, 404 for ids that try to escape their path segment, 413 above
  32 MiB), mapped by the SDK to the matching typed error.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Dict

import httpx
import pytest

import meshapi
from meshapi import AsyncMeshAPI, ConfigurationError, InvalidParamsError, MeshAPI
from meshapi.types.templates import CreateTemplateParams as TemplateParams
from tests.conftest import resolve
from tests.faults.conftest import TOKEN, Harness
from tests.faults.helpers import CHAT, MESSAGES, MODEL

MiB = 1024 * 1024

# --- client settings ------------------------------------------------------------------------------

GOOD: Dict[str, Any] = {"base_url": "http://127.0.0.1:9", "token": TOKEN}

CONFIG_CASES = [
    ({"base_url": ""}, "base_url must be a non-empty URL"),
    ({"base_url": "   "}, "base_url must be a non-empty URL"),
    ({"base_url": "api.meshapi.ai"}, "must start with http:// or https://"),
    ({"base_url": "ftp://api.meshapi.ai"}, "must start with http:// or https://"),
    ({"base_url": "http://"}, "base_url"),
    ({"base_url": "http://[::1"}, "not a valid URL"),
    ({"base_url": "https://api.meshapi.ai/?key=1"}, "query string or fragment"),
    ({"base_url": "https://api.meshapi.ai/#top"}, "query string or fragment"),
    ({"base_url": 8080}, "base_url must be a non-empty URL"),
    ({"token": ""}, "token must be a non-empty string"),
    ({"token": 12345}, "token must be a non-empty string"),
    ({"token": TOKEN + "\n"}, "token contains whitespace or a line break"),
    ({"token": " " + TOKEN}, "token contains whitespace or a line break"),
    ({"token": TOKEN[:6] + " " + TOKEN[6:]}, "printable ASCII without spaces"),
    ({"token": TOKEN + "é"}, "printable ASCII without spaces"),
    ({"token": TOKEN + "\x01"}, "printable ASCII without spaces"),
    ({"timeout": -1}, "timeout must be a positive number"),
    ({"timeout": 0}, "timeout must be a positive number"),
    ({"timeout": math.nan}, "timeout must be a positive number"),
    ({"timeout": math.inf}, "timeout must be a positive number"),
    ({"timeout": "30"}, "timeout must be a number of seconds"),
    ({"timeout": True}, "timeout must be a number of seconds"),
    ({"max_retries": -1}, "max_retries must be from 0 to 100"),
    ({"max_retries": 1000}, "max_retries must be from 0 to 100"),
    ({"max_retries": 1.5}, "max_retries must be an integer"),
    ({"max_retries": "3"}, "max_retries must be an integer"),
    ({"max_retries": None}, "max_retries must be an integer"),
    ({"retry_initial_delay": -0.5}, "retry_initial_delay must be a finite number of seconds from 0 to 3600"),
    ({"retry_max_delay": "8"}, "retry_max_delay must be a number of seconds, got '8'"),
    ({"retry_max_after": -1}, "retry_max_after must be a finite number of seconds from 0 to 3600"),
    ({"default_headers": {"X-Team": "ünï"}}, "default_headers['X-Team'] must be printable ASCII"),
    ({"default_headers": {"X Team": "a"}}, "is not a valid header name"),
    ({"default_headers": {"X-Team": "a\r\nInjected: 1"}}, "contains a line break"),
    ({"default_headers": {"X-Team": 7}}, "keys and values must be strings"),
]


@pytest.mark.parametrize(("override", "says"), CONFIG_CASES, ids=lambda v: repr(v)[:40])
async def test_bad_settings_raise_configuration_error(mode: str, override: Dict[str, Any], says: str) -> None:
    cls: Any = MeshAPI if mode == "sync" else AsyncMeshAPI
    with pytest.raises(ConfigurationError) as info:
        cls(**{**GOOD, **override})
    assert isinstance(info.value, ValueError)
    assert says in str(info.value), str(info.value)
    assert TOKEN not in str(info.value) and "SECRET" not in repr(info.value)


async def test_missing_settings_name_the_environment_variables(mode: str, monkeypatch: Any) -> None:
    monkeypatch.delenv("MESHAPI_BASE_URL", raising=False)
    monkeypatch.delenv("MESHAPI_TOKEN", raising=False)
    cls: Any = MeshAPI if mode == "sync" else AsyncMeshAPI
    with pytest.raises(ConfigurationError) as info:
        cls()
    assert "MESHAPI_BASE_URL" in str(info.value) and "MESHAPI_TOKEN" in str(info.value)


async def test_wrong_httpx_client_kind(mode: str) -> None:
    if mode == "sync":
        inner: Any = httpx.AsyncClient()
        with pytest.raises(ConfigurationError, match="AsyncMeshAPI"):
            MeshAPI(**GOOD, httpx_client=inner)
        await inner.aclose()
    else:
        inner = httpx.Client()
        with pytest.raises(ConfigurationError, match=r"httpx\.AsyncClient"):
            AsyncMeshAPI(**GOOD, async_httpx_client=inner)
        inner.close()


# --- call arguments: rejected before anything is sent -----------------------------------------------

USER = {"role": "user", "content": "hi"}


def nested(depth: int, kind: type) -> Any:
    """``depth`` dicts (``{"a": ...}``) or lists inside one another, built without recursion."""
    value: Any = 1
    for _ in range(depth):
        value = {"a": value} if kind is dict else [value]
    return value


Call = Callable[[Any], Any]


def chat(**kwargs: Any) -> Call:
    return lambda c: c.chat.completions.create(**kwargs)


def chat_stream(**kwargs: Any) -> Call:
    return lambda c: c.chat.completions.stream(**kwargs)


CALL_CASES = [
    ("missing messages", chat(model=MODEL), "messages: Field required"),
    ("messages not a list", chat(model=MODEL, messages="hi"), "messages: Input should be a valid list"),
    (
        "message without role",
        chat(model=MODEL, messages=[{"content": "x"}]),
        "messages.0.role: Field required",
    ),
    ("unknown role", chat(model=MODEL, messages=[{"role": "robot", "content": "x"}]), "messages.0.role"),
    ("model not a string", chat(model=5, messages=[USER]), "model: Input should be a valid string"),
    ("unknown field", chat(model=MODEL, messages=[USER], temprature=0.2), "temprature: unknown parameter"),
    ("unknown message field", chat(model=MODEL, messages=[{**USER, "nme": "x"}]), "nme"),
    ("temperature wrong type", chat(model=MODEL, messages=[USER], temperature="hot"), "temperature"),
    (
        "params not a model",
        lambda c: c.chat.completions.create(["x"]),
        "params must be a ChatCompletionParams",
    ),
    ("stream missing messages", chat_stream(model=MODEL), "messages: Field required"),
    ("negative call timeout", chat(model=MODEL, messages=[USER], timeout=-5), "timeout must be a positive"),
    ("zero call timeout", chat(model=MODEL, messages=[USER], timeout=0), "timeout must be a positive"),
    ("nan call timeout", chat(model=MODEL, messages=[USER], timeout=math.nan), "timeout must be a positive"),
    ("non-ascii header", chat(model=MODEL, messages=[USER], extra_headers={"X-A": "é"}), "printable ASCII"),
    ("bad header name", chat(model=MODEL, messages=[USER], extra_headers={"X A": "1"}), "not a valid header"),
    ("header injection", chat(model=MODEL, messages=[USER], extra_headers={"X": "1\r\nY: 2"}), "line break"),
    (
        "extra_body not a mapping",
        chat(model=MODEL, messages=[USER], extra_body=[1]),
        "extra_body must be a mapping",
    ),
    ("extra_body not JSON", chat(model=MODEL, messages=[USER], extra_body={"x": {1, 2}}), "not valid JSON"),
    ("NaN in body", chat(model=MODEL, messages=[USER], extra_body={"top_p": math.nan}), "not valid JSON"),
    (
        "huge payload",
        chat(model=MODEL, messages=[{"role": "user", "content": "x" * (32 * MiB + 1)}]),
        "accepts at most 32 MiB",
    ),
    ("models.list free not bool", lambda c: c.models.list(free="yes"), "free must be True, False or None"),
    ("empty batch id", lambda c: c.batches.get(""), "batch_id must be a non-empty string"),
    ("blank batch id", lambda c: c.batches.get("   "), "batch_id must be a non-empty string"),
    ("batch id not a string", lambda c: c.batches.get(42), "batch_id must be a string"),
    ("response id not a string", lambda c: c.responses.get(None), "response_id must be a string"),
    ("embeddings missing input", lambda c: c.embeddings.create(model=MODEL), "input: Field required"),
    ("compare models not a list", lambda c: c.compare.create(models="a", messages=[USER]), "models"),
    ("batch requests wrong type", lambda c: c.batches.create(requests="all"), "requests"),
    (
        "template params 100k deep dict",
        lambda c: c.templates.create(name="t", params={"x": nested(100_000, dict)}),
        "params is nested 100001 levels deep (dicts and lists inside one another)",
    ),
    (
        "template params 100k deep list",
        lambda c: c.templates.create(name="t", params={"x": nested(100_000, list)}),
        "params is nested 100001 levels deep",
    ),
    (
        "template update params 300 deep",
        lambda c: c.templates.update("tpl_1", params={"x": nested(300, dict)}),
        "params is nested 301 levels deep",
    ),
    (
        "template params model 100k deep",
        lambda c: c.templates.create(
            TemplateParams(name="t", params={"x": nested(100_000, list)}), system="s"
        ),
        "params is nested 100001 levels deep",
    ),
]


@pytest.mark.parametrize(("label", "call", "says"), CALL_CASES, ids=[c[0] for c in CALL_CASES])
async def test_bad_call_rejected_before_sending(
    harness: Harness, gateway: Any, label: str, call: Call, says: str
) -> None:
    client = harness.client(gateway.base_url)
    gateway.requests.clear()
    with pytest.raises(InvalidParamsError) as info:
        await resolve(call(client))
    assert isinstance(info.value, ValueError) and info.value.status == 0
    assert says in str(info.value), str(info.value)
    assert list(gateway.requests) == [], "the request reached the gateway"
    await harness.assert_released(client)


@pytest.mark.parametrize("call", ["chat.create", "chat.stream", "compare.create", "compare.stream"])
async def test_empty_messages_rejected_before_sending(harness: Harness, gateway: Any, call: str) -> None:
    client = harness.client(gateway.base_url)
    gateway.requests.clear()
    with pytest.raises(InvalidParamsError, match="at least one message"):
        if call == "chat.create":
            await resolve(client.chat.completions.create(model=MODEL, messages=[]))
        elif call == "chat.stream":
            client.chat.completions.stream(model=MODEL, messages=[])
        elif call == "compare.create":
            await resolve(client.compare.create(models=[MODEL, MODEL], messages=[]))
        else:
            client.compare.stream(models=[MODEL, MODEL], messages=[])
    assert list(gateway.requests) == []
    await harness.assert_released(client)


# --- ids that try to leave their path segment -------------------------------------------------------

NASTY_IDS = ["a/b", "..", "../../v1/models", "batch?x=1", "batch#frag", "two words", "ünïcødé-批", "%2e%2e"]


@pytest.mark.parametrize("bad_id", NASTY_IDS)
@pytest.mark.parametrize("resource", ["batches", "responses"])
async def test_escaped_ids_reach_the_gateway_as_one_segment(
    harness: Harness, gateway: Any, resource: str, bad_id: str
) -> None:
    client = harness.client(gateway.base_url)
    gateway.requests.clear()
    with pytest.raises(meshapi.NotFoundError) as info:
        await resolve(getattr(client, resource).get(bad_id))
    assert info.value.status == 404 and info.value.request_id.startswith("req_")
    seen = list(gateway.requests)
    assert len(seen) == 1 and seen[0].method == "GET"
    # never another route: the id stayed inside /v1/<resource>/{id}
    assert seen[0].path.startswith(f"/v1/{resource}/"), seen[0].path
    await harness.assert_released(client)


# --- sent anyway: the gateway's own answers ---------------------------------------------------------


def raw_post(gateway: Any, path: str, content: bytes) -> httpx.Response:
    headers = {"Authorization": f"Bearer {gateway.token}", "Content-Type": "application/json"}
    with httpx.Client(base_url=gateway.base_url, timeout=30) as raw:
        return raw.post(path, content=content, headers=headers)


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        (b'{"model": "openai/gpt-4o-mini"}', ["body", "messages"]),
        (b'{"model": "openai/gpt-4o-mini", "messages": "hi"}', ["body", "messages"]),
        (
            b'{"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "x"}], "temperature": 9}',
            ["body", "temperature"],
        ),
        (b'{"model": 5, "messages": [{"role": "user", "content": "x"}]}', ["body", "model"]),
    ],
)
def test_gateway_rejects_invalid_bodies_with_422(gateway: Any, body: bytes, loc: Any) -> None:
    response = raw_post(gateway, CHAT, body)
    assert response.status_code == 422
    payload = response.json()
    assert payload["error"]["code"] == "validation_error"
    assert any(d["loc"][: len(loc)] == loc for d in payload["error"]["details"]), payload
    assert payload["request_id"] == response.headers["x-request-id"]


def test_gateway_rejects_bodies_over_32_mib_with_413(gateway: Any) -> None:
    response = raw_post(gateway, CHAT, b'{"x": "' + b"a" * (32 * MiB) + b'"}')
    assert response.status_code == 413


async def test_invalid_values_sent_anyway_map_to_unprocessable_entity(harness: Harness, gateway: Any) -> None:
    client = harness.client(gateway.base_url)
    with pytest.raises(meshapi.UnprocessableEntityError) as info:
        await resolve(
            client.chat.completions.create(model=MODEL, messages=MESSAGES, extra_body={"messages": "hi"})
        )
    assert info.value.error_code == "validation_error" and info.value.details
    assert info.value.details[0]["loc"][:2] == ["body", "messages"]
    assert info.value.request_id and info.value.request_id in str(info.value)
    assert len(gateway.requests.filter(path=CHAT)) == 1  # a 422 is not retried
    await harness.assert_released(client)
