"""API version pinning: the label this release is built against, its check, and what answers say about it.

Every HTTP request to the gateway carries ``X-Mesh-Version`` (docs/protocol.md §V1.1): the client's
``api_version`` (default ``MESH_API_VERSION``), or the call's own ``api_version=``; ``None`` sends no
header, and the gateway then serves its baseline. The realtime handshake never carries it (the gateway
ignores it there). A label is checked here, before anything is sent: an empty or malformed one would
only come back as ``400 invalid_api_version``.

Answers name the version served (``X-Mesh-Version``, or the legacy ``Mesh-Version``) and, for a route or
version scheduled for retirement, ``Deprecation`` / ``Sunset`` (docs/protocol.md §V1.3). Those give one
``MeshAPIDeprecationWarning`` per method, path and version in a process, so a loop of calls does not
flood the log; the raw response carries the headers on every call.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import warnings
from typing import Any, Optional, Set, Tuple, Type, Union

from ._errors import ConfigurationError, InvalidParamsError

__all__ = [
    "API_VERSION_HEADER",
    "MESH_API_VERSION",
    "MeshAPIDeprecationWarning",
    "check_api_version",
    "is_api_version",
    "served_version",
    "warn_if_deprecated",
]

#: The API version this release is built against (sent unless the client or the call picks another).
MESH_API_VERSION = "2026-08"
API_VERSION_HEADER = "X-Mesh-Version"
#: The name production echoed during the rollout; read after ``X-Mesh-Version``.
LEGACY_VERSION_HEADER = "Mesh-Version"

_LABEL = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")


def is_api_version(value: object) -> bool:
    """Whether ``value`` is a ``YYYY-MM`` label (month 01 to 12)."""
    return isinstance(value, str) and _LABEL.fullmatch(value) is not None


def check_api_version(
    value: object,
    *,
    name: str = "api_version",
    error: Type[Union[ConfigurationError, InvalidParamsError]] = ConfigurationError,
) -> Optional[str]:
    """``value`` when it is ``None`` (no header) or a ``YYYY-MM`` label, else ``error`` (a client setting:
    ``ConfigurationError``; a call's option: ``InvalidParamsError``)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise error(f"{name} must be a 'YYYY-MM' string or None, got {type(value).__name__}")
    if not is_api_version(value):
        shown = "an empty string" if value == "" else repr(value[:40])
        raise error(
            f"{name} must be a version label such as {MESH_API_VERSION!r} (YYYY-MM), got {shown}; "
            "pass None to send no version header"
        )
    return value


def served_version(headers: Any) -> Optional[str]:
    """The version the gateway says it served: ``X-Mesh-Version``, else ``Mesh-Version``, else ``None``."""
    value = headers.get(API_VERSION_HEADER) or headers.get(LEGACY_VERSION_HEADER)
    return str(value) if value else None


class MeshAPIDeprecationWarning(DeprecationWarning):
    """The gateway answered with ``Deprecation`` (and maybe ``Sunset``): the route or the pinned API
    version is scheduled for retirement. Given once per method, path and version in a process."""


_warned: Set[Tuple[str, str, str]] = set()
_warned_lock = threading.Lock()


def warn_if_deprecated(method: str, path: str, headers: Any) -> None:
    """One ``MeshAPIDeprecationWarning`` for the first answer of a route and version that carries
    ``Deprecation``; later ones are silent."""
    deprecation = headers.get("deprecation")
    if deprecation is None:
        return
    version = served_version(headers) or ""
    key = (method, path, version)
    with _warned_lock:
        if key in _warned:
            return
        _warned.add(key)
    sunset = headers.get("sunset")
    served = f" (API version {version})" if version else ""
    when = f"; it stops being served on {sunset}" if sunset else ""
    warnings.warn(
        f"{method} {path}{served} is deprecated (Deprecation: {deprecation}){when}. "
        "See client.api_versions.list() and the release notes.",
        MeshAPIDeprecationWarning,
        stacklevel=_caller_level(),
    )


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _caller_level() -> int:
    """The ``stacklevel`` of the first frame outside this package: the warning names the user's line."""
    frame = sys._getframe(1)
    level = 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


def _forget_warnings() -> None:
    """Warn again for routes already warned about (tests)."""
    with _warned_lock:
        _warned.clear()
