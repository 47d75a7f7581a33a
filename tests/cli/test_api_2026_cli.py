"""The CLI side of API 2026-08/09 shapes against the local gateway: ``models providers``, unit prices in
``models get`` (docs/protocol.md §V5, §V6); what is printed is what the gateway's catalogue holds."""

from __future__ import annotations

import json
from typing import Any, Callable, List

from meshapi_gateway.fakes.corpus import DOCUMENTS

from .conftest import Result

Run = Callable[..., Result]


def _cells(line: str) -> List[str]:
    """A table row's cells, plain or drawn with box characters."""
    return line.replace("│", " ").split()


def test_models_providers_table_and_json(gw: Any, run: Run) -> None:
    shown = run("models", "providers", "openai/gpt-5-nano")
    assert shown.code == 0, shown.err
    lines = [line for line in shown.out.splitlines() if "openai" in line or "azure" in line]
    assert len(lines) == 2
    assert _cells(lines[0])[:4] == ["openai", "yes", "available", "yes"]
    assert _cells(lines[1])[:3] == ["azure", "available", "no"]
    assert "$0.05" in lines[0] and "$0.4" in lines[0]
    assert shown.err_lines == ["2 providers of openai/gpt-5-nano"]
    as_json = json.loads(run("models", "providers", "anthropic/claude-haiku-4.5", "--json").out)
    assert [(p["provider"], p.get("max_cache_breakpoints")) for p in as_json["providers"]] == [
        ("anthropic", None),
        ("bedrock", 4),
    ]
    assert gw.requests.filter(path="/v1/models/anthropic/claude-haiku-4.5/providers")
    missing = run("models", "providers", "nope/model")
    assert missing.code == 1 and len(missing.err_lines) == 1 and "not_found" in missing.err


def test_models_get_shows_unit_prices_and_flex(gw: Any, run: Run) -> None:
    speech = run("models", "get", "sarvam/bulbul:v2")
    assert speech.code == 0, speech.err
    assert "input $ (per_1k_chars)  0.018" in speech.out and "$/1M" not in speech.out
    flex = run("models", "get", "openai/o4-mini")
    assert [line.split() for line in flex.out.splitlines() if line.startswith("flex")] == [["flex", "yes"]]
    plain = run("models", "get", "openai/gpt-4o-mini")
    assert not any(line.startswith("flex") for line in plain.out.splitlines())


def test_search_page_content_pins_tinyfish_and_prints_the_page(gw: Any, run: Run) -> None:
    shown = run("search", "python httpx client", "-n", "1", "--page-content")
    assert shown.code == 0, shown.err
    sent = gw.requests.filter(path="/v1/web/search")[-1].json
    assert (sent["provider"], sent["include_page_content"]) == ("tinyfish", True)
    title = "HTTPX: a next-generation HTTP client for Python"
    lines = shown.out.splitlines()
    (doc,) = [d for d in DOCUMENTS if d.title == title]
    start = lines.index(f"   page ({len(title) + 2 + len(doc.content)} characters):")
    assert lines[start + 1 : start + 3] == [f"     {title}", ""]
    assert lines[start + 3].startswith("     HTTPX is a fully featured HTTP client")
    assert shown.err_lines == ["1 result from tinyfish"]
    as_json = json.loads(run("search", "python httpx client", "-n", "1", "--page-content", "--json").out)
    assert as_json["results"][0]["page_content"].startswith(title + "\n\n")
    assert as_json["results"][0]["page_content_truncated"] is False
    plain = run("search", "python httpx client", "-n", "1")
    assert "page (" not in plain.out
    assert "include_page_content" not in gw.requests.filter(path="/v1/web/search")[-1].json
