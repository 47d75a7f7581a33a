"""A client's ``limiter=`` in the send loops (httpx.MockTransport, sync and async): every attempt takes a
grant, a full queue refuses before anything is sent, a stream holds its slot until closed, tpm is corrected
by the reply's usage, an adaptive limiter starts from the published limits and slows down on 429s, and the
time spent waiting shows in the debug log and on the call's span."""

from __future__ import annotations

import logging
import time
from typing import Any, List

import httpx
import pytest

import meshapi
from tests.conftest import RecordingStream, close, collect, resolve
from tests.unit.test_raw_response import SSE
from tests.unit.test_transport import COMPLETION, MESSAGES, sequence, status

CHAT = "/v1/chat/completions"


def ok(request: httpx.Request) -> httpx.Response:
    body = {**COMPLETION, "usage": {"prompt_tokens": 10, "completion_tokens": 4, "total_tokens": 14}}
    return httpx.Response(200, json=body, headers={"x-request-id": "req_ok"})


def sse(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, stream=RecordingStream([SSE]), headers={"content-type": "text/event-stream"})


def level(limiter: meshapi.RateLimiter, name: str) -> float:
    bucket = getattr(limiter.core, name)
    assert bucket is not None
    return float(bucket.level)


async def test_every_attempt_takes_a_grant_and_copies_share_the_limiter(make_client: Any) -> None:
    limiter = meshapi.RateLimiter(rpm=6)  # refills 0.1 a second: the level shows the grants taken
    client = make_client(sequence(status(503), ok, ok), limiter=limiter)
    await resolve(client.chat.completions.create(model="m", messages=MESSAGES))
    assert 4.0 <= level(limiter, "rpm") < 4.5  # the retry was a request of its own
    await resolve(client.with_options(timeout=5).chat.completions.create(model="m", messages=MESSAGES))
    assert 3.0 <= level(limiter, "rpm") < 3.5 and limiter.running == 0


async def test_a_full_queue_refuses_before_sending(make_client: Any) -> None:
    limiter = meshapi.RateLimiter(max_concurrency=1, max_queued=0)
    handler = sequence(ok)
    client = make_client(handler, limiter=limiter)
    held = limiter.acquire()
    with pytest.raises(meshapi.RateLimiterFullError):
        await resolve(client.chat.completions.create(model="m", messages=MESSAGES))
    assert handler.seen == []
    limiter.release(held)
    await resolve(client.chat.completions.create(model="m", messages=MESSAGES))
    assert len(handler.seen) == 1 and limiter.running == 0


async def test_a_failed_attempt_releases_its_grant(make_client: Any) -> None:
    limiter = meshapi.RateLimiter(max_concurrency=1)

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client = make_client(refuse, limiter=limiter, max_retries=1)
    with pytest.raises(meshapi.APIConnectionError):
        await resolve(client.chat.completions.create(model="m", messages=MESSAGES))
    assert limiter.running == 0 and limiter.waiting == 0


async def test_a_stream_holds_its_slot_until_it_is_closed(make_client: Any) -> None:
    limiter = meshapi.RateLimiter(max_concurrency=1)
    client = make_client(sse, limiter=limiter)
    stream = await resolve(client.chat.completions.create(model="m", messages=MESSAGES, stream=True))
    assert limiter.running == 1
    await close(stream)
    assert limiter.running == 0
    stream = await resolve(client.chat.completions.create(model="m", messages=MESSAGES, stream=True))
    assert len(await collect(stream)) > 0
    await close(stream)
    assert limiter.running == 0


