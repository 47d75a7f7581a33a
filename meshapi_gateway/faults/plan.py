"""Fault injection: how tests make the local gateway misbehave on purpose.

A :class:`FaultPlan` holds :class:`Fault` entries. Each HTTP request the gateway receives (after
authentication) takes the first matching fault that still has uses left; ``FaultMiddleware`` then
applies it. The realtime WebSocket route takes its own fault with ``faults.take("GET", path)`` when a
connection opens (a WebSocket upgrade is a GET).

What each knob does (they combine; ``status``/``body`` replace the real handler entirely):

* ``status`` - answer that status with the standard error envelope (code from
  :data:`meshapi_gateway.errors.CODE_FOR_STATUS`, 5xx -> ``upstream_error``) unless ``body`` is given.
* ``body`` - the response body (a dict is sent as JSON; ``str``/``bytes`` as ``text/plain`` unless
  ``content_type`` says otherwise). With no ``status`` it is sent with 200.
* ``headers``, ``retry_after`` (``Retry-After``), ``retry_after_ms`` (``retry-after-ms``) - extra
  response headers, on fault responses and on real ones alike.
* ``content_type`` - overrides the ``Content-Type`` of the response.
* ``delay_first_byte`` - sleep this many seconds before the handler runs (nothing is sent meanwhile).
* ``drop_after_events`` - SSE: send N events, then close the connection without finishing the
  chunked body. Non-SSE responses: close the connection before sending anything.
* ``stall_after_events`` - SSE: after N events, pause ``stall_seconds`` then continue (non-SSE: pause
  between the headers and the body).
* ``malformed_after_events`` - SSE: after N events, send a ``data: {not json`` frame, then continue.
* ``error_event_after`` - SSE: after N events, send an in-band error frame
  ``{"error": {"code": error_code, "message": ...}, "request_id": ...}`` and ``data: [DONE]``, then end.
  ``0`` is an error frame as the first event (with ``times=N``: N such streams, then normal ones);
  ``error_retry_after`` adds ``retry_after_seconds`` to that frame.
* ``provider_code`` - the failure came from a (simulated) provider: ``error.provider_code`` is added to
  the ``status`` envelope and to the in-band error frame. With ``status`` (and no ``body``) the envelope's
  code becomes the one documented with that provider code (``context_window_exceeded`` -> the same,
  ``provider_timeout`` -> ``gateway_timeout``, ...: ``errors.CODE_FOR_PROVIDER_CODE``).
* ``first_event_delay`` - SSE: a slow generation: the headers go out at once, the first event this
  many seconds later (``delay_first_byte`` holds the headers back instead).
* ``keepalive_seconds`` - SSE: before the first event, only ``: keep-alive`` comments, one every
  ``keepalive_interval`` seconds, for this long; then the stream goes on normally.
* ``tool_calls_without_index`` - SSE chat: every tool-call delta loses its ``index`` and ``id`` (what
  some providers behind a gateway send).
* ``truncate_body`` - non-SSE: declare the full ``Content-Length``, send half the body, then close.
* ``huge_body_bytes`` - non-SSE JSON: pad the body to about this many bytes (a JSON object gets a
  ``_padding`` string field; other JSON values are followed by whitespace), still valid JSON.
* ``ws_close_code`` - realtime: close the WebSocket with this code after ``ws_close_after_events``
  server events.
* ``webhook_duplicates``, ``webhook_delay``, ``webhook_stale_seconds`` - webhook deliveries of the
  event type named by the route ``webhook:<type>`` (``webhook:*`` for any): that many extra copies of
  the delivery, the first attempt held back that many seconds, a signature timestamp that many seconds
  old (``webhooks/delivery.py``). Only :meth:`FaultPlan.take_webhook` takes these routes.

``route`` matches the request path exactly, or as a prefix when it ends with ``*``; ``method`` (if
given) must match too. ``times`` is the number of requests it applies to (``-1`` = forever).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Union

__all__ = ["Fault", "FaultBody", "FaultPlan"]

FaultBody = Optional[Union[bytes, str, Dict[str, Any]]]


@dataclass
class Fault:
    """One planned misbehaviour; see the module docstring for the meaning of each field."""

    route: str
    method: Optional[str] = None
    times: int = 1
    status: Optional[int] = None
    body: FaultBody = None
    headers: Optional[Dict[str, str]] = None
    retry_after: Optional[str] = None
    retry_after_ms: Optional[int] = None
    content_type: Optional[str] = None
    delay_first_byte: Optional[float] = None
    drop_after_events: Optional[int] = None
    stall_after_events: Optional[int] = None
    stall_seconds: float = 0.0
    malformed_after_events: Optional[int] = None
    error_event_after: Optional[int] = None
    error_code: str = "upstream_error"
    provider_code: Optional[str] = None
    error_retry_after: Optional[float] = None
    first_event_delay: Optional[float] = None
    keepalive_seconds: Optional[float] = None
    keepalive_interval: float = 0.2
    tool_calls_without_index: bool = False
    truncate_body: bool = False
    huge_body_bytes: Optional[int] = None
    ws_close_code: Optional[int] = None
    ws_close_after_events: int = 1
    webhook_duplicates: Optional[int] = None
    webhook_delay: Optional[float] = None
    webhook_stale_seconds: Optional[float] = None
    #: How many requests this fault has been applied to so far.
    hits: int = field(default=0, compare=False)

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        if self.route.endswith("*"):
            return path.startswith(self.route[:-1])
        return path == self.route

    @property
    def exhausted(self) -> bool:
        return self.times >= 0 and self.hits >= self.times

    @property
    def replaces_response(self) -> bool:
        """True when the fault answers on its own instead of letting the real handler run."""
        return self.status is not None or self.body is not None

    def extra_headers(self) -> Dict[str, str]:
        out = {k.lower(): str(v) for k, v in (self.headers or {}).items()}
        if self.retry_after is not None:
            out["retry-after"] = str(self.retry_after)
        if self.retry_after_ms is not None:
            out["retry-after-ms"] = str(self.retry_after_ms)
        return out

    def summary(self) -> Dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if v is not None}
        if isinstance(data.get("body"), bytes):
            data["body"] = data["body"].decode("utf-8", "replace")
        return data


_FAULT_FIELDS = frozenset(Fault.__dataclass_fields__) - {"route", "hits"}


class FaultPlan:
    """A thread-safe list of faults, shared by the test thread and the server thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: List[Fault] = []

    def add(
        self,
        route: str,
        *,
        method: Optional[str] = None,
        times: int = 1,
        status: Optional[int] = None,
        body: FaultBody = None,
        headers: Optional[Dict[str, str]] = None,
        retry_after: Optional[str] = None,
        retry_after_ms: Optional[int] = None,
        content_type: Optional[str] = None,
        delay_first_byte: Optional[float] = None,
        drop_after_events: Optional[int] = None,
        stall_after_events: Optional[int] = None,
        stall_seconds: float = 0.0,
        malformed_after_events: Optional[int] = None,
        error_event_after: Optional[int] = None,
        error_code: str = "upstream_error",
        provider_code: Optional[str] = None,
        error_retry_after: Optional[float] = None,
        first_event_delay: Optional[float] = None,
        keepalive_seconds: Optional[float] = None,
        keepalive_interval: float = 0.2,
        tool_calls_without_index: bool = False,
        truncate_body: bool = False,
        huge_body_bytes: Optional[int] = None,
        ws_close_code: Optional[int] = None,
        ws_close_after_events: int = 1,
        webhook_duplicates: Optional[int] = None,
        webhook_delay: Optional[float] = None,
        webhook_stale_seconds: Optional[float] = None,
    ) -> Fault:
        """Plan a fault for requests to ``route``; returns it (``fault.hits`` counts its uses)."""
        if times == 0 or times < -1:
            raise ValueError("times must be a positive count or -1 (forever)")
        if not keepalive_interval > 0:
            raise ValueError("keepalive_interval must be a positive number of seconds")
        for name, value in (
            ("webhook_duplicates", webhook_duplicates),
            ("webhook_delay", webhook_delay),
            ("webhook_stale_seconds", webhook_stale_seconds),
        ):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0
            ):
                raise ValueError(f"{name} must be a number of at least 0")
        if isinstance(webhook_duplicates, float):
            raise ValueError("webhook_duplicates must be a whole number of extra copies")
        fault = Fault(
            route=route,
            method=method.upper() if method else None,
            times=times,
            status=status,
            body=body,
            headers=dict(headers) if headers else None,
            retry_after=None if retry_after is None else str(retry_after),
            retry_after_ms=retry_after_ms,
            content_type=content_type,
            delay_first_byte=delay_first_byte,
            drop_after_events=drop_after_events,
            stall_after_events=stall_after_events,
            stall_seconds=stall_seconds,
            malformed_after_events=malformed_after_events,
            error_event_after=error_event_after,
            error_code=error_code,
            provider_code=provider_code,
            error_retry_after=error_retry_after,
            first_event_delay=first_event_delay,
            keepalive_seconds=keepalive_seconds,
            keepalive_interval=keepalive_interval,
            tool_calls_without_index=tool_calls_without_index,
            truncate_body=truncate_body,
            huge_body_bytes=huge_body_bytes,
            ws_close_code=ws_close_code,
            ws_close_after_events=ws_close_after_events,
            webhook_duplicates=webhook_duplicates,
            webhook_delay=webhook_delay,
            webhook_stale_seconds=webhook_stale_seconds,
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def add_from_dict(self, spec: Dict[str, Any]) -> Fault:
        """``add()`` from a JSON object (the admin route); unknown keys raise ``ValueError``."""
        if not isinstance(spec.get("route"), str):
            raise ValueError("'route' (string) is required")
        unknown = set(spec) - _FAULT_FIELDS - {"route"}
        if unknown:
            raise ValueError(f"unknown fault fields: {', '.join(sorted(unknown))}")
        kwargs = {k: v for k, v in spec.items() if k != "route"}
        return self.add(spec["route"], **kwargs)

    def take(self, method: str, path: str) -> Optional[Fault]:
        """Consume one use of the first matching fault, or return ``None``."""
        with self._lock:
            for fault in self._faults:
                if not fault.exhausted and fault.matches(method, path):
                    fault.hits += 1
                    return fault
        return None

    def take_webhook(self, event_type: str) -> Optional[Fault]:
        """Consume one use of the first fault planned on ``webhook:<event_type>`` (or ``webhook:*``)."""
        with self._lock:
            for fault in self._faults:
                ours = fault.route.startswith("webhook:")
                if ours and not fault.exhausted and fault.matches("WEBHOOK", f"webhook:{event_type}"):
                    fault.hits += 1
                    return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> List[Fault]:
        """Faults that still have uses left."""
        with self._lock:
            return [f for f in self._faults if not f.exhausted]

    def __len__(self) -> int:
        return len(self.pending())

    def __iter__(self) -> Iterator[Fault]:
        with self._lock:
            return iter(list(self._faults))
