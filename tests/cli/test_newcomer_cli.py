"""What a newcomer trips on in the CLI: line editing in `chat -i`, image and video file names that say
what the file is, help on every positional, `demo --help` honest, `models search --sort price`."""

from __future__ import annotations

import argparse
import builtins
import json
import sys
import types
import typing
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Tuple

import pytest

from meshapi.cli import _chat, _demo
from meshapi.cli._media import video_container
from meshapi.cli._models import SORTS
from meshapi.cli._parser import build_parser
from meshapi.types.models import ModelSearchParams

from .conftest import Result

Run = Callable[..., Result]
CHAT_MODEL = "openai/gpt-4o-mini"


def _leaves(parser: argparse.ArgumentParser, path: Tuple[str, ...] = ()) -> Iterator[Any]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _leaves(child, (*path, name))


# --- help ---------------------------------------------------------------------------------------------


def test_every_positional_of_every_command_has_help() -> None:
    positionals = [
        (" ".join(path), action.dest, (action.help or "").strip())
        for path, parser in _leaves(build_parser())
        for action in parser._actions
        if not action.option_strings and not isinstance(action, argparse._SubParsersAction)
    ]
    assert len(positionals) > 20  # the walk reaches the leaves
    assert [(command, dest) for command, dest, text in positionals if not text] == []


# --- models search --sort -----------------------------------------------------------------------------


def test_models_search_sort_offers_every_key_of_the_api_price_included(gw: Any, run: Run) -> None:
    (sort_type,) = [
        a for a in typing.get_args(ModelSearchParams.model_fields["sort"].annotation) if a is not type(None)
    ]
    assert list(typing.get_args(sort_type)) == SORTS
    parser = dict(_leaves(build_parser()))[("models", "search")]
    (sort,) = [a for a in parser._actions if a.dest == "sort"]
    assert list(sort.choices or []) == SORTS and "price" in SORTS

    result = run("models", "search", "--sort", "price", "--output-modality", "text", "--json")
    assert result.code == 0, result.err
    items = json.loads(result.out)["items"]
    prices = [
        float(item["pricing"].get("completion_usd_per_1m") or 0) for item in items
    ]  # null: not per token
    assert len(prices) > 3 and prices == sorted(prices)
    assert gw.requests.filter(path="/v1/models/search")[-1].query["sort"] == "price"


def test_sort_price_without_one_output_modality_is_refused_before_calling(gw: Any, run: Run) -> None:
    before = len(gw.requests.filter(path="/v1/models/search"))
    result = run("models", "search", "--sort", "price")
    assert result.code == 2
    assert result.err_lines == [
        "meshapi: --sort price compares one kind of price: give exactly one --output-modality "
        "(text, image or video)"
    ]
    assert len(gw.requests.filter(path="/v1/models/search")) == before


# --- images: PNG names only, refused before any call --------------------------------------------------


@pytest.mark.parametrize("name", ["out.jpg", "out.JPEG", "out.webp", "out.gif", "out"])
def test_images_generate_refuses_a_name_that_is_not_png_before_calling(
    gw: Any, run: Run, tmp_path: Path, name: str
) -> None:
    before = len(gw.requests.filter(path="/v1/images/generations"))
    target = tmp_path / name
    result = run("images", "generate", "a fox", "-o", str(target))
    assert result.code == 2
    stem = name.split(".")[0]
    assert result.err_lines == [
        f"meshapi: -o {target}: the gateway returns PNG images and meshapi does not convert them; "
        f"name the file .png (e.g. {stem}.png)"
    ]
    assert len(gw.requests.filter(path="/v1/images/generations")) == before
    assert list(tmp_path.iterdir()) == []


def test_images_edit_refuses_a_jpeg_name_before_calling(gw: Any, run: Run, tmp_path: Path) -> None:
    source = tmp_path / "in.png"
    assert run("images", "generate", "a fox", "-o", str(source)).code == 0
    before = len(gw.requests.filter(path="/v1/images/edits"))
    result = run("images", "edit", str(source), "-p", "add a hat", "-o", str(tmp_path / "hat.jpg"))
    assert result.code == 2
    assert "the gateway returns PNG images" in result.err_lines[0] and "(e.g. hat.png)" in result.err
    assert len(gw.requests.filter(path="/v1/images/edits")) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.png"]


# --- videos: the file's extension is its container's ---------------------------------------------------


def test_video_container_is_read_from_the_first_bytes() -> None:
    assert video_container(b"RIFF\x00\x01\x00\x00AVI LIST") == "AVI"
    assert video_container(b"\x00\x00\x00\x18ftypmp42") == "MP4"
    assert video_container(b"\x1a\x45\xdf\xa3\x01\x00\x00\x00") == "WebM"
    assert video_container(b"RIFF\x00\x01\x00\x00WAVEfmt ") is None
    assert video_container(b"") is None


def test_videos_generate_never_writes_avi_under_an_mp4_name(gw: Any, run: Run, tmp_path: Path) -> None:
    asked = tmp_path / "boat.mp4"
    result = run(
        "videos", "generate", "A paper boat", "--duration", "2", "-o", str(asked), "--interval", "0.05"
    )
    assert result.code == 0, result.err
    saved = tmp_path / "boat.avi"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["boat.avi"]
    assert saved.read_bytes()[:4] == b"RIFF" and saved.read_bytes()[8:12] == b"AVI "
    assert "meshapi: the video is AVI: saved as boat.avi (not boat.mp4)" in result.err_lines
    assert f"wrote {saved} ({saved.stat().st_size:,} bytes)" in result.out.splitlines()


# --- chat -i: readline line editing and an opt-in history file -----------------------------------------


