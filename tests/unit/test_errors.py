"""The error tree: one table for status -> class/code, body shapes, pickling, presentation."""

from __future__ import annotations

import copy
import pickle
from typing import Any, Dict, Optional, Type

import httpx
import pytest

import meshapi
from meshapi._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    MeshAPIError,
    NotFoundError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    RealtimeError,
    StreamEventError,
    StreamInterruptedError,
    UnprocessableEntityError,
    error_from_response,
)


def response(
    status: int,
    body: Any = None,
    *,
    content_type: str = "application/json",
    headers: Optional[Dict[str, str]] = None,
    raw: Optional[bytes] = None,
) -> httpx.Response:
    h = {"content-type": content_type, "x-request-id": "req_header", **(headers or {})}
    if raw is None:
        import json

        raw = b"" if body is None else json.dumps(body).encode()
    return httpx.Response(status, headers=h, content=raw, request=httpx.Request("GET", "http://x/v1/y"))


@pytest.mark.parametrize(
    ("status", "cls", "code"),
    [
        (400, BadRequestError, "invalid_request"),
        (401, AuthenticationError, "unauthorized"),
        (402, PaymentRequiredError, "spend_limit_exceeded"),
        (403, PermissionDeniedError, "forbidden"),
        (404, NotFoundError, "not_found"),
        (409, ConflictError, "conflict"),
        (422, UnprocessableEntityError, "validation_error"),
        (429, RateLimitError, "rate_limit_exceeded"),
        (500, InternalServerError, "upstream_error"),
        (502, InternalServerError, "upstream_error"),
        (503, InternalServerError, "upstream_error"),
        (504, InternalServerError, "upstream_error"),
        (501, InternalServerError, "upstream_error"),
        (418, APIStatusError, "http_error"),
        (413, APIStatusError, "http_error"),
    ],
)
def test_status_without_envelope(status: int, cls: Type[MeshAPIError], code: str) -> None:
    err = error_from_response(response(status, {"detail": "Not here"}))
    assert type(err) is cls
    assert isinstance(err, MeshAPIError) and isinstance(err, APIStatusError)
    assert (err.status, err.error_code, err.request_id) == (status, code, "req_header")
    assert err.message == "Not here"


def test_full_envelope() -> None:
    body = {
        "error": {
            "code": "rate_limit_exceeded",
            "message": "RPM limit of 60 req/min exceeded.",
            "retry_after_seconds": 23,
            "details": [{"loc": ["body", "x"]}],
            "provider_error": {"provider": "openai", "status": 429, "message": "slow"},
        },
        "request_id": "req_body",
    }
    err = error_from_response(response(429, body))
    assert isinstance(err, RateLimitError)
    assert err.error_code == "rate_limit_exceeded"
    assert err.request_id == "req_body"
    assert err.retry_after_seconds == 23
    assert err.details == [{"loc": ["body", "x"]}]
    assert err.provider_error == {"provider": "openai", "status": 429, "message": "slow"}
    assert str(err) == "RPM limit of 60 req/min exceeded. (request id: req_body)"
    assert err.body == body


@pytest.mark.parametrize(
    ("kwargs", "code", "message"),
    [
        ({"body": {"error": "text only"}}, "invalid_request", "text only"),
        ({"body": [1, 2]}, "invalid_request", "HTTP 400"),
        ({"body": {"error": {"code": "bad_thing"}}}, "bad_thing", "HTTP 400"),
        (
            {"body": {"detail": [{"loc": ["body"], "msg": "x"}]}},
            "invalid_request",
            "Request validation failed.",
        ),
        (
            {"raw": b"<html>too big</html>", "content_type": "text/html"},
            "parse_error",
            "<html>too big</html>",
        ),
        ({"raw": b"{not json", "content_type": "application/json"}, "parse_error", "{not json"),
        ({"raw": b"", "content_type": "application/json"}, "invalid_request", "HTTP 400"),
        (
            {
                "body": {"error": {"code": "x_prob", "message": "problem"}},
                "content_type": "application/problem+json",
            },
            "x_prob",
            "problem",
        ),
        ({"body": {"error": {"code": "c", "message": "m"}, "request_id": None}}, "c", "m"),
    ],
)
def test_body_shapes_never_break_mapping(kwargs: Dict[str, Any], code: str, message: str) -> None:
    err = error_from_response(response(400, **kwargs))
    assert (err.error_code, err.message) == (code, message)
    assert err.request_id == "req_header"  # a null request_id in the body does not erase the header's


