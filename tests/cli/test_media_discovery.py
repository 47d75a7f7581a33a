"""The 0.1.12-family commands on an httpx.MockTransport stand-in: arguments reach the request, output
shapes (table / --json), files written, exit codes. The same commands against the local gateway are in
test_families_gateway.py."""

from __future__ import annotations

import base64
import json
import pathlib
from typing import Any, Callable, Dict, List

import httpx
import pytest

from .conftest import Result

Run = Callable[..., Result]
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(28)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(24)
MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(40)
MODEL = {"id": "openai/gpt-4o-mini", "name": "GPT-4o mini", "is_free": False, "model_type": "text",
         "context_length": 128000, "pricing": {"prompt_usd_per_1m": "0.15", "completion_usd_per_1m": "0.6"}}  # fmt: skip


class Fake:
    """Answers the new endpoints like the API does; records every request."""

    def __init__(self) -> None:
        self.requests: List[httpx.Request] = []
        self.video_polls = 0
        self.video_status = ["queued", "running", "succeeded"]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path == "/v1/audio/speech":
            return httpx.Response(200, content=WAV, headers={"content-type": "audio/wav"})
        if path in ("/v1/audio/transcriptions", "/v1/audio/transcriptions/translate"):
            return httpx.Response(200, json={"text": "hello from the file", "language_code": "en"})
        if path == "/v1/audio/voices":
            return httpx.Response(200, json={"voices": [{"voice_id": "anushka", "name": "Anushka", "category": "premade"}],
                                             "has_more": False})  # fmt: skip
        if path == "/v1/video/generations":
            return httpx.Response(200, json={"id": "t-9"})
        if path == "/v1/video/generations/t-9":
            status = self.video_status[min(self.video_polls, len(self.video_status) - 1)]
            self.video_polls += 1
            body: Dict[str, Any] = {"id": "t-9", "status": status}
            if status == "succeeded":
                body["content"] = {"video_url": "http://fake.test/files/t-9.mp4"}
            if status == "failed":
                body["error"] = {"code": "content_policy", "message": "refused"}
            return httpx.Response(200, json=body)
        if path == "/files/t-9.mp4":
            return httpx.Response(200, content=MP4)
        if path == "/v1/images/edits":
            return httpx.Response(
                200, json={"created": 1, "data": [{"b64_json": base64.b64encode(PNG).decode()}]}
            )
        if path == "/v1/moderations":
            inputs = json.loads(request.content)["input"]
            return httpx.Response(200, json={"id": "modr-1", "model": "omni-moderation-latest", "results": [
                {"flagged": "hurt" in text, "categories": {"violence": "hurt" in text},
                 "category_scores": {"violence": 0.9 if "hurt" in text else 0.01}} for text in inputs]})  # fmt: skip
        if path == "/v1/web/search":
            return httpx.Response(200, json={"query": "q", "answer": "An answer.", "provider": "native",
                                             "results": [{"title": "Doc", "url": "https://d.test", "content": "text"}]})  # fmt: skip
        if path == "/v1/router/select":
            return httpx.Response(200, json={"model": "anthropic/claude-3.5-haiku", "reasoning_effort": "low",
                                             "auto_router": {"fallback_used": False, "reason": "short prompt"}})  # fmt: skip
        if path == "/v1/models/search":
            return httpx.Response(200, json={"items": [MODEL], "total": 7, "limit": 1, "offset": 0})
        if path == "/v1/models/openai/gpt-4o-mini":
            return httpx.Response(200, json=MODEL)
        return httpx.Response(404, json={"detail": "Not Found"})

    def last(self, path: str) -> httpx.Request:
        return [r for r in self.requests if r.url.path == path][-1]


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Fake:
    from meshapi import MeshAPI
    from meshapi.cli import _context

    handler = Fake()
    monkeypatch.setenv("MESHAPI_BASE_URL", "http://fake.test")
    monkeypatch.setenv("MESHAPI_TOKEN", "rsk_cli_fake_token")
    original = _context.Context.client

    def client(self: Any, **overrides: Any) -> MeshAPI:
        overrides.setdefault("httpx_client", httpx.Client(transport=httpx.MockTransport(handler)))
        return original(self, **overrides)

    monkeypatch.setattr(_context.Context, "client", client)
    monkeypatch.setattr("meshapi.lib.polling.FIRST_POLL", 0.0)
    return handler


def _json(result: Result) -> Any:
    assert result.code == 0, result.err
    return json.loads(result.out)


def test_audio_say_writes_the_file(fake: Fake, run: Run, tmp_path: pathlib.Path) -> None:
    out = tmp_path / "hi.wav"
    result = run("audio", "say", "Hello there", "-o", str(out), "--speaker", "anushka", "--format", "wav")
    assert result.code == 0, result.err
    assert out.read_bytes() == WAV
    assert result.out.startswith(f"wrote {out}")
    body = json.loads(fake.last("/v1/audio/speech").content)
    assert body == {
        "input": "Hello there",
        "model": "sarvam/bulbul:v2",
        "speaker": "anushka",
        "response_format": "wav",
    }
    assert _json(run("audio", "say", "x", "-o", str(out), "--json"))["bytes"] == len(WAV)
    missing = run("audio", "say", "x", "-o", str(tmp_path / "no" / "dir.wav"))
    assert missing.code == 2 and "no such directory" in missing.err


