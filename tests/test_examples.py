"""Every script in examples/ runs to completion against the local gateway."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

pytest.importorskip("starlette")

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.py"))


@pytest.fixture(scope="module")
def gateway() -> Iterator[Any]:
    from meshapi_gateway import serve

    with serve(tokens=["rsk_examples_token"]) as gw:
        yield gw


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(script: Path, gateway: Any, tmp_path: Path) -> None:
    if script.stem.startswith("realtime"):
        pytest.importorskip("websockets")
    if script.stem.startswith("mcp"):
        pytest.importorskip("mcp")  # the mcp extra (Python 3.10+)
    env = {**os.environ, "MESHAPI_BASE_URL": gateway.base_url, "MESHAPI_TOKEN": gateway.token}
    result = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"{script.name} failed:\n{result.stdout}\n{result.stderr}"
    assert result.stdout.strip(), f"{script.name} printed nothing"
    assert gateway.token not in result.stdout + result.stderr
