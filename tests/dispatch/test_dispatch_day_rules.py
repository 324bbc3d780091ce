"""The rules of a dispatch day, checked on hand-sized inputs: the clock, what is routed,
urgent jobs, what an urgent job that does not fit needs, and what publishing takes away."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest

from geodispatch.dispatch.matrix import StraightLineSource
from geodispatch.dispatch.pyvrp_start import FlooredRuntime
from geodispatch.dispatch.replan import publish_check
from geodispatch.dispatch.urgent import urgent_fit
from geodispatch.dispatch.workorders import DEFAULT_MAX_AGE_DAYS, routable_orders
from geodispatch.domain.clock import Clock, parse_clock
from geodispatch.domain.errors import InputError
from geodispatch.domain.jobs import Job
from geodispatch.domain.plans import CrewPosition, PlanStats
from geodispatch.domain.requests import Priority, RequestStatus
from geodispatch.domain.service_types import ServiceType
from tests.dispatch.routing_helpers import DAY, TZ, YARD_LAT, at, crew, east, job, plan

NOW = at(9)
POTHOLE = ServiceType("pothole", "Pothole", skill="general")
COMMENT = ServiceType("comment", "General comments for an employee", field_work=False)
LIGHT = ServiceType("light", "Street light out", max_age_days=30)


def open_job(job_id: int, code: str, days_old: float, **kw: object) -> Job:
    created = NOW - timedelta(days=days_old)
    return Job(
        id=job_id,
        service_code=code,
        status=RequestStatus.REVIEWED,
        address=f"{job_id} Main St",
        lon=east(1.0),
        lat=YARD_LAT,
        ward=1,
        caller_count=1,
        priority=Priority.P3,
        earliest_due_at=None,
        created_at=created,
        updated_at=created,
        **kw,  # type: ignore[arg-type]
    )


CATALOGUE = {t.code: t for t in (POTHOLE, COMMENT, LIGHT)}


def test_clock_pins_a_day_or_an_instant_and_says_so():
    pinned = parse_clock("2025-05-19T15:17", TZ, reason="a test")
    assert pinned.now() == datetime(2025, 5, 19, 15, 17, tzinfo=TZ)
    assert pinned.today() == date(2025, 5, 19)
    assert "Monday 19 May 2025, 15:17" in pinned.banner()
    assert "a test" in pinned.banner()
    day_only = parse_clock("2025-05-19", TZ)
    assert day_only.today() == date(2025, 5, 19)  # the time of day runs
    assert Clock(TZ).banner() == ""
    assert not Clock(TZ).pinned
    with pytest.raises(InputError, match="2025-05-19T15:17"):
        parse_clock("yesterday", TZ)


def test_only_field_work_within_its_age_limit_is_routed():
    jobs = [
        open_job(1, "pothole", 3),
        open_job(2, "comment", 1),  # no field work: never a work order
        open_job(3, "pothole", DEFAULT_MAX_AGE_DAYS + 5),  # past the default limit
        open_job(4, "light", 31),  # past its type's own 30-day limit
        open_job(5, "light", 29),
        open_job(6, "pothole", 400, confirmed_at=NOW - timedelta(days=2)),  # re-confirmed
        open_job(7, "pothole", -0.5),  # reported after "now" (a pinned clock's later report)
    ]
    split = routable_orders(jobs, CATALOGUE, now=NOW)
    assert [o.job_id for o in split.orders] == [1, 5, 6]
    assert [j.id for j in split.no_field_work] == [2]
    assert [(a.job.id, a.limit_days) for a in split.too_old] == [
        (3, DEFAULT_MAX_AGE_DAYS),
        (4, 30),
    ]
    assert [j.id for j in split.not_yet] == [7]
    # a booked appointment or the dispatcher's urgent call routes an old job anyway
    again = routable_orders(jobs, CATALOGUE, now=NOW, urgent={3})
    urgent = next(o for o in again.orders if o.job_id == 3)
    assert urgent.urgent
    assert urgent.priority is Priority.P1
    assert all(not o.urgent for o in again.orders if o.job_id != 3)


def test_an_urgent_job_is_served_where_a_p1_tie_would_leave_it_out():
    crews = [crew("A", end=time(9))]
    # two hours of P1 work fills the crew's morning; the urgent P3 job must still go on
    p1 = [job(i, 0.5 * i, minutes=55, priority=Priority.P1) for i in range(1, 3)]
    urgent = job(9, 4.0, minutes=30)
    without, _ = plan([*p1, urgent], crews)
    assert 9 not in without.crew_of_job()
    with_urgent, _ = plan([*p1, replace(urgent, urgent=True)], crews)
    assert 9 in with_urgent.crew_of_job()
    assert with_urgent.violations == ()


def test_an_urgent_job_out_of_reach_gets_overtime_and_tomorrow_options():
    crews = [crew("A", end=time(15)), crew("B", "electrical", end=time(15))]
    order = replace(job(9, 5.0, minutes=30), urgent=True)
    near = CrewPosition("A", at(14, 50), east(4.0), YARD_LAT)
    fit = urgent_fit(
        order,
        crews,
        day=DAY,
        tz=TZ,
        now=at(14, 55),
        reason="cannot be reached before the shift ends",
        source=StraightLineSource(),
        positions={"A": near},
    )
    assert fit.overtime is not None
    assert fit.overtime.crew_code == "A"
    # 14:55 + 187 s to the job + 30 min on site + 936 s back to the yard = 15:43:43
    assert fit.overtime.arrive_at == at(14, 55) + timedelta(seconds=187)
    assert fit.overtime.overtime_min == 44
    assert fit.tomorrow is not None
    assert fit.tomorrow.arrive_at == at(7) + timedelta(days=1, seconds=936)
    text = fit.advice()
    assert "44 min of overtime on crew A" in text
    assert "first thing tomorrow" in text
    nobody = urgent_fit(
        replace(order, skill="forestry"),
        crews,
        day=DAY,
        tz=TZ,
        now=at(14, 55),
        reason="no crew with the skill",
        source=StraightLineSource(),
    )
    assert "No active crew has the skill 'forestry'" in nobody.advice()


def test_publishing_a_smaller_plan_needs_confirmation_and_an_empty_one_is_refused():
    crews = [crew("A"), crew("B")]
    orders = [job(i, 0.4 * i) for i in range(1, 7)]
    morning, _ = plan(orders, crews)
    morning = replace(morning, id=1)
    assert morning.served == 6
    same = publish_check(2, morning, morning)
    assert not same.needs_confirmation
    assert not same.empty
    assert same.in_words() == ""
    smaller, _ = plan(orders[:3], crews)
    check = publish_check(2, smaller, morning, finished={4})
    assert check.needs_confirmation
    assert sorted(item.job_id for item in check.leaving) == [5, 6]  # 4 is done: not taken
    assert "Taken off routes" in check.in_words()
    empty, _ = plan([], crews)
    assert publish_check(3, empty, morning).empty
    assert publish_check(3, empty, None).empty
    assert not publish_check(4, morning, None).needs_confirmation


def test_naive_and_aware_clock_times_agree():
    aware = parse_clock("2025-05-19T06:30", TZ).now()
    assert aware.astimezone(UTC).hour == 10  # EDT is UTC-4


def test_plan_stats_round_trip_through_json_and_older_plans_still_load():
    orders = [job(i, 0.4 * i) for i in range(1, 5)]
    made, _ = plan(orders, [crew("A")])
    stats = replace(made.stats, matrix="straight:1.3:25.0", baseline_travel_s=120)
    assert PlanStats.from_json(json.loads(json.dumps(stats.to_json()))) == stats
    assert stats.stages  # the search's stages are kept, typed
    older = {"solve_s": 1.5, "stages": [{"stage": "ortools", "s": 1.0, "cost": 9}], "gone": 1}
    loaded = PlanStats.from_json(older)
    assert loaded.solve_s == 1.5
    assert loaded.stages[0].name == "ortools"
    assert loaded.matrix == ""


def test_a_busy_machine_search_runs_past_its_time_until_the_iteration_floor():
    now = [0.0]
    stop = FlooredRuntime(2.0, 5, 4.0, clock=lambda: now[0])
    # an idle core: the floor is reached long before the limit, the limit decides
    assert [stop(0) for _ in range(5)] == [False] * 5
    now[0] = 2.0
    assert stop(0)
    # a busy core: 3 iterations by the limit, the search goes on to the floor ...
    now[0] = 0.0
    busy = FlooredRuntime(2.0, 5, 4.0, clock=lambda: now[0])
    for _ in range(3):
        assert not busy(0)
    now[0] = 2.5
    assert not busy(0)
    assert not busy(0)
    assert busy(0)
    # ... but never past the cap
    capped = FlooredRuntime(2.0, 10_000, 4.0, clock=lambda: now[0])
    now[0] = 6.5
    assert capped(0)
