"""``meshapi chat --tools FILE.py``: the file's ``@meshapi.tool`` functions called by the model, each call
and result shown on stderr, the answer on stdout; bad files refused with exit 2; ``-i`` keeps the calls."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from tests.cli.conftest import Result

Run = Callable[..., Result]
ANSWER = "Based on the tool result, Paris in brief. Rain is a careful balance that connects weather."
TOOLS = '''
import meshapi


@meshapi.tool
def get_weather(city: str) -> str:
    """Current weather for a city."""
    return f"{city}: rain, 9 C"


def helper() -> str:  # not a tool: not offered
    return "no"
'''


def _tools_file(tmp_path: Path, text: str = TOOLS) -> str:
    path = tmp_path / "weather_tools.py"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_chat_with_tools_shows_each_call_and_answers(gw: Any, run: Run, tmp_path: Path) -> None:
    before = len(gw.requests.filter(path="/v1/chat/completions"))
    result = run("chat", "--tools", _tools_file(tmp_path), "What is the weather in Paris?")
    assert result.code == 0, result.err
    assert result.out == ANSWER + "\n"
    assert result.err_lines == ['-> get_weather {"city": "Paris"}', "<- get_weather: Paris: rain, 9 C"]
    requests = gw.requests.filter(path="/v1/chat/completions")[before:]
    assert [f["function"]["name"] for f in requests[0].json["tools"]] == ["get_weather"]
    assert requests[1].json["messages"][-1]["content"] == "Paris: rain, 9 C"


def test_chat_with_tools_json_lists_the_results(gw: Any, run: Run, tmp_path: Path) -> None:
    result = run("chat", "--tools", _tools_file(tmp_path), "--json", "What is the weather in Paris?")
    document = json.loads(result.out)
    assert document["choices"][0]["message"]["content"] == ANSWER
    assert document["tool_results"] == [
        {"name": "get_weather", "content": "Paris: rain, 9 C", "is_error": False}
    ]


def test_chat_tools_files_are_checked_before_sending(gw: Any, run: Run, tmp_path: Path) -> None:
    before = len(gw.requests)
    missing = run("chat", "--tools", str(tmp_path / "nope.py"), "hi")
    assert (missing.code, missing.err_lines) == (2, [f"meshapi: no such file: {tmp_path / 'nope.py'}"])
    plain = run("chat", "--tools", _tools_file(tmp_path, "x = 1\n"), "hi")
    assert plain.code == 2
    assert plain.err_lines == [
        f"meshapi: --tools {tmp_path / 'weather_tools.py'}: defines no @meshapi.tool function"
    ]
    broken = run("chat", "--tools", _tools_file(tmp_path, "raise RuntimeError('no config')\n"), "hi")
    assert broken.code == 2
    assert broken.err_lines == [f"meshapi: --tools {tmp_path / 'weather_tools.py'}: RuntimeError: no config"]
    assert len(gw.requests) == before


def test_chat_interactive_with_tools_keeps_the_calls_in_the_history(
    gw: Any, run: Run, tmp_path: Path
) -> None:
    before = len(gw.requests.filter(path="/v1/chat/completions"))
    stdin = "What is the weather in Paris?\nThanks, and tomorrow?\n"
    result = run("chat", "-i", "--tools", _tools_file(tmp_path), stdin=stdin)
    assert result.code == 0, result.err
    requests = gw.requests.filter(path="/v1/chat/completions")[before:]
    last = requests[-1].json["messages"]
    assert [m["role"] for m in last[:5]] == ["user", "assistant", "tool", "assistant", "user"]
    assert last[2]["content"] == "Paris: rain, 9 C"
