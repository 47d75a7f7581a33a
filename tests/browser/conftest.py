"""A headless Chromium driven by Selenium, for the inspector page; skipped when either is missing.

Install what it needs with ``apt-get install -y chromium chromium-driver`` and ``pip install -e ".[browser]"``
(``selenium``). Screenshots go to ``tests/browser/artifacts/`` (git-ignored), or ``$MESHAPI_ARTIFACTS``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator, Optional

import pytest

ARTIFACTS = Path(os.environ.get("MESHAPI_ARTIFACTS") or Path(__file__).parent / "artifacts")

_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,900",
)


def _find(*names: str) -> Optional[str]:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture
def browser() -> Iterator[Any]:
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("selenium is not installed (pip install -e '.[browser]')")
    chromium = _find("chromium", "chromium-browser", "google-chrome")
    driver_path = _find("chromedriver")
    if chromium is None or driver_path is None:
        pytest.skip("no headless browser: install the chromium and chromium-driver system packages")
    profile = tempfile.mkdtemp(prefix="meshapi-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (*_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path, log_output=os.devnull), options=options)
    driver.set_page_load_timeout(20)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
