"""Model catalogue: ``ModelInfo``, ``ModelPricing`` (responses) and the listing/search params.

Prices are decimal strings (never floats) so no precision is lost. ``ModelPricing`` keeps the 0.1.4
names (``*_per_1k``, ``*_discounted``, ``image_usd_per_image``) next to the later ``*_per_1m`` ones;
all are optional.
"""

from typing import List, Literal, Optional, Sequence, TypedDict

from pydantic import ConfigDict, Field

from ._base import MeshModel, MeshResult, RequestModel

__all__ = ["ListModelsParams", "ModelInfo", "ModelPricing", "ModelSearchParams", "ModelsPage"]


class ModelPricing(MeshModel):
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


class ModelInfo(MeshResult):
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
