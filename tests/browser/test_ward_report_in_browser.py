"""The monthly ward report for a real ward and month, written by the CLI, in Chromium.

Boston's ward 3 in November 2011 (a slice of the real export) goes through the product's
import; ``geodispatch report ward`` writes the page; Chromium opens it from disk with
every network request refused. Its figures must render, the markup in one type's name
must stay text, and its totals must equal the manager page's for the same ward and month.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from geodispatch.config import Settings, get_settings
from geodispatch.services.intake import import_file
from geodispatch.services.performance import performance
from geodispatch.services.reports import month_period
from tests.app.signin import sign_in_as
from tests.browser.conftest import CHROMIUM, screenshot
from tests.conftest import DATA, ROOT
from tests.services.test_accountability import boston_slice


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    home = tmp_path_factory.mktemp("ward-report")
    path = home / "boston_slice.csv"
    boston_slice().to_csv(path, index=False)
    import_file(path, settings=Settings(home=home, data_dir=DATA))
    return home


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ, GEODISPATCH_HOME=str(home), GEODISPATCH_DATA_DIR=str(DATA))
    env.pop("GEODISPATCH_DB_URL", None)
    return env


def test_the_ward_report_opens_offline_in_chromium_with_the_manager_page_s_totals(
    home: Path, browser: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = home / "ward-3-2011-11.html"
    subprocess.run(
        [sys.executable, "-m", "geodispatch.cli", "report", "ward", "--ward", "3",
         "--month", "2011-11", "--out", str(out), "--no-pdf"],
        cwd=ROOT, env=_env(home), check=True, capture_output=True,
    )  # fmt: skip
    context = browser.new_context()  # type: ignore[attr-defined]
    page = context.new_page()
    requested: list[str] = []

    def refuse(route: object) -> None:
        requested.append(route.request.url)  # type: ignore[attr-defined]
        route.abort()  # type: ignore[attr-defined]

    page.route("http*://**", refuse)
    page.goto(out.as_uri())
    tiles = {
        key: page.locator(f"[data-figure={key}] b").inner_text()
        for key in ("requests", "completed", "on_time_share", "open_at_end", "without_work")
    }
    assert page.locator("svg polygon").count() > 20  # the wards, drawn from data
    assert page.locator("svg circle").count() > 100  # November's requests in ward 3
    assert page.evaluate("window.__xss") is None
    assert "<img src=x onerror=alert(1)> Pothole" in page.locator("body").inner_text()
    screenshot(page, "ward-report-3-2011-11")
    context.close()
    assert requested == []

    monkeypatch.setenv("GEODISPATCH_HOME", str(home))
    monkeypatch.setenv("GEODISPATCH_DATA_DIR", str(DATA))
    monkeypatch.chdir(ROOT)
    get_settings.cache_clear()
    settings = get_settings()
    start, end = month_period("2011-11", settings.timezone)
    sla_page = performance(since=start.to_pydatetime(), until=end.to_pydatetime(), ward=3)
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    sign_in_as(app, "manager")
    app.session_state["acc-tab"] = "Ward report"
    app.session_state["acc-ward--kept"] = 3
    app.session_state["acc-month--kept"] = "2011-11"
    app.run()
    app.switch_page("app_pages/accountability.py").run()
    assert not app.exception, [e.value for e in app.exception]
    shown = {m.label: m.value for m in app.metric}
    get_settings.cache_clear()
    assert tiles["requests"] == shown["Requests"] == f"{sla_page.requests:,}"
    assert tiles["completed"] == shown["Completed"] == f"{sla_page.completed:,}"
    assert tiles["on_time_share"] == shown["On time"] == f"{sla_page.on_time_share:.0%}"
    assert tiles["open_at_end"] == shown["Open at month end"]
    assert tiles["without_work"] == shown["Closed without work"]
