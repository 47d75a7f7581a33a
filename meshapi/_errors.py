"""Every error the SDK raises, in one tree.

::

    MeshAPIError                      (0.1.4: status, error_code, request_id, details, provider_error,
     |                                 retry_after_seconds; constructor unchanged)
     +-- ConfigurationError           bad client settings (also a ValueError)
     +-- InvalidParamsError           bad call arguments, found before anything is sent (also a ValueError)
     +-- APIConnectionError           the gateway could not be reached / the connection failed
     |    +-- APITimeoutError         connect, read, write or pool timeout
     |         +-- WaitTimeoutError   a wait helper's deadline passed
     |         +-- StreamIdleTimeoutError  no event within the gap a stream may leave (also a
     |                                     StreamInterruptedError)
     +-- APIStatusError               the gateway answered with an HTTP error status
     |    +-- BadRequestError         400
     |    |    +-- InvalidAPIVersionError  code invalid_api_version: the X-Mesh-Version sent is not served
     |    +-- AuthenticationError     401
     |    +-- PaymentRequiredError    402
     |    +-- PermissionDeniedError   403
     |    +-- NotFoundError           404
     |    +-- ConflictError           409
     |    +-- UnprocessableEntityError 422
     |    +-- RateLimitError          429
     |    +-- InternalServerError     5xx
     +-- APIResponseValidationError   a 2xx body that is not what the API promises
     |    +-- ResponseTooLargeError   a body, SSE line or event past max_response_bytes
     +-- StreamInterruptedError       a stream that broke or ended before its end marker (``partial``)
     |    +-- StreamEventError        an error event sent inside a stream (code, request id, provider error)
     +-- ProcessingFailedError        a file or batch being waited for reached a failed state
     +-- RealtimeError                an error on a realtime session (0.1.4 constructor)
     +-- StructuredOutputError        a structured-output reply that does not parse
     +-- HookError                    an on_request / on_response hook raised

Users catch at the level they care about. ``str(e)`` carries the request id when there is one, errors
pickle and copy, and nothing here ever holds the API token.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Tuple, Type

from ._core.error_body import error_code_for_status, read_error_response
from ._redact import scrub

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "InternalServerError",
    "InvalidAPIVersionError",
    "InvalidParamsError",
    "MeshAPIError",
    "NotFoundError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "ProcessingFailedError",
    "RateLimitError",
    "RealtimeError",
    "ResponseTooLargeError",
    "StreamEventError",
    "StreamIdleTimeoutError",
    "StreamInterruptedError",
    "StructuredOutputError",
    "UnprocessableEntityError",
    "WaitTimeoutError",
    "HookError",
    "class_for_status",
    "error_code_for_status",
    "error_from_response",
]


class MeshAPIError(Exception):
    """Base class of every error raised by the SDK.

    Attributes (as in 0.1.4): ``status`` (HTTP status, 0 when there was no HTTP error status),
    ``error_code`` (stable machine code), ``request_id`` (``""`` when unknown), ``details``,
    ``provider_error``, ``retry_after_seconds``. Beyond 0.1.4: ``response`` (the ``httpx.Response``
    when there was one; not pickled), ``headers`` and ``body`` (the parsed error body, if any), and
    openai-python's read-only names ``status_code`` (``status``) and ``code`` (``error_code``).
    """

    status: int
    error_code: str
    request_id: str
    details: List[Any]
    provider_error: Optional[Dict[str, Any]]
    retry_after_seconds: Optional[float]

    def __init__(
        self,
        message: str,
        *,
        status: int,
        error_code: str,
        request_id: str,
        details: Optional[List[Any]] = None,
        provider_error: Optional[Dict[str, Any]] = None,
        retry_after_seconds: Optional[float] = None,
        response: Any = None,
        body: Any = None,
    ) -> None:
        message = scrub(message)  # a server may echo the client's own token back (see _redact)
        super().__init__(message)
        self.message = message
        self.status = status
        self.error_code = error_code
        self.request_id = request_id if isinstance(request_id, str) else ""
        self.details = scrub(list(details)) if details else []
        self.provider_error = scrub(provider_error)
        self.retry_after_seconds = retry_after_seconds
        self.response = response
        self.body = scrub(body)

    # --- presentation -------------------------------------------------------------------------------
    def __str__(self) -> str:
        if self.request_id:
            return f"{self.message} (request id: {self.request_id})"
        return self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, error_code={self.error_code!r}, "
            f"request_id={self.request_id!r}, message={self.message!r})"
        )

    @property
    def status_code(self) -> int:
        """``status`` under openai-python's name."""
        return self.status

    @property
    def code(self) -> str:
        """``error_code`` under openai-python's name (a ``RealtimeError``'s code too)."""
        return self.error_code

    @property
    def headers(self) -> Mapping[str, str]:
        """Response headers of the failed call (empty when there was no response)."""
        return self.response.headers if self.response is not None else {}

    # --- pickle / copy ------------------------------------------------------------------------------
    def _init_kwargs(self) -> Dict[str, Any]:
        return {
            "status": self.status,
            "error_code": self.error_code,
            "request_id": self.request_id,
            "details": self.details,
            "provider_error": self.provider_error,
            "retry_after_seconds": self.retry_after_seconds,
            "body": self.body,
        }

    def __reduce__(self) -> Tuple[Any, ...]:
        # The live httpx response is dropped; everything else survives pickle, copy and deepcopy.
        return (_rebuild_error, (type(self), self.message, self._init_kwargs()), self._extra_state())

    def _extra_state(self) -> Dict[str, Any]:
        skip = {"message", "status", "error_code", "request_id", "details", "provider_error"}
        skip |= {"retry_after_seconds", "response", "body", "args"}
        return {k: v for k, v in self.__dict__.items() if k not in skip}

    def __setstate__(self, state: Optional[Dict[str, Any]]) -> None:
        if state:
            self.__dict__.update(state)

    # --- 0.1.4 constructors -------------------------------------------------------------------------
    @classmethod
    def from_response(cls, response: Any) -> MeshAPIError:
        """Build the typed error for an HTTP error response (its body must already be read).

        ``response`` is an ``httpx.Response`` or any object with ``status_code``, ``headers``,
        ``json()`` and ``text`` (a test double, another client's response).
        """
        return error_from_response(response)

    @classmethod
    def stream_interrupted(cls, cause: str) -> MeshAPIError:
        """The 0.1.4 constructor for a stream cut mid-way."""
        return StreamInterruptedError(f"Stream interrupted: {cause}")


