"""Crew sign-in, PIN isolation, field updates, photos and the 50-crew concurrency check."""

from __future__ import annotations

import io
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from geodispatch.config import Settings
from geodispatch.domain.errors import (
    InputError,
    NotFoundError,
    PermissionDeniedError,
    StaleVersionError,
    TransitionError,
)
from geodispatch.domain.requests import RequestStatus as S
from geodispatch.domain.updates import StopStatus
from geodispatch.services import field, sla, workflow
from geodispatch.storage.db import session_scope
from geodispatch.storage.tables import JobRow, StatusEventRow, StopRow
from tests.workflow.workflow_helpers import make_routes, pin_of

DAY = date(2025, 1, 10)


def jpeg(size: tuple[int, int] = (64, 48), *, gps: bool = True) -> bytes:
    image = Image.new("RGB", size, (200, 120, 40))
    buffer = io.BytesIO()
    exif = Image.Exif()
    if gps:
        exif[0x8825] = {1: "N", 2: (42.0, 20.0, 0.0)}  # GPSInfo: where the crew member stood
    image.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


@pytest.fixture
def two_crews(settings: Settings) -> dict[str, list[tuple[int, int]]]:
    return make_routes(settings, crews=2, stops_per_crew=2)


def test_a_crew_signs_in_with_code_and_pin_and_sees_only_its_stops(
    settings: Settings, two_crews
) -> None:
    token, expires, crew = field.login("C01", pin_of(0), settings=settings)
    assert expires > datetime.now(UTC)
    assert field.crew_for_token(token, settings=settings) == crew
    route = field.todays_route(crew, day=DAY, settings=settings)
    assert [s.stop_id for s in route] == [s for s, _ in two_crews["C01"]]
    assert {s.crew_id for s in route} == {crew.id}
    assert route[0].job_status is S.ASSIGNED


def test_a_wrong_pin_is_refused_and_ten_from_many_addresses_lock_the_crew_out(
    settings: Settings, two_crews
) -> None:
    with pytest.raises(PermissionDeniedError, match="wrong crew code or PIN"):
        field.authenticate("C01", "99999", source="10.0.0.1", settings=settings)
    with pytest.raises(PermissionDeniedError, match="wrong crew code or PIN"):
        field.authenticate("NOPE", pin_of(0), source="10.0.0.1", settings=settings)
    for i in range(field.LOCK_AFTER - 1):  # each address stays under its own failure budget
        with pytest.raises(PermissionDeniedError):
            field.authenticate("C01", "99999", source=f"10.0.1.{i}", settings=settings)
    with pytest.raises(PermissionDeniedError) as locked:
        field.authenticate("C01", pin_of(0), source="crew-phone", settings=settings)
    assert str(locked.value) == field.REFUSED  # even the right PIN, for now; no crew named
    later = datetime.now(UTC) + timedelta(minutes=16)
    crew = field.authenticate("C01", pin_of(0), source="crew-phone", settings=settings, now=later)
    assert crew.code == "C01"
    with pytest.raises(PermissionDeniedError, match="sign in again"):
        field.crew_for_token("forged-token", settings=settings)


def test_weak_pins_are_refused(settings: Settings, two_crews) -> None:
    for pin in ("12", "1111", "1234", "abcd", "987654"):
        with pytest.raises(InputError, match="PIN"):
            field.set_pin("C01", pin, settings=settings)


def test_one_crews_pin_cannot_touch_another_crews_stop(settings: Settings, two_crews) -> None:
    crew1 = field.authenticate("C01", pin_of(0), settings=settings)
    other_stop, other_job = two_crews["C02"][0]
    with pytest.raises(PermissionDeniedError, match="not on the route of crew C01"):
        field.record_update(crew1, other_stop, "done", expected_version=1, settings=settings)
    with session_scope(settings.database_url) as session:
        stop = session.get(StopRow, other_stop)
        assert stop is not None
        assert (stop.status, stop.version) == ("planned", 1)
        assert session.get(JobRow, other_job).status == "assigned"  # type: ignore[union-attr]
    with pytest.raises(NotFoundError, match="no stop 9999"):
        field.record_update(crew1, 9999, "arrive", expected_version=1, settings=settings)


def test_arrive_then_done_on_site_completes_the_job_with_photo_and_position(
    settings: Settings, two_crews
) -> None:
    crew = field.authenticate("C01", pin_of(0), settings=settings)
    stop = field.todays_route(crew, day=DAY, settings=settings)[0]
    assert stop.lat is not None
    assert stop.lon is not None
    arrived = field.record_update(
        crew,
        stop.stop_id,
        "arrive",
        expected_version=1,
        lat=stop.lat,
        lon=stop.lon,
        settings=settings,
    )
    assert (arrived.stop_status, arrived.job_status) == (StopStatus.ARRIVED, S.IN_PROGRESS)
    done = field.record_update(
        crew,
        stop.stop_id,
        "done",
        expected_version=arrived.stop_version,
        note="patched",
        lat=stop.lat + 0.0002,
        lon=stop.lon,
        photo=jpeg(),
        settings=settings,
    )
    assert (done.stop_status, done.job_status, done.flags) == (StopStatus.DONE, S.COMPLETED, ())
    assert done.distance_m == pytest.approx(22, abs=2)
    assert done.photo_ref is not None
    stored = settings.home / done.photo_ref
    assert stored.exists()
    with Image.open(stored) as image:
        assert 0x8825 not in image.getexif()  # the phone's GPS position was stripped
    history = workflow.job_history(stop.job_id, settings=settings)
    field_events = [e for e in history if e.stop_id is not None]
    assert [(e.kind.value, e.actor) for e in field_events] == [
        ("arrive", "crew:C01"),
        ("done", "crew:C01"),
    ]
    assert field_events[1].photo_ref == done.photo_ref
    with pytest.raises(StaleVersionError, match="you had version 1"):
        field.record_update(crew, stop.stop_id, "arrive", expected_version=1, settings=settings)
    assert sla.closure_audit(settings=settings).empty  # completed with field evidence


