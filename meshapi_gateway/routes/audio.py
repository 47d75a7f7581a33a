"""``/v1/audio/*`` (SDK ``client.audio``; docs/protocol.md §4.10): speech, transcription, translation, voices.

Speech is real audio (``fakes/sound.py``): WAV by default, MP3 or raw PCM on request, as long as the text.
Transcribing audio this gateway synthesized returns the synthesized text exactly; other audio gives an
empty transcript. Transcripts are stored per owner so ``GET /v1/audio/transcriptions/{id}`` finds them.
Voices page with an opaque ``next_page_token`` (and the docs' ``count``/``truncated`` fields); each
voice's ``preview_url`` is a WAV of it introducing itself, served without a token like a CDN link.
"""

from __future__ import annotations

import base64
import time
from typing import Any, AsyncIterator, Dict, List, Optional

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from ..errors import ApiError, validation_failed
from ..fakes import sound, voices
from ..fakes.catalog import ModelEntry
from ..http.context import (
    SCOPE_BODY,
    chat_model,
    gateway,
    json_body,
    json_response,
    owner,
    require_capability,
)
from ..http.multipart import Form, parse_form
from ..http.validation import Bool, Int, ListOf, MapOf, Num, Obj, Str, check_query, opt, req
from ..ids import hex_id, iso_timestamp

DEFAULT_SPEECH_MODEL = "sarvam/bulbul:v2"
DEFAULT_TRANSLATE_MODEL = "sarvam/saaras:v3"
TRANSCRIPTS = "transcription"
_STREAM_CHUNK = 8192

SPEECH = Obj(
    {
        "input": req(Str(min_length=1)),
        "model": opt(Str()),
        "voice": opt(Str()),
        "speaker": opt(Str()),
        "stream": opt(Bool()),
        "response_format": opt(Str()),
        "language_code": opt(Str()),
        "target_language_code": opt(Str()),
        "voice_settings": opt(MapOf()),
        "pronunciation_dictionary_locators": opt(ListOf(MapOf())),
        "seed": opt(Int()),
        "previous_text": opt(Str()),
        "next_text": opt(Str()),
        "previous_request_ids": opt(ListOf(Str())),
        "next_request_ids": opt(ListOf(Str())),
        "apply_text_normalization": opt(Str()),
        "apply_language_text_normalization": opt(Bool()),
        "use_pvc_as_ivc": opt(Bool()),
        "enable_logging": opt(Bool()),
        "enable_preprocessing": opt(Bool()),
        "optimize_streaming_latency": opt(Int()),
        "pitch": opt(Num()),
        "pace": opt(Num(gt=0)),
        "loudness": opt(Num()),
        "speech_sample_rate": opt(Int(ge=8000, le=48000)),
    }
)


def _speech_model(request: Request, model_id: Optional[str]) -> ModelEntry:
    entry = chat_model(request, model_id or DEFAULT_SPEECH_MODEL)
    require_capability(entry, entry.supports_speech, "text-to-speech")
    return entry


async def create_speech(request: Request) -> Response:
    body = await json_body(request, SPEECH)
    entry = _speech_model(request, body.get("model"))
    text = body["input"]
    if len(text) > entry.context_length:
        raise ApiError(
            400,
            "invalid_request",
            f"input is {len(text)} characters; {entry.id} accepts at most {entry.context_length}.",
            param="input",
        )
    voice_id = body.get("voice") or body.get("speaker")
    if voice_id is not None and voice_id not in voices.BY_ID:
        raise ApiError(404, "voice_not_found", f"Voice '{voice_id}' not found.", param="voice")
    fmt = sound.AudioFormat.parse(body.get("response_format"), body.get("speech_sample_rate"))
    if fmt is None:
        raise ApiError(
            422,
            "invalid_request",
            f"Unsupported response_format '{body.get('response_format')}' (try wav, mp3_44100_128, pcm_16000).",
            param="response_format",
        )
    audio = sound.synthesize(text, fmt)
    headers = {
        "x-audio-duration-ms": str(round(sound.duration_seconds(text) * 1000)),
        "x-audio-characters": str(len(text)),
    }
    if body.get("stream", True):

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(audio), _STREAM_CHUNK):
                yield audio[start : start + _STREAM_CHUNK]

        return StreamingResponse(chunks(), media_type=fmt.media_type, headers=headers)
    return Response(audio, media_type=fmt.media_type, headers=headers)