#: openai-python's name for the base class: ``except meshapi.APIError`` catches every SDK error.
APIError = MeshAPIError


def _rebuild_error(cls: Type[MeshAPIError], message: str, kwargs: Dict[str, Any]) -> MeshAPIError:
    err = cls.__new__(cls)
    MeshAPIError.__init__(err, message, **kwargs)
    return err


class ConfigurationError(MeshAPIError, ValueError):
    """The client was configured wrongly (missing base URL or token, bad timeout, ...)."""

    def __init__(self, message: str, **kwargs: Any) -> None:
        kwargs.setdefault("status", 0)
        kwargs.setdefault("error_code", "configuration_error")
        kwargs.setdefault("request_id", "")
        super().__init__(message, **kwargs)


class InvalidParamsError(MeshAPIError, ValueError):
    """The arguments of a call are invalid; raised before any request is sent.

    ``details`` lists one entry per problem: ``{"loc": [...], "msg": ..., "type": ...}``.
    """

    def __init__(self, message: str, **kwargs: Any) -> None:
        kwargs.setdefault("status", 0)
        kwargs.setdefault("error_code", "invalid_params")
        kwargs.setdefault("request_id", "")
        super().__init__(message, **kwargs)


class APIConnectionError(MeshAPIError):
    """The request could not be completed at the transport level (refused, reset, DNS, TLS...)."""

    def __init__(self, message: str = "Connection error.", **kwargs: Any) -> None:
        kwargs.setdefault("status", 0)
        kwargs.setdefault("error_code", "connection_error")
        kwargs.setdefault("request_id", "")
        super().__init__(message, **kwargs)


class APITimeoutError(APIConnectionError):
    """A connect, read, write or pool timeout expired."""

    def __init__(self, message: str = "Request timed out.", **kwargs: Any) -> None:
        kwargs.setdefault("error_code", "timeout")
        super().__init__(message, **kwargs)


class WaitTimeoutError(APITimeoutError):
    """A wait helper's deadline passed before the object reached a terminal state.

    ``last`` is the last object fetched (``None`` when not even one fetch completed) and
    ``resource_id`` its id; the object itself may still finish later: call the wait again or ``get()``.
    """

    last: Any = None
    resource_id: str = ""

    def __init__(self, message: str, *, last: Any = None, resource_id: str = "", **kwargs: Any) -> None:
        kwargs.setdefault("error_code", "wait_timeout")
        super().__init__(message, **kwargs)
        self.last = last
        self.resource_id = resource_id


class ProcessingFailedError(MeshAPIError):
    """The object being waited for reached a failed state (e.g. a RAG file whose embedding failed).

    ``error_code`` is the server's code for the failure (``last_error_code`` of a file) when known,
    ``processing_failed`` otherwise; ``last`` is the final object and ``resource_id`` its id.
    """

    last: Any = None
    resource_id: str = ""

    def __init__(self, message: str, *, last: Any = None, resource_id: str = "", **kwargs: Any) -> None:
        kwargs.setdefault("status", 0)
        kwargs.setdefault("error_code", "processing_failed")
        kwargs.setdefault("request_id", "")
        super().__init__(message, **kwargs)
        self.last = last
        self.resource_id = resource_id


