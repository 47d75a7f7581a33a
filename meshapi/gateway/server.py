"""Running the gateway: :func:`serve` (a background thread, for tests) and :func:`main` (the CLI).

``serve()`` binds a socket itself (port 0 picks a free one), runs uvicorn on it in a daemon thread and
returns once the server accepts connections. ``Gateway.stop()`` (or leaving the ``with`` block) asks
uvicorn to exit, joins the thread (bounded: graceful for 2 s, then forced) and closes the socket and
the storage, so many gateways can be started one after another in one process.
"""

from __future__ import annotations

import argparse
import dataclasses
import socket
import sys
import threading
import time
import warnings
from types import TracebackType
from typing import Any, List, Optional, Sequence, Tuple, Type

import uvicorn

from .app import create_app
from .faults import FaultPlan, RequestLog
from .replies import Replies, RepliesError
from .routing import ProviderFaults, RoutingPolicy, parse_policy
from .settings import DEFAULT_TOKEN, GatewaySettings
from .slow_clients import protocol_for
from .state import GatewayState
from .storage import DataDirInUseError

_START_TIMEOUT = 15.0


def _bind(host: str, port: int) -> socket.socket:
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


def _url_host(host: str) -> str:
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


def _config(app: Any, log_level: str, *, access_log: bool, default_logging: bool) -> Any:
    extra: Any = {} if default_logging else {"log_config": None}
    settings: GatewaySettings = app.state.gateway.settings
    return uvicorn.Config(
        app,
        log_level=log_level,
        access_log=access_log,
        lifespan="off",
        ws=_ws_protocol(),
        timeout_graceful_shutdown=2,
        http=protocol_for(settings.header_timeout),
        limit_concurrency=settings.max_connections,
        **extra,
    )


class Gateway:
    """A running local gateway (see :func:`serve`).

    Attributes: ``base_url`` (``http://127.0.0.1:<port>``, no trailing slash), ``token`` (the first
    token), ``tokens``, ``admin_token``, ``faults`` (:class:`~meshapi.gateway.faults.FaultPlan`),
    ``requests`` (:class:`~meshapi.gateway.faults.RequestLog`), ``replies``
    (:class:`~meshapi.gateway.replies.Replies`), ``state`` and ``app``.
    """

    def __init__(self, app: Any, host: str, sock: socket.socket, log_level: str) -> None:
        self.app = app
        self.state: GatewayState = app.state.gateway
        self.host = host
        self.port: int = sock.getsockname()[1]
        self.base_url = f"http://{_url_host(host)}:{self.port}"
        self.tokens: List[str] = list(self.state.token_list)
        self.token: str = self.tokens[0]
        self.admin_token: str = self.state.admin_token
        self.faults: FaultPlan = self.state.faults
        self.provider_faults: ProviderFaults = self.state.provider_faults
        self.requests: RequestLog = self.state.requests
        self.replies: Replies = self.state.replies
        self._sock = sock
        self._server = uvicorn.Server(_config(app, log_level, access_log=False, default_logging=False))
        self._thread: Optional[threading.Thread] = None
        self._stopped = False

    def reset(self, *, requests: bool = False) -> None:
        """Clear faults, restore the start-up replies, zero rate limits (and the log if ``requests``)."""
        self.state.reset(requests=requests)

    def __repr__(self) -> str:
        return f"<meshapi.gateway.Gateway {self.base_url}>"

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

    ``settings`` and/or keywords named like the :class:`~meshapi.gateway.settings.GatewaySettings`
    fields (``host``, ``port``, ``data_dir``, ``latency``, ``admin_token``, ``rpm``, ``rpd``,
    ``batch_step_seconds``, ``embed_step_seconds``, ``video_step_seconds``, ``replies``, ``log_level``,
    ``routing``: per-token routing policies, see :mod:`meshapi.gateway.routing`)
    choose how it behaves; ``replies`` is a list of rules or a JSON file of them (a bad one raises
    :class:`~meshapi.gateway.replies.RepliesError` before anything starts). ``tokens``
    defaults to ``$MESHAPI_TOKEN`` or :data:`DEFAULT_TOKEN`. The server is already accepting
    connections when this returns; leaving the ``with`` block (or ``gw.stop()``) stops it.
    """
    if tokens is not None:
        options["tokens"] = list(tokens)
    chosen = GatewaySettings.build(settings, caller="serve", **options)
    app = create_app(settings=chosen)
    try:
        sock = _bind(chosen.host, chosen.port)
    except OSError:
        app.state.gateway.close()
        raise
    return Gateway(app, chosen.host, sock, chosen.log_level).start()


def _routing_policy(spec: str) -> Tuple[str, RoutingPolicy]:
    try:
        return parse_policy(spec)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="meshapi gateway",
        description="Run the local MeshAPI gateway (deterministic models, no network, no keys).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    parser.add_argument(
        "--token",
        action="append",
        dest="tokens",
        metavar="TOKEN",
        help=f"accepted bearer token (repeatable; default $MESHAPI_TOKEN or {DEFAULT_TOKEN})",
    )
    parser.add_argument("--data-dir", help="keep files, templates and batches in SQLite under this directory")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds between streamed events")
    parser.add_argument("--admin-token", help="token for the /_admin routes (default: random, printed)")
    parser.add_argument("--rpm", type=int, help="requests per minute per token (default: unlimited)")
    parser.add_argument("--rpd", type=int, help="requests per day per token (default: unlimited)")
    parser.add_argument(
        "--replies",
        metavar="FILE",
        help="JSON array of scripted-reply rules ({match, model?, content | json}); first match wins",
    )
    parser.add_argument(
        "--routing-policy",
        action="append",
        dest="routing",
        type=_routing_policy,
        metavar="[TOKEN=]retries=N,fallback=on|off",
        help="server-side retry and fallback along the chat 'models' list, per token (repeatable)",
    )
    parser.add_argument("--log-level", default="info", help="uvicorn log level (default info)")
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """``meshapi gateway``: run the local gateway in the foreground until Ctrl-C; returns 0."""
    args = _parser().parse_args(argv)
    names = {f.name for f in dataclasses.fields(GatewaySettings)}
    chosen = {k: v for k, v in vars(args).items() if k in names}
    chosen["routing"] = dict(args.routing) if args.routing else None
    settings = GatewaySettings(**chosen)
    try:
        app = create_app(settings=settings)
    except DataDirInUseError as exc:
        print(f"meshapi gateway: {exc}", file=sys.stderr)
        return 1
    except RepliesError as exc:
        print(f"meshapi gateway: {exc}", file=sys.stderr)
        return 2
    state: GatewayState = app.state.gateway
    tokens = state.token_list
    try:
        sock = _bind(args.host, args.port)
    except OSError as exc:
        state.close()
        print(f"meshapi gateway: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    base_url = f"http://{_url_host(args.host)}:{sock.getsockname()[1]}"
    print(f"MeshAPI local gateway on {base_url}")
    print(f"Token: {tokens[0]}")
    print(f"Admin token: {state.admin_token}")
    print("Use it with:")
    print(f"  export MESHAPI_BASE_URL={base_url}")
    print(f"  export MESHAPI_TOKEN={tokens[0]}")
    print("Press Ctrl-C to stop.", flush=True)
    server = uvicorn.Server(_config(app, args.log_level, access_log=True, default_logging=True))
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
        state.close()
    return 0
