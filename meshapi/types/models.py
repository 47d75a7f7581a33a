"""Model catalogue: ``ModelInfo``, ``ModelPricing`` (responses) and the listing/search params.

Prices are decimal strings (never floats) so no precision is lost. ``ModelPricing`` keeps the 0.1.4
names (``*_per_1k``, ``*_discounted``, ``image_usd_per_image``) next to the later ``*_per_1m`` ones;
all are optional. The ``*_per_1k`` pair is retired on the wire (always ``None`` against production)
but stays declared. ``input_usd_per_unit`` / ``output_usd_per_unit`` are the raw rate in the row's own
``pricing_unit``: the only price of non-token rows (per second of video, per image, per 1k characters,
per hour), whose per-1M pair is ``None`` (docs/protocol.md §V6.1). Catalogue objects keep the fields
this release does not declare (``extra="allow"``), so a newer gateway's additions are not dropped.
"""

from typing import List, Literal, Optional, Sequence, TypedDict

from pydantic import ConfigDict, Field

from ._base import MeshModel, MeshResult, RequestModel

__all__ = [
    "ListModelsParams",
    "ModelInfo",
    "ModelPricing",
    "ModelProvider",
    "ModelProvidersResponse",
    "ModelSearchParams",
    "ModelsPage",
]


class ModelPricing(MeshModel):
    model_config = ConfigDict(extra="allow")

    # Retired on the wire (kept declared, as the official SDKs keep them).
    prompt_usd_per_1k: Optional[str] = None
    completion_usd_per_1k: Optional[str] = None
    image_usd_per_image: Optional[str] = None
    discount_pct: Optional[str] = None
    prompt_usd_per_1k_discounted: Optional[str] = None
    completion_usd_per_1k_discounted: Optional[str] = None
    # Later additions.
    pricing_unit: Optional[str] = None
    request_usd: Optional[str] = None
    prompt_usd_per_1m: Optional[str] = None
    completion_usd_per_1m: Optional[str] = None
    prompt_usd_per_1m_discounted: Optional[str] = None
    completion_usd_per_1m_discounted: Optional[str] = None
    image_input_usd_per_image: Optional[str] = None
    image_output_usd_per_image: Optional[str] = None
    image_output_size: Optional[str] = None
    long_context_input_usd_per_1m: Optional[str] = None
    long_context_output_usd_per_1m: Optional[str] = None
    cache_read_input_usd_per_1m: Optional[str] = None
    cache_write_input_usd_per_1m: Optional[str] = None
    cache_read_audio_input_usd_per_1m: Optional[str] = None
    long_context_cache_read_input_usd_per_1m: Optional[str] = None
    long_context_cache_write_input_usd_per_1m: Optional[str] = None
    batch_input_usd_per_1m: Optional[str] = None
    batch_output_usd_per_1m: Optional[str] = None
    training_usd_per_1m: Optional[str] = None
    fine_tuned_input_usd_per_1m: Optional[str] = None
    fine_tuned_output_usd_per_1m: Optional[str] = None
    audio_input_usd_per_1m: Optional[str] = None
    audio_output_usd_per_1m: Optional[str] = None
    transcription_usd_per_1m: Optional[str] = None
    cached_audio_input_usd_per_1m: Optional[str] = None
    cached_text_input_usd_per_1m: Optional[str] = None
    cache_hit_usd_per_1m: Optional[str] = None
    output_with_audio_usd_per_1m: Optional[str] = None
    output_with_video_usd_per_1m: Optional[str] = None
    effective_date: Optional[str] = None
    deprecated_date: Optional[str] = None
    notes: Optional[str] = None
    source_url: Optional[str] = None
    # API 2026-08: the rate in the row's own ``pricing_unit``; flex-tier prices (docs/protocol.md §V4).
    input_usd_per_unit: Optional[str] = None
    output_usd_per_unit: Optional[str] = None
    flex_input_usd_per_1m: Optional[str] = None
    flex_output_usd_per_1m: Optional[str] = None
    flex_cache_read_input_usd_per_1m: Optional[str] = None


