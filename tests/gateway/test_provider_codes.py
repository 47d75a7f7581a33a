"""``provider_code`` on errors from a (simulated) provider: the fault plan, provider faults, context windows."""

from __future__ import annotations

from typing import Iterator

import httpx
import pytest

from meshapi_gateway import Gateway
from meshapi_gateway.errors import CODE_FOR_PROVIDER_CODE, PROVIDER_CODE_FOR_CODE

from .conftest import assert_envelope, chat_body, sse_json

CHAT = "/v1/chat/completions"


@pytest.fixture(autouse=True)
def _clean(gw: Gateway) -> Iterator[None]:
    yield
    gw.faults.clear()
    gw.provider_faults.clear()


@pytest.mark.parametrize(
    ("status", "provider_code", "code"),
    [
        (400, "context_window_exceeded", "context_window_exceeded"),
        (400, "content_policy_violation", "content_policy_violation"),
        (504, "provider_timeout", "gateway_timeout"),
        (502, "provider_overloaded", "upstream_error"),
        (429, "monthly_quota_exceeded", "upstream_rate_limit_error"),
        (401, "invalid_auth", "upstream_auth_error"),
        (500, "not_a_documented_code", "upstream_error"),  # unknown: the status's code
    ],
)
def test_status_fault_with_provider_code(
    gw: Gateway, client: httpx.Client, status: int, provider_code: str, code: str
) -> None:
    gw.faults.add(CHAT, status=status, provider_code=provider_code)
    body = assert_envelope(client.post(CHAT, json=chat_body()), status, code)
    assert body["error"] == {
        "code": code,
        "message": f"Injected fault: HTTP {status}.",
        "provider_code": provider_code,
    }


def test_status_fault_without_provider_code_sends_none(gw: Gateway, client: httpx.Client) -> None:
    gw.faults.add(CHAT, status=502)
    body = assert_envelope(client.post(CHAT, json=chat_body()), 502, "upstream_error")
    assert "provider_code" not in body["error"]


def test_stream_error_frame_with_provider_code(gw: Gateway, client: httpx.Client) -> None:
    gw.faults.add(CHAT, error_event_after=1, error_code="gateway_timeout", provider_code="provider_timeout")
    response = client.post(CHAT, json=chat_body(stream=True))
    events = sse_json(response.content)
    assert events[-1] == (None, "[DONE]")
    assert events[1][1] == {
        "error": {
            "code": "gateway_timeout",
            "message": "Injected fault: the upstream stream failed.",
            "provider_code": "provider_timeout",
        },
        "request_id": response.headers["x-request-id"],
    }


def test_admin_route_takes_provider_code(gw: Gateway) -> None:
    admin = {"Authorization": f"Bearer {gw.admin_token}"}
    spec = {"route": CHAT, "status": 400, "provider_code": "invalid_input"}
    assert httpx.post(gw.base_url + "/_admin/faults", json=spec, headers=admin).status_code == 200
    (fault,) = gw.faults.pending()
    assert (fault.status, fault.provider_code) == (400, "invalid_input")


@pytest.mark.parametrize(
    ("error_code", "provider_code"),
    [
        ("upstream_error", "internal_provider_error"),
        ("gateway_timeout", "provider_timeout"),
        ("insufficient_credits", "insufficient_credits"),
        ("upstream_rate_limit_error", "rate_limit_exceeded"),
        ("provider_not_available", None),  # the gateway's own verdict: no provider code
    ],
)
def test_provider_faults_report_the_paired_provider_code(
    gw: Gateway, client: httpx.Client, error_code: str, provider_code: str
) -> None:
    gw.provider_faults.add("openai/gpt-4o-mini", status=502, error_code=error_code)
    error = assert_envelope(client.post(CHAT, json=chat_body()), 502, error_code)["error"]
    assert error.get("provider_code") == provider_code
    gw.provider_faults.add("openai/gpt-4o-mini", status=502, provider_code="bad_response")
    assert client.post(CHAT, json=chat_body()).json()["error"]["provider_code"] == "bad_response"


def test_pair_tables_agree() -> None:
    for code, provider_code in PROVIDER_CODE_FOR_CODE.items():
        assert CODE_FOR_PROVIDER_CODE[provider_code] == code


@pytest.mark.parametrize("field", ["max_tokens", "max_completion_tokens"])
def test_context_window_exceeded(client: httpx.Client, field: str) -> None:
    prompt = client.post(CHAT, json=chat_body("Hi there", max_tokens=1)).json()["usage"]["prompt_tokens"]
    fits = client.post(CHAT, json=chat_body("Hi there", **{field: 128000 - prompt}))
    assert fits.status_code == 200, fits.text
    for stream in (False, True):
        over = client.post(CHAT, json=chat_body("Hi there", stream=stream, **{field: 128001 - prompt}))
        body = assert_envelope(over, 400, "context_window_exceeded")
        assert body["error"] == {
            "code": "context_window_exceeded",
            "message": f"This model's maximum context length is 128000 tokens; the request has {prompt} "
            f"prompt tokens and asks for {128001 - prompt} output tokens.",
            "param": "messages",
            "provider_code": "context_window_exceeded",
        }
