"""Audio: text-to-speech, speech-to-text, translation and the voice catalogue (``/v1/audio/*``).

The param models mirror 0.1.12's (unknown keys raise). Transcription and translation params travel as
``multipart/form-data`` fields next to the uploaded file; ``meshapi._core.multipart`` encodes them
(lists as repeated fields, booleans as ``true``/``false``, objects as JSON text).
``TranscriptionResponse`` keeps the provider's extra fields (``language_code``, ``words``, ...).
"""

from typing import Any, Dict, List, Mapping, Optional, Sequence, TypedDict, Union

from pydantic import ConfigDict, Field

from ._base import MeshResult, RequestModel

__all__ = [
    "AudioTranslationsParams",
    "ListVoicesParams",
    "PronunciationDictionaryLocator",
    "SpeechParams",
    "TranscriptionParams",
    "TranscriptionResponse",
    "TranscriptionTranslateParams",
    "Voice",
    "VoiceSettings",
    "VoicesResponse",
]


class VoiceSettings(RequestModel):
    stability: Optional[float] = None
    similarity_boost: Optional[float] = None
    style: Optional[float] = None
    use_speaker_boost: Optional[bool] = None
    speed: Optional[float] = None


class PronunciationDictionaryLocator(RequestModel):
    pronunciation_dictionary_id: str
    version_id: str


class SpeechParams(RequestModel):
    """Body of ``POST /v1/audio/speech``. ``speaker``/``pitch``/``pace``/... are Sarvam's knobs."""

    input: str
    model: Optional[str] = None
    voice: Optional[str] = None
    stream: Optional[bool] = None
    response_format: Optional[str] = None
    language_code: Optional[str] = None
    voice_settings: Optional[VoiceSettings] = None
    pronunciation_dictionary_locators: Optional[List[PronunciationDictionaryLocator]] = None
    seed: Optional[int] = None
    previous_text: Optional[str] = None
    next_text: Optional[str] = None
    previous_request_ids: Optional[List[str]] = None
    next_request_ids: Optional[List[str]] = None
    apply_text_normalization: Optional[str] = None
    apply_language_text_normalization: Optional[bool] = None
    use_pvc_as_ivc: Optional[bool] = None
    enable_logging: Optional[bool] = None
    optimize_streaming_latency: Optional[int] = None
    speaker: Optional[str] = None
    target_language_code: Optional[str] = None
    pitch: Optional[float] = None
    pace: Optional[float] = None
    loudness: Optional[float] = None
    speech_sample_rate: Optional[int] = None
    enable_preprocessing: Optional[bool] = None


class TranscriptionParams(RequestModel):
    """Form fields of ``POST /v1/audio/transcriptions`` (the file travels beside them)."""

    model: str
    language_code: Optional[str] = None
    tag_audio_events: Optional[bool] = None
    num_speakers: Optional[int] = None
    timestamps_granularity: Optional[str] = None
    diarize: Optional[bool] = None
    diarization_threshold: Optional[float] = None
    additional_formats: Optional[Any] = None
    file_format: Optional[str] = None
    cloud_storage_url: Optional[str] = None
    source_url: Optional[str] = None
    webhook: Optional[bool] = None
    webhook_id: Optional[str] = None
    temperature: Optional[float] = None
    seed: Optional[int] = None
    use_multi_channel: Optional[bool] = None
    webhook_metadata: Optional[Any] = None
    entity_detection: Optional[Any] = None
    no_verbatim: Optional[bool] = None
    detect_speaker_roles: Optional[bool] = None
    entity_redaction: Optional[Any] = None
    entity_redaction_mode: Optional[str] = None
    keyterms: Optional[List[str]] = None
    with_timestamps: Optional[bool] = None
    debug_mode: Optional[bool] = None


class TranscriptionTranslateParams(RequestModel):
    """Form fields of ``POST /v1/audio/transcriptions/translate`` (speech to English text)."""

    model: Optional[str] = None
    prompt: Optional[str] = None


class AudioTranslationsParams(RequestModel):
    """Form fields of ``POST /v1/audio/translations``."""

    model: str
    prompt: Optional[str] = None
    response_format: Optional[str] = None
    temperature: Optional[float] = Field(default=None, ge=0, le=2)


class TranscriptionResponse(MeshResult):
    model_config = ConfigDict(extra="allow")

    text: str


