"""The model catalog the local gateway serves (``/v1/models``) and routes against.

Ids, names and prices follow popular public models so that code written against the local gateway
reads like code written against the real one. Prices are USD per 1k tokens as decimal strings (the
wire format, docs/protocol.md §4.5); ``cost()`` turns token counts into the decimal-string ``cost`` field of
stream usage chunks. The entries themselves live in ``catalog_data.py``.

A requested model id is looked up in one place, :meth:`Catalog.find`: the full id, or a bare name
without its provider prefix (``gpt-4o-mini``) when exactly one served model carries it; the entry found
is what the reply names. A bare name several models carry is a 400 listing them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Dict, Iterator, List, Optional

from ..errors import ApiError, model_not_found
from .catalog_data import MODELS, ModelEntry

__all__ = ["VIDEO_INPUTS", "Catalog", "ModelEntry", "model_info", "model_providers", "served_tier"]

#: The ``supports_video_*`` flags of a ModelInfo (our reading of docs/protocol.md §V6.2).
VIDEO_INPUTS = ("first_frame", "last_frame", "reference_image", "reference_video", "reference_audio", "audio")
#: Simulated routes that keep at most this many ``cache_control`` breakpoints (docs/protocol.md §V3.2).
BREAKPOINT_LIMITS = {"bedrock": 4}


def _per_1m(per_1k: Optional[str]) -> Optional[str]:
    if per_1k is None:
        return None
    return _decimal_text(Decimal(per_1k) * 1000)


def _decimal_text(value: Decimal) -> str:
    if value == 0:
        return "0"
    text = format(value.normalize(), "f")
    return text


_MODEL_TYPE = {
    "text": "text",
    "embedding": "embedding",
    "image": "image",
    "realtime": "audio",
    "tts": "audio",
    "stt": "audio",
    "video": "video",
    "moderation": "moderation",
}


def _pricing(entry: ModelEntry) -> Dict[str, Any]:
    return {
        # 0.1.4 fields
        "prompt_usd_per_1k": entry.prompt_per_1k,
        "completion_usd_per_1k": entry.completion_per_1k,
        "image_usd_per_image": entry.image_per_image,
        "discount_pct": None,
        "prompt_usd_per_1k_discounted": None,
        "completion_usd_per_1k_discounted": None,
        # newer fields
        "pricing_unit": "per_1m_tokens",
        "prompt_usd_per_1m": _per_1m(entry.prompt_per_1k),
        "completion_usd_per_1m": _per_1m(entry.completion_per_1k),
        "prompt_usd_per_1m_discounted": None,
        "completion_usd_per_1m_discounted": None,
        "image_output_usd_per_image": entry.image_per_image,
        "request_usd": None,
        # API 2026-08 (docs/protocol.md §V6.1): the rate in the row's own unit; token rows: the per-1M pair
        "input_usd_per_unit": _per_1m(entry.prompt_per_1k),
        "output_usd_per_unit": _per_1m(entry.completion_per_1k),
        **entry.pricing,
    }


def model_info(entry: ModelEntry) -> Dict[str, Any]:
    """The ModelInfo JSON object of docs/protocol.md §4.5."""
    info: Dict[str, Any] = {
        "id": entry.id,
        "name": entry.name,
        "context_length": entry.context_length or None,
        "is_free": entry.is_free,
        "pricing": _pricing(entry),
        "description": entry.description,
        "supports_thinking": entry.supports_thinking,
        "supports_completions_api": entry.supports_chat,
        "supports_responses_api": entry.supports_chat and entry.supports_responses,
        "model_type": _MODEL_TYPE[entry.kind],
        "input_modalities": list(entry.input_modalities),
        "output_modalities": list(entry.output_modalities),
        "brand": entry.brand,
        "provider": entry.provider,
        "supports_realtime": entry.supports_realtime,
        "supports_embeddings": entry.supports_embeddings,
        "supports_tools": entry.supports_chat and entry.supports_tools,
        "supports_structured_output": entry.supports_chat,
        "supports_system_prompt": entry.supports_chat or entry.supports_realtime,
        "supports_batching": entry.supports_batching,
        "supports_background_response": entry.supports_chat and entry.supports_responses,
        "supports_video_generation": entry.supports_video,
        "supports_image_edit": "edit" in entry.image_operations,
        "supports_image_inpaint": "inpaint" in entry.image_operations,
        "supports_image_outpaint": "outpaint" in entry.image_operations,
        "supports_image_mix": "mix" in entry.image_operations,
        "supports_image_reframe": "reframe" in entry.image_operations,
        "supports_image_upscale": "upscale" in entry.image_operations,
        "supports_image_remove_background": "remove_background" in entry.image_operations,
        "supports_image_reference": entry.supports_images,
        "context_window": entry.context_length or None,
        "standard_context_threshold": None,
        "realtime_session_max_tokens": None,
        "realtime_max_concurrent_per_owner": None,
        "is_composite": False,
        "composite_models": None,
        "supports_flex": entry.supports_flex,
        **{f"supports_video_{name}": name in entry.video_inputs for name in VIDEO_INPUTS},
    }
    info.update(entry.extra)
    return info


def served_tier(requested: str, entry: ModelEntry) -> str:
    """The tier a call runs on: flex (asked as ``flex`` or ``auto``) where the model has a flex price, else
    the standard one (docs/protocol.md §V4: a fallback to a model without flex drops the tier)."""
    return "flex" if requested in ("flex", "auto") and entry.supports_flex else "default"


def model_providers(entry: ModelEntry) -> Dict[str, Any]:
    """``GET /v1/models/{id}/providers``: the default route first, then the others (flex on the default only)."""
    pricing = _pricing(entry)
    standard = {k: v for k, v in pricing.items() if not k.startswith("flex_")}
    routes = []
    for index, provider in enumerate((entry.provider, *entry.other_routes)):
        routes.append(
            {
                "provider": provider,
                "is_default": index == 0,
                "status": "available",
                "context_length": entry.context_length or None,
                "supports_flex": entry.supports_flex and index == 0,
                "supports_tools": entry.supports_chat and entry.supports_tools,
                "supports_prompt_caching": entry.supports_chat,
                "max_cache_breakpoints": BREAKPOINT_LIMITS.get(provider),
                "video_inputs": list(entry.video_inputs),
                "pricing": pricing if index == 0 else standard,
            }
        )
    return {"object": "list", "model": entry.id, "providers": routes}


class Catalog:
    """Lookup of the served models. ``catalog.get(id)`` returns a :class:`ModelEntry` or ``None``."""

    def __init__(self, entries: Optional[List[ModelEntry]] = None) -> None:
        self._entries: Dict[str, ModelEntry] = {e.id: e for e in (entries or MODELS)}
        self._bare: Dict[str, List[ModelEntry]] = {}
        for entry in self._entries.values():
            if "/" in entry.id:
                self._bare.setdefault(entry.id.split("/", 1)[1], []).append(entry)
        self._infos: Dict[str, Dict[str, Any]] = {e.id: model_info(e) for e in self._entries.values()}

    def __contains__(self, model_id: object) -> bool:
        return model_id in self._entries

    def __iter__(self) -> Iterator[ModelEntry]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, model_id: str) -> Optional[ModelEntry]:
        return self._entries.get(model_id)

    def candidates(self, model_id: str) -> List[ModelEntry]:
        """The entries a requested id names: the one with that id, else those whose bare name it is."""
        entry = self._entries.get(model_id)
        if entry is not None:
            return [entry]
        return [] if "/" in model_id else list(self._bare.get(model_id, []))

    def resolve(self, model_id: str) -> Optional[ModelEntry]:
        """Like ``get``, but also accepts a bare name (``gpt-realtime``) that is unique in the catalog."""
        found = self.candidates(model_id)
        return found[0] if len(found) == 1 else None

    def find(self, model_id: str) -> ModelEntry:
        """The entry a requested id names (full or unique bare name).

        Raises ``ApiError``: 404 ``model_not_found`` when none does, 400 ``invalid_request`` (``param``
        ``model``, the candidates in ``details``) when a bare name names several.
        """
        found = self.candidates(model_id)
        if len(found) == 1:
            return found[0]
        if not found:
            raise model_not_found(model_id)
        ids = [e.id for e in found]
        raise ApiError(
            400,
            "invalid_request",
            f"Model '{model_id}' is ambiguous: it names {', '.join(ids)}. Use the full id.",
            details=ids,
            param="model",
        )

    def info(self, model_id: str) -> Optional[Dict[str, Any]]:
        return self._infos.get(model_id)

    def infos(self) -> List[Dict[str, Any]]:
        return list(self._infos.values())

    @staticmethod
    def cost(entry: ModelEntry, prompt_tokens: int, completion_tokens: int, tier: str = "default") -> str:
        """USD cost of a call as a decimal string (``"0.0000024"``); ``tier="flex"``: at the flex prices."""
        if tier == "flex" and entry.supports_flex:
            flex_in = Decimal(entry.pricing["flex_input_usd_per_1m"])
            flex_out = Decimal(entry.pricing["flex_output_usd_per_1m"])
            return _decimal_text((flex_in * prompt_tokens + flex_out * completion_tokens) / 1_000_000)
        total = (
            Decimal(entry.prompt_per_1k) * prompt_tokens
            + Decimal(entry.completion_per_1k) * completion_tokens
        ) / 1000
        return _decimal_text(total)
