"""Error codes a program branches on: their classes, ``provider_code``, mid-stream frames, pickling."""

from __future__ import annotations

import copy
import json
import pickle
from typing import Any, Dict, Optional, Type

import httpx
import pytest

import meshapi
from meshapi import AsyncMeshAPI, MeshAPI
from meshapi._errors import (
    APIStatusError,
    BadRequestError,
    ContentPolicyViolationError,
    ContextWindowExceededError,
    InternalServerError,
    InvalidAPIVersionError,
    MeshAPIError,
    ModelCapabilityNotSupportedError,
    ModelNotFoundError,
    NotFoundError,
    StreamEventError,
    UnprocessableEntityError,
    class_for,
    error_from_response,
)

CODE_CLASSES = {
    "context_window_exceeded": ContextWindowExceededError,
    "model_capability_not_supported": ModelCapabilityNotSupportedError,
    "content_policy_violation": ContentPolicyViolationError,
    "model_not_found": ModelNotFoundError,
    "invalid_api_version": InvalidAPIVersionError,
}


def response(status: int, error: Dict[str, Any], request_id: Optional[str] = "req_body") -> httpx.Response:
    body = {"error": error, "request_id": request_id}
    return httpx.Response(
        status,
        headers={"content-type": "application/json", "x-request-id": "req_header"},
        content=json.dumps(body).encode(),
        request=httpx.Request("POST", "http://x/v1/chat/completions"),
    )


@pytest.mark.parametrize(
    ("status", "code", "cls", "parent"),
    [
        (400, "context_window_exceeded", ContextWindowExceededError, BadRequestError),
        (400, "model_capability_not_supported", ModelCapabilityNotSupportedError, BadRequestError),
        (400, "content_policy_violation", ContentPolicyViolationError, BadRequestError),
        (404, "model_not_found", ModelNotFoundError, NotFoundError),
        (400, "invalid_api_version", InvalidAPIVersionError, BadRequestError),
        # a code that arrives with another status keeps that status's class (existing excepts hold)
        (413, "context_window_exceeded", APIStatusError, APIStatusError),
        (422, "context_window_exceeded", UnprocessableEntityError, UnprocessableEntityError),
        (502, "model_capability_not_supported", InternalServerError, InternalServerError),
        (400, "model_not_found", BadRequestError, BadRequestError),
        (400, "invalid_request", BadRequestError, BadRequestError),
    ],
)
def test_code_classes_stay_under_their_status_class(
    status: int, code: str, cls: Type[APIStatusError], parent: Type[APIStatusError]
) -> None:
    err = error_from_response(response(status, {"code": code, "message": "m"}))
    assert type(err) is cls and isinstance(err, parent)
    assert (err.status, err.error_code, err.request_id, err.message) == (status, code, "req_body", "m")
    assert class_for(status, code) is cls


def test_code_classes_are_exported_and_documented() -> None:
    for cls in CODE_CLASSES.values():
        assert getattr(meshapi, cls.__name__) is cls
        assert cls.__name__ in meshapi.__all__ and cls.__name__ in meshapi._ERRORS
        assert cls.__name__ in (meshapi._errors.__doc__ or "")
        assert cls.__name__ in meshapi._errors.__all__


def test_provider_code_from_the_body() -> None:
    err = error_from_response(
        response(
            400,
            {
                "code": "context_window_exceeded",
                "message": "This model's maximum context length is 8192 tokens.",
                "provider_code": "context_window_exceeded",
            },
        )
    )
    assert isinstance(err, ContextWindowExceededError)
    assert err.provider_code == "context_window_exceeded"
    timeout = error_from_response(
        response(504, {"code": "gateway_timeout", "message": "slow", "provider_code": "provider_timeout"})
    )
    assert type(timeout) is InternalServerError and timeout.provider_code == "provider_timeout"


