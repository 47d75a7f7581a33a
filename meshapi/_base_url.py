"""The base URL: its checks and the one ``/v1`` suffix dropped.

Why it exists: a client's base URL is checked once when its settings are made, and a ``with_options()``
copy that keeps it is not checked again (``meshapi._config.derived_config``); the realtime URL drops the
same suffix (``meshapi.realtime.handshake``). ``meshapi._config`` re-exports both names.
"""

from __future__ import annotations

from typing import Any

import httpx

from ._errors import ConfigurationError

__all__ = ["checked_base_url", "without_api_version"]


def checked_base_url(value: Any) -> str:
    """``base_url`` checked (an http(s) URL naming a host, no query or fragment) and normalised: no
    trailing slash, no API version suffix."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError("base_url must be a non-empty URL such as https://api.meshapi.ai")
    base = value.strip()
    if base.endswith("/"):
        base = base[:-1]
    try:
        url = httpx.URL(base)
    except Exception:
        raise ConfigurationError(f"base_url is not a valid URL: {base!r}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigurationError(
            f"base_url must start with http:// or https:// and name a host, got {base!r}"
        )
    if url.query or url.fragment:
        raise ConfigurationError("base_url must not contain a query string or fragment")
    return without_api_version(base)


def without_api_version(base_url: str) -> str:
    """``base_url`` without one trailing ``/v1`` (or ``/v1/``): the SDK adds ``/v1`` to every path itself.

    openai-python users write ``http://host/v1``; kept as is, every request would go to ``/v1/v1/...``
    and fail with a 404. Only the last path segment is looked at (``http://v1`` names a host and stays);
    ``/v1/v1`` loses one ``/v1``. Used by ``MeshAPIConfig`` and the realtime URL (``realtime_url``).
    """
    base = base_url.rstrip("/")
    _, sep, rest = base.partition("://")
    if sep and "/" in rest and rest.endswith("/v1"):
        return base[: -len("/v1")]
    return base
