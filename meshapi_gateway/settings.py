"""The local gateway's settings, declared once.

:class:`GatewaySettings` is what ``create_app()``, ``serve()`` and ``meshapi gateway`` (``main``)
build a gateway from: the keyword arguments of ``create_app``/``serve`` and the command-line options
are its field names, checked by :meth:`GatewaySettings.build`, so a new setting is added here (and,
if the CLI should offer it, as one option in ``http/cli.py``) and nowhere else. :class:`ProxySettings`
(record and replay) is declared here too, so every module that needs a setting imports only this one,
which imports nothing of the gateway.
"""

from __future__ import annotations

import dataclasses
import math
import os
import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, List, Mapping, Optional, Sequence, Union

#: The token earlier releases accepted when none was configured. Still importable, no longer accepted
#: by default: a gateway started without tokens (and without ``$MESHAPI_TOKEN``) mints its own
#: (:func:`mint_token`). Pass it explicitly (``--token rsk_local_dev_token``) to keep using it.
DEFAULT_TOKEN = "rsk_local_dev_token"


def mint_token() -> str:
    """A fresh random API token for a local gateway: ``rsk_local_`` and 32 URL-safe characters."""
    return "rsk_local_" + secrets.token_urlsafe(24)


#: Scripted-reply rules (``fakes/replies.py``): a list of rule objects, or the path of a JSON file of them.
RulesSource = Union[str, "os.PathLike[str]", Sequence[Mapping[str, Any]]]


#: Replay pace a cassette may be played at (times the recorded pace), besides 0 (everything at once).
REPLAY_SPEED_RANGE = (0.01, 100.0)


def replay_speed_problem(speed: float) -> Optional[str]:
    """Why ``speed`` is not a usable replay pace, or ``None`` (0, or a finite value in the range)."""
    low, high = REPLAY_SPEED_RANGE
    if speed == 0 or (math.isfinite(speed) and low <= speed <= high):
        return None
    return (
        f"the replay speed must be 0 (at once) or {low:g} to {high:g} times the recorded pace, got {speed!r}"
    )


@dataclass
class ProxySettings:
    """How the gateway talks to a real one (record and replay, ``record/proxy.py``); all fields optional."""

    upstream: Optional[str] = None
    upstream_token: Optional[str] = None
    record: Optional[str] = None
    replay: Optional[str] = None
    replay_fallback: bool = False
    replay_speed: float = 0.0
    #: Seconds the upstream may take to accept the connection, to answer and between two chunks
    #: (``--upstream-timeout``); past it a 504 ``gateway_timeout`` envelope, or a cut stream once
    #: the answer has started. Longer than the real gateway's own 300 s provider timeout, so its
    #: 504 reaches the caller first.
    timeout: float = 600.0
    #: Most bytes of one response body written to a cassette (``--record-max-bytes``); a longer
    #: exchange is relayed in full but not recorded (a warning is logged once), so memory stays bounded.
    record_max_bytes: int = 64 * 1024 * 1024

    def __post_init__(self) -> None:
        if self.record and not self.upstream:
            raise ValueError("recording needs an upstream URL to record from")
        if self.replay and self.record:
            raise ValueError("choose one of record and replay")
        problem = replay_speed_problem(self.replay_speed)
        if problem:
            raise ValueError(problem)
        if self.upstream and not self.upstream.startswith(("http://", "https://")):
            raise ValueError("the upstream URL must start with http:// or https://")
        if isinstance(self.timeout, bool) or not isinstance(self.timeout, (int, float)):
            raise ValueError(f"the upstream timeout must be a number of seconds, got {self.timeout!r}")
        if not (math.isfinite(self.timeout) and self.timeout > 0):
            raise ValueError(
                f"the upstream timeout must be finite and more than 0 seconds, got {self.timeout!r}"
            )
        if isinstance(self.record_max_bytes, bool) or not isinstance(self.record_max_bytes, int):
            raise ValueError(
                f"record_max_bytes must be a whole number of bytes, got {self.record_max_bytes!r}"
            )
        if self.record_max_bytes < 1:
            raise ValueError(f"record_max_bytes must be at least 1, got {self.record_max_bytes!r}")

    def __repr__(self) -> str:  # the token stays out of reprs and logs
        token = "…redacted" if self.upstream_token else None
        return (
            f"ProxySettings(upstream={self.upstream!r}, upstream_token={token!r}, record={self.record!r}, "
            f"replay={self.replay!r}, replay_fallback={self.replay_fallback!r}, replay_speed={self.replay_speed!r}, "
            f"timeout={self.timeout!r}, record_max_bytes={self.record_max_bytes!r})"
        )

    @property
    def active(self) -> bool:
        return bool(self.upstream or self.replay)


