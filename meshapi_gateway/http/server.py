"""Running the gateway in a background thread (:func:`serve`), for tests and for code that embeds it.

``serve()`` binds a socket itself (port 0 picks a free one), runs uvicorn on it in a daemon thread and
returns once the server accepts connections. ``Gateway.stop()`` (or leaving the ``with`` block) asks
uvicorn to exit, joins the thread (bounded: graceful for 2 s, then forced) and closes the socket and
the storage, so many gateways can be started one after another in one process. The socket binding
and uvicorn's configuration are shared with ``meshapi gateway`` (``cli.py``).
"""

from __future__ import annotations

import socket
import threading
import time
import warnings
from types import TracebackType
from typing import Any, List, Optional, Sequence, Type

import uvicorn

from ..fakes.replies import Replies
from ..faults.plan import FaultPlan
from ..faults.provider import ProviderFaults
from ..record.inspector import inspector_url
from ..record.reqlog import RequestLog
from ..settings import GatewaySettings
from ..store.state import GatewayState
from ..webhooks.hub import WebhookHub
from .app import create_app
from .slow_clients import protocol_for

_START_TIMEOUT = 15.0


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must be IPPROTO_TCP: asyncio only sets TCP_NODELAY on accepted sockets whose proto says
    # TCP, and without it every keep-alive response waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.set_inheritable(True)
    except OSError:
        sock.close()
        raise
    return sock


def url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _ws_protocol() -> str:
    """uvicorn's sans-I/O websockets protocol when it has one; else its automatic choice.

    The automatic choice of older uvicorn releases imports ``websockets.legacy``, which warns on
    websockets >= 14; the import is done here, with that warning silenced, so it does not fire later
    in the server thread (where it would fail test runs that turn warnings into errors).
    """
    try:
        from uvicorn.config import WS_PROTOCOLS
    except ImportError:  # pragma: no cover - very old uvicorn
        return "auto"
    if "websockets-sansio" in WS_PROTOCOLS:
        return "websockets-sansio"
    with warnings.catch_warnings():  # pragma: no cover - depends on the installed uvicorn
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import uvicorn.protocols.websockets.auto  # noqa: F401
        except ImportError:
            pass
    return "auto"  # pragma: no cover


def uvicorn_config(app: Any, log_level: str, *, access_log: bool, default_logging: bool) -> Any:
    extra: Any = {} if default_logging else {"log_config": None}
    settings: GatewaySettings = app.state.gateway.settings
    return uvicorn.Config(
        app,
        log_level=log_level,
        access_log=access_log,
        lifespan="off",
        ws=_ws_protocol(),
        timeout_graceful_shutdown=2,
        http=protocol_for(settings.header_timeout, settings.max_connections),
        **extra,
    )


