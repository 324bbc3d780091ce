"""The public map: open and recent reports with type, status and age; nothing personal."""

from __future__ import annotations

import pytest

from geodispatch.config import Settings
from geodispatch.domain.errors import InputError
from geodispatch.reporting.map_text import read_map_text
from geodispatch.services import report, track, workflow
from geodispatch.ui.map_frame import shown_map_page
from tests.app.conftest import open_app

SECRET = "<script>alert('Ana, 617 555 0100')</script>"


def cards(page: str) -> str:
    return str(read_map_text(page))


def test_the_map_shows_type_status_and_age_but_no_description_or_contact(
    city: Settings,
) -> None:
    report.file_report(
        report.NewReport(
            "pothole", 42.3400, -71.0700, description=SECRET, name="Ana", phone="617 555 0100"
        ),
        settings=city,
    )
    shown = track.public_map_page(settings=city)
    assert shown.shown == 2
    text = cards(shown.page)
    assert "Pothole Repair" in text
    assert "New" in text
    assert "Ana" not in shown.page
    assert "555 0100" not in shown.page
    assert "alert(" not in shown.page
    assert "unpkg.com" not in shown.page  # offline: Leaflet is inlined


def test_filters_by_ward_and_type_and_says_when_nothing_matches(city: Settings) -> None:
    [ward] = track.map_wards(settings=city)
    assert track.public_map_page(ward=ward, settings=city).shown == 1
    with pytest.raises(InputError, match="no report matches"):
        track.public_map_page(ward=ward + 1, settings=city)
    with pytest.raises(InputError, match="no report matches"):
        track.public_map_page(code="streetlight", settings=city)


def test_a_completed_report_stays_on_the_map_as_recently_closed(city: Settings) -> None:
    job_id = workflow.list_open_jobs(settings=city)[0].id
    for step in ("reviewed", "assigned", "completed"):
        job = workflow.get_job(job_id, settings=city)
        workflow.transition_job(
            job_id, step, expected_version=job.version, actor="dispatch:ana", settings=city
        )
    assert "Completed" in cards(track.public_map_page(settings=city).page)


def test_the_public_map_page_draws_the_map(city: Settings) -> None:
    app = open_app("Public", "app_pages/public_map.py")
    assert not app.exception
    pages = [p for e in app.get("bidi_component") if (p := shown_map_page(e.proto))]
    assert len(pages) == 1
    assert "Pothole Repair" in cards(pages[0])
