"""A crew on a phone (390×844) completes a stop; the dispatcher's board shows it; no internet.

A real Streamlit server on a database seeded with the Boston 2025 backlog, a published
plan and crews; Debian's Chromium with every request that would leave localhost refused
(and recorded). Screenshots go to ``bench/output/screenshots`` for review.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from PIL import Image

from geodispatch.config import Settings
from geodispatch.domain.accounts import Role
from geodispatch.domain.requests import RequestStatus
from geodispatch.domain.updates import StopStatus
from geodispatch.services import accounts, field, workflow
from geodispatch.ui.map_frame import SANDBOX
from tests.app.seed import PIN, seed_boston_slice
from tests.browser.conftest import CHROMIUM, AppServer, screenshot, sign_in, start_app
from tests.conftest import DATA

PHONE = {"width": 390, "height": 844}
DESK, DESK_PASSWORD = "desk", "dispatch desk passphrase"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


@pytest.fixture(scope="module")
def slice_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """The app on the Boston 2025 slice with today's plan published."""
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    home = tmp_path_factory.mktemp("crew-home")
    settings = Settings(home=home, data_dir=DATA)
    seed_boston_slice(settings)
    accounts.create_user(DESK, Role.DISPATCHER, password=DESK_PASSWORD, settings=settings)
    process, url = start_app(home)
    try:
        yield AppServer(url, home)
    finally:
        process.terminate()
        process.wait(timeout=30)


def offline_context(browser: object, blocked: list[str], **options: object) -> object:
    """A browser context in which any request that would leave localhost fails."""
    context = browser.new_context(**options)  # type: ignore[attr-defined]

    def guard(route: object) -> None:
        url = route.request.url  # type: ignore[attr-defined]
        if urlparse(url).hostname in LOCAL_HOSTS or url.startswith(("data:", "blob:", "about:")):
            route.continue_()  # type: ignore[attr-defined]
        else:
            blocked.append(url)
            route.abort()  # type: ignore[attr-defined]

    context.route("**/*", guard)
    return context


def settle(page: object) -> None:
    """Let the rerun a widget started finish before the next interaction."""
    page.wait_for_timeout(400)  # type: ignore[attr-defined]
    page.wait_for_selector(  # type: ignore[attr-defined]
        '[data-testid="stStatusWidget"]', state="detached", timeout=60_000
    )


def a_photo(tmp_path: Path) -> Path:
    path = tmp_path / "pothole.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 90, 90)).save(buffer, format="JPEG")
    path.write_bytes(buffer.getvalue())
    return path


def test_a_crew_completes_a_stop_on_a_phone_and_dispatch_sees_it(
    browser: object, slice_server: AppServer, tmp_path: Path
) -> None:
    settings = Settings(home=slice_server.home, data_dir=DATA)
    crew = field.authenticate("ASP-1", PIN, settings=settings)
    stop = field.crew_day(crew, settings=settings).next_stop
    assert stop is not None
    assert stop.lat is not None
    assert stop.lon is not None
    blocked: list[str] = []
    phone = offline_context(
        browser,
        blocked,
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        geolocation={"latitude": stop.lat + 0.0002, "longitude": stop.lon},  # ~22 m away
        permissions=["geolocation"],
    )
    page = phone.new_page()  # type: ignore[attr-defined]
    page.goto(f"{slice_server.url}/?role=crew", wait_until="domcontentloaded")
    page.get_by_text("Sign in with your crew and PIN").wait_for(timeout=60_000)
    page.get_by_role("combobox", name="Crew").click()
    page.get_by_role("option", name="ASP-1", exact=True).click()
    page.get_by_label("PIN").fill(PIN)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("stops finished").first.wait_for(timeout=60_000)
    page.get_by_text("Navigate: Google Maps").wait_for(timeout=30_000)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide on a 390 px phone"
    screenshot(page, "crew-390-next-stop")

    page.get_by_role("button", name="Use this phone's location").click()
    page.get_by_text("Phone's location (±").click(timeout=30_000)
    settle(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        str(a_photo(tmp_path))
    )
    page.get_by_text("pothole.jpg").wait_for(timeout=30_000)
    settle(page)
    page.get_by_placeholder("what was done, or what is in the way").fill("patched; photo attached")
    screenshot(page, "crew-390-report")
    page.get_by_role("button", name="Submit: work done").click()
    page.get_by_text("1 of ").first.wait_for(timeout=60_000)

    after = {s.stop_id: s for s in field.crew_day(crew, settings=settings).stops}
    assert after[stop.stop_id].status is StopStatus.DONE
    assert workflow.get_job(stop.job_id, settings=settings).status is RequestStatus.COMPLETED
    done = [
        e for e in workflow.job_history(stop.job_id, settings=settings) if e.kind.value == "done"
    ]
    assert done[-1].photo_ref is not None
    assert done[-1].distance_m is not None
    assert done[-1].distance_m < 60  # the phone's own position was sent
    assert done[-1].flags == ""  # measured position, near the site, with a photo

    page.get_by_role("radio", name="Map").click()
    frame = page.frame_locator("iframe").first
    frame.locator(".leaflet-container").wait_for(timeout=60_000)
    assert frame.locator(".leaflet-marker-icon").count() >= 2
    assert frame.locator("img.leaflet-tile").count() == 0  # no tiles: nothing fetched
    # the map is sandboxed: a script in it (were an escape ever missed) cannot reach the app
    assert page.locator("iframe").first.get_attribute("sandbox") == SANDBOX
    assert "allow-same-origin" not in SANDBOX
    reach = "() => { try { return window.parent.document.title; } catch (e) { return 'blocked'; } }"
    assert frame.locator("body").evaluate(reach) == "blocked"
    page.wait_for_timeout(300)
    screenshot(page, "crew-390-map")
    phone.close()  # type: ignore[attr-defined]

    desk = offline_context(browser, blocked, viewport={"width": 1400, "height": 1000})
    board = desk.new_page()  # type: ignore[attr-defined]
    sign_in(board, slice_server.url, DESK, DESK_PASSWORD)  # lands on Plan today
    board.get_by_text("Jobs on routes").wait_for(timeout=60_000)
    routes = board.frame_locator("iframe").first
    routes.locator(".leaflet-container").wait_for(timeout=60_000)
    assert routes.locator("path.leaflet-interactive").count() > 20  # stops and route lines
    board.wait_for_timeout(500)
    screenshot(board, "dispatcher-routes")
    board.get_by_role("radio", name="Stops").click()
    board.get_by_role("combobox", name="Crew").click()
    board.get_by_role("option", name="ASP-1", exact=True).click()
    cells = board.locator('[data-testid^="glide-cell"]', has_text="patched; photo attached")
    cells.first.wait_for(state="attached", timeout=60_000)
    assert board.locator('[data-testid^="glide-cell"]', has_text="Done").count() >= 1
    board.get_by_text("Photos from crews").wait_for(timeout=30_000)
    board.wait_for_timeout(300)
    screenshot(board, "dispatcher-stop-done")
    desk.close()  # type: ignore[attr-defined]
    assert blocked == [], f"requests tried to leave localhost: {blocked[:5]}"
