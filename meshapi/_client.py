"""The two facades: ``MeshAPI`` (blocking) and ``AsyncMeshAPI`` (asyncio).

Each owns one transport shared by all its resources. Resources are created on first use and then kept,
so ``client.chat is client.chat``; creating them lazily keeps ``import meshapi`` and client construction
cheap. Closing a client closes its connection pool (but not an ``httpx`` client you passed in: that one
is yours) and every realtime session it opened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Dict, Mapping, Optional, Union

import httpx

from . import _warmup
from ._api_version import MESH_API_VERSION
from ._config import (
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    MeshAPIConfig,
    TokenProvider,
    client_config,
    derived_config,
)
from ._forksafe import lazy_property
from ._resilience import FallbackConfig, ResilienceLogger, RetryPolicy
from ._transport.client import AsyncHttpClient, SyncHttpClient

if TYPE_CHECKING:
    from .resources.api_versions import APIVersionsResource, AsyncAPIVersionsResource
    from .resources.audio import AsyncAudioResource, AudioResource
    from .resources.batches import AsyncBatchesResource, BatchesResource
    from .resources.chat import AsyncChatResource, ChatResource
    from .resources.compare import AsyncCompareResource, CompareResource
    from .resources.embeddings import AsyncEmbeddingsResource, EmbeddingsResource
    from .resources.images import AsyncImagesResource, ImagesResource
    from .resources.models import AsyncModelsResource, ModelsResource
    from .resources.moderations import AsyncModerationsResource, ModerationsResource
    from .resources.rag import AsyncRagResource, RagResource
    from .resources.realtime import AsyncRealtimeResource, RealtimeResource
    from .resources.responses import AsyncResponsesResource, ResponsesResource
    from .resources.router import AsyncRouterResource, RouterResource
    from .resources.templates import AsyncTemplatesResource, TemplatesResource
    from .resources.videos import AsyncVideosResource, VideosResource
    from .resources.web import AsyncWebResource, WebResource

__all__ = ["AsyncMeshAPI", "MeshAPI"]


HookArg = Optional[Callable[..., Any]]


class _ClientBase:
    """What the two facades share without I/O: their settings and how they print."""

    _config: MeshAPIConfig

    @property
    def config(self) -> MeshAPIConfig:
        return self._config

    @property
    def base_url(self) -> str:
        return self._config.base_url

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self._config.base_url!r})"


class MeshAPI(_ClientBase):
    """Blocking client for the MeshAPI gateway.

    ``base_url`` and ``token`` default to the ``MESHAPI_BASE_URL`` and ``MESHAPI_TOKEN`` environment
    variables. ``timeout`` (seconds or an ``httpx.Timeout``) applies to connecting and to each read, so
    during a stream it bounds the gap between events. Failed calls are retried ``max_retries`` times on
    429/502/503/504 and connection failures. ``httpx_client`` lets you bring your own ``httpx.Client``
    (proxies, transports, event hooks): the SDK still applies its base URL and timeout, and leaves the
    client open on ``close()``. ``retry_initial_delay`` / ``retry_max_delay`` shape the backoff and
    ``retry_max_after`` is the longest ``Retry-After`` the client will wait out (seconds).

    Beyond 0.1.4: ``token`` may be a callable returning the token, called for every attempt;
    ``default_query`` is added to every call's query; ``total_timeout`` bounds a call end to end
    (retries and slow bodies included; a stream until its first event); ``stream_idle_timeout`` is the
    longest gap a stream may leave between events (comments not counted; default: the read ``timeout``),
    also its wait for the headers; ``stream_internally=True`` makes chat ``create`` stream under the hood
    (the same completion back); ``stream_fallback_to_blocking=True``: a chat stream that cannot be opened
    after its retries is answered by one non-streaming call, delivered as the stream; ``retry_read_timeouts=True``
    re-sends a POST whose answer timed out (off by default: the server may still be running it, and
    billing it); ``on_request`` / ``on_response`` are called for every attempt with redacted views
    (``meshapi._transport.RequestView`` / ``ResponseView``). ``with_options()`` copies the client.
    Resilience (README "Resilience"): ``retry`` (a ``meshapi.RetryPolicy``; wins over ``max_retries``),
    ``fallback`` (a ``meshapi.FallbackConfig``: the model chain of chat calls), ``logger`` (called with
    every ``RetryEvent`` / ``FallbackEvent`` / ``GatewayRoutingEvent``) and ``debug=True`` (one line per
    event on stderr). After ``os.fork()`` the child gets a fresh pool (README "Using meshapi with
    gunicorn, Celery and multiprocessing"); ``new_pool_after_fork=True`` allows that for an injected
    httpx client too (else a ``ConfigurationError`` explains how to create clients after the fork).
    ``limits`` (an ``httpx.Limits``) sizes the pool the SDK builds: 256 connections, 64 kept alive.
    openai-python's names work too: ``api_key`` (``token``), ``http_client`` (``httpx_client``) and the
    ``MESHAPI_API_KEY`` variable (when ``MESHAPI_TOKEN`` is unset). ``api_version`` is sent as
    ``X-Mesh-Version`` on every HTTP request (default ``meshapi.MESH_API_VERSION``; ``None`` sends no
    header and the gateway serves its baseline; a label that is not ``YYYY-MM`` is a ``ConfigurationError``).
    """

    def __init__(
        self,
        *,
        base_url: Optional[str] = None,
        token: Union[str, TokenProvider, None] = None,
        api_key: Union[str, TokenProvider, None] = None,
        timeout: Union[float, httpx.Timeout] = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        httpx_client: Optional[httpx.Client] = None,
        http_client: Optional[httpx.Client] = None,
        default_headers: Optional[Dict[str, str]] = None,
        retry_initial_delay: float = 0.5,
        retry_max_delay: float = 8.0,
        retry_max_after: float = 60.0,
        realtime_connect_timeout: Optional[float] = None,
        default_query: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        stream_idle_timeout: Optional[float] = None,
        stream_internally: bool = False,
        stream_fallback_to_blocking: bool = False,
        retry_read_timeouts: bool = False,
        on_request: HookArg = None,
        on_response: HookArg = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        retry: Optional[RetryPolicy] = None,
        fallback: Optional[FallbackConfig] = None,
        logger: Optional[ResilienceLogger] = None,
        debug: bool = False,
        new_pool_after_fork: bool = False,
        limits: Optional[httpx.Limits] = None,
        api_version: Optional[str] = MESH_API_VERSION,
    ) -> None:
        extra: Dict[str, Any] = {
            "httpx_client": httpx_client,
            "http_client": http_client,
            "api_key": api_key,
            "retry_initial_delay": retry_initial_delay,
            "retry_max_delay": retry_max_delay,
            "retry_max_after": retry_max_after,
            "realtime_connect_timeout": realtime_connect_timeout,
            "default_query": default_query,
            "total_timeout": total_timeout,
            "stream_idle_timeout": stream_idle_timeout,
            "stream_internally": stream_internally,
            "stream_fallback_to_blocking": stream_fallback_to_blocking,
            "retry_read_timeouts": retry_read_timeouts,
            "on_request": on_request,
            "on_response": on_response,
            "max_response_bytes": max_response_bytes,
            "retry": retry,
            "fallback": fallback,
            "logger": logger,
            "debug": debug,
            "new_pool_after_fork": new_pool_after_fork,
            "limits": limits,
            "api_version": api_version,
        }
        self._config = client_config(base_url, token, timeout, max_retries, default_headers, extra)
        self._http = SyncHttpClient(self._config)

    def with_options(self, **overrides: Any) -> MeshAPI:
        """A new client with some settings changed, sharing this client's connection pool.

        Accepts ``timeout``, ``max_retries``, ``default_headers`` / ``default_query`` (merged over the
        current ones), ``total_timeout``, ``stream_idle_timeout``, ``token`` (``api_key``), ``base_url``, ``api_version``, the retry
        knobs, the hooks.
        Closing the copy leaves the pool open; closing this client closes it for both.
        """
        copy = MeshAPI.__new__(MeshAPI)
        copy._config = derived_config(self._config, overrides)
        copy._http = SyncHttpClient(copy._config, shared_client=self._http._client)
        return copy

    copy = with_options

    @lazy_property
    def chat(self) -> ChatResource:
        from .resources.chat import ChatResource

        return ChatResource(self._http)

    @lazy_property
    def responses(self) -> ResponsesResource:
        from .resources.responses import ResponsesResource

        return ResponsesResource(self._http)

    @lazy_property
    def embeddings(self) -> EmbeddingsResource:
        from .resources.embeddings import EmbeddingsResource

        return EmbeddingsResource(self._http)

    @lazy_property
    def compare(self) -> CompareResource:
        from .resources.compare import CompareResource

        return CompareResource(self._http)

    @lazy_property
    def batches(self) -> BatchesResource:
        from .resources.batches import BatchesResource

        return BatchesResource(self._http)

    @lazy_property
    def models(self) -> ModelsResource:
        from .resources.models import ModelsResource

        return ModelsResource(self._http)

    @lazy_property
    def api_versions(self) -> APIVersionsResource:
        from .resources.api_versions import APIVersionsResource

        return APIVersionsResource(self._http)

    @lazy_property
    def templates(self) -> TemplatesResource:
        from .resources.templates import TemplatesResource

        return TemplatesResource(self._http)

    @lazy_property
    def images(self) -> ImagesResource:
        from .resources.images import ImagesResource

        return ImagesResource(self._http)

    @lazy_property
    def rag(self) -> RagResource:
        from .resources.rag import RagResource

        return RagResource(self._http)

    @lazy_property
    def videos(self) -> VideosResource:
        from .resources.videos import VideosResource

        return VideosResource(self._http)

    @lazy_property
    def audio(self) -> AudioResource:
        from .resources.audio import AudioResource

        return AudioResource(self._http)

    @lazy_property
    def moderations(self) -> ModerationsResource:
        from .resources.moderations import ModerationsResource

        return ModerationsResource(self._http)

    @lazy_property
    def web(self) -> WebResource:
        from .resources.web import WebResource

        return WebResource(self._http)

    @lazy_property
    def router(self) -> RouterResource:
        from .resources.router import RouterResource

        return RouterResource(self._http)

    @lazy_property
    def realtime(self) -> RealtimeResource:
        from .resources.realtime import RealtimeResource

        return RealtimeResource(self._config)

    def close(self) -> None:
        """Close open realtime sessions and the connection pool. Idempotent."""
        realtime = self.__dict__.get("realtime")
        if realtime is not None:
            realtime.close_all()
        self._http.close()

    def __enter__(self) -> MeshAPI:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncMeshAPI(_ClientBase):
    """Asyncio client for the MeshAPI gateway (the twin of :class:`MeshAPI`).

    Same settings; bring your own ``httpx.AsyncClient`` with ``async_httpx_client`` (or ``http_client``).
    Close with ``await client.close()`` (or ``aclose()``) or ``async with AsyncMeshAPI(...) as client``.
    ``http_transport`` picks the transport of the client the SDK creates: ``"httpx"`` (default),
    ``"aiohttp"`` (faster under many concurrent requests; needs ``pip install "meshapi[aiohttp]"``) or
    any ``httpx.AsyncBaseTransport``.
    The token provider and the hooks may also be coroutine functions here.
    """

    def __init__(
        self,
        *,
        base_url: Optional[str] = None,
        token: Union[str, TokenProvider, None] = None,
        api_key: Union[str, TokenProvider, None] = None,
        timeout: Union[float, httpx.Timeout] = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        async_httpx_client: Optional[httpx.AsyncClient] = None,
        http_client: Optional[httpx.AsyncClient] = None,
        default_headers: Optional[Dict[str, str]] = None,
        retry_initial_delay: float = 0.5,
        retry_max_delay: float = 8.0,
        retry_max_after: float = 60.0,
        realtime_connect_timeout: Optional[float] = None,
        http_transport: Optional[Union[str, httpx.AsyncBaseTransport]] = None,
        default_query: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        stream_idle_timeout: Optional[float] = None,
        stream_internally: bool = False,
        stream_fallback_to_blocking: bool = False,
        retry_read_timeouts: bool = False,
        on_request: HookArg = None,
        on_response: HookArg = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        retry: Optional[RetryPolicy] = None,
        fallback: Optional[FallbackConfig] = None,
        logger: Optional[ResilienceLogger] = None,
        debug: bool = False,
        new_pool_after_fork: bool = False,
        limits: Optional[httpx.Limits] = None,
        api_version: Optional[str] = MESH_API_VERSION,
    ) -> None:
        extra: Dict[str, Any] = {
            "async_httpx_client": async_httpx_client,
            "http_client": http_client,
            "api_key": api_key,
            "retry_initial_delay": retry_initial_delay,
            "retry_max_delay": retry_max_delay,
            "retry_max_after": retry_max_after,
            "realtime_connect_timeout": realtime_connect_timeout,
            "default_query": default_query,
            "total_timeout": total_timeout,
            "stream_idle_timeout": stream_idle_timeout,
            "stream_internally": stream_internally,
            "stream_fallback_to_blocking": stream_fallback_to_blocking,
            "retry_read_timeouts": retry_read_timeouts,
            "on_request": on_request,
            "on_response": on_response,
            "max_response_bytes": max_response_bytes,
            "retry": retry,
            "fallback": fallback,
            "logger": logger,
            "debug": debug,
            "new_pool_after_fork": new_pool_after_fork,
            "limits": limits,
            "api_version": api_version,
        }
        self._config = client_config(base_url, token, timeout, max_retries, default_headers, extra)
        self._http = AsyncHttpClient(self._config, http_transport=http_transport)
        _warmup.start()  # the first chat call's imports and validators, built off the event loop

    def with_options(self, **overrides: Any) -> AsyncMeshAPI:
        """A new client with some settings changed, sharing this client's connection pool.

        Accepts ``timeout``, ``max_retries``, ``default_headers`` / ``default_query`` (merged over the
        current ones), ``total_timeout``, ``stream_idle_timeout``, ``token`` (``api_key``), ``base_url``, ``api_version``, the retry
        knobs, the hooks.
        Closing the copy leaves the pool open; closing this client closes it for both.
        """
        copy = AsyncMeshAPI.__new__(AsyncMeshAPI)
        copy._config = derived_config(self._config, overrides)
        copy._http = AsyncHttpClient(
            copy._config, shared_client=self._http._client, shared_pools=self._http._pools
        )
        return copy

    copy = with_options

    @lazy_property
    def chat(self) -> AsyncChatResource:
        from .resources.chat import AsyncChatResource

        return AsyncChatResource(self._http)

    @lazy_property
    def responses(self) -> AsyncResponsesResource:
        from .resources.responses import AsyncResponsesResource

        return AsyncResponsesResource(self._http)

    @lazy_property
    def embeddings(self) -> AsyncEmbeddingsResource:
        from .resources.embeddings import AsyncEmbeddingsResource

        return AsyncEmbeddingsResource(self._http)

    @lazy_property
    def compare(self) -> AsyncCompareResource:
        from .resources.compare import AsyncCompareResource

        return AsyncCompareResource(self._http)

    @lazy_property
    def batches(self) -> AsyncBatchesResource:
        from .resources.batches import AsyncBatchesResource

        return AsyncBatchesResource(self._http)

    @lazy_property
    def models(self) -> AsyncModelsResource:
        from .resources.models import AsyncModelsResource

        return AsyncModelsResource(self._http)

    @lazy_property
    def api_versions(self) -> AsyncAPIVersionsResource:
        from .resources.api_versions import AsyncAPIVersionsResource

        return AsyncAPIVersionsResource(self._http)

    @lazy_property
    def templates(self) -> AsyncTemplatesResource:
        from .resources.templates import AsyncTemplatesResource

        return AsyncTemplatesResource(self._http)

    @lazy_property
    def images(self) -> AsyncImagesResource:
        from .resources.images import AsyncImagesResource

        return AsyncImagesResource(self._http)

    @lazy_property
    def rag(self) -> AsyncRagResource:
        from .resources.rag import AsyncRagResource

        return AsyncRagResource(self._http)

    @lazy_property
    def videos(self) -> AsyncVideosResource:
        from .resources.videos import AsyncVideosResource

        return AsyncVideosResource(self._http)

    @lazy_property
    def audio(self) -> AsyncAudioResource:
        from .resources.audio import AsyncAudioResource

        return AsyncAudioResource(self._http)

    @lazy_property
    def moderations(self) -> AsyncModerationsResource:
        from .resources.moderations import AsyncModerationsResource

        return AsyncModerationsResource(self._http)

    @lazy_property
    def web(self) -> AsyncWebResource:
        from .resources.web import AsyncWebResource

        return AsyncWebResource(self._http)

    @lazy_property
    def router(self) -> AsyncRouterResource:
        from .resources.router import AsyncRouterResource

        return AsyncRouterResource(self._http)

    @lazy_property
    def realtime(self) -> AsyncRealtimeResource:
        from .resources.realtime import AsyncRealtimeResource

        return AsyncRealtimeResource(self._config)

    async def aclose(self) -> None:
        """Close open realtime sessions and the connection pool. Idempotent."""
        realtime = self.__dict__.get("realtime")
        if realtime is not None:
            await realtime.close_all()
        await self._http.aclose()

    async def close(self) -> None:
        """Close open realtime sessions and the connection pool. Idempotent."""
        await self.aclose()  # openai-python's name for it; ``aclose`` stays

    async def __aenter__(self) -> AsyncMeshAPI:
        await _warmup.ready()  # a client made inside the loop: the first call's builds end off the loop
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
