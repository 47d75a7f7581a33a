"""Error bodies, built the way the production gateway builds them (docs/protocol.md §2).

Handlers raise :class:`ApiError` (rendered as the standard envelope) or :class:`DetailError` (the
FastAPI-style ``{"detail": ...}`` body some production routes still send); the exception handlers in
``http/app.py`` turn them into responses carrying the request id of the current request.
"""

from __future__ import annotations

import json
import math
from typing import Any, Dict, List, Mapping, Optional

#: The error code sent for a status when nothing more specific applies (also used by the fault plan).
CODE_FOR_STATUS: Dict[int, str] = {
    400: "invalid_request",
    401: "unauthorized",
    402: "spend_limit_exceeded",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    422: "validation_error",
    429: "rate_limit_exceeded",
    501: "not_implemented",
}


#: ``provider_code`` -> the ``error.code`` it accompanies (docs/protocol.md §2.4, the provider-code table).
CODE_FOR_PROVIDER_CODE: Dict[str, str] = {
    **{
        same: same
        for same in (
            "content_policy_violation",
            "context_window_exceeded",
            "insufficient_credits",
            "invalid_input",
            "invalid_request",
            "model_not_found",
            "resource_not_found",
            "unsupported_operation",
        )
    },
    **dict.fromkeys(("account_not_entitled", "invalid_auth", "permission_denied"), "upstream_auth_error"),
    **dict.fromkeys(("monthly_quota_exceeded", "rate_limit_exceeded"), "upstream_rate_limit_error"),
    **dict.fromkeys(("asset_registration_timeout", "provider_timeout"), "gateway_timeout"),
    **dict.fromkeys(
        ("bad_response", "connection_error", "internal_provider_error", "provider_overloaded", "unknown"),
        "upstream_error",
    ),
}

#: ``error.code`` of a provider failure -> the ``provider_code`` a simulated provider reports with it
#: (the first documented pair; ``provider_not_available`` is the gateway's own verdict, so it has none).
PROVIDER_CODE_FOR_CODE: Dict[str, str] = {
    **{code: code for code, paired in CODE_FOR_PROVIDER_CODE.items() if code == paired},
    "upstream_auth_error": "invalid_auth",
    "upstream_rate_limit_error": "rate_limit_exceeded",
    "gateway_timeout": "provider_timeout",
    "upstream_error": "internal_provider_error",
}


def code_for_status(status: int) -> str:
    if status in CODE_FOR_STATUS:
        return CODE_FOR_STATUS[status]
    if status >= 500:
        return "upstream_error"
    return "http_error"


class ApiError(Exception):
    """An error answered with the standard envelope ``{"error": {...}, "request_id": ...}``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: Optional[List[Any]] = None,
        headers: Optional[Mapping[str, str]] = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = dict(headers or {})
        self.extra = extra

    def error_object(self) -> Dict[str, Any]:
        error: Dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        error.update(self.extra)
        return error


class DetailError(Exception):
    """An error answered with a bare ``{"detail": <value>}`` body (FastAPI ``HTTPException`` style)."""

    def __init__(self, status: int, detail: Any) -> None:
        super().__init__(str(detail))
        self.status = status
        self.detail = detail


def validation_failed(details: List[Dict[str, Any]]) -> ApiError:
    return ApiError(422, "validation_error", "Request validation failed.", details=details)


def not_found(what: str, ident: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} '{ident}' not found.")


def model_not_found(model: str) -> ApiError:
    return ApiError(404, "model_not_found", f"Model '{model}' not found.")


def envelope(error: Mapping[str, Any], request_id: Optional[str]) -> Dict[str, Any]:
    return {"error": dict(error), "request_id": request_id}


def dumps(value: Any) -> bytes:
    """Compact JSON as the gateway writes it (UTF-8, no spaces); always valid JSON.

    A value that strict JSON cannot hold (a non-finite float, a lone surrogate, nesting past the
    stack) is written in a safe form instead of failing the response: ``null`` for the number,
    U+FFFD for the surrogate, ``"..."`` below :data:`_SAFE_DEPTH`.
    """
    try:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        return text.encode("utf-8")
    except (ValueError, UnicodeEncodeError, RecursionError):
        safe = json.dumps(_safe(value, 0), separators=(",", ":"), ensure_ascii=False)
        return safe.encode("utf-8", "replace")


_SAFE_DEPTH = 64


def _safe(value: Any, depth: int) -> Any:
    if depth > _SAFE_DEPTH:
        return "..."
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {_safe(str(k), depth): _safe(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_safe(v, depth + 1) for v in value]
    return value
