"""Raw responses: ``resource.with_raw_response.<method>()`` and ``with_streaming_response``.

Both work for every resource method without the resource knowing: the proxy runs the method with a
``Capture`` in a context variable (``meshapi._transport.capture.CAPTURE``) that the HTTP client fills in, so a
resource added later gets them by inheriting ``SyncAPIResource`` / ``AsyncAPIResource``.

* ``with_raw_response.m(...)`` runs the call as usual and returns a :class:`RawResponse`: status,
  headers, request id, API version served, ``Deprecation`` / ``Sunset``, retries taken, elapsed time, the ``httpx.Response`` and ``parse()`` (what
  ``m`` returned). For a method that makes several requests (uploads, waits), the last one is shown.
* ``with_streaming_response.m(...)`` is a context manager over the *unread* response of the method's
  first request: read it with ``iter_bytes()`` / ``iter_lines()``, or ``parse()`` it, which reads the
  body and hands it to the method instead of sending again. The response is closed on exit.

For streaming methods (``stream()``), both open the stream: ``parse()`` returns the stream object and
the raw response's body is the event stream itself.

The proxies are dynamic (any method, looked up on use); their static types, each method's exact
parameters returning ``RawResponse[R]`` / a context manager over ``StreamedResponse[R]``, are declared
next to the resources (``Views`` in ``meshapi.resources._base``).
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, AsyncIterator, Callable, Generic, Iterator, List, Optional, TypeVar, cast

import httpx

from ._api_version import served_version
from ._core.response import foreign_errors
from ._errors import InvalidParamsError
from ._memory import memory_applied
from ._resilience import GatewayRoutingEvent, routing_event, routing_model
from ._response_cache import cache_hit
from ._streaming import AsyncStream, Stream
from ._transport.capture import CAPTURE, Capture, StopAfterResponse

__all__ = [
    "AsyncStreamedResponse",
    "RawResponse",
    "StreamedResponse",
]

R = TypeVar("R")
_UNSET: Any = object()


class _ResponseInfo:
    """What every raw response view exposes about the HTTP exchange."""

    def __init__(self, capture: Capture) -> None:
        if capture.response is None:
            raise InvalidParamsError("with_raw_response: this method did not send an HTTP request")
        self.http_response: httpx.Response = capture.response
        self.retries_taken: int = capture.retries
        self.elapsed: float = capture.elapsed  # seconds from sending the last attempt to its headers

    @property
    def status_code(self) -> int:
        return self.http_response.status_code

    @property
    def headers(self) -> httpx.Headers:
        return self.http_response.headers

    @property
    def request_id(self) -> Optional[str]:
        value = self.http_response.headers.get("x-request-id")
        return str(value) if value is not None else None

    @property
    def url(self) -> httpx.URL:
        return self.http_response.request.url

    @property
    def api_version(self) -> Optional[str]:
        """The API version the gateway served (``X-Mesh-Version``, else the legacy ``Mesh-Version``)."""
        return served_version(self.http_response.headers)

    @property
    def deprecation(self) -> Optional[str]:
        """The ``Deprecation`` header: set when the route or the version is scheduled for retirement."""
        value = self.http_response.headers.get("deprecation")
        return str(value) if value is not None else None

    @property
    def sunset(self) -> Optional[str]:
        """The ``Sunset`` header: when the deprecated route or version stops being served (an HTTP date)."""
        value = self.http_response.headers.get("sunset")
        return str(value) if value is not None else None

    @property
    def routing(self) -> Optional[GatewayRoutingEvent]:
        """The gateway's routing outcome (``x-mesh-routing-*`` headers), or ``None`` when absent."""
        return routing_event(self.http_response.request.url.path, self.http_response.headers)

    @property
    def routing_model(self) -> Optional[str]:
        """The model that served instead of the one asked for (``X-Mesh-Routing-Model``: cross-model
        fallback or the router's choice), ``None`` when the gateway did not route."""
        return routing_model(self.http_response.headers)

    @property
    def memory_applied(self) -> Optional[List[str]]:
        """The memories whose items were injected (``X-Mesh-Memory-Applied``, a list of slugs; ``[]`` when
        none fitted), ``None`` when the answer does not carry the header."""
        return memory_applied(self.http_response.headers)

    @property
    def cache_hit(self) -> bool:
        """Whether the gateway answered from its response cache (``X-Cache: HIT``; a miss has no header)."""
        return cache_hit(self.http_response.headers)

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} [{self.status_code}] request_id={self.request_id!r} "
            f"retries_taken={self.retries_taken}>"
        )


