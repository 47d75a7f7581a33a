"""The inspector page in a real browser, used as a person would: watch a call, open it, plant a fault."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path
from typing import Any, Callable, Iterator, List

import pytest

from meshapi import AsyncMeshAPI, MeshAPI
from meshapi._errors import InternalServerError, RateLimitError
from meshapi_gateway import Gateway, serve
from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.browser

MODEL = "openai/gpt-4o-mini"
DOCS_SHOT = Path(__file__).resolve().parents[2] / "docs" / "inspector.png"


@pytest.fixture
def gw() -> Iterator[Gateway]:
    with serve(["rsk_browser_test_token"]) as gateway:
        yield gateway


def wait_for(driver: Any, condition: Callable[[Any], Any], timeout: float = 20) -> Any:
    """Poll ``condition`` until it is truthy; the live list re-renders, so stale elements are retried."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(
        driver, timeout, poll_frequency=0.05, ignored_exceptions=(StaleElementReferenceException,)
    )
    return wait.until(condition)


def row_cells(driver: Any, css: str) -> List[List[str]]:
    """The text of every cell of every row matching ``css``, read in one go."""
    from selenium.webdriver.common.by import By

    return [
        [td.text for td in tr.find_elements(By.TAG_NAME, "td")]
        for tr in driver.find_elements(By.CSS_SELECTOR, css)
    ]


def click(driver: Any, css: str) -> None:
    from selenium.webdriver.common.by import By

    wait_for(driver, lambda d: d.find_element(By.CSS_SELECTOR, css).click() or True)


def shot(driver: Any, name: str) -> None:
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    assert path.stat().st_size > 1000


