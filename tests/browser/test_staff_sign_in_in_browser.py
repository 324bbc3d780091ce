"""Staff sign in and out in Chromium: a wrong password is refused, the role's pages appear
and go again on sign-out. A real Streamlit server on a fresh database.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from geodispatch.config import Settings
from geodispatch.domain.accounts import Role
from geodispatch.services import accounts
from tests.browser.conftest import CHROMIUM, AppServer, screenshot, sign_in, start_app
from tests.conftest import DATA

PASSWORD = "supervisor passphrase"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """The app on an empty database with one supervisor account."""
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    home = tmp_path_factory.mktemp("sign-in-home")
    accounts.create_user(
        "sam",
        Role.SUPERVISOR,
        password=PASSWORD,
        display_name="Sam Supervisor",
        settings=Settings(home=home, data_dir=DATA),
    )
    process, url = start_app(home)
    try:
        yield AppServer(url, home)
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_staff_sign_in_and_out(browser: object, server: AppServer) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page.goto(server.url, wait_until="domcontentloaded")
    page.get_by_role("heading", name="Open requests & response times").wait_for(timeout=60_000)
    nav = page.get_by_test_id("stSidebarNav")
    assert nav.get_by_role("link", name="Plan today").count() == 0  # no staff pages

    page.get_by_role("link", name="Staff sign in").click()
    page.get_by_label("Username", exact=True).fill("sam")
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("sign-in refused").wait_for(timeout=60_000)
    screenshot(page, "staff-sign-in-refused")

    sign_in(page, server.url, "sam", PASSWORD)
    page.get_by_role("heading", name="Plan today").wait_for(timeout=60_000)
    page.get_by_text("Signed in as Sam Supervisor").wait_for(timeout=30_000)
    assert nav.get_by_role("link", name="Service types").count() == 1
    assert nav.get_by_role("link", name="Accounts").count() == 0  # admins only
    screenshot(page, "staff-signed-in-supervisor")

    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("link", name="Staff sign in").wait_for(timeout=60_000)
    # the page is drawn again without the account: the old page's button goes with it
    page.get_by_role("button", name="Sign out").wait_for(state="detached", timeout=60_000)
    assert nav.get_by_role("link", name="Plan today").count() == 0
    page.close()
