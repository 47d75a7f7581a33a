"""Cassettes recorded by two workers at once (pytest-xdist), and the lock that coordinates them.

pytest-xdist is not a dependency: two pytest processes started together on the same project stand in
for two workers. Before the lock, the second one replayed the first one's half-written cassette (a 404
``cassette_no_match`` for the second request) or both appended to it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Dict, List

import pytest

from meshapi._testing_cassette import CassetteBusyError, CassetteLock

from .._poll import wait_until

pytest.importorskip("starlette")

UPSTREAM_TOKEN = "rsk_upstream_token_for_the_lock_tests"

# One test, two requests; between them it waits (bounded) until another pytest process has set up its
# meshapi_cassette fixture, so a second process that does not wait for the recording replays half of it.
_TWO_REQUESTS = """
import os
import time
from pathlib import Path

import httpx
import pytest

HERE = Path(__file__).parent


@pytest.mark.meshapi_cassette("cassettes/shared.jsonl")
def test_two_requests(meshapi_cassette):
    headers = {"Authorization": f"Bearer {meshapi_cassette.token}"}
    for n, text in enumerate(["first", "second"]):
        body = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": text}]}
        reply = httpx.post(meshapi_cassette.base_url + "/v1/chat/completions", json=body, headers=headers)
        assert reply.status_code == 200, reply.text
        if n == 0:
            (HERE / f"halfway-{os.getpid()}").touch()
            deadline = time.monotonic() + 2.0
            while time.monotonic() < deadline and not [
                p for p in HERE.glob("set-up-*") if p.name != f"set-up-{os.getpid()}"
            ]:
                time.sleep(0.02)
"""

_CONFTEST = """
import os
from pathlib import Path

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef, request):
    yield
    if fixturedef.argname == "meshapi_cassette":
        (Path(__file__).parent / f"set-up-{os.getpid()}").touch()
"""


def _start(directory: Path, upstream: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MESHAPI_")}
    env["MESHAPI_UPSTREAM_TOKEN"] = UPSTREAM_TOKEN
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--meshapi-upstream", upstream]
    return subprocess.Popen(
        args, cwd=directory, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def _finish(process: subprocess.Popen[str]) -> str:
    out, _ = process.communicate(timeout=120)
    assert process.returncode == 0, out
    return out


def test_two_workers_recording_the_same_missing_cassette_leave_it_whole(tmp_path: Path) -> None:
    from meshapi_gateway import serve

    (tmp_path / "test_shared.py").write_text(textwrap.dedent(_TWO_REQUESTS))
    (tmp_path / "conftest.py").write_text(textwrap.dedent(_CONFTEST))
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    cassette = tmp_path / "cassettes" / "shared.jsonl"
    with serve([UPSTREAM_TOKEN]) as up:
        first = _start(tmp_path, up.base_url)
        wait_until(lambda: list(tmp_path.glob("halfway-*")), timeout=60, what="the first run half recorded")
        second = _start(tmp_path, up.base_url)
        outputs: List[str] = [_finish(first), _finish(second)]
        # only one of them recorded: the other waited for the finished cassette and replayed it
        assert len(up.requests.filter(path="/v1/chat/completions")) == 2, outputs
    lines = cassette.read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line)["request"]["json"]["messages"][0]["content"] for line in lines]
    assert questions == ["first", "second"]
    assert sorted(p.name for p in cassette.parent.iterdir()) == ["shared.jsonl"]  # no lock, no scratch file
    # and the next run replays it with no upstream at all
    env = {k: v for k, v in os.environ.items() if not k.startswith("MESHAPI_")}
    again = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0, again.stdout + again.stderr


_HOLD = """
import sys
from pathlib import Path
from meshapi._testing_cassette import CassetteLock

lock = CassetteLock.acquire(Path(sys.argv[1]), "tests/test_app.py::test_records")
print("held", flush=True)
sys.stdin.readline()
"""


def _holder(cassette: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(cassette)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdout.readline() == "held\n"
    return process


def _lock_file(cassette: Path) -> Dict[str, object]:
    data: Dict[str, object] = json.loads(cassette.with_name(cassette.name + ".lock").read_text())
    return data


def test_a_lock_held_by_a_live_test_times_out_naming_the_cassette_and_the_test(tmp_path: Path) -> None:
    cassette = tmp_path / "c.jsonl"
    holder = _holder(cassette)
    try:
        with pytest.raises(CassetteBusyError) as caught:
            CassetteLock.acquire(cassette, "tests/test_app.py::test_waits", timeout=0.3, interval=0.05)
        assert str(caught.value) == (
            f"cassette {cassette} is being recorded by test tests/test_app.py::test_records "
            f"(pid {holder.pid}); gave up after waiting 0.3 s"
        )
        assert _lock_file(cassette) == {"pid": holder.pid, "test": "tests/test_app.py::test_records"}
    finally:
        holder.communicate("\n", timeout=30)
    # its holder is gone: the lock is free at once
    lock = CassetteLock.acquire(cassette, "tests/test_app.py::test_waits", timeout=0)
    assert _lock_file(cassette) == {"pid": os.getpid(), "test": "tests/test_app.py::test_waits"}
    lock.release()
    assert not cassette.with_name("c.jsonl.lock").exists()


def test_a_stale_lock_of_a_process_gone_is_taken_over(tmp_path: Path) -> None:
    cassette = tmp_path / "c.jsonl"
    holder = _holder(cassette)
    holder.kill()  # dies holding it: the file stays, naming a process that no longer exists
    holder.communicate(timeout=30)
    assert _lock_file(cassette) == {"pid": holder.pid, "test": "tests/test_app.py::test_records"}
    lock = CassetteLock.acquire(cassette, "tests/test_app.py::test_next", timeout=0)
    assert _lock_file(cassette) == {"pid": os.getpid(), "test": "tests/test_app.py::test_next"}
    with pytest.raises(CassetteBusyError, match=r"by test tests/test_app.py::test_next \(pid \d+\)"):
        CassetteLock.acquire(cassette, "tests/test_app.py::test_other", timeout=0)
    lock.release()
