"""API version pinning on httpx.MockTransport, sync and async: the X-Mesh-Version header on every kind of
request, the client, with_options and per-call choices, the label check before sending, what answers
say (version served, Deprecation / Sunset, one warning per route and version), the invalid_api_version
error, and ``client.api_versions.list()``."""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List

import httpx
import pytest

import meshapi
from meshapi import (
    APIVersionInfo,
    BadRequestError,
    ConfigurationError,
    InvalidAPIVersionError,
    InvalidParamsError,
    MeshAPI,
    MeshAPIDeprecationWarning,
)
from meshapi._api_version import _forget_warnings, check_api_version
from tests.conftest import RecordingStream, collect, resolve

WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(28)
COMPLETION = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "openai/gpt-4o-mini",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}],
}
MESSAGES = [{"role": "user", "content": "Hi"}]
VERSIONS = [
    {"label": "2026-08", "baseline": True, "latest": False, "status": "ga", "sunset_on": None,
     "notes_url": "https://example.test/2026-08", "capabilities": [], "released_on": "2026-08-15"},
    {"label": "2026-09", "baseline": False, "latest": True, "status": "deprecated",
     "sunset_on": "2027-03-01", "notes_url": "https://example.test/2026-09",
     "capabilities": ["video.poll_by_request_id"], "region": "eu"},
]  # fmt: skip


def answer(request: httpx.Request) -> httpx.Response:
    """A plausible 2xx for each path the tests call, echoing the version asked for."""
    path = request.url.path
    headers = {"x-request-id": "req_1"}
    if "x-mesh-version" in request.headers:
        headers["X-Mesh-Version"] = request.headers["x-mesh-version"]
    if path == "/v1/chat/completions" and b'"stream":true' in request.content:
        body = b'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[]}\n\n'
        headers["content-type"] = "text/event-stream"
        return httpx.Response(200, content=body + b"data: [DONE]\n\n", headers=headers)
    if path == "/v1/chat/completions":
        return httpx.Response(200, json=COMPLETION, headers=headers)
    if path == "/v1/audio/transcriptions":
        return httpx.Response(200, json={"text": "hello"}, headers=headers)
    if path.startswith("/v1/templates/") and request.method == "DELETE":
        return httpx.Response(204, headers=headers)
    if path == "/v1/api-versions":
        return httpx.Response(200, json=VERSIONS, headers=headers)
    return httpx.Response(200, json=[], headers=headers)


