"""Auth, request ids, error envelopes, size limit, validation, rate limits and the model catalog."""

from __future__ import annotations

import re

import httpx
import pytest

from meshapi_gateway import Gateway, serve

from .conftest import TOKEN, assert_envelope, chat_body

REQUEST_ID = re.compile(r"^req_[0-9A-HJKMNP-TV-Z]{26}$")


def test_missing_and_unknown_tokens_are_401(gw: Gateway) -> None:
    with httpx.Client(base_url=gw.base_url, timeout=10) as anonymous:
        assert_envelope(anonymous.get("/v1/models"), 401, "unauthorized")
        bad = anonymous.post(
            "/v1/chat/completions",
            json=chat_body(),
            headers={"Authorization": "Bearer rsk_01J9Z3K6T8V2M4N5P7Q8R9S0TW"},
        )
        assert_envelope(bad, 401, "unauthorized")
        basic = anonymous.get("/v1/models", headers={"Authorization": f"Basic {TOKEN}"})
        assert_envelope(basic, 401, "unauthorized")


def test_every_response_has_a_request_id(client: httpx.Client) -> None:
    ok = client.get("/v1/models")
    assert REQUEST_ID.match(ok.headers["x-request-id"])
    other = client.get("/v1/models")
    assert other.headers["x-request-id"] != ok.headers["x-request-id"]
    missing = client.get("/v1/nothing-here")
    assert_envelope(missing, 404, "not_found")
    wrong_method = client.delete("/v1/models/free")
    assert_envelope(wrong_method, 405, "method_not_allowed")


def test_an_unknown_route_is_a_404_naming_the_method_and_path(client: httpx.Client) -> None:
    doubled = client.post("/v1/v1/chat/completions", json={})  # what base_url="http://host/v1" used to send
    assert_envelope(doubled, 404, "not_found")
    assert doubled.json()["error"]["message"] == "No route for POST /v1/v1/chat/completions."
    long_path = "/v1/" + "x" * 300
    message = client.get(long_path).json()["error"]["message"]
    assert message == f"No route for GET {long_path[:200]}[...]."


def test_inbound_request_id_is_reused(client: httpx.Client) -> None:
    response = client.post(
        "/v1/chat/completions", json={"messages": "nope"}, headers={"X-Request-Id": "req_mine"}
    )
    body = assert_envelope(response, 422, "validation_error")
    assert body["request_id"] == "req_mine"


def test_validation_errors_use_pydantic_style_details(client: httpx.Client) -> None:
    response = client.post(
        "/v1/chat/completions",
        json={
            "model": "openai/gpt-4o-mini",
            "temperature": 3.5,
            "max_tokens": 0,
            "messages": [{"content": "x"}],
        },
    )
    details = assert_envelope(response, 422, "validation_error")["error"]["details"]
    by_loc = {tuple(d["loc"]): d for d in details}
    assert by_loc[("body", "temperature")]["type"] == "less_than_equal"
    assert by_loc[("body", "temperature")]["ctx"] == {"le": "2"}
    assert by_loc[("body", "temperature")]["input"] == 3.5
    assert by_loc[("body", "max_tokens")]["type"] == "greater_than_equal"
    assert by_loc[("body", "messages", 0, "role")]["type"] == "missing"
    assert by_loc[("body", "messages", 0, "role")]["msg"] == "Field required"
    for item in details:
        assert all(isinstance(v, str) for v in item.get("ctx", {}).values())


def test_malformed_json_and_missing_body_are_422(client: httpx.Client) -> None:
    bad = client.post(
        "/v1/chat/completions", content=b'{"model": ', headers={"Content-Type": "application/json"}
    )
    details = assert_envelope(bad, 422, "validation_error")["error"]["details"]
    assert details[0]["type"] == "json_invalid" and details[0]["loc"][0] == "body"
    empty = client.post("/v1/chat/completions")
    assert_envelope(empty, 422, "validation_error")
    not_object = client.post("/v1/chat/completions", json=[1, 2])
    assert_envelope(not_object, 422, "validation_error")


def test_streaming_is_decided_by_the_body_not_accept(client: httpx.Client) -> None:
    response = client.post(
        "/v1/chat/completions", json=chat_body(stream=False), headers={"Accept": "text/event-stream"}
    )
    assert response.headers["content-type"] == "application/json"
    streamed = client.post(
        "/v1/chat/completions", json=chat_body(stream=True), headers={"Accept": "application/json"}
    )
    assert streamed.headers["content-type"] == "text/event-stream"


def test_unknown_model_is_404_model_not_found(client: httpx.Client) -> None:
    response = client.post("/v1/chat/completions", json=chat_body() | {"model": "acme/unknown-1"})
    assert_envelope(response, 404, "model_not_found")
    capability = client.post(
        "/v1/chat/completions", json=chat_body() | {"model": "openai/text-embedding-3-small"}
    )
    assert_envelope(capability, 400, "model_capability_not_supported")


