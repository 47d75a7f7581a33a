"""client.videos on httpx.MockTransport: generate/list/retrieve shapes, wait, download."""

from __future__ import annotations

import json
import pathlib
from typing import Any, List

import httpx
import pytest

import meshapi
from meshapi import (
    CreateVideoGenerationResponse,
    InvalidParamsError,
    ProcessingFailedError,
    VideoGenerationParams,
    VideoTaskListResponse,
    VideoTaskResponse,
)
from meshapi.lib.polling import WaitTimeoutError
from tests.conftest import resolve

MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(64)


def task(status: str, **extra: Any) -> dict:
    return {"id": "t-1", "status": status, "model": "byteplus/seedance-1-5-pro-251215", **extra}


async def test_generate_posts_the_task_and_returns_its_id(make_client: Any) -> None:
    seen: List[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": "t-20260105-8f2c41"})

    client = make_client(handler)
    params = VideoGenerationParams(
        model="m", content=[{"type": "text", "text": "A paper boat"}], ratio="16:9"
    )
    created = await resolve(client.videos.generate(params, duration=5))
    assert isinstance(created, CreateVideoGenerationResponse) and created.id == "t-20260105-8f2c41"
    assert seen[0].url.path == "/v1/video/generations" and seen[0].method == "POST"
    assert json.loads(seen[0].content) == {"model": "m", "content": [{"type": "text", "text": "A paper boat"}],
                                           "ratio": "16:9", "duration": 5}  # fmt: skip
    await resolve(client.videos.generate(model="m", prompt="A kite"))
    assert json.loads(seen[1].content)["content"] == [{"type": "text", "text": "A kite"}]
    with pytest.raises(InvalidParamsError, match="prompt"):
        await resolve(client.videos.generate(model="m", prompt="a", content=[]))
    with pytest.raises(InvalidParamsError, match="content"):
        await resolve(client.videos.generate(model="m"))
    assert len(seen) == 2


async def test_list_and_retrieve(make_client: Any) -> None:
    seen: List[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/v1/video/generations":
            return httpx.Response(200, json={"object": "list", "data": [task("queued")], "has_more": False,
                                             "total": 1, "limit": 10, "offset": 0})  # fmt: skip
        return httpx.Response(200, json=task("succeeded", content={"video_url": "https://cdn.test/v.mp4"},
                                             usage={"completion_tokens": 5, "total_tokens": 5}))  # fmt: skip

    client = make_client(handler)
    page = await resolve(client.videos.list(status=["queued", "running"], limit=10))
    assert isinstance(page, VideoTaskListResponse) and page.data[0].status == "queued" and page.total == 1
    assert seen[0].url.params.multi_items() == [("status", "queued"), ("status", "running"), ("limit", "10")]
    one = await resolve(client.videos.retrieve("t-1/../x"))
    assert isinstance(one, VideoTaskResponse) and one.done and one.content and one.usage
    assert seen[1].url.raw_path == b"/v1/video/generations/t-1%2F..%2Fx"
    with pytest.raises(InvalidParamsError, match="greater than or equal"):
        await resolve(client.videos.list(limit=0))


async def test_wait_polls_until_terminal_and_reports_each_poll(make_client: Any) -> None:
    statuses = ["queued", "running", "running", "succeeded"]
    seen: List[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=task(statuses.pop(0) if len(statuses) > 1 else statuses[0]))

    client = make_client(handler)
    done = await resolve(client.videos.wait("t-1", poll_interval=0, on_poll=lambda t: seen.append(t.status)))
    assert done.status == "succeeded" and seen == ["queued", "running", "running", "succeeded"]


async def test_wait_returns_failed_tasks_and_times_out(make_client: Any) -> None:
    client = make_client(
        lambda r: httpx.Response(200, json=task("failed", error={"code": "c", "message": "m"}))
    )
    failed = await resolve(client.videos.wait("t-1", poll_interval=0))
    assert failed.status == "failed" and failed.error and failed.error.code == "c"
    slow = make_client(lambda r: httpx.Response(200, json=task("running")))
    with pytest.raises(WaitTimeoutError) as info:
        await resolve(slow.videos.wait("t-1", timeout=0.05, poll_interval=0.01))
    assert isinstance(info.value, meshapi.APITimeoutError) and info.value.last.status == "running"
    with pytest.raises(InvalidParamsError):
        await resolve(slow.videos.wait("t-1", timeout=0))


async def test_download_from_the_gateway_sends_the_key(make_client: Any, tmp_path: pathlib.Path) -> None:
    seen: List[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/t-1"):
            return httpx.Response(
                200, json=task("succeeded", content={"video_url": "http://gateway.test/files/v.mp4"})
            )
        return httpx.Response(200, content=MP4, headers={"content-type": "video/mp4"})

    client = make_client(handler)
    saved = await resolve(client.videos.download("t-1", tmp_path / "v.mp4"))
    assert saved.read_bytes() == MP4
    assert seen[1].url.path == "/files/v.mp4" and seen[1].headers["authorization"].startswith("Bearer ")
    assert seen[1].headers["accept"] == "*/*"


async def test_download_elsewhere_never_sends_the_key(make_client: Any, tmp_path: pathlib.Path) -> None:
    seen: List[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=MP4)

    client = make_client(handler)
    finished = VideoTaskResponse.model_validate(
        task("succeeded", content={"video_url": "https://cdn.test/v.mp4"})
    )
    saved = await resolve(client.videos.download(finished, tmp_path / "v.mp4"))
    assert saved.read_bytes() == MP4 and len(seen) == 1
    assert seen[0].url.host == "cdn.test" and "authorization" not in seen[0].headers


async def test_download_refuses_unfinished_or_failed_tasks(make_client: Any, tmp_path: pathlib.Path) -> None:
    client = make_client(lambda r: httpx.Response(500))
    running = VideoTaskResponse.model_validate(task("running"))
    with pytest.raises(InvalidParamsError, match="still 'running'"):
        await resolve(client.videos.download(running, tmp_path / "v.mp4"))
    failed = VideoTaskResponse.model_validate(task("failed", error={"code": "quota", "message": "no credit"}))
    with pytest.raises(ProcessingFailedError, match="no credit") as info:
        await resolve(client.videos.download(failed, tmp_path / "v.mp4"))
    assert info.value.error_code == "quota" and info.value.last is failed
    assert not (tmp_path / "v.mp4").exists()


async def test_a_cut_download_leaves_no_file(make_client: Any, tmp_path: pathlib.Path) -> None:
    from tests.conftest import RecordingStream

    body = RecordingStream([MP4[:10]], error=httpx.ReadError("cut"))

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=body)

    client = make_client(handler)
    finished = VideoTaskResponse.model_validate(task("succeeded", content={"video_url": "/files/v.mp4"}))
    with pytest.raises(meshapi.APIConnectionError, match="download"):
        await resolve(client.videos.download(finished, tmp_path / "v.mp4"))
    assert not (tmp_path / "v.mp4").exists() and body.closed


async def test_download_into_a_directory_names_the_file_after_the_url(
    make_client: Any, tmp_path: pathlib.Path
) -> None:
    client = make_client(lambda r: httpx.Response(200, content=MP4))
    url = "https://cdn.test/v/t-1%20clip.mp4?signature=abc"
    finished = VideoTaskResponse.model_validate(task("succeeded", content={"video_url": url}))
    saved = await resolve(client.videos.download(finished, tmp_path))
    assert saved == tmp_path / "t-1 clip.mp4" and saved.read_bytes() == MP4
    bare = VideoTaskResponse.model_validate(task("succeeded", content={"video_url": "https://cdn.test/"}))
    assert (await resolve(client.videos.download(bare, tmp_path))) == tmp_path / "t-1.mp4"
