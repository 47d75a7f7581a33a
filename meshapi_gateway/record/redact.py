"""Redaction of every secret a request can carry, before the gateway keeps anything of it.

The request log (and so ``/_admin/requests`` and the inspector) and recorded cassettes store requests;
a key stored in clear there is a key shown to whoever reads them. A request carries secrets in:

* headers: ``Authorization``, ``Proxy-Authorization``, ``X-Api-Key``, ``Api-Key``, ``Cookie`` and the
  like (:func:`is_secret_header`);
* ``Sec-WebSocket-Protocol``: the realtime handshake offers the key as a subprotocol, ``Bearer.<key>``
  (the SDK's default) or ``openai-insecure-api-key.<key>``; only those entries are redacted, the others
  (``openai-realtime``) stay readable;
* query parameters such as ``api_key`` / ``token`` (:data:`SECRET_QUERY`);
* JSON body fields that hold keys, at any depth: ``api_key``, ``token``, ``password``...
  (:data:`SECRET_FIELDS`; string values only).

Each becomes a redacted form in which the scheme and the token's kind stay readable (``Bearer
rsk_…redacted``, ``Bearer.rsk_…redacted``). What was sent can still be checked, without keeping it, by
comparing HMACs under a key that lives only in this process (``digest``); :func:`redact_request` returns
them, with the bearer ones apart so ``bearer_is()`` knows the header and subprotocol forms.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import parse_qsl, urlencode

__all__ = [
    "MARK",
    "SECRET_FIELDS",
    "SECRET_HEADERS",
    "SECRET_QUERY",
    "SECRET_SUBPROTOCOLS",
    "Redacted",
    "digest",
    "is_secret_header",
    "redact",
    "redact_headers",
    "redact_json",
    "redact_query",
    "redact_query_string",
    "redact_request",
]

MARK = "…redacted"
SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-api-key",
        "api-key",
        "cookie",
        "x-auth-token",
        "x-access-token",
    }
)
SECRET_QUERY = frozenset({"api_key", "apikey", "api-key", "key", "token", "access_token", "auth"})
#: Subprotocol prefixes that carry a key after the first dot (``Bearer.<key>``), compared lower-case.
SECRET_SUBPROTOCOLS = frozenset({"bearer", "openai-insecure-api-key", "api-key", "apikey", "token"})
#: JSON body field names whose string values are secrets, compared lower-case, at any depth.
SECRET_FIELDS = frozenset(
    {
        "api_key",
        "apikey",
        "api-key",
        "token",
        "access_token",
        "refresh_token",
        "auth_token",
        "client_secret",
        "secret",
        "password",
        "authorization",
    }
)
_SCHEMES = ("bearer", "basic", "token")
_PROCESS_KEY = secrets.token_bytes(32)


def redact(value: str) -> str:
    """``"Bearer rsk_abc..."`` -> ``"Bearer rsk_…redacted"``: the scheme and the token's kind survive."""
    scheme, sep, rest = value.strip().partition(" ")
    if sep and scheme.lower() in _SCHEMES:
        return f"{scheme} {_mask(rest.strip())}"
    return _mask(value.strip())


def _mask(secret: str) -> str:
    head, sep, _ = secret.partition("_")
    kind = head + "_" if sep and 0 < len(head) <= 5 and head.isalnum() else ""
    return f"{kind}{MARK}"


def _is_redacted(value: str) -> bool:
    """Whether ``value`` is already its own redacted form (a record built again from stored data).

    Equality, not "contains the mark": a secret that merely contains ``…redacted`` is still a secret.
    """
    return redact(value) == value.strip()


