"""Redaction of secrets in what the gateway keeps about a request (the request log).

``Authorization``, ``Proxy-Authorization``, ``X-Api-Key``, ``Api-Key`` and ``Cookie`` header values and
query parameters such as ``api_key`` / ``token`` become ``Bearer rsk_…redacted`` (the scheme and the
token's kind stay readable). What was sent can still be checked, without keeping it, by comparing HMACs
under a key that lives only in this process (``digest``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Dict, List, Tuple

__all__ = ["SECRET_HEADERS", "SECRET_QUERY", "digest", "redact", "redact_headers", "redact_query"]

SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "x-api-key", "api-key", "cookie"})
SECRET_QUERY = frozenset({"api_key", "apikey", "key", "token", "access_token", "auth"})
_PROCESS_KEY = secrets.token_bytes(32)


def redact(value: str) -> str:
    """``"Bearer rsk_abc..."`` -> ``"Bearer rsk_…redacted"``: the scheme and the token's kind survive."""
    scheme, sep, rest = value.strip().partition(" ")
    if sep and scheme.lower() in ("bearer", "basic", "token"):
        return f"{scheme} {_mask(rest.strip())}"
    return _mask(value.strip())


def _mask(secret: str) -> str:
    head, sep, _ = secret.partition("_")
    kind = head + "_" if sep and 0 < len(head) <= 5 and head.isalnum() else ""
    return f"{kind}…redacted"


def digest(value: str) -> bytes:
    return hmac.new(_PROCESS_KEY, value.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()


def _secret_part(value: str) -> str:
    scheme, sep, rest = value.strip().partition(" ")
    return rest.strip() if sep and scheme.lower() in ("bearer", "basic", "token") else value.strip()


def redact_headers(headers: Dict[str, str]) -> Tuple[Dict[str, str], List[bytes]]:
    """Redacted copy of ``headers`` and the HMACs of the clear secrets it carried."""
    out: Dict[str, str] = {}
    digests: List[bytes] = []
    for name, value in headers.items():
        if name.lower() in SECRET_HEADERS and "…redacted" not in value:
            digests.append(digest(_secret_part(value)))
            out[name] = redact(value)
        else:
            out[name] = value
    return out, digests


def redact_query(query: Dict[str, str]) -> Tuple[Dict[str, str], List[bytes]]:
    """Redacted copy of the query parameters (``api_key``, ``token``, ...) and HMACs of the secrets."""
    out: Dict[str, str] = {}
    digests: List[bytes] = []
    for name, value in query.items():
        if name.lower() in SECRET_QUERY and "…redacted" not in value:
            digests.append(digest(value.strip()))
            out[name] = redact(value)
        else:
            out[name] = value
    return out, digests
