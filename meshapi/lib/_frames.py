"""The one JSON-frame decoder every SSE endpoint uses (chat, responses, compare, images).

A ``data:`` frame is one of: ``[DONE]`` (the end marker), empty (skipped), an error (the in-band
envelope ``{"error": {...}}``, an ``event: error`` frame or a ``"type": "error"`` payload: raised as
``StreamEventError`` with code, message, provider error and request id), or a JSON object that is
validated as the endpoint's item model (a mismatch is ``APIResponseValidationError`` carrying the
stream's request id). Endpoints differ only in two switches: whether a non-object ``error`` value is
fatal (compare reports per-model failures as ``"error": "<text>"`` items) and whether the SSE event
name is copied into the payload.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Type, TypeVar, Union

from pydantic import BaseModel

from .._core.response import stream_error_from_frame, validate_model
from .._core.sse import ServerSentEvent
from .._errors import APIResponseValidationError, StreamEventError

__all__ = ["DONE", "decode_frame", "error_event", "parse_frame", "validate_frame"]

M = TypeVar("M", bound=BaseModel)


class _Done:
    __slots__ = ()

    def __repr__(self) -> str:
        return "DONE"


DONE = _Done()
"""What :func:`decode_frame` returns for the ``[DONE]`` end marker."""


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
) -> Union[_Done, Dict[str, Any], None]:
    """``DONE``, ``None`` (nothing to deliver) or the frame's JSON object; raises for error frames.

    ``string_errors_fatal=False`` (compare): only an ``error`` *object* is the stream's failure; a
    string ``error`` belongs to the item. ``copy_event_name``: the ``event:`` name is stored under
    ``"event"`` in the payload, as 0.1.4 did.
    """
    data = event.data
    if data[:1] != "{":
        stripped = data.strip()
        if stripped == "[DONE]":
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