class RawResponse(_ResponseInfo, Generic[R]):
    """The raw HTTP response of a call made through ``with_raw_response`` (sync and async clients)."""

    def __init__(self, capture: Capture, parsed: R) -> None:
        super().__init__(capture)
        self._parsed = parsed

    def parse(self) -> R:
        """What the method returns without ``with_raw_response``."""
        return self._parsed

    @property
    def content(self) -> bytes:
        """The body (for a stream, read it through the parsed stream instead)."""
        try:
            return self.http_response.content
        except httpx.ResponseNotRead:
            raise InvalidParamsError("this response is a stream: iterate parse() to read it") from None

    @property
    def text(self) -> str:
        return self.content.decode(self.http_response.encoding or "utf-8", errors="replace")


def _is_event_stream(response: httpx.Response) -> bool:
    """An SSE answer (``create(stream=True)``, which opens its stream in the call): ``parse()`` hands it
    unread to the method, which returns its stream object over it."""
    content_type: str = response.headers.get("content-type", "")
    return content_type.split(";", 1)[0].strip().lower() == "text/event-stream"


class StreamedResponse(_ResponseInfo, Generic[R]):
    """The unread response of a ``with_streaming_response`` call (sync); closed when the block exits.
    ``R``: what the method returns, which ``parse()`` gives."""

    def __init__(self, capture: Capture, replay: Callable[[], Any], stream: Optional[Stream[Any]]) -> None:
        super().__init__(capture)
        self._replay = replay
        self._stream = stream
        self._parsed: Any = _UNSET

    def iter_bytes(self, chunk_size: Optional[int] = None) -> Iterator[bytes]:
        """The body as it arrives (decompressed)."""
        with foreign_errors("read"):
            yield from self.http_response.iter_bytes(chunk_size)

    def iter_lines(self) -> Iterator[str]:
        """The body, line by line, as it arrives."""
        with foreign_errors("read"):
            yield from self.http_response.iter_lines()

    def read(self) -> bytes:
        with foreign_errors("read"):
            return self.http_response.read()

    def parse(self) -> R:
        """Read the body and return what the method returns (a stream method: its stream object)."""
        if self._stream is not None:
            return cast(R, self._stream)
        if self._parsed is _UNSET:
            if not _is_event_stream(self.http_response):  # a stream's method reads it itself, live
                self.read()
            self._parsed = self._replay()
        return cast(R, self._parsed)

    def close(self) -> None:
        for stream in (self._stream, self._parsed):
            if isinstance(stream, Stream):
                stream.close()
        self.http_response.close()


class AsyncStreamedResponse(_ResponseInfo, Generic[R]):
    """The unread response of a ``with_streaming_response`` call (async); closed when the block exits.
    ``R``: what the method returns, which ``parse()`` gives."""

    def __init__(
        self, capture: Capture, replay: Callable[[], Any], stream: Optional[AsyncStream[Any]]
    ) -> None:
        super().__init__(capture)
        self._replay = replay
        self._stream = stream
        self._parsed: Any = _UNSET

    async def iter_bytes(self, chunk_size: Optional[int] = None) -> AsyncIterator[bytes]:
        """The body as it arrives (decompressed)."""
        with foreign_errors("read"):
            async for chunk in self.http_response.aiter_bytes(chunk_size):
                yield chunk

    async def iter_lines(self) -> AsyncIterator[str]:
        """The body, line by line, as it arrives."""
        with foreign_errors("read"):
            async for line in self.http_response.aiter_lines():
                yield line

    async def read(self) -> bytes:
        with foreign_errors("read"):
            return await self.http_response.aread()

    async def parse(self) -> R:
        """Read the body and return what the method returns (a stream method: its stream object)."""
        if self._stream is not None:
            return cast(R, self._stream)
        if self._parsed is _UNSET:
            if not _is_event_stream(self.http_response):  # a stream's method reads it itself, live
                await self.read()
            self._parsed = await self._replay()
        return cast(R, self._parsed)

    async def close(self) -> None:
        for stream in (self._stream, self._parsed):
            if isinstance(stream, AsyncStream):
                await stream.aclose()
        await self.http_response.aclose()

    aiter_bytes = iter_bytes
    aiter_lines = iter_lines


# --- the proxies ----------------------------------------------------------------------------------------


def _is_resource(value: Any) -> bool:
    """A nested resource (``client.chat.completions``): its class has the proxies itself.

    Checked by shape, not by class: ``meshapi.resources._base`` imports this module for the proxies.
    """
    return hasattr(type(value), "with_raw_response")


