"""/v1/video/generations: an asynchronous task moving through its statuses to a downloadable AVI."""

from __future__ import annotations

import json
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, Dict, Iterator, List

import httpx
import pytest

from meshapi_gateway import Gateway, serve
from tests._poll import wait_until

from .conftest import TOKEN, assert_envelope

MODEL = "byteplus/seedance-1-5-pro-251215"


@pytest.fixture(scope="module")
def slow() -> Iterator[Gateway]:
    with serve([TOKEN], video_step_seconds=0.2) as gateway:
        yield gateway


def _body(text: str = "A paper boat drifting down a rainy street", **extra: Any) -> Dict[str, Any]:
    return {"model": MODEL, "content": [{"type": "text", "text": text}], **extra}


def _if(value: Dict[str, Any], test: Any) -> Any:
    """``value`` when ``test(value)`` holds, else ``None`` (a poll's predicate)."""
    return value if test(value) else None


def _wait(client: httpx.Client, task_id: str, seen: List[str]) -> Dict[str, Any]:
    deadline = time.monotonic() + 5
    while True:
        task = client.get(f"/v1/video/generations/{task_id}").json()
        if not seen or seen[-1] != task["status"]:
            seen.append(task["status"])
        if task["status"] not in ("queued", "running") or time.monotonic() > deadline:
            return dict(task)
        time.sleep(0.02)


def test_a_task_moves_through_its_statuses_and_ends_with_a_real_video(slow: Gateway) -> None:
    with httpx.Client(base_url=slow.base_url, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        created = client.post(
            "/v1/video/generations", json=_body(ratio="9:16", duration=2, return_last_frame=True)
        )
        assert created.status_code == 200 and set(created.json()) == {"id"}
        task_id = created.json()["id"]
        assert task_id.startswith("t-")
        seen: List[str] = []
        task = _wait(client, task_id, seen)
    assert seen == ["queued", "running", "succeeded"]
    assert task["model"] == MODEL and task["error"] is None
    assert (task["duration"], task["framespersecond"], task["frames"], task["ratio"]) == (2, 24, 48, "9:16")
    assert task["usage"]["completion_tokens"] == 1280 * 720 * 24 * 2 // 1024
    assert task["updated_at"] >= task["created_at"]
    video = httpx.get(task["content"]["video_url"])  # a CDN-like signed link: no bearer token
    assert video.status_code == 200 and video.headers["content-type"] == "video/x-msvideo"
    data = video.content
    assert (
        data[:4] == b"RIFF" and data[8:12] == b"AVI " and struct.unpack("<I", data[4:8])[0] == len(data) - 8
    )
    avih = data.index(b"avih") + 8
    micro, _, _, _, frames = struct.unpack("<IIIII", data[avih : avih + 20])
    width, height = struct.unpack("<II", data[avih + 32 : avih + 40])
    assert (frames, round(1_000_000 / micro), width < height) == (48, 24, True)
    assert data.count(b"00db") == 2 * 48  # each frame chunk plus its index entry
    frame = httpx.get(task["content"]["last_frame_url"])
    assert frame.status_code == 200 and frame.content.startswith(b"\x89PNG")
    tampered = task["content"]["video_url"].replace("signature=", "signature=0")
    assert httpx.get(tampered).status_code == 403


def test_list_filters_and_pages(client: httpx.Client, other_client: httpx.Client) -> None:
    ids = [client.post("/v1/video/generations", json=_body(f"clip {i}")).json()["id"] for i in range(3)]
    listed = client.get("/v1/video/generations", params={"limit": 2}).json()
    assert listed["object"] == "list" and listed["limit"] == 2 and listed["offset"] == 0
    assert listed["total"] >= 3 and listed["has_more"] is True
    assert [t["id"] for t in listed["data"]] == ids[::-1][:2]  # newest first
    rest = client.get("/v1/video/generations", params={"limit": 2, "offset": 2}).json()
    assert ids[0] in [t["id"] for t in rest["data"]]
    by_model = client.get("/v1/video/generations", params={"model": "other/model"}).json()
    assert by_model["total"] == 0 and by_model["data"] == []
    future = client.get("/v1/video/generations", params={"created_after": "2999-01-01T00:00:00Z"}).json()
    assert future["total"] == 0
    assert client.get("/v1/video/generations", params={"created_after": "yesterday"}).status_code == 422
    assert other_client.get("/v1/video/generations").json()["total"] == 0
    assert_envelope(other_client.get(f"/v1/video/generations/{ids[0]}"), 404, "not_found")
    finished = [("status", "succeeded"), ("status", "failed")]
    done = wait_until(
        lambda: _if(
            client.get("/v1/video/generations", params=finished).json(),
            lambda d: set(ids) <= {t["id"] for t in d["data"]},
        ),
        what="every task finished",
    )
    assert set(ids) <= {t["id"] for t in done["data"]}
    assert {t["status"] for t in done["data"]} <= {"succeeded", "failed"}


def test_flagged_prompts_fail_and_short_expiry_expires(client: httpx.Client) -> None:
    bad = client.post("/v1/video/generations", json=_body("how to build a bomb and kill people")).json()["id"]
    short = client.post("/v1/video/generations", json=_body(execution_expires_after=1)).json()["id"]
    failed = wait_until(
        lambda: _if(client.get(f"/v1/video/generations/{bad}").json(), lambda t: t["status"] == "failed"),
        what="the flagged task failed",
    )
    assert failed["status"] == "failed" and failed["error"]["code"] == "content_policy_violation"
    assert failed["content"] is None and failed["usage"] is None
    ended = _wait(client, short, [])  # polls until the task leaves queued/running
    assert ended["status"] == "succeeded"  # 1 s > the work


def test_validation(client: httpx.Client) -> None:
    assert client.post("/v1/video/generations", json={"model": MODEL}).status_code == 422
    assert client.post("/v1/video/generations", json=_body(duration=60)).status_code == 422
    assert_envelope(
        client.post("/v1/video/generations", json={**_body(), "model": "openai/gpt-4o"}),
        400,
        "model_capability_not_supported",
    )
    audio_only = {"model": MODEL, "content": [{"type": "audio_url", "audio_url": {"url": "https://a"}}]}
    assert_envelope(client.post("/v1/video/generations", json=audio_only), 400, "invalid_request")


def test_callback_receives_the_finished_task(client: httpx.Client) -> None:
    received: List[Dict[str, Any]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["content-length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/done"
        task_id = client.post("/v1/video/generations", json=_body(callback_url=url)).json()["id"]
        thread.join(timeout=5)
    finally:
        server.server_close()
    assert [t["id"] for t in received] == [task_id]
    assert received[0]["status"] == "succeeded"
