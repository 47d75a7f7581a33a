"""``client.audio``: text-to-speech, speech-to-text, translation and voices (``/v1/audio/*``).

Beyond 0.1.12: uploads are encoded once to bytes (``meshapi._core.multipart``), so they go through
the same retry loop as JSON calls and every retry resends the same body; form fields are encoded as a
form reader expects (lists repeated, booleans ``true``/``false``), not ``str(value)``; ``file`` may be
bytes, a path or a binary file object; ids are escaped; ``synthesize_to_file`` writes the audio to disk;
a plain-text transcript (``response_format="text"``) becomes a ``TranscriptionResponse`` too.
"""

from __future__ import annotations

import dataclasses
import mimetypes
import os
import pathlib
from typing import Any, Mapping, Optional, Tuple, Type, TypeVar, Union

import httpx

from .._core.multipart import FilePart, encode_multipart
from .._core.request import (
    CallOptions,
    RequestOptions,
    call_options,
    coerce_params,
    dump_body,
    path_param,
    split_options,
)
from .._core.response import validate_model
from .._errors import InvalidParamsError
from ..lib.uploads import UploadContent, read_content
from ..types.audio import (
    AudioTranslationsFields,
    AudioTranslationsParams,
    ListVoicesFields,
    ListVoicesParams,
    SpeechFields,
    SpeechParams,
    TranscriptionFields,
    TranscriptionParams,
    TranscriptionResponse,
    TranscriptionTranslateFields,
    TranscriptionTranslateParams,
    Voice,
    VoicesResponse,
)
from ._base import (
    AsyncAPIResource,
    AsyncRaw,
    AsyncStreaming,
    M,
    Raw,
    Streaming,
    SyncAPIResource,
    Unpack,
    Views,
    view,
)

__all__ = ["AsyncAudioResource", "AudioResource"]

_SPEECH = "/v1/audio/speech"
_TRANSCRIPTIONS = "/v1/audio/transcriptions"
_TRANSLATE = "/v1/audio/transcriptions/translate"
_TRANSLATIONS = "/v1/audio/translations"
_VOICES = "/v1/audio/voices"

P = TypeVar("P", TranscriptionParams, TranscriptionTranslateParams, AudioTranslationsParams)
PathArg = Union[str, "os.PathLike[str]"]


def _upload(
    model: Type[P],
    file: UploadContent,
    params: object,
    fields: Mapping[str, Any],
    filename: Optional[str],
    opts: RequestOptions,
) -> Tuple[bytes, RequestOptions]:
    """The encoded multipart body and the options that carry its ``Content-Type``."""
    form = dump_body(coerce_params(model, params, fields), opts)  # extra_body becomes form fields too
    if filename is None:
        name = getattr(file, "name", None)
        filename = os.path.basename(os.fspath(file)) if isinstance(file, (str, os.PathLike)) else None
        if filename is None and isinstance(name, str):
            filename = os.path.basename(name)
    filename = filename or "audio.mp3"
    content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    body = encode_multipart(form, [FilePart("file", filename, read_content(file), content_type)])
    headers = {**(opts.extra_headers or {}), "Content-Type": body.content_type}
    return body.content, dataclasses.replace(opts, extra_headers=headers, extra_body=None)


def _transcript(response: httpx.Response) -> TranscriptionResponse:
    if response.headers.get("content-type", "").startswith("text/plain"):
        return validate_model(TranscriptionResponse, {"text": response.text}, response)
    return validate_model(TranscriptionResponse, response.content, response)


def _write(path: PathArg, data: bytes) -> pathlib.Path:
    target = pathlib.Path(os.fspath(path))
    try:
        target.write_bytes(data)
    except OSError as exc:
        raise InvalidParamsError(f"cannot write {str(target)!r}: {exc.strerror or exc}") from None
    return target


def _voice_query(params: object, fields: Mapping[str, Any]) -> Optional[Mapping[str, Any]]:
    if params is None and not fields:
        return None
    return coerce_params(ListVoicesParams, params, fields).to_body() or None


class SpeechArgs(SpeechFields, CallOptions, total=False):
    """The keywords of the methods that take a ``SpeechParams``: its fields and the per-call options."""


class TranscriptionArgs(TranscriptionFields, CallOptions, total=False):
    """The keywords of the methods that take a ``TranscriptionParams``: its fields and the per-call options."""


class TranscriptionTranslateArgs(TranscriptionTranslateFields, CallOptions, total=False):
    """The keywords of the methods that take a ``TranscriptionTranslateParams``: its fields and the per-call options."""


class AudioTranslationsArgs(AudioTranslationsFields, CallOptions, total=False):
    """The keywords of the methods that take a ``AudioTranslationsParams``: its fields and the per-call options."""


class ListVoicesArgs(ListVoicesFields, CallOptions, total=False):
    """The keywords of the methods that take a ``ListVoicesParams``: its fields and the per-call options."""


