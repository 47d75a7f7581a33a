"""client.audio on httpx.MockTransport: request shapes, multipart encoding and replay, responses."""

from __future__ import annotations

import email.parser
import email.policy
import json
import pathlib
from typing import Any, Dict, List, Tuple

import httpx
import pytest

import meshapi
from meshapi import InvalidParamsError, TranscriptionParams, TranscriptionResponse, Voice, VoicesResponse
from meshapi._core.multipart import FilePart, encode_multipart, form_values
from tests.conftest import resolve

WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(28)


def parse_form(request: httpx.Request) -> Tuple[List[Tuple[str, str]], Dict[str, Tuple[str, str, bytes]]]:
    """(form fields in order, files by field name -> (filename, content type, bytes))."""
    content_type = request.headers["content-type"]
    assert content_type.startswith("multipart/form-data; boundary=")
    raw = f"Content-Type: {content_type}\r\n\r\n".encode() + request.content
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
    fields: List[Tuple[str, str]] = []
    files: Dict[str, Tuple[str, str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()
        payload = part.get_payload(decode=True)
        if filename is not None:
            files[name] = (filename, part.get_content_type(), payload)
        else:
            fields.append((name, payload.decode("utf-8")))
    return fields, files


# --- the multipart builder --------------------------------------------------------------------------------


def test_form_values_encode_like_a_form_reader_expects() -> None:
    assert form_values(None) == []
    assert form_values(True) == ["true"] and form_values(False) == ["false"]
    assert form_values(3) == ["3"] and form_values(0.5) == ["0.5"] and form_values("x y") == ["x y"]
    assert form_values(["a", "b"]) == ["a", "b"]  # repeated, not "['a', 'b']"
    assert form_values({"k": [1, True]}) == ['{"k":[1,true]}']
    assert form_values([{"format": "srt"}]) == ['[{"format":"srt"}]']


def test_encode_multipart_round_trips_through_a_mime_parser() -> None:
    body = encode_multipart(
        {"model": "m", "diarize": True, "keyterms": ["alpha", "béta"], "skip": None, 'quo"te': "v"},
        [FilePart("file", 'my "clip".wav', WAV, "audio/wav")],
        boundary="fixedboundary",
    )
    assert body.content_type == "multipart/form-data; boundary=fixedboundary"
    assert body.content.endswith(b"--fixedboundary--\r\n")
    request = httpx.Request(
        "POST", "http://x", content=body.content, headers={"content-type": body.content_type}
    )
    fields, files = parse_form(request)
    assert fields == [("model", "m"), ("diarize", "true"), ("keyterms", "alpha"), ("keyterms", "béta"),
                      ('quo%22te', "v")]  # fmt: skip
    assert files == {"file": ("my %22clip%22.wav", "audio/wav", WAV)}


def test_encode_multipart_rejects_what_it_cannot_send() -> None:
    with pytest.raises(InvalidParamsError, match="bytes"):
        encode_multipart({}, [FilePart("file", "a", "not bytes")])  # type: ignore[arg-type]
    with pytest.raises(InvalidParamsError, match="boundary"):
        encode_multipart({"x": "--b inside"}, boundary="b")
    with pytest.raises(InvalidParamsError, match="names"):
        encode_multipart({"": "v"})
    first = encode_multipart({"a": "1"})
    assert first.content_type != encode_multipart({"a": "1"}).content_type  # random boundaries


# --- speech -------------------------------------------------------------------------------------------


async def test_synthesize_posts_json_and_returns_the_audio_bytes(make_client: Any) -> None:
    seen: List[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=WAV, headers={"content-type": "audio/wav"})

    client = make_client(handler)
    params = meshapi.SpeechParams(input="Hello", model="sarvam/bulbul:v2", speaker="anushka")
    audio = await resolve(client.audio.synthesize(params, extra_body={"pace": 1.1}, request_id="req-1"))
    assert audio == WAV
    (request,) = seen
    assert request.method == "POST" and request.url.path == "/v1/audio/speech"
    assert json.loads(request.content) == {"input": "Hello", "model": "sarvam/bulbul:v2", "speaker": "anushka",
                                           "pace": 1.1}  # fmt: skip
    assert request.headers["idempotency-key"]


async def test_synthesize_keywords_validation_and_file_helper(
    make_client: Any, tmp_path: pathlib.Path
) -> None:
    bodies: List[Dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(200, content=WAV, headers={"content-type": "audio/wav"})

    client = make_client(handler)
    target = await resolve(
        client.audio.synthesize_to_file(tmp_path / "out.wav", input="Hi", voice_settings={"speed": 1.2})
    )
    assert target == tmp_path / "out.wav" and target.read_bytes() == WAV
    assert bodies == [{"input": "Hi", "voice_settings": {"speed": 1.2}}]
    with pytest.raises(InvalidParamsError, match="unknown parameter"):
        await resolve(client.audio.synthesize(input="x", voyce="v"))
    with pytest.raises(InvalidParamsError, match="input"):
        await resolve(client.audio.synthesize())
    assert len(bodies) == 1  # nothing sent for invalid params


async def test_synthesize_error_is_typed(make_client: Any) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(422, json={"error": {"code": "validation_error", "message": "bad format"}})

    client = make_client(handler)
    with pytest.raises(meshapi.UnprocessableEntityError) as info:
        await resolve(client.audio.synthesize(input="x", response_format="wav"))
    assert info.value.error_code == "validation_error"


# --- transcription and translation ------------------------------------------------------------------------


async def test_transcribe_sends_a_proper_multipart_body(make_client: Any) -> None:
    seen: List[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"text": "Your order has shipped.", "language_code": "en"})

    client = make_client(handler)
    params = TranscriptionParams(
        model="sarvam/saaras:v3", diarize=True, keyterms=["order", "shipped"], num_speakers=2
    )
    result = await resolve(client.audio.transcribe(WAV, params, filename="clip.wav"))
    assert isinstance(result, TranscriptionResponse) and result.text == "Your order has shipped."
    assert result.language_code == "en"  # provider fields are kept
    (request,) = seen
    assert request.url.path == "/v1/audio/transcriptions" and request.method == "POST"
    fields, files = parse_form(request)
    assert fields == [("model", "sarvam/saaras:v3"), ("num_speakers", "2"), ("diarize", "true"),
                      ("keyterms", "order"), ("keyterms", "shipped")]  # fmt: skip
    assert files == {"file": ("clip.wav", "audio/x-wav", WAV)} or files == {
        "file": ("clip.wav", "audio/wav", WAV)
    }
    assert request.headers["authorization"] == "Bearer rsk_unit_test_token"


async def test_a_retried_upload_resends_the_same_body_and_key(make_client: Any) -> None:
    seen: List[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) < 3:
            return httpx.Response(503, json={"error": {"code": "upstream_error", "message": "busy"}})
        return httpx.Response(200, json={"text": "ok"})

    client = make_client(handler)
    result = await resolve(client.audio.transcribe(WAV, model="m", keyterms=["k"]))
    assert result.text == "ok" and len(seen) == 3
    assert len({r.content for r in seen}) == 1 and seen[0].content
    assert len({r.headers["idempotency-key"] for r in seen}) == 1
    assert len({r.headers["content-type"] for r in seen}) == 1


async def test_file_may_be_a_path_or_a_binary_file(make_client: Any, tmp_path: pathlib.Path) -> None:
    seen: List[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"text": "t"})

    client = make_client(handler)
    path = tmp_path / "speech.mp3"
    path.write_bytes(b"ID3fake")
    await resolve(client.audio.transcribe(path, model="m"))
    with path.open("rb") as handle:
        await resolve(client.audio.translate(handle))
    await resolve(client.audio.audio_translate(b"raw", model="whisper-1", temperature=0.2))
    names = [parse_form(r)[1]["file"][:2] for r in seen]
    assert names == [("speech.mp3", "audio/mpeg"), ("speech.mp3", "audio/mpeg"), ("audio.mp3", "audio/mpeg")]
    assert [r.url.path for r in seen] == ["/v1/audio/transcriptions", "/v1/audio/transcriptions/translate",
                                          "/v1/audio/translations"]  # fmt: skip
    assert parse_form(seen[1])[0] == [] and parse_form(seen[2])[0] == [
        ("model", "whisper-1"),
        ("temperature", "0.2"),
    ]
    with pytest.raises(InvalidParamsError, match="model"):
        await resolve(client.audio.audio_translate(b"raw"))  # model is required there
    with pytest.raises(InvalidParamsError, match="less than or equal"):
        await resolve(client.audio.audio_translate(b"raw", model="m", temperature=3))
    assert len(seen) == 3


async def test_plain_text_translation_becomes_a_transcription_response(make_client: Any) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="Hello there", headers={"content-type": "text/plain; charset=utf-8"})

    client = make_client(handler)
    result = await resolve(client.audio.audio_translate(b"x", model="m", response_format="text"))
    assert result.text == "Hello there"