async def test_tpm_is_charged_the_estimate_then_the_reported_usage(make_client: Any) -> None:
    limiter = meshapi.RateLimiter(tpm=600)  # refills 10 a second
    seen: List[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(level(limiter, "tpm"))  # after the estimate was charged
        return ok(request)

    client = make_client(answer, limiter=limiter)
    await resolve(client.chat.completions.create(model="m", messages=MESSAGES, max_tokens=100))
    estimate = len('[{"role":"user","content":"Hi"}]') // 4 + 100
    assert 600 - estimate <= seen[0] < 600 - estimate + 1
    assert 600 - 14 <= level(limiter, "tpm") < 600 - 14 + 1  # corrected to the 14 tokens used


async def test_adaptive_starts_from_the_published_limits_and_halves_on_429(make_client: Any) -> None:
    limiter = meshapi.RateLimiter(adaptive=True)
    limits = {"key": {"rpm": {"current": 100, "limit": 6000, "is_default_limit": False}}}
    paths: List[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path)
        if request.url.path == "/v1/usage/rate-limits":
            return httpx.Response(200, json=limits)
        return status(429, {"retry-after": "0"})(request) if paths.count(CHAT) == 1 else ok(request)

    client = make_client(answer, limiter=limiter)
    await resolve(client.chat.completions.create(model="m", messages=MESSAGES))
    # published 6000/min; one 429 halved it, the success after it gave back a tenth
    assert paths == ["/v1/usage/rate-limits", CHAT, CHAT]
    assert limiter.rpm == pytest.approx(6000 * 0.6)
    await resolve(client.chat.completions.create(model="m", messages=MESSAGES))
    assert paths.count("/v1/usage/rate-limits") == 1 and limiter.rpm == pytest.approx(6000 * 0.7)


async def test_adaptive_without_published_limits_keeps_the_configured_ones(make_client: Any) -> None:
    limiter = meshapi.RateLimiter(rpm=600, adaptive=True)
    client = make_client(sequence(status(404), ok), limiter=limiter, max_retries=0)
    await resolve(client.chat.completions.create(model="m", messages=MESSAGES))
    assert limiter.rpm == 600


async def test_time_waited_shows_in_the_debug_log(make_client: Any, caplog: Any) -> None:
    limiter = meshapi.RateLimiter(rpm=6000)  # 100 a second
    client = make_client(ok, limiter=limiter)
    limiter.core.rpm.level = 0.0  # type: ignore[union-attr]  # used up: the next waits ~10 ms
    with caplog.at_level(logging.DEBUG, logger="meshapi"):
        await resolve(client.chat.completions.create(model="m", messages=MESSAGES))
    lines = [r.getMessage() for r in caplog.records if "rate limiter" in r.getMessage()]
    assert len(lines) == 1
    assert lines[0].startswith("POST /v1/chat/completions waited 0.0") and "(0 ahead of it)" in lines[0]


async def test_time_waited_shows_on_the_span(make_client: Any, monkeypatch: Any) -> None:
    pytest.importorskip("opentelemetry.sdk")
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from meshapi._transport import otel

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(otel, "_tracer", provider.get_tracer("meshapi"))
    limiter = meshapi.RateLimiter(rpm=6000)
    client = make_client(ok, limiter=limiter)
    limiter.core.rpm.level = 0.0  # type: ignore[union-attr]
    await resolve(client.chat.completions.create(model="m", messages=MESSAGES))
    (span,) = exporter.get_finished_spans()
    (event,) = [e for e in span.events if e.name == "meshapi.rate_limiter.wait"]
    assert event.attributes is not None and event.attributes["meshapi.queue_ahead"] == 0
    waited = event.attributes["meshapi.wait_ms"]
    assert isinstance(waited, float) and 0 < waited < 1000
    assert span.attributes is not None and span.attributes["meshapi.rate_limiter.wait_ms"] == waited
    provider.shutdown()


async def test_a_total_timeout_ends_the_wait_for_the_limiter(make_client: Any) -> None:
    limiter = meshapi.RateLimiter(rpm=1)  # one now, the next a minute later
    handler = sequence(ok)
    client = make_client(handler, limiter=limiter)
    limiter.release(limiter.acquire())  # the minute's request spent
    started = time.monotonic()
    with pytest.raises(meshapi.APITimeoutError) as info:
        await resolve(client.chat.completions.create(model="m", messages=MESSAGES, total_timeout=0.3))
    assert 0.25 <= time.monotonic() - started < 5  # at the deadline, not after the minute
    assert info.value.error_code == "total_timeout" and handler.seen == []
    assert (limiter.waiting, limiter.running) == (0, 0)  # it left the queue


@pytest.mark.parametrize("timeout", [-1, float("nan"), True, "1"])
async def test_acquire_refuses_a_timeout_that_is_not_a_number_of_seconds(timeout: Any) -> None:
    limiter = meshapi.RateLimiter(rpm=1)
    with pytest.raises(meshapi.InvalidParamsError, match="timeout must be None or a number of seconds"):
        limiter.acquire(timeout=timeout)
    with pytest.raises(meshapi.InvalidParamsError, match="timeout must be None or a number of seconds"):
        await limiter.aacquire(timeout=timeout)


async def test_acquire_with_a_timeout_raises_timeout_error_and_leaves_the_queue() -> None:
    limiter = meshapi.RateLimiter(rpm=1)
    held = limiter.acquire(timeout=0)  # granted at once: no wait to bound
    with pytest.raises(TimeoutError):
        limiter.acquire(timeout=0.05)
    with pytest.raises(TimeoutError):
        await limiter.aacquire(timeout=0.05)
    assert (limiter.waiting, limiter.running) == (0, 1)
    limiter.release(held)
