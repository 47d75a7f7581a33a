"""The official Python SDK's post-0.1.12 contract values (its commits 9791a40, ea05e08, 15b3679, d706994)
that no other test of ours asserted: the SDK header value under its private name, the request id of a
mid-stream error frame through the 0.1.12 helpers, the strict stand-in gateway of its API-version test,
and every web-search engine it accepts."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Dict, List

import httpx
import pytest

import meshapi
from meshapi import InvalidAPIVersionError, StreamEventError
from tests.conftest import resolve

ROOT = Path(__file__).resolve().parents[2]
SERVED = {"2026-08", "2026-09"}


def test_the_sdk_header_value_under_its_post_0112_name() -> None:
    from meshapi._http import _SDK_VERSION_VALUE

    version = re.search(r'__version__ = "([^"]+)"', (ROOT / "meshapi" / "_version.py").read_text()).group(1)  # type: ignore[union-attr]
    assert _SDK_VERSION_VALUE == f"python/{version}" == f"python/{meshapi.__version__}"


@pytest.mark.parametrize(
    ("frame", "fallback", "expected"),
    [
        ({"request_id": "req_frame"}, "req_header", "req_frame"),
        ({"request_id": ""}, "req_header", "req_header"),
        ({"request_id": None}, "req_header", "req_header"),
        ({"request_id": 7}, "req_header", "req_header"),
        ({}, "req_header", "req_header"),
        ({}, "", ""),
    ],
)
def test_frame_request_id(frame: Dict[str, Any], fallback: str, expected: str) -> None:
    from meshapi._http import _frame_request_id

    assert _frame_request_id(frame, fallback) == expected


def test_the_0112_frame_helper_takes_a_fallback_request_id() -> None:
    from meshapi._http import _try_parse_sse_frame

    bare = 'data: {"error": {"code": "gateway_timeout", "message": "Upstream provider did not respond in time."}}\n\n'
    with pytest.raises(StreamEventError) as caught:
        _try_parse_sse_frame(bare, fallback_request_id="req_from_header")
    assert (caught.value.request_id, caught.value.error_code) == ("req_from_header", "gateway_timeout")
    own = 'data: {"error": {"code": "gateway_timeout", "message": "m"}, "request_id": "req_01JC2W7Y1B4N8Q3R6T9V0X2Z5A"}\n\n'
    with pytest.raises(StreamEventError) as caught:
        _try_parse_sse_frame(own, fallback_request_id="req_from_header")
    assert caught.value.request_id == "req_01JC2W7Y1B4N8Q3R6T9V0X2Z5A"
    with pytest.raises(StreamEventError) as caught:
        _try_parse_sse_frame(bare)  # 0.1.12's call: no fallback
    assert caught.value.request_id == ""
    assert _try_parse_sse_frame('data: {"id": "x"}\n\n', "req_from_header") == {"id": "x"}


def strict_gateway(request: httpx.Request) -> httpx.Response:
    """The official test's stand-in: serves only the known labels; anything else (an empty value, no
    value) is ``400 invalid_api_version``; ``GET /v1/models`` is an empty list."""
    if request.headers.get("x-mesh-version") not in SERVED:
        error = {
            "code": "invalid_api_version",
            "message": "unsupported",
            "supported_versions": sorted(SERVED),
        }
        return httpx.Response(400, json={"error": error})
    return httpx.Response(200, json=[], headers={"X-Mesh-Version": request.headers["x-mesh-version"]})


async def test_a_strict_gateway_serves_the_default_and_a_pinned_client(make_client: Any) -> None:
    for pin in ({}, {"api_version": "2026-09"}):
        client = make_client(strict_gateway, **pin)
        assert list(await resolve(client.models.list())) == []
    unpinned = make_client(strict_gateway, api_version=None)
    with pytest.raises(InvalidAPIVersionError) as caught:
        await resolve(unpinned.models.list())
    assert caught.value.supported_versions == ["2026-08", "2026-09"]


@pytest.mark.parametrize("engine", ["native", "tavily", "tinyfish"])
async def test_every_documented_search_engine_is_sent(make_client: Any, engine: str) -> None:
    bodies: List[Dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(200, json={"query": "q", "provider": engine, "results": []})

    await resolve(make_client(handler).web.search("q", provider=engine))
    assert [(b["query"], b["provider"], "include_page_content" in b) for b in bodies] == [
        ("q", engine, False)
    ]