class Gateway:
    """A running local gateway (see :func:`serve`).

    Attributes: ``base_url`` (``http://127.0.0.1:<port>``, no trailing slash), ``token`` (the first
    token), ``tokens``, ``admin_token``, ``faults`` (:class:`~meshapi_gateway.faults.plan.FaultPlan`),
    ``requests`` (:class:`~meshapi_gateway.faults.plan.RequestLog`), ``replies``
    (:class:`~meshapi_gateway.fakes.replies.Replies`), ``webhooks`` (endpoints, alert thresholds and
    deliveries: :class:`~meshapi_gateway.webhooks.hub.WebhookHub`), ``state`` and ``app``.
    """

    def __init__(self, app: Any, host: str, sock: socket.socket, log_level: str) -> None:
        self.app = app
        self.state: GatewayState = app.state.gateway
        self.host = host
        self.port: int = sock.getsockname()[1]
        self.base_url = f"http://{url_host(host)}:{self.port}"
        self.tokens: List[str] = list(self.state.token_list)
        self.token: str = self.tokens[0]
        self.admin_token: str = self.state.admin_token
        self.faults: FaultPlan = self.state.faults
        self.provider_faults: ProviderFaults = self.state.provider_faults
        self.requests: RequestLog = self.state.requests
        #: The inspector page with the admin token in the fragment (``None`` when it is off).
        self.inspector_url: Optional[str] = (
            inspector_url(self.base_url, self.admin_token) if getattr(app.state, "inspector", False) else None
        )
        self.replies: Replies = self.state.replies
        #: Webhook endpoints, thresholds and deliveries (:class:`~meshapi_gateway.webhooks.hub.WebhookHub`).
        self.webhooks: WebhookHub = self.state.webhooks
        self._sock = sock
        self._server = uvicorn.Server(uvicorn_config(app, log_level, access_log=False, default_logging=False))
        self._thread: Optional[threading.Thread] = None
        self._stopped = False

    def __repr__(self) -> str:
        return f"<meshapi.gateway.Gateway {self.base_url}>"

    def reset(self, *, requests: bool = False) -> None:
        """Back to a clean slate between tests, stored data aside.

        Clears the fault plan, restores the start-up scripted replies, zeroes the rate-limit counters
        and forgets the idempotency keys seen; with ``requests=True`` the request log is cleared too.
        Templates, files and batches stay: :meth:`reset_data` removes those. The pytest plugin calls
        ``reset(requests=True)`` after every test that used the gateway.
        """
        self.state.reset(requests=requests)
        self.state.idempotency.clear()

    def reset_data(self) -> None:
        """Remove every stored template, RAG file and batch (and what is derived from them)."""
        self.state.store.clear()
        self.state.cache.clear()
        self.state.idempotency.clear()

    def start(self) -> Gateway:
        if self._thread is not None:
            return self
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._sock]},
            name=f"meshapi-gateway-{self.port}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the local gateway did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        """Stop the server and release its thread, socket and storage (safe to call twice)."""
        if self._stopped:
            return
        self._stopped = True
        thread = self._thread
        if thread is not None and thread.is_alive():
            self._server.should_exit = True
            thread.join(timeout=5.0)
            if thread.is_alive():
                self._server.force_exit = True
                thread.join(timeout=5.0)
        self._sock.close()
        self.state.close()

    def __enter__(self) -> Gateway:
        return self.start()

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.stop()


def serve(
    tokens: Optional[Sequence[str]] = None, *, settings: Optional[GatewaySettings] = None, **options: Any
) -> Gateway:
    """Start a local gateway in a background thread; use as ``with serve() as gw: ...``.

    ``settings`` and/or keywords named like the :class:`~meshapi_gateway.settings.GatewaySettings`
    fields (``host``, ``port``, ``allowed_hosts``, ``data_dir``, ``latency``, ``admin_token``, ``rpm``,
    ``rpd``, ``rate_limits`` (none by default; ``True`` for the documented 100/min and 10,000/day, or
    ``"RPM[/DAY]"``), ``balance`` (USD per token, default 1000), ``batch_step_seconds``, ``embed_step_seconds``,
    ``video_step_seconds``, ``response_step_seconds``, ``replies``,
    ``log_level``, ``routing``: per-token routing policies, see :mod:`meshapi_gateway.fakes.routing`;
    ``webhooks``: ``[(url, secret), ...]`` endpoints for signed alerts, with ``webhook_speed``,
    ``balance_low_usd``, ``spend_cap_usd``, see :mod:`meshapi_gateway.webhooks`)
    choose how it behaves; ``replies`` is a list of rules or a JSON file of them (a bad one raises
    :class:`~meshapi_gateway.fakes.replies.RepliesError` before anything starts). ``tokens``
    defaults to ``$MESHAPI_TOKEN``, else a random token minted for this gateway (``gw.token``);
    :data:`DEFAULT_TOKEN` is accepted only when passed. The server is already accepting
    connections when this returns; leaving the ``with`` block (or ``gw.stop()``) stops it.
    """
    if tokens is not None:
        options["tokens"] = list(tokens)
    chosen = GatewaySettings.build(settings, caller="serve", **options)
    app = create_app(settings=chosen)
    try:
        sock = bind_socket(chosen.host, chosen.port)
    except OSError:
        app.state.gateway.close()
        raise
    return Gateway(app, chosen.host, sock, chosen.log_level).start()