def test_bodies_over_32_mib_get_an_html_413_without_request_id(client: httpx.Client) -> None:
    big = b'{"x": "' + b"a" * (32 * 1024 * 1024) + b'"}'
    response = client.post("/v1/chat/completions", content=big, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert "x-request-id" not in response.headers
    assert b"413" in response.content


def test_rate_limits_answer_429_with_retry_after() -> None:
    with (
        serve([TOKEN], rpm=2) as limited,
        httpx.Client(
            base_url=limited.base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
        ) as c,
    ):
        assert c.get("/v1/models").status_code == 200
        assert c.get("/v1/models").status_code == 200
        response = c.get("/v1/models")
        body = assert_envelope(response, 429, "rate_limit_exceeded")
        assert body["error"]["message"] == "RPM limit of 2 req/min exceeded."
        seconds = int(response.headers["retry-after"])
        assert 1 <= seconds <= 60
        assert body["error"]["retry_after_seconds"] == seconds
    with (
        serve([TOKEN], rpd=1) as daily,
        httpx.Client(base_url=daily.base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10) as c,
    ):
        assert c.get("/v1/models").status_code == 200
        body = assert_envelope(c.get("/v1/models"), 429, "rate_limit_exceeded")
        assert body["error"]["message"] == "RPD limit of 1 req/day exceeded."


REQUIRED_MODELS = [
    "openai/gpt-4o-mini",
    "openai/gpt-4o",
    "openai/gpt-5-nano",
    "openai/o4-mini",
    "anthropic/claude-haiku-4.5",
    "anthropic/claude-3.5-haiku",
    "anthropic/claude-sonnet-4.5",
    "google/gemini-2.5-flash",
    "meta-llama/llama-3.3-70b-instruct",
    "mistralai/mistral-small",
    "deepseek/deepseek-chat",
    "openai/text-embedding-3-small",
    "openai/text-embedding-3-large",
    "openai/gpt-image-1",
    "openai/gpt-realtime",
    "openai/gpt-realtime-mini",
    "openai/gpt-4o-realtime-preview",
]


def test_catalog_lists_are_bare_arrays_with_pricing(client: httpx.Client) -> None:
    models = client.get("/v1/models").json()
    assert isinstance(models, list)
    ids = {m["id"] for m in models}
    assert set(REQUIRED_MODELS) <= ids
    for model in models:
        assert isinstance(model["name"], str) and isinstance(model["is_free"], bool)
        pricing = model["pricing"]
        for key in ("prompt_usd_per_1k", "completion_usd_per_1k"):
            assert isinstance(pricing[key], str)
            float(pricing[key])
        for key in ("image_usd_per_image", "discount_pct", "prompt_usd_per_1k_discounted"):
            assert key in pricing
        # ids without a provider prefix (omni-moderation-latest) belong to OpenAI, as upstream
        assert model["provider"] == (model["id"].split("/")[0] if "/" in model["id"] else "openai")
        assert isinstance(model["supports_realtime"], bool)
    free = client.get("/v1/models/free").json()
    paid = client.get("/v1/models/paid").json()
    assert {m["id"] for m in free} == {
        "meta-llama/llama-3.3-70b-instruct",
        "mistralai/mistral-small",
        "omni-moderation-latest",
    }
    assert {m["id"] for m in free} | {m["id"] for m in paid} == ids
    assert client.get("/v1/models", params={"free": "true"}).json() == free
    assert client.get("/v1/models", params={"free": "false"}).json() == paid
    realtime = {m["id"] for m in models if m["supports_realtime"]}
    assert realtime == {"openai/gpt-realtime", "openai/gpt-realtime-mini", "openai/gpt-4o-realtime-preview"}


def test_get_one_model_and_unknown_model_detail(client: httpx.Client) -> None:
    one = client.get("/v1/models/openai/gpt-4o-mini")
    assert one.status_code == 200 and one.json()["id"] == "openai/gpt-4o-mini"
    missing = client.get("/v1/models/acme/none")
    assert missing.status_code == 404
    assert set(missing.json()) == {"detail"}
    assert missing.headers["x-request-id"]


@pytest.mark.parametrize("path", ["/v1/models", "/v1/templates", "/v1/files", "/v1/batches"])
def test_request_log_records_each_request(gw: Gateway, client: httpx.Client, path: str) -> None:
    gw.requests.clear()
    response = client.get(path, headers={"Idempotency-Key": "abc"})
    records = gw.requests.filter(path=path, method="GET")
    assert len(records) == 1
    record = records[0]
    assert record.request_id == response.headers["x-request-id"]
    assert record.headers["idempotency-key"] == "abc"
    assert record.status == 200 and record.json is None
