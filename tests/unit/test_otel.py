"""OpenTelemetry spans (extra ``otel``) with the SDK's in-memory exporter, sync and async."""

from __future__ import annotations

import subprocess
import sys
from typing import Any, Iterator

import httpx
import pytest

pytest.importorskip("opentelemetry.sdk")

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

import meshapi
from meshapi._transport import otel as _otel
from tests.conftest import RecordingStream, collect, resolve
from tests.unit.test_raw_response import sse
from tests.unit.test_transport import COMPLETION, MESSAGES, sequence, status

TOKEN = "rsk_unit_test_token"


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(_otel, "_tracer", provider.get_tracer("meshapi"))
    yield exporter
    provider.shutdown()


def with_usage(request: httpx.Request) -> httpx.Response:
    body = {**COMPLETION, "usage": {"prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14}}
    return httpx.Response(200, json=body, headers={"x-request-id": "req_usage"})


def no_token_anywhere(span: Any) -> None:
    assert TOKEN not in repr(dict(span.attributes)) and TOKEN not in span.name


async def test_one_client_span_per_call_with_genai_attributes(make_client: Any, spans: Any) -> None:
    client = make_client(sequence(status(503), with_usage))
    await resolve(client.chat.completions.create(model="openai/gpt-4o-mini", messages=MESSAGES))
    (span,) = spans.get_finished_spans()
    assert span.name == "chat openai/gpt-4o-mini" and span.kind is SpanKind.CLIENT
    attributes = dict(span.attributes)
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["gen_ai.request.model"] == "openai/gpt-4o-mini"
    assert attributes["gen_ai.response.model"] == "openai/gpt-4o-mini"
    assert attributes["gen_ai.usage.input_tokens"] == 11 and attributes["gen_ai.usage.output_tokens"] == 3
    assert attributes["http.response.status_code"] == 200
    assert attributes["meshapi.request_id"] == "req_usage" and attributes["meshapi.retries"] == 1
    assert "gen_ai.input.messages" not in attributes  # content only when opted in
    no_token_anywhere(span)


async def test_stream_span_ends_when_the_stream_is_read(make_client: Any, spans: Any) -> None:
    client = make_client(sequence(sse))
    stream = client.chat.completions.stream(model="m", messages=MESSAGES)
    assert spans.get_finished_spans() == ()
    chunks = await collect(stream)
    assert len(chunks) == 1
    (span,) = spans.get_finished_spans()
    assert span.name == "chat m" and dict(span.attributes)["gen_ai.response.model"] == "m"
    assert dict(span.attributes)["meshapi.request_id"] == "req_sse"


async def test_error_span(make_client: Any, spans: Any) -> None:
    client = make_client(sequence(status(404)))
    with pytest.raises(meshapi.NotFoundError):
        await resolve(client.models.list())
    (span,) = spans.get_finished_spans()
    assert span.name == "models" and span.status.status_code is StatusCode.ERROR
    attributes = dict(span.attributes)
    assert attributes["error.type"] == "NotFoundError" and attributes["http.response.status_code"] == 404
    assert attributes["meshapi.request_id"] == "req_404"


async def test_content_is_recorded_only_when_opted_in(
    make_client: Any, spans: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MESHAPI_OTEL_CAPTURE_CONTENT", "true")
    client = make_client(sequence(with_usage))
    await resolve(client.chat.completions.create(model="m", messages=MESSAGES))
    attributes = dict(spans.get_finished_spans()[0].attributes)
    assert '"Hi"' in attributes["gen_ai.input.messages"] and "Hello" in attributes["gen_ai.output.messages"]


def test_nothing_is_imported_or_traced_without_opentelemetry() -> None:
    code = (
        "import sys; sys.modules['opentelemetry'] = None\n"
        "import httpx, meshapi\n"
        "from meshapi._transport import otel as _otel\n"
        "h = lambda r: httpx.Response(200, json={'data': []})\n"
        "c = meshapi.MeshAPI(base_url='http://x.test', token='rsk_abcdefghij',"
        " httpx_client=httpx.Client(transport=httpx.MockTransport(h)))\n"
        "assert list(c.models.list()) == []\n"
        "assert _otel.tracer() is None\n"
        "assert not [m for m in sys.modules if m.startswith('opentelemetry.')]\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def _tool_call_then_answer(request: httpx.Request) -> httpx.Response:
    import json

    if request.url.path == "/v1/usage/events":  # the run's cost lookup when it ends
        events = [
            {"id": f"ue_{i}", "request_id": rid, "cost_usd": "0.01"}
            for i, rid in enumerate(["req_answer", "req_call"])
        ]
        return httpx.Response(200, json={"events": events, "has_more": False})
    sent = json.loads(request.content)
    if sent["messages"][-1]["role"] == "tool":
        return httpx.Response(200, json=COMPLETION, headers={"x-request-id": "req_answer"})
    call = {"id": "call_1", "type": "function", "function": {"name": "double", "arguments": '{"n": 2}'}}
    message = {"role": "assistant", "content": None, "tool_calls": [call]}
    body = {**COMPLETION, "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}]}
    return httpx.Response(200, json=body, headers={"x-request-id": "req_call"})


async def test_a_tool_run_has_a_span_per_turn_and_per_tool_call(make_client: Any, spans: Any) -> None:
    @meshapi.tool
    def double(n: int) -> int:
        """Twice n."""
        return 2 * n

    client = make_client(_tool_call_then_answer)
    run = client.chat.completions.run_tools(model="m", messages=MESSAGES, tools=[double])
    await resolve(run.until_done())
    names = [span.name for span in spans.get_finished_spans()]
    assert names == ["chat m", "execute_tool double", "chat m", "usage"]  # then the lookup of its cost
    assert str(run.cost_usd) == "0.02" and not run.cost_estimated
    tool_span = spans.get_finished_spans()[1]
    assert dict(tool_span.attributes) == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "double",
        "gen_ai.tool.call.id": "call_1",
    }


async def test_a_stream_retried_after_an_error_frame_first_is_one_span(make_client: Any, spans: Any) -> None:
    frame = b'data: {"error": {"code": "provider_overloaded", "message": "busy"}}\n\ndata: [DONE]\n\n'

    first = RecordingStream([frame])

    def overloaded(request: httpx.Request) -> httpx.Response:
        headers = {"content-type": "text/event-stream", "x-request-id": "req_frame"}
        return httpx.Response(200, headers=headers, stream=first)  # streamed, as from a socket

    client = make_client(sequence(overloaded, sse), retry=meshapi.RetryPolicy(1, backoff_base_ms=0))
    chunks = await collect(client.chat.completions.stream(model="m", messages=MESSAGES))
    assert len(chunks) == 1
    (span,) = spans.get_finished_spans()  # ended once, when the retried stream was read
    attributes = dict(span.attributes)
    assert attributes["meshapi.retries"] == 1 and attributes["meshapi.request_id"] == "req_sse"
    assert first.closed
