"""The one JSON-frame decoder: an SSE event in, ``DONE`` / nothing / an error / the endpoint's model out.

Why it exists: every SSE endpoint (chat, responses, compare, images, and 0.1.4's ``_try_parse_sse_frame``
/ ``_iter_sse`` helpers) takes the same step after the SSE decoder, and it is written here once. A
``data:`` frame is one of: ``[DONE]`` (the end marker), empty (skipped), an error (the in-band
envelope ``{"error": {...}}``, an ``event: error`` frame or a ``"type": "error"`` payload: raised as
``StreamEventError`` with code, message, provider error and request id), or a JSON object validated
as the endpoint's item model (a mismatch is ``APIResponseValidationError`` carrying the stream's
request id). Endpoints differ only in two switches: whether a non-object ``error`` value is fatal
(compare reports per-model failures as ``"error": "<text>"`` items) and whether the SSE event name is
copied into the payload. Pure: no I/O.

:func:`decode_item` is the entry point of the typed streams. Its fast case validates the JSON text
straight into the model when the frame cannot be an error and has no event name to copy (nearly
every chat chunk); everything else goes through :func:`decode_frame`. The chat decoder puts its own
faster case in front (``meshapi.lib._chat_fast_path``: frames of a learned shape built without
parsing); what it cannot build comes here.
"""

from __future__ import annotations

import json
from typing import Any, AsyncIterable, AsyncIterator, Dict, Iterable, Iterator, Optional, Type, TypeVar, Union

from pydantic import BaseModel, ValidationError

from .._errors import APIResponseValidationError, StreamEventError
from .response import stream_error_from_frame, validate_model
from .sse import ServerSentEvent, SSEDecoder, aiter_sse, iter_sse

__all__ = [
    "DONE",
    "DONE_SENTINEL",
    "Done",
    "aiter_frames",
    "decode_frame",
    "decode_item",
    "error_event",
    "iter_frames",
    "parse_frame",
    "validate_frame",
]

M = TypeVar("M", bound=BaseModel)

DONE_SENTINEL = "[DONE]"


