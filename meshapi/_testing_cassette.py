"""The cassette part of the pytest plugin: run tests against recorded exchanges with a real gateway.

Loaded by :mod:`meshapi.testing` (its ``pytest_plugins``). Mark a test or a module and ask for the
``meshapi_cassette`` fixture, a local gateway (``.base_url``, ``.token``) that answers from the cassette.
Like every fixture of the plugin it accepts only the plugin's own token (:data:`PLUGIN_TOKEN`), never
``$MESHAPI_TOKEN``, so a real key exported in the shell is neither sent to it nor recorded::

    pytestmark = pytest.mark.meshapi_cassette("cassettes/summaries.jsonl")

    def test_summary(meshapi_cassette):
        client = MeshAPI(base_url=meshapi_cassette.base_url, token=meshapi_cassette.token)
        ...

The path is relative to the test file. When the file exists the gateway replays it (no network; an
unrecorded request is a 404 ``cassette_no_match`` naming the closest recorded one, unless the marker says
``fallback=True``). When it does not, the gateway records it from the upstream named by
``--meshapi-upstream URL`` (or ``$MESHAPI_CASSETTE_UPSTREAM``), with the upstream token read from
``$MESHAPI_UPSTREAM_TOKEN`` (``--meshapi-upstream-token-env`` names another variable). Delete the file to
record it again (a file missing when the session first uses it is recorded by every test of that
session that names it). ``speed=1`` in the marker replays streams at the recorded pace (default: at once).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator, Set

import pytest

__all__ = ["PLUGIN_TOKEN", "meshapi_cassette"]

#: The token every gateway the plugin starts accepts (``meshapi.testing`` uses it too).
PLUGIN_TOKEN = "rsk_pytest_plugin_token"

# Cassettes this session is recording: a file missing when the session first used it is recorded by
# every test of the session that names it (the second test must not start replaying half a cassette).
_RECORDING = pytest.StashKey[Set[str]]()


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("meshapi")
    group.addoption(
        "--meshapi-upstream",
        default=None,
        metavar="URL",
        help="gateway to record missing meshapi cassettes from (default $MESHAPI_CASSETTE_UPSTREAM)",
    )
    group.addoption(
        "--meshapi-upstream-token-env",
        default="MESHAPI_UPSTREAM_TOKEN",
        metavar="VAR",
        help="environment variable with the upstream token when recording (default MESHAPI_UPSTREAM_TOKEN)",
    )


def pytest_configure(config: Any) -> None:
    config.addinivalue_line(
        "markers",
        "meshapi_cassette(path, fallback=False, speed=0): answer the meshapi_cassette fixture's gateway "
        "from this cassette (recorded from --meshapi-upstream when the file is missing)",
    )


@pytest.fixture
def meshapi_cassette(request: Any) -> Iterator[Any]:
    """A local gateway replaying the marked cassette, or recording it when the file is missing."""
    from meshapi_gateway import ProxySettings, serve

    marker = request.node.get_closest_marker("meshapi_cassette")
    if marker is None or not marker.args:
        pytest.fail(
            "the meshapi_cassette fixture needs @pytest.mark.meshapi_cassette('path/to/cassette.jsonl')"
        )
    path = Path(str(marker.args[0]))
    if not path.is_absolute():
        path = Path(str(request.node.path)).parent / path
    speed = float(marker.kwargs.get("speed", 0.0))
    recording = request.config.stash.setdefault(_RECORDING, set())
    if path.exists() and str(path) not in recording:
        settings = ProxySettings(
            replay=str(path), replay_fallback=bool(marker.kwargs.get("fallback", False)), replay_speed=speed
        )
    else:
        upstream = request.config.getoption("meshapi_upstream") or os.environ.get("MESHAPI_CASSETTE_UPSTREAM")
        token_env = request.config.getoption("meshapi_upstream_token_env")
        if not upstream:
            pytest.fail(
                f"cassette {path} does not exist and there is no upstream to record it from: "
                f"pass --meshapi-upstream URL (token in ${token_env}) or set MESHAPI_CASSETTE_UPSTREAM"
            )
        token = os.environ.get(token_env)
        if not token:
            pytest.fail(f"recording cassette {path} needs the upstream token in ${token_env}")
        settings = ProxySettings(upstream=upstream, upstream_token=token, record=str(path))
        recording.add(str(path))
    with serve(tokens=[PLUGIN_TOKEN], proxy=settings) as gateway:
        yield gateway
