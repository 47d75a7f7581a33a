"""/v1/audio/*: real WAV/MP3 speech whose length follows the text, lossless round trip, voices."""

from __future__ import annotations

import struct
import wave
from io import BytesIO

import httpx
import pytest

from meshapi_gateway.fakes import sound

from .conftest import assert_envelope

TEXT = "Your order has shipped."


def _speech(client: httpx.Client, text: str = TEXT, **extra: object) -> httpx.Response:
    return client.post("/v1/audio/speech", json={"input": text, "model": "sarvam/bulbul:v2", **extra})


def _upload(client: httpx.Client, path: str, audio: bytes, **fields: str) -> httpx.Response:
    return client.post(path, files={"file": ("speech.wav", audio, "application/octet-stream")}, data=fields)


def test_speech_is_a_playable_wav_whose_length_follows_the_text(client: httpx.Client) -> None:
    short = _speech(client, "Hi.", stream=False)
    long = _speech(client, TEXT * 3, stream=False)
    for response, text in ((short, "Hi."), (long, TEXT * 3)):
        assert response.status_code == 200
        assert response.headers["content-type"] == "audio/wav"
        with wave.open(BytesIO(response.content)) as wav:  # the stdlib reader accepts it
            assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 16000)
            seconds = wav.getnframes() / wav.getframerate()
        assert seconds == pytest.approx(sound.duration_seconds(text), abs=0.01)
        assert int(response.headers["x-audio-duration-ms"]) == round(seconds * 1000)
    assert len(long.content) > 5 * len(short.content)


def test_speech_streams_in_chunks_and_formats_change_the_bytes(client: httpx.Client) -> None:
    with client.stream(
        "POST", "/v1/audio/speech", json={"input": TEXT, "model": "sarvam/bulbul:v2", "stream": True}
    ) as response:
        assert response.headers.get("transfer-encoding") == "chunked"
        streamed = b"".join(response.iter_bytes())
    assert streamed == _speech(client, stream=False).content
    mp3 = _speech(client, response_format="mp3_44100_128")
    assert mp3.headers["content-type"] == "audio/mpeg"
    assert mp3.content[:3] == b"ID3"
    first = mp3.content.index(b"\xff\xfb")
    assert struct.unpack(">I", mp3.content[first : first + 4])[0] >> 21 == 0x7FF  # MPEG frame sync
    pcm = _speech(client, response_format="pcm_8000")
    assert pcm.headers["content-type"] == "audio/pcm"
    assert len(pcm.content) == 2 * round(8000 * sound.duration_seconds(TEXT))


@pytest.mark.parametrize("fmt", ["wav", "wav_22050", "mp3_44100_128", "mp3_22050_32"])
def test_transcribing_synthesized_speech_returns_the_text(client: httpx.Client, fmt: str) -> None:
    text = "Grüße from the local gateway, 42 times!"
    audio = _speech(client, text, response_format=fmt).content
    response = _upload(client, "/v1/audio/transcriptions", audio, model="sarvam/saaras:v3")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["text"] == text
    assert [w["text"] for w in body["words"]] == text.split(" ")
    assert body["words"][0]["start"] < body["words"][-1]["end"] <= sound.duration_seconds(text)
    again = client.get(f"/v1/audio/transcriptions/{body['transcription_id']}")
    assert again.status_code == 200 and again.json()["text"] == text


def test_the_text_is_recovered_from_the_samples_alone() -> None:
    audio = sound.wav("decoded from tones", 16000)
    start = audio.index(b"mshT")
    size = struct.unpack("<I", audio[start + 4 : start + 8])[0]
    stripped = audio[:start] + audio[start + 8 + size + size % 2 :]
    stripped = stripped[:4] + struct.pack("<I", len(stripped) - 8) + stripped[8:]
    assert b"decoded" not in stripped
    assert sound.read_text(stripped) == "decoded from tones"


