"""API versions on the gateway (raw httpx): the X-Mesh-Version check before authentication, the echo on
every response, the baseline for unpinned requests, ``GET /v1/api-versions``, a deprecated version's
headers, the 2026-09 shape of video tasks, and the realtime socket ignoring the header."""

from __future__ import annotations

import json
from typing import Any, Dict, Iterator, List, Tuple

import httpx
import pytest

from meshapi_gateway import Gateway, create_app, serve

from .conftest import TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}
SUPPORTED = ["2026-08", "2026-09"]
VIDEO_MODEL = "byteplus/seedance-1-5-pro-251215"
LISTING = [
    {"label": "2026-08", "baseline": True, "latest": False, "status": "ga", "released_on": "2026-08-15",
     "sunset_on": None, "notes_url": "https://developers.meshapi.ai/changelog#2026-08", "capabilities": []},
    {"label": "2026-09", "baseline": False, "latest": True, "status": "ga", "released_on": "2026-09-03",
     "sunset_on": None, "notes_url": "https://developers.meshapi.ai/changelog#2026-09",
     "capabilities": ["video.poll_by_request_id"]},
]  # fmt: skip


@pytest.fixture(scope="module")
def deprecating() -> Iterator[Gateway]:
    with serve([TOKEN], deprecated_versions={"2026-09": "2027-03-01", "2026-08": None}) as gateway:
        yield gateway


def get(gw: Gateway, path: str, headers: Any = (), auth: bool = True) -> httpx.Response:
    sent: List[Tuple[str, str]] = list(AUTH.items()) if auth else []
    sent += list(headers.items()) if isinstance(headers, dict) else list(headers)
    return httpx.get(gw.base_url + path, headers=sent, timeout=10)


