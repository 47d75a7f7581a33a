"""``mypy --strict`` on the files of ``typing_cases/`` (never imported): the lines it reports must be exactly
those marked ``# wrong``, so right calls pass and misspelled or wrongly typed ones fail.

``chat_calls.py``: chat keywords, and a reply's ``message.content`` is ``Optional[str]``, a chunk's ``delta``
never ``None``; ``resource_calls.py``: every other resource's fields and options; ``raw_calls.py``:
``with_raw_response`` / ``with_streaming_response`` typed as the methods they wrap (``RawResponse[R]``,
``StreamedResponse[R]``, async forms, sub-resources, a missing ``await``). One mypy run checks all three.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Dict, Set

import pytest

pytest.importorskip("mypy")

CASES = Path(__file__).parent / "typing_cases"
ROOT = Path(__file__).parents[2]
#: how many lines each file marks ``# wrong`` (a guard against a case file that lost its marks)
EXPECTED_WRONG = {"chat_calls.py": 10, "resource_calls.py": 22, "raw_calls.py": 16}


@pytest.fixture(scope="module")
def reported() -> Dict[str, Set[int]]:
    files = [str(CASES / name) for name in EXPECTED_WRONG]
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "--show-error-codes", *files],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    found: Dict[str, Set[int]] = {name: set() for name in EXPECTED_WRONG}
    for match in re.finditer(r"([a-z_]+\.py):(\d+): error", out.stdout):
        assert match.group(1) in found, out.stdout + out.stderr  # an error outside the case files
        found[match.group(1)].add(int(match.group(2)))
    return found


@pytest.mark.parametrize("name", sorted(EXPECTED_WRONG))
def test_mypy_rejects_exactly_the_wrong_calls(name: str, reported: Dict[str, Set[int]]) -> None:
    lines = (CASES / name).read_text().splitlines()
    wrong = {number for number, line in enumerate(lines, 1) if line.rstrip().endswith("# wrong")}
    assert len(wrong) == EXPECTED_WRONG[name]
    assert reported[name] == wrong