class APIStatusError(MeshAPIError):
    """The gateway answered with an HTTP error status (``status`` >= 400)."""


class BadRequestError(APIStatusError):
    """400."""


class InvalidAPIVersionError(BadRequestError):
    """400 ``invalid_api_version``: the gateway does not serve the ``X-Mesh-Version`` sent (unknown,
    malformed, empty, or sent twice with different values). ``supported_versions`` lists the labels it
    serves (empty when the body does not say); pick one with ``api_version=``."""

    supported_versions: List[str]

    def __init__(
        self, message: str, *, supported_versions: Optional[List[str]] = None, **kwargs: Any
    ) -> None:
        super().__init__(message, **kwargs)
        self.supported_versions = list(supported_versions or [])


class AuthenticationError(APIStatusError):
    """401: missing, unknown or revoked API key."""


class PaymentRequiredError(APIStatusError):
    """402: spend limit reached or balance exhausted."""


class PermissionDeniedError(APIStatusError):
    """403: the key may not do this."""


class NotFoundError(APIStatusError):
    """404: unknown resource or model."""


class ConflictError(APIStatusError):
    """409: the resource's state refuses the request (e.g. a duplicate template name)."""


class UnprocessableEntityError(APIStatusError):
    """422: the request body failed validation; ``details`` lists the problems."""


class RateLimitError(APIStatusError):
    """429: slow down; ``retry_after_seconds`` says for how long when the gateway said so."""


class InternalServerError(APIStatusError):
    """5xx: the gateway or an upstream provider failed."""


class APIResponseValidationError(MeshAPIError):
    """A successful response whose body does not match what the API promises."""

    def __init__(self, message: str, **kwargs: Any) -> None:
        kwargs.setdefault("status", 0)
        kwargs.setdefault("error_code", "response_validation_error")
        kwargs.setdefault("request_id", "")
        super().__init__(message, **kwargs)


class ResponseTooLargeError(APIResponseValidationError):
    """A reply bigger than the client accepts: a (decompressed) body, one SSE line or event.

    ``limit`` is the cap in bytes that was passed (``max_response_bytes``, 64 MiB by default).
    """

    def __init__(self, message: str, *, limit: int = 0, **kwargs: Any) -> None:
        kwargs.setdefault("error_code", "response_too_large")
        super().__init__(message, **kwargs)
        self.limit = limit


class StreamInterruptedError(MeshAPIError):
    """A stream broke mid-way or ended without its end marker. Items already yielded stay valid.

    ``partial``: what the stream had accumulated when it broke, typed (a chat stream's
    ``ChatCompletionResponse`` so far), or ``None`` (nothing accumulated, or an endpoint that does not
    accumulate). Nothing is retried once content has reached the caller: the caller decides.
    """

    partial: Any = None

    def __init__(self, message: str, **kwargs: Any) -> None:
        kwargs.setdefault("status", 0)
        kwargs.setdefault("error_code", "stream_interrupted")
        kwargs.setdefault("request_id", "")
        super().__init__(message, **kwargs)


class StreamEventError(StreamInterruptedError):
    """The gateway reported an error inside a stream that had already started.

    ``error_code``, ``request_id`` and ``provider_error`` come from the error frame itself (falling
    back to the stream's request id); ``status`` is 0 because the HTTP status was already 200. An error
    frame as the first event with a retryable code (``meshapi._core.retry.FRAME_CODE_STATUS``) is
    retried and falls back like that status before this is raised; later ones end the stream as an
    interruption (``partial`` set).
    """

    def __init__(self, message: str, **kwargs: Any) -> None:
        kwargs.setdefault("status", 0)
        kwargs.setdefault("error_code", "upstream_error")
        kwargs.setdefault("request_id", "")
        super().__init__(message, **kwargs)


class StreamIdleTimeoutError(APITimeoutError, StreamInterruptedError):
    """No event arrived within the longest gap a stream may leave: ``stream_idle_timeout`` when set,
    else the read ``timeout`` (comments and keep-alives do not count as events).

    ``timeout_name`` names the setting that ran out (``"stream_idle_timeout"`` or ``"timeout"``) and
    ``idle_seconds`` its value. Both an ``APITimeoutError`` and a ``StreamInterruptedError`` (with
    ``partial``): an ``except`` written for either catches it.
    """

    timeout_name: str = "timeout"
    idle_seconds: float = 0.0

    def __init__(
        self, message: str, *, timeout_name: str = "timeout", idle_seconds: float = 0.0, **kwargs: Any
    ) -> None:
        kwargs.setdefault("error_code", "stream_idle_timeout")
        super().__init__(message, **kwargs)
        self.timeout_name = timeout_name
        self.idle_seconds = idle_seconds