async def test_get_transcription_is_untyped_and_escapes_the_id(make_client: Any) -> None:
    seen: List[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": "tr/1", "text": "x", "words": []})

    client = make_client(handler)
    got = await resolve(client.audio.get_transcription("tr/1?x"))
    assert got == {"id": "tr/1", "text": "x", "words": []}
    assert seen[0].url.raw_path == b"/v1/audio/transcriptions/tr%2F1%3Fx"


# --- voices -------------------------------------------------------------------------------------------


async def test_list_voices_query_and_paging(make_client: Any) -> None:
    seen: List[httpx.Request] = []
    page = {"voices": [{"voice_id": "v1", "name": "Anushka", "labels": {"accent": "en-IN", "age": 30}}],
            "has_more": True, "next_page_token": "p2", "total_count": 9}  # fmt: skip

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/v1"):
            return httpx.Response(200, json=page["voices"][0])
        return httpx.Response(200, json=page)

    client = make_client(handler)
    voices = await resolve(
        client.audio.list_voices(page_size=1, include_total_count=True, voice_ids=["a", "b"])
    )
    assert isinstance(voices, VoicesResponse) and voices.has_more and voices.next_page_token == "p2"
    assert voices.voices[0].labels == {"accent": "en-IN", "age": 30}
    assert seen[0].url.params.multi_items() == [("page_size", "1"), ("include_total_count", "true"),
                                                ("voice_ids", "a"), ("voice_ids", "b")]  # fmt: skip
    await resolve(client.audio.list_voices())
    assert seen[1].url.query == b""
    voice = await resolve(client.audio.get_voice("v1"))
    assert isinstance(voice, Voice) and voice.name == "Anushka" and seen[2].url.path == "/v1/audio/voices/v1"
    with pytest.raises(InvalidParamsError):
        await resolve(client.audio.get_voice(""))


async def test_per_call_options_reach_an_upload(make_client: Any) -> None:
    seen: List[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(503, json={"error": {"code": "upstream_error", "message": "busy"}})

    client = make_client(handler)
    with pytest.raises(meshapi.InternalServerError):
        await resolve(client.audio.transcribe(b"abc", model="m", max_retries=0, request_id="call-7",
                                              extra_query={"enable_logging": "false"}, extra_body={"seed": 3},
                                              extra_headers={"X-Trace": "t"}))  # fmt: skip
    (request,) = seen  # max_retries=0: one attempt
    assert request.url.params["enable_logging"] == "false" and request.headers["x-request-id"] == "call-7"
    assert request.headers["x-trace"] == "t" and request.headers["content-type"].startswith(
        "multipart/form-data"
    )
    assert ("seed", "3") in parse_form(request)[0]  # extra_body becomes form fields
