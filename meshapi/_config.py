"""Client settings: ``MeshAPIConfig`` and what the environment may supply.

Everything a client is configured with lands in one validated dataclass, so the transport, realtime
and the copies made by ``with_options`` read the same values (``client_config`` builds a new client's,
``derived_config`` a copy's). Validation happens here, at construction, with ``ConfigurationError``
messages that name the fix and never the token (the token's own checks and redaction:
``meshapi._token``, re-exported here).
Environment variables read here: ``MESHAPI_BASE_URL``, ``MESHAPI_TOKEN`` (else ``MESHAPI_API_KEY``,
openai-python's habit), ``MESHAPI_LOG``
(``info`` / ``debug``: the ``meshapi`` logger to stderr) and ``MESHAPI_CUSTOM_HEADERS``
(``Name: value`` lines, merged under explicit ``default_headers``).
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import os
import sys
from dataclasses import dataclass
from typing import Any, Callable, Dict, Mapping, Optional, Sequence, Tuple, Union

import httpx

from ._api_version import MESH_API_VERSION, check_api_version
from ._base_url import checked_base_url, without_api_version
from ._core.decompress import DEFAULT_MAX_RESPONSE_BYTES
from ._core.request import _check_headers
from ._core.retry import RetrySchedule, check_wait, validate_max_retries
from ._core.timeouts import (
    DEFAULT_TIMEOUT,
    validate_stream_idle_timeout,
    validate_timeout,
    validate_total_timeout,
)
from ._errors import ConfigurationError, InvalidParamsError
from ._memory import check_memory_ids
from ._redact import pin_secret
from ._resilience import FallbackConfig, RetryPolicy, schedule_of
from ._response_cache import check_response_cache
from ._token import RedactedStr, TokenProvider, check_token, provided_token, redact_token

__all__ = [
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "MeshAPIConfig",
    "RedactedStr",
    "OVERRIDABLE",
    "TokenProvider",
    "check_token",
    "client_config",
    "configure_logging_from_env",
    "custom_headers_from_env",
    "derived_config",
    "merge_alias",
    "provided_token",
    "redact_token",
    "resolve_settings",
    "without_api_version",
]

DEFAULT_MAX_RETRIES = 3


@dataclass(repr=False)
class MeshAPIConfig:
    """Connection settings shared by every resource of one client (0.1.4 fields first).

    ``repr()`` never shows the token. Beyond 0.1.4: ``token`` may be a callable returning the token
    (called for every attempt), ``default_headers`` / ``default_query`` sent on every call, the retry
    timing knobs (``retry_initial_delay``, ``retry_max_delay``, ``retry_max_after``: finite seconds from 0
    to 3600; see ``meshapi._core.retry``), which tests set near zero, ``retry_read_timeouts`` (re-send a POST whose
    answer did not arrive in time: off by default, a slow paid call must not run twice),
    ``total_timeout`` (seconds, end to end), the ``on_request`` / ``on_response`` hooks and
    ``max_response_bytes`` (64 MiB: the most a decoded body, one SSE line or one SSE event may hold).
    """

    base_url: str
    token: Any  # str, or a TokenProvider
    timeout: Union[float, httpx.Timeout] = DEFAULT_TIMEOUT
    max_retries: int = DEFAULT_MAX_RETRIES
    httpx_client: Optional[httpx.Client] = None
    async_httpx_client: Optional[httpx.AsyncClient] = None
    default_headers: Optional[Dict[str, str]] = None
    retry_initial_delay: float = 0.5
    retry_max_delay: float = 8.0
    retry_max_after: float = 60.0
    realtime_connect_timeout: Optional[float] = None
    default_query: Optional[Dict[str, Any]] = None
    total_timeout: Optional[float] = None
    #: a stream's longest gap between events, comments not counted (``None``: the read ``timeout``)
    stream_idle_timeout: Optional[float] = None
    #: chat ``create`` without ``stream`` streams under the hood (per call: ``stream_internally=``)
    stream_internally: bool = False
    #: a chat stream that cannot be opened after its retries: one non-streaming call, delivered as the stream
    stream_fallback_to_blocking: bool = False
    retry_read_timeouts: bool = False
    on_request: Optional[Callable[..., Any]] = None
    on_response: Optional[Callable[..., Any]] = None
    #: Cap on a decoded body, one SSE line and one SSE event (bytes); past it ResponseTooLargeError.
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    #: ``meshapi.RetryPolicy``: when given it wins over ``max_retries`` and the backoff knobs.
    retry: Optional[Any] = None
    #: ``meshapi.FallbackConfig``: the model chain of chat calls (per call: ``fallback_models=``).
    fallback: Optional[Any] = None
    #: ``meshapi.ResilienceLogger``: receives every retry / fallback / gateway-routing event.
    logger: Optional[Callable[..., Any]] = None
    #: Print one line per resilience event on stderr.
    debug: bool = False
    #: In a forked child, replace an injected ``httpx_client`` with a fresh SDK pool (``meshapi._transport.fork``)
    #: instead of raising ``ConfigurationError``.
    new_pool_after_fork: bool = False
    #: ``httpx.Limits`` of the pool the SDK builds (``None``: 256 connections, 64 kept alive). Size it
    #: for the concurrency you run; with your own ``httpx_client`` its limits apply instead.
    limits: Optional[httpx.Limits] = None
    #: HTTP/2 on the pool the SDK builds (extra "http2"; over TLS only), checked by ``meshapi._transport.http2``.
    http2: bool = False
    #: ``X-Mesh-Version`` sent on every HTTP request (``YYYY-MM``); ``None`` sends none (the gateway's baseline).
    api_version: Optional[str] = MESH_API_VERSION
    #: Memory slugs sent as ``x-mem-id`` on every request (``meshapi._memory``); ``None``: none.
    memory: Optional[Sequence[str]] = None
    #: ``False``: every request says ``X-Mesh-Cache: no-store`` (the gateway response cache is neither
    #: read nor written; ``meshapi._response_cache``); a call's ``response_cache=True`` undoes it.
    response_cache: bool = True
    #: ``meshapi.RateLimiter`` every attempt waits for (shared by the clients given it; ``meshapi._rate_limiter``).
    limiter: Optional[Any] = None
    #: ``meshapi.Budget``: checked before each call that runs a model is sent (``meshapi._budget``).
    budget: Optional[Any] = None

    def __post_init__(self) -> None:
        self.base_url = checked_base_url(self.base_url)
        self._check_token()
        self._check_settings()

    def _check_token(self) -> None:
        if not callable(self.token):
            self.token = check_token(self.token)
            pin_secret(self.token, self)  # scrubbed while this client lives, however many tokens rotate

    def _check_settings(self) -> None:
        """Every check but the base URL's and the token's (``derived_config`` skips those two when a copy
        keeps them: they are the costly ones, a URL parse and a walk over the token's characters)."""
        if self.default_headers is not None:
            try:
                _check_headers(self.default_headers, name="default_headers")
            except InvalidParamsError as exc:
                raise ConfigurationError(exc.message) from None
        if self.default_query is not None and not isinstance(self.default_query, Mapping):
            raise ConfigurationError(
                f"default_query must be a mapping, got {type(self.default_query).__name__}"
            )
        try:
            self.timeout = validate_timeout(self.timeout)
            if self.total_timeout is not None:
                self.total_timeout = validate_total_timeout(self.total_timeout)
            if self.stream_idle_timeout is not None:
                self.stream_idle_timeout = validate_stream_idle_timeout(self.stream_idle_timeout)
        except InvalidParamsError as exc:
            raise ConfigurationError(exc.message) from None
        try:
            self.max_retries = validate_max_retries(self.max_retries)
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None
        for name in ("retry_initial_delay", "retry_max_delay", "retry_max_after"):  # 0 to MAX_WAIT, finite
            setattr(self, name, check_wait(getattr(self, name), name))
        limit = self.max_response_bytes
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1024:
            raise ConfigurationError(
                f"max_response_bytes must be an int of at least 1024 (bytes), got {limit!r}"
            )
        self._check_resilience()
        self.api_version = check_api_version(self.api_version)
        self.memory = check_memory_ids(self.memory)
        if check_response_cache(self.response_cache) is None:
            raise ConfigurationError("response_cache must be True or False, got None")
        if self.budget is not None and not _is_a(self.budget, "meshapi._budget", "Budget"):
            raise ConfigurationError(f"budget must be a meshapi.Budget, got {type(self.budget).__name__}")
        if self.limits is not None:
            if not isinstance(self.limits, httpx.Limits):
                raise ConfigurationError(f"limits must be an httpx.Limits, got {type(self.limits).__name__}")
            if self.httpx_client is not None or self.async_httpx_client is not None:
                raise ConfigurationError(
                    "limits apply to the pool the SDK builds; set them on the httpx client you pass in"
                )
        if self.limiter is not None and not _is_a(self.limiter, "meshapi._rate_limiter", "RateLimiter"):
            raise ConfigurationError(
                f"limiter must be a meshapi.RateLimiter, got {type(self.limiter).__name__}"
            )
        for name in ("on_request", "on_response"):
            hook = getattr(self, name)
            if hook is not None and not callable(hook):
                raise ConfigurationError(f"{name} must be a callable, got {type(hook).__name__}")

    def _check_resilience(self) -> None:
        if self.retry is not None:
            if not isinstance(self.retry, RetryPolicy):
                raise ConfigurationError(
                    f"retry must be a meshapi.RetryPolicy, got {type(self.retry).__name__}"
                )
            self.max_retries = self.retry.max_retries  # the alias follows the policy
        if self.fallback is not None and not isinstance(self.fallback, FallbackConfig):
            if isinstance(self.fallback, (list, tuple)):
                self.fallback = FallbackConfig(models=tuple(self.fallback))
            else:
                raise ConfigurationError(
                    f"fallback must be a meshapi.FallbackConfig, got {type(self.fallback).__name__}"
                )
        if self.logger is not None and not callable(self.logger):
            raise ConfigurationError(f"logger must be a callable, got {type(self.logger).__name__}")
        if not isinstance(self.debug, bool):
            raise ConfigurationError(f"debug must be True or False, got {self.debug!r}")

    def __repr__(self) -> str:
        return (
            f"MeshAPIConfig(base_url={self.base_url!r}, token={redact_token(self.token)}, "
            f"timeout={self.timeout!r}, max_retries={self.max_retries!r})"
        )

    @property
    def retry_schedule(self) -> RetrySchedule:
        """The internal retry schedule: from ``retry`` when given, else from the older knobs."""
        base = RetrySchedule(
            max_retries=self.max_retries,
            initial_delay=self.retry_initial_delay,
            max_delay=self.retry_max_delay,
            max_retry_after=self.retry_max_after,
            retry_read_timeouts=self.retry_read_timeouts,
        )
        if self.retry is None:
            return base
        return schedule_of(self.retry, base)

    def current_token(self) -> str:
        """The token to send now: the string, or what the provider returns (validated, redacted repr).

        For code outside the HTTP transport (realtime handshakes). An async provider cannot be called
        from here; the transports await it themselves.
        """
        if not callable(self.token):
            return str(self.token)
        try:
            value = self.token()
        except Exception as exc:
            raise ConfigurationError(f"The token provider raised {type(exc).__name__}") from exc
        return provided_token(value, awaitable_hint="await it in async code")


def _is_a(value: Any, module: str, name: str) -> bool:
    """``isinstance(value, module.name)`` without importing ``module``: until something imported it, no
    instance of its class can exist (a client without a budget or a limiter never loads their modules)."""
    loaded = sys.modules.get(module)
    return loaded is not None and isinstance(value, getattr(loaded, name))


def resolve_settings(base_url: Optional[str], token: Any) -> Tuple[str, Any]:
    """``base_url``/``token`` or their environment fallbacks, with one error naming what is missing."""
    base_url = base_url if base_url is not None else os.environ.get("MESHAPI_BASE_URL") or None
    if token is None:  # MESHAPI_API_KEY is the openai-python spelling; MESHAPI_TOKEN wins
        token = os.environ.get("MESHAPI_TOKEN") or os.environ.get("MESHAPI_API_KEY") or None
    missing = []
    if base_url is None:
        missing.append("base_url= (or the MESHAPI_BASE_URL environment variable)")
    if token is None:
        missing.append("token= (or the MESHAPI_TOKEN environment variable)")
    if missing:
        raise ConfigurationError("MeshAPI client needs " + " and ".join(missing))
    assert base_url is not None and token is not None
    return base_url, token


def merge_alias(name: str, value: Any, alias: str, alias_value: Any) -> Any:
    """``value``, or ``alias_value`` given under openai-python's name (``api_key``, ``http_client``).

    Both given and different: ``ConfigurationError``, which names the arguments and never their values
    (one of them is the API key).
    """
    if alias_value is None:
        return value
    if value is not None and value is not alias_value and value != alias_value:
        raise ConfigurationError(f"{alias}= is another name for {name}=; they were given different values")
    return alias_value


_INJECTED = {"httpx_client": httpx.Client, "async_httpx_client": httpx.AsyncClient}


def _merge_injected_client(extra: Dict[str, Any]) -> None:
    """The facade's own httpx client argument merged with ``http_client``, then its type checked."""
    alias = extra.pop("http_client", None)
    for name, expected in _INJECTED.items():
        if name not in extra:
            continue
        client = extra[name] = merge_alias(name, extra[name], "http_client", alias)
        if client is None or isinstance(client, expected):
            continue
        hint = ""
        if expected is httpx.Client and isinstance(client, httpx.AsyncClient):
            hint = " (use AsyncMeshAPI(async_httpx_client=...) for an AsyncClient)"
        raise ConfigurationError(
            f"{name if alias is None else 'http_client'} must be an httpx.{expected.__name__}, "
            f"got {type(client).__name__}{hint}"
        )


def custom_headers_from_env(environ: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
    """``MESHAPI_CUSTOM_HEADERS``: one ``Name: value`` per line (blank lines ignored)."""
    raw = (os.environ if environ is None else environ).get("MESHAPI_CUSTOM_HEADERS", "")
    headers: Dict[str, str] = {}
    for number, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            raise ConfigurationError(
                f"MESHAPI_CUSTOM_HEADERS line {number} must look like 'Name: value' (one header per line)"
            )
        headers[name.strip()] = value.strip()
    try:
        _check_headers(headers, name="MESHAPI_CUSTOM_HEADERS")
    except InvalidParamsError as exc:
        raise ConfigurationError(exc.message) from None
    return headers


_LOG_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO}
_env_handler: Optional[logging.Handler] = None


def configure_logging_from_env(environ: Optional[Mapping[str, str]] = None) -> None:
    """``MESHAPI_LOG=info|debug``: send the ``meshapi`` logger to stderr at that level (once).

    The SDK's log lines never carry headers, bodies or the token, so this is safe to leave on.
    """
    global _env_handler
    value = (os.environ if environ is None else environ).get("MESHAPI_LOG", "").strip().lower()
    level = _LOG_LEVELS.get(value)
    if level is None:
        return
    logger = logging.getLogger("meshapi")
    if _env_handler is None:
        _env_handler = logging.StreamHandler(sys.stderr)
        _env_handler.setFormatter(logging.Formatter("[meshapi] %(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(_env_handler)
    logger.setLevel(level)


def client_config(
    base_url: Optional[str],
    token: Union[str, TokenProvider, None],
    timeout: Union[float, httpx.Timeout],
    max_retries: int,
    default_headers: Optional[Dict[str, str]],
    extra: Dict[str, Any],
) -> MeshAPIConfig:
    """The settings of a new client: environment fallbacks for the URL and token, then validation.

    ``extra`` may carry openai-python's names, ``api_key`` (the token) and ``http_client`` (the
    ``httpx_client`` / ``async_httpx_client`` of the facade): each merged with its twin by ``merge_alias``.
    """
    configure_logging_from_env()
    token = merge_alias("token", token, "api_key", extra.pop("api_key", None))
    _merge_injected_client(extra)
    base_url, token = resolve_settings(base_url, token)
    if extra.get("default_query") is not None and isinstance(extra["default_query"], Mapping):
        extra["default_query"] = dict(extra["default_query"])
    return MeshAPIConfig(
        base_url=base_url,
        token=token,
        timeout=timeout,
        max_retries=max_retries,
        default_headers=dict(default_headers) if default_headers else None,
        **extra,
    )


# What ``with_options`` / ``copy`` may change (``MeshAPIConfig`` field names).
OVERRIDABLE = frozenset(
    {
        "base_url",
        "token",
        "timeout",
        "max_retries",
        "default_headers",
        "default_query",
        "total_timeout",
        "stream_idle_timeout",
        "stream_internally",
        "stream_fallback_to_blocking",
        "retry_initial_delay",
        "retry_max_delay",
        "retry_max_after",
        "retry_read_timeouts",
        "realtime_connect_timeout",
        "on_request",
        "on_response",
        "max_response_bytes",
        "retry",
        "fallback",
        "logger",
        "debug",
        "new_pool_after_fork",
        "api_version",
        "memory",
        "response_cache",
        "limiter",
        "budget",
    }
)


def derived_config(config: MeshAPIConfig, overrides: Mapping[str, Any]) -> MeshAPIConfig:
    """``config`` with ``overrides`` applied and validated again (the base URL and the token only when
    they are among them); headers and query merge."""
    changes = dict(overrides)
    if "api_key" in changes:  # openai-python's name for the token
        changes["token"] = merge_alias("token", changes.get("token"), "api_key", changes.pop("api_key"))
    unknown = sorted(set(changes) - OVERRIDABLE)
    if unknown:
        accepted = ", ".join(sorted(OVERRIDABLE | {"api_key"}))
        raise ConfigurationError(
            f"with_options() does not accept {', '.join(unknown)}; it accepts {accepted}"
        )
    if "max_retries" in changes and config.retry is not None and "retry" not in changes:
        # max_retries is the policy's alias: changing it changes the policy's count
        changes["retry"] = dataclasses.replace(config.retry, max_retries=changes["max_retries"])
    for name in ("default_headers", "default_query"):
        if changes.get(name) is not None and isinstance(changes[name], Mapping):
            changes[name] = {**(getattr(config, name) or {}), **changes[name]}
    # A copy of the checked settings with the changes applied, and only what changed checked again: the
    # URL parse and the walk over the token's characters are most of a full check's time.
    derived = copy.copy(config)
    for name, value in changes.items():
        setattr(derived, name, value)
    if "base_url" in changes:
        derived.base_url = checked_base_url(derived.base_url)
    if "token" in changes:
        derived._check_token()
    elif not callable(derived.token):
        pin_secret(derived.token, derived)  # scrubbed while the copy lives, as for the client it came from
    derived._check_settings()
    return derived
