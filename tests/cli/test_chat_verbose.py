"""``meshapi chat --verbose``: the stats line on stderr, with the request id and a cache-hit marker."""

from __future__ import annotations

import re
from typing import Any, Callable

from .conftest import Result

Run = Callable[..., Result]
STATS = re.compile(
    r"^\[openai/gpt-4o-mini · \d+ prompt \+ \d+ completion tokens · \$[0-9.]+ · request (req_[0-9A-Za-z]+)(.*)\]$"
)


def test_verbose_marks_a_cache_hit(gw: Any, run: Run) -> None:
    gw.state.response_cache.clear()
    prompt = "Tell me about lighthouses, verbosely"
    first = run("chat", prompt, "--verbose")
    assert first.code == 0, first.err
    (line,) = first.err_lines
    miss = STATS.match(line)
    assert miss is not None, line
    assert miss.group(2) == ""  # a miss: no marker
    again = run("chat", prompt, "-v")
    assert again.code == 0, again.err
    assert again.out == first.out
    (line,) = again.err_lines
    hit = STATS.match(line)
    assert hit is not None, line
    assert hit.group(2) == " · cache hit" and hit.group(1) != miss.group(1)
    assert "$0 ·" in line  # a hit is not billed
    assert run("chat", prompt).err == ""  # without --verbose (and no terminal): no stats line


def test_verbose_in_a_conversation(gw: Any, run: Run) -> None:
    gw.state.response_cache.clear()
    result = run("chat", "-i", "-v", stdin="Hello there\nHello there\n/exit\n")
    assert result.code == 0, result.err
    stats = [line for line in result.err_lines if line.startswith("[openai/")]
    assert len(stats) == 2 and not stats[0].endswith("cache hit]")
    assert not stats[1].endswith("cache hit]")  # the second turn has a longer history: another key