def digest(value: str) -> bytes:
    return hmac.new(_PROCESS_KEY, value.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()


def _secret_part(value: str) -> str:
    scheme, sep, rest = value.strip().partition(" ")
    return rest.strip() if sep and scheme.lower() in _SCHEMES else value.strip()


def _is_bearer(value: str) -> bool:
    return value.strip().lower().startswith("bearer ")


def is_secret_header(name: str) -> bool:
    """True for a header whose whole value is a secret (``Authorization``, ``X-Goog-Api-Key``, ...)."""
    name = name.lower()
    return name in SECRET_HEADERS or name.endswith(("api-key", "api_key", "apikey"))


@dataclass
class Redacted:
    """A request's parts with the secrets replaced, and the HMACs of the clear secrets."""

    headers: Dict[str, str] = field(default_factory=dict)
    query: Dict[str, str] = field(default_factory=dict)
    json: Any = None
    #: HMACs of every secret removed; ``bearers`` only of those sent as a bearer (header or subprotocol).
    secrets: List[bytes] = field(default_factory=list)
    bearers: List[bytes] = field(default_factory=list)


def _subprotocols(value: str, found: Redacted) -> str:
    entries = []
    for entry in value.split(","):
        prefix, dot, key = entry.strip().partition(".")
        if dot and key and prefix.lower() in SECRET_SUBPROTOCOLS and _mask(key) != key:
            found.secrets.append(digest(key))
            if prefix.lower() == "bearer":
                found.bearers.append(found.secrets[-1])
            entries.append(f"{prefix}.{_mask(key)}")
        else:
            entries.append(entry.strip())
    return ", ".join(e for e in entries if e)


def _headers(headers: Dict[str, str], found: Redacted) -> Dict[str, str]:
    out: Dict[str, str] = {}
    for name, value in headers.items():
        if is_secret_header(name) and not _is_redacted(value):
            found.secrets.append(digest(_secret_part(value)))
            if name.lower() == "authorization" and _is_bearer(value):
                found.bearers.append(found.secrets[-1])
            out[name] = redact(value)
        elif name.lower() == "sec-websocket-protocol":
            out[name] = _subprotocols(value, found)
        else:
            out[name] = value
    return out


def _query(query: Dict[str, str], found: Redacted) -> Dict[str, str]:
    out: Dict[str, str] = {}
    for name, value in query.items():
        if name.lower() in SECRET_QUERY and not _is_redacted(value):
            found.secrets.append(digest(value.strip()))
            out[name] = redact(value)
        else:
            out[name] = value
    return out


def _secret_paths(body: Any) -> List[Tuple[Any, Any]]:
    """``(container, key)`` of every secret string field in ``body`` (iterative: any depth)."""
    paths: List[Tuple[Any, Any]] = []
    stack = [body]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if isinstance(value, (dict, list)):
                    stack.append(value)
                elif isinstance(value, str) and str(key).lower() in SECRET_FIELDS and not _is_redacted(value):
                    paths.append((item, key))
        elif isinstance(item, list):
            stack.extend(v for v in item if isinstance(v, (dict, list)))
    return paths


def _copy(body: Any) -> Any:
    """A copy of the dicts and lists of ``body`` (leaves shared), iterative like :func:`_secret_paths`."""

    def shallow(item: Any) -> Any:
        return dict(item) if isinstance(item, dict) else list(item) if isinstance(item, list) else item

    root = shallow(body)
    stack = [root]
    while stack:
        item = stack.pop()
        keys = list(item) if isinstance(item, dict) else range(len(item))
        for key in keys:
            if isinstance(item[key], (dict, list)):
                item[key] = shallow(item[key])
                stack.append(item[key])
    return root


def _json(body: Any, found: Redacted) -> Any:
    if not isinstance(body, (dict, list)) or not _secret_paths(body):
        return body  # the common case: nothing to copy
    body = _copy(body)  # the caller's parsed body stays as it is (the routes read it)
    for container, key in _secret_paths(body):
        value = container[key]
        found.secrets.append(digest(_secret_part(value)))  # a body field is never a bearer credential
        container[key] = redact(value)
    return body


def redact_request(
    headers: Optional[Dict[str, str]] = None, query: Optional[Dict[str, str]] = None, json: Any = None
) -> Redacted:
    """Every part of a request with its secrets redacted (see the module docstring), and their HMACs."""
    found = Redacted()
    found.headers = _headers(headers or {}, found)
    found.query = _query(query or {}, found)
    found.json = _json(json, found)
    return found


def redact_headers(headers: Dict[str, str]) -> Tuple[Dict[str, str], List[bytes]]:
    """Redacted copy of ``headers`` and the HMACs of the clear secrets it carried."""
    found = redact_request(headers=headers)
    return found.headers, found.secrets


def redact_query(query: Dict[str, str]) -> Tuple[Dict[str, str], List[bytes]]:
    """Redacted copy of the query parameters (``api_key``, ``token``, ...) and HMACs of the secrets."""
    found = redact_request(query=query)
    return found.query, found.secrets


def redact_json(body: Any) -> Any:
    """``body`` with its secret fields redacted (a copy when there are some; ``body`` itself otherwise)."""
    return _json(body, Redacted())


def redact_query_string(query: str) -> str:
    """A raw query string with its secret parameters redacted; unchanged (byte for byte) when it has none."""
    pairs = parse_qsl(query, keep_blank_values=True)
    if not any(name.lower() in SECRET_QUERY and not _is_redacted(value) for name, value in pairs):
        return query
    return urlencode([(n, redact(v) if n.lower() in SECRET_QUERY else v) for n, v in pairs])
