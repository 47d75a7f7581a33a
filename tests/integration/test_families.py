"""The 0.1.5 .. 0.1.12 families against the local gateway over real sockets, sync and async.

Audio round-trips (speech the gateway made is transcribed back to its text), video tasks move through
their statuses to a downloadable file, moderation/web/router/model search answer from the gateway's own
deterministic models, and a multipart upload is retried with the same body and idempotency key.
"""

from __future__ import annotations

import pathlib
from typing import Any, List

import pytest

import meshapi
from tests.conftest import resolve

# the gateway's endpoints for these families live in their own route modules
pytest.importorskip(
    "meshapi_gateway.routes.videos", reason="the local gateway does not serve these families yet"
)

TTS_MODEL = "sarvam/bulbul:v2"
STT_MODEL = "sarvam/saaras:v3"
VIDEO_MODEL = "byteplus/seedance-1-5-pro-251215"
IMAGE_MODEL = "openai/gpt-image-1"


async def test_speech_is_a_wav_whose_length_follows_the_text(any_client: Any) -> None:
    short = await resolve(any_client.audio.synthesize(input="Your order has shipped.", model=TTS_MODEL))
    long = await resolve(any_client.audio.synthesize(input="Your order has shipped. " * 4, model=TTS_MODEL))
    assert short[:4] == b"RIFF" and short[8:12] == b"WAVE"
    assert len(long) > 3 * len(short)


async def test_transcription_round_trip_and_stored_transcript(
    any_client: Any, tmp_path: pathlib.Path
) -> None:
    text = "The lighthouse lamp was converted in 1958."
    path = await resolve(
        any_client.audio.synthesize_to_file(tmp_path / "lamp.wav", input=text, model=TTS_MODEL)
    )
    result = await resolve(
        any_client.audio.transcribe(path, model=STT_MODEL, keyterms=["lighthouse", "lamp"])
    )
    assert isinstance(result, meshapi.TranscriptionResponse) and result.text == text
    stored_id = (result.model_extra or {}).get("transcription_id")
    if stored_id:  # the local gateway keeps transcripts; get_transcription returns the provider's JSON
        stored = await resolve(any_client.audio.get_transcription(stored_id))
        assert stored["text"] == text
    english = await resolve(any_client.audio.translate(path.read_bytes(), filename="lamp.wav"))
    again = await resolve(any_client.audio.audio_translate(path, model=STT_MODEL))
    assert english.text == again.text == text


async def test_voices_page_with_the_next_page_token(any_client: Any) -> None:
    first = await resolve(any_client.audio.list_voices(page_size=2))
    assert len(first.voices) == 2 and first.has_more and first.next_page_token
    second = await resolve(any_client.audio.list_voices(page_size=2, next_page_token=first.next_page_token))
    assert {v.voice_id for v in first.voices}.isdisjoint(v.voice_id for v in second.voices)
    voice = await resolve(any_client.audio.get_voice(first.voices[0].voice_id))
    assert isinstance(voice, meshapi.Voice) and voice.name == first.voices[0].name
    with pytest.raises(meshapi.NotFoundError):
        await resolve(any_client.audio.get_voice("no-such-voice"))


async def test_a_failed_upload_is_retried_with_the_same_body(any_client: Any, gateway: Any) -> None:
    audio = await resolve(any_client.audio.synthesize(input="Retry me.", model=TTS_MODEL))
    path = "/v1/audio/transcriptions"
    before = len(gateway.requests.filter(path=path, method="POST"))
    gateway.faults.add(path, status=503, times=1)
    result = await resolve(any_client.audio.transcribe(audio, model=STT_MODEL, filename="retry.wav"))
    assert result.text == "Retry me."
    attempts = gateway.requests.filter(path=path, method="POST")[before:]
    assert len(attempts) == 2
    assert len({a.headers.get("idempotency-key") for a in attempts}) == 1
    assert attempts[0].body_size == attempts[1].body_size > len(audio)


async def test_video_task_runs_to_a_downloadable_file(any_client: Any, tmp_path: pathlib.Path) -> None:
    task = await resolve(
        any_client.videos.generate(model=VIDEO_MODEL, prompt="A paper boat in the rain", duration=2)
    )
    assert isinstance(task, meshapi.CreateVideoGenerationResponse) and task.id
    seen: List[str] = []
    done = await resolve(
        any_client.videos.wait(task.id, poll_interval=0.05, on_poll=lambda t: seen.append(t.status))
    )
    assert done.status == "succeeded" and seen[-1] == "succeeded" and seen[0] in ("queued", "running")
    assert done.content and done.content.video_url
    saved = await resolve(any_client.videos.download(done, tmp_path / "boat.avi"))
    assert saved.stat().st_size > 1000 and saved.read_bytes()[:4] == b"RIFF"
    listed = await resolve(any_client.videos.list(limit=50))
    assert task.id in [t.id for t in listed.data]
    again = await resolve(any_client.videos.retrieve(task.id))
    assert again.status == "succeeded" and again.usage is not None