# -- speech to text ---------------------------------------------------------------------------------------


def _form(request: Request) -> Form:
    return parse_form(request.headers.get("content-type", ""), request.scope.get(SCOPE_BODY) or b"")


def _missing(field: str) -> ApiError:
    return validation_failed(
        [{"type": "missing", "loc": ["body", field], "msg": "Field required", "input": None}]
    )


def _audio_of(form: Form) -> bytes:
    part = form.files.get("file")
    if part is None:
        if form.get("source_url") or form.get("cloud_storage_url"):
            raise ApiError(
                400,
                "invalid_request",
                "The local gateway cannot fetch remote audio; upload the file instead.",
            )
        raise _missing("file")
    if not part.data:
        raise ApiError(400, "invalid_request", "The uploaded audio file is empty.", param="file")
    return part.data


def _stt_model(request: Request, model_id: Optional[str], status: int = 400) -> ModelEntry:
    entry = chat_model(request, model_id or DEFAULT_TRANSLATE_MODEL)
    if not entry.supports_transcription:
        raise ApiError(
            status, "model_capability_not_supported", f"Model '{entry.id}' does not support speech-to-text."
        )
    return entry


def _words(text: str) -> List[Dict[str, Any]]:
    """Word timings that match the synthesized audio (each byte lasts two tones)."""
    words: List[Dict[str, Any]] = []
    position = 0
    for word in text.split(" "):
        start = sound.LEAD_SECONDS + 2 * sound.TONE_SECONDS * len(text[:position].encode("utf-8"))
        length = 2 * sound.TONE_SECONDS * len(word.encode("utf-8"))
        if word:
            words.append(
                {"text": word, "start": round(start, 3), "end": round(start + length, 3), "type": "word"}
            )
        position += len(word) + 1
    return words


def _transcript(data: bytes, language: Optional[str]) -> Dict[str, Any]:
    text = sound.read_text(data)
    return {
        "text": text or "",
        "language_code": language or "en",
        "language_probability": 1.0 if text else 0.0,
        "words": _words(text or ""),
    }


async def create_transcription(request: Request) -> Response:
    form = _form(request)
    model = form.get("model")
    if not model:
        raise _missing("model")
    entry = _stt_model(request, model)
    result = _transcript(_audio_of(form), form.get("language_code"))
    ident = hex_id("tr_", 20)
    record = {
        "transcription_id": ident,
        "model": entry.id,
        "created_at": iso_timestamp(time.time()),
        **result,
    }
    gateway(request).store.put(TRANSCRIPTS, owner(request), ident, record)
    return json_response(record)


async def get_transcription(request: Request) -> Response:
    ident = request.path_params["transcription_id"]
    found = gateway(request).store.get_owned(TRANSCRIPTS, owner(request), ident)
    if found is None:
        raise ApiError(404, "not_found", f"Transcription '{ident}' not found.")
    return json_response(found)


async def translate_legacy(request: Request) -> Response:
    form = _form(request)
    entry = _stt_model(request, form.get("model"), status=422)
    result = _transcript(_audio_of(form), "en")
    return json_response({"text": result["text"], "language_code": "en", "model": entry.id})


async def create_translation(request: Request) -> Response:
    form = _form(request)
    model = form.get("model")
    if not model:
        raise _missing("model")
    entry = _stt_model(request, model, status=422)
    response_format = form.get("response_format") or "json"
    if response_format not in ("json", "text", "verbose_json"):
        raise ApiError(422, "invalid_request", "response_format must be json, text or verbose_json.")
    temperature = form.get("temperature")
    if temperature is not None:
        try:
            ok = 0 <= float(temperature) <= 2
        except ValueError:
            ok = False
        if not ok:
            raise ApiError(
                422, "invalid_request", "temperature must be a number from 0 to 2.", param="temperature"
            )
    result = _transcript(_audio_of(form), "en")
    if response_format == "text":
        return Response(result["text"], media_type="text/plain; charset=utf-8")
    out: Dict[str, Any] = {"text": result["text"]}
    if response_format == "verbose_json":
        words = result["words"]
        out.update(
            {
                "task": "translate",
                "language": "english",
                "duration": round(sound.duration_seconds(result["text"]), 3),
                "segments": [
                    {
                        "id": 0,
                        "start": words[0]["start"] if words else 0.0,
                        "end": words[-1]["end"] if words else 0.0,
                        "text": result["text"],
                    }
                ],
                "model": entry.id,
            }
        )
    return json_response(out)


