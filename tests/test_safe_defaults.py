"""Safe by default: exporting MESHAPI_BASE_URL / MESHAPI_TOKEN changes nothing for the test suites.

A sentinel socket stands in for a real (billed) gateway; the suites run in a subprocess with the
ordinary variables pointing at it and must pass without a single connection to it. Only the dedicated
livetest variables send the livetests to another gateway.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict

import pytest

pytest.importorskip("starlette")

ROOT = Path(__file__).resolve().parent.parent


def _pytest(env: Dict[str, str], *paths: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MESHAPI_")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-x", "-p", "no:cacheprovider", *paths],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=240,
    )


def test_exported_settings_do_not_reach_the_suites(sentinel: Any) -> None:
    exported = {
        "MESHAPI_BASE_URL": sentinel.url,
        "MESHAPI_TOKEN": "rsk_pretend_this_is_a_real_key",
        "MESHAPI_API_KEY": "rsk_pretend_this_is_another_real_key",
    }
    result = _pytest(
        exported, "livetests/test_models.py", "livetests/test_errors.py", "tests/cli/test_basics.py"
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "livetests: local gateway" in result.stdout
    assert sentinel.connections() == 0


def test_the_livetest_variables_name_the_target() -> None:
    from meshapi_gateway import serve

    with serve(tokens=["rsk_named_target"]) as gw:
        named = {"MESHAPI_LIVETEST_BASE_URL": gw.base_url, "MESHAPI_LIVETEST_TOKEN": "rsk_named_target"}
        result = _pytest(named, "livetests/test_models.py")
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
        assert f"livetests: against {gw.base_url} (billed)" in result.stdout
        assert len(gw.requests.filter(path="/v1/models")) > 0
        missing = _pytest({"MESHAPI_LIVETEST_BASE_URL": gw.base_url}, "livetests/test_models.py")
        assert missing.returncode == 2
        assert (
            "MESHAPI_LIVETEST_BASE_URL is set but MESHAPI_LIVETEST_TOKEN is not"
            in missing.stdout + missing.stderr
        )
