"""Every page renders for the roles that see it, on a real seeded database."""

from __future__ import annotations

from pathlib import Path

import pytest

from geodispatch.config import Settings
from geodispatch.services.intake import import_file
from tests.app.conftest import open_app, public_tables
from tests.conftest import write_csv
from tests.intake.boston_rows import HEADER_2011, row


@pytest.fixture
def seeded(tmp_path: Path, env_settings: Settings) -> Settings:
    import_file(
        write_csv(
            tmp_path / "e.csv",
            HEADER_2011,
            [
                row(case_enquiry_id="1"),
                row(case_enquiry_id="2", ward="Ward 3"),
                row(
                    case_enquiry_id="3",
                    case_status="Closed",
                    closed_dt="2011-07-02 00:00:00",
                    closure_reason="Case Closed Case Resolved filled",
                    type="Graffiti Removal",
                ),
            ],
        ),
        settings=env_settings,
    )
    return env_settings


def test_overview_counts_requests_by_type_ward_and_status(seeded: Settings) -> None:
    app = open_app("Dispatcher", "app_pages/overview.py")
    assert app.title[0].value == "Overview"
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Requests"] == "3"
    assert metrics["Open"] == "2"
    by_type = app.dataframe[0].value
    assert by_type.set_index("service_name").loc["Request for Pothole Repair", "requests"] == 2


def test_an_empty_database_says_how_to_load_data(env_settings: Settings) -> None:
    app = open_app("Dispatcher", "app_pages/overview.py")
    assert "geodispatch demo" in app.info[0].value


@pytest.mark.parametrize(
    ("role", "page", "title"),
    [
        ("Dispatcher", "app_pages/intake.py", "Import requests"),
        ("Manager", "app_pages/public.py", "Open requests & response times"),
        ("Public", None, "Open requests & response times"),
    ],
)
def test_page_renders(seeded: Settings, role: str, page: str | None, title: str) -> None:
    app = open_app(role, page)
    assert app.title[0].value == title


def test_the_public_page_shows_response_times_without_personal_data(seeded: Settings) -> None:
    app = open_app("Public")
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Requests"] == "3"
    assert metrics["Still open"] == "2"
    tables = public_tables(app)
    assert len(tables) == 4  # response times and backlog, by type and by ward
    shown = " ".join(tables)
    assert "Lorraine" not in shown  # no address reaches the public page
    assert "Graffiti Removal" in shown