# -- voices ---------------------------------------------------------------------------------------------


def _with_preview(request: Request, voice: Dict[str, Any]) -> Dict[str, Any]:
    base = str(request.base_url).rstrip("/")
    return {**voice, "preview_url": f"{base}/_media/voices/{voice['voice_id']}.wav"}


async def voice_preview(request: Request) -> Response:
    found = voices.BY_ID.get(request.path_params["voice_id"])
    if found is None:
        return Response("No such voice.", status_code=404, media_type="text/plain; charset=utf-8")
    return Response(sound.wav(f"Hello, I am {found['name']}.", sound.DEFAULT_RATE), media_type="audio/wav")


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _offset(token: Optional[str]) -> int:
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        kind, _, number = text.partition(":")
        if kind == "offset" and number.isdigit():
            return int(number)
    except ValueError:
        pass
    raise ApiError(400, "invalid_request", "next_page_token is not valid.", param="next_page_token")


async def list_voices(request: Request) -> Response:
    params = request.query_params
    query = check_query(
        dict(params),
        {
            "page_size": (Int(ge=1, le=100), 10),
            "next_page_token": (Str(), None),
            "search": (Str(), None),
            "sort": (Str(), "name"),
            "sort_direction": (Str(), "asc"),
            "voice_type": (Str(), None),
            "category": (Str(), None),
            "include_total_count": (Bool(), True),
            "brand": (Str(), None),
            "model": (Str(), None),
        },
    )
    found = list(voices.VOICES)
    wanted_ids = [v for raw in params.getlist("voice_ids") for v in raw.split(",") if v]
    if wanted_ids:
        found = [v for v in found if v["voice_id"] in wanted_ids]
    if query["search"]:
        needle = query["search"].lower()
        found = [v for v in found if needle in f"{v['name']} {v['description']} {v['labels']}".lower()]
    kind = query["category"] or query["voice_type"]
    if kind and kind not in ("default", "all"):
        found = [v for v in found if v["category"] == kind]
    brand = query["brand"]
    if query["model"]:
        entry = gateway(request).catalog.resolve(query["model"])
        brand = entry.provider if entry is not None else query["model"]
    if brand:
        found = [v for v in found if v["brand"] == brand]
    if query["sort"] not in ("name", "created_at_unix"):
        raise ApiError(400, "invalid_request", "sort must be name or created_at_unix.", param="sort")
    found.sort(key=lambda v: v[query["sort"]], reverse=query["sort_direction"] == "desc")
    start = _offset(query["next_page_token"])
    page = found[start : start + query["page_size"]]
    more = start + len(page) < len(found)
    return json_response(
        {
            "voices": [_with_preview(request, v) for v in page],
            "has_more": more,
            "total_count": len(found) if query["include_total_count"] else None,
            "next_page_token": _token(start + len(page)) if more else None,
            "count": len(page),
            "truncated": more,
        }
    )


async def get_voice(request: Request) -> Response:
    voice_id = request.path_params["voice_id"]
    found = voices.BY_ID.get(voice_id)
    if found is None:
        raise ApiError(404, "voice_not_found", f"Voice '{voice_id}' not found.")
    return json_response(_with_preview(request, found))


ROUTES = [
    Route("/v1/audio/speech", create_speech, methods=["POST"]),
    Route("/v1/audio/transcriptions", create_transcription, methods=["POST"]),
    Route("/v1/audio/transcriptions/translate", translate_legacy, methods=["POST"]),
    Route("/v1/audio/transcriptions/{transcription_id}", get_transcription, methods=["GET"]),
    Route("/v1/audio/translations", create_translation, methods=["POST"]),
    Route("/v1/audio/voices", list_voices, methods=["GET"]),
    Route("/v1/audio/voices/{voice_id}", get_voice, methods=["GET"]),
    Route("/_media/voices/{voice_id}.wav", voice_preview, methods=["GET"]),
]
