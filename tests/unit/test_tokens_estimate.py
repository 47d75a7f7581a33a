"""``client.tokens.estimate`` without the network (sync and async): the heuristic's exact counts (words,
long words, punctuation, message framing, media parts, tool calls, tools, a response format as a dict or
a pydantic class), argument checks; tiktoken used only when its encoding file is in its cache with the
published hash (cache directory rules as tiktoken's; a missing, altered or disabled cache means the
heuristic, and nothing is fetched)."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import socket
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from meshapi import AsyncMeshAPI, InvalidParamsError, MeshAPI, TokenEstimate
from meshapi._core.tokens import count_text, prompt_tokens
from meshapi._tiktoken import ENCODINGS, cache_dir, cached_file, encoding_name, text_counter
from tests.conftest import resolve

HAS_TIKTOKEN = importlib.util.find_spec("tiktoken") is not None


class Place(BaseModel):
    city: str


@pytest.fixture
async def client(mode: str) -> Any:
    made: Any = MeshAPI if mode == "sync" else AsyncMeshAPI
    made = made(base_url="http://127.0.0.1:9", token="rsk_unit_test_token")
    yield made
    await resolve(made.close())


def test_count_text_rules() -> None:
    assert count_text("") == 0
    assert count_text("Hello, world!") == 4  # two words, two marks
    assert count_text("abcdef abcdefg") == 1 + 2  # a word past six characters: one token per six
    assert count_text("Pneumonoultramicroscopicsilicovolcanoconiosis") == 8  # 45 characters
    assert count_text("x = [i ** 2]") == 8 and count_text("  \n\t ") == 0


async def test_the_heuristic_counts_every_part_of_a_request(client: Any) -> None:
    messages = [
        {"role": "system", "content": "Be brief."},  # 3 + 3
        {"role": "user", "content": [{"type": "text", "text": "What is this?"},
                                     {"type": "image_url", "image_url": {"url": "data:,"}}]},  # 3 + 4 + 85
        {"role": "assistant", "content": None,
         "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
    ]  # fmt: skip
    call = count_text(json.dumps({"name": "f", "arguments": "{}"}))
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
    found = await resolve(client.tokens.estimate(model="anthropic/claude-haiku-4.5", messages=messages))
    assert found == TokenEstimate(
        model="anthropic/claude-haiku-4.5",
        prompt_tokens=3 + 6 + 92 + 3 + call,
        exact=False,
        encoding="heuristic",
    )
    with_tools = await resolve(
        client.tokens.estimate(
            model="anthropic/claude-haiku-4.5", messages=messages, tools=[tool], response_format=Place
        )
    )
    schema = json.dumps(Place.model_json_schema())
    assert with_tools.prompt_tokens == found.prompt_tokens + count_text(json.dumps([tool])) + count_text(
        schema
    )
    assert prompt_tokens([{"role": "user", "content": "hi"}], response_format={"type": "json_object"}) == (
        3 + 3 + 1 + count_text('{"type": "json_object"}'))  # fmt: skip


async def test_arguments_are_checked(client: Any) -> None:
    with pytest.raises(InvalidParamsError, match="model must be a non-empty string"):
        await resolve(client.tokens.estimate(model="", messages=[]))
    with pytest.raises(InvalidParamsError, match="messages must be a list"):
        await resolve(client.tokens.estimate(model="m", messages="hello"))


def test_the_cache_directory_follows_tiktoken() -> None:
    assert cache_dir({"TIKTOKEN_CACHE_DIR": "/a", "DATA_GYM_CACHE_DIR": "/b"}) == "/a"
    assert cache_dir({"DATA_GYM_CACHE_DIR": "/b"}) == "/b"
    assert cache_dir({"TIKTOKEN_CACHE_DIR": ""}) is None  # tiktoken's cache off: it would always download
    assert cache_dir({}).endswith("data-gym-cache")  # type: ignore[union-attr]


def test_an_encoding_file_counts_only_when_cached_with_its_hash(tmp_path: Path) -> None:
    url = "https://example.invalid/encodings/tiny.tiktoken"
    data = b"aGk= 0\n"
    path = tmp_path / hashlib.sha1(url.encode()).hexdigest()
    assert cached_file(url, hashlib.sha256(data).hexdigest(), str(tmp_path)) is None  # not there
    path.write_bytes(data)
    assert cached_file(url, hashlib.sha256(data).hexdigest(), str(tmp_path)) == str(path)
    assert cached_file(url, hashlib.sha256(b"other").hexdigest(), str(tmp_path)) is None  # altered
    assert cached_file(url, hashlib.sha256(data).hexdigest(), None) is None  # cache off
    assert set(ENCODINGS) == {"o200k_base", "cl100k_base", "p50k_base", "r50k_base"}


def test_only_openai_models_tiktoken_knows_get_an_encoding() -> None:
    assert encoding_name("anthropic/claude-haiku-4.5") is None
    assert encoding_name("openai/not-a-model") is None
    assert encoding_name("openai/gpt-4o-mini") == ("o200k_base" if HAS_TIKTOKEN else None)
    assert encoding_name("gpt-4") == ("cl100k_base" if HAS_TIKTOKEN else None)


async def test_without_a_cached_encoding_nothing_is_fetched(
    client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    opened = []
    real = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> Any:
        opened.append(address)
        return real(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    found = await resolve(
        client.tokens.estimate(model="openai/gpt-4o", messages=[{"role": "user", "content": "hi"}])
    )
    assert (found.exact, found.encoding, found.prompt_tokens) == (False, "heuristic", 7)
    assert text_counter("openai/gpt-4o") is None and opened == [] and list(tmp_path.iterdir()) == []
