"""App-test fixtures: one real seeded SQLite database per test module, the app pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from geodispatch.config import Settings, get_settings
from tests.app.seed import seed_boston_slice
from tests.app.signin import sign_in_as
from tests.conftest import DATA, ROOT

#: Every page of every role: (role, page to switch to or None for the role's first, title).
PAGES = [
    ("Dispatcher", None, "Plan today"),
    ("Dispatcher", "app_pages/jobs.py", "Open jobs"),
    ("Dispatcher", "app_pages/work.py", "Work & SLA"),
    ("Dispatcher", "app_pages/overview.py", "Overview"),
    ("Dispatcher", "app_pages/intake.py", "Import requests"),
    ("Field crew", None, "My route"),
    ("Manager", None, "Hotspots"),
    ("Manager", "app_pages/performance.py", "SLA & trends"),
    ("Manager", "app_pages/accountability.py", "Closures & equity"),
    ("Manager", "app_pages/work.py", "Work & SLA"),
    ("Manager", "app_pages/overview.py", "Overview"),
    ("Manager", "app_pages/public.py", "Open requests & response times"),
    ("Manager", "app_pages/intake.py", "Import requests"),
    ("Manager", "app_pages/catalogue.py", "Service types"),
    ("Dispatcher", "app_pages/catalogue.py", "Service types"),
    ("Public", None, "Open requests & response times"),
    ("Public", "app_pages/sign_in.py", "Staff sign in"),
    ("Supervisor", None, "Plan today"),
    ("Supervisor", "app_pages/hotspots.py", "Hotspots"),
    ("Admin", None, "Accounts"),
    ("Council", None, "SLA & trends"),
    ("Council", "app_pages/council.py", "Your wards"),
]


#: The 2025 backlog's last day, before the crews' 07:00 shift start.
MORNING = "2025-05-19T06:30"


@pytest.fixture(scope="module")
def boston(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings of a database seeded with the Boston 2025 slice, exported for the app."""
    settings = Settings(home=tmp_path_factory.mktemp("app-home"), data_dir=DATA, clock=MORNING)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GEODISPATCH_CLOCK", MORNING)  # the backlog's last day, before the shift
        patch.setenv("GEODISPATCH_HOME", str(settings.home))
        patch.setenv("GEODISPATCH_DATA_DIR", str(DATA))
        patch.delenv("GEODISPATCH_DB_URL", raising=False)
        patch.chdir(ROOT)
        get_settings.cache_clear()
        seed_boston_slice(settings)
        yield settings
    get_settings.cache_clear()


#: Who opens the app without an account, and the page they land on (None: the first).
ANONYMOUS = {"Public": None, "Field crew": "app_pages/crew.py"}


def open_app(role: str, page: str | None = None) -> AppTest:
    """The app as ``role`` sees it (optionally switched to ``page``), after its first run.

    Staff roles ("Dispatcher", "Manager", …) are signed in with a test account of that
    role; "Public" and "Field crew" open it without one.
    """
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    if role in ANONYMOUS:
        page = page or ANONYMOUS[role]
    else:
        sign_in_as(app, role)
    app.run()
    if page is not None:
        app.switch_page(page).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


#: The public page's tabs: only the open one is drawn, so a check of what residents
#: see has to open each.
PUBLIC_TABS = ("By type", "By ward", "Month by month")


def public_tables(app: AppTest) -> list[str]:
    """The text of every table on the public page, tab by tab (``app`` is on that page)."""
    seen = []
    for tab in PUBLIC_TABS:
        app.session_state["public-tab"] = tab
        app.run()
        assert not app.exception, [e.value for e in app.exception]
        seen += [str(df.value.to_dict()) for df in app.dataframe]
    return seen
