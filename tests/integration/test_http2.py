"""``http2=True``: chat calls and streams over HTTP/2 on the SDK's own pool (real sockets, TLS).

The local gateway's app runs behind hypercorn over TLS (HTTP/2 is negotiated with ALPN, over TLS only)
with a self-signed certificate the SDK trusts through ``SSL_CERT_FILE``. Sync and async: the calls say
``HTTP/2``, many calls (64 at once on the async client) share one connection, a response closed before
its end is reset so the next calls on that connection still get their answers, and a missing ``h2`` is
a ``ConfigurationError`` naming the extra, raised when the client is made.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any, AsyncIterator, Iterator, List, Tuple

import httpx
import pytest

from meshapi import APIConnectionError, AsyncMeshAPI, ConfigurationError, MeshAPI
from meshapi._transport.fork import ssl_context

from ..conftest import resolve
from .conftest import FAST, TOKEN

MESSAGES = [{"role": "user", "content": "Say hello over HTTP/2."}]
MODEL = "openai/gpt-4o-mini"


@pytest.fixture
async def h2_client(mode: str, tls_gateway: Tuple[Any, Any]) -> AsyncIterator[Any]:
    server, app = tls_gateway
    options: Any = {"base_url": server.base_url, "token": TOKEN, "http2": True, "timeout": 5.0, **FAST}
    if mode == "sync":
        with MeshAPI(**options) as c:
            yield c
    else:
        async with AsyncMeshAPI(**options) as c:
            yield c
    app.state.gateway.faults.clear()


def _pool(client: Any) -> Any:
    return client._http._client._transport._pool


def _connections(client: Any) -> List[Tuple[str, int]]:
    """(protocol, requests sent) of each connection of the client's pool, from httpcore's ``info()``
    (``"'https://127.0.0.1:<port>', HTTP/2, IDLE, Request Count: 3"``)."""
    seen = []
    for connection in _pool(client).connections:
        parts = connection.info().split(", ")
        seen.append((parts[1], int(parts[-1].rsplit(" ", 1)[1])))
    return seen


async def test_chat_calls_and_streams_speak_http2(mode: str, h2_client: Any, tls_gateway: Any) -> None:
    raw = await resolve(h2_client.chat.completions.with_raw_response.create(model=MODEL, messages=MESSAGES))
    assert raw.http_response.http_version == "HTTP/2"
    completion = raw.parse()
    with MeshAPI(base_url=tls_gateway[0].base_url, token=TOKEN) as plain:  # the same answer over HTTP/1.1
        http1 = plain.chat.completions.with_raw_response.create(model=MODEL, messages=MESSAGES)
        assert http1.http_response.http_version == "HTTP/1.1"
        expected = http1.parse().choices[0].message.content
    assert completion.choices[0].message.content == expected

    stream = h2_client.chat.completions.stream(model=MODEL, messages=MESSAGES)
    if mode == "sync":
        with stream:
            text = "".join(stream.text_stream)
    else:
        async with stream:
            text = "".join([piece async for piece in stream.text_stream])
    assert stream.response.http_version == "HTTP/2"
    assert text == expected
    assert _connections(h2_client) == [("HTTP/2", 2)]


async def test_many_calls_share_one_connection(mode: str, h2_client: Any) -> None:
    if mode == "sync":
        answers = [h2_client.chat.completions.create(model=MODEL, messages=MESSAGES) for _ in range(20)]
    else:  # 64 at once: one connection, 64 streams on it
        calls = [h2_client.chat.completions.create(model=MODEL, messages=MESSAGES) for _ in range(64)]
        answers = await asyncio.gather(*calls)
    assert len({answer.choices[0].message.content for answer in answers}) == 1
    assert _connections(h2_client) == [("HTTP/2", len(answers))]
    copy = h2_client.with_options(timeout=4.0)  # a copy sends through the same pool
    await resolve(copy.chat.completions.create(model=MODEL, messages=MESSAGES))
    assert _connections(h2_client) == [("HTTP/2", len(answers) + 1)]


async def test_a_response_closed_before_its_end_leaves_the_connection_working(
    mode: str, h2_client: Any, tls_gateway: Any
) -> None:
    first = await resolve(h2_client.chat.completions.create(model=MODEL, messages=MESSAGES))
    expected = first.choices[0].message.content
    # 40 MB not read: unless the stream is reset, what the server sends of it fills the connection's
    # receive window (16 MiB) and the next calls on that connection time out.
    tls_gateway[1].state.gateway.faults.add("/v1/chat/completions", huge_body_bytes=40_000_000, times=2)
    for _ in range(2):
        view = h2_client.chat.completions.with_streaming_response.create(model=MODEL, messages=MESSAGES)
        if mode == "sync":
            with view as response:
                assert response.http_response.http_version == "HTTP/2"
        else:
            async with view as response:
                assert response.http_response.http_version == "HTTP/2"
    stream = await resolve(h2_client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True))
    if mode == "sync":  # a chat stream left after its first chunk
        next(iter(stream))
        stream.close()
    else:
        await stream.__aiter__().__anext__()
        await stream.close()
    for _ in range(3):
        answer = await resolve(h2_client.chat.completions.create(model=MODEL, messages=MESSAGES))
        assert answer.choices[0].message.content == expected
    assert _connections(h2_client) == [("HTTP/2", 7)]


def test_without_h2_the_client_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "h2", None)  # ``import h2`` raises ImportError
    for make in (MeshAPI, AsyncMeshAPI):
        with pytest.raises(ConfigurationError, match=r"pip install 'meshapi\[http2\]'"):
            make(base_url="https://127.0.0.1:9", token=TOKEN, http2=True)
    MeshAPI(base_url="https://127.0.0.1:9", token=TOKEN).close()  # HTTP/1.1 needs no h2


def test_http2_is_for_the_sdks_own_httpx_pool() -> None:
    pytest.importorskip("h2")
    mine = httpx.Client()
    with mine, pytest.raises(ConfigurationError, match="http2 applies to the pool the SDK builds"):
        MeshAPI(base_url="https://127.0.0.1:9", token=TOKEN, http_client=mine, http2=True)
    with pytest.raises(ConfigurationError, match="http2=True needs httpx's own transport"):
        AsyncMeshAPI(base_url="https://127.0.0.1:9", token=TOKEN, http_transport="aiohttp", http2=True)
    with pytest.raises(ConfigurationError, match="http2 must be True or False"):
        MeshAPI(base_url="https://127.0.0.1:9", token=TOKEN, http2="yes")  # type: ignore[arg-type]
    with MeshAPI(base_url="https://127.0.0.1:9", token=TOKEN, http2=True, max_retries=0) as client:
        pool = client._http._client._transport._pool
        assert pool._http2 is True
        with pytest.raises(APIConnectionError):  # nothing listens: the first request loads its context
            client.models.list()
        # its own TLS context: httpcore sets the ALPN protocols (h2 or not) on the context at each connect
        assert pool._ssl_context is ssl_context(http2=True)
        assert pool._ssl_context is not ssl_context()
        assert client.with_options(timeout=3.0).config.http2 is True
        with pytest.raises(ConfigurationError, match="does not accept http2"):
            client.with_options(http2=False)  # a copy shares the pool


CHUNK = {
    "id": "chatcmpl-h2",
    "object": "chat.completion.chunk",
    "created": 1,
    "model": MODEL,
    "choices": [{"index": 0, "delta": {"content": "Hello"}, "finish_reason": None}],
}
#: what the server sends after ``data: [DONE]`` in the same TLS record: a 15 kB comment (flow-controlled)
TRAILER = b": " + b"x" * 15_000 + b"\n\n"


class _OneWriteServer:
    """HTTP/2 over TLS (the ``h2`` package on a plain socket, one thread per connection) that writes each
    response in one piece, as proxies coalescing frames do: HEADERS, a chat chunk, ``data: [DONE]`` and a
    comment after it, in one TLS record; END_STREAM on the comment's frame for even requests, in a second
    write for odd ones (the client stops reading before it). Nothing is sent beyond the flow-control
    window the client has granted: a response that does not fit waits for a WINDOW_UPDATE."""

    def __init__(self, cert: str, key: str) -> None:
        import socket
        import ssl
        import threading

        self._ssl = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._ssl.load_cert_chain(cert, key)
        self._ssl.set_alpn_protocols(["h2"])
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.base_url = f"https://127.0.0.1:{self._sock.getsockname()[1]}"
        self.connections = 0
        self._stopped = threading.Event()
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def _accept(self) -> None:
        import socket
        import threading

        while not self._stopped.is_set():
            try:
                raw, _ = self._sock.accept()
            except socket.timeout:
                continue
            self.connections += 1
            thread = threading.Thread(target=self._serve, args=(raw,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, raw: Any) -> None:
        import h2.config
        import h2.connection
        import h2.events

        raw.settimeout(0.2)
        with self._ssl.wrap_socket(raw, server_side=True) as tls:
            conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
            conn.initiate_connection()
            tls.sendall(conn.data_to_send())
            waiting: List[int] = []  # requests read whose response has not been sent
            while not self._stopped.is_set():
                try:
                    data = tls.recv(65536)
                except OSError:  # the read timeout: look at the stop flag
                    continue
                if not data:
                    return
                for event in conn.receive_data(data):
                    if isinstance(event, h2.events.DataReceived):
                        conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                    elif isinstance(event, h2.events.StreamEnded):
                        waiting.append(event.stream_id)
                waiting = [stream_id for stream_id in waiting if not self._respond(conn, stream_id, tls)]

    def _respond(self, conn: Any, stream_id: int, tls: Any) -> bool:
        """Send the response of ``stream_id`` if the client's window has room for it (True), else nothing."""
        import json

        event = b"data: " + json.dumps(CHUNK).encode() + b"\n\n"
        if conn.local_flow_control_window(stream_id) < len(event) + 14 + len(TRAILER):
            return False  # the client's window is spent: the response waits for a WINDOW_UPDATE
        conn.send_headers(stream_id, [(":status", "200"), ("content-type", "text/event-stream")])
        conn.send_data(stream_id, event)
        conn.send_data(stream_id, b"data: [DONE]\n\n")
        even = stream_id % 4 == 1  # client stream ids: 1, 3, 5, ...
        conn.send_data(stream_id, TRAILER, end_stream=even)
        tls.sendall(conn.data_to_send())
        if not even:
            conn.end_stream(stream_id)
            tls.sendall(conn.data_to_send())
        return True

    def close(self) -> None:
        self._stopped.set()
        for thread in self._threads:
            thread.join(5.0)
        self._sock.close()


