"""API version pinning, as the official SDKs' live tests check it: the pinned label is served and not
sunset, a pinned call is answered under that version, an unknown label is refused with the served list,
and an unpinned call gets the baseline. A deployment without ``/v1/api-versions`` (404) is skipped."""

from __future__ import annotations

from typing import List

import pytest

from meshapi import (
    MESH_API_VERSION,
    APIVersionInfo,
    AsyncMeshAPI,
    InvalidAPIVersionError,
    MeshAPI,
    NotFoundError,
)


def _versions(client: MeshAPI) -> List[APIVersionInfo]:
    try:
        return list(client.api_versions.list())
    except NotFoundError:
        pytest.skip("this deployment predates GET /v1/api-versions")


def test_the_pinned_version_is_served_and_echoed(client: MeshAPI) -> None:
    versions = _versions(client)
    pinned = next((v for v in versions if v.label == MESH_API_VERSION), None)
    assert pinned is not None, [v.label for v in versions]
    assert pinned.status != "sunset"
    assert [v.baseline for v in versions].count(True) == 1
    raw = client.models.with_raw_response.list()
    assert raw.api_version == MESH_API_VERSION


def test_unpinned_gets_the_baseline(client: MeshAPI) -> None:
    baseline = next(v.label for v in _versions(client) if v.baseline)
    raw = client.models.with_raw_response.list(api_version=None)
    assert raw.api_version == baseline


def test_an_unknown_version_is_refused(client: MeshAPI) -> None:
    labels = [v.label for v in _versions(client)]
    with pytest.raises(InvalidAPIVersionError) as info:
        client.models.list(api_version="1999-01")
    assert info.value.status == 400 and info.value.error_code == "invalid_api_version"
    if info.value.supported_versions:  # where the list sits in the body is not documented
        assert sorted(info.value.supported_versions) == sorted(labels)


async def test_async_pin(async_client: AsyncMeshAPI) -> None:
    try:
        versions = await async_client.api_versions.list()
    except NotFoundError:
        pytest.skip("this deployment predates GET /v1/api-versions")
    latest = next(v.label for v in versions if v.latest)
    raw = await async_client.models.with_raw_response.list(api_version=latest)
    assert raw.api_version == latest
