"""Prompt caching shapes (docs/protocol.md §V3): ``cache_control`` markers and typed token details.

Why a module of its own: the markers sit on chat content parts, messages and tools, whose models live in
``chat.py``; the classes here are their bases (one field each), so ``chat.py`` only names them. The wire
shapes beyond ``{"type": "ephemeral"}`` are open in the docs, so the models are permissive: every field
optional, unknown keys kept and sent as given (a ``ttl``, a future option).

``PromptTokensDetails`` types ``usage.prompt_tokens_details`` (``cached_tokens`` and the cache-write
counts) and still reads like the dict 0.1.12 returned: ``details["cached_tokens"]``, ``.get()``, ``==`` a dict.
"""

from typing import Any, Dict, Optional

from pydantic import ConfigDict, SerializerFunctionWrapHandler, model_serializer

from ._base import DictLikeModel, MeshModel, RequestModel, SharedModel

# The two bases are for chat.py only; the public names are these.
__all__ = ["CacheControl", "PromptTokensDetails"]


class CacheControl(MeshModel):
    """A prompt-cache breakpoint: ``{"type": "ephemeral"}`` (optionally ``"ttl": "5m"`` or ``"1h"``).

    Everything up to and including the marked part, message or tool is the cached prefix.
    """

    model_config = ConfigDict(extra="allow")

    type: str = "ephemeral"
    ttl: Optional[str] = None


def _without_unset_marker(data: Any) -> Any:
    if isinstance(data, dict) and "cache_control" in data and data["cache_control"] is None:
        del data["cache_control"]
    return data


class CacheControlledPart(SharedModel):
    """Base of the chat content parts: an optional ``cache_control`` marker.

    A part without one dumps exactly as before the field existed (no ``"cache_control": None`` key).
    """

    cache_control: Optional[CacheControl] = None

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> Dict[str, Any]:
        return _without_unset_marker(handler(self))  # type: ignore[no-any-return]


class CacheControlledRequest(RequestModel):
    """Base of ``ChatMessage`` and ``Tool``: an optional ``cache_control`` marker (left out of dumps when unset)."""

    cache_control: Optional[CacheControl] = None

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> Dict[str, Any]:
        return _without_unset_marker(handler(self))  # type: ignore[no-any-return]


class PromptTokensDetails(DictLikeModel):
    """``usage.prompt_tokens_details``: prompt tokens read from the cache and written to it."""

    cached_tokens: Optional[int] = None
    cache_write_tokens: Optional[int] = None
    cache_creation_input_tokens: Optional[int] = None
    audio_tokens: Optional[int] = None
