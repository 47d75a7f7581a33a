"""How a failure becomes the CLI's one line on stderr and its exit code.

Exit codes: 0 success, 1 the API or the network failed, 2 a usage or configuration problem (bad
arguments, missing settings, a missing input file), 130 interrupted with Ctrl-C. The line says what
failed, the error code, the request id when there is one, and what to do about it. It is built from
the error's own message, which never holds the token.
"""

from __future__ import annotations

import re
from typing import Any, List, Optional, Tuple

from .._errors import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    BudgetExceededError,
    ConfigurationError,
    ConflictError,
    InternalServerError,
    InvalidAPIVersionError,
    InvalidParamsError,
    MeshAPIError,
    NotFoundError,
    PaymentRequiredError,
    PermissionDeniedError,
    ProcessingFailedError,
    RateLimitError,
    RealtimeError,
    StreamEventError,
    StreamInterruptedError,
    UnprocessableEntityError,
    WaitTimeoutError,
)

__all__ = ["EXIT_API", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "UsageError", "describe"]

EXIT_OK = 0
EXIT_API = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

SETTINGS_HINT = "set MESHAPI_BASE_URL and MESHAPI_TOKEN (or pass --base-url and --token)"


class UsageError(Exception):
    """A problem with how the command was called (exit code 2); the message is shown as is."""


class StepFailed(Exception):
    """A demo step whose check did not hold (not an API error): exit code 1."""


#: Words in a not-found message, and the command that lists such things.
_LISTINGS = (
    ("template", "meshapi templates list"),
    ("batch", "meshapi batches list"),
    ("file", "meshapi rag list"),
)


def _unknown_route(exc: NotFoundError) -> bool:
    """A 404 for the URL itself, not for an id in it: the base URL does not lead to the API.

    The local gateway says so (``No route for GET /path.``); a server that is not the API (a proxy, a
    web server) answers without the API's JSON error (``parse_error``).
    """
    return exc.message.startswith("No route for ") or exc.error_code == "parse_error"


def _hint(exc: MeshAPIError) -> str:
    if isinstance(exc, AuthenticationError):
        return "check MESHAPI_TOKEN (or --token)"
    if isinstance(exc, PermissionDeniedError):
        return "this key is not allowed to do that; check its permissions"
    if isinstance(exc, PaymentRequiredError):
        return "check the account balance or spend limit"
    if isinstance(exc, BudgetExceededError):
        return "raise --budget, or ask for fewer tokens (--max-tokens)"
    if isinstance(exc, NotFoundError):
        if _unknown_route(exc):
            return (
                "the server has no such endpoint: check MESHAPI_BASE_URL (or --base-url); "
                "give the API's root URL, meshapi adds /v1/... itself"
            )
        if "model" in exc.error_code or "model" in exc.message.lower():
            return "check the model name (`meshapi models` lists them)"
        for family, command in _LISTINGS:
            if family in exc.message.lower():
                return f"check the id or name (`{command}` shows yours)"
        return "check the id (the `list` subcommand shows the existing ones)"
    if isinstance(exc, InvalidAPIVersionError):
        served = ", ".join(exc.supported_versions) or "see `meshapi api-versions`"
        return f"this gateway serves {served}; pick one with --api-version LABEL (or none)"
    if isinstance(exc, ConflictError):
        return "the resource's current state refuses this; check it and try again"
    if isinstance(exc, (BadRequestError, UnprocessableEntityError)):
        if "template variable" in exc.message.lower():
            return "give each missing value with --var NAME=VALUE"
        return "check the arguments"
    if isinstance(exc, RateLimitError):
        after = exc.retry_after_seconds
        return f"rate limited; retry in {after}s" if after is not None else "rate limited; retry later"
    if isinstance(exc, InternalServerError):
        return "the gateway or an upstream provider failed; try again later"
    if isinstance(exc, WaitTimeoutError):
        ident = exc.resource_id or "ID"
        if "batch" in exc.message.lower():
            return (
                f"it keeps running: `meshapi batches watch {ident}` follows it, "
                f"`meshapi batches cancel {ident}` stops it"
            )
        return "it may still finish: `meshapi rag list` shows its status"
    if isinstance(exc, ProcessingFailedError):
        return "upload the file again with `meshapi rag upload FILE`"
    if isinstance(exc, APITimeoutError):
        return "the gateway did not answer in time; try again or raise --timeout"
    if isinstance(exc, APIConnectionError):
        return "check MESHAPI_BASE_URL (or --base-url) and that the gateway is running"
    if isinstance(exc, (StreamInterruptedError, StreamEventError)):
        return "the stream broke off; try again"
    if isinstance(exc, RealtimeError):
        return "check the realtime model name and the session settings"
    if isinstance(exc, ConfigurationError):
        return SETTINGS_HINT
    return "see the message above"