@pytest.mark.parametrize("error", [{"code": "upstream_error"}, {"code": "x", "provider_code": 7}, {}])
def test_provider_code_is_none_when_absent_or_not_a_string(error: Dict[str, Any]) -> None:
    assert error_from_response(response(500, error)).provider_code is None
    assert MeshAPIError("m", status=0, error_code="c", request_id="").provider_code is None


@pytest.mark.parametrize(
    "err",
    [
        error_from_response(
            response(400, {"code": "context_window_exceeded", "message": "m", "provider_code": "pc"})
        ),
        error_from_response(response(404, {"code": "model_not_found", "message": "gone"})),
        error_from_response(
            response(400, {"code": "invalid_api_version", "message": "v", "supported_versions": ["2026-08"]})
        ),
        StreamEventError(
            "boom", error_code="gateway_timeout", request_id="r", provider_code="provider_timeout"
        ),
    ],
)
def test_new_errors_pickle_and_copy_with_provider_code(err: MeshAPIError) -> None:
    for clone in (pickle.loads(pickle.dumps(err)), copy.copy(err), copy.deepcopy(err)):
        assert type(clone) is type(err) and str(clone) == str(err)
        assert (clone.provider_code, clone.error_code, clone.status) == (
            err.provider_code,
            err.error_code,
            err.status,
        )
    if isinstance(err, InvalidAPIVersionError):
        assert pickle.loads(pickle.dumps(err)).supported_versions == ["2026-08"]


def _stream_transport(frame: Dict[str, Any]) -> httpx.MockTransport:
    body = f"data: {json.dumps(frame)}\n\ndata: [DONE]\n\n".encode()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, headers={"content-type": "text/event-stream", "x-request-id": "req_stream"}, content=body
        )

    return httpx.MockTransport(handler)


FRAME_ERROR = {
    "code": "upstream_error",
    "message": "provider fell over",
    "provider_code": "provider_overloaded",
}


@pytest.mark.parametrize(
    ("frame", "request_id"),
    [
        ({"error": FRAME_ERROR, "request_id": "req_frame"}, "req_frame"),
        ({"error": FRAME_ERROR}, "req_stream"),
        ({"error": FRAME_ERROR, "request_id": ""}, "req_stream"),
    ],
)
async def test_mid_stream_error_frame_carries_provider_code_and_request_id(
    frame: Dict[str, Any], request_id: str
) -> None:
    kwargs: Dict[str, Any] = {"base_url": "http://gw.test", "token": "rsk_test", "max_retries": 0}
    messages = [{"role": "user", "content": "hi"}]
    http_client = httpx.Client(transport=_stream_transport(frame))
    with MeshAPI(**kwargs, http_client=http_client) as client, pytest.raises(StreamEventError) as info:
        for _ in client.chat.completions.create(model="openai/gpt-4o-mini", messages=messages, stream=True):
            pass
    assert (info.value.provider_code, info.value.request_id) == ("provider_overloaded", request_id)
    transport = _stream_transport(frame)
    async with AsyncMeshAPI(**kwargs, http_client=httpx.AsyncClient(transport=transport)) as aclient:
        with pytest.raises(StreamEventError) as ainfo:
            stream = await aclient.chat.completions.create(
                model="openai/gpt-4o-mini", messages=messages, stream=True
            )
            async for _ in stream:
                pass
    assert (ainfo.value.provider_code, ainfo.value.request_id) == ("provider_overloaded", request_id)


def test_a_call_raises_the_code_class_sync() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return response(400, {"code": "model_capability_not_supported", "message": "no flex"})

    calls = []

    def counting(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return handler(request)

    client = MeshAPI(
        base_url="http://gw.test",
        token="rsk_test",
        http_client=httpx.Client(transport=httpx.MockTransport(counting)),
    )
    with client, pytest.raises(ModelCapabilityNotSupportedError) as info:
        client.chat.completions.create(
            model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "x"}]
        )
    assert isinstance(info.value, BadRequestError) and len(calls) == 1  # a 400: never retried
