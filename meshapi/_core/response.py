"""Decoding what came back: JSON bodies, models, lists, error bodies, error frames, foreign errors.

This is the one place where an exception from another library (httpx, ``json``, pydantic) becomes a
``MeshAPIError``: ``map_transport_error`` (and its context manager ``foreign_errors``) for transport
errors, ``validate_model`` for bodies that do not match their model, ``stream_error_from_frame`` for
in-band error events. HTTP error statuses are ``error_from_response`` (defined beside the error classes
in ``meshapi._errors``, re-exported here; the body rules are ``meshapi._core.error_body``).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, List, Mapping, Optional, Protocol, Type, TypeVar, Union

import httpx
from pydantic import BaseModel, ValidationError

from .._errors import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    MeshAPIError,
    ResponseTooLargeError,
    StreamEventError,
    StreamIdleTimeoutError,
    StreamInterruptedError,
    error_from_response,
)
from .decompress import BodyTooLarge
from .retry_after import retry_after_hint
from .sse import SSELimitError
from .timeouts import EventGapTimeout, FirstEventTimeout

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


def stream_interrupted(
    progress: StreamProgress, cause: str, gap: Optional[httpx.ReadTimeout] = None
) -> StreamInterruptedError:
    """The error of a stream that ended (``cause``) before its end marker; ``StreamIdleTimeoutError``
    when ``gap`` is no event within the longest gap allowed (``meshapi._core.timeouts.EventGap``); code
    ``total_timeout`` when it is a first event the call's deadline did not see (``FirstEventTimeout``)."""
    count = progress.count
    message = (
        f"Stream interrupted: {cause} (after {count} item{'s' if count != 1 else ''}; "
        f"no {progress.end_marker} end marker was received)"
    )
    if isinstance(gap, FirstEventTimeout):
        return StreamInterruptedError(message, request_id=progress.request_id, error_code="total_timeout")
    if gap is not None:
        assert isinstance(gap, EventGapTimeout)
        name = "timeout" if gap.name == "read timeout" else gap.name
        return StreamIdleTimeoutError(
            message, request_id=progress.request_id, timeout_name=name, idle_seconds=gap.limit
        )
    return StreamInterruptedError(message, request_id=progress.request_id)


def _with_partial(error: StreamInterruptedError, progress: StreamProgress) -> StreamInterruptedError:
    """``error`` with ``partial`` set to what the stream accumulated (its decoder's ``partial()``)."""
    partial = getattr(progress, "partial", None)
    if error.partial is None and callable(partial):
        error.partial = partial()
    return error


def _read_failure(exc: httpx.HTTPError) -> str:
    if isinstance(exc, EventGapTimeout):
        return str(exc)
    if isinstance(exc, FirstEventTimeout):
        return "no event arrived before the call's total_timeout"
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
    ``httpx.TimeoutException``          ``APITimeoutError``        ``StreamInterruptedError`` (1)
    other ``httpx.HTTPError``           ``APIConnectionError``     ``StreamInterruptedError``
    SSE line / event / body past cap    ``ResponseTooLargeError``  ``ResponseTooLargeError``
    ``RecursionError`` (deep JSON)      (propagates)               ``APIResponseValidationError``
    ==================================  =========================  ==================================

    (1) Every ``StreamInterruptedError`` leaving a typed stream (an error frame's ``StreamEventError`` too)
    gets ``partial``: what the stream's decoder accumulated (``partial()``), typed.
    An httpx exception is chained (``__cause__``); a refused body is not (its text is in the message).
    A ``MeshAPIError`` and anything else pass through untouched.
    """

    __slots__ = ("during",)

    def __init__(self, during: Union[str, StreamProgress] = "request") -> None:
        self.during = during

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: Optional[BaseException], tb: Any) -> None:
        if exc is None:
            return
        during = self.during
        if isinstance(exc, MeshAPIError):
            if isinstance(exc, StreamInterruptedError) and not isinstance(during, str):
                _with_partial(exc, during)
            return
        if isinstance(exc, httpx.HTTPError):
            if isinstance(during, str):
                raise map_transport_error(exc, during=during) from exc
            gap = exc if isinstance(exc, (EventGapTimeout, FirstEventTimeout)) else None
            raise _with_partial(stream_interrupted(during, _read_failure(exc), gap), during) from exc
        if isinstance(exc, REFUSED):
            error = _refused(exc, during)
            if error is not None:
                raise error from None


def parse_json_response(response: httpx.Response, *, exact_decimals: bool = False) -> Any:
    """The JSON body of a 2xx response (``None`` for 204 or an empty body), or a typed error.
    ``exact_decimals``: numbers with a fraction or exponent become ``Decimal`` (money), not ``float``."""
    if response.status_code == 204 or not response.content:
        return None
    try:
        if exact_decimals:
            return json.loads(response.content, parse_float=Decimal)
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


def decode_money_model(model: Type[T], response: httpx.Response) -> T:
    """``decode_model`` for bodies with money: JSON numbers are read as ``Decimal`` digit for digit
    (pydantic's own JSON parser goes through ``float`` and loses digits past the 17th)."""
    data = parse_json_response(response, exact_decimals=True)
    if not isinstance(data, dict):
        raise APIResponseValidationError(
            f"Expected a JSON object ({model.__name__}), got {type(data).__name__}.",
            status=response.status_code,
            request_id=request_id_of(response),
            response=response,
        )
    return validate_model(model, data, response)


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


def frame_request_id(payload: Mapping[str, Any], fallback: str) -> str:
    """The request id of an in-band error frame: its own ``request_id`` when a non-empty string, else
    ``fallback`` (the stream's ``x-request-id``; docs/protocol.md §V10.1)."""
    request_id = payload.get("request_id")
    return request_id if isinstance(request_id, str) and request_id else fallback


def stream_error_from_frame(payload: Mapping[str, Any], stream_request_id: str) -> StreamEventError:
    """The typed error for an in-band error frame ``{"error": {...}, "request_id": ...}``."""
    error = payload.get("error")
    request_id = frame_request_id(payload, stream_request_id)
    if isinstance(error, dict):
        message = error.get("message")
        code = error.get("code")
        provider_error = error.get("provider_error")
        provider_code = error.get("provider_code")
        details = error.get("details")
        return StreamEventError(
            message if isinstance(message, str) and message else "upstream error",
            error_code=code if isinstance(code, str) and code else "upstream_error",
            request_id=request_id,
            provider_error=provider_error if isinstance(provider_error, dict) else None,
            details=details if isinstance(details, list) else None,
            retry_after_seconds=retry_after_hint(None, payload),
            body=dict(payload),
            provider_code=provider_code if isinstance(provider_code, str) else None,
        )
    return StreamEventError(str(error), request_id=request_id, body=dict(payload))
