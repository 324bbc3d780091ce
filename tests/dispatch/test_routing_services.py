"""Plan, store, publish, re-plan and print on a real SQLite database in tmp_path.

Requests are the first rows of the bundled 2025 Boston backlog, imported through intake,
so jobs, the catalogue and the crews come from the same path the product uses.
"""

from __future__ import annotations

import csv
import shutil
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from geodispatch.config import Settings
from geodispatch.domain.errors import InputError, NotFoundError
from geodispatch.domain.plans import RoutePlan, WorkOrder
from geodispatch.domain.requests import RequestStatus
from geodispatch.domain.updates import StopStatus
from geodispatch.services import dispatch as service
from geodispatch.services import workflow
from geodispatch.services.intake import import_file
from geodispatch.storage import crews_repo, jobs_repo
from geodispatch.storage.db import session_scope
from tests.conftest import BOSTON_2025, DATA

BACKLOG = BOSTON_2025
DAY = date(2025, 6, 2)
TZ = ZoneInfo("America/New_York")
HOSTILE = "<script>alert('x')</script> & Co"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    with BACKLOG.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:41]
    where = header.index("location")
    body[0][where] = HOSTILE  # an address a resident typed
    sample = tmp_path / "backlog.csv"
    with sample.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, *body])
    with (tmp_path / "later.csv").open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, rows[41]])  # a report that comes in mid-day
    roster = tmp_path / service.BOSTON_ROSTER
    roster.parent.mkdir(parents=True)
    shutil.copy(DATA / service.BOSTON_ROSTER, roster)
    cfg = Settings(home=tmp_path, data_dir=tmp_path, clock=f"{DAY}T06:00")
    import_file(sample, source="boston", settings=cfg)
    return cfg


def _orders(plan: RoutePlan) -> list[WorkOrder]:
    return [s.order for r in plan.routes for s in r.stops] + [d.order for d in plan.dropped]


def test_planning_without_crews_says_how_to_add_them(settings: Settings):
    with pytest.raises(InputError, match="crews seed"):
        service.plan_day(DAY, time_limit_s=0.2, settings=settings)


def test_plan_store_publish_replan_and_print(settings: Settings):
    assert service.seed_crews(settings=settings) == 20
    outcome = service.plan_day(DAY, time_limit_s=0.5, settings=settings)
    plan = outcome.plan
    assert plan.violations == ()
    # planning groups new requests first: two of the 40 reports are the same problem
    # (same type, same spot, days apart), so they are one job that counts 2 callers
    assert plan.served + len(plan.dropped) == 39
    assert max(o.caller_count for o in _orders(plan)) == 2
    assert plan.served > 0

    stored = service.load_plan(outcome.plan_id, settings=settings)
    assert stored.status == "draft"
    assert stored.crew_of_job() == plan.crew_of_job()
    assert {(d.order.job_id, d.reason) for d in stored.dropped} == {
        (d.order.job_id, d.reason) for d in plan.dropped
    }
    before = {s.order.job_id: s.eta for r in plan.routes for s in r.stops}
    assert {s.order.job_id: s.eta for r in stored.routes for s in r.stops} == before
    # times come back in the city's zone, so sheets and screens show local hours
    first = next(s for r in stored.routes for s in r.stops)
    assert first.eta.utcoffset() == first.eta.astimezone(TZ).utcoffset()
    assert f"{first.eta:%H:%M}" == f"{first.eta.astimezone(TZ):%H:%M}"

    assert service.todays_route("ASP-1", day=DAY, settings=settings) == []  # not published
    with pytest.raises(NotFoundError, match="no crew with code 'NOPE'"):
        service.todays_route("NOPE", day=DAY, settings=settings)
    published = service.publish_plan(outcome.plan_id, settings=settings)
    # publishing assigns the routed jobs (New -> Reviewed -> Work assigned, audited)
    assert published.assigned == plan.served
    busy = next(r for r in plan.routes if len(r.stops) >= 2)
    route = service.todays_route(busy.crew.code, day=DAY, settings=settings)
    assert [s.job_id for s in route] == [s.order.job_id for s in busy.stops]
    assert {s.status for s in route} == {StopStatus.PLANNED}
    assert all(s.version >= 1 and s.plan_id == outcome.plan_id for s in route)
    assert {s.job_status for s in route} == {RequestStatus.ASSIGNED}
    trail = workflow.job_history(route[0].job_id, settings=settings)
    assert [e.actor for e in trail[-2:]] == [f"plan:{outcome.plan_id}"] * 2
    dropped = plan.dropped[0].order.job_id if plan.dropped else None
    if dropped is not None:  # left-out jobs stay in the queue
        assert workflow.get_job(dropped, settings=settings).status is not RequestStatus.ASSIGNED

    first = busy.stops[0]
    service.set_stop(outcome.plan_id, first.order.job_id, status="done", settings=settings)
    import_file(settings.home / "later.csv", source="boston", settings=settings)
    workflow.group_new_requests(settings=settings)
    with session_scope(settings.database_url) as session:
        urgent = max(j.id for j in jobs_repo.open_jobs(session))
    now = busy.stops[1].eta.astimezone(TZ)
    again = service.replan_with_urgent_job(
        outcome.plan_id, urgent_job_id=urgent, now=now, time_limit_s=0.5, settings=settings
    )
    assert again.plan.violations == ()
    assert again.diff is not None
    assert first.order.job_id not in again.plan.crew_of_job()
    assert urgent in again.plan.crew_of_job()
    assert any(c.job_id == urgent and c.kind == "added" for c in again.diff.changes)
    reloaded = service.load_plan(again.plan_id, settings=settings)
    assert reloaded.parent_id == outcome.plan_id
    kept = reloaded.route_of(busy.crew.code)
    assert kept is not None
    history = [s for s in kept.stops if s.order.job_id == first.order.job_id]
    assert history
    assert history[0].status == "done"
    assert history[0].locked
    assert kept.stops[0].order.job_id == first.order.job_id  # finished work comes first
    assert [s.sequence for s in kept.stops] == list(range(1, len(kept.stops) + 1))

    service.publish_plan(again.plan_id, settings=settings)
    statuses = {p.id: p.status for p in service.plan_summaries(day=DAY, settings=settings)}
    assert statuses == {outcome.plan_id: "superseded", again.plan_id: "published"}

    page = service.plan_map_html(again.plan_id, settings=settings)
    sheet = service.plan_sheet_html(again.plan_id, settings=settings)
    for html_text in (page, sheet):
        assert "<script>alert" not in html_text
    assert "@media print" in sheet


def test_crews_and_appointments_round_trip(settings: Settings):
    service.seed_crews(settings=settings)
    crews = service.list_crews(settings=settings)
    assert {c.code for c in crews} >= {"ASP-1", "LGT-1", "TRE-1"}
    asp = next(c for c in crews if c.code == "ASP-1")
    assert asp.lunch is not None
    assert asp.lunch.minutes == 30
    assert "asphalt" in asp.skills
    workflow.group_new_requests(settings=settings)
    with session_scope(settings.database_url) as session:
        job_id = jobs_repo.open_jobs(session)[0].id
    start = datetime(2025, 6, 2, 9, tzinfo=TZ)
    end = datetime(2025, 6, 2, 11, tzinfo=TZ)
    service.book_appointment(job_id, start, end, settings=settings)
    with session_scope(settings.database_url) as session:
        window = crews_repo.appointments(session, [job_id])[job_id]
    assert window.start == start
    assert window.end == end