class FakeReadline(types.ModuleType):
    """What `chat -i` asks of `readline` (the real one would touch the terminal)."""

    def __init__(self) -> None:
        super().__init__("readline")
        self.calls: List[Tuple[str, Any]] = []

    def set_history_length(self, length: int) -> None:
        self.calls.append(("set_history_length", length))

    def read_history_file(self, path: str) -> None:
        self.calls.append(("read_history_file", path))

    def write_history_file(self, path: str) -> None:
        self.calls.append(("write_history_file", path))
        Path(path).write_text("hello\n")


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> List[Any]:
    """stdin/stdout are a terminal; ``input()`` answers from the list (an exception is raised)."""
    answers: List[Any] = []

    def fake_input(prompt: str = "") -> str:
        sys.stdout.write(prompt)
        answer = answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return str(answer)

    monkeypatch.setattr(_chat, "is_tty", lambda stream: True)
    monkeypatch.setattr(builtins, "input", fake_input)
    return answers


def test_chat_interactive_loads_readline_and_keeps_no_file_unless_asked(
    gw: Any, run: Run, terminal: List[Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake = FakeReadline()
    monkeypatch.setitem(sys.modules, "readline", fake)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    terminal.extend(["/model", EOFError()])
    result = run("chat", "-i")
    assert result.code == 0, result.err
    assert fake.calls == [("set_history_length", 1000)]
    assert list(tmp_path.iterdir()) == []


def test_chat_history_file_is_read_then_written_owner_only(
    gw: Any, run: Run, terminal: List[Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake = FakeReadline()
    monkeypatch.setitem(sys.modules, "readline", fake)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    expected = tmp_path / "state" / "meshapi" / "chat_history"
    terminal.extend(["/model", EOFError()])
    assert run("chat", "-i", "--history").code == 0
    assert fake.calls == [("set_history_length", 1000), ("write_history_file", str(expected))]
    assert expected.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "state" / "meshapi").stat().st_mode & 0o777 == 0o700

    own = tmp_path / "mine.txt"
    own.write_text("earlier\n")
    fake.calls.clear()
    terminal.extend(["/model", EOFError()])
    assert run("chat", "-i", "--history", str(own)).code == 0
    assert fake.calls == [
        ("set_history_length", 1000),
        ("read_history_file", str(own)),
        ("write_history_file", str(own)),
    ]


def test_history_path_defaults_follow_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    assert _chat.history_path("") == tmp_path / ".local" / "state" / "meshapi" / "chat_history"
    monkeypatch.setenv("XDG_STATE_HOME", "relative/ignored")
    assert _chat.history_path("") == tmp_path / ".local" / "state" / "meshapi" / "chat_history"
    assert _chat.history_path("~/h") == tmp_path / "h"


def test_chat_interactive_works_without_readline(
    gw: Any, run: Run, terminal: List[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "readline", None)  # `import readline` raises ImportError
    terminal.extend(["/model", EOFError()])
    result = run("chat", "-i", "--history")
    assert result.code == 0, result.err
    assert result.err_lines[-1] == f"model: {CHAT_MODEL}"


def test_history_needs_interactive(run: Run, gw: Any) -> None:
    result = run("chat", "hello", "--history", "h.txt")
    assert result.code == 2
    assert result.err_lines == ["meshapi: --history keeps the prompts of -i/--interactive: give -i too"]


# --- demo --help: every option it shows is honoured ----------------------------------------------------


def _probe(monkeypatch: pytest.MonkeyPatch, seen: Dict[str, Any]) -> None:
    def probe(tour: Any) -> None:
        seen.update(base_url=tour.client.base_url, timeout=tour.client.config.timeout)
        seen.update(max_retries=tour.client.config.max_retries, local=tour.gateway is not None)
        seen.update(api_version=tour.client.config.api_version)

    steps = [("Probe", "what the tour's client was built with", probe), _demo.STEPS[-1]]
    monkeypatch.setattr(_demo, "STEPS", steps)


def test_demo_help_advertises_only_options_the_demo_honours(
    gw: Any, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: Dict[str, Any] = {}
    _probe(monkeypatch, seen)

    def timeout() -> None:
        assert run("demo", "--timeout", "7.5").code == 0 and seen["timeout"] == 7.5

    def max_retries() -> None:
        result = run("demo", "--max-retries", "0")
        assert result.code == 0, result.err
        assert seen["max_retries"] == 0
        assert (
            "with --max-retries 0 the client did not retry: RateLimitError (status 429) after 1 attempt"
            in (result.out)
        )

    def json_output() -> None:
        result = run("demo", "--json")
        assert result.code == 0 and [s["title"] for s in json.loads(result.out)["steps"]] == [
            "Probe",
            "Retries",
        ]

    def base_url() -> None:
        assert run("demo", "--base-url", gw.base_url).code == 0
        assert seen["local"] is False and str(seen["base_url"]).startswith(gw.base_url)

    def api_version() -> None:
        assert run("demo", "--api-version", "2026-09").code == 0 and seen["api_version"] == "2026-09"
        assert run("demo", "--api-version", "none").code == 0 and seen["api_version"] is None

    def token() -> None:
        monkeypatch.delenv("MESHAPI_BASE_URL")
        assert run("demo", "--token", "rsk_the_local_one").code == 0 and seen["local"] is True

    checks = {
        "--timeout": timeout,
        "--max-retries": max_retries,
        "--json": json_output,
        "--base-url": base_url,
        "--api-version": api_version,
        "--token": token,
        "--help": lambda: None,
    }
    parser = dict(_leaves(build_parser()))[("demo",)]
    advertised = {
        option
        for action in parser._actions
        if action.help != argparse.SUPPRESS
        for option in action.option_strings
        if option.startswith("--")
    }
    assert advertised == set(checks)
    for check in checks.values():
        check()