def test_compare_all_models_failed_nested_detail() -> None:
    body = {
        "detail": {
            "error": {
                "code": "all_models_failed",
                "message": "every model failed",
                "details": [{"model": "a"}],
            }
        }
    }
    err = error_from_response(response(502, body))
    assert isinstance(err, InternalServerError)
    assert (err.error_code, err.message, err.details) == (
        "all_models_failed",
        "every model failed",
        [{"model": "a"}],
    )


def test_retry_after_header_fills_retry_after_seconds() -> None:
    err = error_from_response(
        response(503, {"error": {"code": "x", "message": "y"}}, headers={"retry-after": "7"})
    )
    assert err.retry_after_seconds == 7


def test_long_text_body_is_truncated() -> None:
    err = error_from_response(response(500, raw=b"x" * 5000, content_type="text/plain"))
    assert len(err.message) == 500


@pytest.mark.parametrize(
    "err",
    [
        MeshAPIError(
            "m",
            status=400,
            error_code="c",
            request_id="r",
            details=[1],
            provider_error={"a": 1},
            retry_after_seconds=3,
        ),
        RateLimitError(
            "slow", status=429, error_code="rate_limit_exceeded", request_id="req_1", retry_after_seconds=2
        ),
        APITimeoutError("timed out"),
        APIConnectionError("refused"),
        StreamInterruptedError("cut", request_id="req_2"),
        StreamEventError("boom", error_code="gateway_timeout", request_id="req_3", provider_error={"p": 1}),
        RealtimeError("idle_timeout", "Session idle", "x", "req_4", close_code=1011),
        meshapi.InvalidParamsError("bad", details=[{"loc": ["a"]}]),
        error_from_response(
            response(404, {"error": {"code": "not_found", "message": "no"}, "request_id": "req_5"})
        ),
    ],
)
def test_errors_pickle_and_copy(err: MeshAPIError) -> None:
    for clone in (pickle.loads(pickle.dumps(err)), copy.copy(err), copy.deepcopy(err)):
        assert type(clone) is type(err)
        assert str(clone) == str(err)
        assert repr(clone) == repr(err)
        for attr in (
            "status",
            "error_code",
            "request_id",
            "details",
            "provider_error",
            "retry_after_seconds",
        ):
            assert getattr(clone, attr) == getattr(err, attr)
    if isinstance(err, RealtimeError):
        clone = pickle.loads(pickle.dumps(err))
        assert isinstance(clone, RealtimeError)
        assert (clone.code, clone.param, clone.close_code) == (err.code, err.param, err.close_code)


def test_upstream_constructor_and_attributes() -> None:
    err = MeshAPIError("boom", status=500, error_code="upstream_error", request_id="")
    assert str(err) == "boom"
    assert err.details == [] and err.provider_error is None and err.retry_after_seconds is None
    assert repr(err) == "MeshAPIError(status=500, error_code='upstream_error', request_id='', message='boom')"
    cut = MeshAPIError.stream_interrupted("reset")
    assert isinstance(cut, StreamInterruptedError)
    assert (cut.status, cut.error_code, str(cut)) == (0, "stream_interrupted", "Stream interrupted: reset")
    rt = RealtimeError("insufficient_quota", "no money")
    assert str(rt) == "realtime[insufficient_quota]: no money"
    assert (rt.code, rt.error_code, rt.status, rt.request_id, rt.param) == (
        "insufficient_quota",
        "insufficient_quota",
        0,
        "",
        None,
    )


