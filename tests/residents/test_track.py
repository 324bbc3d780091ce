"""Track a request: the resident's steps follow the dispatcher and the crew, as Open311 does."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from geodispatch.config import Settings
from geodispatch.domain.errors import InputError, NotFoundError
from geodispatch.domain.requests import RequestStatus
from geodispatch.services import open311, track, workflow
from tests.app.conftest import open_app
from tests.workflow.workflow_helpers import job_of


def post(settings: Settings) -> int:
    posted = open311.submit_request(
        "geodispatch-demo",
        open311.NewRequest(service_code="pothole", lat="42.33102", long="-71.06"),
        settings=settings,
    )
    return int(posted[0]["service_request_id"])


def move(settings: Settings, request_id: int, to: RequestStatus, note: str = "") -> None:
    job = workflow.get_job(job_of(settings, request_id), settings=settings)
    workflow.transition_job(
        job.id,
        to,
        expected_version=job.version,
        actor="dispatch:ana",
        note=note,
        settings=settings,
    )


def reached(report: track.Tracking) -> list[str]:
    return [s.label for s in report.steps if s.reached]


def test_the_steps_follow_each_move_and_match_open311(city: Settings) -> None:
    rid = post(city)
    assert reached(track.track(str(rid))) == ["Received"]
    path = [
        (RequestStatus.REVIEWED, ["Received", "Reviewed"]),
        (RequestStatus.ASSIGNED, ["Received", "Reviewed", "Work assigned"]),
        (RequestStatus.IN_PROGRESS, ["Received", "Reviewed", "Work assigned"]),
        (RequestStatus.COMPLETED, ["Received", "Reviewed", "Work assigned", "Completed"]),
    ]
    for status, steps in path:
        move(city, rid, status)
        report = track.track(f"https://report.city.example/track?request={rid}")
        assert report.status is status
        assert reached(report) == steps
        [api] = open311.get_request(str(rid), settings=city)
        assert api["status_notes"].startswith(status.label)
        assert api["status"] == ("open" if status.is_open else "closed")
    assert report.expected_at is None
    assert report.closed_at is not None


def test_closed_without_a_fix_ends_on_its_outcome_in_words(city: Settings) -> None:
    rid = post(city)
    move(city, rid, RequestStatus.CLOSED_NOT_CITY, note="state highway")
    report = track.track(str(rid))
    assert [s.label for s in report.steps] == [
        "Received",
        "Reviewed",
        "Work assigned",
        "Closed: not the city's responsibility",
    ]
    assert reached(report) == ["Received", "Closed: not the city's responsibility"]
    assert "not the city's to fix" in report.words
    assert "state highway" not in str(report)  # the internal note stays internal


def test_a_public_note_shows_and_the_api_token_finds_the_same_report(city: Settings) -> None:
    rid = post(city)
    workflow.add_public_note(
        job_of(city, rid), "Passed to MassDOT", actor="dispatch:ana", settings=city
    )
    [api] = open311.get_request(str(rid), extensions=True, settings=city)
    token = api["extended_attributes"]["source_id"]
    assert open311.resolve_token(token, settings=city)[0]["service_request_id"] == str(rid)
    by_token = track.track(token)
    assert by_token.id == rid
    assert [n.text for n in by_token.notes] == ["Passed to MassDOT"]


@pytest.mark.parametrize("ref", ["", "pothole", "12; drop table", "api-zz"])
def test_a_reference_that_is_not_a_number_or_link_says_what_to_enter(
    city: Settings, ref: str
) -> None:
    with pytest.raises(InputError, match="request number"):
        track.track(ref)


def test_an_unknown_number_is_not_found(city: Settings) -> None:
    with pytest.raises(NotFoundError, match="no public report number 999999"):
        track.track("999999")


def test_a_resident_tracks_a_report_on_the_page_through_each_status(city: Settings) -> None:
    rid = post(city)
    app = open_app("Public", "app_pages/track.py")
    app.text_input(key="track-ref").input(str(rid)).run()
    assert not app.exception
    assert f"Request #{rid}" in app.subheader[0].value
    move(city, rid, RequestStatus.REVIEWED)
    workflow.add_public_note(
        job_of(city, rid),
        "Crew <b>Tuesday</b> [x](javascript:1)",
        actor="dispatch:ana",
        settings=city,
    )
    app.run()
    shown = " ".join(m.value for m in app.markdown)
    assert "**Reviewed**" in shown
    assert any("Crew <b>Tuesday</b> [x](javascript:1)" in t.value for t in app.text)
    app.text_input(key="track-ref").input("nonsense").run()
    assert "request number" in app.error[0].value


def test_the_tracking_link_opens_the_report(city: Settings) -> None:
    rid = post(city)
    app = AppTest.from_file(str(Path(__file__).parents[2] / "app.py"), default_timeout=120)
    app.query_params["request"] = str(rid)
    app.run()
    app.switch_page("app_pages/track.py").run()
    assert f"Request #{rid}" in app.subheader[0].value
