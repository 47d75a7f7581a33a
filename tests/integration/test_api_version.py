"""API version pinning over real sockets against the local gateway, sync and async: what reaches the
gateway (its request log), what it echoes, the invalid_api_version error, the listing, a deprecated
version's warning, the 2026-09 shape of video tasks, and the realtime handshake without the header."""

from __future__ import annotations

import warnings
from typing import Any, AsyncIterator, Callable, Iterator, List

import pytest

from meshapi import (
    MESH_API_VERSION,
    APIVersionInfo,
    AsyncMeshAPI,
    InvalidAPIVersionError,
    MeshAPI,
    MeshAPIDeprecationWarning,
)
from meshapi._api_version import _forget_warnings
from tests.conftest import resolve

from .conftest import FAST, TOKEN

STT_MODEL = "sarvam/saaras:v3"
TTS_MODEL = "sarvam/bulbul:v2"
VIDEO_MODEL = "byteplus/seedance-1-5-pro-251215"


@pytest.fixture
async def make(mode: str, gateway: Any) -> AsyncIterator[Callable[..., Any]]:
    """``make(**kwargs)``: a sync or async client on the session gateway (its own pool), closed after."""
    made: List[Any] = []

    def factory(base_url: str = gateway.base_url, **kwargs: Any) -> Any:
        cls = MeshAPI if mode == "sync" else AsyncMeshAPI
        client = cls(base_url=base_url, token=TOKEN, **{**FAST, **kwargs})
        made.append(client)
        return client

    yield factory
    for client in made:
        await resolve(client.close())


def sent_versions(gateway: Any, since: int) -> List[Any]:
    return [(r.path, r.headers.get("x-mesh-version")) for r in list(gateway.requests)[since:]]


async def test_the_header_on_every_request_and_the_echo(make: Any, gateway: Any) -> None:
    start = len(gateway.requests)
    client = make()
    raw = await resolve(client.models.with_raw_response.list())
    speech = await resolve(client.audio.synthesize(input="Pinned.", model=TTS_MODEL))
    await resolve(client.audio.transcribe(speech, model=STT_MODEL, filename="pinned.wav"))
    await resolve(
        client.chat.completions.create(
            model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )
    )
    assert raw.api_version == "2026-08" and raw.deprecation is None
    pinned = await resolve(client.models.with_raw_response.list(api_version="2026-09"))
    assert pinned.api_version == "2026-09"
    unpinned = await resolve(client.with_options(api_version=None).models.with_raw_response.list())
    assert unpinned.api_version == "2026-08"  # the baseline, chosen by the gateway
    per_call_none = await resolve(client.models.with_raw_response.list(api_version=None))
    assert per_call_none.api_version == "2026-08"
    assert sent_versions(gateway, start) == [
        ("/v1/models", "2026-08"),
        ("/v1/audio/speech", "2026-08"),
        ("/v1/audio/transcriptions", "2026-08"),
        ("/v1/chat/completions", "2026-08"),
        ("/v1/models", "2026-09"),
        ("/v1/models", None),
        ("/v1/models", None),
    ]


async def test_an_unserved_version_is_invalid_api_version(make: Any) -> None:
    client = make(api_version="1999-01")
    with pytest.raises(InvalidAPIVersionError) as info:
        await resolve(client.models.list())
    assert info.value.status == 400 and info.value.supported_versions == ["2026-08", "2026-09"]
    assert info.value.message == "API version '1999-01' is not served. Supported: 2026-08, 2026-09."


async def test_a_bad_version_with_a_bad_key_is_still_the_version_error(mode: str, gateway: Any) -> None:
    cls = MeshAPI if mode == "sync" else AsyncMeshAPI
    client = cls(base_url=gateway.base_url, token="rsk_not_a_key", api_version="2030-01", **FAST)
    try:
        with pytest.raises(InvalidAPIVersionError):
            await resolve(client.models.list())
    finally:
        await resolve(client.close())


async def test_the_listing(make: Any) -> None:
    versions = await resolve(make().api_versions.list())
    assert all(isinstance(v, APIVersionInfo) for v in versions)
    assert [(v.label, v.baseline, v.latest, v.status) for v in versions] == [
        ("2026-08", True, False, "ga"),
        ("2026-09", False, True, "ga"),
    ]
    assert versions[1].capabilities == ["video.poll_by_request_id"] and versions[0].sunset_date is None
    assert MESH_API_VERSION in [v.label for v in versions]


@pytest.fixture(scope="module")
def deprecating() -> Iterator[Any]:
    from meshapi_gateway import serve

    with serve([TOKEN], deprecated_versions={"2026-09": "2027-03-01"}) as gw:
        yield gw


async def test_a_deprecated_version_warns_once(make: Any, deprecating: Any) -> None:
    _forget_warnings()
    client = make(base_url=deprecating.base_url, api_version="2026-09")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            raw = await resolve(client.models.with_raw_response.list())
            await resolve(client.models.list())
            await resolve(client.models.list(api_version="2026-08"))  # not deprecated: silent
        assert raw.deprecation == "true" and raw.sunset == "Mon, 01 Mar 2027 00:00:00 GMT"
        assert [str(w.message) for w in caught if w.category is MeshAPIDeprecationWarning] == [
            "GET /v1/models (API version 2026-09) is deprecated (Deprecation: true); it stops being served "
            "on Mon, 01 Mar 2027 00:00:00 GMT. See client.api_versions.list() and the release notes."
        ]
    finally:
        _forget_warnings()


async def test_video_tasks_by_version(make: Any) -> None:
    client = make(api_version="2026-09")
    content = [{"type": "text", "text": "A paper boat"}]
    raw = await resolve(client.videos.with_raw_response.generate(model=VIDEO_MODEL, content=content))
    task_id, request_id = raw.parse().id, raw.request_id
    task = await resolve(client.videos.retrieve(task_id))
    assert task.request_id == request_id
    assert (await resolve(client.videos.retrieve(request_id))).id == task_id
    old = await resolve(client.videos.retrieve(task_id, api_version="2026-08"))
    assert old.request_id is None and "request_id" not in old.model_dump(exclude_unset=True)


async def test_the_realtime_handshake_carries_no_version(make: Any, gateway: Any) -> None:
    client = make(api_version="2026-09")
    session = await resolve(client.realtime.connect(model="openai/gpt-realtime", timeout=5.0))
    try:
        first = await resolve(session.receive(timeout=5.0))
        assert first.type == "session.created"
    finally:
        await resolve(session.close())
    handshake = [r for r in gateway.requests if r.path == "/v1/realtime"][-1]
    assert "x-meshapi-sdk" in handshake.headers and "x-mesh-version" not in handshake.headers
