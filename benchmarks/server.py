"""A minimal HTTP/1.1 keep-alive server for the benchmarks: raw asyncio, pre-built bodies.

The server has to be cheap so that the client's cost dominates what is measured. It parses just enough
HTTP/1.1 (request line, headers, ``Content-Length`` body; no chunked request bodies) and answers every
request from bytes built once at start-up:

``POST /v1/chat/completions``
    without ``x-bench-chunks``: a small ``chat.completion`` JSON body (``Content-Length``);
    with ``x-bench-chunks: N``: an SSE stream of N ``chat.completion.chunk`` events, a finish chunk,
    a usage chunk and ``data: [DONE]``, sent with chunked transfer encoding in batches and with
    write flow control (so a 200,000-chunk stream does not pile up in the server's memory).

Every response carries ``x-bench-connection: <n>``, the number of the connection it came on, so a
client can tell whether its second stream reused the first one's connection.

Run it in its own process (``python -m benchmarks.server``): it prints ``PORT <n>`` on its first line
and serves until it gets SIGTERM/SIGINT or its parent exits, so it never shares the GIL with the client measured.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import sys
from typing import Dict, List, Optional, Tuple

__all__ = ["COMPLETION", "build_event", "main"]

COMPLETION = {
    "id": "chatcmpl-bench",
    "object": "chat.completion",
    "created": 1767312000,
    "model": "bench/echo-1",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hello! How can I help you today?"},
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 9, "completion_tokens": 9, "total_tokens": 18},
}

_COMPLETION_BODY = json.dumps(COMPLETION, separators=(",", ":")).encode()
_BATCH = 64  # events per write (one HTTP chunk)


def build_event(index: int) -> bytes:
    """The SSE bytes of content chunk ``index`` (about 190 bytes, like a real gateway's chunk)."""
    chunk = {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": 1767312000,
        "model": "bench/echo-1",
        "choices": [{"index": 0, "delta": {"content": f"tok{index:04d} "}, "finish_reason": None}],
    }
    return b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\n"


def _tail() -> bytes:
    base = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1767312000}
    finish = {
        **base,
        "model": "bench/echo-1",
        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
    }
    usage = {
        **base,
        "model": "bench/echo-1",
        "choices": [],
        "usage": {"prompt_tokens": 9, "completion_tokens": 9, "total_tokens": 18},
    }
    return b"".join(
        b"data: " + json.dumps(obj, separators=(",", ":")).encode() + b"\n\n" for obj in (finish, usage)
    ) + (b"data: [DONE]\n\n")


_DISTINCT = 16 * _BATCH  # events cycle through 1024 pre-built ones, i.e. 16 pre-built batches
_EVENTS = [build_event(i) for i in range(_DISTINCT)]
_BATCHES = [b"".join(_EVENTS[i : i + _BATCH]) for i in range(0, _DISTINCT, _BATCH)]
_TAIL = _tail()


def _chunked(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def _stream_pieces(count: int) -> List[Tuple[int, int]]:
    """``(start, stop)`` event ranges of at most ``_BATCH`` events covering ``0..count``."""
    return [(start, min(start + _BATCH, count)) for start in range(0, count, _BATCH)]


_SERIALS = itertools.count(1)  # every connection's number, sent as x-bench-connection (reuse check)


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self._serial = next(_SERIALS)
        self._buffer = b""
        self._transport: Optional[asyncio.Transport] = None
        self._writable: Optional[asyncio.Event] = None
        self._streaming: Optional[asyncio.Task[None]] = None
        self._queued: List[Tuple[bytes, Dict[bytes, bytes]]] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._writable = asyncio.Event()
        self._writable.set()

    def connection_lost(self, exc: Optional[Exception]) -> None:
        if self._streaming is not None:
            self._streaming.cancel()
        self._transport = None
        if self._writable is not None:
            self._writable.set()

    def pause_writing(self) -> None:
        assert self._writable is not None
        self._writable.clear()

    def resume_writing(self) -> None:
        assert self._writable is not None
        self._writable.set()

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while True:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self._buffer[:end].split(b"\r\n")
            headers: Dict[bytes, bytes] = {}
            for line in head[1:]:
                name, _, value = line.partition(b":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get(b"content-length", b"0"))
            if len(self._buffer) < end + 4 + length:
                return
            self._buffer = self._buffer[end + 4 + length :]
            self._queued.append((head[0], headers))
            if self._streaming is None:
                self._dispatch()

    def _dispatch(self) -> None:
        while self._queued and self._streaming is None and self._transport is not None:
            request_line, headers = self._queued.pop(0)
            chunks = headers.get(b"x-bench-chunks")
            if chunks is not None:
                self._streaming = asyncio.ensure_future(self._stream(int(chunks)))
                self._streaming.add_done_callback(self._stream_done)
                return
            if not request_line.startswith(b"POST /v1/chat/completions"):
                self._transport.write(
                    b"HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"
                )
                continue
            self._transport.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-request-id: req_bench\r\n"
                b"x-bench-connection: %d\r\ncontent-length: %d\r\n\r\n%s"
                % (self._serial, len(_COMPLETION_BODY), _COMPLETION_BODY)
            )

    def _stream_done(self, task: asyncio.Task[None]) -> None:
        self._streaming = None
        if not task.cancelled() and task.exception() is not None and self._transport is not None:
            self._transport.close()
            return
        self._dispatch()

    async def _stream(self, count: int) -> None:
        transport, writable = self._transport, self._writable
        assert transport is not None and writable is not None
        transport.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
            b"x-request-id: req_bench_stream\r\nx-bench-connection: %d\r\n"
            b"transfer-encoding: chunked\r\n\r\n" % self._serial
        )
        for start, stop in _stream_pieces(count):
            if stop - start == _BATCH:
                body = _BATCHES[(start // _BATCH) % len(_BATCHES)]
            else:
                body = b"".join(_EVENTS[i % _DISTINCT] for i in range(start, stop))
            transport.write(_chunked(body))
            if not writable.is_set():
                await writable.wait()
                if self._transport is None:
                    return
        transport.write(_chunked(_TAIL) + b"0\r\n\r\n")


async def _serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Connection, "127.0.0.1", port, backlog=1024, reuse_address=True)
    sock = server.sockets[0]
    sys.stdout.write(f"PORT {sock.getsockname()[1]}\n")
    sys.stdout.flush()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    parent = os.getppid()

    async def watch_parent() -> None:  # an orphaned server stops by itself
        while os.getppid() == parent:
            await asyncio.sleep(1.0)
        stop.set()

    watcher = asyncio.ensure_future(watch_parent())
    async with server:
        await stop.wait()
    watcher.cancel()


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    asyncio.run(_serve(port))


if __name__ == "__main__":
    main()
