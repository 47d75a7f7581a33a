"""The two facades: ``MeshAPI`` (blocking) and ``AsyncMeshAPI`` (asyncio).

Each owns one transport shared by all its resources. Resources are created on first use and then kept,
so ``client.chat is client.chat``; creating them lazily keeps ``import meshapi`` and client construction
cheap. Closing a client closes its connection pool (but not an ``httpx`` client you passed in: that one
is yours) and every realtime session it opened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Dict, Mapping, Optional, Sequence, Union

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
from ._forksafe import lazy_property, resource
from ._resilience import FallbackConfig, ResilienceLogger, RetryPolicy
from ._transport.client import AsyncHttpClient, SyncHttpClient

if TYPE_CHECKING:
    from ._budget import Budget
    from ._rate_limiter import RateLimiter
    from ._usage_track import AsyncUsageTracker, UsageTracker
    from .resources.api_versions import APIVersionsResource, AsyncAPIVersionsResource
    from .resources.audio import AsyncAudioResource, AudioResource
    from .resources.balance import AsyncBalanceResource, BalanceResource
    from .resources.batches import AsyncBatchesResource, BatchesResource
    from .resources.chat import AsyncChatResource, ChatResource
    from .resources.compare import AsyncCompareResource, CompareResource
    from .resources.costs import AsyncCostsResource, CostsResource
    from .resources.embeddings import AsyncEmbeddingsResource, EmbeddingsResource
    from .resources.images import AsyncImagesResource, ImagesResource
    from .resources.memories import AsyncMemoriesResource, MemoriesResource
    from .resources.models import AsyncModelsResource, ModelsResource
    from .resources.moderations import AsyncModerationsResource, ModerationsResource
    from .resources.rag import AsyncRagResource, RagResource
    from .resources.realtime import AsyncRealtimeResource, RealtimeResource
    from .resources.responses import AsyncResponsesResource, ResponsesResource
    from .resources.router import AsyncRouterResource, RouterResource
    from .resources.templates import AsyncTemplatesResource, TemplatesResource
    from .resources.tokens import AsyncTokensResource, TokensResource
    from .resources.usage import AsyncUsageResource, UsageResource
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
    ``http2=True`` lets that pool speak HTTP/2 where the server offers it over TLS (README "HTTP/2";
    ``pip install 'meshapi[http2]'``, else a ``ConfigurationError`` here); ``with_options()`` copies share it.
    openai-python's names work too: ``api_key`` (``token``), ``http_client`` (``httpx_client``) and the
    ``MESHAPI_API_KEY`` variable (when ``MESHAPI_TOKEN`` is unset). ``api_version`` is sent as
    ``X-Mesh-Version`` on every HTTP request (default ``meshapi.MESH_API_VERSION``; ``None`` sends no
    header and the gateway serves its baseline; a label that is not ``YYYY-MM`` is a ``ConfigurationError``).
    ``memory`` (memory slugs, at most 16) is sent as ``x-mem-id`` (README "Memories"). ``response_cache=False``
    sends ``X-Mesh-Cache: no-store`` on every request (README "Gateway response cache"). ``limiter`` (a
    ``meshapi.RateLimiter``, shareable between clients) is waited for before every attempt (README "Rate limiter").
    ``budget`` (a ``meshapi.Budget``) is checked before every call that runs a model (README "Budgets").
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
        http2: bool = False,
        api_version: Optional[str] = MESH_API_VERSION,
        memory: Optional[Sequence[str]] = None,
        response_cache: bool = True,
        limiter: Optional[RateLimiter] = None,
        budget: Optional[Budget] = None,
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
            "http2": http2,
            "api_version": api_version,
            "memory": memory,
            "response_cache": response_cache,
            "limiter": limiter,
            "budget": budget,
        }
        self._config = client_config(base_url, token, timeout, max_retries, default_headers, extra)
        self._http = SyncHttpClient(self._config)

    def with_options(self, **overrides: Any) -> MeshAPI:
        """A new client with some settings changed, sharing this client's connection pool.

        Accepts ``timeout``, ``max_retries``, ``default_headers`` / ``default_query`` (merged over the
        current ones), ``total_timeout``, ``stream_idle_timeout``, ``token`` (``api_key``), ``base_url``,
        ``api_version``, ``memory``, ``response_cache``, ``limiter``, ``budget``, the retry knobs, the hooks.
        Closing the copy leaves the pool open; closing this client closes it for both.
        """
        copy = MeshAPI.__new__(MeshAPI)
        copy._config = derived_config(self._config, overrides)
        copy._http = SyncHttpClient(copy._config, shared_client=self._http._client)
        return copy

    copy = with_options

    chat: lazy_property[ChatResource] = resource("chat", "ChatResource")
    responses: lazy_property[ResponsesResource] = resource("responses", "ResponsesResource")
    embeddings: lazy_property[EmbeddingsResource] = resource("embeddings", "EmbeddingsResource")
    compare: lazy_property[CompareResource] = resource("compare", "CompareResource")
    batches: lazy_property[BatchesResource] = resource("batches", "BatchesResource")
    models: lazy_property[ModelsResource] = resource("models", "ModelsResource")
    api_versions: lazy_property[APIVersionsResource] = resource("api_versions", "APIVersionsResource")
    templates: lazy_property[TemplatesResource] = resource("templates", "TemplatesResource")
    memories: lazy_property[MemoriesResource] = resource("memories", "MemoriesResource")
    usage: lazy_property[UsageResource] = resource("usage", "UsageResource")
    balance: lazy_property[BalanceResource] = resource("balance", "BalanceResource")
    costs: lazy_property[CostsResource] = resource("costs", "CostsResource")
    tokens: lazy_property[TokensResource] = resource("tokens", "TokensResource")
    images: lazy_property[ImagesResource] = resource("images", "ImagesResource")
    rag: lazy_property[RagResource] = resource("rag", "RagResource")
    videos: lazy_property[VideosResource] = resource("videos", "VideosResource")
    audio: lazy_property[AudioResource] = resource("audio", "AudioResource")
    moderations: lazy_property[ModerationsResource] = resource("moderations", "ModerationsResource")
    web: lazy_property[WebResource] = resource("web", "WebResource")
    router: lazy_property[RouterResource] = resource("router", "RouterResource")
    realtime: lazy_property[RealtimeResource] = resource("realtime", "RealtimeResource", "_config")

    def track_usage(self, *, budget: Optional[Budget] = None, lookup: bool = True) -> UsageTracker:
        """Record every call made inside ``with client.track_usage() as usage:`` (README "Tracking usage
        and cost"): tokens, cost (``Decimal``) per model and per request id, in this context and the
        threads and tasks that inherit it. ``budget``: also checked before each of those calls;
        ``lookup``: exact costs looked up from the usage events when the block ends."""
        from ._usage_track import UsageTracker  # here: a client that tracks nothing never loads it

        return UsageTracker(self.costs, budget, lookup)

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
        http2: bool = False,
        api_version: Optional[str] = MESH_API_VERSION,
        memory: Optional[Sequence[str]] = None,
        response_cache: bool = True,
        limiter: Optional[RateLimiter] = None,
        budget: Optional[Budget] = None,
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
            "http2": http2,
            "api_version": api_version,
            "memory": memory,
            "response_cache": response_cache,
            "limiter": limiter,
            "budget": budget,
        }
        self._config = client_config(base_url, token, timeout, max_retries, default_headers, extra)
        self._http = AsyncHttpClient(self._config, http_transport=http_transport)
        tls = self._config.base_url.lower().startswith("https:")  # an http:// gateway needs no CA bundle
        _warmup.start(self._config.http2, tls)  # the first chat call's imports and validators, off the loop

    def with_options(self, **overrides: Any) -> AsyncMeshAPI:
        """A new client with some settings changed, sharing this client's connection pool.

        Accepts ``timeout``, ``max_retries``, ``default_headers`` / ``default_query`` (merged over the
        current ones), ``total_timeout``, ``stream_idle_timeout``, ``token`` (``api_key``), ``base_url``,
        ``api_version``, ``memory``, ``response_cache``, ``limiter``, ``budget``, the retry knobs, the hooks.
        Closing the copy leaves the pool open; closing this client closes it for both.
        """
        copy = AsyncMeshAPI.__new__(AsyncMeshAPI)
        copy._config = derived_config(self._config, overrides)
        copy._http = AsyncHttpClient(copy._config, shared=self._http)
        return copy

    copy = with_options

    chat: lazy_property[AsyncChatResource] = resource("chat", "AsyncChatResource")
    responses: lazy_property[AsyncResponsesResource] = resource("responses", "AsyncResponsesResource")
    embeddings: lazy_property[AsyncEmbeddingsResource] = resource("embeddings", "AsyncEmbeddingsResource")
    compare: lazy_property[AsyncCompareResource] = resource("compare", "AsyncCompareResource")
    batches: lazy_property[AsyncBatchesResource] = resource("batches", "AsyncBatchesResource")
    models: lazy_property[AsyncModelsResource] = resource("models", "AsyncModelsResource")
    api_versions: lazy_property[AsyncAPIVersionsResource] = resource(
        "api_versions", "AsyncAPIVersionsResource"
    )
    templates: lazy_property[AsyncTemplatesResource] = resource("templates", "AsyncTemplatesResource")
    memories: lazy_property[AsyncMemoriesResource] = resource("memories", "AsyncMemoriesResource")
    usage: lazy_property[AsyncUsageResource] = resource("usage", "AsyncUsageResource")
    balance: lazy_property[AsyncBalanceResource] = resource("balance", "AsyncBalanceResource")
    costs: lazy_property[AsyncCostsResource] = resource("costs", "AsyncCostsResource")
    tokens: lazy_property[AsyncTokensResource] = resource("tokens", "AsyncTokensResource")
    images: lazy_property[AsyncImagesResource] = resource("images", "AsyncImagesResource")
    rag: lazy_property[AsyncRagResource] = resource("rag", "AsyncRagResource")
    videos: lazy_property[AsyncVideosResource] = resource("videos", "AsyncVideosResource")
    audio: lazy_property[AsyncAudioResource] = resource("audio", "AsyncAudioResource")
    moderations: lazy_property[AsyncModerationsResource] = resource("moderations", "AsyncModerationsResource")
    web: lazy_property[AsyncWebResource] = resource("web", "AsyncWebResource")
    router: lazy_property[AsyncRouterResource] = resource("router", "AsyncRouterResource")
    realtime: lazy_property[AsyncRealtimeResource] = resource("realtime", "AsyncRealtimeResource", "_config")

    def track_usage(self, *, budget: Optional[Budget] = None, lookup: bool = True) -> AsyncUsageTracker:
        """Record every call made inside ``with client.track_usage() as usage:`` (README "Tracking usage
        and cost"): tokens, cost (``Decimal``) per model and per request id, in this context and the
        threads and tasks that inherit it. ``budget``: also checked before each of those calls;
        ``lookup``: exact costs looked up from the usage events when the block ends."""
        from ._usage_track import AsyncUsageTracker  # here: a client that tracks nothing never loads it

        return AsyncUsageTracker(self.costs, budget, lookup)

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
