"""The 0.1.5 .. 0.1.12 families: audio, videos, moderations, web search, router, model search, image edits.

Public imports only. Against a real gateway, a family the deployment switches off (403, 404 or 501, as
the official SDK's live tests treat them) is skipped, not failed. Model overrides:
``MESHAPI_TTS_MODEL``, ``MESHAPI_STT_MODEL``, ``MESHAPI_VIDEO_MODEL``, ``MESHAPI_IMAGE_EDIT_MODEL``.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
from typing import Any, Iterator

import pytest

import meshapi
from meshapi import AsyncMeshAPI, MeshAPI

TTS_MODEL = os.environ.get("MESHAPI_TTS_MODEL", "sarvam/bulbul:v2")
STT_MODEL = os.environ.get("MESHAPI_STT_MODEL", "sarvam/saaras:v3")
VIDEO_MODEL = os.environ.get("MESHAPI_VIDEO_MODEL", "byteplus/seedance-1-5-pro-251215")
EDIT_MODEL = os.environ.get("MESHAPI_IMAGE_EDIT_MODEL", "openai/gpt-image-1")


@contextlib.contextmanager
def available(family: str) -> Iterator[None]:
    """Skip when the deployment does not offer ``family`` (403/404/501)."""
    try:
        yield
    except meshapi.APIStatusError as exc:
        if exc.status in (403, 404, 501):
            pytest.skip(f"{family} is not available on this gateway ({exc.status} {exc.error_code})")
        raise


def test_speech_and_transcription(client: MeshAPI, tmp_path: pathlib.Path) -> None:
    text = "Your order has shipped."
    with available("text to speech"):
        path = client.audio.synthesize_to_file(tmp_path / "order.wav", input=text, model=TTS_MODEL)
    assert path.stat().st_size > 1000
    with available("speech to text"):
        result = client.audio.transcribe(path, model=STT_MODEL)
    assert isinstance(result, meshapi.TranscriptionResponse)
    assert "shipped" in result.text.lower()


async def test_async_speech_and_voices(async_client: AsyncMeshAPI) -> None:
    with available("text to speech"):
        audio = await async_client.audio.synthesize(input="Hello there.", model=TTS_MODEL)
    assert len(audio) > 1000
    with available("voices"):
        voices = await async_client.audio.list_voices(page_size=3)
    assert voices.voices and all(v.voice_id and v.name for v in voices.voices)
    one = await async_client.audio.get_voice(voices.voices[0].voice_id)
    assert one.voice_id == voices.voices[0].voice_id


def test_video_generation(client: MeshAPI, target: Any, tmp_path: pathlib.Path) -> None:
    if not target.local and not os.environ.get("MESHAPI_LIVE_VIDEO"):
        pytest.skip("video generation is slow and billed; set MESHAPI_LIVE_VIDEO=1 to run it")
    with available("video generation"):
        task = client.videos.generate(
            model=VIDEO_MODEL, prompt="A paper boat drifting in the rain", duration=2
        )
    done = client.videos.wait(task.id, timeout=900, poll_interval=0.05 if target.local else 10)
    assert done.status == "succeeded", done.error
    saved = client.videos.download(done, tmp_path)
    assert saved.stat().st_size > 0
    assert task.id in [t.id for t in client.videos.list(limit=100).data]


async def test_async_video_task_is_listed(async_client: AsyncMeshAPI, target: Any) -> None:
    if not target.local and not os.environ.get("MESHAPI_LIVE_VIDEO"):
        pytest.skip("video generation is slow and billed; set MESHAPI_LIVE_VIDEO=1 to run it")
    with available("video generation"):
        task = await async_client.videos.generate(model=VIDEO_MODEL, prompt="A kite over a beach", duration=2)
    fetched = await async_client.videos.retrieve(task.id)
    assert fetched.id == task.id and fetched.status in ("queued", "running", "succeeded")


def test_moderation(client: MeshAPI) -> None:
    with available("moderation"):
        result = client.moderations.create(input=["have a nice day", "I am going to hurt you badly"])
    calm, threat = result.results
    assert not calm.flagged and threat.flagged and threat.flagged_categories


async def test_async_web_search(async_client: AsyncMeshAPI) -> None:
    with available("web search"):
        found = await async_client.web.search(
            "python programming language", max_results=3, include_answer=True
        )
    assert found.results and len(found.results) <= 3
    assert all(r.url.startswith("http") and r.title for r in found.results)


def test_router_select(client: MeshAPI) -> None:
    messages = [{"role": "user", "content": "Write a haiku about rain"}]
    with available("the auto router"):
        picked = client.router.select(messages=messages)
    assert picked.model and isinstance(picked.auto_router, meshapi.AutoRouterMeta)
    again = client.router.select(messages=messages, exclude_models=[picked.model])
    assert again.model != picked.model


async def test_async_model_search_and_get(async_client: AsyncMeshAPI) -> None:
    page = await async_client.models.search(limit=3)
    assert isinstance(page, meshapi.ModelsPage) and 0 < len(page.items) <= 3 and page.total >= len(page.items)
    info = await async_client.models.get(page.items[0].id)
    assert info.id == page.items[0].id
    with pytest.raises(meshapi.NotFoundError):
        await async_client.models.get("nosuch/model-that-does-not-exist")


def test_image_edit(client: MeshAPI) -> None:
    with available("image generation"):
        made = client.images.generate(model=EDIT_MODEL, prompt="a red apple", size="1024x1024",
                                      response_format="b64_json")  # fmt: skip
    original = made.data[0].image_bytes()
    with available("image edits"):
        edited = client.images.edit(
            model=EDIT_MODEL, image=original, prompt="make it green", response_format="b64_json"
        )
    assert edited.data and edited.data[0].image_bytes() != original
