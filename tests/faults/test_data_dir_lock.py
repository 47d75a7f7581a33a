"""Two gateways on one ``--data-dir``: the second refuses to start, with a message saying why."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.faults.child_gateway import ChildGateway

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")


def test_a_second_gateway_on_the_same_data_dir_refuses_to_start(tmp_path: Path) -> None:
    from meshapi_gateway import DataDirInUseError, serve

    data_dir = str(tmp_path / "data")
    with serve(["rsk_lock_a"], data_dir=data_dir):
        with pytest.raises(DataDirInUseError) as caught:
            serve(["rsk_lock_b"], data_dir=data_dir)
        message = str(caught.value)
        assert data_dir in message and f"pid {os.getpid()}" in message and "--data-dir" in message
    # The lock went with the first gateway: the directory can be used again.
    with serve(["rsk_lock_c"], data_dir=data_dir) as again:
        assert again.state.store.persistent


def test_the_lock_holds_across_processes_and_the_cli_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from meshapi_gateway import DataDirInUseError, main, serve

    data_dir = str(tmp_path / "shared")
    first = ChildGateway(tokens=["rsk_lock_child"], data_dir=data_dir)
    try:
        with pytest.raises(DataDirInUseError, match=f"pid {first.pid}"):
            serve(["rsk_lock_parent"], data_dir=data_dir)
        assert main(["--port", "0", "--data-dir", data_dir]) == 1
        err = capsys.readouterr().err
        assert "already in use by another local gateway" in err and f"pid {first.pid}" in err
        assert first.alive()
    finally:
        first.stop()
    with serve(["rsk_lock_after"], data_dir=data_dir):
        pass


def test_a_stale_lock_file_from_a_dead_process_does_not_block(tmp_path: Path) -> None:
    from meshapi_gateway import serve

    data_dir = tmp_path / "stale"
    data_dir.mkdir()
    (data_dir / "gateway.lock").write_text("999999999")
    with serve(["rsk_lock_stale"], data_dir=str(data_dir)) as gw:
        assert gw.state.store.persistent
        assert (data_dir / "gateway.lock").read_text() == str(os.getpid())
