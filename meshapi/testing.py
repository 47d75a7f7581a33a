"""A pytest plugin for projects built on meshapi: a local gateway and clients bound to it.

Installed with the package (entry point ``pytest11``) and opt-in: nothing starts unless a test asks
for one of the fixtures. Needs the ``gateway`` extra (``pip install "meshapi[gateway]"``).

Fixtures:

* ``meshapi_gateway`` (session): a running local gateway (``.base_url``, ``.token``, ``.faults``,
  ``.requests``, ``.replies``, ``.reset()``, ``.reset_data()``).
* ``meshapi_client``: a ``MeshAPI`` bound to it (closed after the test).
* ``meshapi_async_client``: an ``AsyncMeshAPI`` bound to it (closed after the test). A plain fixture:
  async tests use it under pytest-asyncio (strict or auto mode) or anyio (``@pytest.mark.anyio``).
* ``meshapi_cassette``: a gateway replaying (or recording) the cassette named by
  ``@pytest.mark.meshapi_cassette("path")`` (see :mod:`meshapi._testing_cassette`).
* ``meshapi_replies``: the gateway's scripted replies (``.add([...])``, ``.replace``, ``.clear``);
  back to the start-up rules after the test. ``--meshapi-replies FILE`` (or the ``meshapi_replies``
  ini option) starts the session gateway with the rules in FILE. The fixture's gateway has no rate
  limits (a test suite should not trip them); ``--meshapi-rate-limit RPM[/DAY]`` (or the
  ``meshapi_rate_limit`` ini option) sets some.
* ``meshapi_clean_data``: the gateway with its stored templates, files and batches removed first.
* ``meshapi_webhook_receiver``: a local endpoint registered with the gateway for the test, collecting
  its webhook deliveries (``.wait(n)``, ``.events()``; see :mod:`meshapi._testing_webhooks`). The
  session gateway retries failed deliveries 1000 times faster than the documented schedule.

Isolation: after every test that used the gateway (directly or through a fixture),
``Gateway.reset(requests=True)`` clears the fault plan, restores the start-up scripted replies, zeroes
the rate-limit counters, forgets idempotency keys and clears the request log (with the usage it fed,
and every balance back to its starting amount), so nothing a test
arranged leaks into the next one. Stored data (templates, files, batches) is kept unless a test asks
for ``meshapi_clean_data``. Opt out of the reset with the marker ``@pytest.mark.meshapi_keep_state``
(on a test, a class, or a module via ``pytestmark``) or for the whole run with the ini option
``meshapi_reset = false``.

The gateway always uses its own token and address: exported ``MESHAPI_BASE_URL`` / ``MESHAPI_TOKEN``
change nothing, so a real key in the environment is never sent anywhere by these fixtures.

Example::

    def test_summary(meshapi_client):
        reply = meshapi_client.chat.completions.create(
            model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "Hello"}]
        )
        assert reply.choices[0].message.content
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Iterator

import pytest

if TYPE_CHECKING:
    from meshapi import AsyncMeshAPI, MeshAPI

__all__ = [
    "meshapi_async_client",
    "meshapi_clean_data",
    "meshapi_client",
    "meshapi_gateway",
    "meshapi_replies",
    "pytest_addoption",
    "pytest_configure",
]

_KEEP_MARKER = "meshapi_keep_state"
_RESET_INI = "meshapi_reset"

# Record/replay against cassettes: its fixture, marker and options.
pytest_plugins = ["meshapi._testing_cassette", "meshapi._testing_webhooks"]

# Tests should not wait for real backoff: retries still happen, just without the sleeps.
_FAST_RETRIES: Dict[str, Any] = {"retry_initial_delay": 0.0, "retry_max_delay": 0.0}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("meshapi")
    help_text = "JSON file of scripted-reply rules for the meshapi_gateway fixture"
    group.addoption("--meshapi-replies", metavar="FILE", default=None, help=help_text)
    parser.addini("meshapi_replies", help_text, default="")
    limits_help = "rate limits of the meshapi_gateway fixture, RPM or RPM/DAY per token (default: none)"
    group.addoption("--meshapi-rate-limit", metavar="RPM[/DAY]", default=None, help=limits_help)
    parser.addini("meshapi_rate_limit", limits_help, default="")
    parser.addini(
        _RESET_INI,
        type="bool",
        default=True,
        help="meshapi: reset the local gateway (faults, replies, limits, request log) after each test",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{_KEEP_MARKER}: meshapi: do not reset the local gateway after this test (module: pytestmark)",
    )


def _replies_file(config: pytest.Config) -> Any:
    chosen = config.getoption("--meshapi-replies", default=None) or config.getini("meshapi_replies")
    return chosen or None


@pytest.fixture(scope="session")
def meshapi_gateway(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A local MeshAPI gateway for the whole test session."""
    from meshapi_gateway import serve

    # imported here, not at the top: pytest must import the cassette part itself (``pytest_plugins``) to
    # rewrite its asserts; importing it first makes pytest warn, and warnings are errors in test suites
    from ._testing_cassette import PLUGIN_TOKEN

    config = request.config
    limits = config.getoption("--meshapi-rate-limit", default=None) or config.getini("meshapi_rate_limit")
    # webhook retries 1000 times faster than documented: 30 ms, 120 ms, 0.6 s, 3.6 s, 21.6 s
    with serve(
        tokens=[PLUGIN_TOKEN], replies=_replies_file(config), rate_limits=limits or False, webhook_speed=1000
    ) as gateway:
        yield gateway


