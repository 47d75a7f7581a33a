"""Memories on chat calls: the ``memory=[...]`` option (client and per call) sent as ``x-mem-id``, and the
``X-Mesh-Memory-Applied`` answer (docs/protocol.md §V8.1).

One place for the header names, the id rules and the header formats, shared by the client settings
(``MeshAPIConfig.memory``), the per-call option (``RequestOptions``) and the raw response
(``memory_applied``). Pure code.
"""

from __future__ import annotations

import re
from typing import Any, List, Mapping, Optional, Tuple, Type, Union

from ._errors import ConfigurationError, InvalidParamsError

__all__ = [
    "MAX_MEMORIES",
    "MEMORY_APPLIED_HEADER",
    "MEMORY_HEADER",
    "check_memory_ids",
    "memory_applied",
    "memory_header",
]

#: The request header naming the memories to inject (``x-mem-id: <slug>[,<slug>...]``).
MEMORY_HEADER = "x-mem-id"
#: The answer header naming the memories whose items were injected.
MEMORY_APPLIED_HEADER = "x-mesh-memory-applied"
#: The most memories one request may name.
MAX_MEMORIES = 16

# A memory id travels in a comma-separated header value: printable ASCII, no comma, no whitespace.
_ID = re.compile(r"^[!-+\--~]{1,128}$")


def check_memory_ids(
    value: Any, *, error: Type[Union[ConfigurationError, InvalidParamsError]] = ConfigurationError
) -> Optional[Tuple[str, ...]]:
    """``value`` (a list or tuple of memory slugs, or ``None``) as a tuple, each id once, first place kept;
    ``None`` or an empty list is ``None`` (no header). ``error`` for anything else: a bare string, a
    non-string id, an id with a comma, a space or a non-ASCII character, more than 16 distinct ids."""
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise error(f"memory must be a list of memory ids (slugs), got {type(value).__name__}")
    ids: List[str] = []
    for item in value:
        if not isinstance(item, str) or not _ID.match(item):
            raise error(
                f"memory ids are 1 to 128 printable ASCII characters without commas or spaces, got {item!r}"
            )
        if item not in ids:
            ids.append(item)
    if len(ids) > MAX_MEMORIES:
        raise error(f"memory names at most {MAX_MEMORIES} memories per request, got {len(ids)}")
    return tuple(ids) or None


def memory_header(ids: Tuple[str, ...]) -> str:
    """The ``x-mem-id`` value: the ids in order (the left-most wins a conflict), comma-separated."""
    return ",".join(ids)


def memory_applied(headers: Mapping[str, str]) -> Optional[List[str]]:
    """``X-Mesh-Memory-Applied`` as a list of memory slugs (``[]``: none of the memories fitted);
    ``None`` when the header is absent (no memory was asked for, or the gateway does not say)."""
    value = headers.get(MEMORY_APPLIED_HEADER)
    if value is None:
        return None
    return [part.strip() for part in value.split(",") if part.strip()]
