"""Retry decisions as tables: statuses, exceptions, Retry-After forms, the cap, jitter bounds."""

from __future__ import annotations

import email.utils
from typing import Dict, Optional

import httpx
import pytest

from meshapi._core.retry import (
    RetrySchedule,
    compute_delay,
    is_retryable_exception,
    is_retryable_status,
    parse_retry_after,
    validate_max_retries,
)

NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, False),
        (401, False),
        (404, False),
        (409, False),
        (422, False),
        (429, True),
        (500, False),
        (501, False),
        (502, True),
        (503, True),
        (504, True),
        (505, False),
    ],
)
def test_retryable_statuses(status: int, expected: bool) -> None:
    assert is_retryable_status(status) is expected


REQ = httpx.Request("GET", "http://x")


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (httpx.ConnectError("refused", request=REQ), True),
        (httpx.ConnectTimeout("slow", request=REQ), True),
        (httpx.ReadTimeout("slow", request=REQ), True),
        (httpx.PoolTimeout("busy", request=REQ), True),
        (httpx.ReadError("reset", request=REQ), True),
        (httpx.WriteError("broken pipe", request=REQ), True),
        (httpx.RemoteProtocolError("closed without response", request=REQ), True),
        (httpx.UnsupportedProtocol("ftp", request=REQ), False),
        (httpx.LocalProtocolError("bad header", request=REQ), False),
        (ValueError("x"), False),
    ],
)
def test_retryable_exceptions(exc: BaseException, expected: bool) -> None:
    assert is_retryable_exception(exc) is expected


def http_date(offset: float) -> str:
    return email.utils.formatdate(NOW + offset, usegmt=True)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": "2.5"}, 2.5),
        ({"retry-after": " 7 "}, 7.0),
        ({"retry-after": "0"}, 0.0),
        ({"retry-after": "-1"}, None),
        ({"retry-after": "soon"}, None),
        ({"retry-after": "nan"}, None),
        ({"retry-after": "inf"}, None),
        ({"retry-after": "1e400"}, None),
        ({"retry-after": ""}, None),
        ({"retry-after": http_date(30)}, 30.0),
        ({"retry-after": http_date(-30)}, 0.0),
        ({"retry-after": "Wed, 99 Foo 2099 99:99:99 GMT"}, None),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
        ({"retry-after-ms": "-5", "retry-after": "9"}, 9.0),
        ({"retry-after-ms": "abc", "retry-after": "9"}, 9.0),
    ],
)
def test_parse_retry_after(headers: Dict[str, str], expected: Optional[float]) -> None:
    value = parse_retry_after(httpx.Headers(headers), now=NOW)
    if expected is None:
        assert value is None
    else:
        assert value == pytest.approx(expected, abs=1.0 if "GMT" in str(headers) else 1e-9)


POLICY = RetrySchedule(max_retries=3, initial_delay=0.5, max_delay=8.0, max_retry_after=60.0, jitter=0.2)


@pytest.mark.parametrize("rand", [0.0, 0.5, 0.999999])
@pytest.mark.parametrize(("retries_done", "base"), [(0, 0.5), (1, 1.0), (2, 2.0)])
def test_backoff_is_exponential_with_bounded_jitter(rand: float, retries_done: int, base: float) -> None:
    delay = compute_delay(retries_done, None, POLICY, lambda: rand)
    assert delay is not None
    assert base * 0.8 <= delay <= base * 1.2


def test_backoff_is_capped() -> None:
    policy = RetrySchedule(max_retries=50, initial_delay=0.5, max_delay=8.0)
    for n in range(5, 50):
        delay = compute_delay(n, None, policy, lambda: 0.999)
        assert delay is not None and delay <= 8.0 * 1.2


@pytest.mark.parametrize("rand", [0.0, 0.3, 0.999999])
@pytest.mark.parametrize("hint", [0.0, 1.0, 2.0, 59.0, 60.0])
def test_retry_after_is_a_floor_that_jitter_never_undercuts(rand: float, hint: float) -> None:
    delay = compute_delay(0, hint, POLICY, lambda: rand)
    assert delay is not None
    assert hint <= delay <= max(hint * 1.2, hint)
    assert delay <= POLICY.max_retry_after


def test_huge_retry_after_is_not_waited_out() -> None:
    assert compute_delay(0, 61.0, POLICY) is None
    assert compute_delay(0, 10_000_000.0, POLICY) is None


