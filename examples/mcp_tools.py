"""MCP servers as tool sets: this script is a tiny MCP server (stdio) and a tool run that uses it.

Run it with no argument: it starts itself as an MCP server (``python mcp_tools.py serve``) through
``meshapi.mcp.MCPToolset.from_stdio`` and lets the model call the server's tools, named
``notes_get_weather`` and ``notes_shout`` (the server's name is the prefix); ``serve PORT`` serves
MCP's streamable HTTP on 127.0.0.1 instead. Needs ``pip install
"meshapi[mcp]"`` (Python 3.10+).
"""

from __future__ import annotations

import sys


def serve(port: int = 0) -> None:
    """The MCP server: two tools, over stdin/stdout (or streamable HTTP on 127.0.0.1:``port``)."""
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError

    server = MCPServer("notes")

    @server.tool()
    def get_weather(city: str) -> str:
        """Current weather for a city."""
        return f"{city}: rain, 9 C"

    @server.tool()
    def shout(text: str) -> str:
        """The text in capitals; refuses an empty text."""
        if not text:
            raise ToolError("nothing to shout")  # its text reaches the client (a crash's does not)
        return text.upper()

    if port:
        server.run("streamable-http", host="127.0.0.1", port=port)
    else:
        server.run()


def main() -> None:
    from meshapi import MeshAPI
    from meshapi.mcp import MCPToolset

    toolset = MCPToolset.from_stdio(sys.executable, args=[__file__, "serve"], name="notes")
    with MeshAPI() as client, toolset:
        print("tools:", [tool.name for tool in toolset.tools])
        run = client.chat.completions.run_tools(
            model="openai/gpt-4o-mini",
            messages=[{"role": "user", "content": "What is the weather in Paris?"}],
            tools=[toolset],
        )
        final = run.until_done()
        for result in run.tool_results:
            print(f"{result.name} -> {result.content}")
        print(final.choices[0].message.content)


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        serve(int(sys.argv[2]) if len(sys.argv) > 2 else 0)  # `serve PORT`: over HTTP
    else:
        main()
