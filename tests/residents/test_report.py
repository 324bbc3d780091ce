"""Report a problem: one checked path for the form, the call-taker and Open311 POST."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import func, select

from geodispatch.config import Settings
from geodispatch.domain.errors import InputError, NotFoundError, TooManyAttemptsError
from geodispatch.services import report, track, workflow
from geodispatch.storage.db import session_scope
from geodispatch.storage.tables import JobRow, RequestContactRow, RequestRow, StatusEventRow
from tests.app.conftest import open_app
from tests.residents.conftest import CITY_HALL


def counts(settings: Settings) -> tuple[int, int, int]:
    """Requests, jobs and contacts stored."""
    with session_scope(settings.database_url) as session:
        return (
            session.scalar(select(func.count()).select_from(RequestRow)) or 0,
            session.scalar(select(func.count()).select_from(JobRow)) or 0,
            session.scalar(select(func.count()).select_from(RequestContactRow)) or 0,
        )


def photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "gray").save(out, format="JPEG")
    return out.getvalue()


def the_job(settings: Settings) -> int:
    return workflow.list_open_jobs(settings=settings)[0].id


def test_a_report_may_join_a_nearby_open_job_raising_its_caller_count(city: Settings) -> None:
    job = the_job(city)
    [near] = report.nearby_jobs("pothole", *CITY_HALL)
    assert near.job_id == job
    assert 40 < near.distance_m < 80  # beyond the automatic repeat radius
    filed = report.file_report(
        report.NewReport("pothole", *CITY_HALL, description="deep", join_job=job), settings=city
    )
    assert (filed.job_id, filed.joined) == (job, True)
    assert workflow.get_job(job, settings=city).caller_count == 2
    assert counts(city)[:2] == (2, 1)  # one more request, no new job


def test_a_report_that_joins_nothing_makes_its_own_job_with_photos_and_contact(
    city: Settings,
) -> None:
    filed = report.file_report(
        report.NewReport(
            "pothole",
            address="1 City Hall Sq",
            lat=CITY_HALL[0],
            lon=CITY_HALL[1],
            photos=(photo(), photo()),
            name="Ana",
            email="ana@example.org",
        ),
        settings=city,
    )
    assert counts(city) == (2, 2, 1)
    with session_scope(city.database_url) as session:
        refs = session.scalars(
            select(StatusEventRow.photo_ref).where(StatusEventRow.request_id == filed.request_id)
        ).all()
    stored = [r for r in refs if r]
    assert len(stored) == 2
    assert all((city.home / r).exists() for r in stored)
    assert track.track(filed.token).id == filed.request_id


BAD = [
    ({"lat": None, "lon": None}, InputError, "say where the problem is"),
    ({"lat": 41.0, "lon": -70.0}, InputError, "not accepted"),
    ({"description": "x" * 1_000_000}, InputError, "1,000,000 characters"),
    ({"photos": (b"%PDF-1.4 not a picture",)}, InputError, "photo 1: photo could not be read"),
    ({"service_code": "dragons"}, NotFoundError, "not one residents can report"),
    ({"email": "not-an-address"}, InputError, "email"),
    ({"honeypot": "http://spam.example"}, InputError, "not accepted"),
    ({"photos": (b"1", b"2", b"3", b"4")}, InputError, "at most 3"),
]


@pytest.mark.parametrize(("change", "error", "message"), BAD)
def test_bad_input_is_refused_with_a_clear_message_and_nothing_stored(
    city: Settings, change: dict[str, object], error: type[Exception], message: str
) -> None:
    fields: dict[str, object] = {
        "service_code": "pothole",
        "lat": CITY_HALL[0],
        "lon": CITY_HALL[1],
        "email": "ana@example.org",
    } | change
    before = counts(city)
    with pytest.raises(error, match=message):
        report.file_report(report.NewReport(**fields), settings=city)  # type: ignore[arg-type]
    assert counts(city) == before
    assert not (city.home / "photos").exists() or not any((city.home / "photos").iterdir())


def test_a_resident_reports_by_address_sees_the_nearby_job_and_adds_to_it(
    city: Settings,
) -> None:
    job = the_job(city)
    app = open_app("Public", "app_pages/report.py")
    app.selectbox(key="report-type").set_value("pothole").run()
    app.text_input(key="report-address").input("1 City Hall Sq").run()
    assert "Found: 1 City Hall Plz" in app.success[0].value
    join = app.radio(key="report-join")
    assert f"#{job}" in join.options[1]
    join.set_value(job).run()
    app.text_area(key="report-description").input("deep hole by the steps").run()
    app.button(key="report-send").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]
    assert "Your report is number" in app.success[0].value
    assert f"added to open job #{job}" in " ".join(m.value for m in app.markdown)
    assert workflow.get_job(job, settings=city).caller_count == 2
    assert counts(city)[:2] == (2, 1)


def test_a_resident_reports_by_point_and_a_missing_place_is_said(city: Settings) -> None:
    app = open_app("Public", "app_pages/report.py")
    app.selectbox(key="report-type").set_value("pothole").run()
    app.button(key="report-send").click().run()
    assert "say where the problem is" in app.error[0].value
    app.number_input(key="report-lat").set_value(42.3400).run()
    app.number_input(key="report-lon").set_value(-71.0700).run()
    app.button(key="report-send").click().run()
    assert not app.error, [e.value for e in app.error]
    assert counts(city)[:2] == (2, 2)
    links = " ".join(m.value for m in app.markdown)
    assert "/track?request=api-" in links


def test_a_call_taker_logs_a_phone_report(city: Settings) -> None:
    app = open_app("Dispatcher", "app_pages/call_taker.py")
    app.selectbox(key="report-type").set_value("pothole").run()
    app.number_input(key="report-lat").set_value(42.3400).run()
    app.number_input(key="report-lon").set_value(-71.0700).run()
    app.selectbox(key="report-channel").set_value("phone").run()
    app.text_input(key="report-behalf").input("Councillor Lee's office").run()
    app.text_input(key="report-name").input("Mr Doe").run()
    app.text_input(key="report-phone").input("617 555 0100").run()
    app.button(key="report-send").click().run()
    assert not app.error, [e.value for e in app.error]
    assert counts(city) == (2, 2, 1)
    with session_scope(city.database_url) as session:
        note = session.scalar(
            select(StatusEventRow.note).where(StatusEventRow.note.like("logged from%"))
        )
    assert note == "logged from a phone report on behalf of Councillor Lee's office"


def test_the_form_limits_reports_per_client_address(city: Settings) -> None:
    limited = city.model_copy(update={"rate_limit_posts": "2/minute"})
    new = report.NewReport("pothole", 42.3400, -71.0700)
    for _ in range(2):
        report.file_report(new, settings=limited, client="app:203.0.113.9")
    before = counts(city)
    with pytest.raises(TooManyAttemptsError, match="too many reports from this device"):
        report.file_report(new, settings=limited, client="app:203.0.113.9")
    assert counts(city) == before
    report.file_report(new, settings=limited, client="app:198.51.100.7")  # another address
