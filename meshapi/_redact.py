"""The tokens this process's clients use, and scrubbing them out of error texts.

A server or proxy may echo the request, or the key, back in an error body; that body becomes the
error's message, ``body``, ``details`` and so ``str()``, ``repr()`` and the pickle of the exception
(what error trackers store). Every token a client is configured with, or gets from its token
provider, passes ``meshapi._config.check_token``, which calls :func:`remember_secret`; every
``MeshAPIError`` runs its texts through :func:`scrub` at construction. The registry only grows by the
tokens actually used (a few strings), and holds nothing else.
"""

from __future__ import annotations

import threading
from typing import Any, FrozenSet

__all__ = ["REDACTED", "remember_secret", "scrub"]

REDACTED = "[redacted]"
_MIN_LENGTH = 8  # shorter strings are not worth hiding and would mangle ordinary words
_MAX_DEPTH = 32  # scrubbing walks nested bodies this deep; deeper values are left out

_lock = threading.Lock()
_secrets: FrozenSet[str] = frozenset()


def remember_secret(secret: str) -> None:
    """Add ``secret`` (a token) to the strings scrubbed out of every error built from now on."""
    global _secrets
    if len(secret) < _MIN_LENGTH or secret in _secrets:
        return
    with _lock:
        _secrets = _secrets | {str.__str__(secret)}


def scrub(value: Any, _depth: int = 0) -> Any:
    """``value`` with every remembered secret replaced by :data:`REDACTED` (strings, dicts, lists)."""
    secrets = _secrets
    if not secrets:
        return value
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value
    if _depth >= _MAX_DEPTH:
        return value if not isinstance(value, (dict, list, tuple)) else None
    if isinstance(value, dict):
        return {scrub(k, _depth + 1): scrub(v, _depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v, _depth + 1) for v in value]
    if isinstance(value, tuple):
        return tuple(scrub(v, _depth + 1) for v in value)
    return value