class ModelInfo(MeshResult):
    model_config = ConfigDict(extra="allow")

    id: str
    name: str
    context_length: Optional[int] = None
    is_free: bool
    pricing: Optional[ModelPricing] = None
    description: Optional[str] = None
    supports_thinking: Optional[bool] = None
    supports_completions_api: Optional[bool] = None
    supports_responses_api: Optional[bool] = None
    model_type: Optional[str] = None
    input_modalities: Optional[List[str]] = None
    output_modalities: Optional[List[str]] = None
    # Later additions.
    brand: Optional[str] = None
    provider: Optional[str] = None
    supports_realtime: Optional[bool] = None
    supports_embeddings: Optional[bool] = None
    supports_tools: Optional[bool] = None
    supports_structured_output: Optional[bool] = None
    supports_system_prompt: Optional[bool] = None
    supports_batching: Optional[bool] = None
    supports_background_response: Optional[bool] = None
    supports_video_generation: Optional[bool] = None
    supports_image_edit: Optional[bool] = None
    supports_image_inpaint: Optional[bool] = None
    supports_image_outpaint: Optional[bool] = None
    supports_image_mix: Optional[bool] = None
    supports_image_reframe: Optional[bool] = None
    supports_image_upscale: Optional[bool] = None
    supports_image_remove_background: Optional[bool] = None
    supports_image_reference: Optional[bool] = None
    context_window: Optional[int] = None
    standard_context_threshold: Optional[int] = None
    realtime_session_max_tokens: Optional[int] = None
    realtime_max_concurrent_per_owner: Optional[int] = None
    is_composite: bool = False
    composite_models: Optional[List[str]] = None
    # API 2026-08: service tiers and the video inputs a model takes (docs/protocol.md §V6.2).
    supports_flex: Optional[bool] = None
    supports_video_first_frame: Optional[bool] = None
    supports_video_last_frame: Optional[bool] = None
    supports_video_reference_image: Optional[bool] = None
    supports_video_reference_video: Optional[bool] = None
    supports_video_reference_audio: Optional[bool] = None
    supports_video_audio: Optional[bool] = None

    @property
    def max_context(self) -> Optional[int]:
        """The context size in tokens: ``context_length`` or ``context_window``, whichever the catalog
        publishes (``context_length`` first), ``None`` when neither."""
        return self.context_length if self.context_length is not None else self.context_window


class ModelProvider(MeshModel):
    """One route (upstream provider) of a model, from ``GET /v1/models/{model_id}/providers``."""

    model_config = ConfigDict(extra="allow")

    provider: str
    is_default: Optional[bool] = None
    status: Optional[str] = None
    context_length: Optional[int] = None
    supports_flex: Optional[bool] = None
    supports_tools: Optional[bool] = None
    supports_prompt_caching: Optional[bool] = None
    max_cache_breakpoints: Optional[int] = None
    video_inputs: Optional[List[str]] = None
    pricing: Optional[ModelPricing] = None


class ModelProvidersResponse(MeshResult):
    """The providers of one model: ``model`` and its ``providers`` (the default route first)."""

    model_config = ConfigDict(extra="allow")

    object: Optional[str] = None
    model: str
    providers: List[ModelProvider] = Field(default_factory=list)


class ListModelsParams(RequestModel):
    free: Optional[bool] = None
    type: Optional[Literal["text", "embedding", "image", "audio", "video"]] = None
    provider: Optional[str] = None


class ModelSearchParams(RequestModel):
    """Query of ``GET /v1/models/search``; list values become repeated query parameters."""

    q: Optional[str] = None
    free: Optional[bool] = None
    discounted: Optional[bool] = None
    input_modality: Optional[List[str]] = None
    output_modality: Optional[List[str]] = None
    brand: Optional[List[str]] = None
    sort: Optional[Literal["brand", "name", "id", "context_length", "price"]] = None
    order: Optional[Literal["asc", "desc"]] = None
    limit: Optional[int] = Field(default=None, ge=1)
    offset: Optional[int] = Field(default=None, ge=0)


class ModelsPage(MeshResult):
    model_config = ConfigDict(extra="allow")

    items: List[ModelInfo] = Field(default_factory=list)
    total: int
    limit: int
    offset: int
    brands: Optional[List[str]] = None


class ModelSearchFields(TypedDict, total=False):
    """``ModelSearchParams``'s fields as keyword arguments, typed (a test keeps both in step)."""

    q: Optional[str]
    free: Optional[bool]
    discounted: Optional[bool]
    input_modality: Optional[Sequence[str]]
    output_modality: Optional[Sequence[str]]
    brand: Optional[Sequence[str]]
    sort: Optional[Literal["brand", "name", "id", "context_length", "price"]]
    order: Optional[Literal["asc", "desc"]]
    limit: Optional[int]
    offset: Optional[int]
