"""Resilience as the caller configures and observes it: retry policy, model fallback, events.

``RetryPolicy`` and ``FallbackConfig`` are the public settings (the names the official SDK's next
release uses); the transport turns a ``RetryPolicy`` into the internal ``meshapi._core.retry`` schedule
with :func:`schedule_of`. Every retry, every hop along a fallback chain and every gateway routing outcome
becomes one event (``RetryEvent`` / ``FallbackEvent`` / ``GatewayRoutingEvent``), handed to the
client's ``logger`` and printed as one line on stderr with ``debug=True`` (:class:`Observer`, which never
sees headers, bodies or the token); the transport also adds it to the call's OpenTelemetry span.

Where ours differs from the official defaults (each on purpose, and documented in the README):

* a POST always carries an ``Idempotency-Key``, the same on every retry of one request (a fallback hop
  is a new request, so it gets a new key);
* a server's ``Retry-After`` is a floor: jitter only lengthens the wait, and a hint longer than
  ``retry_max_after`` is not waited out (the error is raised at once);
* with ``retry_on_network_error=False``, a connection that failed *before the request was sent*
  (refused, connect timeout, pool timeout) is still retried: nothing reached the server, so nothing
  can run twice. Failures after sending are retried only with ``retry_on_network_error=True``.
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Mapping, Optional, Sequence, Tuple, Union

from ._core.request import RequestOptions
from ._core.retry import MAX_RETRIES_LIMIT, RETRYABLE_STATUSES, RetrySchedule, check_wait, frame_status
from ._errors import ConfigurationError, HookError, InvalidParamsError

__all__ = [
    "DEFAULT_FALLBACK_STATUSES",
    "MAX_FALLBACK_MODELS",
    "FallbackConfig",
    "FallbackEvent",
    "GatewayRoutingEvent",
    "Hops",
    "Observer",
    "ResilienceEvent",
    "ResilienceLogger",
    "RetryEvent",
    "RetryPolicy",
    "check_fallback_models",
    "routing_event",
    "routing_model",
    "schedule_of",
    "with_fallback",
]

# Statuses that never advance a fallback chain, whatever ``on_status`` says: the same request would
# fail the same way on any model (auth, billing, validation, not found).
TERMINAL_STATUSES = frozenset({400, 401, 402, 403, 404, 409, 413, 422})
TERMINAL_CODES = frozenset(
    {
        "unauthorized",
        "forbidden",
        "insufficient_credits",
        "payment_required",
        "invalid_request",
        "validation_error",
        "invalid_params",
        "context_length_exceeded",
        "content_filter",
    }
)


def _statuses(value: Any, name: str) -> Tuple[int, ...]:
    try:
        items = tuple(value)
    except TypeError:
        raise ConfigurationError(f"{name} must be a sequence of HTTP status codes, got {value!r}") from None
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int) or not 100 <= item <= 599:
            raise ConfigurationError(f"{name} must hold HTTP status codes (100-599), got {item!r}")
    return items


@dataclass(frozen=True)
class RetryPolicy:
    """How the transport retries one request (the official SDK's names and defaults).

    ``max_retries``: retries after the first attempt. ``retry_on_status``: statuses worth another
    attempt (a server's ``x-should-retry`` header still overrides either way). ``backoff_base_ms`` /
    ``backoff_max_ms``: exponential backoff from the base, capped, with jitter (each a finite number
    of milliseconds from 0 to 3,600,000, one hour; else ``ConfigurationError``). ``respect_retry_after``:
    wait at least the server's ``Retry-After`` / ``retry-after-ms`` hint (``False``: ignore hints).
    ``retry_on_network_error``: also retry failures after the request was sent (see the module
    docstring for what is retried regardless).
    """

    max_retries: int = 3
    retry_on_status: Tuple[int, ...] = (429, 502, 503, 504)
    backoff_base_ms: int = 500
    backoff_max_ms: int = 30000
    respect_retry_after: bool = True
    retry_on_network_error: bool = False

    def __post_init__(self) -> None:
        value = self.max_retries
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_RETRIES_LIMIT:
            raise ConfigurationError(
                f"RetryPolicy.max_retries must be an integer from 0 to {MAX_RETRIES_LIMIT}, got {value!r}"
            )
        object.__setattr__(
            self, "retry_on_status", _statuses(self.retry_on_status, "RetryPolicy.retry_on_status")
        )
        for name in ("backoff_base_ms", "backoff_max_ms"):  # finite, 0 to one hour (MAX_WAIT)
            check_wait(getattr(self, name), f"RetryPolicy.{name}", unit="milliseconds", scale=0.001)


@dataclass(frozen=True)
class FallbackConfig:
    """A model-fallback chain: after the transport gives up on one of ``on_status``, the same request
    is sent again with each model of ``models`` in order. Terminal errors never advance it.

    ``models`` is kept with repeats dropped (first place kept); more than ``MAX_FALLBACK_MODELS``
    (16) distinct models is a ``ConfigurationError``.
    """

    models: Sequence[str] = field(default_factory=tuple)
    on_status: Tuple[int, ...] = (502, 503, 504)

    def __post_init__(self) -> None:
        try:
            models = check_fallback_models(self.models)
        except InvalidParamsError as exc:
            raise ConfigurationError(
                exc.message.replace("fallback_models", "FallbackConfig.models")
            ) from None
        object.__setattr__(self, "models", models)
        object.__setattr__(self, "on_status", _statuses(self.on_status, "FallbackConfig.on_status"))


DEFAULT_FALLBACK_STATUSES: Tuple[int, ...] = (502, 503, 504)


class Hops:
    """Where one call stands on its fallback chain (pure: the transport sends, this decides)."""

    __slots__ = ("body", "chain", "current", "on_status", "position", "previous")

    def __init__(self, body: Dict[str, Any], chain: Tuple[str, ...], on_status: Tuple[int, ...]) -> None:
        self.body = body
        self.chain = chain
        self.on_status = on_status
        self.position = 0  # hops taken; chain[position - 1] is the model in use
        self.current = str(body.get("model") or "")
        self.previous = ""

    def advance(self, exc: Any) -> Optional[Dict[str, Any]]:
        """The body for the next model after ``exc``, or ``None`` (terminal, not listed, chain ended)."""
        code = getattr(exc, "error_code", "") or ""
        status = getattr(exc, "status", 0) or frame_status(code)  # an in-band error: its code's status
        if status not in self.on_status or status in TERMINAL_STATUSES or code in TERMINAL_CODES:
            return None
        if self.position >= len(self.chain):
            return None
        self.previous, self.current = self.current, self.chain[self.position]
        self.position += 1
        return {**self.body, "model": self.current}


#: The most distinct models a fallback chain may name (the local gateway caps a chat ``models`` list the same).
MAX_FALLBACK_MODELS = 16


def check_fallback_models(value: Any) -> Tuple[str, ...]:
    """``value`` as a tuple of model ids, each once in first-seen order.

    Raises ``InvalidParamsError`` for a lone string, an empty or non-string id, or more than
    :data:`MAX_FALLBACK_MODELS` distinct models (each would be one more request).
    """
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise InvalidParamsError(f"fallback_models must be a list of model ids, got {type(value).__name__}")
    for model in value:
        if not isinstance(model, str) or not model.strip():
            raise InvalidParamsError(f"fallback_models must hold non-empty model ids, got {model!r}")
    models = tuple(dict.fromkeys(value))
    if len(models) > MAX_FALLBACK_MODELS:
        raise InvalidParamsError(
            f"fallback_models may name at most {MAX_FALLBACK_MODELS} distinct models, got {len(models)}"
        )
    return models


def with_fallback(opts: RequestOptions, fields: Any) -> RequestOptions:
    """``opts`` of a chat call: marked as able to fall back, with ``fields``' own chain taken out."""
    chain = fields.pop("fallback_models", None)
    models = check_fallback_models(chain) if chain is not None else None
    return dataclasses.replace(opts, fallback=True, fallback_models=models)


def schedule_of(policy: RetryPolicy, base: RetrySchedule) -> RetrySchedule:
    """The internal retry schedule for ``policy`` (``base`` supplies what the policy does not name)."""
    return RetrySchedule(
        max_retries=policy.max_retries,
        initial_delay=policy.backoff_base_ms / 1000.0,
        max_delay=policy.backoff_max_ms / 1000.0,
        max_retry_after=base.max_retry_after,
        jitter=base.jitter,
        retry_read_timeouts=base.retry_read_timeouts or policy.retry_on_network_error,
        statuses=frozenset(policy.retry_on_status),
        respect_retry_after=policy.respect_retry_after,
        unsent_only=not policy.retry_on_network_error,
    )


# -- events ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryEvent:
    """One failed attempt that will be retried (``attempt`` counts from 1: the one that failed)."""

    method: str
    path: str
    attempt: int
    max_retries: int
    delay_ms: int
    reason: str  # "status", "network-error" or "stream-error" (an error frame as a stream's first event)
    status: Optional[int]
    request_id: str
    type: str = "retry"


@dataclass(frozen=True)
class FallbackEvent:
    """The chain moves on: the request is sent again with ``to_model``.

    ``chain_index`` is the 1-based position of ``to_model`` in the chain, ``chain_length`` its length.
    """

    from_model: str
    to_model: str
    chain_index: int
    chain_length: int
    status: int
    error_code: str
    request_id: str
    type: str = "fallback"


@dataclass(frozen=True)
class GatewayRoutingEvent:
    """The gateway's routing outcome of one response (``x-mesh-routing-*`` headers).

    ``routing_model``: the model that served instead of the one asked for (``X-Mesh-Routing-Model``,
    sent when cross-model fallback or the router chose it), ``None`` when the gateway did not say.
    """

    path: str
    attempts: int
    fallback: bool
    served_provider: Optional[str]
    request_id: str
    type: str = "gateway-routing"
    routing_model: Optional[str] = None


ResilienceEvent = Union[RetryEvent, FallbackEvent, GatewayRoutingEvent]
ResilienceLogger = Callable[[ResilienceEvent], Any]


def routing_event(path: str, headers: Mapping[str, str]) -> Optional[GatewayRoutingEvent]:
    """The routing outcome carried by ``headers``, or ``None`` when there is none (or it is garbage).

    ``X-Mesh-Routing-Model`` alone (a router's choice, no attempt count) is an outcome of one attempt.
    """
    model = routing_model(headers)
    raw = headers.get("x-mesh-routing-attempts")
    if raw is None:
        if model is None:
            return None
        raw = "1"
    raw = raw.strip()
    if not raw.isdigit() or len(raw) > 6:
        return None
    provider = headers.get("x-mesh-served-provider")
    provider = provider.strip() if provider else None
    return GatewayRoutingEvent(
        path=path,
        attempts=int(raw),
        fallback=(headers.get("x-mesh-routing-fallback") or "").strip().lower() == "true",
        served_provider=provider or None,
        request_id=headers.get("x-request-id") or "",
        routing_model=model,
    )


def routing_model(headers: Mapping[str, str]) -> Optional[str]:
    """``X-Mesh-Routing-Model`` (the model that served instead of the one asked for), ``None`` when absent
    or blank."""
    value = headers.get("x-mesh-routing-model")
    return value.strip() or None if value else None


def debug_line(event: ResilienceEvent) -> Optional[str]:
    """The one stderr line of ``event`` (``None``: a routing outcome without retry or fallback)."""
    rid = f" [{event.request_id}]" if event.request_id else ""
    if isinstance(event, RetryEvent):
        what = str(event.status) if event.reason == "status" and event.status else "network error"
        if event.reason == "stream-error":
            what = f"error frame as the first event ({event.status})"
        return (
            f"[meshapi] retrying {event.method} {event.path} (attempt {event.attempt}/"
            f"{event.max_retries + 1} failed: {what}, next in {event.delay_ms}ms){rid}"
        )
    if isinstance(event, FallbackEvent):
        return (
            f"[meshapi] falling back {event.from_model} \u2192 {event.to_model} ({event.chain_index}/"
            f"{event.chain_length}: {event.status} {event.error_code}){rid}"
        )
    if event.attempts <= 1 and not event.fallback:
        return None
    parts = [f"{event.attempts} attempt{'s' if event.attempts != 1 else ''}"]
    if event.fallback:
        parts.append("provider fallback")
    via = f" via {event.served_provider}" if event.served_provider else ""
    model = f" with {event.routing_model}" if event.routing_model else ""
    return f"[meshapi] gateway served {event.path}{model}{via} ({', '.join(parts)}){rid}"


class Observer:
    """Where one client's events go: the ``logger`` and stderr (``debug``); the call's span gets them
    from ``meshapi._transport.otel.add_event``."""

    __slots__ = ("debug", "logger")

    def __init__(self, logger: Optional[ResilienceLogger], debug: bool) -> None:
        self.logger = logger
        self.debug = debug

    def emit(self, event: ResilienceEvent) -> None:
        if self.debug:
            line = debug_line(event)
            if line is not None:
                print(line, file=sys.stderr, flush=True)
        if self.logger is not None:
            try:
                self.logger(event)
            except Exception as exc:
                raise HookError(f"The resilience logger raised {type(exc).__name__}: {exc}") from exc


__all__ += ["RETRYABLE_STATUSES", "TERMINAL_CODES", "TERMINAL_STATUSES", "debug_line"]
