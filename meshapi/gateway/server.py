"""Running the gateway: :func:`serve` (a background thread, for tests) and :func:`main` (the CLI).

``serve()`` binds a socket itself (port 0 picks a free one), runs uvicorn on it in a daemon thread and
returns once the server accepts connections. ``Gateway.stop()`` (or leaving the ``with`` block) asks
uvicorn to exit, joins the thread (bounded: graceful for 2 s, then forced) and closes the socket and
the storage, so many gateways can be started one after another in one process.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import os
import socket
import sqlite3
import sys
import threading
import time
import warnings
from types import FrameType, TracebackType
from typing import Any, List, NoReturn, Optional, Sequence, Type

import uvicorn

from .app import create_app
from .cassette import CassetteError
from .faults import FaultPlan, RequestLog
from .idempotency import cache_for as idempotency_cache
from .inspector import inspector_url
from .proxy import ProxySettings
from .replies import Replies, RepliesError
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
        self.requests: RequestLog = self.state.requests
        #: The inspector page with the admin token in the fragment (``None`` when it is off).
        self.inspector_url: Optional[str] = (
            inspector_url(self.base_url, self.admin_token) if getattr(app.state, "inspector", False) else None
        )
        self.replies: Replies = self.state.replies
        self._sock = sock
        self._server = uvicorn.Server(_config(app, log_level, access_log=False, default_logging=False))
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
        idempotency_cache(self.state).clear()

    def reset_data(self) -> None:
        """Remove every stored template, RAG file and batch (and what is derived from them)."""
        self.state.store.clear()
        self.state.cache.clear()
        idempotency_cache(self.state).clear()

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
    ``batch_step_seconds``, ``embed_step_seconds``, ``video_step_seconds``, ``replies``, ``log_level``)
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


_LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


class _OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line on stderr (and exit status 2), not usage + error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0 to 65535 (0 picks a free one), got {text}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0.0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be 0 or more seconds, got {text}")
    return value


def _limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def _log_level(text: str) -> str:
    if text.lower() not in _LOG_LEVELS:
        raise argparse.ArgumentTypeError(f"unknown log level {text!r} (one of {', '.join(_LOG_LEVELS)})")
    return text.lower()


def _parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(
        prog="meshapi gateway",
        description="Run the local MeshAPI gateway (deterministic models, no network, no keys).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=_port, default=8000, help="port (default 8000; 0 picks a free one)")
    parser.add_argument(
        "--token",
        action="append",
        dest="tokens",
        metavar="TOKEN",
        help=f"accepted bearer token (repeatable; default $MESHAPI_TOKEN or {DEFAULT_TOKEN})",
    )
    parser.add_argument("--data-dir", help="keep files, templates and batches in SQLite under this directory")
    parser.add_argument("--latency", type=_seconds, default=0.0, help="seconds between streamed events")
    parser.add_argument("--admin-token", help="token for the /_admin routes (default: random, printed)")
    parser.add_argument("--rpm", type=_limit, help="requests per minute per token (default: unlimited)")
    parser.add_argument("--rpd", type=_limit, help="requests per day per token (default: unlimited)")
    parser.add_argument(
        "--replies",
        metavar="FILE",
        help="JSON array of scripted-reply rules ({match, model?, content | json}); first match wins",
    )
    parser.add_argument(
        "--log-level", type=_log_level, default="info", help=f"uvicorn log level: {', '.join(_LOG_LEVELS)}"
    )
    parser.add_argument("--no-inspector", action="store_true", help="do not serve the /_inspector/ web page")
    proxy = parser.add_argument_group("record and replay (in front of a real gateway)")
    proxy.add_argument("--upstream", metavar="URL", help="send /v1 requests on to this gateway")
    proxy.add_argument(
        "--upstream-token-env",
        metavar="VAR",
        default="MESHAPI_UPSTREAM_TOKEN",
        help="environment variable holding the upstream token (default MESHAPI_UPSTREAM_TOKEN)",
    )
    proxy.add_argument("--record", metavar="FILE", help="append every proxied exchange to FILE (JSON Lines)")
    proxy.add_argument("--replay", metavar="FILE", help="answer from the exchanges recorded in FILE")
    proxy.add_argument(
        "--replay-fallback",
        action="store_true",
        help="answer unmatched requests with the local models instead of a 404",
    )
    proxy.add_argument(
        "--replay-speed",
        type=float,
        default=0.0,
        metavar="X",
        help="stream replays at X times the recorded pace (1 = as recorded; default 0 = at once)",
    )
    return parser


def _check_data_dir(path: str) -> Optional[str]:
    """Why ``path`` cannot hold the gateway's database, or ``None`` when it can."""
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        return f"cannot create --data-dir {path}: {exc.strerror or exc}"
    if not os.path.isdir(path):
        return f"--data-dir {path} is not a directory"
    probe = os.path.join(path, f".meshapi-write-test-{os.getpid()}")
    try:
        with open(probe, "wb"):
            pass
        os.remove(probe)
    except OSError as exc:
        return f"cannot write in --data-dir {path}: {exc.strerror or exc}"
    return None


