"""The plugin's ``meshapi_webhook_receiver`` fixture in a throwaway project run by pytester."""

from __future__ import annotations

import textwrap

import pytest

pytest.importorskip("starlette")

pytest_plugins = ["pytester"]


def test_the_receiver_collects_verified_deliveries_and_is_gone_after_the_test(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_app=textwrap.dedent(
            """
            import pytest
            from meshapi.webhooks import BalanceLowEvent

            CHAT = dict(model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
            seen = {}

            def test_balance_low(meshapi_gateway, meshapi_webhook_receiver, meshapi_client):
                meshapi_gateway.webhooks.configure(balance_low_usd="1000")
                meshapi_client.chat.completions.create(**CHAT)
                (event,) = meshapi_webhook_receiver.wait(1).events()
                assert isinstance(event, BalanceLowEvent) and event.id.startswith("evt_")
                assert [e.url for e in meshapi_gateway.webhooks.endpoints.all()] == [meshapi_webhook_receiver.url]
                seen["url"] = meshapi_webhook_receiver.url

            def test_retries_are_seen(meshapi_gateway, meshapi_webhook_receiver):
                assert meshapi_gateway.webhooks.alerts.settings.balance_low_usd == 10  # reset after the test
                meshapi_webhook_receiver.fail_next(1, status=503)
                meshapi_gateway.webhooks.emit("spend_cap.hit", {"scope": "key"}, test=True)
                meshapi_webhook_receiver.wait(1)  # the retry comes after about 30 ms (speed 1000)
                assert [d.status for d in meshapi_webhook_receiver.deliveries] == [503, 200]
                assert meshapi_webhook_receiver.events()[0].test is True

            def test_gone(meshapi_gateway):
                assert meshapi_gateway.webhooks.endpoints.all() == []
                with pytest.raises(AssertionError, match="expected 1 webhook deliveries within 0.05 s, got 0"):
                    from meshapi._testing_webhooks import WebhookReceiver
                    r = WebhookReceiver()
                    try:
                        r.wait(1, timeout=0.05)
                    finally:
                        r.close()
            """
        )
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=3)
