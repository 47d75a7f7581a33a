"""The new commands against the local gateway (real sockets): what they write is what the gateway made."""

from __future__ import annotations

import json
import pathlib
from typing import Any, Callable

import pytest

from .conftest import Result

pytest.importorskip(
    "meshapi_gateway.routes.videos", reason="the local gateway does not serve these families yet"
)

Run = Callable[..., Result]


def test_say_then_transcribe_round_trips(gw: Any, run: Run, tmp_path: pathlib.Path) -> None:
    out = tmp_path / "shipped.wav"
    said = run("audio", "say", "Your order has shipped.", "-o", str(out))
    assert said.code == 0, said.err
    assert out.read_bytes()[:4] == b"RIFF"
    heard = run("audio", "transcribe", str(out))
    assert heard.code == 0, heard.err
    assert heard.out == "Your order has shipped.\n"
    voices = run("audio", "voices", "--limit", "2", "--json")
    assert voices.code == 0 and len(json.loads(voices.out)["voices"]) == 2


def test_videos_generate_wait_and_save(gw: Any, run: Run, tmp_path: pathlib.Path) -> None:
    out = tmp_path / "boat.avi"
    result = run(
        "videos",
        "generate",
        "A paper boat",
        "--duration",
        "2",
        "-o",
        str(out),
        "--interval",
        "0.05",
        "--json",
    )
    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert document["status"] == "succeeded" and document["bytes"] == out.stat().st_size > 1000


def test_discovery_commands(gw: Any, run: Run, tmp_path: pathlib.Path) -> None:
    flagged = run("moderate", "I will hurt you", "--json")
    assert flagged.code == 0 and json.loads(flagged.out)["results"][0]["flagged"] is True
    found = run("search", "latest stable Python release", "--answer", "--json")
    assert found.code == 0 and json.loads(found.out)["results"]
    routed = run("route", "Write a haiku about rain")
    assert routed.code == 0 and routed.out.strip()
    assert run("models", "get", routed.out.strip()).code == 0
    page = json.loads(run("models", "search", "gpt", "--limit", "2", "--json").out)
    assert len(page["items"]) == 2
    missing = run("models", "get", "nosuch/model")
    assert missing.code == 1 and len(missing.err_lines) == 1


def test_images_edit_against_the_gateway(gw: Any, run: Run, tmp_path: pathlib.Path) -> None:
    source, out = tmp_path / "fox.png", tmp_path / "fox-moon.png"
    assert run("images", "generate", "a fox", "-o", str(source), "--size", "256x256").code == 0
    result = run("images", "edit", str(source), "-p", "add a moon", "-o", str(out))
    assert result.code == 0, result.err
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.read_bytes() != source.read_bytes()