class _QuietCancelled(logging.Filter):
    """Drops uvicorn's report of request tasks cancelled by a shutdown (a traceback per stream)."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, asyncio.CancelledError):
            return False
        return "timeout graceful shutdown exceeded" not in record.getMessage()


class _ForegroundServer(uvicorn.Server):
    """uvicorn for ``meshapi gateway``: Ctrl-C (or SIGTERM) stops at once, open streams included.

    The first signal already does what uvicorn's second one does (no waiting for connections), and
    the open connections are closed before the shutdown so streaming handlers end right away instead
    of being cancelled with a traceback each. The signal is not re-raised afterwards: ``main``
    returns normally.
    """

    def handle_exit(self, sig: int, frame: Optional[FrameType]) -> None:
        self.should_exit = True
        self.force_exit = True

    async def shutdown(self, sockets: Optional[List[socket.socket]] = None) -> None:
        for connection in list(self.server_state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.close()
        await super().shutdown(sockets)


def _fail(message: str) -> int:
    print(f"meshapi gateway: {message}", file=sys.stderr)
    return 2


def _proxy_settings(args: argparse.Namespace) -> Optional[ProxySettings]:
    """The record/replay options as settings (``None`` when none was given); ``ValueError`` if bad."""
    if not (args.upstream or args.record or args.replay):
        if args.replay_fallback:
            raise ValueError("--replay-fallback needs --replay FILE")
        return None
    token = None
    if args.upstream:
        token = os.environ.get(args.upstream_token_env)
        if not token:
            raise ValueError(
                f"--upstream needs the upstream token in ${args.upstream_token_env} (--upstream-token-env)"
            )
    settings = ProxySettings(
        upstream=args.upstream,
        upstream_token=token,
        record=args.record,
        replay=args.replay,
        replay_fallback=args.replay_fallback,
        replay_speed=args.replay_speed,
    )
    if settings.replay:
        from .cassette import Cassette

        Cassette(settings.replay)  # a bad file is a start-up error, not a surprise at the first request
    return settings


def main(argv: Optional[List[str]] = None) -> int:
    """``meshapi gateway``: run the local gateway in the foreground until Ctrl-C; returns 0.

    Bad arguments and unusable settings are one line on stderr and exit status 2 (1 when the port
    cannot be bound).
    """
    args = _parser().parse_args(argv)
    for token in args.tokens or []:
        if not token or any(c.isspace() for c in token):
            return _fail("a --token must be a non-empty string without spaces")
    if args.data_dir is not None:
        problem = _check_data_dir(args.data_dir)
        if problem is not None:
            return _fail(problem)
    try:
        proxy = _proxy_settings(args)
    except (ValueError, CassetteError) as exc:
        return _fail(str(exc))
    names = {f.name for f in dataclasses.fields(GatewaySettings)} - {"inspector", "proxy"}
    chosen = {k: v for k, v in vars(args).items() if k in names}
    settings = GatewaySettings(**chosen, inspector=not args.no_inspector, proxy=proxy)
    try:
        app = create_app(settings=settings)
    except DataDirInUseError as exc:
        print(f"meshapi gateway: {exc}", file=sys.stderr)
        return 1
    except RepliesError as exc:
        return _fail(str(exc))
    except (OSError, sqlite3.Error, ValueError) as exc:
        return _fail(f"cannot start: {exc}")
    state: GatewayState = app.state.gateway
    tokens = state.token_list
    try:
        sock = _bind(args.host, args.port)
    except (OSError, OverflowError) as exc:
        state.close()
        reason = getattr(exc, "strerror", None) or str(exc)
        print(f"meshapi gateway: cannot listen on {args.host}:{args.port}: {reason}", file=sys.stderr)
        return 1
    base_url = f"http://{_url_host(args.host)}:{sock.getsockname()[1]}"
    print(f"MeshAPI local gateway on {base_url}")
    print(f"Token: {tokens[0]}")
    print(f"Admin token: {state.admin_token}")
    if not args.no_inspector:
        print(f"Inspector: {inspector_url(base_url, state.admin_token)}")
    if proxy is not None:
        mode = f"replaying {proxy.replay}" if proxy.replay else f"proxying to {proxy.upstream}"
        print(f"Record/replay: {mode}" + (f", recording to {proxy.record}" if proxy.record else ""))
    print("Use it with:")
    print(f"  export MESHAPI_BASE_URL={base_url}")
    print(f"  export MESHAPI_TOKEN={tokens[0]}")
    print("Press Ctrl-C to stop.", flush=True)
    config = _config(app, args.log_level, access_log=True, default_logging=True)
    config.timeout_graceful_shutdown = 1
    server = _ForegroundServer(config)
    quiet = _QuietCancelled()
    error_log = logging.getLogger("uvicorn.error")
    error_log.addFilter(quiet)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        error_log.removeFilter(quiet)
        sock.close()
        state.close()
    return 0
