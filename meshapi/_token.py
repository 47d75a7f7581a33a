"""The API token: its checks, its redacted form, and what a token provider may return.

Split from ``meshapi._config`` (which re-exports every name here) so that the rules for the one secret
the SDK holds sit together: a token is checked once (printable ASCII, no whitespace), remembered for
scrubbing (``meshapi._redact``) and wrapped so no ``repr`` shows it; a provider's answer gets the same
checks on every attempt.
"""

from __future__ import annotations

import inspect
from typing import Awaitable, Callable, Union

from ._errors import ConfigurationError
from ._redact import remember_secret

__all__ = ["RedactedStr", "TokenProvider", "check_token", "provided_token", "redact_token"]

# A token, or a callable returning one for each attempt (the async client also awaits an awaitable).
TokenProvider = Callable[[], Union[str, Awaitable[str]]]


def redact_token(token: object) -> str:
    """A recognisable but useless form of the token, for reprs."""
    if callable(token):
        return "<token provider>"
    if not isinstance(token, str) or not token:
        return "''"
    return f"'{token[:4]}…' (redacted)" if len(token) > 8 else "'…' (redacted)"


class RedactedStr(str):
    """A ``str`` (the token) whose ``repr`` never shows its value: debuggers, ``vars()`` and logs of
    containers print it redacted, while headers and comparisons see the real string."""

    __slots__ = ()

    def __repr__(self) -> str:
        return redact_token(str.__str__(self))


def check_token(token: object) -> str:
    """``token`` as a ``RedactedStr``, or ``ConfigurationError`` (the token is never in the message)."""
    if not isinstance(token, str) or not token.strip():
        raise ConfigurationError("token must be a non-empty string (your MeshAPI key, rsk_...)")
    if any(c in token for c in "\r\n\x00") or token != token.strip():
        raise ConfigurationError("token contains whitespace or a line break; check how it was read")
    if not token.isascii() or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in token):
        # caught here, not as a UnicodeEncodeError from httpx at the first call (never echo the token)
        raise ConfigurationError("token must be printable ASCII without spaces; check how it was read")
    remember_secret(token)  # scrubbed from every error text from now on (meshapi._redact)
    return token if isinstance(token, RedactedStr) else RedactedStr(token)


def provided_token(value: object, *, awaitable_hint: str = "use AsyncMeshAPI for an async provider") -> str:
    """What a token provider returned, checked: a non-empty string, else ``ConfigurationError``.

    ``None``, an empty string or another type never becomes a request without ``Authorization``. An
    awaitable (an ``async def`` provider where nothing awaits it) is closed first, so no "coroutine was
    never awaited" warning is left behind, and the message says ``awaitable_hint``.
    """
    if inspect.isawaitable(value):
        close = getattr(value, "close", None)
        if close is not None:
            close()
        raise ConfigurationError(f"The token provider is async (it returned an awaitable); {awaitable_hint}")
    if not isinstance(value, str) or not value:
        shown = "an empty string" if value == "" else "None" if value is None else type(value).__name__
        raise ConfigurationError(
            f"The token provider returned {shown}; it must return the token as a non-empty string"
        )
    return check_token(value)
