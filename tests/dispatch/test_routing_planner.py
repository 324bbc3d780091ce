"""The daily planner on tiny instances whose answers can be checked by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import time, timedelta

from geodispatch.dispatch.checker import check_plan
from geodispatch.dispatch.planner import PlanRequest, plan_routes
from geodispatch.dispatch.problem import PlanParams
from geodispatch.dispatch.solver import SolveParams
from geodispatch.domain.crews import LunchBreak
from geodispatch.domain.plans import DropReason
from geodispatch.domain.requests import Priority
from tests.dispatch.routing_helpers import DAY, TZ, at, crew, job, plan


def reasons(result) -> dict[int, DropReason]:
    return {d.order.job_id: d.reason for d in result.dropped}


def test_one_job_one_kilometre_away_starts_187_seconds_after_the_shift():
    result, _ = plan([job(1, 1.0)], [crew("A")])
    (route,) = result.routes
    (stop,) = route.stops
    assert stop.travel_s == 187
    assert stop.eta == at(7) + timedelta(seconds=187)
    assert stop.departs_at == stop.eta + timedelta(minutes=30)
    assert route.return_travel_s == 187
    assert route.ends_at == stop.departs_at + timedelta(seconds=187)
    assert result.violations == ()


def test_each_job_goes_only_to_a_crew_with_its_skill():
    orders = [
        job(1, 1, skill="electrical"),
        job(2, 2, skill="asphalt"),
        job(3, 3, skill="forestry"),
    ]
    crews = [crew("LIGHTS", "electrical"), crew("ROADS", "asphalt")]
    result, _ = plan(orders, crews)
    assert result.crew_of_job() == {1: "LIGHTS", 2: "ROADS"}
    (dropped,) = result.dropped
    assert dropped.reason is DropReason.NO_CREW_WITH_SKILL
    assert "forestry" in dropped.detail
    assert "LIGHTS (electrical)" in dropped.detail
    assert result.violations == ()


def test_lunch_is_taken_inside_its_window_and_never_during_work():
    lunch = LunchBreak(time(11), time(11, 30), 30)  # exactly 11:00-11:30
    orders = [job(i, 0.5 * i, minutes=60) for i in range(1, 7)]
    result, _ = plan(orders, [crew("A", lunch=lunch)])
    (route,) = result.routes
    assert route.break_start == at(11)
    lunch_end = at(11, 30)
    for stop in route.stops:
        assert stop.departs_at <= at(11) or stop.eta >= lunch_end
    assert len(route.stops) == 6
    assert result.violations == ()


def test_an_appointment_is_kept_and_the_crew_waits_for_it():
    window = (at(10), at(10, 15))
    result, _ = plan([job(1, 1, window=window), job(2, 2)], [crew("A")])
    stop = next(s for r in result.routes for s in r.stops if s.order.job_id == 1)
    assert at(10) <= stop.eta <= at(10, 15)
    assert result.violations == ()


def test_jobs_nobody_can_serve_today_are_explained_before_solving():
    orders = [
        job(1, None),  # no location
        job(2, 1, window=(at(17), at(18))),  # after the 07:00-15:00 shift
        job(3, 1, minutes=12 * 60),  # longer than the shift
        job(4, 60, window=(at(7), at(7, 30))),  # 60 km away, window closes at 07:30
        job(5, 1),
    ]
    result, _ = plan(orders, [crew("A")])
    assert reasons(result) == {
        1: DropReason.NO_LOCATION,
        2: DropReason.OUTSIDE_ALL_SHIFTS,
        3: DropReason.NOT_REACHABLE,
        4: DropReason.PAST_DEADLINE,
    }
    assert result.crew_of_job() == {5: "A"}
    assert result.violations == ()


def test_an_appointment_already_over_at_replan_time_is_past_deadline():
    orders = [job(1, 1, window=(at(8), at(9))), job(2, 1)]
    result, _ = plan(orders, [crew("A")], now=at(10))
    assert reasons(result) == {1: DropReason.PAST_DEADLINE}


def test_when_capacity_runs_out_urgent_work_is_served_and_the_rest_explained():
    # 8 one-hour jobs for a 4-hour shift: room for about 3
    orders = [job(i, 0.2 * i, minutes=60, priority=Priority.P3) for i in range(1, 7)]
    orders += [
        job(7, 2.0, minutes=60, priority=Priority.P1),
        job(8, 2.2, minutes=60, priority=Priority.P2),
    ]
    result, _ = plan(orders, [crew("A", end=time(11))])
    served = set(result.crew_of_job())
    assert {7, 8} <= served
    assert len(served) == 3
    for dropped in result.dropped:
        assert dropped.reason is DropReason.LOWER_PRIORITY
        assert "fully booked" in dropped.detail or "can do at most 4" in dropped.detail
    assert result.violations == ()


def test_a_crew_never_gets_more_than_its_max_jobs():
    orders = [job(i, 0.1 * i, minutes=15) for i in range(1, 6)]
    result, _ = plan(orders, [crew("A", max_jobs=2)])
    assert len(result.routes[0].stops) == 2
    assert result.violations == ()


def test_the_checker_catches_a_deliberately_broken_plan():
    orders = [job(1, 1, window=(at(7), at(8))), job(2, 2), job(3, 3, skill="electrical")]
    crews = [crew("A", "general"), crew("B", "electrical")]
    good, problem = plan(orders, crews)
    assert check_plan(problem, good) == []
    route_a = good.route_of("A")
    route_b = good.route_of("B")
    assert route_a is not None
    assert route_b is not None
    # 1) the electrical job moved to a crew without the skill, 2) a job served twice,
    # 3) a stated ETA that is not what the route gives
    moved = replace(route_a, stops=(*route_a.stops, route_b.stops[0]))
    late = replace(route_a.stops[0], eta=route_a.stops[0].eta + timedelta(minutes=5))
    broken = replace(good, routes=(moved, route_b))
    kinds = {v.kind for v in check_plan(problem, broken)}
    assert {"skill", "duplicate"} <= kinds
    retimed = replace(good, routes=(replace(route_a, stops=(late, *route_a.stops[1:])), route_b))
    assert {v.kind for v in check_plan(problem, retimed)} == {"eta"}
    # 4) the appointment job moved to the end of a long day misses its window
    _first, *_rest = route_a.stops
    far = [job(10 + i, 4.0, minutes=60) for i in range(2)]
    reordered, problem2 = plan([*orders, *far], crews)
    route = reordered.route_of("A")
    assert route is not None
    stops = [s for s in route.stops if s.order.job_id != 1]
    one = next(s for s in route.stops if s.order.job_id == 1)
    shuffled = replace(reordered, routes=(replace(route, stops=(*stops, one)), reordered.routes[1]))
    assert "window" in {v.kind for v in check_plan(problem2, shuffled)}


def test_the_balance_term_spreads_work_over_crews():
    orders = [job(i, 0.3 * i, minutes=45) for i in range(1, 5)]
    crews = [crew("A"), crew("B")]
    cheapest, _ = plan(orders, crews)
    assert sorted(len(r.stops) for r in cheapest.routes) == [0, 4]  # least driving: one crew
    balanced, _ = plan(orders, crews, params=PlanParams(balance_coefficient=1))
    assert sorted(len(r.stops) for r in balanced.routes) == [2, 2]
    assert max(r.ends_at for r in balanced.routes) < max(r.ends_at for r in cheapest.routes)
    assert balanced.violations == ()


def test_the_skill_by_skill_first_solution_gives_a_checked_plan():
    orders = [job(i, 0.4 * i, skill=("electrical", "asphalt")[i % 2]) for i in range(1, 11)]
    crews = [
        crew("LIGHTS", "electrical"),
        crew("ROADS", "asphalt"),
        crew("BOTH", "asphalt", "electrical"),
    ]
    request = PlanRequest(orders, crews, DAY, TZ)
    result, _ = plan_routes(request, solve=SolveParams(time_limit_s=0.5, split_share=0.5))
    assert result.violations == ()
    assert result.served == 10
    for route in result.routes:
        assert all(route.crew.can_do(s.order.skill) for s in route.stops)
