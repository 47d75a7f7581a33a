"""OpenTelemetry tracing (extra ``otel``): one CLIENT span per API call, retries and stream reading inside.

Active only when ``opentelemetry-api`` is importable (``pip install "meshapi[otel]"``) and a tracer
provider records spans; otherwise nothing is imported (one failed import attempt, cached) and no span
is made. The span is named ``{operation} {model}`` and carries GenAI semantic-convention attributes
(``gen_ai.operation.name``, ``gen_ai.request.model``, ``gen_ai.response.model``,
``gen_ai.usage.input_tokens`` / ``output_tokens``) plus ``http.response.status_code``,
``meshapi.request_id`` and ``meshapi.retries``. Never the token or headers; message content only with
``MESHAPI_OTEL_CAPTURE_CONTENT=true`` (``gen_ai.input.messages`` / ``gen_ai.output.messages``).
A stream's span ends when its response is closed (after ``[DONE]``, an error, or ``close()``).

Tracing never changes a call's outcome: whatever the tracer, a span processor or a span raises
(``start_span``, ``set_attribute``, ``add_event``, ``set_status``, ``end``) is caught here, the call
returns or raises what it would have without tracing, and the first failure of each kind (``start``,
``attributes``, ``end``) is logged once as a warning on the ``meshapi`` logger (the exception's type
and its text with every token scrubbed); later ones at debug level.
"""

from __future__ import annotations

import json
import logging
import os
from typing import TYPE_CHECKING, Any, AsyncIterator, Dict, Iterator, Optional, Set

import httpx

from .._redact import scrub
from .._version import __version__
from .capture import Capture, StopAfterResponse

if TYPE_CHECKING:
    from .._resilience import ResilienceEvent

__all__ = ["add_event", "add_wait", "ended", "failed", "finish", "start", "tracer", "watch_stream"]

log = logging.getLogger("meshapi")
_reported: Set[str] = set()  # the failure kinds already logged as a warning


def _report(kind: str, exc: Exception) -> None:
    """Log that tracing failed at ``kind`` (a warning the first time per kind, then debug)."""
    level = logging.DEBUG if kind in _reported else logging.WARNING
    _reported.add(kind)
    log.log(
        level,
        "OpenTelemetry span %s failed (%s: %s); the call goes on untraced there",
        kind,
        type(exc).__name__,
        scrub(str(exc))[:300],
    )


_UNSET: Any = object()
_tracer: Any = _UNSET

# The GenAI operation of each API path prefix (anything else: the resource name, e.g. "models").
_OPERATIONS = {
    "/v1/chat/completions": "chat",
    "/v1/responses": "chat",
    "/v1/compare": "chat",
    "/v1/embeddings": "embeddings",
    "/v1/images": "generate_content",
}


_trace: Any = None


def tracer() -> Any:
    """The ``meshapi`` tracer, or ``None`` when opentelemetry is not installed (checked once)."""
    global _tracer, _trace
    if _tracer is _UNSET:
        try:
            from opentelemetry import trace
        except ImportError:
            _tracer = None
        else:
            _trace = trace
            _tracer = trace.get_tracer("meshapi", __version__)
    return _tracer


def _configured(active: Any) -> bool:
    """Whether spans can record: a real provider's tracer, or a proxy whose provider has been set."""
    if _trace is None or not isinstance(active, _trace.ProxyTracer):
        return True
    return not isinstance(_trace.get_tracer_provider(), _trace.ProxyTracerProvider)


def _operation(path: str) -> str:
    for prefix, name in _OPERATIONS.items():
        if path.startswith(prefix):
            return name
    parts = [p for p in path.split("/") if p]
    return parts[1] if len(parts) > 1 else (parts[0] if parts else "request")


def _capture_content() -> bool:
    return os.environ.get("MESHAPI_OTEL_CAPTURE_CONTENT", "").strip().lower() in ("1", "true", "yes")