def test_watch_a_call_open_it_and_plant_a_fault(browser: Any, gw: Gateway) -> None:
    from selenium.webdriver.common.by import By

    assert gw.inspector_url is not None
    browser.get(gw.inspector_url)
    wait_for(browser, lambda d: d.find_element(By.ID, "live").text == "live")
    assert "#key=" not in browser.current_url, "the admin token must leave the address bar"

    client = MeshAPI(base_url=gw.base_url, token=gw.token, max_retries=0)
    try:
        question = "Which museums should I see in Paris?"
        reply = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": question}])
        with client.chat.completions.stream(
            model=MODEL, messages=[{"role": "user", "content": "Stream me a haiku"}]
        ) as stream:
            streamed = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)

        # both calls appear in the live list, newest first, without reloading the page
        def settled(d: Any) -> Any:
            rows = row_cells(d, "#requests tbody tr")
            return rows if len(rows) >= 2 and rows[0][6] and rows[1][6] else None

        rows = wait_for(browser, settled)
        assert rows[0][2] == "/v1/chat/completions" and rows[0][9] == "yes"  # the stream is newest
        cells = row_cells(browser, f'tr[data-request-id="{reply._request_id}"]')[0]
        assert cells[1:5] == ["POST", "/v1/chat/completions", MODEL, "200"]
        usage = reply.usage
        assert usage is not None and cells[6] == f"{usage.prompt_tokens} / {usage.completion_tokens}"
        assert cells[7].startswith("0.") and cells[8] == reply._request_id
        shot(browser, "1-requests")
        if os.environ.get("MESHAPI_UPDATE_DOCS_SCREENSHOT"):
            shutil.copyfile(ARTIFACTS / "1-requests.png", DOCS_SHOT)

        # open it: the question as a conversation, the answer, the request id
        click(browser, f'tr[data-request-id="{reply._request_id}"]')
        wait_for(browser, lambda d: d.find_element(By.ID, "detail-title").text == "POST /v1/chat/completions")
        bubbles = browser.find_elements(By.CSS_SELECTOR, "#detail-request .msg.user .text")
        assert [b.text for b in bubbles] == [question]
        answer = browser.find_element(By.CSS_SELECTOR, "#detail-response .msg.assistant .text").text
        assert answer == reply.choices[0].message.content
        assert reply._request_id in browser.find_element(By.ID, "detail-summary").text
        assert gw.token not in browser.page_source
        shot(browser, "2-request")

        # the streamed one: events in order with their timing, and the joined answer
        browser.get(gw.base_url + "/_inspector/#/")
        click(browser, "#requests tbody tr")  # the newest: the stream
        wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#detail-response .events tr"))
        joined = browser.find_element(By.CSS_SELECTOR, "#detail-response .msg.assistant .text").text
        assert joined == streamed
        events = browser.find_elements(By.CSS_SELECTOR, "#detail-response .events tr")
        assert events[-1].text.endswith("data: [DONE]")
        shot(browser, "3-stream")

        # plant a fault from the page: the next SDK calls (sync and async) fail with it
        browser.find_element(By.ID, "nav-faults").click()
        form = wait_for(browser, lambda d: d.find_element(By.ID, "fault-form"))
        form.find_element(By.NAME, "status").send_keys("503")
        form.find_element(By.NAME, "times").clear()
        form.find_element(By.NAME, "times").send_keys("2")
        browser.find_element(By.ID, "fault-add").click()
        wait_for(browser, lambda d: "Fault added" in d.find_element(By.ID, "fault-message").text)
        listed = wait_for(browser, lambda d: row_cells(d, "#faults tbody tr"))
        assert listed[0][0] == "/v1/chat/completions" and listed[0][2] == "0 / 2"
        shot(browser, "4-faults")
        with pytest.raises(InternalServerError) as info:
            client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "again"}])
        assert info.value.status == 503

        async def async_call() -> None:
            async with AsyncMeshAPI(base_url=gw.base_url, token=gw.token, max_retries=0) as aclient:
                await aclient.chat.completions.create(
                    model=MODEL, messages=[{"role": "user", "content": "a"}]
                )

        with pytest.raises(InternalServerError):
            asyncio.run(async_call())
        assert gw.faults.pending() == []

        # the list shows the faulted calls
        browser.find_element(By.ID, "nav-requests").click()
        wait_for(
            browser, lambda d: "503 (fault)" in d.find_element(By.CSS_SELECTOR, "#requests tbody tr").text
        )
        shot(browser, "5-faulted")

        # a rate limit set on the page: one call a minute, so the second one is refused
        browser.find_element(By.ID, "nav-limits").click()
        limits = wait_for(browser, lambda d: d.find_element(By.ID, "limits-form"))
        wait_for(browser, lambda d: limits.get_attribute("data-loaded") == "1")  # filled from the gateway
        limits.find_element(By.NAME, "rpm").send_keys("1")
        limits.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait_for(browser, lambda d: "1 per minute" in d.find_element(By.ID, "limits-message").text)
        shot(browser, "6-limits")
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "one"}])
        with pytest.raises(RateLimitError):
            client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "two"}])

        # reset from the page (two clicks): counts, log and stored data are gone, calls go through again
        browser.find_element(By.ID, "nav-reset").click()
        browser.find_element(By.ID, "reset-button").click()
        browser.find_element(By.ID, "reset-confirm").click()
        wait_for(browser, lambda d: "Reset done" in d.find_element(By.ID, "reset-message").text)
        shot(browser, "7-reset")
        assert len(gw.requests) == 0
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "three"}])

        # the limit lifted on the page again
        browser.find_element(By.ID, "nav-limits").click()
        limits = wait_for(browser, lambda d: d.find_element(By.ID, "limits-form"))
        wait_for(browser, lambda d: limits.find_element(By.NAME, "rpm").get_attribute("value") == "1")
        limits.find_element(By.NAME, "rpm").clear()
        limits.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait_for(browser, lambda d: "unlimited per minute" in d.find_element(By.ID, "limits-message").text)

        # scripted replies edited on the page answer the next SDK call; cleared, the model answers again
        browser.find_element(By.ID, "nav-replies").click()
        wait_for(browser, lambda d: d.find_element(By.ID, "replies-text").get_attribute("value") == "[]")
        editor = browser.find_element(By.ID, "replies-text")
        editor.clear()
        editor.send_keys('[{"match": "weather", "content": "Fog over the bay."}]')
        browser.find_element(By.ID, "replies-save").click()
        wait_for(browser, lambda d: "Replies saved" in d.find_element(By.ID, "replies-message").text)
        shot(browser, "8-replies")
        ask = [{"role": "user", "content": "What is the weather like?"}]
        scripted = client.chat.completions.create(model=MODEL, messages=ask)
        assert scripted.choices[0].message.content == "Fog over the bay."
        browser.find_element(By.ID, "replies-clear").click()
        wait_for(browser, lambda d: "Replies cleared" in d.find_element(By.ID, "replies-message").text)
        again = client.chat.completions.create(model=MODEL, messages=ask)
        assert again.choices[0].message.content != "Fog over the bay."
        assert gw.token not in browser.page_source
    finally:
        client.close()