def describe(exc: BaseException, action: str) -> Tuple[str, int]:
    """The one-line message for ``exc`` raised while doing ``action``, and the exit code."""
    if isinstance(exc, UsageError):
        return f"meshapi: {exc}", EXIT_USAGE
    if isinstance(exc, StepFailed):
        return f"meshapi: {action} failed: {exc}", EXIT_API
    if isinstance(exc, (ConfigurationError, InvalidParamsError)):
        message = (
            _cli_names(_flat(exc.message)) if isinstance(exc, ConfigurationError) else _flat(exc.message)
        )
        return f"meshapi: {action}: {message} ({exc.error_code}); {_hint(exc)}", EXIT_USAGE
    if isinstance(exc, MeshAPIError):
        parts = [f"code: {exc.error_code}"]
        if exc.status:
            parts.append(f"HTTP {exc.status}")
        if exc.request_id:
            parts.append(f"request id: {exc.request_id}")
        kind = type(exc).__name__
        message = _flat(exc.message)
        if isinstance(exc, (WaitTimeoutError, ProcessingFailedError)):
            # The SDK's advice names Python calls; the hint below names the CLI commands instead.
            message = message.split("; ", 1)[0]
        details = _details(exc.details) if exc.status in (400, 422) else ""
        return (
            f"meshapi: {action} failed: {kind}: {message}{details} ({', '.join(parts)}); {_hint(exc)}",
            EXIT_API,
        )
    if isinstance(exc, ImportError):
        return f"meshapi: {action} failed: {_flat(str(exc))}", EXIT_USAGE
    return (
        f"meshapi: {action} failed unexpectedly: {type(exc).__name__}: {_flat(str(exc))} "
        "(set MESHAPI_CLI_DEBUG=1 to see the traceback)",
        EXIT_API,
    )


_SDK_NAMES = re.compile(r"(?<![-\w$])(base_url|token|max_retries|timeout|api_version)\b")


def _cli_names(message: str) -> str:
    """A configuration message with the SDK's keyword names replaced by the CLI's options."""
    return _SDK_NAMES.sub(lambda match: "--" + match.group(1).replace("_", "-"), message)


def _details(details: List[Any]) -> str:
    """``: name: what is wrong; other: ...`` from validation details (loc/msg objects or strings)."""
    shown = []
    for item in details[:5]:
        if isinstance(item, dict):
            loc = [str(part) for part in item.get("loc") or [] if part not in ("body", "query", "path")]
            text = str(item.get("msg") or item.get("message") or item.get("type") or "").strip()
            if not text and not loc:
                continue
            shown.append(f"{'.'.join(loc)}: {text}" if loc else text)
        elif isinstance(item, str) and item.strip():
            shown.append(item.strip())
    if not shown:
        return ""
    more = f" (and {len(details) - 5} more)" if len(details) > 5 else ""
    return " [" + "; ".join(_flat(text) for text in shown) + more + "]"


def _flat(text: Optional[str]) -> str:
    """One line: collapse newlines so the error stays on a single line."""
    return " ".join((text or "").split()) or "(no message)"
