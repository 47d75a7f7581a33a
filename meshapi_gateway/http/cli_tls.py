"""``meshapi gateway --http2``: the command's side of serving the gateway's app over TLS with HTTP/2.

Why this exists: uvicorn (the gateway's own server) has no HTTP/2, and clients speak HTTP/2 only when
the TLS handshake offers it (ALPN), so ``--http2`` serves ``https://`` through hypercorn (``tls.py``).
This module is what the command adds around that server: the packages it needs, checked before
anything starts (one line naming the extra ``gateway-http2``), the certificate (``--certfile`` /
``--keyfile``, checked by loading them, or a self-signed one for ``localhost`` written to a temporary
directory for this run and deleted at exit), and running until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import signal
import socket
import ssl
import tempfile
import threading
from typing import Any, List, Optional

__all__ = ["EXTRA", "Certificate", "certificate", "problem", "serve_foreground"]

EXTRA = "meshapi[gateway-http2]"


def _absent(names: List[str]) -> List[str]:
    absent = []
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError:
            absent.append(name)
    return absent


def problem(args: argparse.Namespace) -> Optional[str]:
    """What keeps the TLS options from being used (one line), or ``None``."""
    if not args.http2:
        given = [name for name in ("certfile", "keyfile") if getattr(args, name)]
        return f"--{given[0]} needs --http2 (TLS is served by the HTTP/2 server)" if given else None
    if bool(args.certfile) != bool(args.keyfile):
        return "--certfile and --keyfile go together (or give neither: a self-signed certificate is made)"
    absent = _absent(["hypercorn", "h2"])
    if absent:
        return f"--http2 needs {' and '.join(absent)}: pip install '{EXTRA}'"
    if not args.certfile and _absent(["cryptography"]):
        return (
            f"--http2 without --certfile makes a certificate with cryptography: pip install '{EXTRA}' "
            "(or give --certfile and --keyfile)"
        )
    if args.certfile:
        try:
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(args.certfile, args.keyfile)
        except (OSError, ssl.SSLError) as exc:
            reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or str(exc)
            return f"cannot use --certfile {args.certfile} with --keyfile {args.keyfile}: {reason}"
    return None


class Certificate:
    """The certificate and key served; ``made`` when self-signed for this run (``close()`` deletes it)."""

    def __init__(self, cert_file: str, key_file: str, directory: Optional[str] = None) -> None:
        self.cert_file, self.key_file, self._directory = cert_file, key_file, directory

    @property
    def made(self) -> bool:
        return self._directory is not None

    def close(self) -> None:
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)


def certificate(args: argparse.Namespace) -> Certificate:
    """``--certfile`` / ``--keyfile``, or a self-signed certificate for ``--host`` and ``localhost``."""
    if args.certfile:
        return Certificate(args.certfile, args.keyfile)
    from .tls import self_signed

    directory = tempfile.mkdtemp(prefix="meshapi-gateway-tls-")
    host = args.host if args.host not in ("0.0.0.0", "::", "") else "127.0.0.1"  # every interface
    return Certificate(*self_signed(directory, host), directory=directory)


def serve_foreground(app: Any, sock: socket.socket, cert: Certificate) -> None:
    """hypercorn on ``sock`` until Ctrl-C or SIGTERM (or until it fails); closes ``sock``."""
    from .tls import TLSServer

    stop = threading.Event()
    signals = (signal.SIGINT, signal.SIGTERM) if threading.current_thread() is threading.main_thread() else ()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in signals}
    server = TLSServer(app, cert.cert_file, cert.key_file, sock=sock)
    try:
        server.start()
        while server.running and not stop.wait(0.2):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.stop()