def test_done_far_from_the_site_or_without_position_is_flagged(
    settings: Settings, two_crews
) -> None:
    crew = field.authenticate("C01", pin_of(0), settings=settings)
    first, second = field.todays_route(crew, day=DAY, settings=settings)
    assert first.lat is not None
    assert first.lon is not None
    far = field.record_update(
        crew,
        first.stop_id,
        "done",
        expected_version=1,
        lat=first.lat + 0.01,
        lon=first.lon,
        settings=settings,
    )
    assert far.flags == ("far_from_site", "no_photo")
    assert far.distance_m == pytest.approx(1112, rel=0.01)
    blind = field.record_update(crew, second.stop_id, "done", expected_version=1, settings=settings)
    assert blind.flags == ("no_location", "no_photo")
    flagged = sla.flagged_completions(settings=settings)
    assert flagged["flags"].tolist() == ["no_location,no_photo", "far_from_site,no_photo"]
    assert flagged["actor"].unique().tolist() == ["crew:C01"]


def test_unable_needs_a_note_and_sends_the_job_back_to_the_queue(
    settings: Settings, two_crews
) -> None:
    crew = field.authenticate("C02", pin_of(1), settings=settings)
    stop = field.todays_route(crew, day=DAY, settings=settings)[0]
    with pytest.raises(TransitionError, match="say why"):
        field.record_update(crew, stop.stop_id, "unable", expected_version=1, settings=settings)
    result = field.record_update(
        crew,
        stop.stop_id,
        "unable",
        expected_version=1,
        note="car parked on it",
        settings=settings,
    )
    assert (result.stop_status, result.job_status) == (StopStatus.UNABLE, S.REVIEWED)
    with pytest.raises(TransitionError, match="'done' cannot follow it"):
        field.record_update(
            crew, stop.stop_id, "done", expected_version=result.stop_version, settings=settings
        )


def test_bad_photos_are_refused_and_nothing_is_recorded(settings: Settings, two_crews) -> None:
    crew = field.authenticate("C01", pin_of(0), settings=settings)
    stop_id = two_crews["C01"][0][0]
    for data, problem in (
        (b"GIF89a not really", "could not be read as an image"),
        (b"%PDF-1.4 invoice", "could not be read as an image"),
        (b"\xff" * 9_000_000, "at most 8 MB"),
    ):
        with pytest.raises(InputError, match=problem):
            field.record_update(
                crew, stop_id, "done", expected_version=1, photo=data, settings=settings
            )
    gif = io.BytesIO()
    Image.new("RGB", (4, 4)).save(gif, format="GIF")
    with pytest.raises(InputError, match="GIF file; send JPEG, PNG or WebP"):
        field.record_update(
            crew, stop_id, "done", expected_version=1, photo=gif.getvalue(), settings=settings
        )
    with session_scope(settings.database_url) as session:
        assert session.get(StopRow, stop_id).version == 1  # type: ignore[union-attr]
    assert not list((settings.home / "photos").glob("*"))


def test_a_dispatcher_completion_without_crew_evidence_is_listed_for_audit(
    settings: Settings, two_crews
) -> None:
    job_id = two_crews["C01"][0][1]
    version = workflow.get_job(job_id, settings=settings).version
    workflow.transition_job(
        job_id, S.COMPLETED, expected_version=version, actor="dispatch:bob", settings=settings
    )
    audit = sla.closure_audit(settings=settings)
    assert audit["job_id"].tolist() == [job_id]
    assert audit["reason"].iat[0] == "completed by dispatch:bob with no crew completion recorded"


