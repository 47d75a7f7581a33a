"""The models the local gateway serves: :class:`ModelEntry` and the catalog's entries (``MODELS``).

Ids, names and prices follow popular public models so that code written against the local gateway
reads like code written against the real one (prices: USD per 1k tokens, as decimal strings). Rows that
are not priced per text token (speech, transcription, video) say so in ``pricing`` with their
``pricing_unit`` and per-unit pair; flex-capable models carry ``flex_*`` prices (docs/protocol.md §V4, §V6).
``catalog.py`` turns these entries into the ModelInfo JSON of docs/protocol.md §4.5 and looks them up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Dict, List, Optional, Tuple


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
    #: Providers (routes) besides the default one, for ``/v1/models/{id}/providers``.
    other_routes: Tuple[str, ...] = ()
    #: Video inputs the model takes (``first_frame``, ``last_frame``, ``reference_image``, ...).
    video_inputs: Tuple[str, ...] = ()

    @property
    def supports_flex(self) -> bool:
        return self.pricing.get("flex_input_usd_per_1m") is not None

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


def _per_unit(
    unit: str, input_usd: Optional[str], output_usd: Optional[str] = None, **more: str
) -> Dict[str, Any]:
    """The pricing of a row not priced per text token: the per-unit pair is its only price."""
    return {
        "pricing_unit": unit,
        "prompt_usd_per_1m": None,
        "completion_usd_per_1m": None,
        "input_usd_per_unit": input_usd,
        "output_usd_per_unit": output_usd,
        **more,
    }


MODELS: List[ModelEntry] = [
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
        other_routes=("azure",),
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
        other_routes=("azure",),
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
        other_routes=("azure",),
        pricing={
            "flex_input_usd_per_1m": "0.025",
            "flex_output_usd_per_1m": "0.2",
            "flex_cache_read_input_usd_per_1m": "0.0025",
        },
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
        other_routes=("azure",),
        pricing={"flex_input_usd_per_1m": "0.55", "flex_output_usd_per_1m": "2.2"},
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
        other_routes=("bedrock",),
    ),
    ModelEntry(
        "anthropic/claude-3.5-haiku",
        "Claude 3.5 Haiku",
        "text",
        200000,
        "0.0008",
        "0.004",
        "Quick, low-cost Claude model.",
        other_routes=("bedrock",),
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
        other_routes=("bedrock",),
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
        pricing=_per_unit("per_1k_chars", "0.018", notes="Billed per 1k input characters."),
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
        pricing=_per_unit("per_1k_chars", "0.024", notes="Billed per 1k input characters."),
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
        pricing={**_per_unit("per_hour", "0.36"), "transcription_usd_per_1m": "6", "request_usd": "0.0001"},
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
        pricing={**_per_unit("per_second", None, "0.05"), "output_with_video_usd_per_1m": "2.4"},
        video_inputs=("first_frame", "last_frame", "reference_image", "audio"),
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
