"""Hostile settings and token providers: retry knobs, providers that return no token, the scrub registry.

Retry timing knobs are finite and at most an hour (``ConfigurationError`` otherwise, at construction,
in ``with_options`` and in ``RetryPolicy``), and no computed delay overflows or exceeds its cap. A token
provider that returns ``None``, ``""`` or a non-string, or an ``async def`` provider on the sync client,
is ``ConfigurationError`` with nothing sent (and no unawaited coroutine left behind). The registry of
tokens scrubbed from errors stays bounded under a provider that mints a token per call.
"""

from __future__ import annotations

import gc
import json
import math
import warnings
from typing import Any, List

import httpx
import pytest

import meshapi
from meshapi import _redact
from meshapi._config import MeshAPIConfig
from meshapi._core.retry import MAX_WAIT, RetrySchedule, compute_delay
from meshapi.realtime.handshake import build_handshake
from tests.unit.test_client_options import fake_sleep
from tests.unit.test_transport import COMPLETION, create, ok, sequence, status

KNOBS = ["retry_initial_delay", "retry_max_delay", "retry_max_after"]


def repr_id(value: Any) -> str:
    return repr(value) if not isinstance(value, int) or abs(value) < 10**9 else "huge-int"


BAD_SECONDS = [math.nan, math.inf, -math.inf, 1e300, 10**400, 3600.5, -1, -0.001]


# -- item 12: retry knobs -----------------------------------------------------------------------------


@pytest.mark.parametrize("value", BAD_SECONDS, ids=repr_id)
@pytest.mark.parametrize("name", KNOBS)
def test_bad_retry_knob_is_a_configuration_error(name: str, value: Any) -> None:
    message = f"{name} must be a finite number of seconds from 0 to 3600, got {value!r}"
    with pytest.raises(meshapi.ConfigurationError) as info:
        meshapi.MeshAPI(base_url="http://x.test", token="rsk_knob_test_token", **{name: value})
    assert info.value.message == message
    client = meshapi.MeshAPI(base_url="http://x.test", token="rsk_knob_test_token")
    with pytest.raises(meshapi.ConfigurationError) as copied:
        client.with_options(**{name: value})
    assert copied.value.message == message
    client.close()


@pytest.mark.parametrize("name", KNOBS)
@pytest.mark.parametrize("value", [0, 0.0, 1e-9, 3600, 3600.0])
def test_retry_knob_bounds_are_accepted(name: str, value: float) -> None:
    config = MeshAPIConfig(base_url="http://x.test", token="rsk_knob_test_token", **{name: value})
    assert getattr(config, name) == value


@pytest.mark.parametrize("value", [math.nan, math.inf, 1e300, 10**400, 3_600_001, -1], ids=repr_id)
@pytest.mark.parametrize("name", ["backoff_base_ms", "backoff_max_ms"])
def test_bad_retry_policy_backoff_is_a_configuration_error(name: str, value: Any) -> None:
    with pytest.raises(meshapi.ConfigurationError) as info:
        meshapi.RetryPolicy(**{name: value})
    assert info.value.message == (
        f"RetryPolicy.{name} must be a finite number of milliseconds from 0 to 3600000, got {value!r}"
    )


def test_retry_policy_backoff_bound_is_accepted() -> None:
    policy = meshapi.RetryPolicy(backoff_base_ms=3_600_000, backoff_max_ms=3_600_000)
    assert policy.backoff_max_ms == 3_600_000


# Schedules built directly (no knob checks): whatever they hold, the delay is bounded and never raises.
@pytest.mark.parametrize(
    ("schedule", "retries_done", "hint", "expected"),
    [
        (RetrySchedule(max_retries=10**7, initial_delay=0.5, max_delay=8.0, jitter=0.0), 10**6, None, 8.0),
        (RetrySchedule(max_retries=10**7, initial_delay=1e300, max_delay=math.inf), 5000, None, MAX_WAIT),
        (
            RetrySchedule(max_retries=3, initial_delay=10**400, max_delay=10**400, jitter=0.0),
            2,
            None,
            MAX_WAIT,
        ),
        (RetrySchedule(max_retries=3, initial_delay=math.nan, max_delay=8.0), 0, None, 0.0),
        (RetrySchedule(max_retries=3, initial_delay=0.5, max_delay=8.0, jitter=0.0), 0, math.nan, 0.5),
        (RetrySchedule(max_retries=3, initial_delay=0.5, max_delay=8.0, jitter=0.0), 0, math.inf, 0.5),
        (RetrySchedule(max_retries=3, max_retry_after=math.inf, jitter=0.0), 0, 1e9, MAX_WAIT),
    ],
)
def test_computed_delay_is_capped_and_never_raises(
    schedule: RetrySchedule, retries_done: int, hint: Any, expected: float
) -> None:
    assert compute_delay(retries_done, hint, schedule, lambda: 0.999) == expected


@pytest.mark.parametrize(
    ("retry_after", "low", "high"),
    [("4", 4.0, 5.0), ("5", 5.0, 5.0), ("100000000", None, None), ("1e308", 0.0, 0.0), ("inf", 0.0, 0.0)],
)
async def test_a_huge_retry_after_is_never_slept_past_retry_max_after(
    make_client: Any, retry_after: str, low: Any, high: Any
) -> None:
    """A hint up to ``retry_max_after`` (5 s) is a floor capped at it; a longer one is not waited out;
    one that is not a usable number (1e308 s, inf) leaves the backoff (0 s here) to decide."""
    handler = sequence(status(429, {"retry-after": retry_after}), ok)
    client = make_client(handler, retry_max_after=5.0)
    sleeps = fake_sleep(client)
    if low is None:
        with pytest.raises(meshapi.RateLimitError):
            await create(client)
        assert sleeps == [] and len(handler.seen) == 1
    else:
        await create(client)
        assert len(sleeps) == 1 and low <= sleeps[0] <= high and len(handler.seen) == 2


