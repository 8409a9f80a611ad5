"""Headless Chromium driven by Selenium, over `make run`'s stack in a subprocess.

The browser is Debian's `chromium` and `chromium-driver` (or any Chromium and matching
chromedriver named by CHROMIUM and CHROMEDRIVER). Without one, these tests are skipped with
BROWSER_MISSING; with REQUIRE_BROWSER=1 (CI), they fail instead.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator

import pytest

CHROMIUM = (
    os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
)
CHROMEDRIVER = os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver")
BROWSER_MISSING = (
    "browser tests skipped: no headless Chromium found (need `chromium` and `chromedriver` "
    "on PATH, or CHROMIUM and CHROMEDRIVER set); install them with "
    "`sudo apt-get install chromium chromium-driver`"
)
WINDOW = (1440, 900)


def require_browser() -> tuple[str, str]:
    """Chromium and its driver; called at a test module's import, so that without them the
    module is skipped with one line that says how to install them (or, under
    REQUIRE_BROWSER=1, fails to collect)."""
    if CHROMIUM and CHROMEDRIVER:
        return CHROMIUM, CHROMEDRIVER
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(BROWSER_MISSING.replace("skipped", "required"), pytrace=False)
    pytest.skip(BROWSER_MISSING, allow_module_level=True)


@pytest.fixture(scope="session")
def browser_paths() -> tuple[str, str]:
    return require_browser()


@pytest.fixture(scope="module")
def driver(browser_paths) -> Iterator:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager: never download a driver or browser
    binary, chromedriver = browser_paths
    profile = tempfile.TemporaryDirectory(prefix="chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in (
        "--headless=new",
        "--no-sandbox",  # as root, in a container
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile.name}",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        "--force-device-scale-factor=1",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(chromedriver), options=options)
    try:
        yield browser
    finally:
        browser.quit()
        profile.cleanup()


@pytest.fixture(autouse=True)
def no_console_errors(request) -> Iterator[None]:
    """Whatever a browser test did, the page logged no error and no warning."""
    yield
    if "driver" not in request.fixturenames:
        return
    entries = request.getfixturevalue("driver").get_log("browser")
    troubles = [e for e in entries if e["level"] in ("SEVERE", "WARNING")]
    assert troubles == [], troubles