@pytest.fixture(scope="module")
def one_write_server(tls_gateway: Any) -> Iterator[Any]:
    cert = os.environ["SSL_CERT_FILE"]  # tls_gateway's certificate (the one the SDK trusts), key beside it
    server = _OneWriteServer(cert, os.path.join(os.path.dirname(cert), "key.pem"))
    try:
        yield server
    finally:
        server.close()


async def test_bytes_after_done_leave_the_connection_window_whole(mode: str, one_write_server: Any) -> None:
    # Each stream leaves 15 kB after [DONE] that the SDK does not read, already received with the end
    # marker; unless given back when the stream closes, they stay counted against the connection's receive
    # window (16 MiB): around the 1,120th stream the server could send nothing more on that connection.
    options: Any = {"base_url": one_write_server.base_url, "token": TOKEN, "http2": True, "timeout": 2.0}
    calls = 1_300
    if mode == "sync":
        with MeshAPI(**options, max_retries=0) as client:
            for _ in range(calls):
                with client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True) as stream:
                    assert [chunk.choices[0].delta.content for chunk in stream] == ["Hello"]
            seen = _connections(client)
    else:
        async with AsyncMeshAPI(**options, max_retries=0) as aclient:
            for _ in range(calls):
                astream = await aclient.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
                async with astream:
                    assert [chunk.choices[0].delta.content async for chunk in astream] == ["Hello"]
            seen = _connections(aclient)
    assert seen == [("HTTP/2", calls)]


