"""Fork safety: a client made before ``os.fork()`` must not share its open connections with the child.

gunicorn ``--preload``, ``multiprocessing`` (fork start method) and Celery's prefork workers fork a
process that may already hold keep-alive connections. If parent and child both wrote into the same
socket the gateway would read interleaved, mangled requests. So:

* ``os.register_at_fork`` bumps :data:`generation` in the child; an HTTP client compares it with the
  value it was made under before each call (one integer comparison: no ``getpid`` per call).
* The sync client's own pool is replaced in the child; the inherited sockets are closed *without
  sending anything* (a plain ``close()`` of the child's copy of the descriptor: no TLS close_notify,
  no FIN while the parent still holds the connection) and without taking the pool's lock (another
  thread of the parent may have held it at the fork).
* An ``httpx_client`` you passed in is yours: the child gets a ``ConfigurationError``
  (``error_code="client_used_after_fork"``) explaining how to create clients after the fork, unless
  the client was made with ``new_pool_after_fork=True`` (then the SDK makes a plain pool of its own).
* The async clients get a fresh pool in the child when the inherited one has no open connection (the
  usual preload case); a pool with live connections belongs to the parent's event loop and cannot be
  dropped safely from another loop, so that is the same typed error, raised at once, never a hang.
* The SDK's own pools share one verifying SSL context (:func:`ssl_context`), built under the lock a
  fork holds (``meshapi._forksafe.LOCK``): a child never inherits OpenSSL's locks from a thread
  half-way through loading the CA bundle (which hung it), and a new client no longer loads it again.
  A pool made before it is loaded loads it at its first ``https`` request; until then it holds
  :func:`unloaded_ssl_context`, made under the same lock for the same reason, and made before a fork
  if not yet, so a child inherits it.
"""

from __future__ import annotations

import os
import ssl
import threading
from typing import Any, Dict, Iterator, List, Tuple

import httpx

from .._errors import ConfigurationError
from .._forksafe import LOCK

__all__ = [
    "close_inherited",
    "fork_error",
    "generation",
    "has_connections",
    "ssl_context",
    "ssl_ready",
    "swap_lock",
    "unloaded_ssl_context",
]

_generation = 0
# Serialises the pool swap when several threads of the child notice the fork at once (each would
# otherwise make a pool, and all but the last would leak). Made anew in the child: another thread of
# the parent may have held it at the fork.
_swap_lock = threading.Lock()


# by (SSL_CERT_FILE, SSL_CERT_DIR), as httpx reads them, and whether the pool offers HTTP/2
_ssl_contexts: Dict[Tuple[str, str, bool], Any] = {}
_unloaded: Any = None  # see unloaded_ssl_context


def _ssl_key(http2: bool = False) -> Tuple[str, str, bool]:
    return os.environ.get("SSL_CERT_FILE", ""), os.environ.get("SSL_CERT_DIR", ""), http2


def ssl_context(http2: bool = False) -> Any:
    """The verifying ``ssl.SSLContext`` of the SDK's own pools (what httpx would build for each client),
    made once per process (per ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``): no pool loads the CA bundle again,
    and ``meshapi._warmup`` loads it in its thread so an async client's first call does not.

    ``http2``: the context of HTTP/2 pools, a separate one: httpcore sets the ALPN protocols on the
    context at each connect (``h2`` offered or not), so a shared one would let an HTTP/1.1 pool's
    connection negotiate HTTP/2 (and an HTTP/2 pool's fall back to HTTP/1.1) when two connect at once."""
    key = _ssl_key(http2)
    context = _ssl_contexts.get(key)
    if context is None:
        with LOCK:
            context = _ssl_contexts.get(key)
            if context is None:
                context = _ssl_contexts[key] = httpx.create_ssl_context()
    return context


class _Unloaded(ssl.SSLContext):
    """A context no handshake may use: a connection that somehow got it fails at once, loudly, instead of
    going out with a context nobody configured (``ssl.SSLContext`` may be another trust store's class)."""

    def wrap_socket(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        raise ssl.SSLError("meshapi: this pool's TLS context was never loaded (a bug: please report it)")

    wrap_bio = wrap_socket  # type: ignore[assignment]


def unloaded_ssl_context() -> Any:
    """What a pool of ours holds until its first ``https`` request loads :func:`ssl_context` (see
    ``meshapi._transport.pool.defer_tls``): it refuses every handshake. One per process, made under the
    lock a fork holds: making an OpenSSL context in one thread while another forks hung the child."""
    global _unloaded
    if _unloaded is None:
        with LOCK:
            if _unloaded is None:
                _unloaded = _Unloaded(ssl.PROTOCOL_TLS_CLIENT)
    return _unloaded


def ssl_ready(http2: bool = False) -> bool:
    """Whether :func:`ssl_context` (of ``http2`` pools or not) would return at once (nothing left to load)."""
    return _ssl_key(http2) in _ssl_contexts


def _after_fork_in_child() -> None:
    global _generation, _swap_lock
    _generation += 1
    _swap_lock = threading.Lock()


def swap_lock() -> threading.Lock:
    """The lock an HTTP client holds while it replaces its inherited pool (see :data:`_swap_lock`)."""
    return _swap_lock


if hasattr(os, "register_at_fork"):  # POSIX; elsewhere there is no fork to detect
    # before a fork, the placeholder context is made if it is not yet: the child, whose first client
    # needs it, then makes no OpenSSL context (one another thread's OpenSSL work had left locked hung it)
    os.register_at_fork(before=unloaded_ssl_context, after_in_child=_after_fork_in_child)


def generation() -> int:
    """How many forks this process is away from where it started (0 in the original process)."""
    return _generation


def _pools(client: Any) -> Iterator[Any]:
    transports = [getattr(client, "_transport", None), *getattr(client, "_mounts", {}).values()]
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        if pool is not None:
            yield pool


def _connections(client: Any) -> List[Any]:
    found: List[Any] = []
    for pool in _pools(client):
        found.extend(list(getattr(pool, "_connections", None) or []))
    return found


def has_connections(client: Any) -> bool:
    """Whether an httpx client's pool holds any connection (aiohttp: whether its session exists)."""
    transport = getattr(client, "_transport", None)
    if getattr(transport, "_session", None) is not None:  # AiohttpTransport: bound to a loop
        return True
    return bool(_connections(client))


def close_inherited(client: Any) -> None:
    """Close the child's copies of an inherited sync pool's sockets, sending nothing, taking no lock."""
    for connection in _connections(client):
        inner = getattr(connection, "_connection", None)
        stream = getattr(inner, "_network_stream", None)
        # the SDK's pools wrap it (meshapi._transport.pool._Stream)
        stream = getattr(stream, "_inner", stream)
        sock = getattr(stream, "_sock", None)
        if sock is not None:
            try:
                sock.close()  # the parent's descriptor stays open: no FIN, no close_notify is sent
            except OSError:
                pass
    for pool in _pools(client):
        try:
            pool._connections = []
        except Exception:  # a pool that is not httpcore's: leave it alone
            pass


def fork_error(what: str) -> ConfigurationError:
    return ConfigurationError(
        f"This {what} was created before the process forked and cannot be used in the child: its "
        "connections belong to the parent. Create the client inside the child process (after the fork: "
        "in gunicorn's post_fork hook, Celery's worker_process_init signal or the multiprocessing target)"
        + (
            ", or pass new_pool_after_fork=True to let the SDK open a fresh pool of its own."
            if "httpx" in what
            else "."
        ),
        error_code="client_used_after_fork",
    )
