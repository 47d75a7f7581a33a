"""HTTP/2 beside HTTP/1.1 at 64 concurrent async chat calls, both over TLS, against the local gateway.

The other cases use ``benchmarks/server.py`` (plain HTTP/1.1); HTTP/2 needs TLS (ALPN), so this case
runs against the gateway's own app behind hypercorn (``meshapi_gateway.http.tls``; uvicorn has no
HTTP/2), which offers both protocols on one port with a self-signed certificate. Both protocols go
through TLS and the same server, so the figures compare like with like; the gateway does far more per
request than the benchmark server, so absolute rates are lower than ``async_chat``'s.

``python -m benchmarks.http2`` is that server (it prints ``PORT <n> CERT <file>``, then serves until
SIGTERM / SIGINT or its parent exits); ``http2_chat`` is the case a trial runs (``benchmarks.workloads``),
trusting the certificate through ``SSL_CERT_FILE``. Needs hypercorn and h2 (the dev extra); without them
``python -m benchmarks`` leaves the figure out.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import signal
import sys
import tempfile
import threading
from typing import Any, Dict

from .request import HEADERS, MESSAGES, TOKEN

__all__ = ["available", "http2_chat", "main"]

MODEL = "openai/gpt-4o-mini"  # a model of the gateway's catalog (the benchmark server's is not in it)
BODY = {"model": MODEL, "messages": MESSAGES}


def available() -> bool:
    """Whether this case can run here (hypercorn, h2 and cryptography installed)."""
    return all(importlib.util.find_spec(name) is not None for name in ("hypercorn", "h2", "cryptography"))


async def _http2_chat(variant: str, base: str, size: int) -> Dict[str, Any]:
    from .workloads import _run_concurrent

    url = base + "/v1/chat/completions"
    http2 = variant.endswith("http2")
    if variant.startswith("raw"):  # httpx's defaults, HTTP/2 offered or not
        import httpx

        async with httpx.AsyncClient(http2=http2) as client:

            async def call() -> None:
                response = await client.post(url, json=BODY, headers=HEADERS)
                response.raise_for_status()
                assert response.http_version == ("HTTP/2" if http2 else "HTTP/1.1")
                json.loads(response.content)["choices"][0]["message"]["content"]

            return await _run_concurrent(call, size)
    from meshapi import AsyncMeshAPI

    async with AsyncMeshAPI(base_url=base, token=TOKEN, http2=http2) as mesh:
        create = mesh.chat.completions.create

        async def call_sdk() -> None:
            message = (await create(model=MODEL, messages=MESSAGES)).choices[0].message
            assert message is not None and message.content

        result = await _run_concurrent(call_sdk, size)
        pool = mesh._http._client._transport._pool
        result["connections"] = len(pool.connections)
        return result


def http2_chat(variant: str, base: str, size: int) -> Dict[str, Any]:
    """``raw_http1`` / ``raw_http2`` (httpx by hand) or ``sdk_http1`` / ``sdk_http2`` (``AsyncMeshAPI``)."""
    return asyncio.run(_http2_chat(variant, base.replace("http://", "https://", 1), size))


def main() -> int:
    from meshapi_gateway.http.app import create_app
    from meshapi_gateway.http.tls import self_signed, serve_tls

    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())
    with tempfile.TemporaryDirectory() as directory:
        cert, key = self_signed(directory)
        app = create_app(tokens=[TOKEN], log_level="error")
        with serve_tls(app, cert, key) as server:
            sys.stdout.write(f"PORT {server.port} CERT {cert}\n")
            sys.stdout.flush()
            parent = os.getppid()
            while not stop.wait(0.5) and os.getppid() == parent:
                pass
        app.state.gateway.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
