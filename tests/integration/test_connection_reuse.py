"""Streams give their connection back after the end marker, within a bound (real sockets).

On the local gateway a second stream on a warm client goes out on the first one's connection, sync and
async. Against a hand-written server that sends ``[DONE]`` and then never ends the body (or sends a
flood after it), the stream still ends within ``DRAIN_SECONDS`` and that connection is not reused.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any, Iterator, List

import pytest

from meshapi import AsyncMeshAPI, MeshAPI
from meshapi._transport.pool import DRAIN_BYTES, DRAIN_SECONDS

from ..conftest import resolve
from .conftest import FAST

MESSAGES = [{"role": "user", "content": "Count to five."}]


def _local_port(stream: Any) -> int:
    return int(stream.response.extensions["network_stream"].get_extra_info("client_addr")[1])


async def test_a_second_stream_reuses_the_first_ones_connection(mode: str, any_client: Any) -> None:
    ports = []
    for _ in range(3):
        stream = any_client.chat.completions.stream(model="openai/gpt-4o-mini", messages=MESSAGES)
        if mode == "sync":
            with stream:
                stream.until_done()
                ports.append(_local_port(stream))
        else:
            async with stream:
                await stream.until_done()
                ports.append(_local_port(stream))
        assert stream.closed
    assert len(set(ports)) == 1, ports


async def test_text_stream_and_a_plain_call_after_it_reuse_the_connection(mode: str, any_client: Any) -> None:
    stream = any_client.chat.completions.stream(model="openai/gpt-4o-mini", messages=MESSAGES)
    if mode == "sync":
        with stream:
            text = "".join(stream.text_stream)
            port = _local_port(stream)
    else:
        async with stream:
            text = "".join([piece async for piece in stream.text_stream])
            port = _local_port(stream)
    assert text
    raw = await resolve(
        any_client.chat.completions.with_raw_response.create(model="openai/gpt-4o-mini", messages=MESSAGES)
    )
    assert raw.http_response.extensions["network_stream"].get_extra_info("client_addr")[1] == port


# --- a server that misbehaves after [DONE] ---------------------------------------------------------------
class AfterDone:
    """HTTP/1.1 on 127.0.0.1 that answers every request with one SSE event and ``[DONE]``, then
    ``tail``: "end" (the chunked terminator), "hang" (nothing, the socket kept open) or "flood"
    (``DRAIN_BYTES`` and more of comments, then the terminator)."""

    def __init__(self, tail: str) -> None:
        self.tail = tail
        self.accepted = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.stop = threading.Event()
        self.threads: List[threading.Thread] = []
        self.conns: List[socket.socket] = []
        self.heads: List[bytes] = []  # every request head received
        self.threads.append(threading.Thread(target=self._accept, daemon=True))
        self.threads[0].start()

    def _accept(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            self.conns.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self.threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        buffer = b""
        try:
            while not self.stop.is_set():
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                self.heads.append(head)
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    ),
                    0,
                )
                while len(buffer) < length:
                    buffer += conn.recv(65536)
                buffer = buffer[length:]
                event = (
                    b'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m",'
                    b'"choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":"stop"}]}\n\n'
                    b"data: [DONE]\n\n"
                )
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
                    + b"%x\r\n%s\r\n" % (len(event), event)
                )
                if self.tail == "hang":
                    self.stop.wait(10)
                    return
                if self.tail == "flood":
                    filler = b": " + b"x" * 8190 + b"\n"
                    for _ in range(DRAIN_BYTES // len(filler) + 4):
                        conn.sendall(b"%x\r\n%s\r\n" % (len(filler), filler))
                conn.sendall(b"0\r\n\r\n")
        except OSError:
            return
        finally:
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.sock.close()
        for thread in self.threads:
            thread.join(timeout=5)


@pytest.fixture
def after_done(request: pytest.FixtureRequest) -> Iterator[AfterDone]:
    server = AfterDone(request.param)
    try:
        yield server
    finally:
        server.close()


async def _two_streams(mode: str, url: str) -> List[float]:
    took = []
    if mode == "sync":
        with MeshAPI(base_url=url, token="rsk_reuse_test", timeout=30, **FAST) as client:
            for _ in range(2):
                began = time.monotonic()
                with client.chat.completions.stream(model="m", messages=MESSAGES) as stream:
                    assert stream.get_final_text() == "hi"
                took.append(time.monotonic() - began)
    else:
        async with AsyncMeshAPI(base_url=url, token="rsk_reuse_test", timeout=30, **FAST) as client:
            for _ in range(2):
                began = time.monotonic()
                async with client.chat.completions.stream(model="m", messages=MESSAGES) as stream:
                    assert await stream.get_final_text() == "hi"
                took.append(time.monotonic() - began)
    return took


@pytest.mark.parametrize("after_done", ["end"], indirect=True)
async def test_a_body_that_ends_after_done_gives_the_connection_back(
    mode: str, after_done: AfterDone
) -> None:
    await _two_streams(mode, after_done.url)
    assert after_done.accepted == 1


@pytest.mark.parametrize("after_done", ["hang", "flood"], indirect=True)
async def test_a_body_that_does_not_end_is_cut_within_the_bound(mode: str, after_done: AfterDone) -> None:
    took = await _two_streams(mode, after_done.url)
    # the read timeout is 30 s: only the drain bound can have ended these streams this soon
    assert max(took) < DRAIN_SECONDS + 2.0, took
    assert after_done.accepted == 2  # the connection was not put back with a body half read


# --- the SDK's own pools skip httpx's client layers; what those layers did still happens ------------------
async def test_a_direct_send_keeps_what_httpx_client_send_did(
    mode: str, any_client: Any, caplog: Any
) -> None:
    import logging

    assert any_client._http._direct is not None  # the SDK made this pool
    with caplog.at_level(logging.INFO, logger="httpx"):
        raw = await resolve(
            any_client.chat.completions.with_raw_response.create(
                model="openai/gpt-4o-mini", messages=MESSAGES
            )
        )
    response = raw.http_response
    assert response.request.url.path == "/v1/chat/completions"
    assert response.elapsed.total_seconds() > 0  # set on close, as httpx does
    assert any("HTTP Request: POST" in record.getMessage() for record in caplog.records)


async def test_a_direct_send_keeps_cookies_and_attaches_the_request_to_errors(mode: str) -> None:
    import httpx

    from meshapi import APIConnectionError

    server = AfterDone("end")
    try:
        if mode == "sync":
            with MeshAPI(base_url=server.url, token="rsk_reuse_test", **FAST) as client:
                assert client._http._direct is not None
                client._http._client.cookies.set("lb", "node-2")
                client.chat.completions.stream(model="m", messages=MESSAGES).get_final_text()
        else:
            async with AsyncMeshAPI(base_url=server.url, token="rsk_reuse_test", **FAST) as client:
                assert client._http._direct is not None
                client._http._client.cookies.set("lb", "node-2")
                await client.chat.completions.stream(model="m", messages=MESSAGES).get_final_text()
    finally:
        server.close()
    assert b"cookie: lb=node-2" in b"\n".join(server.heads).lower()
    closed = MeshAPI(base_url="http://127.0.0.1:9", token="t", max_retries=0)
    try:
        with pytest.raises(APIConnectionError) as info:
            closed.models.list()
        cause = info.value.__cause__
        assert isinstance(cause, httpx.RequestError) and cause.request.url.port == 9
    finally:
        closed.close()


def test_your_own_httpx_client_keeps_every_layer() -> None:
    import httpx

    from meshapi import APIConnectionError

    seen: List[str] = []
    mine = httpx.Client(event_hooks={"request": [lambda request: seen.append(request.url.path)]})
    with mine, MeshAPI(base_url="http://127.0.0.1:9", token="t", httpx_client=mine, max_retries=0) as client:
        assert client._http._direct is None
        with pytest.raises(APIConnectionError):
            client.models.list()
    assert seen == ["/v1/models"]


def test_after_a_fork_the_inherited_sockets_of_our_pool_are_closed(gateway: Any) -> None:
    from meshapi._transport import fork as _fork

    with MeshAPI(base_url=gateway.base_url, token=gateway.token, **FAST) as client:
        client.models.list()
        pool = client._http._client._transport._pool
        streams = [c._connection._network_stream for c in pool.connections]
        assert streams and all(hasattr(s, "_inner") for s in streams)  # wrapped by meshapi._transport.pool
        _fork.close_inherited(client._http._client)  # what the child does with the parent's pool
        assert all(s._inner._sock.fileno() == -1 for s in streams)