class Done:
    """The type of :data:`DONE`, the end marker ``[DONE]`` as a value."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "DONE"


DONE = Done()
"""What :func:`decode_frame` and :func:`decode_item` return for the ``[DONE]`` end marker."""


def parse_frame(data: str, request_id: str) -> Dict[str, Any]:
    """A ``data:`` payload as a JSON object, or ``APIResponseValidationError``."""
    try:
        payload = json.loads(data)
    except ValueError:
        raise APIResponseValidationError(
            f"A stream frame is not valid JSON: {data[:200]!r}", request_id=request_id
        ) from None
    if not isinstance(payload, dict):
        raise APIResponseValidationError(
            f"A stream frame is not a JSON object: {data[:200]!r}", request_id=request_id
        )
    return payload


def error_event(payload: Dict[str, Any], request_id: str) -> StreamEventError:
    """The error of an ``error`` event: nested ``{"error": {...}}`` or flat ``{"code", "message"}``."""
    if isinstance(payload.get("error"), dict):
        return stream_error_from_frame(payload, request_id)
    flat = {
        "error": {
            "code": payload.get("code"),
            "message": payload.get("message")
            or (payload.get("error") if isinstance(payload.get("error"), str) else None),
            "provider_error": payload.get("provider_error"),
            "provider_code": payload.get("provider_code"),
        },
        "request_id": payload.get("request_id"),
    }
    error = stream_error_from_frame(flat, request_id)
    error.body = payload
    return error


def decode_frame(
    event: ServerSentEvent,
    request_id: str,
    *,
    string_errors_fatal: bool = True,
    copy_event_name: bool = True,
) -> Union[Done, Dict[str, Any], None]:
    """``DONE``, ``None`` (nothing to deliver) or the frame's JSON object; raises for error frames.

    ``string_errors_fatal=False`` (compare): only an ``error`` *object* is the stream's failure; a
    string ``error`` belongs to the item. ``copy_event_name``: the ``event:`` name is stored under
    ``"event"`` in the payload, as 0.1.4 did.
    """
    data = event.data
    if data[:1] != "{":
        stripped = data.strip()
        if stripped == DONE_SENTINEL:
            return DONE
        if not stripped:
            return None
    payload = parse_frame(data, request_id)
    name = event.event
    if name == "error" or payload.get("type") == "error":
        raise error_event(payload, request_id)
    error = payload.get("error")
    if error is not None and (string_errors_fatal or isinstance(error, dict)):
        raise stream_error_from_frame(payload, request_id)
    if name and copy_event_name:
        payload["event"] = name
    return payload


def validate_frame(model: Type[M], data: Union[str, Dict[str, Any]], request_id: str) -> M:
    """``data`` (a JSON text or an already decoded object) validated as ``model``."""
    try:
        return validate_model(model, data, None)
    except APIResponseValidationError as exc:
        exc.request_id = request_id
        raise


def decode_item(
    event: ServerSentEvent,
    model: Type[M],
    request_id: str,
    *,
    string_errors_fatal: bool = True,
    copy_event_name: bool = True,
) -> Union[M, Done, None]:
    """The frame as ``model``, ``DONE`` or ``None``; raises for error frames (see :func:`decode_frame`).

    Fast case: a JSON object with no ``"error"`` anywhere in its text and no event name that matters
    cannot be an error frame, so its text is validated straight into ``model`` (no ``json.loads``).
    """
    data = event.data
    name = event.event
    if (
        data[:1] == "{"
        and '"error"' not in data
        and (name is None or not (copy_event_name or name == "error"))
    ):
        try:
            return model.model_validate_json(data)
        except ValidationError:
            return validate_frame(model, data, request_id)  # raises the typed error
    payload = decode_frame(
        event, request_id, string_errors_fatal=string_errors_fatal, copy_event_name=copy_event_name
    )
    if isinstance(payload, dict):
        return validate_frame(model, payload, request_id)
    return payload


# --- the untyped frames of 0.1.4 (``_try_parse_sse_frame``, ``_iter_sse``, ``transport.stream()``) --------

_DONE: Dict[str, Any] = {}


def _try_parse_sse_frame(
    frame: Union[str, ServerSentEvent], fallback_request_id: str = ""
) -> Optional[Dict[str, Any]]:
    """0.1.4 helper: one SSE frame (raw text or a decoded event) as a dict.

    Returns ``None`` for frames without data, the module's ``_DONE`` marker for ``[DONE]``, and raises
    ``StreamEventError`` for an error frame (its ``request_id`` is the frame's own, else
    ``fallback_request_id``, as the official SDK after 0.1.12 does) and ``APIResponseValidationError`` for
    data that is not a JSON object (0.1.4 skipped such frames silently).
    """
    if isinstance(frame, ServerSentEvent):
        events = [frame]
    else:
        decoder = SSEDecoder()
        events = decoder.feed(frame.encode("utf-8")) + decoder.flush()
    for event in events:
        payload = decode_frame(event, fallback_request_id)
        if payload is DONE:
            return _DONE
        if isinstance(payload, dict):
            return payload
    return None


def iter_frames(chunks: Iterable[bytes], max_event_bytes: Optional[int] = None) -> Iterator[Dict[str, Any]]:
    """The JSON objects of an SSE byte stream, until ``[DONE]`` (0.1.4's ``_iter_sse``).

    ``max_event_bytes`` caps one line and one event (``None``: 64 MiB); past it, ``SSELimitError``.
    """
    for event in iter_sse(chunks, max_event_bytes=max_event_bytes):
        frame = _try_parse_sse_frame(event)
        if frame is _DONE:
            return
        if frame is not None:
            yield frame


async def aiter_frames(
    chunks: AsyncIterable[bytes], max_event_bytes: Optional[int] = None
) -> AsyncIterator[Dict[str, Any]]:
    """Async twin of :func:`iter_frames`."""
    async for event in aiter_sse(chunks, max_event_bytes=max_event_bytes):
        frame = _try_parse_sse_frame(event)
        if frame is _DONE:
            return
        if frame is not None:
            yield frame


_iter_sse = iter_frames  # the 0.1.4 name (``meshapi._http._iter_sse``)
