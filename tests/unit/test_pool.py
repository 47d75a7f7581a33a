"""The SDK's pool planning (``meshapi._transport.pool.plan``): the same answers as httpcore's, in linear time.

Pure tests over stand-in connections and requests (the planning reads only these attributes), then
checks that ``MeshAPI`` / ``AsyncMeshAPI`` use it for their own pools and leave other pools alone.
"""

from __future__ import annotations

import time
from typing import Any, List, Optional

import httpcore
import httpx
import pytest

from meshapi import AsyncMeshAPI, ConfigurationError, MeshAPI
from meshapi._core.request import RequestOptions
from meshapi._transport import pool as _pool
from meshapi._transport.pool import SWEEP_SECONDS, plan

_NO_OPTIONS = RequestOptions()

ORIGIN = httpcore.URL("http://gateway.test/").origin
OTHER = httpcore.URL("http://elsewhere.test/").origin


class Conn:
    def __init__(self, state: str = "idle", origin: Any = ORIGIN, expired: bool = False) -> None:
        self.state, self.origin, self.expired = state, origin, expired
        self.expiry_checks = 0

    def is_closed(self) -> bool:
        return self.state == "closed"

    def is_idle(self) -> bool:
        return self.state == "idle"

    def is_available(self) -> bool:
        return self.state == "idle"

    def has_expired(self) -> bool:
        self.expiry_checks += 1
        return self.expired

    def can_handle_request(self, origin: Any) -> bool:
        return bool(origin == self.origin)


class Req:
    def __init__(self, origin: Any = ORIGIN) -> None:
        self.request = type("R", (), {"url": type("U", (), {"origin": origin})()})()
        self.connection: Optional[Conn] = None

    def is_queued(self) -> bool:
        return self.connection is None

    def assign_to_connection(self, connection: Conn) -> None:
        self.connection = connection


class Pool:
    def __init__(self, connections: List[Conn], requests: List[Req], limit: int = 10, keep: int = 10) -> None:
        self._connections = connections
        self._requests = requests
        self._max_connections = limit
        self._max_keepalive_connections = keep
        self._http2 = False
        self._meshapi_swept = time.monotonic()  # a sweep just ran
        self.created: List[Conn] = []

    def create_connection(self, origin: Any) -> Conn:
        connection = Conn("new", origin)
        self.created.append(connection)
        return connection


def test_a_queued_request_gets_an_idle_connection_of_its_origin() -> None:
    other, mine = Conn(origin=OTHER), Conn()
    request = Req()
    pool = Pool([other, mine], [request])
    assert plan(pool) == []
    assert request.connection is mine and pool.created == []


def test_one_idle_http11_connection_is_handed_to_one_request_only() -> None:
    # httpcore hands the same idle connection to every queued request; all but one then start over
    idle = Conn()
    first, second = Req(), Req()
    pool = Pool([idle], [first, second])
    plan(pool)
    assert first.connection is idle
    assert second.connection is not idle and second.connection in pool.created


def test_a_connection_reserved_by_a_request_not_yet_sending_is_not_handed_out_again() -> None:
    idle = Conn()
    waiting, new = Req(), Req()
    waiting.connection = idle  # assigned on an earlier plan, its task has not run yet
    pool = Pool([idle], [waiting, new])
    plan(pool)
    assert new.connection is not idle


def test_an_expired_idle_connection_is_closed_not_reused() -> None:
    dead, alive = Conn(expired=True), Conn()
    request = Req()
    pool = Pool([dead, alive], [request])
    assert plan(pool) == [dead]
    assert request.connection is alive and dead not in pool._connections


def test_at_the_limit_a_request_waits_or_replaces_an_idle_connection_of_another_origin() -> None:
    busy = Conn("active")
    request = Req()
    pool = Pool([busy], [request], limit=1)
    assert plan(pool) == [] and request.connection is None  # queued, nothing closed
    idle_other = Conn(origin=OTHER)
    pool = Pool([idle_other], [request], limit=1)
    assert plan(pool) == [idle_other]
    assert request.connection is pool.created[0]


def test_closed_connections_do_not_count_against_the_limit() -> None:
    request = Req()
    pool = Pool([Conn("closed"), Conn("closed")], [request], limit=2)
    plan(pool)
    assert request.connection is pool.created[0]
    assert all(not c.is_closed() for c in pool._connections)


def test_a_connection_whose_connect_failed_is_never_picked_to_make_room() -> None:
    # httpcore's connection reads as closed *and* idle after a failed connect, until the next sweep
    class Failed(Conn):
        def is_idle(self) -> bool:
            return True

    failed, busy = Failed("closed"), Conn("active")
    first, second = Req(), Req()
    pool = Pool([busy, failed], [first, second], limit=2)
    assert plan(pool) == []  # no ValueError from removing it twice
    assert first.connection is pool.created[0] and second.connection is None


def test_idle_connections_beyond_the_keepalive_limit_are_closed_oldest_first() -> None:
    # httpcore counts every connection, idle or not, against max_keepalive_connections
    idle = [Conn() for _ in range(4)]
    active = [Conn("active") for _ in range(4)]
    pool = Pool(active + idle, [], keep=2)
    assert plan(pool) == idle[:2]
    assert pool._connections == active + idle[2:]


def test_a_busy_pool_under_its_keepalive_limit_keeps_its_idle_connections() -> None:
    idle = [Conn() for _ in range(3)]
    pool = Pool([Conn("active") for _ in range(5)] + idle, [], keep=4)
    assert plan(pool) == []
    assert len(pool._connections) == 8