async def test_a_flagged_video_prompt_fails(any_client: Any, tmp_path: pathlib.Path) -> None:
    task = await resolve(
        any_client.videos.generate(model=VIDEO_MODEL, prompt="I will hurt you and kill them", duration=2)
    )
    done = await resolve(any_client.videos.wait(task.id, poll_interval=0.05))
    assert done.status == "failed" and done.error is not None and done.error.code
    with pytest.raises(meshapi.ProcessingFailedError):
        await resolve(any_client.videos.download(done, tmp_path / "x.avi"))


async def test_moderation_flags_deterministically(any_client: Any) -> None:
    result = await resolve(any_client.moderations.create(input=["have a nice day", "I will hurt you"]))
    assert isinstance(result, meshapi.ModerationResponse)
    calm, threat = result.results
    assert not calm.flagged and threat.flagged and "violence" in threat.flagged_categories
    assert threat.category_scores["violence"] > calm.category_scores["violence"]
    again = await resolve(any_client.moderations.create("I will hurt you"))
    assert again.results[0].category_scores == threat.category_scores


async def test_web_search_filters_domains_and_answers(any_client: Any) -> None:
    found = await resolve(
        any_client.web.search("latest stable Python release", include_answer=True, max_results=3)
    )
    assert isinstance(found, meshapi.WebSearchResponse) and found.results and found.answer
    assert len(found.results) <= 3 and found.provider
    hosts = {r.url.split("/")[2] for r in found.results}
    only = await resolve(
        any_client.web.search("latest stable Python release", include_domains=[sorted(hosts)[0]])
    )
    assert only.results and all(sorted(hosts)[0] in r.url for r in only.results)
    without = await resolve(
        any_client.web.search("latest stable Python release", exclude_domains=sorted(hosts))
    )
    assert all(r.url.split("/")[2] not in hosts for r in without.results)


async def test_router_select_picks_a_catalog_model_and_honours_exclusions(any_client: Any) -> None:
    messages = [{"role": "user", "content": "Write a haiku about rain"}]
    first = await resolve(any_client.router.select(messages=messages))
    assert isinstance(first, meshapi.RouterSelectResponse)
    catalog = {m.id for m in await resolve(any_client.models.list())}
    assert first.model in catalog
    second = await resolve(any_client.router.select(messages=messages, exclude_models=[first.model]))
    assert second.model != first.model and second.model in catalog


async def test_model_search_get_and_list_filters(any_client: Any) -> None:
    page = await resolve(any_client.models.search(q="gpt", limit=2, sort="id"))
    assert isinstance(page, meshapi.ModelsPage) and len(page.items) == 2 and page.total >= 2
    assert [m.id for m in page.items] == sorted(m.id for m in page.items)
    rest = await resolve(any_client.models.search(q="gpt", limit=2, offset=2, sort="id"))
    assert {m.id for m in page.items}.isdisjoint(m.id for m in rest.items)
    for model_id in ("google/gemini-3-flash-preview", "sarvam/bulbul:v2", "omni-moderation-latest"):
        assert (await resolve(any_client.models.get(model_id))).id == model_id
    audio = await resolve(any_client.models.list(type="audio"))
    assert audio and "sarvam/bulbul:v2" in [m.id for m in audio]
    with pytest.raises(meshapi.NotFoundError):
        await resolve(any_client.models.get("nosuch/model"))


async def test_image_edit_changes_the_png(any_client: Any) -> None:
    made = await resolve(any_client.images.generate(model=IMAGE_MODEL, prompt="a fox", size="256x256",
                                                    response_format="b64_json"))  # fmt: skip
    original = made.data[0].image_bytes()
    edited = await resolve(any_client.images.edit(model=IMAGE_MODEL, image=original, prompt="add a red scarf",
                                                  response_format="b64_json"))  # fmt: skip
    picture = edited.data[0].image_bytes()
    assert picture[:8] == b"\x89PNG\r\n\x1a\n" and picture != original