def test_no_retry_once_exhausted() -> None:
    assert compute_delay(3, None, POLICY) is None
    assert compute_delay(3, 1.0, POLICY) is None
    assert compute_delay(0, None, RetrySchedule(max_retries=0)) is None


@pytest.mark.parametrize("value", [0, 1, 3, 100])
def test_valid_max_retries(value: int) -> None:
    assert validate_max_retries(value) == value


@pytest.mark.parametrize("value", [-1, 101, 1.5, "3", None, True])
def test_invalid_max_retries(value: object) -> None:
    with pytest.raises(ValueError, match="max_retries"):
        validate_max_retries(value)


# --- the one parser, body hints included, and the retry state -----------------------------------------

from meshapi._core.retry import RetryState, retry_after_hint  # noqa: E402


@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        ({}, {"error": {"retry_after_seconds": 4}}, 4.0),
        ({}, {"retry_after_seconds": 2.5}, 2.5),
        ({"retry-after": "1"}, {"error": {"retry_after_seconds": 40}}, 1.0),  # the header wins
        ({}, {"error": {"retry_after_seconds": "7"}}, None),  # a string in the body is not a number
        ({}, {"error": {"retry_after_seconds": True}}, None),
        ({}, {"error": {"retry_after_seconds": -3}}, None),
        ({}, {"error": {"retry_after_seconds": 10**30}}, None),  # huge: no usable hint
        ({}, ["not", "a", "dict"], None),
        ({"retry-after": "99999999999999999999999"}, None, None),
        ({"retry-after": "Mon, 01 Jan 99999 00:00:00 GMT"}, None, None),
        ({"retry-after": "\x00\xff garbage"}, None, None),
        ({"retry-after-ms": "1e309"}, None, None),
    ],
)
def test_retry_after_hint_never_raises(
    headers: Dict[str, str], body: object, expected: Optional[float]
) -> None:
    assert retry_after_hint(headers, body, now=NOW) == expected


def test_retry_state_counts_and_gives_up() -> None:
    state = RetryState(RetrySchedule(max_retries=2, initial_delay=1.0, jitter=0.0), method="POST")
    assert state.after_response(503) == 1.0 and state.retries == 1
    assert state.after_response(502, {"retry-after": "3"}) == 3.0 and state.retries == 2
    assert state.after_response(503) is None and state.retries == 2
    assert (state.reason, state.status) == ("status", 503)


@pytest.mark.parametrize(
    ("method", "exc", "opt_in", "retried"),
    [
        ("POST", httpx.ReadTimeout("t"), False, False),
        ("POST", httpx.ReadTimeout("t"), True, True),
        ("GET", httpx.ReadTimeout("t"), False, True),
        ("POST", httpx.ConnectTimeout("t"), False, True),
        ("POST", httpx.PoolTimeout("t"), False, True),
        ("POST", httpx.WriteTimeout("t"), False, True),
        ("POST", httpx.ConnectError("refused"), False, True),
        ("POST", httpx.DecodingError("bad gzip"), False, False),
    ],
)
def test_retry_state_after_exceptions(method: str, exc: Exception, opt_in: bool, retried: bool) -> None:
    state = RetryState(RetrySchedule(retry_read_timeouts=opt_in), method=method)
    assert (state.after_exception(exc) is not None) is retried
    assert state.reason == "network-error"


@pytest.mark.parametrize(
    ("status", "header", "retried"),
    [
        (500, "true", True),
        (503, "false", False),
        (404, "TRUE", True),
        (429, " false ", False),
        (503, "maybe", True),
    ],
)
def test_x_should_retry(status: int, header: str, retried: bool) -> None:
    state = RetryState(RetrySchedule(), method="POST")
    assert (state.after_response(status, {"x-should-retry": header}) is not None) is retried


def test_retry_state_respects_the_deadline() -> None:
    now = [100.0]
    state = RetryState(RetrySchedule(jitter=0.0), deadline=102.0, clock=lambda: now[0])
    assert state.after_response(503) == 0.5  # ends at 100.5, before the deadline
    now[0] = 101.8
    assert state.remaining() == pytest.approx(0.2)
    assert state.after_response(503) is None  # 1 s would end past it
    now[0] = 103.0
    assert state.remaining() == 0.0
