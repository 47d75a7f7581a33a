"""The gateway response cache seen from the client (docs/protocol.md §V3.1): ``response_cache=False`` (client
or per call) sent as ``X-Mesh-Cache: no-store``, and ``X-Cache: HIT`` read back as ``cache_hit``.

The option is named ``response_cache`` rather than ``cache`` because ``cache`` is already a chat body field
(``ChatCompletionParams.cache``, a bool the gateway reads as the same opt-out when false); the option is a
header, so it works on every call and needs no body. One place for the header names and the two rules,
shared by the client settings (``MeshAPIConfig.response_cache``), the per-call option (``RequestOptions``)
and the raw response (``cache_hit``). Pure code.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, Type, Union

from ._errors import ConfigurationError, InvalidParamsError

__all__ = ["NO_STORE", "RESPONSE_CACHE_HEADER", "cache_hit", "check_response_cache"]

#: The request header of the per-request opt-out; its value :data:`NO_STORE` skips cache read and write.
RESPONSE_CACHE_HEADER = "X-Mesh-Cache"
NO_STORE = "no-store"
#: The answer header of a cache hit (``HIT``); a miss carries none.
_HIT_HEADER = "x-cache"


def check_response_cache(
    value: Any, *, error: Type[Union[ConfigurationError, InvalidParamsError]] = ConfigurationError
) -> Optional[bool]:
    """``value`` when it is ``True``, ``False`` or ``None``; ``error`` for anything else (``0``, ``"no"``)."""
    if value is None or isinstance(value, bool):
        return value
    raise error(f"response_cache must be True, False or None, got {value!r}")


def cache_hit(headers: Mapping[str, str]) -> bool:
    """Whether an answer came from the gateway response cache (``X-Cache: HIT``, any case)."""
    value = headers.get(_HIT_HEADER)
    return value is not None and value.strip().upper() == "HIT"
