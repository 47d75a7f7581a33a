"""Realtime (WebSocket) sessions: ``client.realtime.connect(model=...)``.

This module keeps 0.1.4's names and path (``RealtimeSession``, ``AsyncRealtimeSession``,
``RealtimeMessage``, ``RealtimeError``, the two resources); the sessions live in :mod:`meshapi.realtime`
(thin loops over the sans-I/O core in :mod:`meshapi.realtime.protocol`, their websockets adapter in
:mod:`meshapi.realtime._ws`). ``websockets`` (>= 13.0) is an optional extra, imported on the first
``connect``: ``pip install 'meshapi[realtime]'``.

Authentication (``connect(auth=...)``). docs/protocol.md §7.2: the docs prefer the key in the
``Sec-WebSocket-Protocol`` header (``openai-realtime`` plus ``Bearer.<key>``), while every SDK up to
0.1.12 sends it as ``?api_key=`` in the URL, where proxies and access logs record it. The default,
``"auto"``, keeps the key out of the URL: it offers the ``Bearer.<key>`` subprotocol and sends
``Authorization: Bearer <key>`` on the upgrade. If the gateway refuses that upgrade with HTTP 400 (how
production was recorded to reject the subprotocol form), the ``BadRequestError`` says how to opt in to
the query form; with ``connect(..., allow_query_auth=True)`` the handshake is instead retried once with
the query form and the client remembers to use it. Any other refusal (401, 403, 404, ...) is raised as
is, so a wrong key is never re-sent in a URL. ``"subprotocol"``, ``"header"`` and ``"query"`` pick one form with no
fallback (``"query"`` is exactly what 0.1.4 sent). The key never appears in a repr, an exception, a log
line of the ``meshapi`` or ``websockets`` loggers, or, outside ``"query"``, the URL.

Errors. Opening a session fails like any API call: a refused upgrade raises the status error of
:mod:`meshapi._errors` (``AuthenticationError`` 401, ``PermissionDeniedError`` 403, ``NotFoundError`` 404
for an unknown or non-realtime model, ``RateLimitError``, ``InternalServerError``...), with ``status`` and
``request_id`` from the rejection; an unreachable gateway raises ``APIConnectionError`` and a handshake
slower than the timeout ``APITimeoutError``. Once open, everything the session reports is a
:class:`RealtimeError` (see the code table in :mod:`meshapi.realtime.protocol`): an ``error`` event
raises (as in 0.1.4; the session stays open unless the gateway closes it, so catch it and keep
receiving), a malformed frame raises ``malformed_event``, an abnormal close raises with ``close_code``.
A receive that outlives its ``timeout`` raises ``APITimeoutError`` and leaves the session open.
websockets' own exceptions never escape.

Beyond 0.1.x (``connect(reconnect=..., flow_control=...)``): typed events (``recv()``,
``iter_events()``), senders (``session.response.create()``...), handlers (``on``/``once``/``off``,
``run()``), a bounded send queue and opt-in reconnection; see :mod:`meshapi.realtime`.

Closing. Iteration ends quietly when the session ends normally (close code 1000/1001, or ``close()``);
after that ``receive()`` and ``send()`` raise ``RealtimeError`` code ``session_closed``. ``close()``
sends a 1000 close frame, waits briefly for the gateway's answer and never raises. ``client.close()`` /
``await client.aclose()`` close every session the client opened.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Generator, List, Mapping, Optional, Set, Union

from .._config import MeshAPIConfig
from .._errors import RealtimeError
from ..realtime import _ws
from ..realtime.async_session import AsyncRealtimeSession
from ..realtime.flow import FlowControl, ReconnectPolicy, coerce_flow_control, coerce_reconnect
from ..realtime.handshake import Handshake
from ..realtime.protocol import RealtimeMessage
from ..realtime.sync_session import RealtimeSession

__all__ = [
    "AsyncRealtimeResource",
    "AsyncRealtimeSession",
    "RealtimeError",
    "RealtimeMessage",
    "RealtimeResource",
    "RealtimeSession",
]

Reconnect = Union[bool, ReconnectPolicy, None]


class RealtimeResource:
    """``client.realtime``: opens realtime sessions and closes them all on ``client.close()``."""

    def __init__(self, config: MeshAPIConfig) -> None:
        self._cfg = config
        self._sessions: Set[RealtimeSession] = set()
        self._lock = threading.Lock()
        self._query_only = False  # set when the gateway accepted only ``?api_key=`` (opted in)

    def __repr__(self) -> str:
        return f"RealtimeResource(base_url={self._cfg.base_url!r}, open_sessions={len(self._sessions)})"

    def connect(
        self,
        *,
        model: str,
        auth: str = "auto",
        timeout: Optional[float] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        allow_query_auth: bool = False,
        reconnect: Reconnect = False,
        flow_control: Optional[FlowControl] = None,
    ) -> RealtimeSession:
        """Open a realtime session for ``model`` (a realtime-capable model such as ``openai/gpt-realtime``).

        ``auth``: ``"auto"`` (default), ``"subprotocol"``, ``"header"`` or ``"query"`` (see the module
        documentation; only ``"query"`` puts the key in the URL, or ``allow_query_auth=True`` after an
        HTTP 400). ``timeout``: seconds for the whole handshake (default: the client's
        ``realtime_connect_timeout``, else its ``timeout``). ``reconnect``: ``True`` or a
        ``ReconnectPolicy`` to reopen dropped connections; ``flow_control``: the send queue's bounds.
        Raises ``AuthenticationError``/``NotFoundError``/... for a refused upgrade, ``APITimeoutError``
        and ``APIConnectionError`` when the gateway cannot be reached in time.
        """
        open_timeout = _ws.connect_timeout(self._cfg, timeout)
        policy = coerce_reconnect(reconnect)
        flow = coerce_flow_control(flow_control)
        handshake = _ws.prepare(self._cfg, model, auth, extra_headers, self._query_only, allow_query_auth)
        ws, used = _ws.open_sync(self._cfg, model, handshake, open_timeout)
        if used is not handshake:
            self._query_only = True
        session = RealtimeSession(
            ws,
            model=model,
            _on_close=self._forget,
            _reopen=lambda: _ws.open_sync(self._cfg, model, used, open_timeout)[0],
            reconnect=policy,
            flow_control=flow,
        )
        with self._lock:
            self._sessions.add(session)
        return session

    def _forget(self, session: RealtimeSession) -> None:
        with self._lock:
            self._sessions.discard(session)

    def close_all(self) -> None:
        """Close every session opened through this resource that is still open (``client.close()``)."""
        with self._lock:
            sessions = list(self._sessions)
        for session in sessions:
            session.close()


class _AsyncConnectionManager:
    """What ``AsyncRealtimeResource.connect`` returns: ``await`` it for the session, or use it in
    ``async with`` to close the session on exit. Nothing is opened until one of the two happens."""

    def __init__(self, opener: Any) -> None:
        self._opener = opener
        self._session: Optional[AsyncRealtimeSession] = None

    def __await__(self) -> Generator[Any, None, AsyncRealtimeSession]:
        return self._opener().__await__()  # type: ignore[no-any-return]

    async def __aenter__(self) -> AsyncRealtimeSession:
        self._session = await self._opener()
        return self._session

    async def __aexit__(self, *exc_info: object) -> None:
        if self._session is not None:
            await self._session.close()


class AsyncRealtimeResource:
    """``client.realtime``: opens realtime sessions and closes them all on ``client.aclose()``."""

    def __init__(self, config: MeshAPIConfig) -> None:
        self._cfg = config
        self._sessions: Set[AsyncRealtimeSession] = set()
        self._query_only = False  # set when the gateway accepted only ``?api_key=`` (opted in)

    def __repr__(self) -> str:
        return f"AsyncRealtimeResource(base_url={self._cfg.base_url!r}, open_sessions={len(self._sessions)})"

    def connect(
        self,
        *,
        model: str,
        auth: str = "auto",
        timeout: Optional[float] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        allow_query_auth: bool = False,
        reconnect: Reconnect = False,
        flow_control: Optional[FlowControl] = None,
    ) -> _AsyncConnectionManager:
        """Open a realtime session for ``model`` (a realtime-capable model such as ``openai/gpt-realtime``).

        ``auth``: ``"auto"`` (default), ``"subprotocol"``, ``"header"`` or ``"query"`` (see the module
        documentation; only ``"query"`` puts the key in the URL, or ``allow_query_auth=True`` after an
        HTTP 400). ``timeout``: seconds for the whole handshake (default: the client's
        ``realtime_connect_timeout``, else its ``timeout``). ``reconnect``: ``True`` or a
        ``ReconnectPolicy`` to reopen dropped connections; ``flow_control``: the send queue's bounds.
        Raises ``AuthenticationError``/``NotFoundError``/... for a refused upgrade, ``APITimeoutError``
        and ``APIConnectionError`` when the gateway cannot be reached in time.
        """
        open_timeout = _ws.connect_timeout(self._cfg, timeout)
        policy = coerce_reconnect(reconnect)
        flow = coerce_flow_control(flow_control)
        handshake = _ws.prepare(self._cfg, model, auth, extra_headers, self._query_only, allow_query_auth)
        _ws.async_websockets()  # fail here, not at the first await, when websockets is missing

        async def opener() -> AsyncRealtimeSession:
            return await self._connect(model, handshake, open_timeout, policy, flow)

        return _AsyncConnectionManager(opener)

    async def _connect(
        self,
        model: str,
        handshake: Handshake,
        open_timeout: Optional[float],
        policy: Optional[ReconnectPolicy],
        flow: FlowControl,
    ) -> AsyncRealtimeSession:
        ws, used = await _ws.open_async(self._cfg, model, handshake, open_timeout)
        if used is not handshake:
            self._query_only = True

        async def reopen() -> Any:
            return (await _ws.open_async(self._cfg, model, used, open_timeout))[0]

        session = AsyncRealtimeSession(
            ws,
            model=model,
            _on_close=self._sessions.discard,
            _reopen=reopen,
            reconnect=policy,
            flow_control=flow,
        )
        self._sessions.add(session)
        return session

    async def close_all(self) -> None:
        """Close every session opened through this resource that is still open (``client.close()``)."""
        sessions: List[AsyncRealtimeSession] = list(self._sessions)
        if sessions:
            await asyncio.gather(*(session.close() for session in sessions))