class _Proxy:
    """``resource.with_raw_response`` / ``with_streaming_response``: the same methods, other results."""

    def __init__(self, resource: Any, streaming: bool) -> None:
        self._resource = resource
        self._streaming = streaming

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._resource, name)
        if _is_resource(value):
            return type(self)(value, self._streaming)
        if name.startswith("_") or not callable(value):
            raise AttributeError(f"{type(self._resource).__name__}.{name} is not an API method")
        return self._wrap(value)

    def _wrap(self, method: Callable[..., Any]) -> Callable[..., Any]:
        raise NotImplementedError


def _replay_sync(method: Callable[..., Any], args: Any, kwargs: Any, response: httpx.Response) -> Any:
    capture = Capture("replay")
    capture.response = response
    token = CAPTURE.set(capture)
    try:
        return method(*args, **kwargs)
    finally:
        CAPTURE.reset(token)


class SyncProxy(_Proxy):
    def _wrap(self, method: Callable[..., Any]) -> Callable[..., Any]:
        if self._streaming:

            @functools.wraps(method)
            def streaming(*args: Any, **kwargs: Any) -> _StreamingCall:
                return _StreamingCall(method, args, kwargs)

            return streaming

        @functools.wraps(method)
        def raw(*args: Any, **kwargs: Any) -> RawResponse[Any]:
            capture = Capture("raw")
            token = CAPTURE.set(capture)
            try:
                result = method(*args, **kwargs)
                if isinstance(result, Stream):
                    result._open()
            finally:
                CAPTURE.reset(token)
            return RawResponse(capture, result)

        return raw


class _StreamingCall:
    def __init__(self, method: Callable[..., Any], args: Any, kwargs: Any) -> None:
        self._call = (method, args, kwargs)
        self._response: Optional[StreamedResponse[Any]] = None

    def __enter__(self) -> StreamedResponse[Any]:
        method, args, kwargs = self._call
        capture = Capture("stream")
        token = CAPTURE.set(capture)
        stream = None
        try:
            try:
                result = method(*args, **kwargs)
            except StopAfterResponse:
                pass
            else:
                if isinstance(result, Stream):
                    capture.mode = "raw"  # a stream's response is unread anyway
                    result._open()
                    stream = result
        finally:
            CAPTURE.reset(token)
        response: Any = capture.response
        self._response = StreamedResponse(
            capture, lambda: _replay_sync(method, args, kwargs, response), stream
        )
        return self._response

    def __exit__(self, *exc_info: object) -> None:
        if self._response is not None:
            self._response.close()


async def _replay_async(method: Callable[..., Any], args: Any, kwargs: Any, response: httpx.Response) -> Any:
    capture = Capture("replay")
    capture.response = response
    token = CAPTURE.set(capture)
    try:
        result = method(*args, **kwargs)
        return await result if inspect.isawaitable(result) else result
    finally:
        CAPTURE.reset(token)


class AsyncProxy(_Proxy):
    def _wrap(self, method: Callable[..., Any]) -> Callable[..., Any]:
        if self._streaming:

            @functools.wraps(method)
            def streaming(*args: Any, **kwargs: Any) -> _AsyncStreamingCall:
                return _AsyncStreamingCall(method, args, kwargs)

            return streaming

        @functools.wraps(method)
        async def raw(*args: Any, **kwargs: Any) -> RawResponse[Any]:
            capture = Capture("raw")
            token = CAPTURE.set(capture)
            try:
                result = method(*args, **kwargs)
                if inspect.isawaitable(result):
                    result = await result
                if isinstance(result, AsyncStream):
                    await result._open()
            finally:
                CAPTURE.reset(token)
            return RawResponse(capture, result)

        return raw


class _AsyncStreamingCall:
    def __init__(self, method: Callable[..., Any], args: Any, kwargs: Any) -> None:
        self._call = (method, args, kwargs)
        self._response: Optional[AsyncStreamedResponse[Any]] = None

    async def __aenter__(self) -> AsyncStreamedResponse[Any]:
        method, args, kwargs = self._call
        capture = Capture("stream")
        token = CAPTURE.set(capture)
        stream = None
        try:
            try:
                result = method(*args, **kwargs)
                if inspect.isawaitable(result):
                    result = await result
            except StopAfterResponse:
                pass
            else:
                if isinstance(result, AsyncStream):
                    capture.mode = "raw"
                    await result._open()
                    stream = result
        finally:
            CAPTURE.reset(token)
        response: Any = capture.response
        self._response = AsyncStreamedResponse(
            capture, lambda: _replay_async(method, args, kwargs, response), stream
        )
        return self._response

    async def __aexit__(self, *exc_info: object) -> None:
        if self._response is not None:
            await self._response.close()
