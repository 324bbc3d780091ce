"""The app as `make run` serves it: the Boston sample's counts in a real browser."""

from __future__ import annotations

from geodispatch.services.accounts import DEMO_ACCOUNTS
from tests.browser.conftest import AppServer, screenshot, sign_in


def test_the_overview_shows_the_boston_counts(browser: object, demo_server: AppServer) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    dispatcher = DEMO_ACCOUNTS[0]  # `make run` is in demo mode: its accounts sign in
    sign_in(page, demo_server.url, dispatcher.username, dispatcher.password)
    page.get_by_role("link", name="Overview").click()
    page.get_by_text("60,675").first.wait_for(timeout=60_000)  # requests loaded by `demo`
    page.locator('[data-testid="stDataFrame"] canvas').first.wait_for(timeout=60_000)
    lights = page.locator('[data-testid^="glide-cell"]', has_text="Street Light Outages")
    lights.first.wait_for(state="attached", timeout=60_000)
    chart = '[data-testid="stVegaLiteChart"] svg, [data-testid="stVegaLiteChart"] canvas'
    page.locator(chart).first.wait_for(timeout=60_000)
    page.wait_for_timeout(500)  # let the chart finish its first paint before the screenshot
    screenshot(page, "overview-boston")
    page.close()
