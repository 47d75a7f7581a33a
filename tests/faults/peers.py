"""Tiny misbehaving HTTP peers on raw sockets, for faults the real gateway cannot produce.

A ``RawPeer`` listens on ``127.0.0.1:0`` in one daemon thread, reads each request (headers and a
``Content-Length`` body), records it, and hands the connection to a *behaviour*: reset it at once
(``SO_LINGER 0``, so the client sees an RST, not a clean FIN), send headers and some bytes then reset,
answer a redirect, send a chunked body piece by piece on a schedule, and so on. Everything is bounded: the accept loop polls a stop flag every 20 ms,
every socket has a timeout, and leaving the ``with`` block closes the listener and joins the thread.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

__all__ = [
    "RawPeer",
    "RawRequest",
    "closed_port",
    "headers_then_reset",
    "redirect_to",
    "reset_at_once",
    "respond",
    "scripted_stream",
]

Behaviour = Callable[[socket.socket, "RawRequest"], None]


@dataclass
class RawRequest:
    method: str
    path: str
    headers: Dict[str, str]
    body: bytes = b""
    raw_head: bytes = field(default=b"", repr=False)


def _read_request(conn: socket.socket) -> Optional[RawRequest]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
        if len(data) > 1 << 20:
            return None
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _version = lines[0].split(" ", 2)
    headers: Dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    body = rest
    while len(body) < length:
        chunk = conn.recv(min(65536, length - len(body)))
        if not chunk:
            break
        body += chunk
    return RawRequest(method, path, headers, body, head)


def _reset(conn: socket.socket) -> None:
    """Close with an RST instead of a FIN (linger on, timeout 0)."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def reset_at_once(conn: socket.socket, request: RawRequest) -> None:
    """Read the request, answer nothing, reset the connection."""
    _reset(conn)


def headers_then_reset(
    status: int = 200,
    *,
    content_type: str = "application/json",
    body_prefix: bytes = b"",
    request_id: str = "req_rawpeer",
    content_length: Optional[int] = 4096,
) -> Behaviour:
    """Send a status line and headers (promising ``content_length`` bytes, or chunked when ``None``),
    then ``body_prefix``, then reset."""

    def behaviour(conn: socket.socket, request: RawRequest) -> None:
        head = [f"HTTP/1.1 {status} X", f"Content-Type: {content_type}", f"X-Request-Id: {request_id}"]
        if content_length is None:
            head.append("Transfer-Encoding: chunked")
            payload = (f"{len(body_prefix):x}\r\n".encode() + body_prefix + b"\r\n") if body_prefix else b""
        else:
            head.append(f"Content-Length: {content_length}")
            payload = body_prefix
        conn.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload)
        _reset(conn)

    return behaviour


def respond(status: int, headers: Dict[str, str], body: bytes = b"") -> Behaviour:
    """A complete, well-formed response, then a clean close."""

    def behaviour(conn: socket.socket, request: RawRequest) -> None:
        lines = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}", "Connection: close"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        conn.close()

    return behaviour


def scripted_stream(pieces: Sequence[Tuple[float, bytes]], headers: Dict[str, str]) -> Behaviour:
    """A 200 with a chunked body: each ``(delay, data)`` piece sent ``delay`` seconds after the one
    before; stops early (quietly) once the client has gone, ends with the last chunk otherwise."""

    def behaviour(conn: socket.socket, request: RawRequest) -> None:
        lines = ["HTTP/1.1 200 OK", "Transfer-Encoding: chunked", *(f"{k}: {v}" for k, v in headers.items())]
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        try:
            for delay, data in pieces:
                time.sleep(delay)
                conn.sendall(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            conn.sendall(b"0\r\n\r\n")
        except OSError:  # the client closed the stream
            return
        conn.close()

    return behaviour


def redirect_to(location: str, status: int = 307) -> Behaviour:
    return respond(status, {"Location": location, "X-Request-Id": "req_redirect"})


class RawPeer:
    """A listening socket on 127.0.0.1 whose every connection gets ``behaviour`` (see module doc)."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.requests: List[RawRequest] = []
        self.connections = 0
        self._stop = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._listener.settimeout(0.02)
        self.port: int = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, name=f"rawpeer-{self.port}", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except (socket.timeout, BlockingIOError):
                continue
            except OSError:
                return
            self.connections += 1
            try:
                conn.settimeout(5.0)
                request = _read_request(conn)
                if request is None:
                    conn.close()
                    continue
                self.requests.append(request)
                self.behaviour(conn, request)
            except OSError:
                pass
            finally:
                conn.close()  # no-op when the behaviour already closed it

    def __enter__(self) -> RawPeer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5.0)
        self._listener.close()
        assert not self._thread.is_alive(), "raw peer thread did not stop"


def closed_port() -> int:
    """A port on 127.0.0.1 with nothing listening (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