def recording(
    respond: Callable[[httpx.Request], httpx.Response] = answer,
) -> Any:
    seen: List[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return respond(request)

    handler.seen = seen  # type: ignore[attr-defined]
    return handler


async def every_kind_of_call(client: Any) -> None:
    """GET, JSON POST, a stream, a multipart upload, a DELETE and the versions listing."""
    await resolve(client.models.list())
    await resolve(client.chat.completions.create(model="m", messages=MESSAGES))
    await collect(await resolve(client.chat.completions.create(model="m", messages=MESSAGES, stream=True)))
    await resolve(client.audio.transcribe(WAV, model="m", filename="clip.wav"))
    await resolve(client.templates.delete("tpl_1"))
    await resolve(client.api_versions.list())


KINDS = ["/v1/models", "/v1/chat/completions", "/v1/chat/completions", "/v1/audio/transcriptions",
         "/v1/templates/tpl_1", "/v1/api-versions"]  # fmt: skip


@pytest.fixture(autouse=True)
def fresh_warnings() -> Iterator[None]:
    _forget_warnings()
    yield
    _forget_warnings()


def test_the_pinned_label() -> None:
    assert meshapi.MESH_API_VERSION == "2026-08"
    assert meshapi.API_VERSION_HEADER == "X-Mesh-Version"
    year, month = meshapi.MESH_API_VERSION.split("-")
    assert len(year) == 4 and 1 <= int(month) <= 12
    for name in ("MESH_API_VERSION", "MeshAPIDeprecationWarning", "InvalidAPIVersionError", "APIVersionInfo"):
        assert name in meshapi.__all__
    assert issubclass(MeshAPIDeprecationWarning, DeprecationWarning)
    assert issubclass(InvalidAPIVersionError, BadRequestError)


async def test_every_request_carries_the_default_version(make_client: Any) -> None:
    handler = recording()
    client = make_client(handler)
    await every_kind_of_call(client)
    assert [r.url.path for r in handler.seen] == KINDS
    assert [r.headers.get("x-mesh-version") for r in handler.seen] == ["2026-08"] * len(KINDS)
    assert handler.seen[3].headers["content-type"].startswith("multipart/form-data")
    assert handler.seen[0].headers["x-meshapi-sdk"].startswith("python/")


async def test_a_client_pin_and_none(make_client: Any) -> None:
    handler = recording()
    await every_kind_of_call(make_client(handler, api_version="2026-09"))
    assert [r.headers.get("x-mesh-version") for r in handler.seen] == ["2026-09"] * len(KINDS)
    handler = recording()
    await every_kind_of_call(make_client(handler, api_version=None))
    assert [r.headers.get("x-mesh-version") for r in handler.seen] == [None] * len(KINDS)
    assert all("x-meshapi-sdk" in r.headers for r in handler.seen)


@pytest.mark.parametrize(
    "label", ["", "2026", "2026-13", "2026-00", "26-08", "2026-8", " 2026-08", "2026-08\n", 202608]
)
async def test_a_bad_label_is_refused_before_anything_is_sent(make_client: Any, label: object) -> None:
    handler = recording()
    with pytest.raises(ConfigurationError, match="api_version"):
        make_client(handler, api_version=label)
    client = make_client(handler)
    with pytest.raises(ConfigurationError, match="api_version"):
        client.with_options(api_version=label)
    with pytest.raises(InvalidParamsError, match="api_version"):
        await resolve(client.models.list(api_version=label))
    assert handler.seen == []


async def test_per_call_and_with_options(make_client: Any) -> None:
    handler = recording()
    client = make_client(handler, api_version="2026-09")
    await resolve(client.models.list(api_version="2026-08"))
    await resolve(client.models.list(api_version=None))
    await resolve(client.models.list())
    copy = client.with_options(api_version=None)
    await resolve(copy.models.list())
    await resolve(copy.models.list(api_version="2026-09"))
    await resolve(client.with_options(timeout=5).models.list())
    await resolve(client.models.list(extra_headers={"X-Mesh-Version": "2026-08"}))  # explicit headers win
    sent = [r.headers.get("x-mesh-version") for r in handler.seen]
    assert sent == ["2026-08", None, "2026-09", None, "2026-09", "2026-09", "2026-08"]
    assert client.config.api_version == "2026-09" and copy.config.api_version is None


async def test_the_raw_response_names_the_version_served(make_client: Any) -> None:
    def legacy(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=[], headers={"Mesh-Version": "2026-08"})

    raw = await resolve(make_client(recording()).models.with_raw_response.list(api_version="2026-09"))
    assert raw.api_version == "2026-09" and raw.deprecation is None and raw.sunset is None
    raw = await resolve(make_client(recording(legacy)).models.with_raw_response.list())
    assert raw.api_version == "2026-08"
    raw = await resolve(
        make_client(recording(lambda r: httpx.Response(200, json=[]))).models.with_raw_response.list()
    )
    assert raw.api_version is None


def deprecated(status: int = 200, sunset: bool = True) -> Callable[[httpx.Request], httpx.Response]:
    def respond(request: httpx.Request) -> httpx.Response:
        headers = {"X-Mesh-Version": request.headers.get("x-mesh-version", "2026-08"), "Deprecation": "true"}
        if sunset:
            headers["Sunset"] = "Mon, 01 Mar 2027 00:00:00 GMT"
        if status != 200:
            body = {"error": {"code": "rate_limit_exceeded", "message": "slow down"}}
            return httpx.Response(status, json=body, headers=headers)
        return httpx.Response(200, json=[], headers=headers)

    return respond


async def test_deprecation_warns_once_per_route_and_version(make_client: Any) -> None:
    client = make_client(recording(deprecated()))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        raw = await resolve(client.models.with_raw_response.list())
        await resolve(client.models.list())
        await resolve(client.models.list())
        await resolve(client.models.list(api_version="2026-09"))  # another version: warned again
        await resolve(client.models.free())  # another route: warned again
        await resolve(client.models.free(api_version="2026-09"))
        await resolve(make_client(recording(deprecated())).models.list())  # another client, same process
    assert raw.deprecation == "true" and raw.sunset == "Mon, 01 Mar 2027 00:00:00 GMT"
    messages = [str(w.message) for w in caught]
    assert [w.category for w in caught] == [MeshAPIDeprecationWarning] * 4
    # the caller's line, not the SDK's (async: the test's helper that awaits the call)
    assert {Path(w.filename).name for w in caught} <= {"test_api_version.py", "conftest.py"}
    assert messages == [
        f"GET {path} (API version {version}) is deprecated (Deprecation: true); it stops being served on "
        "Mon, 01 Mar 2027 00:00:00 GMT. See client.api_versions.list() and the release notes."
        for path, version in [("/v1/models", "2026-08"), ("/v1/models", "2026-09"),
                              ("/v1/models/free", "2026-08"), ("/v1/models/free", "2026-09")]
    ]  # fmt: skip


async def test_deprecation_on_an_error_answer_and_without_sunset(make_client: Any) -> None:
    client = make_client(recording(deprecated(429)), max_retries=0)
    with (
        pytest.warns(
            MeshAPIDeprecationWarning, match=r"^GET /v1/models \(API version 2026-08\) is deprecated"
        ),
        pytest.raises(meshapi.RateLimitError),
    ):
        await resolve(client.models.list())
    client = make_client(recording(deprecated(sunset=False)))
    with pytest.warns(MeshAPIDeprecationWarning) as caught:
        raw = await resolve(client.models.with_raw_response.free())
    assert raw.sunset is None and "stops being served" not in str(caught[0].message)


async def test_warnings_as_errors_close_the_stream(make_client: Any) -> None:
    body = RecordingStream(
        [b'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[]}\n\n']
    )

    def respond(request: httpx.Request) -> httpx.Response:
        headers = {"content-type": "text/event-stream", "Deprecation": "true", "X-Mesh-Version": "2026-08"}
        return httpx.Response(200, stream=body, headers=headers)

    client = make_client(recording(respond))
    with warnings.catch_warnings():
        warnings.simplefilter("error", MeshAPIDeprecationWarning)
        with pytest.raises(
            MeshAPIDeprecationWarning, match=r"^POST /v1/chat/completions \(API version 2026-08\)"
        ):
            await resolve(client.chat.completions.create(model="m", messages=MESSAGES, stream=True))
    assert body.closed


async def test_no_warning_without_deprecation(make_client: Any) -> None:
    client = make_client(recording())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        await resolve(client.models.list())


def invalid_version(body: Dict[str, Any]) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(400, json=body, headers={"X-Mesh-Version": "2026-08"})


async def test_invalid_api_version_is_its_own_bad_request(make_client: Any) -> None:
    body = {"error": {"code": "invalid_api_version", "message": "Unsupported API version '1999-01'.",
                      "supported_versions": ["2026-08", "2026-09"]}, "request_id": "req_v"}  # fmt: skip
    handler = recording(invalid_version(body))
    client = make_client(handler, api_version="2026-09")
    with pytest.raises(InvalidAPIVersionError) as info:
        await resolve(client.models.list(api_version="1999-01"))
    error = info.value
    assert isinstance(error, BadRequestError) and error.status == 400 and error.request_id == "req_v"
    assert error.error_code == "invalid_api_version" and error.supported_versions == ["2026-08", "2026-09"]
    assert len(handler.seen) == 1  # a 400 is not retried
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is InvalidAPIVersionError and again.supported_versions == ["2026-08", "2026-09"]


async def test_supported_versions_at_the_top_level_or_missing(make_client: Any) -> None:
    top = {"error": {"code": "invalid_api_version", "message": "no"}, "supported_versions": ["2026-08", 7]}
    with pytest.raises(InvalidAPIVersionError) as info:
        await resolve(make_client(recording(invalid_version(top))).models.list())
    assert info.value.supported_versions == ["2026-08"]
    with pytest.raises(InvalidAPIVersionError) as info:
        await resolve(
            make_client(recording(invalid_version({"error": {"code": "invalid_api_version"}}))).models.list()
        )
    assert info.value.supported_versions == []
    other = {"error": {"code": "invalid_request", "message": "no"}}
    with pytest.raises(BadRequestError) as plain:
        await resolve(make_client(recording(invalid_version(other))).models.list())
    assert type(plain.value) is BadRequestError


async def test_api_versions_list(make_client: Any) -> None:
    handler = recording()
    client = make_client(handler)
    versions = await resolve(client.api_versions.list())
    assert [type(v) for v in versions] == [APIVersionInfo, APIVersionInfo]
    first, second = versions
    assert (first.label, first.baseline, first.latest, first.status) == ("2026-08", True, False, "ga")
    assert first.sunset_on is None and first.sunset_date is None and first.capabilities == []
    assert first.released_on == "2026-08-15" and first.notes_url == "https://example.test/2026-08"
    assert second.sunset_date is not None and second.sunset_date.isoformat() == "2027-03-01"
    assert second.capabilities == ["video.poll_by_request_id"]
    assert second.model_extra == {"region": "eu"}  # unknown fields are kept
    assert versions.request_id == "req_1"
    raw = await resolve(client.api_versions.with_raw_response.list(api_version="2026-09"))
    assert raw.api_version == "2026-09" and [v.label for v in raw.parse()] == ["2026-08", "2026-09"]
    assert [(r.method, r.url.path) for r in handler.seen] == [("GET", "/v1/api-versions")] * 2


def test_permissive_entries() -> None:
    entry = APIVersionInfo.model_validate({"label": "2026-10", "sunset_on": "soon"})
    assert entry.baseline is None and entry.sunset_date is None and entry.capabilities == []
    assert APIVersionInfo.model_validate({}).label is None


def test_check_api_version_table() -> None:
    assert check_api_version(None) is None
    assert check_api_version("2026-12") == "2026-12"
    with pytest.raises(ConfigurationError, match="got an empty string; pass None to send no version header"):
        check_api_version("")
    with pytest.raises(ConfigurationError, match="must be a 'YYYY-MM' string or None, got int"):
        check_api_version(202608)


def test_the_realtime_handshake_carries_no_version() -> None:
    from meshapi.realtime._ws import prepare

    client = MeshAPI(base_url="http://127.0.0.1:9", token="rsk_unit_test_token", api_version="2026-09")
    try:
        handshake = prepare(client.config, "openai/gpt-4o-realtime", "header", None, False)
        names = [name.lower() for name, _ in handshake.headers]
        assert "x-meshapi-sdk" in names and "x-mesh-version" not in names
    finally:
        client.close()
