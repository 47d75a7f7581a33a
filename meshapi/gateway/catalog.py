"""The model catalog the local gateway serves (``/v1/models``) and routes against.

Ids, names and prices follow popular public models so that code written against the local gateway
reads like code written against the real one. Prices are USD per 1k tokens as decimal strings (the
wire format, API.md §4.5); ``cost()`` turns token counts into the decimal-string ``cost`` field of
stream usage chunks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Dict, Iterator, List, Optional, Tuple


@dataclass(frozen=True)
class ModelEntry:
    id: str
    name: str
    kind: str  # "text", "embedding", "image", "realtime", "tts", "stt", "video", "moderation"
    context_length: int
    prompt_per_1k: str
    completion_per_1k: str
    description: str
    input_modalities: Tuple[str, ...] = ("text",)
    output_modalities: Tuple[str, ...] = ("text",)
    image_per_image: Optional[str] = None
    supports_thinking: bool = False
    supports_responses: bool = True
    supports_tools: bool = True
    embedding_dimensions: Optional[int] = None
    #: Image-edit operations the model accepts (``POST /v1/images/edits``).
    image_operations: Tuple[str, ...] = ()
    #: Extra ModelPricing fields (audio, per-request prices, notes).
    pricing: Dict[str, Any] = field(default_factory=dict)
    extra: Dict[str, Any] = field(default_factory=dict)

    @property
    def provider(self) -> str:
        # Some production ids carry no provider prefix (``omni-moderation-latest`` is OpenAI's).
        return self.id.split("/", 1)[0] if "/" in self.id else "openai"

    @property
    def brand(self) -> str:
        return {"meta-llama": "meta", "mistralai": "mistral"}.get(self.provider, self.provider)

    @property
    def is_free(self) -> bool:
        return Decimal(self.prompt_per_1k) == 0 and Decimal(self.completion_per_1k) == 0

    @property
    def supports_chat(self) -> bool:
        return self.kind == "text"

    @property
    def supports_realtime(self) -> bool:
        return self.kind == "realtime"

    @property
    def supports_embeddings(self) -> bool:
        return self.kind == "embedding"

    @property
    def supports_images(self) -> bool:
        return self.kind == "image"

    @property
    def supports_batching(self) -> bool:
        return self.kind == "text"

    @property
    def supports_speech(self) -> bool:
        return self.kind == "tts"

    @property
    def supports_transcription(self) -> bool:
        return self.kind == "stt"

    @property
    def supports_video(self) -> bool:
        return self.kind == "video"

    @property
    def supports_moderation(self) -> bool:
        return self.kind == "moderation"


def _per_1m(per_1k: Optional[str]) -> Optional[str]:
    if per_1k is None:
        return None
    return _decimal_text(Decimal(per_1k) * 1000)


def _decimal_text(value: Decimal) -> str:
    if value == 0:
        return "0"
    text = format(value.normalize(), "f")
    return text


_MODELS: List[ModelEntry] = [
    ModelEntry(
        "openai/gpt-4o-mini",
        "GPT-4o mini",
        "text",
        128000,
        "0.00015",
        "0.0006",
        "Small, fast general-purpose model.",
        input_modalities=("text", "image"),
        supports_responses=True,
    ),
    ModelEntry(
        "openai/gpt-4o",
        "GPT-4o",
        "text",
        128000,
        "0.0025",
        "0.01",
        "Flagship multimodal model for complex tasks.",
        input_modalities=("text", "image"),
        supports_responses=True,
    ),
    ModelEntry(
        "openai/gpt-5-nano",
        "GPT-5 nano",
        "text",
        400000,
        "0.00005",
        "0.0004",
        "The smallest GPT-5 model, for high-volume simple tasks.",
        input_modalities=("text", "image"),
        supports_thinking=True,
        supports_responses=True,
    ),
    ModelEntry(
        "openai/o4-mini",
        "o4-mini",
        "text",
        200000,
        "0.0011",
        "0.0044",
        "Compact reasoning model.",
        input_modalities=("text", "image"),
        supports_thinking=True,
        supports_responses=True,
    ),
    ModelEntry(
        "anthropic/claude-haiku-4.5",
        "Claude Haiku 4.5",
        "text",
        200000,
        "0.001",
        "0.005",
        "Fast Claude model with extended thinking.",
        input_modalities=("text", "image"),
        supports_thinking=True,
    ),
    ModelEntry(
        "anthropic/claude-3.5-haiku",
        "Claude 3.5 Haiku",
        "text",
        200000,
        "0.0008",
        "0.004",
        "Quick, low-cost Claude model.",
    ),
    ModelEntry(
        "anthropic/claude-sonnet-4.5",
        "Claude Sonnet 4.5",
        "text",
        200000,
        "0.003",
        "0.015",
        "Balanced Claude model for coding and agents.",
        input_modalities=("text", "image"),
        supports_thinking=True,
    ),
    ModelEntry(
        "google/gemini-2.5-flash",
        "Gemini 2.5 Flash",
        "text",
        1048576,
        "0.0003",
        "0.0025",
        "Fast multimodal Gemini model with thinking.",
        input_modalities=("text", "image", "audio", "video"),
        supports_thinking=True,
    ),
    ModelEntry(
        "meta-llama/llama-3.3-70b-instruct",
        "Llama 3.3 70B Instruct",
        "text",
        131072,
        "0",
        "0",
        "Open-weight multilingual instruction model (free tier).",
    ),
    ModelEntry(
        "mistralai/mistral-small",
        "Mistral Small",
        "text",
        32768,
        "0",
        "0",
        "Efficient Mistral model (free tier).",
    ),
    ModelEntry(
        "deepseek/deepseek-chat",
        "DeepSeek V3",
        "text",
        163840,
        "0.00027",
        "0.0011",
        "General chat model from DeepSeek.",
    ),
    ModelEntry(
        "openai/text-embedding-3-small",
        "Text Embedding 3 Small",
        "embedding",
        8191,
        "0.00002",
        "0",
        "Efficient text embeddings (1536 dimensions).",
        output_modalities=("embedding",),
        supports_tools=False,
        embedding_dimensions=1536,
    ),
    ModelEntry(
        "openai/text-embedding-3-large",
        "Text Embedding 3 Large",
        "embedding",
        8191,
        "0.00013",
        "0",
        "Highest-quality OpenAI text embeddings (3072 dimensions).",
        output_modalities=("embedding",),
        supports_tools=False,
        embedding_dimensions=3072,
    ),
    ModelEntry(
        "openai/gpt-image-1",
        "GPT Image 1",
        "image",
        32000,
        "0.005",
        "0.04",
        "Image generation and editing model.",
        input_modalities=("text", "image"),
        output_modalities=("image",),
        image_per_image="0.042",
        supports_tools=False,
        image_operations=("edit", "inpaint", "mix"),
    ),
    ModelEntry(
        "openai/gpt-realtime",
        "GPT Realtime",
        "realtime",
        32000,
        "0.004",
        "0.016",
        "Speech-to-speech realtime model.",
        input_modalities=("text", "audio"),
        output_modalities=("text", "audio"),
        extra={"realtime_session_max_tokens": 32000, "realtime_max_concurrent_per_owner": 5},
    ),
    ModelEntry(
        "openai/gpt-realtime-mini",
        "GPT Realtime mini",
        "realtime",
        32000,
        "0.0006",
        "0.0024",
        "Cost-efficient realtime speech model.",
        input_modalities=("text", "audio"),
        output_modalities=("text", "audio"),
        extra={"realtime_session_max_tokens": 32000, "realtime_max_concurrent_per_owner": 5},
    ),
    ModelEntry(
        "openai/gpt-4o-realtime-preview",
        "GPT-4o Realtime (preview)",
        "realtime",
        128000,
        "0.005",
        "0.02",
        "Preview realtime model.",
        input_modalities=("text", "audio"),
        output_modalities=("text", "audio"),
        extra={"realtime_session_max_tokens": 32000, "realtime_max_concurrent_per_owner": 5},
    ),
    ModelEntry(
        "google/gemini-3-flash-preview",
        "Gemini 3 Flash (preview)",
        "text",
        1048576,
        "0.0005",
        "0.003",
        "Frontier-class speed and reasoning in the Gemini 3 family (preview).",
        input_modalities=("text", "image", "audio", "video"),
        supports_thinking=True,
        pricing={"audio_input_usd_per_1m": "1", "cache_read_input_usd_per_1m": "0.05"},
    ),
    ModelEntry(
        "openai/gpt-4o-mini-audio-preview",
        "GPT-4o mini Audio (preview)",
        "text",
        128000,
        "0.00015",
        "0.0006",
        "GPT-4o mini that takes and returns audio in chat completions.",
        input_modalities=("text", "audio"),
        output_modalities=("text", "audio"),
        supports_responses=False,
        pricing={"audio_input_usd_per_1m": "10", "audio_output_usd_per_1m": "20"},
    ),
    ModelEntry(
        "sarvam/bulbul:v2",
        "Bulbul v2",
        "tts",
        1500,
        "0.018",
        "0",
        "Sarvam text-to-speech for Indian languages and English (prompt price per 1k characters).",
        output_modalities=("audio",),
        supports_responses=False,
        supports_tools=False,
        pricing={"pricing_unit": "per_1k_characters", "notes": "Billed per 1k input characters."},
    ),
    ModelEntry(
        "sarvam/bulbul:v3",
        "Bulbul v3",
        "tts",
        2500,
        "0.024",
        "0",
        "Newer Sarvam text-to-speech with more voices (prompt price per 1k characters).",
        output_modalities=("audio",),
        supports_responses=False,
        supports_tools=False,
        pricing={"pricing_unit": "per_1k_characters", "notes": "Billed per 1k input characters."},
    ),
    ModelEntry(
        "sarvam/saaras:v3",
        "Saaras v3",
        "stt",
        0,
        "0.0001",
        "0",
        "Sarvam speech-to-text with translation to English.",
        input_modalities=("audio",),
        supports_responses=False,
        supports_tools=False,
        pricing={"pricing_unit": "per_hour_audio", "transcription_usd_per_1m": "6", "request_usd": "0.0001"},
    ),
    ModelEntry(
        "byteplus/seedance-1-5-pro-251215",
        "Seedance 1.5 Pro",
        "video",
        0,
        "0",
        "0.0024",
        "ByteDance video generation from text and images, with optional audio.",
        input_modalities=("text", "image"),
        output_modalities=("video",),
        supports_responses=False,
        supports_tools=False,
        pricing={"pricing_unit": "per_1m_video_tokens", "output_with_video_usd_per_1m": "2.4"},
    ),
    ModelEntry(
        "omni-moderation-latest",
        "Omni Moderation",
        "moderation",
        32768,
        "0",
        "0",
        "Classifies text and images against the moderation categories (free).",
        input_modalities=("text", "image"),
        output_modalities=("text",),
        supports_responses=False,
        supports_tools=False,
    ),
]

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
        **entry.pricing,
    }


def model_info(entry: ModelEntry) -> Dict[str, Any]:
    """The ModelInfo JSON object of API.md §4.5."""
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
    }
    info.update(entry.extra)
    return info


class Catalog:
    """Lookup of the served models. ``catalog.get(id)`` returns a :class:`ModelEntry` or ``None``."""

    def __init__(self, entries: Optional[List[ModelEntry]] = None) -> None:
        self._entries: Dict[str, ModelEntry] = {e.id: e for e in (entries or _MODELS)}
        self._infos: Dict[str, Dict[str, Any]] = {e.id: model_info(e) for e in self._entries.values()}

    def __contains__(self, model_id: object) -> bool:
        return model_id in self._entries

    def __iter__(self) -> Iterator[ModelEntry]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, model_id: str) -> Optional[ModelEntry]:
        return self._entries.get(model_id)

    def resolve(self, model_id: str) -> Optional[ModelEntry]:
        """Like ``get``, but also accepts a bare name (``gpt-realtime``) that is unique in the catalog."""
        entry = self._entries.get(model_id)
        if entry is not None or "/" in model_id:
            return entry
        matches = [e for e in self._entries.values() if e.id.split("/", 1)[1] == model_id]
        return matches[0] if len(matches) == 1 else None

    def info(self, model_id: str) -> Optional[Dict[str, Any]]:
        return self._infos.get(model_id)

    def infos(self) -> List[Dict[str, Any]]:
        return list(self._infos.values())

    @staticmethod
    def cost(entry: ModelEntry, prompt_tokens: int, completion_tokens: int) -> str:
        """USD cost of a call as a decimal string (``"0.0000024"``)."""
        total = (
            Decimal(entry.prompt_per_1k) * prompt_tokens
            + Decimal(entry.completion_per_1k) * completion_tokens
        ) / 1000
        return _decimal_text(total)
