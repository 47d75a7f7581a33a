"""``MeshAPIError`` itself and every error an HTTP error response becomes: one class per status family,
one subclass per error code a program branches on, and the mapping (``error_from_response``).

Split from ``meshapi._errors`` (which re-exports every name here, adds the errors raised without an
HTTP error status and draws the whole tree) to keep each module short. ``StreamInterruptedError`` lives
here because 0.1.4's ``MeshAPIError.stream_interrupted()`` builds it. The fields an error response
carries are read in ``meshapi._core.error_body``.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Tuple, Type

from ._core.error_body import error_code_for_status, read_error_response
from ._redact import scrub

__all__ = [
    "CODE_CLASSES",
    "APIError",
    "APIStatusError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "ContentPolicyViolationError",
    "ContextWindowExceededError",
    "InternalServerError",
    "InvalidAPIVersionError",
    "MeshAPIError",
    "ModelCapabilityNotSupportedError",
    "ModelNotFoundError",
    "NotFoundError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "RateLimitError",
    "StreamInterruptedError",
    "UnprocessableEntityError",
    "class_for",
    "class_for_status",
    "error_from_response",
]


class MeshAPIError(Exception):
    """Base class of every error raised by the SDK.

    Attributes (as in 0.1.4): ``status`` (HTTP status, 0 when there was no HTTP error status),
    ``error_code`` (stable machine code), ``request_id`` (``""`` when unknown), ``details``,
    ``provider_error``, ``retry_after_seconds``. Beyond 0.1.4: ``provider_code`` (the error body's
    ``error.provider_code``: the provider's finer reason, ``None`` when absent), ``response`` (the ``httpx.Response``
    when there was one; not pickled), ``headers`` and ``body`` (the parsed error body, if any), and
    openai-python's read-only names ``status_code`` (``status``) and ``code`` (``error_code``).
    """

    status: int
    error_code: str
    request_id: str
    details: List[Any]
    provider_error: Optional[Dict[str, Any]]
    retry_after_seconds: Optional[float]
    provider_code: Optional[str]

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
        provider_code: Optional[str] = None,
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
        self.provider_code = (
            scrub(provider_code) if isinstance(provider_code, str) and provider_code else None
        )
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
            "provider_code": self.provider_code,
        }

    def __reduce__(self) -> Tuple[Any, ...]:
        # The live httpx response is dropped; everything else survives pickle, copy and deepcopy.
        return (_rebuild_error, (type(self), self.message, self._init_kwargs()), self._extra_state())

    def _extra_state(self) -> Dict[str, Any]:
        skip = {"message", "status", "error_code", "request_id", "details", "provider_error"}
        skip |= {"retry_after_seconds", "provider_code", "response", "body", "args"}
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


class APIStatusError(MeshAPIError):
    """The gateway answered with an HTTP error status (``status`` >= 400)."""


class BadRequestError(APIStatusError):
    """400."""


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


# --- one class per error code a program branches on ----------------------------------------------------
# Each is a subclass of the class its status already has, and is used only with that status (a
# context_window_exceeded sent with 413 stays an APIStatusError), so existing ``except`` clauses keep
# catching what they caught.


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


class ContextWindowExceededError(BadRequestError):
    """400 ``context_window_exceeded``: the prompt plus the requested output do not fit the model's
    context window. Shorten the messages, lower ``max_tokens`` or pick a model with a longer context."""


class ModelCapabilityNotSupportedError(BadRequestError):
    """400 ``model_capability_not_supported``: the model cannot serve this endpoint, capability or service
    tier (e.g. ``service_tier="flex"`` on a model without a flex price). Not retried: a retry gets the
    same answer."""


class ContentPolicyViolationError(BadRequestError):
    """400 ``content_policy_violation``: the provider's content filter refused the request."""


class ModelNotFoundError(NotFoundError):
    """404 ``model_not_found``: the model id is unknown, disabled or not permitted for this key."""


#: error code -> its class; the class's first base is the status class it must arrive with.
CODE_CLASSES: Dict[str, Type[APIStatusError]] = {
    "content_policy_violation": ContentPolicyViolationError,
    "context_window_exceeded": ContextWindowExceededError,
    "invalid_api_version": InvalidAPIVersionError,
    "model_capability_not_supported": ModelCapabilityNotSupportedError,
    "model_not_found": ModelNotFoundError,
}


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


def class_for(status: int, error_code: str) -> Type[APIStatusError]:
    """The class for an error answered with ``status`` and ``error_code``: the code's own class when it
    arrived with the status its class belongs to, else the status class (``class_for_status``)."""
    by_status = class_for_status(status)
    by_code = CODE_CLASSES.get(error_code)
    if by_code is not None and by_code.__bases__[0] is by_status:
        return by_code
    return by_status


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
        "provider_code": found.provider_code,
    }
    if found.status == 400 and found.error_code == "invalid_api_version":
        fields["supported_versions"] = _supported_versions(found.body)
    return class_for(found.status, found.error_code)(found.message, **fields)
