"""The Showcase page in a real headless Chromium (Debian's chromium + chromedriver, driven by
selenium; scripts/chromium.sh installs them): it runs the pipeline over /demo/stream and shows every
step, the WAPE chart and the winner. A screenshot is kept under the test's tmp dir."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .fakes import served

pytestmark = pytest.mark.db

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
STEPS = ["seed_data", "select_series", "backtest", "train_winner", "register_alias", "verify_artifact"]


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("Debian chromium/chromium-driver not installed (scripts/chromium.sh)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1200,900",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    try:
        yield driver
    finally:
        driver.quit()


def test_showcase_runs_the_pipeline_in_chromium(settings, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from ridgeline.app import create_app

    with served(create_app(settings)) as hp:
        browser.get(f"http://{hp}/retail/showcase")
        assert "Showcase" in browser.title
        browser.find_element(By.ID, "skip_seed").click()  # untick: seed the empty database
        browser.find_element(By.ID, "run").click()
        WebDriverWait(browser, 300).until(
            lambda d: (
                d.find_element(By.TAG_NAME, "body").get_attribute("data-state") in ("done", "failed", "error")
            )
        )
        shot = tmp_path / "showcase.png"
        browser.save_screenshot(str(shot))
        assert shot.stat().st_size > 10_000
        assert browser.find_element(By.TAG_NAME, "body").get_attribute("data-state") == "done"
        rows = browser.find_elements(By.CSS_SELECTOR, "#steps tr")
        assert [r.get_attribute("data-step") for r in rows] == STEPS
        assert [r.get_attribute("data-status") for r in rows] == ["pass"] * 6
        winner = browser.find_element(By.ID, "winner").text
        bars = browser.find_elements(By.CSS_SELECTOR, "#wape-chart rect")
        per_model = {b.get_attribute("data-model"): float(b.get_attribute("data-wape")) for b in bars}
        assert set(per_model) == {"naive", "seasonal_naive", "moving_average"}
        assert winner == min(per_model, key=per_model.__getitem__)
        assert (
            browser.find_element(By.CSS_SELECTOR, "#wape-chart rect.winner").get_attribute("data-model")
            == winner
        )
        # The page loaded nothing from elsewhere (no CDN): every resource came from this server.
        urls = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        assert all(u.startswith(f"http://{hp}/") or u.startswith(f"ws://{hp}/") for u in urls), urls
        import httpx

        alias = httpx.get(f"http://{hp}/retail/registry/aliases/demo-champion", trust_env=False).json()
        assert alias["model_type"] == winner
    print(f"screenshot: {shot}")
