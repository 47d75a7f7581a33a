"""Record and replay: the local gateway in front of a real one, or standing in for it from a cassette.

With :class:`ProxySettings` the gateway sends every ``/v1`` HTTP request on to ``upstream`` (with the
upstream token, never the caller's) and passes the answer back as it arrives: SSE streams chunk by
chunk, so the caller sees the upstream's timing. With ``record`` each exchange is appended to a
cassette (:mod:`meshapi_gateway.record.cassette`). With ``replay`` the cassette answers instead, at the
recorded pace times ``replay_speed`` (0 = at once); a request it has no exchange for is a 404
``cassette_no_match`` envelope naming the closest recorded one, or, with ``replay_fallback``, is
answered by the deterministic local models.

Forwarding holds nothing it does not need: the upstream request is cancelled (its connection closed)
as soon as the caller disconnects, chunks are passed on as they come and kept only while recording, up
to ``record_max_bytes``; an upstream silent for ``timeout`` seconds is a 504 ``gateway_timeout``. The
caller's secret headers never go upstream and the upstream token never comes back, in headers or body,
even split between chunks (:mod:`~meshapi_gateway.record.proxy_stream` has those rules).

Everything else stays local and still applies: authentication with the local tokens, rate limits,
the request log and inspector, planned faults (around the proxied answer), ``/_admin``. The realtime
WebSocket is not proxied: ``/v1/realtime`` is always served by the local stand-in (relaying and
recording WebSocket frames both ways is a separate piece of work).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Dict, Optional

import httpx

from ..http.asgi import (
    SCOPE_BODY,
    SCOPE_REQUEST_ID,
    ASGIApp,
    Receive,
    Scope,
    Send,
    error_body,
    header_dict,
    header_list,
    send_reply,
)
from ..settings import ProxySettings
from .cassette import Cassette, CassetteWriter, chunk_bytes, request_entry
from .proxy_stream import Recording, SecretScrubber, caller_gone, upstream_headers, warn_not_recorded

#: Response headers not passed back (nor recorded).
_DROP_RESPONSE = frozenset(
    {
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "content-encoding",
        "set-cookie",
        "date",
        "server",
    }
)


async def _send_error(send: Send, status: int, code: str, message: str, rid: str) -> None:
    await send_reply(send, status, error_body(code, message, rid), "application/json")


class ProxyLayer:
    """ASGI layer inside the middlewares (``http/middleware.py``): ``/v1`` HTTP requests go upstream or to the cassette."""

    def __init__(self, settings: ProxySettings, app: Optional[ASGIApp] = None) -> None:
        self._app = app
        self.settings = settings
        self.cassette = Cassette(settings.replay) if settings.replay else None
        secrets = (settings.upstream_token,) if settings.upstream_token else ()
        self.writer = CassetteWriter(settings.record, secrets) if settings.record else None
        self._warned_over_cap = False

    def wrap(self, app: ASGIApp) -> ProxyLayer:
        """Put this layer in front of ``app`` (the gateway's own routes); returns ``self``."""
        self._app = app
        return self

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self._app is not None, "ProxyLayer.wrap() was not called"
        await self._app(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path == "/v1" or path.startswith("/v1/")):
            await self.app(scope, receive, send)
            return
        headers = header_dict(scope.get("headers", ()))
        body: bytes = scope.get(SCOPE_BODY, b"")
        request = request_entry(
            scope["method"],
            path,
            scope.get("query_string", b"").decode("latin-1"),
            headers.get("content-type", ""),
            body,
        )
        rid = str(scope.get(SCOPE_REQUEST_ID, ""))
        if self.cassette is not None:
            # Matching normalises the whole body, and a miss searches for the closest exchange: both
            # run in a worker thread so other requests are served meanwhile (cassette.py bounds them).
            loop = asyncio.get_running_loop()
            exchange = await loop.run_in_executor(None, self.cassette.take, request)
            if exchange is not None:
                await self._replay(exchange, send)
                return
            if not self.settings.replay_fallback and not self.settings.upstream:
                where = await loop.run_in_executor(None, self.cassette.closest, request)
                message = (
                    f"No recorded exchange in {self.cassette.path} matches {scope['method']} {path}. "
                    f"Closest recorded: {where}."
                )
                await _send_error(send, 404, "cassette_no_match", message, rid)
                return
        if self.settings.upstream:
            await self._forward(scope, receive, headers, body, request, rid, send)
            return
        await self.app(scope, receive, send)

    async def _replay(self, exchange: Dict[str, Any], send: Send) -> None:
        response = exchange["response"]
        headers = {str(k).lower(): str(v) for k, v in response.get("headers", {}).items()}
        await send(
            {
                "type": "http.response.start",
                "status": int(response["status"]),
                "headers": header_list(headers),
            }
        )
        speed = self.settings.replay_speed
        started = time.monotonic()
        for chunk in response.get("chunks", []):
            if speed > 0:
                due = float(chunk.get("ms", 0)) / 1000 / speed
                wait = due - (time.monotonic() - started)
                if wait > 0:
                    await asyncio.sleep(wait)
            await send({"type": "http.response.body", "body": chunk_bytes(chunk), "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _forward(
        self,
        scope: Scope,
        receive: Receive,
        headers: Dict[str, str],
        body: bytes,
        request: Dict[str, Any],
        rid: str,
        send: Send,
    ) -> None:
        """Relay the exchange with the upstream until it ends or the caller goes, whichever comes first.

        A caller that disconnects cancels the upstream request: its connection is closed and nothing
        more is read from it.
        """
        relay = asyncio.ensure_future(self._relay(scope, headers, body, request, rid, send))
        gone = asyncio.ensure_future(caller_gone(receive))
        try:
            await asyncio.wait({relay, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            relay.cancel()  # nothing when it has finished; else the caller has gone (or we are cancelled)
            gone.cancel()
            await asyncio.gather(relay, gone, return_exceptions=True)
        if not relay.cancelled():
            relay.result()  # raises what the relay itself raised

    async def _relay(
        self,
        scope: Scope,
        headers: Dict[str, str],
        body: bytes,
        request: Dict[str, Any],
        rid: str,
        send: Send,
    ) -> None:
        settings = self.settings
        assert settings.upstream is not None
        out = upstream_headers(headers, settings.upstream_token)
        query = scope.get("query_string", b"").decode("latin-1")
        url = settings.upstream.rstrip("/") + scope["path"] + (f"?{query}" if query else "")
        scrub = SecretScrubber([settings.upstream_token or ""])
        recording = Recording(settings.record_max_bytes) if self.writer is not None else None
        status = 0
        kept: Dict[str, str] = {}
        complete = False
        started = time.monotonic()
        async with httpx.AsyncClient(timeout=settings.timeout, follow_redirects=False) as client:
            try:
                upstream = await client.send(
                    client.build_request(scope["method"], url, headers=out, content=body), stream=True
                )
            except httpx.TimeoutException:
                message = (
                    f"The upstream gateway did not answer within {settings.timeout:g} s (upstream timeout)."
                )
                await _send_error(send, 504, "gateway_timeout", message, rid)
                return
            except httpx.HTTPError as exc:
                await _send_error(
                    send,
                    502,
                    "upstream_unreachable",
                    f"The upstream gateway did not answer ({type(exc).__name__}).",
                    rid,
                )
                return
            try:
                status = upstream.status_code
                kept = {k.lower(): v for k, v in upstream.headers.items() if k.lower() not in _DROP_RESPONSE}
                kept = scrub.headers(kept)
                await send({"type": "http.response.start", "status": status, "headers": header_list(kept)})
                try:
                    async for raw in upstream.aiter_raw():
                        data = scrub.feed(raw)
                        if not data:
                            continue  # all of it held back: it may be the start of the token
                        if recording is not None:
                            recording.add((time.monotonic() - started) * 1000, data)
                        await send({"type": "http.response.body", "body": data, "more_body": True})
                    complete = True
                except httpx.HTTPError:
                    pass  # the upstream cut the stream (or went silent past the timeout): the caller sees it cut too
                tail = scrub.flush()
                if tail and recording is not None:
                    recording.add((time.monotonic() - started) * 1000, tail)
                await send({"type": "http.response.body", "body": tail, "more_body": False})
            finally:
                await upstream.aclose()
                if recording is not None and status:
                    self._write(request, status, kept, recording, complete)

    def _write(
        self,
        request: Dict[str, Any],
        status: int,
        headers: Dict[str, str],
        recording: Recording,
        complete: bool,
    ) -> None:
        """Append the exchange to the cassette, unless its body is past the cap (then warn, once)."""
        assert self.writer is not None
        if recording.over:
            if not self._warned_over_cap:
                self._warned_over_cap = True
                warn_not_recorded(f"{request['method']} {request['path']}", recording.max_bytes)
            return
        self.writer.write(request, status, headers, recording.chunks, complete=complete)