def start(method: str, path: str, body: Any, url: httpx.URL) -> Any:
    """A started span for one call, or ``None`` when tracing is off, not recording, or failed to start."""
    span = None
    try:
        active = tracer()
        if active is None or not _configured(active):
            return None
        from opentelemetry.trace import SpanKind

        operation = _operation(path)
        model = body.get("model") if isinstance(body, dict) else None
        name = f"{operation} {model}" if isinstance(model, str) and model else operation
        span = active.start_span(name, kind=SpanKind.CLIENT)
        if not span.is_recording():
            return None
    except Exception as exc:
        _report("start", exc)
        if span is not None:  # started, then failed: ended untouched, the call goes on without it
            _end(span)
        return None
    try:
        _start_attributes(span, operation, model, method, body, url)
    except Exception as exc:
        _report("attributes", exc)
    return span


def _start_attributes(span: Any, operation: str, model: Any, method: str, body: Any, url: httpx.URL) -> None:
    attributes: Dict[str, Any] = {
        "gen_ai.operation.name": operation,
        "gen_ai.provider.name": "meshapi",
        "http.request.method": method,
        "server.address": url.host,
    }
    if url.port is not None:
        attributes["server.port"] = url.port
    if isinstance(model, str):
        attributes["gen_ai.request.model"] = model
    if _capture_content() and isinstance(body, dict) and "messages" in body:
        attributes["gen_ai.input.messages"] = json.dumps(body["messages"], default=str)
    span.set_attributes(attributes)


def _usage_attributes(span: Any, payload: Any) -> None:
    if not isinstance(payload, dict):
        return
    model = payload.get("model")
    if isinstance(model, str):
        span.set_attribute("gen_ai.response.model", model)
    usage = payload.get("usage")
    if isinstance(usage, dict):
        for key, attribute in (
            ("prompt_tokens", "gen_ai.usage.input_tokens"),
            ("input_tokens", "gen_ai.usage.input_tokens"),
            ("completion_tokens", "gen_ai.usage.output_tokens"),
            ("output_tokens", "gen_ai.usage.output_tokens"),
        ):
            value = usage.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                span.set_attribute(attribute, value)
    if _capture_content() and isinstance(payload.get("choices"), list):
        messages = [c.get("message") for c in payload["choices"] if isinstance(c, dict) and c.get("message")]
        if messages:
            span.set_attribute("gen_ai.output.messages", json.dumps(messages, default=str))


def finish(
    span: Any,
    *,
    retries: int,
    response: Optional[httpx.Response] = None,
    error: Optional[BaseException] = None,
    payload: Any = _UNSET,
) -> None:
    """End ``span`` with what the call produced (a read response, or the error raised); never raises.

    The span is ended even when setting its attributes failed."""
    try:
        _final_attributes(span, retries, response, error, payload)
    except Exception as exc:
        _report("attributes", exc)
    _end(span)


def _end(span: Any) -> None:
    try:
        span.end()
    except Exception as exc:
        _report("end", exc)


def add_event(span: Any, event: ResilienceEvent) -> None:
    """Record a resilience event (retry, fallback, gateway routing) on the call's span; never raises."""
    try:
        _event_attributes(span, event)
    except Exception as exc:
        _report("attributes", exc)


def add_wait(span: Any, seconds: float, ahead: int) -> None:
    """Record time spent waiting for the client's rate limiter: a ``meshapi.rate_limiter.wait`` event and
    the call's total in ``meshapi.rate_limiter.wait_ms``; never raises."""
    try:
        waited = round(seconds * 1000, 3)
        span.add_event("meshapi.rate_limiter.wait", {"meshapi.wait_ms": waited, "meshapi.queue_ahead": ahead})
        total = getattr(span, "attributes", None) or {}
        span.set_attribute(
            "meshapi.rate_limiter.wait_ms", total.get("meshapi.rate_limiter.wait_ms", 0) + waited
        )
    except Exception as exc:
        _report("attributes", exc)


def _event_attributes(span: Any, event: ResilienceEvent) -> None:
    from .._resilience import FallbackEvent, GatewayRoutingEvent

    attributes = {f"meshapi.{k}": v for k, v in vars(event).items() if k != "type" and v is not None}
    name = {"retry": "meshapi.retry", "fallback": "meshapi.fallback"}.get(
        event.type, "meshapi.gateway_routing"
    )
    span.add_event(name, attributes)
    if isinstance(event, FallbackEvent):
        span.set_attribute("meshapi.fallback_hops", event.chain_index)
        span.set_attribute("gen_ai.request.model", event.to_model)
    elif isinstance(event, GatewayRoutingEvent):
        span.set_attribute("meshapi.gateway.attempts", event.attempts)