def test_from_response_classmethod_is_typed() -> None:
    err = MeshAPIError.from_response(response(401, {"error": {"code": "unauthorized", "message": "no key"}}))
    assert isinstance(err, AuthenticationError)


def test_every_public_error_is_exported_and_a_mesh_error() -> None:
    for name in meshapi._ERRORS:
        cls = getattr(meshapi, name)
        assert issubclass(cls, MeshAPIError)
        assert name in meshapi.__all__


# --- issue 13: errors as 0.1.10 defines them ----------------------------------------------------------


class FakeResponse:
    """What tests written for upstream pass to ``MeshAPIError.from_response``: not an httpx response."""

    def __init__(self, status_code: int, body: Any = None, *, text: str = "", headers: Any = None) -> None:
        self.status_code = status_code
        self._body = body
        self.text = text or ("" if body is None else __import__("json").dumps(body))
        self.headers = headers if headers is not None else {"Content-Type": "application/json"}

    def json(self) -> Any:
        if self._body is None:
            raise ValueError("no JSON")
        return self._body


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, "invalid_request"),
        (401, "unauthorized"),
        (402, "spend_limit_exceeded"),
        (403, "forbidden"),
        (404, "not_found"),
        (409, "conflict"),
        (422, "validation_error"),
        (429, "rate_limit_exceeded"),
        (500, "upstream_error"),
        (502, "upstream_error"),
        (503, "upstream_error"),
        (504, "upstream_error"),
        (418, "http_error"),
        (507, "upstream_error"),
    ],
)
def test_from_response_accepts_any_response_like_object(status: int, code: str) -> None:
    err = MeshAPIError.from_response(FakeResponse(status, {"detail": "Model not found"}))
    assert isinstance(err, APIStatusError) and err.status == status
    assert err.error_code == code and err.message == "Model not found"


def test_from_response_mock_with_envelope_and_header_request_id() -> None:
    body = {"error": {"code": "insufficient_credits", "message": "Top up", "details": [1]}}
    err = MeshAPIError.from_response(
        FakeResponse(402, body, headers={"content-type": "application/json", "X-Request-Id": "req_mock"})
    )
    assert isinstance(err, PaymentRequiredError)
    assert (err.error_code, err.message, err.request_id, err.details) == (
        "insufficient_credits",
        "Top up",
        "req_mock",
        [1],
    )
    assert err.response is not None and err.response.status_code == 402


@pytest.mark.parametrize(
    ("content_type", "text"),
    [("text/html", "<html>Bad gateway</html>"), ("text/plain", "upstream connect error"), (None, "oops")],
)
def test_non_json_error_body_is_a_parse_error(content_type: Optional[str], text: str) -> None:
    headers = {"content-type": content_type} if content_type else {}
    err = MeshAPIError.from_response(FakeResponse(502, None, text=text, headers=headers))
    assert isinstance(err, InternalServerError)
    assert err.error_code == "parse_error" and err.message == text and err.status == 502
    real = error_from_response(response(503, raw=text.encode(), content_type=content_type or "text/plain"))
    assert real.error_code == "parse_error" and real.message == text


def test_retry_after_seconds_agrees_with_the_parser() -> None:
    import email.utils
    import time as _time

    when = email.utils.formatdate(_time.time() + 30, usegmt=True)
    err = error_from_response(
        response(429, {"error": {"code": "rate_limit_exceeded"}}, headers={"retry-after": when})
    )
    assert err.retry_after_seconds is not None and 28 <= err.retry_after_seconds <= 30
    err = error_from_response(response(429, {}, headers={"retry-after-ms": "1500"}))
    assert err.retry_after_seconds == 1.5
    err = error_from_response(response(429, {"error": {"retry_after_seconds": 12}}))
    assert err.retry_after_seconds == 12 and isinstance(err.retry_after_seconds, int)