class RealtimeError(MeshAPIError):
    """An error on a realtime session (0.1.4 signature: ``RealtimeError(code, message, param, request_id)``).

    ``str(e)`` is ``realtime[<code>]: <message>`` (plus the request id when known). ``close_code`` is
    set when the error is an abnormal close of the socket; ``status`` is set for handshake failures.
    """

    def __init__(
        self,
        code: str,
        message: str,
        param: Optional[str] = None,
        request_id: Optional[str] = None,
        *,
        status: int = 0,
        close_code: Optional[int] = None,
        details: Optional[List[Any]] = None,
    ) -> None:
        super().__init__(
            f"realtime[{code}]: {message}",
            status=status,
            error_code=code,
            request_id=request_id or "",
            details=details,
        )
        self.param = param
        self.close_code = close_code
        self.realtime_message = scrub(message)

    def __reduce__(self) -> Tuple[Any, ...]:
        return (
            _rebuild_realtime_error,
            (
                type(self),
                self.code,
                self.realtime_message,
                self.param,
                self.request_id,
                self.status,
                self.close_code,
                self.details,
            ),
        )


def _rebuild_realtime_error(
    cls: Type[RealtimeError],
    code: str,
    message: str,
    param: Optional[str],
    request_id: str,
    status: int,
    close_code: Optional[int],
    details: List[Any],
) -> RealtimeError:
    err = cls.__new__(cls)
    RealtimeError.__init__(
        err, code, message, param, request_id, status=status, close_code=close_code, details=details
    )
    return err


class HookError(MeshAPIError):
    """An ``on_request`` / ``on_response`` hook raised; the cause is chained (``__cause__``)."""

    def __init__(self, message: str, **kwargs: Any) -> None:
        kwargs.setdefault("status", 0)
        kwargs.setdefault("error_code", "hook_error")
        kwargs.setdefault("request_id", "")
        super().__init__(message, **kwargs)


class StructuredOutputError(MeshAPIError):
    """A structured-output reply could not be parsed into the requested type."""

    # Set by the parse step that raises it (typed here so ``exc.content`` passes ``mypy --strict``).
    content: str  #: the raw reply text
    cause: Optional[BaseException]  #: the validation error
    completion: Any  #: the ChatCompletionResponse that could not be parsed

    def __init__(self, message: str, **kwargs: Any) -> None:
        kwargs.setdefault("status", 0)
        kwargs.setdefault("error_code", "structured_output_parse_error")
        kwargs.setdefault("request_id", "")
        super().__init__(message, **kwargs)


_STATUS_CLASSES: Dict[int, Type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: PaymentRequiredError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def _supported_versions(body: Any) -> List[str]:
    """The ``supported_versions`` of an ``invalid_api_version`` body: in ``error``, else at the top level."""
    if not isinstance(body, dict):
        return []
    error = body.get("error")
    found = error.get("supported_versions") if isinstance(error, dict) else None
    if found is None:
        found = body.get("supported_versions")
    if not isinstance(found, list):
        return []
    return [item for item in found if isinstance(item, str)]


def class_for_status(status: int) -> Type[APIStatusError]:
    """The error class for an HTTP status: one per family, ``APIStatusError`` for the rest."""
    if status in _STATUS_CLASSES:
        return _STATUS_CLASSES[status]
    if status >= 500:
        return InternalServerError
    return APIStatusError


def error_from_response(response: Any) -> APIStatusError:
    """Map an HTTP error response (body already read) to its typed error; never raises.

    The fields are read by ``meshapi._core.error_body.read_error_response``; whatever that trips over
    (a body nested past the stack, an odd response-like object), the caller still gets the status error.
    """
    try:
        found = read_error_response(response)
    except Exception:
        status = response.status_code if isinstance(getattr(response, "status_code", None), int) else 0
        return class_for_status(status)(
            f"HTTP {status}", status=status, error_code=error_code_for_status(status), request_id=""
        )
    fields: Dict[str, Any] = {
        "status": found.status,
        "error_code": found.error_code,
        "request_id": found.request_id,
        "details": found.details,
        "provider_error": found.provider_error,
        "retry_after_seconds": found.retry_after_seconds,
        "response": response,
        "body": found.body,
    }
    if found.status == 400 and found.error_code == "invalid_api_version":
        return InvalidAPIVersionError(
            found.message, supported_versions=_supported_versions(found.body), **fields
        )
    return class_for_status(found.status)(found.message, **fields)
