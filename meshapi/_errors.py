"""Every error the SDK raises, in one tree.

::

    MeshAPIError                      (0.1.4: status, error_code, request_id, details, provider_error,
     |                                 retry_after_seconds; constructor unchanged; + provider_code)
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
     |    |    +-- ContextWindowExceededError  code context_window_exceeded: prompt + output too long
     |    |    +-- ModelCapabilityNotSupportedError  code model_capability_not_supported
     |    |    +-- ContentPolicyViolationError  code content_policy_violation: the provider's filter
     |    +-- AuthenticationError     401
     |    +-- PaymentRequiredError    402
     |    +-- PermissionDeniedError   403
     |    +-- NotFoundError           404
     |    |    +-- ModelNotFoundError code model_not_found
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
     +-- WebhookVerificationError     a webhook delivery that is not genuine or not fresh (``reason``)
     +-- RateLimiterFullError         a RateLimiter's max_queued callers already wait (nothing sent)
     +-- BudgetExceededError          a call's worst case is past what a Budget has left; nothing was sent
     +-- ToolLoopError                a tool run stalled (the same call again and again, or A-B-A-B)
          +-- ToolLoopLimitError      a tool run went past max_iterations or max_tool_calls

A code's class is used only with the status its parent stands for (``class_for``).
Where the classes live: ``MeshAPIError``, the HTTP status classes, the per-code classes, the
response -> class mapping (``class_for``) and ``StreamInterruptedError`` in ``_http_errors``, the rest
here; every name is importable from here.

Users catch at the level they care about. ``str(e)`` carries the request id when there is one, errors
pickle and copy, and nothing here ever holds the API token.
"""

from __future__ import annotations

from typing import Any, List, Optional, Tuple, Type

from ._core.error_body import error_code_for_status
from ._http_errors import (
    APIError,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ContentPolicyViolationError,
    ContextWindowExceededError,
    InternalServerError,
    InvalidAPIVersionError,
    MeshAPIError,
    ModelCapabilityNotSupportedError,
    ModelNotFoundError,
    NotFoundError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    StreamInterruptedError,
    UnprocessableEntityError,
    class_for,
    class_for_status,
    error_from_response,
)
from ._redact import scrub

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "BudgetExceededError",
    "ConfigurationError",
    "ConflictError",
    "ContentPolicyViolationError",
    "ContextWindowExceededError",
    "InternalServerError",
    "InvalidAPIVersionError",
    "InvalidParamsError",
    "MeshAPIError",
    "ModelCapabilityNotSupportedError",
    "ModelNotFoundError",
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
    "ToolLoopError",
    "ToolLoopLimitError",
    "UnprocessableEntityError",
    "WaitTimeoutError",
    "WebhookVerificationError",
    "HookError",
    "RateLimiterFullError",
    "class_for",
    "class_for_status",
    "error_code_for_status",
    "error_from_response",
]


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


class RateLimiterFullError(MeshAPIError):
    """A ``meshapi.RateLimiter`` already has ``max_queued`` callers waiting; raised at once, nothing sent."""

    def __init__(self, message: str, **kwargs: Any) -> None:
        kwargs.setdefault("status", 0)
        kwargs.setdefault("error_code", "rate_limiter_full")
        kwargs.setdefault("request_id", "")
        super().__init__(message, **kwargs)


class BudgetExceededError(MeshAPIError):
    """A call's worst-case cost is more than what a ``meshapi.Budget`` has left: nothing was sent.

    ``budget``: the ``Budget``; ``spent``: what it had spent (``Decimal``, reservations of calls in
    flight included); ``estimate``: the call's worst case (``Decimal``)."""

    budget: Any
    spent: Any
    estimate: Any

    def __init__(self, message: str, **kwargs: Any) -> None:
        budget, spent, estimate = (
            kwargs.pop("budget", None),
            kwargs.pop("spent", None),
            kwargs.pop("estimate", None),
        )
        kwargs.setdefault("status", 0)
        kwargs.setdefault("error_code", "budget_exceeded")
        kwargs.setdefault("request_id", "")
        super().__init__(message, **kwargs)
        self.budget, self.spent, self.estimate = budget, spent, estimate


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


class ToolLoopError(MeshAPIError):
    """A tool run stopped: it was going round in circles. ``messages``: the transcript (every call answered)."""

    messages: List[Any]  #: the run's transcript, valid to send again
    completion: Any  #: the last ChatCompletionResponse (or Response) of the run

    def __init__(self, message: str, **kwargs: Any) -> None:
        kwargs.setdefault("status", 0)
        kwargs.setdefault("error_code", "tool_loop")
        kwargs.setdefault("request_id", "")
        super().__init__(message, **kwargs)
        self.messages = []
        self.completion = None


class ToolLoopLimitError(ToolLoopError):
    """A tool run reached ``max_iterations`` or ``max_tool_calls`` with the model still calling tools."""

    def __init__(self, message: str, **kwargs: Any) -> None:
        kwargs.setdefault("error_code", "tool_loop_limit")
        super().__init__(message, **kwargs)


class WebhookVerificationError(MeshAPIError):
    """A webhook delivery failed ``meshapi.webhooks.verify()``: do not act on it (answer 400).

    ``reason`` says why, in one word: ``missing_header``, ``bad_format``, ``stale_timestamp``,
    ``future_timestamp``, ``mismatch``, ``bad_payload`` or ``id_mismatch``; ``str(e)`` says it in words.
    """

    reason: str = ""

    def __init__(self, message: str, *, reason: str = "", **kwargs: Any) -> None:
        kwargs.setdefault("status", 0)
        kwargs.setdefault("error_code", "webhook_verification_failed")
        kwargs.setdefault("request_id", "")
        super().__init__(message, **kwargs)
        self.reason = reason
