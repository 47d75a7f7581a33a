"""Rate limits: the documented defaults on ``meshapi gateway``, none on ``serve()`` unless asked, every way
to set them, the 429 (body, ``Retry-After``, ``X-RateLimit-*``), the counters ``/v1/usage/rate-limits``
reports, and the threshold listener (``meshapi_gateway/http/ratelimit.py``)."""

from __future__ import annotations

import time
from typing import Any, List

import httpx
import pytest

from meshapi_gateway import serve
from meshapi_gateway.errors import ApiError
from meshapi_gateway.http.ratelimit import (
    DEFAULT_RPD,
    DEFAULT_RPM,
    RateLimiter,
    RateLimits,
    ThresholdCrossed,
    parse_rate_limits,
)

from .conftest import TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}
T0 = 1_800_057_600.0  # midnight UTC (20834 days after the epoch): a minute and a day begin


def test_the_documented_defaults() -> None:
    assert (DEFAULT_RPM, DEFAULT_RPD) == (100, 10_000)
    assert RateLimits.documented() == RateLimits(100, 10_000, is_default=True)


@pytest.mark.parametrize(
    ("value", "limits"),
    [
        (None, RateLimits()),
        (False, RateLimits()),
        (True, RateLimits(100, 10_000, True)),
        ("7", RateLimits(7, None)),
        ("7/70", RateLimits(7, 70)),
        (" 7 / 70 ", RateLimits(7, 70)),
        ({"rpm": None, "rpd": 3}, RateLimits(None, 3)),
        (RateLimits(1, 2), RateLimits(1, 2)),
    ],
)
def test_every_form_of_the_setting(value: Any, limits: RateLimits) -> None:
    assert parse_rate_limits(value) == limits


@pytest.mark.parametrize(
    "value", ["0", "5/0", "fast", "5/", "-1", {"rpm": 0}, {"tpm": 5}, {"rpm": True}, 5.0]
)
def test_bad_settings_are_value_errors(value: Any) -> None:
    with pytest.raises(ValueError):
        parse_rate_limits(value)
    with pytest.raises(ValueError):
        serve([TOKEN], rate_limits=value)


def test_the_minute_limit_refuses_without_counting_and_its_window_rolls_over() -> None:
    limiter = RateLimiter(2, 5)
    limiter.hit("a", T0)
    limiter.hit("a", T0 + 10)
    limiter.hit("b", T0 + 10)  # callers are counted apart
    with pytest.raises(ApiError) as caught:
        limiter.hit("a", T0 + 20.5)
    error = caught.value
    assert (error.status, error.code, error.message) == (
        429,
        "rate_limit_exceeded",
        "RPM limit of 2 req/min exceeded.",
    )
    assert error.headers == {
        "retry-after": "40",
        "x-ratelimit-limit": "2",
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": "40",
    }
    assert error.error_object()["retry_after_seconds"] == 40
    assert limiter.counters("a", T0 + 30) == (2, 2)  # the refused request was not counted
    limiter.hit("a", T0 + 60)  # a new UTC minute
    assert limiter.counters("a", T0 + 60) == (1, 3)
    report = limiter.report("a", T0 + 60)
    assert report["rpm"] == {
        "current": 1,
        "limit": 2,
        "pct": 50.0,
        "resets_in_seconds": 60,
        "is_default_limit": False,
    }
    assert report["rpd"] == {
        "current": 3,
        "limit": 5,
        "pct": 60.0,
        "resets_in_seconds": 86400 - 60,
        "is_default_limit": False,
    }


def test_the_day_limit_names_itself_and_waits_for_midnight_utc() -> None:
    limiter = RateLimiter(None, 1)
    limiter.hit("a", T0 + 3600)
    with pytest.raises(ApiError) as caught:
        limiter.hit("a", T0 + 3600)
    assert caught.value.message == "RPD limit of 1 req/day exceeded."
    assert caught.value.headers["retry-after"] == str(86400 - 3600)
    assert caught.value.headers["x-ratelimit-limit"] == "1"
    limiter.hit("a", T0 + 86400)  # the next UTC day


def test_state_stays_one_pair_per_caller_and_metric() -> None:
    limiter = RateLimiter(1000, None)
    for minute in range(500):
        limiter.hit("a", T0 + 60 * minute)
    assert len(limiter._counts) == 2  # (a, rpm), (a, rpd): windows replace each other


