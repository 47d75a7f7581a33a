"""``mypy --strict`` types ``with_raw_response`` / ``with_streaming_response`` as the methods they wrap:
right calls pass; a misspelled method, sub-resource or keyword, a wrong type or a missing ``await`` fail.

Runs mypy on ``typing_cases/raw_calls.py``: the reported lines must be exactly those marked ``# wrong``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mypy")

CASES = Path(__file__).parent / "typing_cases" / "raw_calls.py"
ROOT = Path(__file__).parents[2]


def test_mypy_rejects_exactly_the_wrong_calls() -> None:
    lines = CASES.read_text().splitlines()
    wrong = {number for number, line in enumerate(lines, 1) if line.rstrip().endswith("# wrong")}
    assert len(wrong) == 16
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "--show-error-codes", str(CASES)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    reported = {int(match.group(1)) for match in re.finditer(r"raw_calls\.py:(\d+): error", out.stdout)}
    assert reported == wrong, out.stdout + out.stderr
