"""``AiohttpTransport`` against a real socket, and the SDK behaviours that depend on the transport.

A small asyncio HTTP/1.1 server runs in a thread on 127.0.0.1; the ``x-scenario`` request header picks
what it does (answer, stream, fail once, stall, cut the stream, drop the connection). Tests that exercise
the transport through the SDK run on both transports: httpx's own pool and aiohttp.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from typing import Any, AsyncIterator, Dict, Iterator, List, Optional, Tuple

import httpx
import pytest

pytest.importorskip("aiohttp")

import aiohttp

from meshapi import (
    APIConnectionError,
    APITimeoutError,
    AsyncMeshAPI,
    ConfigurationError,
    InternalServerError,
    StreamInterruptedError,
)
from meshapi._transport.aiohttp import AiohttpTransport, map_aiohttp_error
from tests._poll import async_wait_until

TOKEN = "rsk_transport_test_token"
MESSAGES = [{"role": "user", "content": "Hi"}]
COMPLETION = {
    "id": "chatcmpl-t",
    "object": "chat.completion",
    "created": 1,
    "model": "test/model",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello"}, "finish_reason": "stop"}],
}


def _event(text: str) -> bytes:
    chunk = {
        "id": "chatcmpl-t",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "test/model",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}],
    }
    return b"data: " + json.dumps(chunk).encode() + b"\n\n"


def _chunked(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


class ScenarioServer:
    """An HTTP/1.1 keep-alive server in a thread; counts requests and open connections."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.open_connections = 0
        self.requests: List[Tuple[str, Dict[str, str]]] = []
        self.attempts: Dict[str, int] = {}
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._server: Optional[asyncio.AbstractServer] = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._thread.start()
        self._ready.wait(5)
        assert self._server is not None
        self.port: int = self._server.sockets[0].getsockname()[1]
        self.url: str = f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self._server = self.loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self._ready.set()
        self.loop.run_forever()

    def close(self) -> None:
        async def stop() -> None:
            assert self._server is not None
            self._server.close()
            for task in self._handlers:
                task.cancel()
            await asyncio.gather(*self._handlers, return_exceptions=True)
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.open_connections += 1
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                await reader.readexactly(int(headers.get("content-length", "0")))
                self.requests.append((lines[0], headers))
                if not await self._respond(headers, writer):
                    return
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.open_connections -= 1
            self._handlers.discard(task)
            writer.close()

    async def _respond(self, headers: Dict[str, str], writer: asyncio.StreamWriter) -> bool:
        """Answer one request; ``False`` when the connection must be dropped."""
        scenario = headers.get("x-scenario", "ok")
        key = headers.get("idempotency-key", "")
        attempt = self.attempts[key] = self.attempts.get(key, 0) + 1
        if scenario == "503-then-ok" and attempt == 1:
            body = b'{"error": {"code": "unavailable", "message": "busy"}}'
            writer.write(
                b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n"
                b"retry-after: 0\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)
            )
            await writer.drain()
            return True
        if scenario == "drop" or (scenario == "drop-then-ok" and attempt == 1):
            return False
        if scenario == "slow":
            await asyncio.sleep(1.0)
        if scenario.startswith("stream") or scenario in ("cut", "stall"):
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nx-request-id: req_stream\r\n"
                b"transfer-encoding: chunked\r\n\r\n"
            )
            for i in range(3):
                writer.write(_chunked(_event(f"t{i} ")))
            await writer.drain()
            if scenario == "cut":
                writer.transport.abort()
                return False
            if scenario == "stall":
                await asyncio.sleep(1.0)
                return False
            writer.write(_chunked(b"data: [DONE]\n\n") + b"0\r\n\r\n")
            await writer.drain()
            return True
        body = json.dumps(COMPLETION).encode()
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-request-id: req_ok\r\n"
            b"content-length: %d\r\n\r\n%s" % (len(body), body)
        )
        await writer.drain()
        return True


@pytest.fixture(scope="module")
def server() -> Iterator[ScenarioServer]:
    running = ScenarioServer()
    yield running
    running.close()


