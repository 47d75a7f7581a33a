"""The CA bundle of the SDK's own pools is loaded by their first ``https`` request, not by the constructor.

Loading it is most of what ``httpx.Client()`` costs (about a fifth of a cold start), and a client of a
gateway on ``http://`` (the local one) never needs it. What must hold: ``AsyncMeshAPI``'s warm-up thread
loads it only for a client of an ``https`` gateway (also when an ``http://`` client's warm-up has ended);
then, with no warm-up thread, a plain-HTTP client never loads it; the first
``https`` request of a pool loads the one context the SDK shares (once for all pools; HTTP/2 pools
their own); a pool that somehow kept what it holds before that refuses the handshake instead of
connecting with it; a CA file that cannot be loaded is a ``ConfigurationError`` for that request; and a
client with proxies in its environment (whose transports are httpx's) gets the context at once.
"""

from __future__ import annotations

import ssl
import threading
from typing import Any, List, Tuple

import pytest

from meshapi import APIConnectionError, AsyncMeshAPI, ConfigurationError, MeshAPI, _warmup
from meshapi._transport import fork

from ..conftest import resolve
from .conftest import FAST, TOKEN

MESSAGES = [{"role": "user", "content": "hi"}]
MODEL = "openai/gpt-4o-mini"
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> List[str]:
    """The names of the threads that load a CA bundle from now on, in a process with none loaded yet."""
    for name in PROXY_VARIABLES:  # a proxy in the environment gets the context at once (see the last test)
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    _warmup.wait()  # a warm-up an earlier test started: over before the count starts
    monkeypatch.setattr(_warmup, "_done", True)  # nothing left to warm up, and no client wants a context
    monkeypatch.setattr(_warmup, "_tls_wanted", set())
    made: List[str] = []
    real = ssl.create_default_context

    def counted(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        made.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(ssl, "create_default_context", counted)
    monkeypatch.setattr(fork, "_ssl_contexts", {})
    return made


def _pool(client: Any) -> Any:
    return client._http._client._transport._pool


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_client_of_a_plain_http_gateway_loads_no_ca_bundle(
    mode: str, gateway: Any, loads: List[str]
) -> None:
    cls: Any = MeshAPI if mode == "sync" else AsyncMeshAPI
    client = cls(base_url=gateway.base_url, token=gateway.token, **FAST)
    try:
        reply = await resolve(client.chat.completions.create(model=MODEL, messages=MESSAGES))
        assert reply.choices[0].message.content
        stream = await resolve(client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True))
        chunks = [chunk async for chunk in stream] if mode == "async" else list(stream)
        assert chunks
        assert loads == []
        assert "_meshapi_tls_later" in _pool(client).__dict__  # still waiting for a TLS connection
    finally:
        await resolve(client.close())


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_the_first_tls_connection_loads_the_shared_context_once(
    mode: str, tls_gateway: Tuple[Any, Any], loads: List[str]
) -> None:
    server, _ = tls_gateway
    cls: Any = MeshAPI if mode == "sync" else AsyncMeshAPI
    clients = [cls(base_url=server.base_url, token=TOKEN, timeout=5.0, **FAST) for _ in range(2)]
    try:
        assert loads == []  # the constructors loaded nothing
        for client in clients:
            call = client.chat.completions.with_raw_response.create(model=MODEL, messages=MESSAGES)
            raw = await resolve(call)
            assert raw.http_response.http_version == "HTTP/1.1" and raw.parse().choices[0].message.content
        # one CA bundle for both pools: loaded by the first request, or, for AsyncMeshAPI (an https
        # client), by the warm-up thread its constructor started, which that request waited for
        loader = threading.current_thread().name if mode == "sync" else _warmup.THREAD_NAME
        assert loads == [loader]
        pools = [_pool(client) for client in clients]
        assert pools[0] is not pools[1]
        assert pools[0]._ssl_context is pools[1]._ssl_context is fork.ssl_context()
        assert all("_meshapi_tls_later" not in pool.__dict__ for pool in pools)
    finally:
        for client in clients:
            await resolve(client.close())