def test_transcription_errors(client: httpx.Client, other_client: httpx.Client) -> None:
    audio = _speech(client).content
    assert _upload(client, "/v1/audio/transcriptions", audio).status_code == 422  # no model
    wrong = _upload(client, "/v1/audio/transcriptions", audio, model="openai/gpt-4o-mini")
    assert_envelope(wrong, 400, "model_capability_not_supported")
    empty = _upload(client, "/v1/audio/transcriptions", b"", model="sarvam/saaras:v3")
    assert_envelope(empty, 400, "invalid_request")
    noise = _upload(client, "/v1/audio/transcriptions", b"\x01\x02\x03", model="sarvam/saaras:v3")
    assert noise.status_code == 200 and noise.json()["text"] == ""
    not_form = client.post("/v1/audio/transcriptions", json={"model": "sarvam/saaras:v3"})
    assert_envelope(not_form, 400, "invalid_request")
    remote = client.post(
        "/v1/audio/transcriptions",
        data={"model": "sarvam/saaras:v3", "source_url": "https://example.com/a.mp3"},
        files={"note": ("note.txt", b"not audio", "text/plain")},
    )
    assert "cannot fetch remote audio" in assert_envelope(remote, 400, "invalid_request")["error"]["message"]
    mine = _upload(client, "/v1/audio/transcriptions", audio, model="sarvam/saaras:v3").json()
    assert_envelope(
        other_client.get(f"/v1/audio/transcriptions/{mine['transcription_id']}"), 404, "not_found"
    )


def test_translations_both_paths_and_formats(client: httpx.Client) -> None:
    audio = _speech(client).content
    legacy = _upload(client, "/v1/audio/transcriptions/translate", audio)
    assert legacy.status_code == 200 and legacy.json()["text"] == TEXT
    assert (
        _upload(client, "/v1/audio/transcriptions/translate", audio, model="openai/gpt-4o").status_code == 422
    )
    plain = _upload(client, "/v1/audio/translations", audio, model="sarvam/saaras:v3", response_format="text")
    assert plain.headers["content-type"].startswith("text/plain") and plain.text == TEXT
    verbose = _upload(
        client, "/v1/audio/translations", audio, model="sarvam/saaras:v3", response_format="verbose_json"
    )
    assert verbose.json()["text"] == TEXT and verbose.json()["segments"][0]["text"] == TEXT
    hot = _upload(client, "/v1/audio/translations", audio, model="sarvam/saaras:v3", temperature="3")
    assert hot.status_code == 422


def test_speech_validation(client: httpx.Client) -> None:
    assert client.post("/v1/audio/speech", json={"model": "sarvam/bulbul:v2"}).status_code == 422
    assert_envelope(_speech(client, model="openai/gpt-4o-mini"), 400, "model_capability_not_supported")
    assert_envelope(_speech(client, "x" * 1501), 400, "invalid_request")
    assert_envelope(_speech(client, voice="vc_nobody"), 404, "voice_not_found")
    assert_envelope(_speech(client, response_format="flac"), 422, "invalid_request")
    assert _speech(client, voice="anushka").status_code == 200


def test_voices_page_with_tokens_and_filters(client: httpx.Client) -> None:
    seen = []
    token = None
    pages = 0
    while True:
        params = {"page_size": 5, **({"next_page_token": token} if token else {})}
        body = client.get("/v1/audio/voices", params=params).json()
        seen += [v["voice_id"] for v in body["voices"]]
        assert body["count"] == len(body["voices"]) and body["truncated"] == body["has_more"]
        pages += 1
        token = body["next_page_token"]
        if not body["has_more"]:
            assert token is None
            break
    assert pages == 3 and len(seen) == len(set(seen)) == body["total_count"] == 14
    names = [v["name"] for v in client.get("/v1/audio/voices", params={"page_size": 100}).json()["voices"]]
    assert names == sorted(names)
    sarvam = client.get("/v1/audio/voices", params={"model": "sarvam/bulbul:v2", "page_size": 100}).json()
    assert {v["brand"] for v in sarvam["voices"]} == {"sarvam"}
    cloned = client.get("/v1/audio/voices", params={"category": "cloned"}).json()["voices"]
    assert [v["name"] for v in cloned] == ["Lena"]
    picked = client.get(
        "/v1/audio/voices", params=[("voice_ids", "anushka"), ("voice_ids", "vc_8d41f0a2")]
    ).json()
    assert {v["voice_id"] for v in picked["voices"]} == {"anushka", "vc_8d41f0a2"}
    assert client.get("/v1/audio/voices", params={"search": "british"}).json()["voices"][0]["name"] == "Rowan"
    one = client.get("/v1/audio/voices/anushka")
    assert one.status_code == 200 and one.json()["name"] == "Anushka"
    preview = httpx.get(one.json()["preview_url"])  # no bearer token, like a CDN link
    assert preview.headers["content-type"] == "audio/wav"
    assert sound.read_text(preview.content) == "Hello, I am Anushka."
    assert_envelope(client.get("/v1/audio/voices/nobody"), 404, "voice_not_found")
    assert_envelope(
        client.get("/v1/audio/voices", params={"next_page_token": "bogus!"}), 400, "invalid_request"
    )
