"""The first event of a stream, judged before anything reaches the caller: ``FirstEventProbe`` (pure), the
codes that retry like a status (``frame_status``), and ``RetryState.after_frame``."""

from __future__ import annotations

from typing import List, Optional

import pytest

from meshapi._core.retry import RetrySchedule, RetryState, frame_status
from meshapi._core.stream import FirstEventProbe

OVERLOADED = b'data: {"error": {"code": "provider_overloaded", "message": "busy"}, "request_id": "req_f"}\n\n'
CONTENT = b'data: {"id": "c", "choices": [{"index": 0, "delta": {"content": "Hi"}}]}\n\n'


def probe_of(pieces: List[bytes]) -> FirstEventProbe:
    probe = FirstEventProbe("req_header")
    for piece in pieces:
        probe.feed(piece)
        if probe.decided:
            break
    return probe


@pytest.mark.parametrize("cut", range(1, len(OVERLOADED)))
def test_an_error_frame_first_cut_anywhere(cut: int) -> None:
    probe = probe_of([b": keep-alive\n\n" + OVERLOADED[:cut], OVERLOADED[cut:]])
    assert probe.decided and probe.error is not None
    assert (probe.error.error_code, probe.error.request_id) == ("provider_overloaded", "req_f")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (CONTENT + OVERLOADED, None),  # content first: not judged here
        (b'data: {"model": "a/b", "error": {"code": "upstream_error"}}\n\n', None),  # one compare model's
        (b'data: {"model": "a/b", "error": "down"}\n\n', None),
        (b"data: {not json\n\n", None),  # the stream's own decoder reports it
        (
            b'event: error\ndata: {"code": "rate_limit_exceeded", "message": "slow down"}\n\n',
            "rate_limit_exceeded",
        ),
        (b'data: {"type": "error", "code": "gateway_timeout"}\n\n', "gateway_timeout"),
    ],
)
def test_what_the_first_event_is(body: bytes, code: Optional[str]) -> None:
    probe = probe_of([body])
    assert probe.decided
    assert (probe.error.error_code if probe.error is not None else None) == code


def test_comments_alone_decide_nothing() -> None:
    probe = probe_of([b": ping\n\n", b"\n", b": keep-alive\n\n"])
    assert not probe.decided and probe.error is None


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("rate_limit_exceeded", 429),
        ("provider_overloaded", 503),
        ("upstream_error", 502),
        ("gateway_timeout", 504),
        ("content_policy_violation", 0),
        ("invalid_request", 0),
    ],
)
def test_frame_codes_and_the_retry_state(code: str, status: int) -> None:
    assert frame_status(code) == status
    state = RetryState(RetrySchedule(max_retries=2, jitter=0.0), method="POST")
    delay = state.after_frame(code, {}, {"error": {"code": code, "retry_after_seconds": 2}})
    assert state.reason == "stream-error"
    if status:
        assert (delay, state.status, state.retries) == (2.0, status, 1)  # the frame's hint is the wait
    else:
        assert (delay, state.retries) == (None, 0)
