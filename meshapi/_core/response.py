"""Decoding what came back: JSON bodies, models, lists, error bodies, error frames, foreign errors.

This is the one place where an exception from another library (httpx, ``json``, pydantic) becomes a
``MeshAPIError``: ``map_transport_error`` for transport failures, ``validate_model`` for bodies that do
not match their model, ``error_from_response`` for HTTP error statuses (the 0.1.10 rules of API.md
2.5, on any response-like object), ``stream_error_from_frame`` for in-band error events.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Mapping, Optional, Protocol, Type, TypeVar, Union

import httpx
from pydantic import BaseModel, ValidationError

from .._errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    MeshAPIError,
    ResponseTooLargeError,
    StreamEventError,
    StreamInterruptedError,
    class_for_status,
    error_code_for_status,
)
from .decompress import BodyTooLarge
from .retry import retry_after_hint
from .sse import SSELimitError

__all__ = [
    "REFUSED",
    "ListResponse",
    "StreamProgress",
    "error_from_response",
    "foreign_errors",
    "map_transport_error",
    "parse_json_response",
    "parse_list",
    "request_id_of",
    "stream_error_from_frame",
    "stream_interrupted",
    "validate_model",
]

T = TypeVar("T", bound=BaseModel)


def request_id_of(response: httpx.Response) -> str:
    return str(response.headers.get("x-request-id", ""))


def map_transport_error(exc: BaseException, *, during: str = "request") -> MeshAPIError:
    """The typed error for a transport failure (``exc`` is chained by the caller)."""
    if isinstance(exc, httpx.TimeoutException):
        kind = type(exc).__name__.replace("Timeout", " timeout").lower().strip()
        return APITimeoutError(f"The {during} timed out ({kind}).")
    detail = str(exc) or type(exc).__name__
    return APIConnectionError(f"Connection error during the {during}: {detail}")


class StreamProgress(Protocol):
    """How far a typed stream got, for its errors (``meshapi._core.stream.EventDecoder`` has these)."""

    request_id: str
    count: int  # items delivered
    end_marker: str  # what a complete stream ends with ("[DONE]", compare's "'done' event", ...)


def stream_interrupted(progress: StreamProgress, cause: str) -> StreamInterruptedError:
    """The error of a stream that ended (``cause``) before its end marker."""
    count = progress.count
    return StreamInterruptedError(
        f"Stream interrupted: {cause} (after {count} item{'s' if count != 1 else ''}; "
        f"no {progress.end_marker} end marker was received)",
        request_id=progress.request_id,
    )


def _read_failure(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "no data arrived within the read timeout"
    if str(exc):
        return f"the connection failed ({type(exc).__name__}: {exc})"
    return f"the connection failed ({type(exc).__name__})"


#: What a hostile body can make decoding fail with, besides httpx errors (see ``foreign_errors``).
REFUSED = (SSELimitError, BodyTooLarge, RecursionError)


def _refused(exc: BaseException, during: Union[str, StreamProgress]) -> Optional[MeshAPIError]:
    """The typed error for a body past the size cap, or JSON nested past the interpreter's stack."""
    if isinstance(during, str):
        if isinstance(exc, (SSELimitError, BodyTooLarge)):
            return ResponseTooLargeError(f"The {during} was refused: {exc}.", limit=exc.limit)
        return None  # a RecursionError outside a stream is not the peer's doing: it propagates
    if isinstance(exc, (SSELimitError, BodyTooLarge)):
        count = during.count
        return ResponseTooLargeError(
            f"Stream refused: {exc} (after {count} item{'s' if count != 1 else ''})",
            limit=exc.limit,
            request_id=during.request_id,
        )
    return APIResponseValidationError(
        "Stream refused: an event's JSON is nested too deeply to decode", request_id=during.request_id
    )


class foreign_errors:  # lower case: used like a function, ``with foreign_errors("stream"):``
    """A context manager that turns a foreign exception raised inside it into its ``MeshAPIError``.

    The one place a transport or stream failure is mapped: every send loop, body read, stream read and
    download wraps its I/O in ``with foreign_errors(during):`` instead of writing its own ``except``.
    ``during`` names what was going on (``"request"``, ``"stream"``, ...), or is a typed stream's
    progress (its decoder), which makes the errors say how far the stream got:

    ==================================  =========================  ==================================
    raised inside                       ``during`` a name          ``during`` a stream's progress
    ==================================  =========================  ==================================
    ``httpx.TimeoutException``          ``APITimeoutError``        ``StreamInterruptedError``
    other ``httpx.HTTPError``           ``APIConnectionError``     ``StreamInterruptedError``
    SSE line / event / body past cap    ``ResponseTooLargeError``  ``ResponseTooLargeError``
    ``RecursionError`` (deep JSON)      (propagates)               ``APIResponseValidationError``
    ==================================  =========================  ==================================

    An httpx exception is chained (``__cause__``); a refused body is not (its text is in the message).
    A ``MeshAPIError`` and anything else pass through untouched.
    """

    __slots__ = ("during",)

    def __init__(self, during: Union[str, StreamProgress] = "request") -> None:
        self.during = during

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: Optional[BaseException], tb: Any) -> None:
        if exc is None or isinstance(exc, MeshAPIError):
            return
        during = self.during
        if isinstance(exc, httpx.HTTPError):
            if isinstance(during, str):
                raise map_transport_error(exc, during=during) from exc
            raise stream_interrupted(during, _read_failure(exc)) from exc
        if isinstance(exc, REFUSED):
            error = _refused(exc, during)
            if error is not None:
                raise error from None


