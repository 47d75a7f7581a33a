"""The tokens this process's clients use, and scrubbing them out of error texts.

A server or proxy may echo the request, or the key, back in an error body; that body becomes the
error's message, ``body``, ``details`` and so ``str()``, ``repr()`` and the pickle of the exception
(what error trackers store). Every token a client is configured with, or gets from its token
provider, passes ``meshapi._config.check_token``, which calls :func:`remember_secret`; every
``MeshAPIError`` runs its texts through :func:`scrub` at construction.

The registry is bounded, so a rotating token provider (a new token per call) neither grows memory
nor slows every error down: it holds the :data:`MAX_RECENT_SECRETS` most recently used tokens (least
recently used dropped first) plus the static token of every live client (:func:`pin_secret`, released
when the client's settings are garbage collected). It holds nothing else.
"""

from __future__ import annotations

import collections
import os
import threading
import weakref
from typing import Any, Deque, Dict, FrozenSet, Tuple

__all__ = ["MAX_RECENT_SECRETS", "REDACTED", "pin_secret", "remember_secret", "remembered", "scrub"]

REDACTED = "[redacted]"
#: How many recently used tokens are kept for scrubbing (beyond the static tokens of live clients).
MAX_RECENT_SECRETS = 128
_MIN_LENGTH = 8  # shorter strings are not worth hiding and would mangle ordinary words
_MAX_DEPTH = 32  # scrubbing walks nested bodies this deep; deeper values are left out

_lock = threading.Lock()


def _new_lock_in_child() -> None:
    # a fork while another thread held the lock would leave the child's copy locked for ever
    global _lock
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_lock_in_child)
_recent: collections.OrderedDict[str, None] = collections.OrderedDict()
_pins: Dict[int, str] = {}  # id(owner) -> its static token
# ids of owners that were garbage collected: appended by weakref.finalize (never under the lock, as a
# collection may run while this thread holds it) and dropped from _pins at the next change
_released: Deque[int] = collections.deque()
_secrets: Tuple[str, ...] = ()  # what scrub() reads: recent | pinned, longest first, rebuilt on change


def _rebuild() -> None:
    """Under ``_lock``: drop released pins, then publish the new set."""
    global _secrets
    while _released:
        _pins.pop(_released.popleft(), None)
    # longest first: a token that is the prefix of another must not leave the other's tail in clear
    _secrets = tuple(sorted(set(_recent) | set(_pins.values()), key=len, reverse=True))


def remember_secret(secret: str) -> None:
    """Add ``secret`` (a token) to the strings scrubbed out of every error built from now on.

    It stays while it is among the :data:`MAX_RECENT_SECRETS` most recently remembered.
    """
    if len(secret) < _MIN_LENGTH:
        return
    plain = str.__str__(secret)
    with _lock:
        if plain in _recent:
            _recent.move_to_end(plain)  # in use again: the last to be dropped
            if not _released:
                return
        else:
            _recent[plain] = None
            while len(_recent) > MAX_RECENT_SECRETS:
                _recent.popitem(last=False)
        _rebuild()


def pin_secret(secret: str, owner: object) -> None:
    """Keep ``secret`` (a client's static token) scrubbed for as long as ``owner`` lives."""
    if len(secret) < _MIN_LENGTH:
        return
    key = id(owner)
    plain = str.__str__(secret)
    with _lock:
        # a collected owner's id may be reused by ``owner``: release the old pins first
        changed = bool(_released)
        while _released:
            _pins.pop(_released.popleft(), None)
        _pins[key] = plain
        if changed or plain not in _secrets:  # else the published set is the same (client copies)
            _rebuild()
    weakref.finalize(owner, _released.append, key)


def remembered() -> FrozenSet[str]:
    """The tokens scrubbed right now (for tests and diagnostics; never log it)."""
    return frozenset(_secrets)


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
