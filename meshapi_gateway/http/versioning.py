"""The dated API versions this gateway serves, and which one a request gets (docs/protocol.md §V1).

A request picks its version with ``X-Mesh-Version: YYYY-MM`` (the legacy ``Mesh-Version`` is read too).
No header: the token's stored pin (``api_version_pins``), else the baseline, the *oldest* version
(``2026-08``), so publishing a version never moves unpinned traffic. An empty, malformed or unknown label, or the header sent twice with different values,
is a ``400 invalid_api_version`` listing ``supported_versions`` (checked before authentication, by
``VersionMiddleware``). Every ``/v1`` response names the version served in ``X-Mesh-Version``; a
version the settings mark deprecated (``deprecated_versions``) adds ``Deprecation`` and, when a date
is set, ``Sunset`` to every response served under it. The realtime socket ignores the header.

What a version changes in a body is decided by the routes through :func:`at_least` (``2026-09`` adds
``request_id`` to video tasks and lets them be fetched by it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from email.utils import format_datetime
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

__all__ = [
    "BASELINE",
    "LATEST",
    "VERSIONS",
    "ApiVersion",
    "Refusal",
    "at_least",
    "listing",
    "resolve",
    "version_headers",
]


@dataclass(frozen=True)
class ApiVersion:
    label: str
    released_on: str
    notes_url: str
    #: what the version adds, cumulative (everything introduced at or before it)
    capabilities: Tuple[str, ...] = field(default_factory=tuple)


VERSIONS: Tuple[ApiVersion, ...] = (
    ApiVersion("2026-08", "2026-08-15", "https://developers.meshapi.ai/changelog#2026-08"),
    ApiVersion(
        "2026-09",
        "2026-09-03",
        "https://developers.meshapi.ai/changelog#2026-09",
        ("video.poll_by_request_id",),
    ),
)
BASELINE = VERSIONS[0].label
LATEST = VERSIONS[-1].label
_LABELS = tuple(v.label for v in VERSIONS)
_LABEL = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
_NAMES = (b"x-mesh-version", b"mesh-version")


@dataclass(frozen=True)
class Refusal:
    """Why a request's version header is refused (the message of the ``400 invalid_api_version``)."""

    message: str
    supported_versions: List[str]


def resolve(headers: Sequence[Tuple[bytes, bytes]], pin: Optional[str] = None) -> Union[str, Refusal]:
    """The label a request is served under (its header, else the key's ``pin``, else the baseline), or
    the :class:`Refusal` to answer."""
    sent = [value.decode("latin-1").strip() for name, value in headers if name.lower() in _NAMES]
    if not sent:
        return pin or BASELINE
    supported = list(_LABELS)
    listed = ", ".join(supported)
    if len(set(sent)) > 1:
        return Refusal(
            f"X-Mesh-Version was sent more than once with different values. Supported: {listed}.", supported
        )
    label = sent[0]
    if not label:
        return Refusal(
            f"X-Mesh-Version is empty; send a version label ({listed}) or omit the header for the baseline "
            f"{BASELINE}.",
            supported,
        )
    if not _LABEL.fullmatch(label):
        return Refusal(
            f"X-Mesh-Version {label[:40]!r} is not a YYYY-MM label. Supported: {listed}.", supported
        )
    if label not in _LABELS:
        return Refusal(f"API version {label!r} is not served. Supported: {listed}.", supported)
    return label


def at_least(label: str, minimum: str) -> bool:
    """Whether ``label`` is ``minimum`` or newer (labels sort as text)."""
    return label >= minimum


def _sunset_date(value: Any) -> Optional[date]:
    if value is None:
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def check_deprecated(deprecated: Optional[Mapping[str, Any]]) -> Dict[str, Optional[date]]:
    """``deprecated_versions`` of the settings (label -> sunset day ``YYYY-MM-DD`` or ``None``), checked."""
    checked: Dict[str, Optional[date]] = {}
    for label, sunset in (deprecated or {}).items():
        if label not in _LABELS:
            raise ValueError(f"deprecated_versions: {label!r} is not a served version ({', '.join(_LABELS)})")
        try:
            checked[label] = _sunset_date(sunset)
        except ValueError:
            raise ValueError(f"deprecated_versions[{label!r}] must be a YYYY-MM-DD day or None") from None
    return checked


def check_pins(pins: Optional[Mapping[str, Any]]) -> Dict[str, str]:
    """``api_version_pins`` of the settings (token -> served label), checked."""
    for label in (pins or {}).values():
        if label not in _LABELS:
            raise ValueError(f"api_version_pins: {label!r} is not a served version ({', '.join(_LABELS)})")
    return dict(pins or {})


def version_headers(label: str, deprecated: Mapping[str, Optional[date]]) -> List[Tuple[bytes, bytes]]:
    """The headers every response served under ``label`` carries: the echo, and the deprecation notice."""
    headers = [(b"x-mesh-version", label.encode("ascii"))]
    if label in deprecated:
        headers.append((b"deprecation", b"true"))
        sunset = deprecated[label]
        if sunset is not None:
            moment = datetime(sunset.year, sunset.month, sunset.day, tzinfo=timezone.utc)
            headers.append((b"sunset", format_datetime(moment, usegmt=True).encode("ascii")))
    return headers


def listing(deprecated: Mapping[str, Optional[date]]) -> List[Dict[str, Any]]:
    """The body of ``GET /v1/api-versions``: every version, oldest first."""
    entries = []
    for version in VERSIONS:
        sunset = deprecated.get(version.label)
        capabilities = [c for v in VERSIONS if v.label <= version.label for c in v.capabilities]
        entries.append(
            {
                "label": version.label,
                "baseline": version.label == BASELINE,
                "latest": version.label == LATEST,
                "status": "deprecated" if version.label in deprecated else "ga",
                "released_on": version.released_on,
                "sunset_on": sunset.isoformat() if sunset is not None else None,
                "notes_url": version.notes_url,
                "capabilities": capabilities,
            }
        )
    return entries