def refused(response: httpx.Response, message: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == {
        "code": "invalid_api_version",
        "message": message,
        "supported_versions": SUPPORTED,
    }
    assert body["request_id"] == response.headers["x-request-id"]
    assert response.headers["x-mesh-version"] == "2026-08"


def test_unpinned_gets_the_baseline_and_every_response_echoes(gw: Gateway) -> None:
    assert get(gw, "/v1/models").headers["x-mesh-version"] == "2026-08"
    assert get(gw, "/v1/models", {"X-Mesh-Version": "2026-09"}).headers["x-mesh-version"] == "2026-09"
    assert get(gw, "/v1/models", {"Mesh-Version": "2026-09"}).headers["x-mesh-version"] == "2026-09"
    same_twice = get(gw, "/v1/models", [("X-Mesh-Version", "2026-09"), ("Mesh-Version", "2026-09")])
    assert same_twice.status_code == 200 and same_twice.headers["x-mesh-version"] == "2026-09"
    unknown_route = get(gw, "/v1/nothing-here", {"X-Mesh-Version": "2026-09"})
    assert unknown_route.status_code == 404 and unknown_route.headers["x-mesh-version"] == "2026-09"
    no_key = get(gw, "/v1/models", {"X-Mesh-Version": "2026-09"}, auth=False)
    assert no_key.status_code == 401 and no_key.headers["x-mesh-version"] == "2026-09"
    assert "deprecation" not in no_key.headers and "sunset" not in no_key.headers
    assert "x-mesh-version" not in httpx.get(gw.base_url + "/_admin/requests", timeout=10).headers


def test_bad_versions_are_400_before_authentication(gw: Gateway) -> None:
    listed = "2026-08, 2026-09"
    for auth in (True, False):  # a bad version with a bad key is a 400, not a 401
        refused(
            get(gw, "/v1/models", {"X-Mesh-Version": "1999-01"}, auth=auth),
            f"API version '1999-01' is not served. Supported: {listed}.",
        )
    refused(
        get(gw, "/v1/models", {"X-Mesh-Version": ""}),
        f"X-Mesh-Version is empty; send a version label ({listed}) or omit the header for the baseline 2026-08.",
    )
    refused(
        get(gw, "/v1/models", {"X-Mesh-Version": "2026-9"}),
        f"X-Mesh-Version '2026-9' is not a YYYY-MM label. Supported: {listed}.",
    )
    refused(
        get(gw, "/v1/models", [("X-Mesh-Version", "2026-08"), ("X-Mesh-Version", "2026-09")]),
        f"X-Mesh-Version was sent more than once with different values. Supported: {listed}.",
    )
    refused(
        get(gw, "/v1/models", [("X-Mesh-Version", "2026-08"), ("Mesh-Version", "2026-09")]),
        f"X-Mesh-Version was sent more than once with different values. Supported: {listed}.",
    )
    post = httpx.post(
        gw.base_url + "/v1/chat/completions",
        headers={**AUTH, "X-Mesh-Version": "2030-01"},
        json={"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
        timeout=10,
    )
    refused(post, f"API version '2030-01' is not served. Supported: {listed}.")
    logged = [(e.method, e.status) for e in gw.requests if e.path == "/v1/chat/completions"]
    assert logged[-1] == ("POST", 400)  # a refused request is in the request log


def test_the_listing(gw: Gateway) -> None:
    response = get(gw, "/v1/api-versions")
    assert response.status_code == 200 and response.json() == LISTING
    assert get(gw, "/v1/api-versions", auth=False).status_code == 401
    baseline = next(e["label"] for e in response.json() if e["baseline"])
    assert get(gw, "/v1/models").headers["x-mesh-version"] == baseline


def test_a_deprecated_version_says_so_on_every_response(deprecating: Gateway) -> None:
    listing = get(deprecating, "/v1/api-versions").json()
    assert [(e["label"], e["status"], e["sunset_on"]) for e in listing] == [
        ("2026-08", "deprecated", None),
        ("2026-09", "deprecated", "2027-03-01"),
    ]
    for response in (
        get(deprecating, "/v1/models", {"X-Mesh-Version": "2026-09"}),
        get(deprecating, "/v1/models", {"X-Mesh-Version": "2026-09"}, auth=False),
        get(deprecating, "/v1/nothing-here", {"X-Mesh-Version": "2026-09"}),
    ):
        assert response.headers["x-mesh-version"] == "2026-09"
        assert response.headers["deprecation"] == "true"
        assert response.headers["sunset"] == "Mon, 01 Mar 2027 00:00:00 GMT"
    unpinned = get(deprecating, "/v1/models")
    assert unpinned.headers["deprecation"] == "true" and "sunset" not in unpinned.headers


def test_a_token_pin_serves_unpinned_requests_and_the_header_wins() -> None:
    other = "rsk_gateway_tests_pinned"
    with serve([TOKEN, other], api_version_pins={other: "2026-09"}) as gw:
        pinned = {"Authorization": f"Bearer {other}"}
        assert httpx.get(gw.base_url + "/v1/models", headers=pinned).headers["x-mesh-version"] == "2026-09"
        header_wins = {**pinned, "X-Mesh-Version": "2026-08"}
        assert (
            httpx.get(gw.base_url + "/v1/models", headers=header_wins).headers["x-mesh-version"] == "2026-08"
        )
        assert get(gw, "/v1/models").headers["x-mesh-version"] == "2026-08"  # another token: the baseline
    with pytest.raises(ValueError, match=r"api_version_pins: '2030-01' is not a served version"):
        create_app([TOKEN], api_version_pins={TOKEN: "2030-01"})


def test_bad_deprecation_settings_fail_at_start() -> None:
    with pytest.raises(ValueError, match=r"'2025-01' is not a served version \(2026-08, 2026-09\)"):
        create_app([TOKEN], deprecated_versions={"2025-01": None})
    with pytest.raises(
        ValueError, match=r"deprecated_versions\['2026-08'\] must be a YYYY-MM-DD day or None"
    ):
        create_app([TOKEN], deprecated_versions={"2026-08": "next spring"})


def _video(gw: Gateway, version: str) -> Tuple[str, str]:
    created = httpx.post(
        gw.base_url + "/v1/video/generations",
        headers={**AUTH, "X-Mesh-Version": version},
        json={"model": VIDEO_MODEL, "content": [{"type": "text", "text": "A paper boat"}]},
        timeout=10,
    )
    assert created.status_code == 200, created.text
    return created.json()["id"], created.headers["x-request-id"]


def test_video_tasks_carry_request_id_from_2026_09(gw: Gateway) -> None:
    task_id, request_id = _video(gw, "2026-08")
    old: Dict[str, Any] = get(gw, f"/v1/video/generations/{task_id}", {"X-Mesh-Version": "2026-08"}).json()
    new: Dict[str, Any] = get(gw, f"/v1/video/generations/{task_id}", {"X-Mesh-Version": "2026-09"}).json()
    assert "request_id" not in old and new["request_id"] == request_id
    assert {
        k: v for k, v in new.items() if k not in ("request_id", "status", "updated_at", "content", "usage")
    } == {k: v for k, v in old.items() if k not in ("status", "updated_at", "content", "usage")}
    by_request_id = get(gw, f"/v1/video/generations/{request_id}", {"X-Mesh-Version": "2026-09"})
    assert by_request_id.status_code == 200 and by_request_id.json()["id"] == task_id
    refused_old = get(gw, f"/v1/video/generations/{request_id}", {"X-Mesh-Version": "2026-08"})
    assert refused_old.status_code == 404 and refused_old.json()["error"]["code"] == "not_found"
    listed = get(gw, "/v1/video/generations", {"X-Mesh-Version": "2026-09"}).json()["data"]
    assert {t["id"]: t["request_id"] for t in listed}[task_id] == request_id
    assert all("request_id" not in t for t in get(gw, "/v1/video/generations").json()["data"])


def test_the_realtime_socket_ignores_the_header(gw: Gateway) -> None:
    pytest.importorskip("websockets")
    from websockets.sync.client import connect

    url = gw.base_url.replace("http://", "ws://") + "/v1/realtime?model=openai%2Fgpt-realtime"
    with connect(url, additional_headers={**AUTH, "X-Mesh-Version": "1999-01"}, open_timeout=5) as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "session.created"