@dataclass(frozen=True)
class GatewaySettings:
    """How one local gateway behaves. Every field has a default; see each comment."""

    #: Accepted bearer tokens; ``None`` means ``$MESHAPI_TOKEN``, else a random one (:func:`mint_token`).
    tokens: Optional[Sequence[str]] = None
    #: Interface and port to listen on (``serve``/``main`` only; port 0 picks a free one).
    host: str = "127.0.0.1"
    port: int = 0
    #: Names a request's ``Host`` may carry besides loopback ones and ``host`` (unless a wildcard):
    #: for a name put in front of the gateway, such as a container name (``http/hosts.py``).
    allowed_hosts: Sequence[str] = ()
    #: Keep files, templates and batches in SQLite under this directory (default: in memory).
    data_dir: Optional[str] = None
    #: Seconds to pause between streamed events (0 = full speed).
    latency: float = 0.0
    #: Token for the ``/_admin`` routes (default: a random one).
    admin_token: Optional[str] = None
    #: Requests per minute / per day per token (default: unlimited).
    rpm: Optional[int] = None
    rpd: Optional[int] = None
    #: Rate limits per token in one value, winning over ``rpm``/``rpd`` when set (``http/ratelimit.py``):
    #: ``True`` for the documented 100 a minute and 10,000 a day (what ``meshapi gateway`` enforces),
    #: ``False`` for none, ``"RPM[/DAY]"`` or ``{"rpm": ..., "rpd": ...}``. ``None``: ``rpm``/``rpd``.
    rate_limits: Optional[Union[bool, str, Mapping[str, Optional[int]]]] = None
    #: USD each token's owner starts with (a decimal string, an int or a ``Decimal``; never a float):
    #: requests' costs are taken from it and a paid request finding nothing left gets a 402
    #: (``store/balance.py``). ``None``: the documented default, 1000 USD.
    balance: Optional[Union[str, int, Decimal]] = None
    #: Length of one step of the batch and RAG-embedding lifecycles, in seconds.
    batch_step_seconds: float = 0.05
    embed_step_seconds: float = 0.02
    #: Length of one step of a video task (``queued`` one step, ``running`` two, then done).
    video_step_seconds: float = 0.05
    #: Length of one step of a background response (``queued`` one step, ``in_progress`` one, then done).
    response_step_seconds: float = 0.05
    #: Scripted replies (``fakes/replies.py``): a list of rule objects or the path of a JSON file of them.
    replies: Optional[RulesSource] = None
    #: uvicorn's log level.
    log_level: str = "warning"
    #: Serve the ``/_inspector/`` web page (:mod:`meshapi_gateway.record.inspector`).
    inspector: bool = True
    #: Record/replay in front of a real gateway (:class:`ProxySettings`).
    proxy: Optional[ProxySettings] = None
    #: Slow clients: seconds a client may take to send its request line and headers (then the
    #: connection is closed) and to send its whole body (then a 408 and the connection is closed);
    #: most connections served at once (past it, new requests get a 503 with ``Retry-After``).
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    max_connections: int = 512
    #: Routing policies per token (``fakes/routing.py``): token -> ``RoutingPolicy``, ``"*"`` for every
    #: token; server-side retry and fallback along the chat ``models`` list, reported in headers.
    routing: Optional[Mapping[str, Any]] = None
    #: API versions to announce as deprecated (``http/versioning.py``): label -> the day it stops being
    #: served (``YYYY-MM-DD``, sent as ``Sunset``) or ``None`` (``Deprecation`` without a date).
    deprecated_versions: Optional[Mapping[str, Optional[str]]] = None
    #: A stored API version per token (token -> ``YYYY-MM``), like a key's pin: served when a request
    #: sends no ``X-Mesh-Version`` (the header wins; without either, the baseline).
    api_version_pins: Optional[Mapping[str, str]] = None
    #: The gateway response cache of chat completions (``store/response_cache.py``): on for every key
    #: unless false; ``response_cache_per_token`` (token -> on/off) is a key's own setting and wins.
    #: Entries live ``response_cache_ttl`` seconds; at most ``response_cache_max_entries`` answers and
    #: ``response_cache_max_bytes`` bytes are kept across all keys (least recently used dropped first).
    response_cache: bool = True
    response_cache_per_token: Optional[Mapping[str, bool]] = None
    response_cache_ttl: float = 24 * 60 * 60.0
    response_cache_max_entries: int = 10_000
    response_cache_max_bytes: int = 64 * 1024 * 1024
    #: Webhook endpoints (``webhooks/``): URLs (signed with ``webhook_secret``), ``(url, secret)`` pairs
    #: or mappings ``{"url", "secret", "events"}``; more can be registered at run time (admin API).
    webhooks: Sequence[Any] = ()
    webhook_secret: Optional[str] = None
    #: How many times faster than documented the retry schedule runs (30 s / 1000 = 30 ms), and the
    #: seconds each network step of a delivery attempt may take (the whole attempt: 3 times that).
    webhook_speed: float = 1.0
    webhook_timeout: float = 10.0
    #: Alert thresholds (``webhooks/alerts.py``): ``balance.low`` below this balance (USD; ``None``: never);
    #: a spend cap per key (USD; ``None``: none) reached to these percentages (``spend_cap.approaching``)
    #: and in full (``spend_cap.hit``, then paid requests get 402); rate-limit counters at these
    #: percentages of their RPM/RPD limits (``rate_limit.threshold``).
    balance_low_usd: Optional[Union[str, int, Decimal]] = "10"
    spend_cap_usd: Optional[Union[str, int, Decimal]] = None
    spend_cap_pcts: Sequence[float] = (80.0,)
    rate_limit_pcts: Sequence[float] = (80.0, 100.0)

    @classmethod
    def build(
        cls, settings: Optional[GatewaySettings] = None, *, caller: str = "create_app", **options: Any
    ) -> GatewaySettings:
        """``settings`` (or the defaults) with ``options`` applied; an unknown name is a ``TypeError``."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise TypeError(f"{caller}() got an unexpected keyword argument '{unknown[0]}'")
        base = settings if settings is not None else cls()
        return dataclasses.replace(base, **options) if options else base

    def token_list(self) -> List[str]:
        """The accepted tokens, with the fallback applied and checked.

        Without ``tokens`` and ``$MESHAPI_TOKEN``, each call mints a new token: the gateway's state
        calls it once and keeps the result.
        """
        tokens = (
            list(self.tokens)
            if self.tokens is not None
            else [os.environ.get("MESHAPI_TOKEN") or mint_token()]
        )
        if not tokens or not all(isinstance(t, str) and t for t in tokens):
            raise ValueError("tokens must be non-empty strings")
        return tokens
