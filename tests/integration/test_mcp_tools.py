"""MCP servers as tool sets: the example stdio server (examples/mcp_tools.py) listed, called through a tool
run (chat and Responses) against the local gateway (sync and async), its errors and result kinds mapped,
its lifetime tied to ``with`` or to the run, ``.mcp.json`` read; without the ``mcp`` package, an error
naming the extra."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

from meshapi import AsyncMeshAPI, MeshAPI
from tests._poll import wait_until

SERVER = str(Path(__file__).resolve().parents[2] / "examples" / "mcp_tools.py")
QUESTION = [{"role": "user", "content": "What is the weather in Paris?"}]


def test_without_the_mcp_package_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from meshapi.mcp import MCPToolset

    monkeypatch.setitem(sys.modules, "mcp", None)
    with pytest.raises(ImportError, match=r"pip install 'meshapi\[mcp\]'"):
        MCPToolset.from_stdio(sys.executable, args=[SERVER, "serve"])


mcp = pytest.importorskip("mcp")

from meshapi.mcp import MCPToolError, MCPToolset, result_text  # noqa: E402


@pytest.fixture(scope="module")
def toolset() -> Iterator[MCPToolset]:
    with MCPToolset.from_stdio(sys.executable, args=[SERVER, "serve"], name="notes") as opened:
        yield opened


def test_the_servers_tools_are_listed_with_its_name_as_prefix(toolset: MCPToolset) -> None:
    specs = {tool.name: dict(tool)["function"] for tool in toolset.tools}
    assert sorted(specs) == ["notes_get_weather", "notes_shout"]
    weather = specs["notes_get_weather"]
    assert weather["description"] == "Current weather for a city."
    assert weather["parameters"]["properties"]["city"]["type"] == "string"
    assert weather["parameters"]["required"] == ["city"]
    assert len(toolset) == 2 and toolset["notes_shout"](text="hey") == "HEY"  # a mapping of its tools


def test_a_run_calls_the_mcp_tool(client: MeshAPI, gateway: Any, toolset: MCPToolset) -> None:
    since = len(gateway.requests)
    run = client.chat.completions.run_tools(model="gpt-4o-mini", messages=QUESTION, tools=[toolset])
    final = run.until_done()
    assert [(r.name, r.content, r.is_error) for r in run.tool_results] == [
        ("notes_get_weather", "Paris: rain, 9 C", False)
    ]
    sent = [r.json for r in list(gateway.requests)[since:]]
    assert sent[1]["messages"][-1]["content"] == "Paris: rain, 9 C"
    assert final.choices[0].finish_reason == "stop"


def test_a_responses_run_calls_the_mcp_tool(client: MeshAPI, gateway: Any, toolset: MCPToolset) -> None:
    since = len(gateway.requests)
    run = client.responses.run_tools(
        model="gpt-4o-mini", input="What is the weather in Paris?", tools=[toolset]
    )
    final = run.until_done()
    assert [(r.name, r.content, r.is_error) for r in run.tool_results] == [
        ("notes_get_weather", "Paris: rain, 9 C", False)
    ]
    sent = [r.json for r in list(gateway.requests)[since:] if r.path == "/v1/responses"]
    assert [t["name"] for t in sent[0]["tools"]] == ["notes_get_weather", "notes_shout"]
    assert sent[0]["tools"][0]["type"] == "function"
    (output_item,) = [item for item in sent[1]["input"] if item.get("type") == "function_call_output"]
    assert output_item["output"] == "Paris: rain, 9 C" and final.status == "completed"


def test_an_mcp_error_result_goes_back_as_the_error_text(
    client: MeshAPI, gateway: Any, toolset: MCPToolset
) -> None:
    script = [{"tool_calls": [{"name": "notes_shout", "arguments": {"text": ""}}]}, {"content": "ok"}]
    gateway.replies.add([{"match": "^shout nothing$", "turns": script}])
    try:
        run = client.chat.completions.run_tools(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "shout nothing"}], tools=[toolset]
        )
        run.until_done()
    finally:
        gateway.replies.reset()
    (result,) = run.tool_results
    assert (result.is_error, result.content) == (
        True,
        "Error: MCPToolError: Error executing tool shout: nothing to shout",
    )


async def test_an_async_run_starts_and_stops_the_server_itself(async_client: AsyncMeshAPI) -> None:
    toolset = MCPToolset.from_stdio(sys.executable, args=[SERVER, "serve"], name="notes")
    run = async_client.chat.completions.run_tools(model="gpt-4o-mini", messages=QUESTION, tools=[toolset])
    assert [tool.name for tool in toolset.tools] == ["notes_get_weather", "notes_shout"]  # started by the run
    await run.until_done()
    assert [r.content for r in run.tool_results] == ["Paris: rain, 9 C"]
    assert toolset.tools == []  # stopped when the run ended


def test_a_config_file_names_the_servers(tmp_path: Path) -> None:
    config = tmp_path / ".mcp.json"
    config.write_text(
        json.dumps({"mcpServers": {"weather-desk": {"command": sys.executable, "args": [SERVER, "serve"]}}})
    )
    with MCPToolset.from_config(config) as toolset:
        assert [tool.name for tool in toolset.tools] == ["weather-desk_get_weather", "weather-desk_shout"]
        assert toolset.tools[1](text="hi") == "HI"
    with pytest.raises(Exception, match="not an MCP config"):
        MCPToolset.from_config(tmp_path / "missing.json")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_a_server_over_streamable_http(client: MeshAPI) -> None:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, SERVER, "serve", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_until(lambda: _listening(port), timeout=20, what="the MCP server listening")
        toolset = MCPToolset.from_http(f"http://127.0.0.1:{port}/mcp", headers={"X-Team": "docs"}, name="web")
        with toolset:
            assert list(toolset) == ["web_get_weather", "web_shout"]
            run = client.chat.completions.run_tools(model="gpt-4o-mini", messages=QUESTION, tools=[toolset])
            run.until_done()
            assert [r.content for r in run.tool_results] == ["Paris: rain, 9 C"]
        assert len(toolset) == 0
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_result_kinds_become_tool_message_text() -> None:
    from mcp import types

    result = types.CallToolResult(
        content=[
            types.TextContent(type="text", text="first"),
            types.ImageContent(type="image", data="aGVsbG8=", mime_type="image/png"),
            types.EmbeddedResource(
                type="resource",
                resource=types.TextResourceContents(
                    uri="file:///a.txt", text="inside", mime_type="text/plain"
                ),
            ),
            types.EmbeddedResource(
                type="resource",
                resource=types.BlobResourceContents(
                    uri="file:///b.bin", blob="AAAA", mime_type="application/zip"
                ),
            ),
            types.ResourceLink(type="resource_link", uri="https://example.com/doc", name="doc"),
        ]
    )
    assert result_text(result) == (
        "first\n[image: image/png, 5 bytes]\ninside\n[resource file:///b.bin: application/zip]\n"
        "https://example.com/doc"
    )
    assert result_text(types.CallToolResult(content=[], structured_content={"n": 1})) == '{"n": 1}'
    with pytest.raises(MCPToolError, match=r"^boom$"):
        result_text(
            types.CallToolResult(content=[types.TextContent(type="text", text="boom")], is_error=True)
        )
