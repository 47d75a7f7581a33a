"""Tracing's own failures never change a call's outcome (extra ``otel``), sync and async.

A tracer, a span processor or a span that raises at any point (start, attributes, events, status, end):
the call returns its normal result or raises its normal error, the server saw exactly the attempts it
sees untraced, and the failure is logged once per kind on the ``meshapi`` logger, without the token.
Fake tracers cover every failure point; the OpenTelemetry SDK covers processors that raise.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, Iterator, List, Optional

import httpx
import pytest

pytest.importorskip("opentelemetry.sdk")

from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import meshapi
from meshapi._transport import otel as _otel
from tests.conftest import RecordingStream, collect, resolve
from tests.unit.test_transport import COMPLETION, MESSAGES, sequence, status

TOKEN = "rsk_unit_test_token"
CHUNK = (
    b'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m",'
    b'"choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n'
)


class Boom(RuntimeError):
    pass


class FakeSpan:
    """A span whose ``failing`` methods raise (the message carries the token, which must not be logged)."""

    def __init__(self, failing: List[str]) -> None:
        self.failing = failing
        self.ended = 0

    def _call(self, name: str) -> None:
        if name in self.failing:
            raise Boom(f"span.{name} broke holding {TOKEN}")

    def is_recording(self) -> bool:
        self._call("is_recording")
        return True

    def set_attributes(self, attributes: Dict[str, Any]) -> None:
        self._call("set_attributes")

    def set_attribute(self, key: str, value: Any) -> None:
        self._call("set_attribute")

    def add_event(self, name: str, attributes: Any = None) -> None:
        self._call("add_event")

    def set_status(self, status: Any, description: Optional[str] = None) -> None:
        self._call("set_status")

    def record_exception(self, exception: BaseException, **kwargs: Any) -> None:
        self._call("record_exception")

    def end(self, end_time: Optional[int] = None) -> None:
        self.ended += 1
        self._call("end")


class FakeTracer:
    def __init__(self, failing: List[str]) -> None:
        self.failing = failing
        self.spans: List[FakeSpan] = []

    def start_span(self, name: str, **kwargs: Any) -> FakeSpan:
        if "start_span" in self.failing:
            raise Boom(f"start_span broke holding {TOKEN}")
        span = FakeSpan(self.failing)
        self.spans.append(span)
        return span


SPAN_METHODS = ["is_recording", "set_attributes", "set_attribute", "add_event", "set_status", "end"]
# the failure point -> the kinds logged ("start": the span could not start; "attributes": anything put on
# it; "end": ending it, where span processors run)
FAILURE_POINTS = {
    "start_span": {"start"},
    "is_recording": {"start"},  # started but unusable: ended at once, untouched
    "set_attributes": {"attributes"},
    "set_attribute": {"attributes"},
    "add_event": {"attributes"},
    "set_status": {"attributes"},
    "end": {"end"},
    "everything": {"start"},
}


@pytest.fixture(autouse=True)
def _fresh_reports() -> Iterator[None]:
    _otel._reported.clear()
    yield
    _otel._reported.clear()


def use_tracer(monkeypatch: pytest.MonkeyPatch, failing: str) -> FakeTracer:
    fake = FakeTracer(["start_span", *SPAN_METHODS] if failing == "everything" else [failing])
    monkeypatch.setattr(_otel, "_tracer", fake)
    return fake


def warnings_of(caplog: pytest.LogCaptureFixture) -> List[str]:
    records = [r for r in caplog.records if r.name == "meshapi" and r.levelno == logging.WARNING]
    return [r.getMessage() for r in records if "OpenTelemetry" in r.getMessage()]


def check_logs(caplog: pytest.LogCaptureFixture, failing: str, calls: int, unused: str = "") -> None:
    messages = warnings_of(caplog)
    kinds = {m.split("OpenTelemetry span ")[1].split(" failed")[0] for m in messages}
    assert kinds == (set() if failing == unused else FAILURE_POINTS[failing])
    assert len(messages) == len(kinds)  # once per kind, however many calls and failures
    assert all(TOKEN not in m and "Boom" in m for m in messages)
    debug = [r for r in caplog.records if r.name == "meshapi" and "OpenTelemetry" in r.getMessage()]
    assert all(TOKEN not in r.getMessage() for r in debug) and len(debug) >= len(messages)
    if calls > 1 and kinds:
        assert len(debug) > len(messages)  # later failures of the same kind: debug only


def with_usage(request: httpx.Request) -> httpx.Response:
    body = {**COMPLETION, "usage": {"prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14}}
    return httpx.Response(200, json=body, headers={"x-request-id": "req_usage"})


def stream_reply(request: httpx.Request) -> httpx.Response:
    chunks = [CHUNK, b"data: [DONE]\n\n"]
    return httpx.Response(200, stream=RecordingStream(chunks), headers={"content-type": "text/event-stream"})


@pytest.mark.parametrize("failing", list(FAILURE_POINTS))
async def test_a_call_returns_its_result(
    make_client: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, failing: str
) -> None:
    caplog.set_level(logging.DEBUG, logger="meshapi")
    fake = use_tracer(monkeypatch, failing)
    handler = sequence(status(503), with_usage, status(503), with_usage)  # retries: events on the spans
    client = make_client(handler)
    for _ in range(2):
        reply = await resolve(client.chat.completions.create(model="m", messages=MESSAGES))
        assert reply.choices[0].message.content == "Hello" and reply.usage.prompt_tokens == 11
    assert len(handler.seen) == 4  # 503 + 200 twice: nothing sent again because tracing failed
    assert all(span.ended == 1 for span in fake.spans)  # every started span is ended, once
    check_logs(caplog, failing, calls=2, unused="set_status")  # a success has no error status


@pytest.mark.parametrize("failing", list(FAILURE_POINTS))
async def test_a_call_raises_its_own_error(
    make_client: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, failing: str
) -> None:
    fake = use_tracer(monkeypatch, failing)
    handler = sequence(status(503), status(404))
    client = make_client(handler)
    with pytest.raises(meshapi.NotFoundError) as caught:
        await resolve(client.models.list())
    assert caught.value.request_id == "req_404"
    assert len(handler.seen) == 2 and all(span.ended == 1 for span in fake.spans)
    check_logs(caplog, failing, calls=1)


@pytest.mark.parametrize("failing", list(FAILURE_POINTS))
async def test_a_stream_yields_its_chunks(
    make_client: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, failing: str
) -> None:
    fake = use_tracer(monkeypatch, failing)
    handler = sequence(status(503), stream_reply)
    client = make_client(handler)
    chunks = await collect(client.chat.completions.stream(model="m", messages=MESSAGES))
    assert [c.choices[0].delta.content for c in chunks] == ["Hi"]
    assert len(handler.seen) == 2 and all(span.ended == 1 for span in fake.spans)
    check_logs(caplog, failing, calls=1, unused="set_status")


class Failing(SpanProcessor):
    def __init__(self, where: str) -> None:
        self.where = where

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        if self.where == "on_start":
            raise Boom(f"processor on_start broke holding {TOKEN}")

    def on_end(self, span: ReadableSpan) -> None:
        if self.where == "on_end":
            raise Boom(f"processor on_end broke holding {TOKEN}")


@pytest.mark.parametrize(("where", "kind"), [("on_start", "start"), ("on_end", "end")])
@pytest.mark.parametrize("streaming", [False, True], ids=["create", "stream"])
async def test_sdk_span_processors_that_raise(
    make_client: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    where: str,
    kind: str,
    streaming: bool,
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))  # runs before the failing one
    provider.add_span_processor(Failing(where))
    monkeypatch.setattr(_otel, "_tracer", provider.get_tracer("meshapi"))
    handler = sequence(stream_reply if streaming else with_usage)
    client = make_client(handler)
    if streaming:
        chunks = await collect(client.chat.completions.stream(model="m", messages=MESSAGES))
        assert [c.choices[0].delta.content for c in chunks] == ["Hi"]
    else:
        reply = await resolve(client.chat.completions.create(model="m", messages=MESSAGES))
        assert reply.choices[0].message.content == "Hello"
    assert len(handler.seen) == 1
    # a span that could not start is not made; one whose processor failed at its end still ended (exported)
    assert [span.name for span in exporter.get_finished_spans()] == ([] if kind == "start" else ["chat m"])
    messages = warnings_of(caplog)
    assert len(messages) == 1 and f"span {kind} failed" in messages[0] and TOKEN not in messages[0]
    provider.shutdown()
