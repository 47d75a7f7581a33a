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

Why a lock: under pytest-xdist two workers (or two pytest runs) can find the same cassette missing at
once; both recording it, or one replaying the other's half-written file, left a broken cassette behind.
So recording holds an exclusive lock on ``<cassette>.lock`` (an OS lock, dropped by the kernel when its
holder dies, so a stale file left by a crashed run is simply taken over), writes into a temporary file
beside the cassette and renames it into place when the recording test finishes: a reader sees no
cassette or a whole one. A test that finds the cassette being recorded waits for it (at most
:data:`LOCK_TIMEOUT` seconds, then fails naming the cassette and the test holding it) and replays it.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator, Optional, Set

import pytest

__all__ = ["LOCK_TIMEOUT", "PLUGIN_TOKEN", "CassetteBusyError", "CassetteLock", "meshapi_cassette"]

#: The token every gateway the plugin starts accepts (``meshapi.testing`` uses it too).
PLUGIN_TOKEN = "rsk_pytest_plugin_token"

# Cassettes this session is recording: a file missing when the session first used it is recorded by
# every test of the session that names it (the second test must not start replaying half a cassette).
_RECORDING = pytest.StashKey[Set[str]]()

#: Seconds a test waits for a cassette another worker or run is recording.
LOCK_TIMEOUT = 60.0


class CassetteBusyError(Exception):
    """The cassette stayed locked by another recording test for the whole wait."""


class CassetteLock:
    """An exclusive lock on ``<cassette>.lock`` holding the recording test's pid and node id.

    The lock is the operating system's (``flock``; ``msvcrt.locking`` on Windows), so it goes with its
    holder: a file left behind by a process that died holds no lock and the next taker rewrites it.
    """

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: Optional[int] = fd

    @classmethod
    def acquire(
        cls, cassette: Path, test: str, *, timeout: float = LOCK_TIMEOUT, interval: float = 0.05
    ) -> CassetteLock:
        """Take the lock, waiting up to ``timeout`` s for another holder; else :class:`CassetteBusyError`."""
        path = cassette.with_name(cassette.name + ".lock")
        deadline = time.monotonic() + timeout
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                _lock_fd(fd)
            except OSError:
                holder = _holder(fd)
                os.close(fd)
                if time.monotonic() >= deadline:
                    raise CassetteBusyError(
                        f"cassette {cassette} is being recorded by {holder}; gave up after waiting {timeout:g} s"
                    ) from None
                time.sleep(interval)
                continue
            if not _still_linked(fd, path):  # its holder removed it between our open and our lock
                os.close(fd)
                continue
            os.ftruncate(fd, 0)
            os.write(fd, json.dumps({"pid": os.getpid(), "test": test}).encode("utf-8"))
            return cls(path, fd)

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                os.unlink(self.path)  # while still locked: a waiter then sees its file unlinked and retries
            except OSError:  # pragma: no cover - Windows cannot remove an open file; the lock still goes
                pass
            os.close(fd)


def _lock_fd(fd: int) -> None:
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _still_linked(fd: int, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except OSError:
        return False


def _holder(fd: int) -> str:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        info = json.loads(os.read(fd, 65536).decode("utf-8"))
        return f"test {info['test']} (pid {int(info['pid'])})"
    except (OSError, ValueError, KeyError, TypeError):  # being written, or locked bytes on Windows
        return "another test"


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
    replay = ProxySettings(
        replay=str(path), replay_fallback=bool(marker.kwargs.get("fallback", False)), replay_speed=speed
    )
    if path.exists() and str(path) not in recording:
        with serve(tokens=[PLUGIN_TOKEN], proxy=replay) as gateway:
            yield gateway
        return
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
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        lock = CassetteLock.acquire(path, request.node.nodeid)
    except CassetteBusyError as exc:
        pytest.fail(str(exc))
    try:
        if path.exists() and str(path) not in recording:  # another worker recorded it while we waited
            lock.release()
            with serve(tokens=[PLUGIN_TOKEN], proxy=replay) as gateway:
                yield gateway
            return
        fd, scratch = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".recording")
        os.close(fd)
        try:
            if path.exists():  # this session recorded it already: its later tests add to it
                shutil.copyfile(path, scratch)
            recording.add(str(path))
            settings = ProxySettings(upstream=upstream, upstream_token=token, record=scratch)
            with serve(tokens=[PLUGIN_TOKEN], proxy=settings) as gateway:
                yield gateway
            if os.path.getsize(scratch):  # the gateway has stopped: every exchange is written
                os.chmod(scratch, 0o644)  # mkstemp's 0600 would make the cassette private to its recorder
                os.replace(scratch, path)
        finally:
            if os.path.exists(scratch):
                os.unlink(scratch)
    finally:
        lock.release()