def test_fifty_crews_posting_at_once_lose_no_update(settings: Settings) -> None:
    """50 crews, two phones each, race on their stops: every post is applied or refused."""
    routes = make_routes(settings, crews=50, stops_per_crew=2)
    crews = {
        code: field.authenticate(code, pin_of(i), settings=settings)
        for i, code in enumerate(routes)
    }
    start = threading.Barrier(100)
    outcomes: Counter[str] = Counter()
    applied: list[tuple[int, str]] = []
    lock = threading.Lock()

    def post(code: str, stop_id: int, outcome: str, version: int) -> None:
        try:
            field.record_update(
                crews[code],
                stop_id,
                outcome,
                expected_version=version,
                note="blocked" if outcome == "unable" else "",
                settings=settings,
            )
        except StaleVersionError:
            with lock:
                outcomes["stale"] += 1
            return
        with lock:
            outcomes["applied"] += 1
            applied.append((stop_id, outcome))

    def phone(code: str, which: int) -> None:
        (stop1, _), (stop2, _) = routes[code]
        start.wait()
        if which == 0:
            post(code, stop1, "arrive", 1)
            post(code, stop1, "done", 2)
            post(code, stop1, "arrive", 1)  # a replay of an old post: always stale
            post(code, stop2, "arrive", 1)
        else:  # the second phone of the same crew races for stop 2
            post(code, stop2, "unable", 1)
            post(code, stop1, "done", 2)

    with ThreadPoolExecutor(max_workers=100) as pool:
        futures = [pool.submit(phone, code, w) for code in routes for w in (0, 1)]
        for f in futures:
            f.result()  # any other exception fails the test here

    attempts = 6 * 50
    assert outcomes["applied"] + outcomes["stale"] == attempts
    assert outcomes["stale"] >= 50  # every replay at least
    with session_scope(settings.database_url) as session:
        field_events = session.scalar(
            select(func.count())
            .select_from(StatusEventRow)
            .where(StatusEventRow.stop_id.is_not(None))
        )
        assert field_events == outcomes["applied"]
        per_stop = Counter(stop_id for stop_id, _ in applied)
        for code, stops in routes.items():
            for stop_id, job_id in stops:
                stop = session.get(StopRow, stop_id)
                assert stop is not None
                assert stop.version == 1 + per_stop[stop_id], (code, stop_id)
                job = session.get(JobRow, job_id)
                assert job is not None
                expected = {
                    "planned": "assigned",
                    "arrived": "in_progress",
                    "done": "completed",
                    "unable": "reviewed",
                }[stop.status]
                assert job.status == expected
                events = session.scalars(
                    select(StatusEventRow.kind)
                    .where(StatusEventRow.stop_id == stop_id)
                    .order_by(StatusEventRow.id)
                ).all()
                assert len(events) == per_stop[stop_id]
        assert int(session.scalar(select(func.count()).select_from(StopRow)) or 0) == 100


def test_a_published_plan_assigns_its_queued_jobs_with_both_workflow_steps(
    settings: Settings,
) -> None:
    routes = make_routes(settings, crews=1, stops_per_crew=2, assign=False)
    (first_stop, first_job), (_, second_job) = routes["C01"]
    crew = field.authenticate("C01", pin_of(0), settings=settings)
    # a crew is not blocked when nobody recorded the assignment: it happens on the fly
    result = field.record_update(crew, first_stop, "arrive", expected_version=1, settings=settings)
    assert result.job_status is S.IN_PROGRESS
    steps = [
        (e.from_status, e.to_status, e.actor)
        for e in workflow.job_history(first_job, settings=settings)
        if e.request_id is None
    ]
    assert steps == [
        (S.NEW, S.REVIEWED, "plan:1"),
        (S.REVIEWED, S.ASSIGNED, "plan:1"),
        (S.ASSIGNED, S.IN_PROGRESS, "crew:C01"),
    ]
    assert workflow.assign_plan_jobs(1, settings=settings) == 1  # only the second job moved
    assert workflow.get_job(second_job, settings=settings).status is S.ASSIGNED


def test_jobs_of_a_draft_plan_are_not_assigned_and_crews_cannot_act_on_it(
    settings: Settings,
) -> None:
    routes = make_routes(settings, crews=1, stops_per_crew=1, plan_status="draft", assign=False)
    with pytest.raises(TransitionError, match="plan 1 is draft; publish it"):
        workflow.assign_plan_jobs(1, settings=settings)
    crew = field.authenticate("C01", pin_of(0), settings=settings)
    assert field.todays_route(crew, day=DAY, settings=settings) == []
    with pytest.raises(PermissionDeniedError, match="draft plan"):
        field.record_update(
            crew, routes["C01"][0][0], "arrive", expected_version=1, settings=settings
        )


def test_a_source_closure_of_dispatched_work_closes_the_job_and_is_listed_for_audit(
    settings: Settings,
) -> None:
    from geodispatch.services.intake import import_payload
    from tests.workflow.workflow_helpers import item

    routes = make_routes(settings, crews=1, stops_per_crew=1)
    job_id = routes["C01"][0][1]
    closed = item("s0", lat=42.25, lon=-71.15, status="closed")
    closed["updated_datetime"] = "2025-01-09T12:00:00-05:00"
    summary = import_payload([closed], source="test", settings=settings)
    assert summary.updated == 1
    assert summary.grouping.closed_at_source == 1
    job = workflow.get_job(job_id, settings=settings)
    assert job.status is S.COMPLETED
    last = workflow.job_history(job_id, settings=settings)[-1]
    assert (last.actor, last.to_status) == ("import", S.COMPLETED)
    audit = sla.closure_audit(settings=settings)
    assert audit["kind"].tolist() == ["closed_in_source"]
    assert audit["job_id"].tolist() == [job_id]
