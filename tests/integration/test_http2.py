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

from meshapi import AsyncMeshAPI, ConfigurationError, MeshAPI
from meshapi._transport.fork import ssl_context

from ..conftest import resolve
from .conftest import FAST, TOKEN

MESSAGES = [{"role": "user", "content": "Say hello over HTTP/2."}]
MODEL = "openai/gpt-4o-mini"


@pytest.fixture(scope="module")
def tls_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tuple[Any, Any]]:
    """(server, app): the gateway app behind hypercorn on https://127.0.0.1:<port>, HTTP/2 and HTTP/1.1."""
    pytest.importorskip("h2")
    pytest.importorskip("hypercorn")
    pytest.importorskip("cryptography")  # the self-signed certificate
    from meshapi_gateway.http.app import create_app
    from meshapi_gateway.http.tls import self_signed, serve_tls

    cert, key = self_signed(str(tmp_path_factory.mktemp("tls")))
    before = os.environ.get("SSL_CERT_FILE")
    os.environ["SSL_CERT_FILE"] = cert  # the SDK's shared TLS context (one per value) trusts it
    app = create_app(tokens=[TOKEN])
    try:
        with serve_tls(app, cert, key) as server:
            yield server, app
    finally:
        app.state.gateway.close()
        if before is None:
            del os.environ["SSL_CERT_FILE"]
        else:
            os.environ["SSL_CERT_FILE"] = before


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
    with MeshAPI(base_url="https://127.0.0.1:9", token=TOKEN, http2=True) as client:
        pool = client._http._client._transport._pool
        assert pool._http2 is True
        # its own TLS context: httpcore sets the ALPN protocols (h2 or not) on the context at each connect
        assert pool._ssl_context is ssl_context(http2=True)
        assert pool._ssl_context is not ssl_context()
        assert client.with_options(timeout=3.0).config.http2 is True
        with pytest.raises(ConfigurationError, match="does not accept http2"):
            client.with_options(http2=False)  # a copy shares the pool