def test_a_response_closing_with_nobody_waiting_checks_no_socket() -> None:
    idle = [Conn() for _ in range(64)]
    pool = Pool(idle, [], limit=256, keep=64)
    assert plan(pool) == []
    assert sum(c.expiry_checks for c in idle) == 0


def test_the_sweep_runs_at_most_every_sweep_seconds() -> None:
    expired = Conn(expired=True)
    pool = Pool([Conn("closed"), expired, Conn()], [])
    plan(pool)
    assert expired.expiry_checks == 0  # swept just now: no socket polled
    pool._meshapi_swept = time.monotonic() - SWEEP_SECONDS
    assert plan(pool) == [expired]
    assert len(pool._connections) == 1


def test_the_work_per_plan_grows_linearly_with_the_pool() -> None:
    calls = {"n": 0}

    class Counting(Conn):
        def is_idle(self) -> bool:
            calls["n"] += 1
            return super().is_idle()

    def checks(size: int) -> int:
        calls["n"] = 0
        pool = Pool([Counting() for _ in range(size)], [Req()], limit=1000, keep=1000)
        plan(pool)
        return calls["n"]

    assert checks(200) <= 2 * checks(100) + 4  # httpcore's plan: quadratic (40,000 vs 10,000)


# --- which pools get it --------------------------------------------------------------------------------
def _pool_of(client: Any) -> Any:
    return client._http._client._transport._pool


def test_the_clients_own_pools_use_the_linear_plan() -> None:
    with MeshAPI(base_url="http://127.0.0.1:9", token="t") as sync:
        assert isinstance(_pool_of(sync), httpcore.ConnectionPool)
        assert type(_pool_of(sync)).__name__ == "_LeanPool"


async def test_the_async_clients_own_pool_uses_the_linear_plan() -> None:
    async with AsyncMeshAPI(base_url="http://127.0.0.1:9", token="t") as client:
        assert type(_pool_of(client)).__name__ == "_LeanAsyncPool"
        copy = client.with_options(timeout=5)
        assert _pool_of(copy) is _pool_of(client)  # a copy shares the pool


def test_a_client_you_pass_in_keeps_its_own_pool() -> None:
    with httpx.Client() as mine, MeshAPI(base_url="http://127.0.0.1:9", token="t", httpx_client=mine):
        assert type(mine._transport._pool) is httpcore.ConnectionPool  # type: ignore[attr-defined]


def test_a_proxied_pool_is_left_alone() -> None:
    proxied = httpx.HTTPTransport(proxy="http://127.0.0.1:3128")
    with httpx.Client(transport=proxied) as client:
        assert _pool.speed_up(client) is False
        assert type(proxied._pool) is httpcore.HTTPProxy

    with httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200))) as client:
        assert _pool.speed_up(client) is False


def test_limits_size_the_pool_the_sdk_builds() -> None:
    limits = httpx.Limits(max_connections=8, max_keepalive_connections=4)
    with MeshAPI(base_url="http://127.0.0.1:9", token="t", limits=limits) as client:
        pool = _pool_of(client)
        assert (pool._max_connections, pool._max_keepalive_connections) == (8, 4)
        with pytest.raises(ConfigurationError, match="does not accept limits"):
            client.with_options(limits=limits)  # a copy shares the pool: its size is the first client's


async def test_limits_reach_the_aiohttp_transport_too() -> None:
    pytest.importorskip("aiohttp")
    limits = httpx.Limits(max_connections=5, max_keepalive_connections=5)
    async with AsyncMeshAPI(
        base_url="http://127.0.0.1:9", token="t", limits=limits, http_transport="aiohttp"
    ) as c:
        assert c._http._client._transport._limits.max_connections == 5


def test_limits_are_checked() -> None:
    with pytest.raises(ConfigurationError, match=r"httpx\.Limits"):
        MeshAPI(base_url="http://127.0.0.1:9", token="t", limits=10)  # type: ignore[arg-type]
    with httpx.Client() as mine, pytest.raises(ConfigurationError, match="httpx client you pass in"):
        MeshAPI(base_url="http://127.0.0.1:9", token="t", httpx_client=mine, limits=httpx.Limits())


def test_a_transport_you_pass_in_is_left_as_it_is() -> None:
    async def run() -> None:
        mine = httpx.AsyncHTTPTransport()
        async with AsyncMeshAPI(base_url="http://127.0.0.1:9", token="t", http_transport=mine):
            assert type(mine._pool) is httpcore.AsyncConnectionPool

    import asyncio

    asyncio.run(run())


def test_a_closed_client_sends_nothing_even_mid_retry(sentinel: Any) -> None:
    from meshapi import APIConnectionError

    client = MeshAPI(base_url=sentinel.url, token="t")
    direct = client._http._direct
    request = client._http._build("GET", "/v1/models", None, None, _NO_OPTIONS, False)[0]
    client.close()
    with pytest.raises(APIConnectionError, match="closed"):
        direct.send(request)
    assert sentinel.connections() == 0


def test_credentials_in_the_url_take_httpx_s_path() -> None:
    with MeshAPI(base_url="http://127.0.0.1:9", token="t") as client:
        direct = client._http._direct
        assert direct._usable(httpx.Request("GET", "http://127.0.0.1:9/v1/models"))
        assert not direct._usable(httpx.Request("GET", "http://user:pw@127.0.0.1:9/v1/models"))