def test_audio_transcribe_and_translate(fake: Fake, run: Run, tmp_path: pathlib.Path) -> None:
    clip = tmp_path / "clip.wav"
    clip.write_bytes(WAV)
    result = run("audio", "transcribe", str(clip), "--language", "en-IN")
    assert result.code == 0 and result.out == "hello from the file\n"
    sent = fake.last("/v1/audio/transcriptions")
    assert b'name="language_code"\r\n\r\nen-IN' in sent.content and b'filename="clip.wav"' in sent.content
    assert _json(run("audio", "transcribe", str(clip), "--translate", "--json"))["language_code"] == "en"
    assert fake.requests[-1].url.path == "/v1/audio/transcriptions/translate"
    gone = run("audio", "transcribe", str(tmp_path / "nope.wav"))
    assert gone.code == 2 and "no such file" in gone.err


def test_audio_voices(fake: Fake, run: Run) -> None:
    result = run("audio", "voices", "--search", "anu", "--limit", "5")
    assert result.code == 0 and "Anushka" in result.out and "1 voice" in result.err
    assert dict(fake.last("/v1/audio/voices").url.params) == {"search": "anu", "page_size": "5"}


def test_videos_generate_without_and_with_waiting(fake: Fake, run: Run, tmp_path: pathlib.Path) -> None:
    started = run("videos", "generate", "A paper boat", "--ratio", "16:9", "--duration", "5")
    assert started.code == 0 and started.out == "t-9\n"
    assert json.loads(fake.last("/v1/video/generations").content) == {
        "model": "byteplus/seedance-1-5-pro-251215", "content": [{"type": "text", "text": "A paper boat"}],
        "ratio": "16:9", "duration": 5}  # fmt: skip
    out = tmp_path / "boat.mp4"
    done = run("videos", "generate", "A paper boat", "-o", str(out), "--interval", "0.01")
    assert done.code == 0, done.err
    assert out.read_bytes() == MP4
    assert [line.split(": ")[1].split(" ")[0] for line in done.err_lines] == [
        "queued",
        "running",
        "succeeded",
    ]
    assert f"wrote {out}" in done.out


def test_videos_generate_failed_task_exits_1(fake: Fake, run: Run) -> None:
    fake.video_status = ["running", "failed"]
    result = run("videos", "generate", "x", "--wait", "--interval", "0.01", "--json")
    assert result.code == 1 and json.loads(result.out)["status"] == "failed"
    assert "ended failed: refused" in result.err


def test_images_edit(fake: Fake, run: Run, tmp_path: pathlib.Path) -> None:
    source, mask, out = tmp_path / "in.png", tmp_path / "mask.png", tmp_path / "out.png"
    source.write_bytes(PNG)
    mask.write_bytes(PNG)
    result = run("images", "edit", str(source), "-p", "add a hat", "-o", str(out), "--operation", "inpaint",
                 "--mask", str(mask))  # fmt: skip
    assert result.code == 0, result.err
    assert out.read_bytes() == PNG
    body = json.loads(fake.last("/v1/images/edits").content)
    assert body["image"].startswith("data:image/png;base64,") and body["operation"] == "inpaint"
    assert body["mask"] == body["image"] and body["prompt"] == "add a hat"


def test_moderate(fake: Fake, run: Run) -> None:
    result = run("moderate", "have a nice day", "I will hurt you")
    assert result.code == 0
    lines = result.out.splitlines()
    assert any("hurt" in line and "violence" in line and "yes" in line for line in lines)
    assert _json(run("moderate", "fine", "--json"))["results"][0]["flagged"] is False


def test_search_and_route(fake: Fake, run: Run) -> None:
    result = run("search", "lighthouses", "--answer", "--include-domain", "d.test", "-n", "3")
    assert result.code == 0 and result.out.startswith("An answer.\n") and "https://d.test" in result.out
    assert json.loads(fake.last("/v1/web/search").content) == {
        "query": "lighthouses", "max_results": 3, "search_depth": "basic", "include_domains": ["d.test"],
        "include_answer": True}  # fmt: skip
    routed = run("route", "Write a haiku", "--exclude", "openai/gpt-4o")
    assert routed.code == 0 and routed.out == "anthropic/claude-3.5-haiku\n" and "short prompt" in routed.err
    assert json.loads(fake.last("/v1/router/select").content)["exclude_models"] == ["openai/gpt-4o"]


def test_models_search_and_get(fake: Fake, run: Run) -> None:
    result = run("models", "search", "gpt", "--output-modality", "text", "--sort", "name", "--limit", "1")
    assert result.code == 0 and "openai/gpt-4o-mini" in result.out and "1 of 7" in result.err
    assert fake.last("/v1/models/search").url.params.multi_items() == [
        ("q", "gpt"), ("output_modality", "text"), ("sort", "name"), ("limit", "1")]  # fmt: skip
    shown = run("models", "get", "openai/gpt-4o-mini")
    assert shown.code == 0 and "GPT-4o mini" in shown.out and "128,000" in shown.out
    assert _json(run("models", "get", "openai/gpt-4o-mini", "--json"))["id"] == "openai/gpt-4o-mini"
    unknown = run("models", "get", "nope/model")
    assert unknown.code == 1 and len(unknown.err_lines) == 1 and "not_found" in unknown.err
