"""A resident on a phone (390×844) reports a problem with a photo and opens the tracking link.

A real Streamlit server on a fresh city database; Debian's Chromium; every request that
would leave localhost is refused and recorded. Screenshots go to ``bench/output/screenshots``.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlparse

import pytest

from geodispatch.config import Settings
from geodispatch.services import track
from tests.browser.conftest import CHROMIUM, AppServer, screenshot, start_app
from tests.browser.test_crew_journey_in_browser import (
    PHONE,
    a_photo,
    offline_context,
    settle,
)
from tests.conftest import DATA
from tests.workflow.workflow_helpers import item, requests_adder


@pytest.fixture(scope="module")
def city_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """The app on a city with one open pothole job (so the type can be reported)."""
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    home = tmp_path_factory.mktemp("report-home")
    settings = Settings(home=home, data_dir=DATA)
    requests_adder(settings)(item("first", lat=42.3300, lon=-71.0600))
    process, url = start_app(home)
    try:
        yield AppServer(url, home)
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_resident_reports_with_a_photo_on_a_phone_and_follows_the_link(
    browser: object, city_server: AppServer, tmp_path: object
) -> None:
    blocked: list[str] = []
    context = offline_context(browser, blocked, viewport=PHONE)
    page = context.new_page()  # type: ignore[attr-defined]
    page.goto(f"{city_server.url}/report", wait_until="domcontentloaded")
    page.get_by_text("What is the problem?").wait_for(timeout=60_000)
    page.get_by_label("What is the problem?").first.click()
    page.keyboard.type("Pothole")
    page.get_by_role("option", name="Pothole Repair").first.click()
    settle(page)
    address = page.get_by_label("Address or nearest corner")
    address.fill("1 City Hall Sq")
    address.press("Enter")
    page.get_by_text("Found: 1 City Hall Plz").wait_for(timeout=60_000)
    page.get_by_label("What should the crew know?").fill("Deep pothole by the steps")
    page.locator('input[type="file"]').set_input_files(str(a_photo(tmp_path)))  # type: ignore[arg-type]
    settle(page)
    screenshot(page, "report-phone-form")
    page.get_by_role("button", name="Send report").click()
    page.get_by_text("Your report is number").wait_for(timeout=60_000)
    link = page.locator('a[href*="/track?request="]').first.get_attribute("href")
    screenshot(page, "report-phone-receipt")
    assert link is not None
    target = urlparse(link)
    page.goto(f"{city_server.url}{target.path}?{target.query}", wait_until="domcontentloaded")
    page.get_by_text("Request #").first.wait_for(timeout=60_000)
    page.get_by_text("We have received your report.").wait_for(timeout=60_000)
    settle(page)
    screenshot(page, "report-phone-tracking")
    body = page.inner_text("body")
    assert "Received" in body
    assert "Pothole" in body
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]  # nothing wider than the phone
    assert blocked == []
    context.close()  # type: ignore[attr-defined]
    filed = track.track(
        target.query.split("=", 1)[1], settings=Settings(home=city_server.home, data_dir=DATA)
    )
    assert filed.status.value == "new"
