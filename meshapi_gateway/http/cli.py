"""``meshapi gateway``: the local gateway in the foreground, with checked arguments and a quiet Ctrl-C.

:func:`main` parses the command line into :class:`~meshapi_gateway.settings.GatewaySettings` (a bad
argument or an unusable setting is one line on stderr and exit status 2), prints where the gateway
listens and how to use it, and runs uvicorn until Ctrl-C or SIGTERM, which stops it at once, open
streams included, without a traceback (``--http2``: hypercorn over TLS instead, ``cli_tls.py``). The
options themselves are declared in ``cli_args.py``. The background-thread runner for tests is
``server.py``.
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
from types import FrameType
from typing import Any, Dict, List, Optional, Union

import uvicorn

from ..fakes.replies import RepliesError
from ..record.cassette import Cassette, CassetteError
from ..record.inspector import inspector_url
from ..settings import GatewaySettings, ProxySettings
from ..store.state import GatewayState
from ..store.storage import DataDirInUseError
from ..webhooks.endpoints import shown_url
from . import cli_tls
from .app import create_app
from .cli_args import build_parser
from .cli_webhooks import paired_webhooks
from .server import bind_socket, url_host, uvicorn_config

_parser = build_parser  # the name tests and ``meshapi.gateway.server`` import


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


def _given(**options: Any) -> Dict[str, Any]:
    """The options that were given on the command line (the others keep their settings default)."""
    return {name: value for name, value in options.items() if value is not None}


def _proxy_settings(args: argparse.Namespace) -> Optional[ProxySettings]:
    """The record/replay options as settings (``None`` when none was given); ``ValueError`` if bad."""
    if args.upstream_timeout is not None and not args.upstream:
        raise ValueError("--upstream-timeout needs --upstream URL")
    if args.record_max_bytes is not None and not args.record:
        raise ValueError("--record-max-bytes needs --record FILE")
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
        **_given(timeout=args.upstream_timeout, record_max_bytes=args.record_max_bytes),
    )
    if settings.replay:
        Cassette(settings.replay)  # a bad file is a start-up error, not a surprise at the first request
    return settings


def _chosen_limits(args: argparse.Namespace) -> Union[bool, str, None]:
    """The ``rate_limits`` setting: the documented limits unless an option says otherwise."""
    if args.no_rate_limit:
        return False
    if args.rate_limit:
        return str(args.rate_limit)
    return None if (args.rpm or args.rpd) else True


def _limits_line(state: GatewayState) -> str:
    rpm, rpd = state.limiter.rpm, state.limiter.rpd
    if rpm is None and rpd is None:
        return "none (--rate-limit RPM[/DAY] sets some)"
    parts = [f"{rpm}/min" if rpm is not None else "", f"{rpd}/day" if rpd is not None else ""]
    return " and ".join(p for p in parts if p) + " per token (--no-rate-limit turns them off)"


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
        webhooks = paired_webhooks(args.webhook_urls, args.webhook_secrets)
    except (ValueError, CassetteError) as exc:
        return _fail(str(exc))
    if (args.rate_limit or args.no_rate_limit) and (args.rpm or args.rpd):
        return _fail("choose --rate-limit / --no-rate-limit or --rpm / --rpd, not both")
    tls_problem = cli_tls.problem(args)
    if tls_problem is not None:
        return _fail(tls_problem)
    names = {f.name for f in dataclasses.fields(GatewaySettings)} - {"inspector", "proxy", "rate_limits"}
    chosen = {k: v for k, v in vars(args).items() if k in names}
    chosen["rate_limits"] = _chosen_limits(args)
    chosen["routing"] = dict(args.routing) if args.routing else None
    chosen["allowed_hosts"] = tuple(args.allowed_hosts or ())
    chosen["webhooks"] = webhooks
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
        sock = bind_socket(args.host, args.port)
    except (OSError, OverflowError) as exc:
        state.close()
        reason = getattr(exc, "strerror", None) or str(exc)
        print(f"meshapi gateway: cannot listen on {args.host}:{args.port}: {reason}", file=sys.stderr)
        return 1
    cert = cli_tls.certificate(args) if args.http2 else None
    base_url = f"{'https' if cert else 'http'}://{url_host(args.host)}:{sock.getsockname()[1]}"
    print(f"MeshAPI local gateway on {base_url}")
    minted = args.tokens is None and not os.environ.get("MESHAPI_TOKEN")
    print(f"Token: {tokens[0]}" + (" (random, for this run; choose one with --token)" if minted else ""))
    print(f"Admin token: {state.admin_token}")
    print(f"Rate limits: {_limits_line(state)}")
    if cert is not None:
        made = " (self-signed for localhost, for this run; trust it with SSL_CERT_FILE)" if cert.made else ""
        print(f"HTTP/2 and HTTP/1.1 over TLS (hypercorn), certificate: {cert.cert_file}{made}")
    if not args.no_inspector:
        print(f"Inspector: {inspector_url(base_url, state.admin_token)}")
    if webhooks:
        print(f"Webhooks: {', '.join(shown_url(url) for url, _ in webhooks)}")
    if proxy is not None:
        mode = f"replaying {proxy.replay}" if proxy.replay else f"proxying to {proxy.upstream}"
        print(f"Record/replay: {mode}" + (f", recording to {proxy.record}" if proxy.record else ""))
    print("Use it with:")
    print(f"  export MESHAPI_BASE_URL={base_url}")
    print(f"  export MESHAPI_TOKEN={tokens[0]}")
    if cert is not None and cert.made:
        print(f"  export SSL_CERT_FILE={cert.cert_file}")
    print("Press Ctrl-C to stop.", flush=True)
    if cert is not None:
        try:
            cli_tls.serve_foreground(app, sock, cert)
        finally:
            cert.close()
            state.close()
        return 0
    config = uvicorn_config(app, args.log_level, access_log=True, default_logging=True)
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