def parse_json_response(response: httpx.Response) -> Any:
    """The JSON body of a 2xx response (``None`` for 204 or an empty body), or a typed error."""
    if response.status_code == 204 or not response.content:
        return None
    try:
        return json.loads(response.content)
    except RecursionError:
        raise APIResponseValidationError(
            f"The gateway answered {response.status_code} with JSON nested too deeply to decode.",
            status=response.status_code,
            request_id=request_id_of(response),
            response=response,
        ) from None
    except ValueError:
        raise APIResponseValidationError(
            f"The gateway answered {response.status_code} with a body that is not JSON "
            f"(content type {response.headers.get('content-type', 'none')!r}).",
            status=response.status_code,
            request_id=request_id_of(response),
            response=response,
        ) from None


def decode_model(model: Type[T], response: httpx.Response) -> T:
    """The body of a 2xx ``response`` as ``model`` (the transport's ``request_model``)."""
    if not response.content:
        raise APIResponseValidationError(
            f"The gateway answered {response.status_code} with an empty body; expected {model.__name__}.",
            status=response.status_code,
            request_id=request_id_of(response),
            response=response,
        )
    if "json" not in response.headers.get("content-type", "json"):
        parse_json_response(response)  # raises with a clear message unless the body is JSON anyway
    return validate_model(model, response.content, response)


def validate_model(model: Type[T], data: Any, response: Optional[httpx.Response]) -> T:
    """``data`` validated as ``model``; a mismatch becomes ``APIResponseValidationError``."""
    try:
        if isinstance(data, (bytes, str)):
            result = model.model_validate_json(data)
        else:
            result = model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[:3]
        where = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ())) or '(root)'}: {e.get('msg')}" for e in first
        )
        raise APIResponseValidationError(
            f"The gateway's response does not match {model.__name__}: {where}",
            status=response.status_code if response is not None else 0,
            request_id=request_id_of(response) if response is not None else "",
            response=response,
        ) from None
    if response is not None:
        _attach(result, response)
    return result


def _attach(result: Any, response: httpx.Response) -> None:
    try:
        result._request_id = response.headers.get("x-request-id")
        result._response = response
    except (AttributeError, ValueError):  # a model without the private slots
        pass


class ListResponse(List[T]):
    """A plain ``list`` of models that also remembers ``request_id`` and the raw ``response``."""

    request_id: Optional[str] = None
    response: Optional[httpx.Response] = None


def parse_list(model: Type[T], response: httpx.Response, *, key: str = "data") -> ListResponse[T]:
    """A JSON array of ``model``; a ``{"data": [...]}`` (or ``key``) wrapper is accepted too."""
    data = parse_json_response(response)
    if data is None:
        data = []
    if isinstance(data, dict):
        inner = data.get(key, data.get("data"))
        data = inner if isinstance(inner, list) else None
    if not isinstance(data, list):
        raise APIResponseValidationError(
            f"Expected a JSON array of {model.__name__}, got {type(data).__name__}.",
            status=response.status_code,
            request_id=request_id_of(response),
            response=response,
        )
    items: ListResponse[T] = ListResponse(validate_model(model, item, None) for item in data)
    items.request_id = response.headers.get("x-request-id")
    items.response = response
    for item in items:
        _attach(item, response)
    return items


def stream_error_from_frame(payload: Mapping[str, Any], stream_request_id: str) -> StreamEventError:
    """The typed error for an in-band error frame ``{"error": {...}, "request_id": ...}``."""
    error = payload.get("error")
    request_id = payload.get("request_id")
    if not isinstance(request_id, str) or not request_id:
        request_id = stream_request_id
    if isinstance(error, dict):
        message = error.get("message")
        code = error.get("code")
        provider_error = error.get("provider_error")
        details = error.get("details")
        return StreamEventError(
            message if isinstance(message, str) and message else "upstream error",
            error_code=code if isinstance(code, str) and code else "upstream_error",
            request_id=request_id,
            provider_error=provider_error if isinstance(provider_error, dict) else None,
            details=details if isinstance(details, list) else None,
            body=dict(payload),
        )
    return StreamEventError(str(error), request_id=request_id, body=dict(payload))


# --- HTTP error responses ---------------------------------------------------------------------------


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


def error_from_response(response: Any) -> APIStatusError:
    """Map an HTTP error response (body already read) to its typed error; never raises.

    The mapping itself is :func:`_error_from_response`; whatever it trips over (a body nested past
    the stack, an odd response-like object), the caller still gets the status error.
    """
    try:
        return _error_from_response(response)
    except Exception:
        status = response.status_code if isinstance(getattr(response, "status_code", None), int) else 0
        return class_for_status(status)(
            f"HTTP {status}", status=status, error_code=error_code_for_status(status), request_id=""
        )


def _error_from_response(response: Any) -> APIStatusError:
    """Map an HTTP error response (body already read) to its typed error (API.md 2.5, 0.1.10 rules).

    ``response`` is an ``httpx.Response`` or anything with ``status_code``, ``headers``, ``json()`` and
    ``text``. Envelope fields win; without an envelope the code comes from the status table and the
    message from a string ``detail`` (or a nested ``detail.error``), then ``HTTP <status>``. A body that
    is not JSON gives ``parse_error`` with the start of the body as the message. Never raises.
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
    return class_for_status(status)(
        message or f"HTTP {status}",
        status=status,
        error_code=code or error_code_for_status(status),
        request_id=request_id if isinstance(request_id, str) else "",
        details=details,
        provider_error=provider_error,
        retry_after_seconds=_seconds_for_error(retry_after_hint(headers, body)),  # type: ignore[arg-type]
        response=response,
        body=body,
    )