class AudioResource(SyncAPIResource["AudioViews[Raw]", "AudioViews[Streaming]"]):
    def synthesize(
        self,
        params: Optional[SpeechParams] = None,
        **kwargs: Unpack[SpeechArgs],
    ) -> bytes:
        """Text to speech (``POST /v1/audio/speech``): the audio file's bytes (WAV, MP3, ...).

        Pass a ``SpeechParams`` or its fields as keywords (``input=``, ``model=``, ``voice=``,
        ``response_format=``). The body is read whole, also when ``stream=True`` is set.
        """
        opts, fields = split_options(kwargs)
        body = dump_body(coerce_params(SpeechParams, params, fields), opts)
        response = self._http.send("POST", _SPEECH, body=body, options=opts)
        return response.content

    def synthesize_to_file(
        self,
        path: PathArg,
        params: Optional[SpeechParams] = None,
        **kwargs: Unpack[SpeechArgs],
    ) -> pathlib.Path:
        """:meth:`synthesize`, then write the audio to ``path``; returns it as a ``pathlib.Path``."""
        data = self.synthesize(params, **kwargs)
        return _write(path, data)

    def transcribe(
        self,
        file: UploadContent,
        params: Optional[TranscriptionParams] = None,
        *,
        filename: Optional[str] = None,
        **kwargs: Unpack[TranscriptionArgs],
    ) -> TranscriptionResponse:
        """Speech to text (``POST /v1/audio/transcriptions``, multipart): ``.text`` is the transcript.

        ``file`` is the audio: bytes, a path or a binary file object. ``filename`` defaults to the
        path's name, else ``"audio.mp3"``; its extension sets the part's content type. Pass a
        ``TranscriptionParams`` or its fields as keywords (``model=`` is required).
        """
        opts, fields = split_options(kwargs)
        content, opts = _upload(TranscriptionParams, file, params, fields, filename, opts)
        return _transcript(self._http.send("POST", _TRANSCRIPTIONS, content=content, options=opts))

    def get_transcription(
        self,
        transcription_id: str,
        **options: Unpack[CallOptions],
    ) -> Any:
        """A stored transcript (``GET /v1/audio/transcriptions/{id}``): the provider's JSON, untyped."""
        opts = call_options(options)
        path = f"{_TRANSCRIPTIONS}/{path_param(transcription_id, name='transcription_id')}"
        return self._http.request_json("GET", path, options=opts)

    def translate(
        self,
        file: UploadContent,
        params: Optional[TranscriptionTranslateParams] = None,
        *,
        filename: Optional[str] = None,
        **kwargs: Unpack[TranscriptionTranslateArgs],
    ) -> TranscriptionResponse:
        """Speech to English text in one step (``POST /v1/audio/transcriptions/translate``, multipart).

        ``file`` as for :meth:`transcribe`; ``model=`` and ``prompt=`` are optional.
        """
        opts, fields = split_options(kwargs)
        content, opts = _upload(TranscriptionTranslateParams, file, params, fields, filename, opts)
        return _transcript(self._http.send("POST", _TRANSLATE, content=content, options=opts))

    def audio_translate(
        self,
        file: UploadContent,
        params: Optional[AudioTranslationsParams] = None,
        *,
        filename: Optional[str] = None,
        **kwargs: Unpack[AudioTranslationsArgs],
    ) -> TranscriptionResponse:
        """Translate speech to English (``POST /v1/audio/translations``, multipart; ``model=`` required).

        ``response_format="text"`` answers plain text: it is returned as a ``TranscriptionResponse`` too.
        """
        opts, fields = split_options(kwargs)
        content, opts = _upload(AudioTranslationsParams, file, params, fields, filename, opts)
        return _transcript(self._http.send("POST", _TRANSLATIONS, content=content, options=opts))

    def list_voices(
        self,
        params: Optional[ListVoicesParams] = None,
        **kwargs: Unpack[ListVoicesArgs],
    ) -> VoicesResponse:
        """One page of the voice catalogue (``GET /v1/audio/voices``).

        Filter with ``search=``, ``category=``, ``brand=``, ...; page with ``page_size=`` and the
        previous page's ``next_page_token``.
        """
        opts, fields = split_options(kwargs)
        query = _voice_query(params, fields)
        return self._http.request_model(VoicesResponse, "GET", _VOICES, params=query, options=opts)

    def get_voice(
        self,
        voice_id: str,
        **options: Unpack[CallOptions],
    ) -> Voice:
        """One voice (``GET /v1/audio/voices/{voice_id}``)."""
        opts = call_options(options)
        path = f"{_VOICES}/{path_param(voice_id, name='voice_id')}"
        return self._http.request_model(Voice, "GET", path, options=opts)