# -- item 13: token providers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("returned", "shown"), [(None, "None"), ("", "an empty string"), (12345, "int"), (b"rsk_bytes", "bytes")]
)
async def test_a_provider_without_a_token_sends_nothing(make_client: Any, returned: Any, shown: str) -> None:
    handler = sequence(ok)
    client = make_client(handler, token=lambda: returned)
    with pytest.raises(meshapi.ConfigurationError) as info:
        await create(client)
    assert info.value.message == (
        f"The token provider returned {shown}; it must return the token as a non-empty string"
    )
    assert handler.seen == []


def test_an_async_provider_on_the_sync_client_is_closed_and_refused() -> None:
    seen: List[httpx.Request] = []
    transport = httpx.MockTransport(
        lambda request: seen.append(request) or httpx.Response(200, json=COMPLETION)
    )

    async def provider() -> str:
        return "rsk_async_provider_token"

    message = ""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with httpx.Client(transport=transport) as inner:
            client = meshapi.MeshAPI(base_url="http://x.test", token=provider, httpx_client=inner)
            try:
                client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
            except meshapi.ConfigurationError as exc:
                message = exc.message
        gc.collect()  # an unawaited coroutine warns when it is collected
    assert (
        message
        == "The token provider is async (it returned an awaitable); use AsyncMeshAPI for an async provider"
    )
    assert [str(w.message) for w in caught] == []
    assert seen == []


@pytest.mark.parametrize("returned", [None, ""])
def test_the_realtime_handshake_refuses_a_missing_token(returned: Any) -> None:
    config = MeshAPIConfig(base_url="http://x.test", token=lambda: returned)
    with pytest.raises(meshapi.ConfigurationError, match="The token provider returned"):
        config.current_token()
    for auth in ("auto", "subprotocol", "header", "query"):
        with pytest.raises(meshapi.ConfigurationError, match="needs the token as a non-empty string"):
            build_handshake("http://x.test", "m", returned, auth=auth)


# -- item 14: the registry of tokens to scrub ---------------------------------------------------------


def test_a_rotating_provider_leaves_a_bounded_registry_and_the_current_token_scrubbed() -> None:
    minted: List[str] = []

    def provider() -> str:
        minted.append(f"rsk_rotating_{len(minted):06d}_token")
        return minted[-1]

    def handler(request: httpx.Request) -> httpx.Response:
        if len(minted) <= 3000:
            return httpx.Response(200, json=COMPLETION)
        echoed = request.headers["authorization"]  # a proxy that echoes the credential back
        return httpx.Response(401, json={"error": {"code": "unauthorized", "message": f"bad {echoed}"}})

    error: Any = None
    with httpx.Client(transport=httpx.MockTransport(handler)) as inner:
        client = meshapi.MeshAPI(base_url="http://x.test", token=provider, httpx_client=inner, max_retries=0)
        for _ in range(3001):
            try:
                client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
            except meshapi.AuthenticationError as exc:
                error = exc
    assert len(minted) == 3001
    assert len(_redact.remembered() & set(minted)) <= _redact.MAX_RECENT_SECRETS
    assert minted[-1] in _redact.remembered()
    text = str(error) + repr(error) + json.dumps(error.body)
    assert minted[-1] not in text and "bad Bearer [redacted]" in text


def test_a_live_clients_static_token_outlasts_any_rotation() -> None:
    static = "rsk_static_pinned_token_Q7"
    client = meshapi.MeshAPI(base_url="http://x.test", token=static)
    for n in range(3 * _redact.MAX_RECENT_SECRETS):
        _redact.remember_secret(f"rsk_other_minted_{n:05d}")
    assert static in _redact.remembered()
    error = meshapi.MeshAPIError(f"echo {static}", status=500, error_code="x", request_id="req_1")
    assert str(error).startswith("echo [redacted]") and static not in repr(error)
    client.close()
    del client
    gc.collect()
    _redact.remember_secret("rsk_one_more_minted_token")
    assert static not in _redact.remembered()


def test_a_token_that_extends_another_is_scrubbed_whole() -> None:
    """Scrubbed longest first: the shorter token must not leave the longer one's tail in clear."""
    short, longer = "rsk_prefixtoken", "rsk_prefixtoken_and_more_secret"
    _redact.remember_secret(short)
    _redact.remember_secret(longer)
    for _ in range(3):  # whatever order the set would have had
        assert _redact.scrub(f"got {longer} and {short}") == "got [redacted] and [redacted]"
        _redact.remember_secret(short)


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="POSIX fork only")
def test_a_child_forked_while_the_registry_is_locked_can_still_remember() -> None:
    import os
    import time

    with _redact._lock, warnings.catch_warnings():  # as if another thread held it at the fork
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork() of a threaded process
        pid = os.fork()
        if pid == 0:  # the child: the registry must work at once
            try:
                _redact.remember_secret("rsk_child_after_fork")
                os._exit(0 if "rsk_child_after_fork" in _redact.remembered() else 1)
            except BaseException:
                os._exit(2)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            assert os.waitstatus_to_exitcode(status) == 0
            return
        time.sleep(0.01)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    pytest.fail("the forked child hung on the scrub registry's lock")