@pytest.fixture
def meshapi_client(meshapi_gateway: Any) -> Iterator[MeshAPI]:
    """A ``MeshAPI`` client bound to the session's local gateway."""
    from meshapi import MeshAPI

    client = MeshAPI(base_url=meshapi_gateway.base_url, token=meshapi_gateway.token, **_FAST_RETRIES)
    try:
        yield client
    finally:
        client.close()
        meshapi_gateway.faults.clear()


@pytest.fixture
def meshapi_async_client(meshapi_gateway: Any) -> Iterator[AsyncMeshAPI]:
    """An ``AsyncMeshAPI`` client bound to the session's local gateway, for any async test runner.

    A plain (synchronous) fixture, so it needs no async-fixture support: it works under pytest-asyncio
    in strict and auto mode and under anyio's ``@pytest.mark.anyio``. The client binds to an event loop
    only on its first call, so it is used on the test's own loop; the teardown closes it after that loop
    is gone without a warning (see :func:`_close_async_client`).
    """
    from meshapi import AsyncMeshAPI

    client = AsyncMeshAPI(base_url=meshapi_gateway.base_url, token=meshapi_gateway.token, **_FAST_RETRIES)
    try:
        yield client
    finally:
        _close_async_client(client)
        meshapi_gateway.faults.clear()


def _close_async_client(client: AsyncMeshAPI) -> None:
    """Close an ``AsyncMeshAPI`` from synchronous code, whatever became of the loop it was used on.

    The test's runner has usually closed that loop (or ended its trio run) by now. ``aclose()`` on a
    fresh loop closes what it can and drops the connections of every other loop without touching it
    (their sockets closed directly, without a warning: ``AsyncMeshAPI`` keeps a pool per event loop).
    """
    import asyncio

    asyncio.run(client.aclose())


@pytest.fixture
def meshapi_replies(meshapi_gateway: Any) -> Iterator[Any]:
    """The session gateway's scripted replies, restored to the start-up rules after the test."""
    try:
        yield meshapi_gateway.replies
    finally:
        meshapi_gateway.replies.reset()


@pytest.fixture(autouse=True)
def _meshapi_isolation(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a test that used the gateway: reset it, unless opted out (see the module doc)."""
    yield
    if "meshapi_gateway" not in request.fixturenames:
        return
    if request.node.get_closest_marker(_KEEP_MARKER) is not None:
        return
    if not request.config.getini(_RESET_INI):
        return
    request.getfixturevalue("meshapi_gateway").reset(requests=True)


@pytest.fixture
def meshapi_clean_data(meshapi_gateway: Any) -> Any:
    """The session gateway with every stored template, RAG file and batch removed before the test."""
    meshapi_gateway.reset_data()
    return meshapi_gateway