class ListVoicesParams(RequestModel):
    """Query of ``GET /v1/audio/voices``: the SDK's paging names plus the docs' ``brand``/``model``."""

    next_page_token: Optional[str] = None
    page_size: Optional[int] = Field(default=None, ge=1)
    search: Optional[str] = None
    sort: Optional[str] = None
    sort_direction: Optional[str] = None
    voice_type: Optional[str] = None
    category: Optional[str] = None
    include_total_count: Optional[bool] = None
    voice_ids: Optional[List[str]] = None
    brand: Optional[str] = None
    model: Optional[str] = None


class Voice(MeshResult):
    model_config = ConfigDict(extra="allow")

    voice_id: str
    name: str
    category: Optional[str] = None
    description: Optional[str] = None
    preview_url: Optional[str] = None
    labels: Dict[str, Any] = Field(default_factory=dict)


class VoicesResponse(MeshResult):
    """One page of voices: ``next_page_token`` (``None`` on the last page) fetches the next one."""

    model_config = ConfigDict(extra="allow")

    voices: List[Voice]
    has_more: Optional[bool] = None
    total_count: Optional[int] = None
    next_page_token: Optional[str] = None
    count: Optional[int] = None
    truncated: Optional[bool] = None


class SpeechFields(TypedDict, total=False):
    """``SpeechParams``'s fields as keyword arguments, typed (a test keeps both in step)."""

    input: str
    model: Optional[str]
    voice: Optional[str]
    stream: Optional[bool]
    response_format: Optional[str]
    language_code: Optional[str]
    voice_settings: Optional[Union[VoiceSettings, Mapping[str, Any]]]
    pronunciation_dictionary_locators: Optional[
        Sequence[Union[PronunciationDictionaryLocator, Mapping[str, Any]]]
    ]
    seed: Optional[int]
    previous_text: Optional[str]
    next_text: Optional[str]
    previous_request_ids: Optional[Sequence[str]]
    next_request_ids: Optional[Sequence[str]]
    apply_text_normalization: Optional[str]
    apply_language_text_normalization: Optional[bool]
    use_pvc_as_ivc: Optional[bool]
    enable_logging: Optional[bool]
    optimize_streaming_latency: Optional[int]
    speaker: Optional[str]
    target_language_code: Optional[str]
    pitch: Optional[float]
    pace: Optional[float]
    loudness: Optional[float]
    speech_sample_rate: Optional[int]
    enable_preprocessing: Optional[bool]


class TranscriptionFields(TypedDict, total=False):
    """``TranscriptionParams``'s fields as keyword arguments, typed (a test keeps both in step)."""

    model: str
    language_code: Optional[str]
    tag_audio_events: Optional[bool]
    num_speakers: Optional[int]
    timestamps_granularity: Optional[str]
    diarize: Optional[bool]
    diarization_threshold: Optional[float]
    additional_formats: Optional[Any]
    file_format: Optional[str]
    cloud_storage_url: Optional[str]
    source_url: Optional[str]
    webhook: Optional[bool]
    webhook_id: Optional[str]
    temperature: Optional[float]
    seed: Optional[int]
    use_multi_channel: Optional[bool]
    webhook_metadata: Optional[Any]
    entity_detection: Optional[Any]
    no_verbatim: Optional[bool]
    detect_speaker_roles: Optional[bool]
    entity_redaction: Optional[Any]
    entity_redaction_mode: Optional[str]
    keyterms: Optional[Sequence[str]]
    with_timestamps: Optional[bool]
    debug_mode: Optional[bool]


class TranscriptionTranslateFields(TypedDict, total=False):
    """``TranscriptionTranslateParams``'s fields as keyword arguments, typed (a test keeps both in step)."""

    model: Optional[str]
    prompt: Optional[str]


class AudioTranslationsFields(TypedDict, total=False):
    """``AudioTranslationsParams``'s fields as keyword arguments, typed (a test keeps both in step)."""

    model: str
    prompt: Optional[str]
    response_format: Optional[str]
    temperature: Optional[float]


class ListVoicesFields(TypedDict, total=False):
    """``ListVoicesParams``'s fields as keyword arguments, typed (a test keeps both in step)."""

    next_page_token: Optional[str]
    page_size: Optional[int]
    search: Optional[str]
    sort: Optional[str]
    sort_direction: Optional[str]
    voice_type: Optional[str]
    category: Optional[str]
    include_total_count: Optional[bool]
    voice_ids: Optional[Sequence[str]]
    brand: Optional[str]
    model: Optional[str]
