"""The one JSON-frame decoder (``_core/frames.py``) every SSE endpoint uses, as a table."""

from __future__ import annotations

from typing import Any, Optional

import pytest

import meshapi
from meshapi._core.frames import DONE, decode_frame, validate_frame
from meshapi._core.sse import ServerSentEvent


def event(data: str, name: Optional[str] = None) -> ServerSentEvent:
    return ServerSentEvent(data=data, event=name)


@pytest.mark.parametrize(
    ("data", "name", "kwargs", "expected"),
    [
        ("[DONE]", None, {}, DONE),
        ("  [DONE] ", None, {}, DONE),
        ("", None, {}, None),
        ("   ", None, {}, None),
        ('{"a": 1}', None, {}, {"a": 1}),
        ('{"a": 1}', "meta", {}, {"a": 1, "event": "meta"}),
        ('{"a": 1}', "meta", {"copy_event_name": False}, {"a": 1}),
        ('{"error": null, "a": 1}', None, {}, {"error": None, "a": 1}),
        ('{"error": "model x failed"}', None, {"string_errors_fatal": False}, {"error": "model x failed"}),
    ],
)
def test_frames_that_deliver(data: str, name: Optional[str], kwargs: Any, expected: Any) -> None:
    assert decode_frame(event(data, name), "req_s", **kwargs) == expected


@pytest.mark.parametrize(
    ("data", "name", "kwargs", "code", "request_id"),
    [
        ('{"error": {"code": "gateway_timeout", "message": "slow"}}', None, {}, "gateway_timeout", "req_s"),
        ('{"error": {"code": "x", "message": "m"}, "request_id": "req_frame"}', None, {}, "x", "req_frame"),
        ('{"error": "text"}', None, {}, "upstream_error", "req_s"),
        ('{"error": {"message": "m"}}', None, {"string_errors_fatal": False}, "upstream_error", "req_s"),
        ('{"code": "rate_limited", "message": "m"}', "error", {}, "rate_limited", "req_s"),
        ('{"type": "error", "code": "bad", "message": "m"}', None, {}, "bad", "req_s"),
    ],
)
def test_error_frames_raise(data: str, name: Optional[str], kwargs: Any, code: str, request_id: str) -> None:
    with pytest.raises(meshapi.StreamEventError) as info:
        decode_frame(event(data, name), "req_s", **kwargs)
    assert info.value.error_code == code and info.value.request_id == request_id


@pytest.mark.parametrize("data", ["{not json", "[1, 2]", '"text"'])
def test_frames_that_are_not_json_objects(data: str) -> None:
    with pytest.raises(meshapi.APIResponseValidationError) as info:
        decode_frame(event(data), "req_s")
    assert info.value.request_id == "req_s"


def test_validation_errors_carry_the_stream_request_id() -> None:
    with pytest.raises(meshapi.APIResponseValidationError) as info:
        validate_frame(meshapi.ChatCompletionChunk, {"id": "c"}, "req_s")
    assert info.value.request_id == "req_s" and "ChatCompletionChunk" in str(info.value)
