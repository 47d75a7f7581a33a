"""The soak at CI size (a few seconds); ``python -m tests.faults.soak --full`` runs the full size."""

from __future__ import annotations

from typing import Any

import pytest

from tests.faults.soak import SMALL, run_soak


@pytest.mark.parametrize("soak_mode", ["sync", "async"])
def test_soak_small(gateway: Any, soak_mode: str) -> None:
    report = run_soak(gateway, soak_mode, SMALL)
    assert report.problems() == [], report.summary()
    assert report.ok >= SMALL.calls + SMALL.streams - SMALL.injected_drops