@pytest.mark.parametrize("warmed_before", [False, True], ids=["first-client", "after-an-http1-warm-up"])
def test_the_warm_up_builds_the_http2_tls_context_off_the_loop(
    monkeypatch: pytest.MonkeyPatch, tls_gateway: Tuple[Any, Any], warmed_before: bool
) -> None:
    # AsyncMeshAPI(http2=True)'s pool uses a TLS context of its own (ssl_context(http2=True)); the warm-up
    # the constructor starts loads it (and not the HTTP/1.1 one, which that client's pools never use), so
    # the first call does not (~20 ms in one loop step). Also when an HTTP/1.1 client's warm-up has
    # already ended in this process.
    import ssl
    import threading

    from meshapi import _warmup
    from meshapi._transport import fork

    _warmup.wait()  # a warm-up an earlier test started: over before the count starts
    made: List[str] = []
    real = ssl.create_default_context

    def counted(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        made.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(fork, "_ssl_contexts", {})  # as in a fresh process: no context loaded yet
    monkeypatch.setattr(_warmup, "_thread", None)
    monkeypatch.setattr(_warmup, "_done", False)
    monkeypatch.setattr(_warmup, "_tls_wanted", set())  # no https client made yet
    if warmed_before:  # an HTTP/1.1 https client's warm-up, run to its end
        _warmup.start(http2=False, tls=True)
        _warmup.wait()
        assert len(fork._ssl_contexts) == 1 and fork.ssl_ready()
    monkeypatch.setattr(ssl, "create_default_context", counted)

    async def first_call() -> str:
        async with AsyncMeshAPI(base_url=tls_gateway[0].base_url, token=TOKEN, http2=True) as client:
            raw = await client.chat.completions.with_raw_response.create(model=MODEL, messages=MESSAGES)
            assert client._http._client._transport._pool._ssl_context is fork.ssl_context(http2=True)
        return str(raw.http_response.http_version)

    assert asyncio.run(first_call()) == "HTTP/2"
    _warmup.wait()  # ended before the module state is put back
    assert threading.current_thread().name not in made  # the loop's thread loaded no CA bundle
    assert made == [_warmup.THREAD_NAME]  # HTTP/2's context, in the warm-up thread, once
    assert not fork.ssl_ready() or warmed_before  # the HTTP/1.1 one only if an HTTP/1.1 client wanted it