def _final_attributes(
    span: Any, retries: int, response: Optional[httpx.Response], error: Optional[BaseException], payload: Any
) -> None:
    from opentelemetry.trace import Status, StatusCode

    span.set_attribute("meshapi.retries", retries)
    if response is not None:
        span.set_attribute("http.response.status_code", response.status_code)
        request_id = response.headers.get("x-request-id")
        if request_id:
            span.set_attribute("meshapi.request_id", request_id)
        if payload is _UNSET:
            try:
                payload = json.loads(response.content) if response.content else None
            except (ValueError, httpx.ResponseNotRead):
                payload = None
        _usage_attributes(span, payload)
    if error is not None:
        status = getattr(error, "status", 0)
        if status:
            span.set_attribute("http.response.status_code", status)
        request_id = getattr(error, "request_id", "")
        if request_id:
            span.set_attribute("meshapi.request_id", request_id)
        span.set_attribute("error.type", type(error).__name__)
        span.set_status(Status(StatusCode.ERROR, type(error).__name__))


class _LastEvent:
    """Keeps the last SSE data line that mentions usage or a model, for the span's attributes."""

    __slots__ = ("line", "tail")

    def __init__(self) -> None:
        self.line = b""
        self.tail = b""

    def feed(self, chunk: bytes) -> None:
        if b'"usage"' not in chunk and b'"model"' not in chunk:
            self.tail = chunk[-4096:]
            return
        text = self.tail + chunk
        self.tail = chunk[-4096:]
        for line in text.split(b"\n"):
            if line.startswith(b"data:") and (b'"usage"' in line or b'"model"' in line):
                self.line = line

    def payload(self) -> Any:
        if not self.line:
            return None
        try:
            data = json.loads(self.line[5:])
        except ValueError:
            return None
        return data.get("response", data) if isinstance(data, dict) else None


class _SpanStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """Wraps a streamed response's body: watches for usage, ends the span on close."""

    def __init__(self, inner: Any, span: Any, response: httpx.Response, retries: int) -> None:
        self._inner = inner
        self._span = span
        self._response = response
        self._retries = retries
        self._last = _LastEvent()
        self._error: Optional[BaseException] = None

    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in self._inner:
                self._last.feed(chunk)
                yield chunk
        except BaseException as exc:
            self._error = exc
            raise

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._inner:
                self._last.feed(chunk)
                yield chunk
        except BaseException as exc:
            self._error = exc
            raise

    def _end(self) -> None:
        span, self._span = self._span, None
        if span is not None:
            finish(
                span,
                retries=self._retries,
                response=self._response,
                error=self._error,
                payload=self._last.payload(),
            )

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            self._end()

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            self._end()


def watch_stream(span: Any, response: httpx.Response, retries: int) -> None:
    """End ``span`` when the streamed ``response`` is closed, with the usage seen along the way."""
    if response.is_closed:  # the body was already in memory (nothing left to watch)
        last = _LastEvent()
        last.feed(response.content)
        finish(span, retries=retries, response=response, payload=last.payload())
        return
    response.stream = _SpanStream(response.stream, span, response, retries)


def detach(stream: Any) -> None:
    """A streamed attempt given up before anything reached the caller (an error frame first, retried):
    its closing does not end the span; the next attempt's watcher does."""
    if isinstance(stream, _SpanStream):
        stream._span = None


def ended(span: Any, response: httpx.Response, retries: int, stream: bool) -> None:
    """The call returned ``response``: end ``span`` now; a stream's span ends when its response closes
    (its watcher was put on with the stream's other stages, ``reading.install_stream_stages``)."""
    if not stream:
        finish(span, retries=retries, response=response)


def failed(span: Any, exc: BaseException, capture: Optional[Capture], retries: int) -> None:
    """The call raised ``exc``: end ``span`` with it. A ``with_streaming_response`` stop is no failure:
    the captured response is a stream whose watcher already ends the span when it closes."""
    if isinstance(exc, StopAfterResponse) and capture is not None and capture.response is not None:
        return
    finish(span, retries=retries, error=exc)
