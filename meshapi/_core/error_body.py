"""What an HTTP error response says: status, code, message, request id, details, the retry hint. Pure code.

Separate from the error classes (``meshapi._errors``) so that module can build its typed error from
these fields (``error_from_response``, ``MeshAPIError.from_response``) without importing back the
decoding layer: the rules of docs/protocol.md §2.5 (0.1.10) live here, the classes there, and the arrow points
one way. Works on an ``httpx.Response`` or on anything with ``status_code``, ``headers``, ``json()``
and ``text`` (a test double, another client's response).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional

import httpx

from .retry_after import retry_after_hint

__all__ = ["ErrorFields", "error_code_for_status", "read_error_response"]

# The code an error gets when the body does not carry one (same table as upstream 0.1.10+).
_STATUS_CODES: Dict[int, str] = {
    400: "invalid_request",
    401: "unauthorized",
    402: "spend_limit_exceeded",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    422: "validation_error",
    429: "rate_limit_exceeded",
    500: "upstream_error",
    502: "upstream_error",
    503: "upstream_error",
    504: "upstream_error",
}


def error_code_for_status(status: int) -> str:
    """The machine code used for ``status`` when the response body does not name one."""
    if status in _STATUS_CODES:
        return _STATUS_CODES[status]
    if status >= 500:
        return "upstream_error"
    return "http_error"


@dataclass(frozen=True)
class ErrorFields:
    """The typed error's constructor arguments, read from one error response."""

    status: int
    message: str
    error_code: str
    request_id: str
    details: Optional[List[Any]]
    provider_error: Optional[Dict[str, Any]]
    retry_after_seconds: Optional[float]
    body: Any
    provider_code: Optional[str] = None


def _is_json_content_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


class _LowerHeaders:
    """Case-insensitive ``get`` over a plain mapping (a test double's ``headers`` dict)."""

    def __init__(self, headers: Mapping[str, Any]) -> None:
        self._headers = {str(k).lower(): v for k, v in headers.items()}

    def get(self, key: str, default: Any = None) -> Any:
        return self._headers.get(key.lower(), default)


def _headers_of(response: Any) -> Any:
    headers = getattr(response, "headers", None)
    if isinstance(headers, httpx.Headers):
        return headers
    if isinstance(headers, Mapping):
        return _LowerHeaders(headers)
    return _LowerHeaders({})


def _raw_text(response: Any) -> str:
    """The body as text: ``content`` when the object has bytes, else ``text``; ``""`` when unreadable."""
    try:
        content = getattr(response, "content", None)
        if isinstance(content, (bytes, bytearray)):
            return bytes(content).decode("utf-8", errors="replace")
        text = getattr(response, "text", "")
        return text if isinstance(text, str) else ""
    except Exception:  # a streamed response whose body could not be read
        return ""


def _json_body(response: Any, raw: str, content_type: Optional[str]) -> Any:
    """The parsed body, or ``_NOT_JSON``. Uses ``json()`` for objects that are not httpx responses."""
    if content_type is not None and not _is_json_content_type(content_type):
        return _NOT_JSON
    if isinstance(response, httpx.Response) or not callable(getattr(response, "json", None)):
        if not raw:
            return _NOT_JSON
        try:
            return json.loads(raw)
        except (ValueError, RecursionError):  # not JSON, digits past the limit, nested too deep
            return _NOT_JSON
    try:
        return response.json()
    except Exception:  # any decoder's error: the body is not JSON
        return _NOT_JSON


_NOT_JSON: Any = object()


def _seconds_for_error(value: Optional[float]) -> Optional[float]:
    if value is None:
        return None
    return int(value) if value == int(value) else round(value, 3)


def read_error_response(response: Any) -> ErrorFields:
    """The fields of an HTTP error response (body already read), by docs/protocol.md §2.5's 0.1.10 rules.

        ``response`` is an ``httpx.Response`` or anything with ``status_code``, ``headers``, ``json()`` and
        ``text``. Envelope fields win; without an envelope the code comes from the status table and the
        message from a string ``detail`` (or a nested ``detail.error``), then ``HTTP <status>``. A body that
        is not JSON gives ``parse_error`` with the start of the body as the message. A redirect (never
    followed) says so and names its ``Location``.
    """
    try:
        status = int(response.status_code)
    except Exception:
        status = 0
    headers = _headers_of(response)
    request_id = headers.get("x-request-id", "") or ""
    content_type = headers.get("content-type")
    message = ""
    code = ""
    details: Optional[List[Any]] = None
    provider_error: Optional[Dict[str, Any]] = None
    provider_code: Optional[str] = None
    raw = _raw_text(response)
    body = _json_body(response, raw, content_type)
    if body is _NOT_JSON:
        body = None
        if raw.strip():
            code = "parse_error"
            message = raw[:500].strip()
    if isinstance(body, dict):
        rid = body.get("request_id")
        if isinstance(rid, str) and rid:
            request_id = rid
        error = body.get("error")
        detail = body.get("detail")
        if not isinstance(error, dict) and isinstance(detail, dict) and isinstance(detail.get("error"), dict):
            error = detail["error"]  # compare's all_models_failed nests the envelope under "detail"
        if isinstance(error, dict):
            if isinstance(error.get("code"), str):
                code = error["code"]
            if isinstance(error.get("message"), str):
                message = error["message"]
            if isinstance(error.get("details"), list):
                details = error["details"]
            if isinstance(error.get("provider_error"), dict):
                provider_error = error["provider_error"]
            if isinstance(error.get("provider_code"), str) and error["provider_code"]:
                provider_code = error["provider_code"]
        elif isinstance(error, str):
            message = error
        if not message and isinstance(detail, str):
            message = detail
        if not message and isinstance(detail, list):
            details = details or detail
            message = "Request validation failed."
    if 300 <= status < 400 and (code == "parse_error" or not message):
        location = headers.get("location", "(no location)")
        message = f"HTTP {status} redirect to {location!r}; the SDK does not follow redirects: check base_url"
        code = ""
    return ErrorFields(
        status=status,
        message=message or f"HTTP {status}",
        error_code=code or error_code_for_status(status),
        request_id=request_id if isinstance(request_id, str) else "",
        details=details,
        provider_error=provider_error,
        retry_after_seconds=_seconds_for_error(retry_after_hint(headers, body)),  # type: ignore[arg-type]
        body=body,
        provider_code=provider_code,
    )