def test_a_pool_still_holding_its_placeholder_refuses_the_handshake(
    tls_gateway: Tuple[Any, Any], loads: List[str]
) -> None:
    # what a pool holds before its first https request: were the load ever skipped, the connection
    # would fail at once, never go out with a context nobody configured
    server, _ = tls_gateway
    with MeshAPI(base_url=server.base_url, token=TOKEN, max_retries=0, timeout=5.0) as client:
        del _pool(client).__dict__["_meshapi_tls_later"]
        assert _pool(client)._ssl_context is fork.unloaded_ssl_context()
        with pytest.raises(APIConnectionError) as caught:
            client.chat.completions.create(model=MODEL, messages=MESSAGES)
    assert "never loaded" in repr(caught.value.__cause__) + repr(caught.value.__context__)
    assert loads == []


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_an_http2_pool_loads_the_http2_context(
    mode: str, tls_gateway: Tuple[Any, Any], loads: List[str]
) -> None:
    # HTTP/2 pools have a context of their own (httpcore sets the ALPN protocols on it at each connect)
    server, _ = tls_gateway
    cls: Any = MeshAPI if mode == "sync" else AsyncMeshAPI
    client = cls(base_url=server.base_url, token=TOKEN, timeout=5.0, http2=True, **FAST)
    try:
        assert _pool(client).__dict__["_meshapi_tls_later"] is True
        raw = await resolve(client.chat.completions.with_raw_response.create(model=MODEL, messages=MESSAGES))
        assert raw.http_response.http_version == "HTTP/2"
        assert _pool(client)._ssl_context is fork.ssl_context(http2=True)
        assert _pool(client)._ssl_context is not fork.ssl_context()
    finally:
        await resolve(client.close())


def test_a_ca_file_that_cannot_be_loaded_is_a_configuration_error_for_the_request(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any, loads: List[str]
) -> None:
    missing = str(tmp_path / "no-such-bundle.pem")
    monkeypatch.setenv("SSL_CERT_FILE", missing)
    with MeshAPI(base_url="https://127.0.0.1:9", token=TOKEN, max_retries=0) as client:  # made: no load
        for _ in range(2):  # the pool keeps waiting for a context it can load: the same error again
            with pytest.raises(ConfigurationError, match="SSL_CERT_FILE") as caught:
                client.models.list()
            assert isinstance(caught.value.__cause__, OSError)
        assert "_meshapi_tls_later" in _pool(client).__dict__
        monkeypatch.delenv("SSL_CERT_FILE")  # mended: the next request loads it (and finds nothing on port 9)
        with pytest.raises(APIConnectionError):
            client.models.list()
        assert _pool(client)._ssl_context is fork.ssl_context()
    assert TOKEN not in str(caught.value)


def test_with_a_proxy_in_the_environment_the_context_is_loaded_at_once(
    monkeypatch: pytest.MonkeyPatch, loads: List[str]
) -> None:
    # the proxy's transport is httpx's, not a pool of ours: nothing would load the context later
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")  # (the fixture has removed the others)
    with MeshAPI(base_url="https://gateway.example.invalid", token=TOKEN) as client:
        mounted = [t for t in client._http._client._mounts.values() if t is not None]
        assert mounted and all(t._pool._ssl_context is fork.ssl_context() for t in mounted)
        assert _pool(client)._ssl_context is fork.ssl_context()
    assert loads == [threading.current_thread().name]


async def test_the_warm_up_loads_the_ca_bundle_only_for_an_https_client(
    monkeypatch: pytest.MonkeyPatch, gateway: Any, loads: List[str]
) -> None:
    monkeypatch.setattr(_warmup, "_thread", None)  # as in a fresh process: no warm-up has run
    monkeypatch.setattr(_warmup, "_done", False)
    with monkeypatch.context() as fresh:  # this process has built the rest: the warm-up runs anyway
        fresh.setattr(_warmup, "is_needed", lambda: True)
        async with AsyncMeshAPI(base_url=gateway.base_url, token=gateway.token, **FAST) as plain:
            await plain.chat.completions.create(model=MODEL, messages=MESSAGES)  # waits for its warm-up
        _warmup.wait()
    assert _warmup._thread is not None and loads == []  # it ran, and loaded no CA bundle
    secure = AsyncMeshAPI(base_url="https://127.0.0.1:9", token=TOKEN, max_retries=0)  # starts one more
    _warmup.wait()
    assert loads == [_warmup.THREAD_NAME]  # off the loop, before any call
    with pytest.raises(APIConnectionError):  # nothing listens there; its pool finds the context loaded
        await secure.models.list()
    assert loads == [_warmup.THREAD_NAME] and _pool(secure)._ssl_context is fork.ssl_context()
    await secure.close()
