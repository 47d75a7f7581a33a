"""The pytest plugin in a throwaway project run by pytester: per-test reset, opt-outs, clean data."""

from __future__ import annotations

import textwrap

import pytest

pytest.importorskip("starlette")

pytest_plugins = ["pytester"]

CHAT = 'model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]'


def _run(pytester: pytest.Pytester, source: str, *args: str, ini: str = "") -> pytest.RunResult:
    pytester.makepyfile(test_app=textwrap.dedent(source))
    pytester.makeini("[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n" + ini)
    # a process of its own: on Python 3.9 (pytest 8) an earlier in-process run that closed an asyncio loop
    # left the next in-process run without its entry-point plugins
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", *args)


def test_a_fault_planned_in_one_test_does_not_reach_the_next(pytester: pytest.Pytester) -> None:
    result = _run(
        pytester,
        f"""
        import pytest
        from meshapi import InternalServerError

        def test_first(meshapi_gateway, meshapi_client):
            meshapi_gateway.faults.add("/v1/chat/completions", status=500, times=10)
            with pytest.raises(InternalServerError):
                meshapi_client.chat.completions.create({CHAT})

        def test_second(meshapi_gateway, meshapi_client):
            assert len(meshapi_gateway.faults) == 0
            assert len(meshapi_gateway.requests) == 0  # the log is this test's own
            reply = meshapi_client.chat.completions.create({CHAT})
            assert reply.choices[0].message.content
            assert len(meshapi_gateway.requests) == 1

        async def test_third_async(meshapi_gateway, meshapi_async_client):
            meshapi_gateway.faults.add("/v1/chat/completions", status=500, times=10)

        async def test_fourth_async(meshapi_async_client):
            reply = await meshapi_async_client.chat.completions.create({CHAT})
            assert reply.choices[0].message.content
        """,
    )
    result.assert_outcomes(passed=4)


def test_the_marker_keeps_state_for_a_module(pytester: pytest.Pytester) -> None:
    result = _run(
        pytester,
        """
        import pytest

        pytestmark = pytest.mark.meshapi_keep_state

        def test_first(meshapi_gateway):
            meshapi_gateway.faults.add("/v1/chat/completions", status=500, times=3)

        def test_second(meshapi_gateway):
            assert len(meshapi_gateway.faults) == 1
        """,
    )
    result.assert_outcomes(passed=2)


def test_the_ini_option_keeps_state_for_the_session(pytester: pytest.Pytester) -> None:
    source = """
        def test_first(meshapi_gateway):
            meshapi_gateway.faults.add("/v1/models", status=503)

        def test_second(meshapi_gateway):
            assert len(meshapi_gateway.faults) == 1
        """
    _run(pytester, source, ini="meshapi_reset = false\n").assert_outcomes(passed=2)
    # Without the option the same two tests see a reset gateway.
    _run(pytester, source).assert_outcomes(passed=1, failed=1)


def test_stored_data_stays_until_a_test_asks_for_clean_data(pytester: pytest.Pytester) -> None:
    result = _run(
        pytester,
        """
        def test_create(meshapi_client):
            meshapi_client.templates.create(name="kept", system="Be brief.")

        def test_data_is_kept(meshapi_client):
            assert [t.name for t in meshapi_client.templates.list()] == ["kept"]

        def test_clean(meshapi_clean_data, meshapi_client):
            assert list(meshapi_client.templates.list()) == []
            meshapi_client.templates.create(name="kept", system="Again: the name is free.")
        """,
    )
    result.assert_outcomes(passed=3)


def test_exported_settings_change_nothing(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MESHAPI_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("MESHAPI_TOKEN", "rsk_pretend_this_is_a_real_key")
    result = _run(
        pytester,
        f"""
        def test_local(meshapi_gateway, meshapi_client):
            assert meshapi_client.base_url.startswith(meshapi_gateway.base_url)
            assert meshapi_gateway.token != "rsk_pretend_this_is_a_real_key"
            meshapi_client.chat.completions.create({CHAT})
            assert len(meshapi_gateway.requests) == 1  # it reached the local gateway (the log redacts the token)
            assert meshapi_gateway.requests[0].bearer_is(meshapi_gateway.token)  # stored redacted
        """,
    )
    result.assert_outcomes(passed=1)


def test_the_readme_example_runs(pytester: pytest.Pytester) -> None:
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```python\n(# test_summary\.py.*?)^```", readme, re.S | re.M)
    assert len(blocks) == 1, "README section 'Testing your app with meshapi' lost its example"
    result = _run(pytester, blocks[0])
    result.assert_outcomes(passed=5)


def test_the_readme_agent_example_runs(pytester: pytest.Pytester) -> None:
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```python\n(# test_agent\.py.*?)^```", readme, re.S | re.M)
    assert len(blocks) == 1, "README section 'Testing your app with meshapi' lost its agent example"
    result = _run(pytester, blocks[0])
    result.assert_outcomes(passed=1)


def test_the_fixture_gateway_has_no_rate_limits_unless_asked(pytester: pytest.Pytester) -> None:
    source = """
        import pytest
        from meshapi import RateLimitError

        def test_many(request, meshapi_client):
            if request.config.getoption("--meshapi-rate-limit"):
                return
            for _ in range(105):  # past the documented 100 a minute (counted by day: no minute edge)
                meshapi_client.models.list()
            limits = meshapi_client.usage.rate_limits()
            assert (limits.key.rpd.current, limits.key.rpm.limit, limits.key.rpd.limit) == (106, None, None)

        def test_limited(request, meshapi_client):
            if not request.config.getoption("--meshapi-rate-limit"):
                return
            client = meshapi_client.with_options(max_retries=0)  # no waiting for the next minute
            client.models.list()
            client.models.list()
            with pytest.raises(RateLimitError) as caught:
                client.models.list()
            assert caught.value.error_code == "rate_limit_exceeded"
            assert str(caught.value).startswith("RPM limit of 2 req/min exceeded.")
        """
    _run(pytester, source).assert_outcomes(passed=2)
    _run(pytester, source, "--meshapi-rate-limit", "2/1000").assert_outcomes(passed=2)
