"""``meshapi_async_client`` under every async runner: pytest-asyncio strict and auto mode, anyio.

Each inner run keeps ``filterwarnings = error`` and collects garbage in a later test, so a connection
left open on a closed loop (``unclosed transport``) fails the run, and checks the previous test's client
was closed.
"""

from __future__ import annotations

from typing import Tuple

import pytest

pytest.importorskip("starlette")

pytest_plugins = ["pytester"]

CHAT = 'model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]'

# {marker}: the line put above each async test (a marker, or nothing in auto mode)
SOURCE = f"""
import gc

from typing import Tuple

import pytest

used = []

{{marker}}
async def test_calls(meshapi_async_client, meshapi_gateway):
    reply = await meshapi_async_client.chat.completions.create({CHAT})
    assert reply.choices[0].message.content
    async with meshapi_async_client.chat.completions.stream({CHAT}) as stream:
        async for _ in stream:
            pass
    assert len(meshapi_gateway.requests) == 2
    used.append(meshapi_async_client)

{{marker}}
async def test_a_second_loop_gets_its_own_client(meshapi_async_client):
    assert used and meshapi_async_client is not used[0]
    assert (await meshapi_async_client.chat.completions.create({CHAT})).choices
    used.append(meshapi_async_client)

def test_the_clients_were_closed_without_a_warning():
    gc.collect()  # an unclosed transport would warn here (an error under filterwarnings = error)
    assert [client._http._client.is_closed for client in used] == [True, True]
"""

# The two ignores are the project's own (pyproject.toml): on Python 3.9 pytest-asyncio saves the "current"
# loop with asyncio.get_event_loop(), which creates a loop and its AF_UNIX self-pipe that nothing closes.
# That is the runner's leak, not the client's: an unclosed TCP socket or transport still fails the run.
INI = (
    "[pytest]\nfilterwarnings =\n    error\n"
    "    ignore:unclosed event loop:ResourceWarning\n"
    "    ignore:unclosed <socket\\.socket .*AF_UNIX:ResourceWarning\n"
)


def _run(pytester: pytest.Pytester, marker: str, *args: str, ini: str = "") -> pytest.RunResult:
    pytester.makepyfile(test_app=SOURCE.replace("{marker}", marker))
    pytester.makeini(INI + ini)
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", *args)


def test_strict_mode(pytester: pytest.Pytester) -> None:
    result = _run(
        pytester,
        "@pytest.mark.asyncio",
        "-p",
        "asyncio",
        "--asyncio-mode=strict",
        ini="asyncio_default_fixture_loop_scope = function\n",
    )
    result.assert_outcomes(passed=3)


def test_strict_mode_on_a_session_loop(pytester: pytest.Pytester) -> None:
    # the loop outlives the test, idle at teardown: its connections are dropped and it keeps working
    result = _run(
        pytester,
        '@pytest.mark.asyncio(loop_scope="session")',
        "-p",
        "asyncio",
        "--asyncio-mode=strict",
        ini="asyncio_default_fixture_loop_scope = function\n",
    )
    result.assert_outcomes(passed=3)


def test_auto_mode(pytester: pytest.Pytester) -> None:
    result = _run(
        pytester,
        "",
        "-p",
        "asyncio",
        "--asyncio-mode=auto",
        ini="asyncio_default_fixture_loop_scope = function\n",
    )
    result.assert_outcomes(passed=3)


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_anyio_without_pytest_asyncio(pytester: pytest.Pytester, backend: str) -> None:
    if backend == "trio":
        pytest.importorskip("trio")
    pytester.makeconftest(f"""
        import pytest

        @pytest.fixture
        def anyio_backend():
            return {backend!r}
        """)
    result = _run(pytester, "@pytest.mark.anyio", "-p", "no:asyncio")
    result.assert_outcomes(passed=3)


def _readme_block(first_line: str) -> str:
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(rf"^```python\n({re.escape(first_line)}.*?)^```", readme, re.S | re.M)
    assert len(blocks) == 1, f"README section 'Testing your app with meshapi' lost its example {first_line!r}"
    return str(blocks[0])


@pytest.mark.parametrize(
    ("example", "args"),
    [
        ("# test_async_summary.py", ("-p", "asyncio", "--asyncio-mode=strict")),
        ("# test_async_summary.py", ("-p", "asyncio", "--asyncio-mode=auto")),
        ("# test_anyio_summary.py", ("-p", "no:asyncio")),
    ],
)
def test_the_readme_async_examples_run(
    pytester: pytest.Pytester, example: str, args: Tuple[str, ...]
) -> None:
    pytester.makepyfile(test_example=_readme_block(example))
    asyncio_ini = "asyncio_default_fixture_loop_scope = function\n" if "asyncio" in args else ""
    pytester.makeini(INI + asyncio_ini)
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", *args).assert_outcomes(passed=1)