@pytest.fixture(params=["httpx", "aiohttp"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def make_client(server: ScenarioServer, transport: str) -> AsyncIterator[Any]:
    clients: List[AsyncMeshAPI] = []

    def factory(**kwargs: Any) -> AsyncMeshAPI:
        options: Dict[str, Any] = {
            "base_url": server.url,
            "token": TOKEN,
            "retry_initial_delay": 0.0,
            "retry_max_delay": 0.0,
            "http_transport": transport,
        }
        options.update(kwargs)
        client = AsyncMeshAPI(**options)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        await client.aclose()


def scenario(name: str) -> Dict[str, str]:
    return {"x-scenario": name}


async def wait_for_connections_closed(server: ScenarioServer) -> None:
    await async_wait_until(lambda: server.open_connections == 0, timeout=1.0, what="every connection closed")


# --- SDK behaviours, on both transports ----------------------------------------------------------------
async def test_completion(make_client: Any) -> None:
    client = make_client()
    result = await client.chat.completions.create(model="test/model", messages=MESSAGES)
    assert result.choices[0].message.content == "Hello"
    assert result._request_id == "req_ok"


async def test_stream(make_client: Any) -> None:
    client = make_client()
    async with client.chat.completions.stream(
        model="test/model", messages=MESSAGES, extra_headers=scenario("stream")
    ) as stream:
        texts = [text async for text in stream.text_stream]
        assert stream.request_id == "req_stream"
    assert texts == ["t0 ", "t1 ", "t2 "]
    assert (await stream.get_final_completion()).choices[0].message.content == "t0 t1 t2 "


async def test_retry_on_503_reuses_the_idempotency_key(make_client: Any, server: ScenarioServer) -> None:
    client = make_client()
    before = len(server.requests)
    result = await client.chat.completions.create(
        model="test/model", messages=MESSAGES, extra_headers=scenario("503-then-ok")
    )
    assert result.choices[0].message.content == "Hello"
    sent = server.requests[before:]
    assert len(sent) == 2
    assert sent[0][1]["idempotency-key"] == sent[1][1]["idempotency-key"]


async def test_503_without_retries_is_typed(make_client: Any) -> None:
    client = make_client(max_retries=0)
    with pytest.raises(InternalServerError) as info:
        await client.chat.completions.create(
            model="test/model", messages=MESSAGES, extra_headers=scenario("503-then-ok")
        )
    assert info.value.status == 503


async def test_dropped_connection_is_retried(make_client: Any) -> None:
    client = make_client()
    result = await client.chat.completions.create(
        model="test/model", messages=MESSAGES, extra_headers=scenario("drop-then-ok")
    )
    assert result.choices[0].message.content == "Hello"


async def test_dropped_connection_without_retries(make_client: Any) -> None:
    client = make_client(max_retries=0)
    with pytest.raises(APIConnectionError):
        await client.chat.completions.create(
            model="test/model", messages=MESSAGES, extra_headers=scenario("drop")
        )


async def test_read_timeout(make_client: Any) -> None:
    client = make_client(max_retries=0, timeout=0.2)
    with pytest.raises(APITimeoutError, match="read timeout"):
        await client.chat.completions.create(
            model="test/model", messages=MESSAGES, extra_headers=scenario("slow")
        )


async def test_per_call_timeout(make_client: Any) -> None:
    client = make_client(max_retries=0, timeout=30.0)
    with pytest.raises(APITimeoutError):
        await client.chat.completions.create(
            model="test/model", messages=MESSAGES, extra_headers=scenario("slow"), timeout=0.2
        )


async def test_connection_refused(transport: str) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again below: nothing listens there
    client = AsyncMeshAPI(
        base_url=f"http://127.0.0.1:{port}",
        token=TOKEN,
        max_retries=1,
        retry_initial_delay=0.0,
        retry_max_delay=0.0,
        http_transport=transport,
    )
    try:
        with pytest.raises(APIConnectionError):
            await client.chat.completions.create(model="test/model", messages=MESSAGES)
    finally:
        await client.aclose()


async def test_cut_stream_is_interrupted(make_client: Any) -> None:
    client = make_client()
    received = []
    with pytest.raises(StreamInterruptedError) as info:
        async with client.chat.completions.stream(
            model="test/model", messages=MESSAGES, extra_headers=scenario("cut")
        ) as stream:
            async for text in stream.text_stream:
                received.append(text)
    assert received == ["t0 ", "t1 ", "t2 "]
    assert info.value.request_id == "req_stream"


async def test_stalled_stream_times_out(make_client: Any) -> None:
    client = make_client(timeout=0.2)
    with pytest.raises(StreamInterruptedError, match="read timeout"):
        async with client.chat.completions.stream(
            model="test/model", messages=MESSAGES, extra_headers=scenario("stall")
        ) as stream:
            async for _ in stream:
                pass


async def test_no_connection_left_open(make_client: Any, server: ScenarioServer) -> None:
    client = make_client()
    for _ in range(3):
        await client.chat.completions.create(model="test/model", messages=MESSAGES)
    await client.chat.completions.create(
        model="test/model", messages=MESSAGES, extra_headers=scenario("503-then-ok")
    )
    stream = client.chat.completions.stream(
        model="test/model", messages=MESSAGES, extra_headers=scenario("stream")
    )
    async for _ in stream:
        break  # abandoned half read
    await stream.aclose()
    await asyncio.gather(
        *(client.chat.completions.create(model="test/model", messages=MESSAGES) for _ in range(8))
    )
    await client.aclose()
    await wait_for_connections_closed(server)


# --- the transport itself ---------------------------------------------------------------------------------
async def test_transport_with_a_plain_httpx_client(server: ScenarioServer) -> None:
    transport = AiohttpTransport()
    async with httpx.AsyncClient(transport=transport) as client:
        response = await client.post(server.url + "/v1/chat/completions", json={"a": 1})
        assert response.status_code == 200
        assert response.headers["x-request-id"] == "req_ok"
        assert response.json()["id"] == "chatcmpl-t"
        assert response.http_version == "HTTP/1.1"
        assert response.reason_phrase == "OK"
    assert transport._session is None
    with pytest.raises(RuntimeError):
        await transport.handle_async_request(httpx.Request("GET", server.url))
    await wait_for_connections_closed(server)


async def test_transport_streams_as_data_arrives(server: ScenarioServer) -> None:
    async with httpx.AsyncClient(transport=AiohttpTransport()) as client:
        request = client.build_request(
            "POST", server.url + "/v1/chat/completions", headers=scenario("stream")
        )
        response = await client.send(request, stream=True)
        try:
            lines = [line async for line in response.aiter_lines() if line.startswith("data:")]
        finally:
            await response.aclose()
    assert lines[-1] == "data: [DONE]" and len(lines) == 4


async def test_transport_maps_a_cut_body(server: ScenarioServer) -> None:
    async with httpx.AsyncClient(transport=AiohttpTransport()) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.post(server.url + "/v1/chat/completions", headers=scenario("cut"))


async def test_transport_read_timeout_from_the_request(server: ScenarioServer) -> None:
    async with httpx.AsyncClient(transport=AiohttpTransport(), timeout=0.2) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.post(server.url + "/v1/chat/completions", headers=scenario("slow"))


async def test_transport_pool_timeout(server: ScenarioServer) -> None:
    limits = httpx.Limits(max_connections=1)
    async with httpx.AsyncClient(transport=AiohttpTransport(limits=limits), timeout=5.0) as client:
        request = client.build_request("POST", server.url + "/v1/chat/completions", headers=scenario("stall"))
        held = await client.send(request, stream=True)  # keeps the only connection busy
        try:
            with pytest.raises(httpx.PoolTimeout):
                await client.post(server.url + "/v1/chat/completions", timeout=httpx.Timeout(5.0, pool=0.1))
        finally:
            await held.aclose()


async def test_transport_connect_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with httpx.AsyncClient(transport=AiohttpTransport()) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"http://127.0.0.1:{port}/")


def test_error_mapping_table() -> None:
    request = httpx.Request("GET", "http://127.0.0.1:1/")
    key = aiohttp.client_reqrep.ConnectionKey("127.0.0.1", 1, False, True, None, None, None)
    cases: List[Tuple[BaseException, type, Dict[str, Any]]] = [
        (aiohttp.ConnectionTimeoutError("slow connect"), httpx.ConnectTimeout, {}),
        (aiohttp.ConnectionTimeoutError("no free connection"), httpx.PoolTimeout, {"waited_for_pool": True}),
        (aiohttp.SocketTimeoutError("slow read"), httpx.ReadTimeout, {}),
        (asyncio.TimeoutError(), httpx.ReadTimeout, {}),
        (aiohttp.ClientConnectorError(key, ConnectionRefusedError(111, "refused")), httpx.ConnectError, {}),
        (aiohttp.ServerDisconnectedError(), httpx.RemoteProtocolError, {}),
        (aiohttp.ClientPayloadError("incomplete"), httpx.RemoteProtocolError, {}),
        (aiohttp.InvalidURL("nope://"), httpx.UnsupportedProtocol, {}),
        (aiohttp.ClientOSError(104, "reset"), httpx.ReadError, {}),
        (aiohttp.ClientError("other"), httpx.NetworkError, {}),
    ]
    for exc, expected, kwargs in cases:
        mapped = map_aiohttp_error(exc, request, **kwargs)
        assert type(mapped) is expected, (exc, mapped)
        assert mapped.request is request


def test_missing_aiohttp_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "aiohttp", None)
    with pytest.raises(ImportError, match=r'pip install "meshapi\[aiohttp\]"'):
        AiohttpTransport()


async def test_http_transport_argument_is_checked(server: ScenarioServer) -> None:
    with pytest.raises(ConfigurationError, match="http_transport"):
        AsyncMeshAPI(base_url=server.url, token=TOKEN, http_transport="curl")
    own = httpx.AsyncClient()
    try:
        with pytest.raises(ConfigurationError, match="not both"):
            AsyncMeshAPI(base_url=server.url, token=TOKEN, async_httpx_client=own, http_transport="aiohttp")
    finally:
        await own.aclose()
    custom = AiohttpTransport()
    client = AsyncMeshAPI(base_url=server.url, token=TOKEN, http_transport=custom)
    try:
        result = await client.chat.completions.create(model="test/model", messages=MESSAGES)
        assert result.id == "chatcmpl-t"
    finally:
        await client.aclose()
    assert custom._session is None  # the SDK's client owned it and closed it
