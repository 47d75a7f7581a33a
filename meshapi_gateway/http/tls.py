"""The gateway app over TLS with HTTP/2, through hypercorn: uvicorn (the gateway's own server) has no HTTP/2.

HTTP clients negotiate HTTP/2 with ALPN during the TLS handshake only, so an HTTP/2 gateway needs a
certificate: :func:`self_signed` writes one for ``127.0.0.1`` and ``localhost`` (with ``cryptography``),
which a client trusts through ``SSL_CERT_FILE`` or its ``verify``. :func:`serve_tls` runs hypercorn in a thread on a
socket bound to ``127.0.0.1:0`` (or one given: ``meshapi gateway --http2``, ``cli_tls.py``) and offers
``h2`` and ``http/1.1``, so the same server measures both.
Neither hypercorn nor cryptography is a dependency of the gateway extra (they come with ``gateway-http2``):
both are imported here only (``cli_tls.py`` checks they are there).
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import os
import socket
import threading
from typing import Any, Dict, List, Optional, Tuple

__all__ = ["TLSServer", "self_signed", "serve_tls"]


def self_signed(directory: str, host: str = "127.0.0.1") -> Tuple[str, str]:
    """Write ``cert.pem`` and ``key.pem`` into ``directory``: a self-signed certificate for ``host`` (an
    address or a name), ``localhost``, ``127.0.0.1`` and ``::1``, valid for a day."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(_names(host)), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    with open(cert_file, "wb") as out:
        out.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_file, "wb") as out:
        out.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return cert_file, key_file


def _names(host: str) -> List[Any]:
    """The subject alternative names of :func:`self_signed`'s certificate."""
    from cryptography import x509

    names: List[Any] = [x509.DNSName("localhost")]
    for address in (host, "127.0.0.1", "::1"):
        try:
            name: Any = x509.IPAddress(ipaddress.ip_address(address))
        except ValueError:  # a host name
            name = x509.DNSName(address)
        if name not in names:
            names.append(name)
    return names


def _quiet_cancelled(loop: asyncio.AbstractEventLoop, context: Dict[str, Any]) -> None:
    """The server loop's exception handler: connections cancelled at shutdown are not worth a traceback."""
    if not isinstance(context.get("exception"), asyncio.CancelledError):
        loop.default_exception_handler(context)


class TLSServer:
    """hypercorn serving ``app`` over TLS (HTTP/2 and HTTP/1.1) in a daemon thread; ``base_url`` is https.

    ``stop()`` (or leaving the ``with`` block) shuts it down and waits for the thread (at most 5 s).
    """

    def __init__(
        self,
        app: Any,
        cert_file: str,
        key_file: str,
        host: str = "127.0.0.1",
        sock: Optional[socket.socket] = None,
    ) -> None:
        from hypercorn.config import Config

        if sock is None:  # else a socket already bound (``meshapi gateway --http2``), closed by ``stop()``
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, 0))
        self._sock = sock
        self._sock.listen(128)
        self.port: int = self._sock.getsockname()[1]
        self.base_url = f"https://{host}:{self.port}"
        config = Config()
        config.bind = [f"fd://{os.dup(self._sock.fileno())}"]  # hypercorn closes the fd it is given
        config.certfile, config.keyfile = cert_file, key_file
        config.alpn_protocols = ["h2", "http/1.1"]
        config.accesslog = config.errorlog = None
        config.graceful_timeout = 1.0
        # hypercorn ends a connection after 1,000 requests (GOAWAY on HTTP/2): a benchmark's one
        # HTTP/2 connection would be cut in the middle of its calls
        config.keep_alive_max_requests = 1_000_000_000
        self._config = config
        self._app = app
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._stopping: Optional[asyncio.Event] = None
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, name="meshapi-gateway-tls", daemon=True)

    def _run(self) -> None:
        from hypercorn.asyncio import serve

        async def main() -> None:
            self._loop, self._stopping = asyncio.get_running_loop(), asyncio.Event()
            self._loop.set_exception_handler(_quiet_cancelled)
            self._started.set()
            await serve(self._app, self._config, shutdown_trigger=self._stopping.wait, mode="asgi")

        asyncio.run(main())

    def start(self) -> TLSServer:
        if self._thread.ident is None:  # started once; ``with serve_tls(...)`` enters a started server
            self._thread.start()
        self._started.wait(5.0)
        return self

    @property
    def running(self) -> bool:
        """True while the server thread runs (it ends when stopped, or when hypercorn failed)."""
        return self._thread.is_alive()

    def stop(self) -> None:
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None and self._thread.is_alive():
            loop.call_soon_threadsafe(stopping.set)
        self._thread.join(5.0)
        self._sock.close()

    def __enter__(self) -> TLSServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def serve_tls(app: Any, cert_file: str, key_file: str) -> TLSServer:
    """Start ``app`` (for example ``create_app(...)``) behind hypercorn over TLS; use as a context manager."""
    return TLSServer(app, cert_file, key_file).start()