def test_threshold_listeners_hear_each_rung_once_per_window() -> None:
    limiter = RateLimiter(10, 100)
    heard: List[ThresholdCrossed] = []
    stop = limiter.watch([80, 50], heard.append)
    for second in range(10):
        limiter.hit("a", T0 + second)
    assert heard == [
        ThresholdCrossed("a", "rpm", 50.0, 5, 10, 56),
        ThresholdCrossed("a", "rpm", 80.0, 8, 10, 53),
    ]
    heard.clear()
    for second in range(5):
        limiter.hit("a", T0 + 60 + second)  # the next minute: the 50 % rung again
    assert heard == [ThresholdCrossed("a", "rpm", 50.0, 5, 10, 56)]
    limiter.configure(RateLimits(2, None))  # new limits keep the listener
    heard.clear()
    limiter.hit("a", T0 + 120)
    assert heard == [ThresholdCrossed("a", "rpm", 50.0, 1, 2, 60)]
    stop()
    limiter.hit("a", T0 + 121)
    assert heard == [ThresholdCrossed("a", "rpm", 50.0, 1, 2, 60)]
    with pytest.raises(ValueError):
        limiter.watch([0], heard.append)


def test_serve_has_no_limits_unless_asked() -> None:
    with serve([TOKEN]) as gw, httpx.Client(base_url=gw.base_url, headers=AUTH, timeout=10) as c:
        for _ in range(3):
            assert c.get("/v1/models").status_code == 200
        key = c.get("/v1/usage/rate-limits").json()["key"]
        assert key["rpm"] == {
            "current": 4,
            "limit": None,
            "pct": None,
            "resets_in_seconds": key["rpm"]["resets_in_seconds"],
            "is_default_limit": True,
        }
        assert gw.state.limiter.limits == RateLimits()


def test_serve_with_the_documented_limits_reports_them_as_default() -> None:
    with (
        serve([TOKEN], rate_limits=True) as gw,
        httpx.Client(base_url=gw.base_url, headers=AUTH, timeout=10) as c,
    ):
        key = c.get("/v1/usage/rate-limits").json()["key"]
        assert (key["rpm"]["limit"], key["rpm"]["current"], key["rpm"]["is_default_limit"]) == (100, 1, True)
        assert (key["rpd"]["limit"], key["rpd"]["current"], key["rpd"]["pct"]) == (10_000, 1, 0.01)


def test_a_429_over_http_and_the_counters_agree() -> None:
    # the day limit: a minute boundary between two requests cannot change what is counted
    with (
        serve([TOKEN], rate_limits="1000/3") as gw,
        httpx.Client(base_url=gw.base_url, headers=AUTH, timeout=10) as c,
    ):
        assert c.get("/v1/models").status_code == 200
        key = c.get("/v1/usage/rate-limits").json()["key"]
        assert (key["rpd"]["current"], key["rpd"]["limit"], key["rpd"]["pct"]) == (2, 3, 66.67)
        assert (key["rpm"]["limit"], key["rpm"]["is_default_limit"]) == (1000, False)
        assert c.get("/v1/models").status_code == 200
        refused = c.get("/v1/models")
        assert refused.status_code == 429
        wait = int(refused.headers["retry-after"])
        assert 1 <= wait <= 86400
        assert refused.headers["x-ratelimit-limit"] == "3"
        assert refused.headers["x-ratelimit-remaining"] == "0"
        assert refused.headers["x-ratelimit-reset"] == str(wait)
        assert refused.json() == {
            "error": {
                "code": "rate_limit_exceeded",
                "message": "RPD limit of 3 req/day exceeded.",
                "retry_after_seconds": wait,
            },
            "request_id": refused.headers["x-request-id"],
        }
        owner = gw.state.owner_for(TOKEN)
        assert owner is not None
        assert gw.state.limiter.counters(owner, time.time())[1] == 3  # the refused one is not counted


def test_admin_limits_replace_them_and_keep_listeners() -> None:
    with serve([TOKEN], rate_limits=True, admin_token="adm_t") as gw:
        heard: List[ThresholdCrossed] = []
        gw.state.limiter.watch([100], heard.append)
        with httpx.Client(base_url=gw.base_url, timeout=10) as c:
            put = c.put(
                "/_admin/limits", json={"rpm": None, "rpd": 1}, headers={"Authorization": "Bearer adm_t"}
            )
            assert put.json() == {"rpm": None, "rpd": 1}
            assert c.get("/v1/models", headers=AUTH).status_code == 200
            assert c.get("/v1/models", headers=AUTH).status_code == 429
        assert [(e.metric, e.current, e.limit) for e in heard] == [("rpd", 1, 1)]
        assert gw.state.limiter.limits == RateLimits(None, 1)


def test_a_failing_listener_does_not_fail_the_request(caplog: Any) -> None:
    limiter = RateLimiter(2, None)

    def broken(event: ThresholdCrossed) -> None:
        raise RuntimeError("listener bug")

    limiter.watch([50], broken)
    limiter.hit("a", T0)
    assert limiter.counters("a", T0) == (1, 1)
    assert [r.getMessage() for r in caplog.records] == ["rate-limit threshold listener failed"]
