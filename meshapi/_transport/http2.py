"""HTTP/2 streams closed before their end are reset (``RST_STREAM``), so their connection keeps working.

On HTTP/1.1 a response closed early closes its connection. On HTTP/2 the connection carries other
streams, and httpcore (1.0.x) only forgets a stream closed early: it neither resets it nor acknowledges
the data still arriving for it. The server then keeps sending that body, and every byte counts against
the connection's receive window (about 16 MiB) without ever being given back; once a few large bodies
were abandoned, no stream of that connection gets another byte and every call on it times out.

The pools the SDK builds (``meshapi._transport.pool``) wrap each HTTP/2 response stream in
:class:`ResetOnClose` / :class:`AsyncResetOnClose`: closing a stream whose end has not arrived sends
``RST_STREAM(CANCEL)`` first (the server stops sending; h2 acknowledges what was already in flight),
then closes it as before. A stream read to its end is closed without a frame. A stream the connection
can no longer reset (the connection failed or closed) is simply closed: that connection is not reused.

Data of a stream that the connection already received but the caller did not read (a typed stream stops
at ``[DONE]``; a comment or keep-alive after it may come in the same TLS record) waits in httpcore's
queue for that stream, which httpcore drops on close without acknowledging it: those bytes stayed
counted against the connection's receive window, a few more with every such stream, until the server
could send nothing more on it. ``close()`` acknowledges them first (:func:`give_back`), reset or not.
"""

from __future__ import annotations

from typing import Any, AsyncIterator, Iterator, Optional, Tuple

from .._errors import ConfigurationError

__all__ = ["AsyncResetOnClose", "ResetOnClose", "check_config", "give_back", "unfinished"]

HTTP2 = b"HTTP/2"


def check_config(config: Any) -> None:
    """``config.http2``: a bool, for the pool the SDK builds, with the ``h2`` package installed (extra
    "http2"); raises ``ConfigurationError`` when the client is made, before anything is sent."""
    http2 = config.http2
    if not isinstance(http2, bool):
        raise ConfigurationError(f"http2 must be True or False, got {type(http2).__name__}")
    if not http2:
        return
    if config.httpx_client is not None or config.async_httpx_client is not None:
        raise ConfigurationError(
            "http2 applies to the pool the SDK builds; pass http2=True to the httpx client you pass in"
        )
    try:
        import h2  # noqa: F401
    except ImportError:
        raise ConfigurationError("http2=True needs the h2 package: pip install 'meshapi[http2]'") from None


def unfinished(pool_stream: Any) -> Optional[Tuple[Any, int, Any]]:
    """``(connection, stream id, request)`` of an httpcore pool stream whose HTTP/2 stream is still open
    (its end not received, not reset), else ``None``."""
    inner: Any = getattr(pool_stream, "_stream", None)
    connection = getattr(inner, "_connection", None)
    stream_id = getattr(inner, "_stream_id", None)
    if connection is None or stream_id is None or getattr(inner, "_closed", True):
        return None
    state = getattr(connection, "_h2_state", None)
    h2_stream = None if state is None else state.streams.get(stream_id)
    if h2_stream is None or h2_stream.closed or getattr(connection, "_connection_error", False):
        return None
    return connection, stream_id, inner._request


def give_back(pool_stream: Any) -> Optional[Tuple[Any, Any]]:
    """Acknowledge the data received for an httpcore pool stream's HTTP/2 stream that nobody read (its
    events still queued), so the connection's receive window gets it back; ``(connection, request)``
    when there is a WINDOW_UPDATE to write, else ``None``."""
    inner: Any = getattr(pool_stream, "_stream", None)
    connection = getattr(inner, "_connection", None)
    stream_id = getattr(inner, "_stream_id", None)
    queued = getattr(connection, "_events", {}).get(stream_id) if stream_id is not None else None
    state = getattr(connection, "_h2_state", None)
    if not queued or state is None or getattr(connection, "_connection_error", False):
        return None
    from h2.events import DataReceived

    unread = sum(event.flow_controlled_length or 0 for event in queued if isinstance(event, DataReceived))
    queued[:] = [event for event in queued if not isinstance(event, DataReceived)]
    if not unread:
        return None
    state.acknowledge_received_data(unread, stream_id)
    return connection, inner._request


def _reset(connection: Any, stream_id: int) -> bool:
    """Queue ``RST_STREAM(CANCEL)`` for ``stream_id``; False if h2 refuses (the stream is already gone)."""
    from h2.errors import ErrorCodes
    from h2.exceptions import H2Error

    try:
        connection._h2_state.reset_stream(stream_id, error_code=ErrorCodes.CANCEL)
    except H2Error:
        return False
    return True


class ResetOnClose:
    """An httpcore pool stream of an HTTP/2 response: on ``close()``, data received but not read is
    acknowledged, and the stream is reset if its end has not arrived."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._stream)

    def close(self) -> None:
        import httpcore

        open_stream = unfinished(self._stream)
        try:
            given = give_back(self._stream)
            if open_stream is not None and _reset(open_stream[0], open_stream[1]):
                open_stream[0]._write_outgoing_data(open_stream[2])
            elif given is not None:
                given[0]._write_outgoing_data(given[1])
        except httpcore.NetworkError:
            pass  # the connection failed: httpcore closes it; nothing more to tell the server
        finally:
            self._stream.close()


class AsyncResetOnClose:
    """The async twin of :class:`ResetOnClose`."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._stream.__aiter__()  # type: ignore[no-any-return]

    async def aclose(self) -> None:
        import httpcore

        open_stream = unfinished(self._stream)
        try:
            given = give_back(self._stream)
            if open_stream is not None and _reset(open_stream[0], open_stream[1]):
                await open_stream[0]._write_outgoing_data(open_stream[2])
            elif given is not None:
                await given[0]._write_outgoing_data(given[1])
        except httpcore.NetworkError:
            pass
        finally:
            await self._stream.aclose()