class AsyncAudioResource(AsyncAPIResource["AudioViews[AsyncRaw]", "AudioViews[AsyncStreaming]"]):
    async def synthesize(
        self,
        params: Optional[SpeechParams] = None,
        **kwargs: Unpack[SpeechArgs],
    ) -> bytes:
        """Text to speech (``POST /v1/audio/speech``): the audio file's bytes (WAV, MP3, ...).

        Pass a ``SpeechParams`` or its fields as keywords (``input=``, ``model=``, ``voice=``,
        ``response_format=``). The body is read whole, also when ``stream=True`` is set.
        """
        opts, fields = split_options(kwargs)
        body = dump_body(coerce_params(SpeechParams, params, fields), opts)
        response = await self._http.send("POST", _SPEECH, body=body, options=opts)
        return response.content

    async def synthesize_to_file(
        self,
        path: PathArg,
        params: Optional[SpeechParams] = None,
        **kwargs: Unpack[SpeechArgs],
    ) -> pathlib.Path:
        """:meth:`synthesize`, then write the audio to ``path``; returns it as a ``pathlib.Path``."""
        data = await self.synthesize(params, **kwargs)
        return _write(path, data)

    async def transcribe(
        self,
        file: UploadContent,
        params: Optional[TranscriptionParams] = None,
        *,
        filename: Optional[str] = None,
        **kwargs: Unpack[TranscriptionArgs],
    ) -> TranscriptionResponse:
        """Speech to text (``POST /v1/audio/transcriptions``, multipart): ``.text`` is the transcript.

        ``file`` is the audio: bytes, a path or a binary file object. ``filename`` defaults to the
        path's name, else ``"audio.mp3"``; its extension sets the part's content type. Pass a
        ``TranscriptionParams`` or its fields as keywords (``model=`` is required).
        """
        opts, fields = split_options(kwargs)
        content, opts = _upload(TranscriptionParams, file, params, fields, filename, opts)
        return _transcript(await self._http.send("POST", _TRANSCRIPTIONS, content=content, options=opts))

    async def get_transcription(
        self,
        transcription_id: str,
        **options: Unpack[CallOptions],
    ) -> Any:
        """A stored transcript (``GET /v1/audio/transcriptions/{id}``): the provider's JSON, untyped."""
        opts = call_options(options)
        path = f"{_TRANSCRIPTIONS}/{path_param(transcription_id, name='transcription_id')}"
        return await self._http.request_json("GET", path, options=opts)

    async def translate(
        self,
        file: UploadContent,
        params: Optional[TranscriptionTranslateParams] = None,
        *,
        filename: Optional[str] = None,
        **kwargs: Unpack[TranscriptionTranslateArgs],
    ) -> TranscriptionResponse:
        """Speech to English text in one step (``POST /v1/audio/transcriptions/translate``, multipart).

        ``file`` as for :meth:`transcribe`; ``model=`` and ``prompt=`` are optional.
        """
        opts, fields = split_options(kwargs)
        content, opts = _upload(TranscriptionTranslateParams, file, params, fields, filename, opts)
        return _transcript(await self._http.send("POST", _TRANSLATE, content=content, options=opts))

    async def audio_translate(
        self,
        file: UploadContent,
        params: Optional[AudioTranslationsParams] = None,
        *,
        filename: Optional[str] = None,
        **kwargs: Unpack[AudioTranslationsArgs],
    ) -> TranscriptionResponse:
        """Translate speech to English (``POST /v1/audio/translations``, multipart; ``model=`` required).

        ``response_format="text"`` answers plain text: it is returned as a ``TranscriptionResponse`` too.
        """
        opts, fields = split_options(kwargs)
        content, opts = _upload(AudioTranslationsParams, file, params, fields, filename, opts)
        return _transcript(await self._http.send("POST", _TRANSLATIONS, content=content, options=opts))

    async def list_voices(
        self,
        params: Optional[ListVoicesParams] = None,
        **kwargs: Unpack[ListVoicesArgs],
    ) -> VoicesResponse:
        """One page of the voice catalogue (``GET /v1/audio/voices``).

        Filter with ``search=``, ``category=``, ``brand=``, ...; page with ``page_size=`` and the
        previous page's ``next_page_token``.
        """
        opts, fields = split_options(kwargs)
        query = _voice_query(params, fields)
        return await self._http.request_model(VoicesResponse, "GET", _VOICES, params=query, options=opts)

    async def get_voice(
        self,
        voice_id: str,
        **options: Unpack[CallOptions],
    ) -> Voice:
        """One voice (``GET /v1/audio/voices/{voice_id}``)."""
        opts = call_options(options)
        path = f"{_VOICES}/{path_param(voice_id, name='voice_id')}"
        return await self._http.request_model(Voice, "GET", path, options=opts)


class AudioViews(Views[M]):
    """The typed ``with_raw_response`` / ``with_streaming_response`` of ``AudioResource`` and its twin."""

    synthesize = view(AudioResource.synthesize, AsyncAudioResource.synthesize)
    synthesize_to_file = view(AudioResource.synthesize_to_file, AsyncAudioResource.synthesize_to_file)
    transcribe = view(AudioResource.transcribe, AsyncAudioResource.transcribe)
    get_transcription = view(AudioResource.get_transcription, AsyncAudioResource.get_transcription)
    translate = view(AudioResource.translate, AsyncAudioResource.translate)
    audio_translate = view(AudioResource.audio_translate, AsyncAudioResource.audio_translate)
    list_voices = view(AudioResource.list_voices, AsyncAudioResource.list_voices)
    get_voice = view(AudioResource.get_voice, AsyncAudioResource.get_voice)
