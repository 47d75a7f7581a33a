"""The realtime handshake without the socket: URL, auth modes, upgrade headers, refused-upgrade errors.

:func:`build_handshake` turns (base URL, model, token, auth mode) into the URL, subprotocols and headers
of the upgrade request; the token goes in the URL only in ``auth="query"`` mode, or after an HTTP 400 on
the upgrade when the caller opted in with ``allow_query_auth=True`` (:func:`query_fallback`).
:func:`handshake_error` maps a refused upgrade to the SDK's status errors. Pure: no socket, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Iterable, List, Mapping, Optional, Tuple
from urllib.parse import quote

import httpx

from .._config import without_api_version
from .._errors import ConfigurationError, InvalidParamsError, MeshAPIError, error_from_response

__all__ = [
    "AUTH_MODES",
    "FALLBACK_STATUSES",
    "REALTIME_PATH",
    "SUBPROTOCOL",
    "Handshake",
    "build_handshake",
    "handshake_error",
    "query_fallback",
    "realtime_url",
    "scrub",
]

REALTIME_PATH = "/v1/realtime"
SUBPROTOCOL = "openai-realtime"
#: ``auto``: key in a ``Bearer.<key>`` subprotocol and an ``Authorization`` header; when the upgrade is
#: refused with one of :data:`FALLBACK_STATUSES` it falls back to the query form once, but only if the
#: caller opted in (``allow_query_auth=True``); otherwise the refusal says how to opt in.
AUTH_MODES = ("auto", "subprotocol", "header", "query")
#: Statuses after which an opted-in ``auto`` retries the handshake with ``?api_key=`` (a gateway that
#: rejects the subprotocol form answers 400, as the node SDK recorded in production; docs/protocol.md §7.2).
FALLBACK_STATUSES = frozenset({400})
# RFC 9110 token characters: what one Sec-WebSocket-Protocol value may contain.
_TOKEN_CHARS = frozenset("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def scrub(text: str, secret: str) -> str:
    """``text`` with every occurrence of ``secret`` (raw or URL-encoded) replaced by ``***``."""
    if not secret:
        return text
    for form in {secret, quote(secret, safe="")}:
        text = text.replace(form, "***")
    return text


# --- handshake --------------------------------------------------------------------------------------


def realtime_url(base_url: str, model: str, *, api_key: Optional[str] = None) -> str:
    """The WebSocket URL of the realtime endpoint: ``http`` becomes ``ws``, ``https`` becomes ``wss``.

    ``model`` is percent-encoded as one query value; ``api_key`` is added only when given (query auth).
    A trailing ``/v1`` on ``base_url`` is dropped once, as for HTTP calls (``without_api_version``).
    """
    if not isinstance(model, str) or not model.strip():
        raise InvalidParamsError("model must be a non-empty string, e.g. 'openai/gpt-realtime'")
    base = without_api_version(base_url)
    scheme, sep, rest = base.partition("://")
    schemes = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}
    if not sep or scheme.lower() not in schemes:
        raise InvalidParamsError(f"base_url must start with http:// or https://, got {base_url!r}")
    url = f"{schemes[scheme.lower()]}://{rest}{REALTIME_PATH}?model={quote(model, safe='')}"
    if api_key is not None:
        url += f"&api_key={quote(api_key, safe='')}"
    return url


@dataclass(frozen=True, repr=False)
class Handshake:
    """What one upgrade attempt sends. ``safe_url`` is ``url`` without the key (for errors and logs)."""

    url: str
    safe_url: str
    subprotocols: Tuple[str, ...]
    headers: Tuple[Tuple[str, str], ...]
    auth: str
    allow_query: bool = False
    #: The key this handshake carries (resolved once, so redaction and fallbacks use the same one).
    token: str = ""

    def __repr__(self) -> str:
        return f"Handshake(url={self.safe_url!r}, auth={self.auth!r})"

    @property
    def can_fall_back(self) -> bool:
        """True when a refusal with one of :data:`FALLBACK_STATUSES` should be retried as ``query``
        (``auth="auto"`` and the caller allowed the key in the URL)."""
        return self.auth == "auto" and self.allow_query

    @property
    def could_fall_back(self) -> bool:
        """True when only the missing opt-in stops a query-form retry (the refusal then says so)."""
        return self.auth == "auto" and not self.allow_query


def _is_token(value: str) -> bool:
    return bool(value) and set(value) <= _TOKEN_CHARS


def build_handshake(
    base_url: str,
    model: str,
    token: str,
    *,
    auth: str = "auto",
    headers: Optional[Mapping[str, str]] = None,
    allow_query_auth: bool = False,
) -> Handshake:
    """The upgrade request for ``auth`` (one of :data:`AUTH_MODES`).

    * ``auto`` (default): subprotocols ``openai-realtime`` and ``Bearer.<key>`` plus an
      ``Authorization: Bearer`` header; the URL carries only the model.
    * ``subprotocol``: only the ``Bearer.<key>`` subprotocol (docs/protocol.md §7.2, the documented preferred form).
    * ``header``: only the ``Authorization`` header.
    * ``query``: ``?api_key=`` in the URL, as every SDK up to 0.1.12 sends it (production-proven, but
      the key ends up in proxy and access logs).

    ``openai-realtime`` is always offered first. ``headers`` are extra headers for the upgrade;
    ``allow_query_auth`` lets ``auto`` retry in the query form after an HTTP 400. A ``token`` that is
    not a non-empty string (a provider returned ``None``) is ``ConfigurationError``: nothing is sent.
    """
    if auth not in AUTH_MODES:
        raise InvalidParamsError(f"auth must be one of {', '.join(AUTH_MODES)}; got {auth!r}")
    if not isinstance(token, str) or not token:  # never an upgrade without a credential
        raise ConfigurationError("the realtime handshake needs the token as a non-empty string")
    safe_url = realtime_url(base_url, model)
    pairs: List[Tuple[str, str]] = [(k, v) for k, v in (headers or {}).items()]
    subprotocols = [SUBPROTOCOL]
    url = safe_url
    if auth in ("auto", "subprotocol"):
        if _is_token(token):
            subprotocols.append(f"Bearer.{token}")
        elif auth == "subprotocol":
            raise InvalidParamsError(
                "auth='subprotocol' needs a token made of letters, digits and -._~ (use auth='header')"
            )
    if auth in ("auto", "header"):
        pairs = [(k, v) for k, v in pairs if k.lower() != "authorization"]
        pairs.append(("Authorization", f"Bearer {token}"))
    if auth == "query":
        url = realtime_url(base_url, model, api_key=token)
    return Handshake(url, safe_url, tuple(subprotocols), tuple(pairs), auth, bool(allow_query_auth), token)


def query_fallback(handshake: Handshake, base_url: str, model: str, token: str) -> Handshake:
    """The ``query`` form of an ``auto`` handshake (same extra headers, no credential headers)."""
    headers = {k: v for k, v in handshake.headers if k.lower() != "authorization"}
    return build_handshake(base_url, model, token, auth="query", headers=headers)


def handshake_error(
    status: int,
    headers: Iterable[Tuple[str, str]],
    body: bytes,
    handshake: Handshake,
) -> MeshAPIError:
    """The typed error for an upgrade refused with HTTP ``status`` (same classes as any API call).

    401 → ``AuthenticationError``, 403 → ``PermissionDeniedError``, 404 → ``NotFoundError`` (unknown or
    non-realtime model), 429 → ``RateLimitError``, 5xx → ``InternalServerError``...; ``request_id``
    comes from the JSON envelope or the ``X-Request-Id`` header. The request on ``error.response`` has
    the key-free URL.
    """
    # a repeated header (e.g. the server's default Content-Type next to the application's) keeps its
    # last value, which is the application's
    unique: Dict[str, Tuple[str, str]] = {}
    for name, value in headers:
        unique[name.lower()] = (name, value)
    response = httpx.Response(
        status,
        headers=list(unique.values()),
        content=bytes(body or b""),
        request=httpx.Request("GET", handshake.safe_url),
    )
    error = error_from_response(response)
    if status == 426 or (200 <= status < 300):
        error.message = f"The gateway did not upgrade the realtime connection (HTTP {status})."
        error.args = (error.message,)
    elif status in FALLBACK_STATUSES and handshake.could_fall_back:
        error.message = (
            f"{error.message} The gateway refused the key in the WebSocket handshake (HTTP {status}); it may "
            "accept it only in the URL (?api_key=), where proxies and access logs record it. To allow that, "
            "pass connect(..., allow_query_auth=True) (retries once in the query form) or auth='query'."
        )
        error.args = (error.message,)
    return error
