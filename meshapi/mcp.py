"""``meshapi.mcp``: MCP servers as tool sets for ``run_tools`` (extra ``mcp``, the official ``mcp`` package).

Why this exists: an MCP server already describes its tools (name, description, JSON schema) and runs
them; :class:`MCPToolset` turns each of its tools into a :class:`~meshapi.lib.tool_schema.FunctionTool`
(named ``{server}_{tool}`` so two servers never clash), so ``tools=[toolset]`` works in
``chat.completions.run_tools`` and ``responses.run_tools``, sync or async.

The MCP client is asyncio-only and its sessions must be entered and left by the same task, so a toolset
keeps them on an event loop of its own, in a daemon thread: one task per server holds its session open
until :meth:`MCPToolset.close`. A tool call is submitted to that loop and waited for, which is the same
for the sync and the async runner. The servers start with ``with toolset:`` (closed at its end), or on
the first run that uses the toolset (then closed when that run ends).

Results: text parts are joined; an image (or audio) part becomes ``[image: <mime type>, <n> bytes]``;
an embedded text resource its text, a binary one ``[resource <uri>: <mime type>]``, a resource link its
URI; a result with only structured content is its JSON. A result the server marks as an error raises
:class:`MCPToolError`, which the runner sends back as the call's error text.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence

from ._errors import ConfigurationError
from .lib.tool_schema import FunctionTool

__all__ = ["MCPToolError", "MCPToolset", "result_text"]

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


class MCPToolError(Exception):
    """An MCP server answered a tool call with an error result (the text is the server's)."""


def _require_mcp() -> Any:
    try:
        import mcp
    except ImportError as exc:
        raise ImportError(
            "meshapi.mcp needs the official MCP SDK: pip install 'meshapi[mcp]' (Python 3.10 or later)"
        ) from exc
    return mcp


def _size(data: str) -> int:
    try:
        return len(base64.b64decode(data, validate=False))
    except (binascii.Error, ValueError):
        return len(data)


def result_text(result: Any) -> str:
    """An MCP ``CallToolResult`` as the text of a tool message; ``MCPToolError`` when it is an error."""
    parts: List[str] = []
    for block in getattr(result, "content", None) or []:
        kind = getattr(block, "type", None)
        if kind == "text":
            parts.append(block.text)
        elif kind in ("image", "audio"):
            parts.append(f"[{kind}: {block.mime_type}, {_size(block.data)} bytes]")
        elif kind == "resource":
            resource = block.resource
            text = getattr(resource, "text", None)
            parts.append(
                text if isinstance(text, str) else f"[resource {resource.uri}: {resource.mime_type}]"
            )
        elif kind == "resource_link":
            parts.append(str(block.uri))
    if not parts and getattr(result, "structured_content", None) is not None:
        parts.append(json.dumps(result.structured_content, ensure_ascii=False))
    text = "\n".join(parts)
    if getattr(result, "is_error", False):
        raise MCPToolError(text or "the MCP server reported an error")
    return text


@dataclass
class _Server:
    name: str
    command: Optional[str] = None
    args: List[str] = field(default_factory=list)
    env: Optional[Dict[str, str]] = None
    cwd: Optional[str] = None
    url: Optional[str] = None
    headers: Dict[str, str] = field(default_factory=dict)

    async def connect(self, stack: contextlib.AsyncExitStack) -> Any:
        """The transport's (read, write) streams, closed with ``stack`` (its HTTP client too)."""
        if self.url is not None:
            import httpx2  # the mcp package's HTTP client
            from mcp.client.streamable_http import streamable_http_client

            http = await stack.enter_async_context(httpx2.AsyncClient(headers=self.headers))
            return await stack.enter_async_context(streamable_http_client(self.url, http_client=http))
        from mcp import StdioServerParameters, stdio_client

        assert self.command is not None
        params = StdioServerParameters(command=self.command, args=self.args, env=self.env, cwd=self.cwd)
        return await stack.enter_async_context(stdio_client(params))


def _prefixed(server: str, tool: str) -> str:
    return _UNSAFE.sub("_", f"{server}_{tool}")[:64]


class MCPToolset(Mapping[str, FunctionTool]):
    """One or more MCP servers whose tools a runner can call (``tools=[toolset]``).

    Build it with :meth:`from_stdio`, :meth:`from_http` or :meth:`from_config`; ``with toolset:`` starts
    the servers and stops them at the end (without it, the run that uses it does both). It is a
    read-only mapping of its tools by name (empty while the servers are not running), which is also
    what lets ``tools=[toolset]`` type-check where ``tools=`` takes mappings.
    """

    def __init__(self, servers: Sequence[_Server]) -> None:
        _require_mcp()
        names = [s.name for s in servers]
        if len(set(names)) != len(names) or not servers:
            raise ConfigurationError(f"MCP servers need distinct names, got {names}")
        self._servers = list(servers)
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None
        self._stop: Optional[asyncio.Event] = None
        self._holders: List[Any] = []
        self._sessions: Dict[str, Any] = {}
        self._tools: List[FunctionTool] = []
        self._opened_by_run = False

    @classmethod
    def from_stdio(
        cls,
        command: str,
        args: Optional[Sequence[str]] = None,
        env: Optional[Mapping[str, str]] = None,
        *,
        name: Optional[str] = None,
        cwd: Optional[str] = None,
    ) -> MCPToolset:
        """A server run as a subprocess speaking MCP on stdin/stdout (``name``: the tools' prefix)."""
        args = list(args or [])
        default = Path(args[-1] if args else command).stem or "mcp"
        return cls([_Server(name or default, command, args, dict(env) if env else None, cwd)])

    @classmethod
    def from_http(
        cls, url: str, headers: Optional[Mapping[str, str]] = None, *, name: Optional[str] = None
    ) -> MCPToolset:
        """A server reached over MCP's streamable HTTP transport."""
        return cls([_Server(name or "mcp", url=url, headers=dict(headers or {}))])

    @classmethod
    def from_config(cls, path: Any) -> MCPToolset:
        """Every server of an ``.mcp.json`` file (``{"mcpServers": {name: {command, args, env} | {url, headers}}}``)."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            entries = data["mcpServers"]
            servers = []
            for name, entry in entries.items():
                if "url" in entry:
                    servers.append(
                        _Server(name, url=str(entry["url"]), headers=dict(entry.get("headers") or {}))
                    )
                else:
                    env = {str(k): str(v) for k, v in (entry.get("env") or {}).items()} or None
                    args = [str(a) for a in entry.get("args") or []]
                    servers.append(_Server(name, str(entry["command"]), args, env, entry.get("cwd")))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigurationError(f"{path}: not an MCP config ({type(exc).__name__}: {exc})") from None
        return cls(servers)

    def __getitem__(self, name: str) -> FunctionTool:
        for tool in self._tools:
            if tool.name == name:
                return tool
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter([tool.name for tool in self._tools])

    def __len__(self) -> int:
        return len(self._tools)

    def __repr__(self) -> str:
        return f"MCPToolset(servers={[s.name for s in self._servers]!r}, tools={list(self)!r})"

    # --- lifetime --------------------------------------------------------------------------------------
    def __enter__(self) -> MCPToolset:
        self.open()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    @property
    def tools(self) -> List[FunctionTool]:
        """The servers' tools (empty before the toolset is open)."""
        return list(self._tools)

    def open(self) -> None:
        """Start every server and list its tools (nothing happens when already open)."""
        if self._loop is not None:
            return
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, daemon=True, name="meshapi-mcp")
        self._thread.start()
        try:
            listed = asyncio.run_coroutine_threadsafe(self._start(), loop).result()
        except BaseException:
            self.close()
            raise
        self._tools = [self._tool(server, item) for server, items in listed for item in items]

    def close(self) -> None:
        """Stop every server (nothing happens when already closed)."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._finish(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
        self._loop = self._thread = None
        self._sessions.clear()
        self._tools = []
        self._opened_by_run = False

    def tools_for_runner(self) -> List[FunctionTool]:
        """What a run offers: the tools (the servers started for this run when not open yet)."""
        if self._loop is None:
            self.open()
            self._opened_by_run = True
        return self.tools

    def release_for_runner(self) -> None:
        """The run that started the servers is over: stop them."""
        if self._opened_by_run:
            self.close()

    # --- on the toolset's loop ---------------------------------------------------------------------------
    async def _start(self) -> List[Any]:
        self._stop = asyncio.Event()
        listed = []
        for server in self._servers:
            ready: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            self._holders.append(asyncio.ensure_future(self._hold(server, ready)))
            listed.append((server, await ready))
        return listed

    async def _hold(self, server: _Server, ready: asyncio.Future[Any]) -> None:
        from mcp import ClientSession

        assert self._stop is not None
        try:
            async with contextlib.AsyncExitStack() as stack:
                read, write = await server.connect(stack)
                session = await stack.enter_async_context(ClientSession(read, write))
                await session.initialize()
                tools: List[Any] = []
                cursor = None
                while True:
                    page = await session.list_tools(params=_page(cursor))
                    tools.extend(page.tools)
                    cursor = page.next_cursor
                    if not cursor:
                        break
                self._sessions[server.name] = session
                ready.set_result(tools)
                await self._stop.wait()
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(exc if isinstance(exc, Exception) else RuntimeError(repr(exc)))
            if not isinstance(exc, Exception):
                raise

    async def _finish(self) -> None:
        if self._stop is not None:
            self._stop.set()
        await asyncio.gather(*self._holders, return_exceptions=True)
        self._holders = []

    def _tool(self, server: _Server, item: Any) -> FunctionTool:
        def call(**arguments: Any) -> str:
            loop, session = self._loop, self._sessions.get(server.name)
            if loop is None or session is None:
                raise MCPToolError(f"the MCP server {server.name!r} is not running")
            result = asyncio.run_coroutine_threadsafe(session.call_tool(item.name, arguments), loop).result()
            return result_text(result)

        schema = dict(item.input_schema or {"type": "object", "properties": {}})
        function: Dict[str, Any] = {"name": _prefixed(server.name, item.name)}
        if item.description:
            function["description"] = item.description
        function["parameters"] = schema
        call.__name__ = function["name"]
        return FunctionTool(call, {"type": "function", "function": function})


def _page(cursor: Optional[str]) -> Any:
    if cursor is None:
        return None
    from mcp import types

    return types.PaginatedRequestParams(cursor=cursor)
