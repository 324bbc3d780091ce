"""The PyVRP warm start: what it maps, what it repairs, and the two pipelines end to end."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import datetime, time

import pytest
import pyvrp
from ortools.util import optional_boolean_pb2

from geodispatch.dispatch.build import build_problem
from geodispatch.dispatch.ortools_solver import OrToolsModel, OrToolsSolver
from geodispatch.dispatch.pipeline import PlanPipeline
from geodispatch.dispatch.planner import PlanRequest, plan_routes
from geodispatch.dispatch.problem import RoutingProblem, routable_stops, work_load
from geodispatch.dispatch.pyvrp_start import (
    MAX_WORKERS,
    OPTIONAL_MAX_PENALTY,
    SMALL_DAY_STOPS,
    PyVrpParams,
    build_data,
    cheapest,
    default_workers,
    lunch_clock_window,
    penalty_cap,
    pyvrp_tighten,
    pyvrp_warm_start,
    route_clock_windows,
    yard_parts,
)
from geodispatch.dispatch.schedule import best_timeline, plan_cost
from geodispatch.dispatch.solver import BOOKED_SHARES, FITTING_SHARES, SolveParams
from geodispatch.domain.crews import Depot, LunchBreak
from geodispatch.domain.errors import InputError
from geodispatch.domain.plans import LockedStop
from geodispatch.domain.requests import Priority
from tests.dispatch.routing_helpers import DAY, TZ, YARD_LAT, crew, east, job

LUNCH = LunchBreak(time(11), time(13), 30)
QUICK = PyVrpParams(time_limit_s=0.3)


def test_the_mapping_shortens_shifts_by_lunch_and_pays_each_job_its_penalty():
    crews = [crew("A", "asphalt", lunch=LUNCH), crew("L", "electrical"), crew("B", "asphalt")]
    orders = [job(1, 1, skill="asphalt"), job(2, 2, skill="electrical", priority=Priority.P1)]
    problem, _ = build_problem(orders, crews, day=DAY, tz=TZ)
    model = build_data(problem)
    types = model.data.vehicle_types()
    # 07:00-15:00; crew A's lunch (30 min) comes off the end of its day
    assert (types[0].tw_early, types[0].tw_late) == (7 * 3600, 15 * 3600 - 1800)
    assert types[1].tw_late == 15 * 3600
    assert [c.prize for c in model.data.clients()] == [v.penalty for v in problem.visits]
    assert not any(c.required for c in model.data.clients())
    # one routing profile per set of jobs a crew may do: the two asphalt crews share one
    assert model.profiles == 2
    assert types[0].profile == types[2].profile != types[1].profile


def test_alike_crews_share_one_pyvrp_type_and_each_gets_its_own_route_back():
    crews = [crew("A1", "asphalt", lunch=LUNCH), crew("A2", "asphalt", lunch=LUNCH)]
    crews.append(crew("L", "electrical", lunch=LUNCH))
    orders = [
        job(j, 1 + j % 4, skill="asphalt" if j % 3 else "electrical", minutes=60)
        for j in range(1, 13)
    ]
    problem, _ = build_problem(orders, crews, day=DAY, tz=TZ)
    model = build_data(problem)
    assert model.crews_of_type == ((0, 1), (2,))
    assert [t.num_available for t in model.data.vehicle_types()] == [2, 1]
    start = pyvrp_warm_start(problem, QUICK)
    # 8 hours of asphalt work: both asphalt crews are needed, each keeps its own route
    assert start.routes[0]
    assert start.routes[1]
    assert sorted(i for r in start.routes for i in r) == list(range(len(problem.visits)))


def test_alike_crews_keep_their_own_routes_when_the_search_starts_from_them():
    crews = [crew("A1", "asphalt"), crew("A2", "asphalt")]
    orders = [job(j, float(j), skill="asphalt") for j in range(1, 5)]
    problem, _ = build_problem(orders, crews, day=DAY, tz=TZ)
    assert build_data(problem).crews_of_type == ((0, 1),)
    # this morning A2 had every job; one route is still the shortest way to do them,
    # so a re-plan must give it back to A2, not to A1 because A1 comes first
    for before in ([[], [0, 1, 2, 3]], [[3, 2, 1, 0], []]):
        start = pyvrp_warm_start(problem, QUICK, initial=before)
        assert [sorted(r) for r in start.routes] == [sorted(r) for r in before]


def test_appointments_move_onto_the_clock_without_lunch():
    def window(start: int, end: int) -> tuple[datetime, datetime]:
        return (datetime.combine(DAY, time(start), TZ), datetime.combine(DAY, time(end), TZ))

    crews = [crew("A", "asphalt", lunch=LUNCH)]
    orders = [
        job(1, 1, skill="asphalt", window=window(8, 10)),  # before lunch can start: kept
        job(2, 1, skill="asphalt", window=window(10, 12)),  # overlaps lunch: closes 30 min early
        job(3, 1, skill="asphalt", window=window(13, 15)),  # after lunch: 30 min earlier
    ]
    problem, _ = build_problem(orders, crews, day=DAY, tz=TZ)
    hours = [tuple(s / 3600 for s in lunch_clock_window(problem, v)) for v in problem.visits]
    assert hours == [(8, 10), (10, 11.5), (12.5, 14.5)]
    # a crew without lunch serving the same jobs keeps the real windows
    plain, _ = build_problem(orders, [crew("B", "asphalt")], day=DAY, tz=TZ)
    assert lunch_clock_window(plain, plain.visits[2]) == (13 * 3600, 15 * 3600)


def roads_and_lights(jobs: int, *, minutes: int, spread: int, lights_every: int) -> RoutingProblem:
    """A road crew and a lights crew with lunch; every ``lights_every``-th job is electrical."""
    crews = [crew("ROADS", "asphalt", lunch=LUNCH), crew("LIGHTS", "electrical", lunch=LUNCH)]
    orders = [
        job(
            j,
            1 + j % spread,
            skill="electrical" if j % lights_every == 0 else "asphalt",
            minutes=minutes,
        )
        for j in range(1, jobs + 1)
    ]
    problem, _ = build_problem(orders, crews, day=DAY, tz=TZ)
    return problem


def test_warm_start_routes_respect_skills_and_fit_with_lunch():
    problem = roads_and_lights(16, minutes=45, spread=5, lights_every=2)
    start = pyvrp_warm_start(problem, QUICK)
    served = [i for r in start.routes for i in r]
    assert len(served) == len(set(served))
    for k, route in enumerate(start.routes):
        assert all(k in problem.visits[i].vehicles for i in route)
        assert best_timeline(problem, k, route).feasible
    # 8 jobs of 45 min per crew plus short drives fit a 7.5 h day with lunch
    assert len(served) == 16


def test_searches_side_by_side_keep_the_plan_that_costs_least_in_our_model():
    problem = roads_and_lights(24, minutes=50, spread=7, lights_every=3)
    alone = pyvrp_warm_start(problem, replace(QUICK, workers=1))
    both = pyvrp_warm_start(problem, replace(QUICK, workers=2, runs=2))
    assert (len(alone.costs), len(both.costs)) == (1, 4)
    # the kept routes are the cheapest of the four searches in our model (lunch placed)
    assert plan_cost(problem, both.routes) == min(both.costs)
    for k, route in enumerate(both.routes):
        assert all(k in problem.visits[i].vehicles for i in route)
        assert best_timeline(problem, k, route).feasible
    assert 1 <= PyVrpParams().workers == default_workers() <= MAX_WORKERS
    with pytest.raises(InputError, match=r"PyVrpParams.workers must be ≥ 1"):
        PyVrpParams(workers=0)
    with pytest.raises(InputError, match=r"SolveParams.pyvrp_workers must be ≥ 1"):
        SolveParams(pyvrp_workers=0)


def test_a_day_with_long_routes_gets_one_pyvrp_search_per_core_a_short_day_two(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert default_workers(SMALL_DAY_STOPS) == 4
    assert default_workers(SMALL_DAY_STOPS + 1) == 2
    # the planner sizes the searches by the stops the crews' routes can hold
    crews = [crew(f"R{k}", "asphalt") for k in range(12)]
    for jobs, minutes, searches in ((200, 20, 2), (200, 60, 4), (24, 20, 4)):
        orders = [job(j, 1 + j % 9, skill="asphalt", minutes=minutes) for j in range(1, jobs + 1)]
        problem, _ = build_problem(orders, crews, day=DAY, tz=TZ)
        # 12 crews × 8 h hold 96 jobs of an hour: the over-booked day is a short search
        assert routable_stops(problem) == pytest.approx(
            min(len(problem.visits), 12 * 8 * 60 / minutes)
        )
        found = PlanPipeline().solve(problem, SolveParams(time_limit_s=0.6))
        assert f"best of {searches} searches" in found.stages[0].note


def test_the_cheapest_search_is_kept_and_a_tie_keeps_the_first_seed():
    assert cheapest([900, 700, 800]) == 1
    assert cheapest([700, 900, 700]) == 0
    assert cheapest([5]) == 0


def test_a_day_with_two_yards_is_cut_by_the_yard_nearest_each_job():
    east_yard = Depot("East yard", east(10), YARD_LAT)
    crews = [
        crew("W", "asphalt", "electrical"),
        replace(crew("E", "asphalt"), depot=east_yard),
    ]
    orders = [job(1, 1, skill="asphalt"), job(2, 9, skill="asphalt"), job(3, 11, skill="asphalt")]
    # only the west crew does electrical work, however far east the job is
    orders.append(job(4, 9.5, skill="electrical"))
    # a stop locked to the west crew stays with it
    orders.append(job(5, 10.5, skill="asphalt"))
    locked = [LockedStop(5, "W", 1)]
    problem, _ = build_problem(orders, crews, day=DAY, tz=TZ, locked=locked)
    ids = [v.order.job_id for v in problem.visits]
    parts = yard_parts(problem)
    assert [p.crews for p in parts] == [(0,), (1,)]
    assert [sorted(ids[i] for i in p.visits) for p in parts] == [[1, 4, 5], [2, 3]]
    # each part is a problem of its own, its crews renumbered from 0
    west = parts[0].problem(problem)
    assert [v.vehicles for v in west.visits] == [(0,), (0,), (0,)]
    assert [v.locked_vehicle for v in west.visits] == [None, None, 0]


def test_a_two_yard_day_starts_from_yard_by_yard_routes_and_serves_everything():
    east_yard = Depot("East yard", east(10), YARD_LAT)
    crews = [crew("W", lunch=LUNCH), replace(crew("E", lunch=LUNCH), depot=east_yard)]
    orders = [job(j, float(j % 4), minutes=40) for j in range(1, 6)]
    orders += [job(j, 10.0 + j % 3, minutes=40) for j in range(6, 11)]
    problem, _ = build_problem(orders, crews, day=DAY, tz=TZ)
    start = pyvrp_warm_start(problem, PyVrpParams(time_limit_s=0.5))
    ids = [{problem.visits[i].order.job_id for i in route} for route in start.routes]
    # each crew works the jobs around its own yard
    assert ids == [{1, 2, 3, 4, 5}, {6, 7, 8, 9, 10}]
    with pytest.raises(InputError, match=r"PyVrpParams.yard_share must be in \[0, 1\)"):
        PyVrpParams(yard_share=1.0)


def test_penalties_are_capped_low_only_when_every_job_may_be_left_out():
    problem, _ = build_problem([job(1, 1), job(2, 2)], [crew("A")], day=DAY, tz=TZ)
    # a dispatch day: every job optional, so PyVRP may pass through late routes
    assert penalty_cap(problem, PyVrpParams()) == OPTIONAL_MAX_PENALTY
    # a benchmark-style instance with a required visit keeps PyVRP's own default
    required = replace(problem, visits=(replace(problem.visits[0], penalty=-1), problem.visits[1]))
    assert penalty_cap(required, PyVrpParams()) is None
    # leaving the required visit out never looks cheaper than driving to it
    assert plan_cost(required, [[1]]) > plan_cost(required, [[0, 1]])
    # an explicit cap always wins
    assert penalty_cap(required, PyVrpParams(max_penalty=50.0)) == 50.0
    with pytest.raises(InputError, match=r"PyVrpParams.max_penalty must be > 1"):
        PyVrpParams(max_penalty=0.5)


def test_warm_start_keeps_locked_stops_on_their_crew_in_their_order():
    crews = [crew("A"), crew("B")]
    orders = [job(j, float(j)) for j in range(1, 7)]
    # locked in the reverse of the geographic order: only the lock can explain the order
    locked = [LockedStop(5, "B", 1), LockedStop(2, "B", 2)]
    problem, _ = build_problem(orders, crews, day=DAY, tz=TZ, locked=locked)
    start = pyvrp_warm_start(problem, QUICK)
    jobs_b = [problem.visits[i].order.job_id for i in start.routes[1]]
    assert [j for j in jobs_b if j in {2, 5}] == [5, 2]
    assert not {2, 5} & {problem.visits[i].order.job_id for i in start.routes[0]}


def test_both_pipelines_give_checked_plans_and_say_which_stages_ran():
    crews = [crew("A", "asphalt", lunch=LUNCH), crew("B", "asphalt", "electrical")]
    orders = [
        job(j, 0.5 * j, skill="electrical" if j % 3 == 0 else "asphalt", minutes=30)
        for j in range(1, 13)
    ]
    request = PlanRequest(orders, crews, DAY, TZ)
    hybrid, _ = plan_routes(request, solve=SolveParams(time_limit_s=0.6))
    alone, _ = plan_routes(request, solve=SolveParams(time_limit_s=0.6, warm_start="none"))
    assert hybrid.violations == ()
    assert alone.violations == ()
    assert hybrid.solver == "pyvrp+ortools"
    stages = [s.name for s in hybrid.stats.stages]
    assert stages == ["pyvrp", "ortools", "pyvrp-tighten"]
    assert alone.solver == "ortools"
    assert alone.stats.stages == ()
    # twelve short jobs near the yard fit two crews either way
    assert hybrid.served == alone.served == 12


def test_or_tools_never_hands_back_worse_routes_than_it_was_given():
    crews = [crew("A", lunch=LUNCH), crew("B", lunch=LUNCH)]
    orders = [job(j, 0.7 * j, minutes=40) for j in range(1, 15)]
    problem, _ = build_problem(orders, crews, day=DAY, tz=TZ)
    start = pyvrp_warm_start(problem, QUICK)
    polished = OrToolsSolver().polish(problem, SolveParams(time_limit_s=0.3), start.routes)
    assert polished.stages[-1].cost <= plan_cost(problem, start.routes)
    for k, route in enumerate(polished.routes):
        assert best_timeline(problem, k, route).feasible


def test_solve_params_name_the_allowed_warm_starts():
    with pytest.raises(InputError, match=r"warm_start must be one of \('pyvrp', 'none'\)"):
        SolveParams(warm_start="vroom")
    with pytest.raises(InputError, match=r"warm_share must be in \(0, 1\)"):
        SolveParams(warm_share=1.0)
    with pytest.raises(InputError, match=r"PyVrpParams.runs must be ≥ 1"):
        PyVrpParams(runs=0)


def test_tightening_keeps_every_served_job_and_cuts_the_driving():
    crews = [crew("A"), crew("B")]
    orders = [job(j, float(j), minutes=20) for j in range(1, 9)]
    problem, _ = build_problem(orders, crews, day=DAY, tz=TZ)
    # both crews zig-zag along the street: 1, 7, 2, 8 and 5, 3, 6, 4 km out
    zigzag = [[0, 6, 1, 7], [4, 2, 5, 3]]
    shorter = pyvrp_tighten(problem, zigzag, QUICK)
    assert sorted(i for r in shorter.routes for i in r) == list(range(8))
    assert plan_cost(problem, shorter.routes) < plan_cost(problem, zigzag)
    assert plan_cost(problem, shorter.routes) == min(shorter.costs)
    for k, route in enumerate(shorter.routes):
        assert best_timeline(problem, k, route).feasible


def lunch_while_waiting() -> tuple[RoutingProblem, list[list[int]]]:
    """Crew A eats while it waits for a noon appointment; B has four short jobs."""
    crews = [crew("A", lunch=LUNCH), crew("B")]
    appointment = (datetime.combine(DAY, time(12), TZ), datetime.combine(DAY, time(13), TZ))
    orders = [
        job(1, 1, minutes=240),  # 07:03-11:03
        job(2, 1, minutes=60, window=appointment),  # lunch 11:03-11:33, waits to 12:00
        job(3, 1, minutes=110),  # 13:00-14:50, back at the yard 14:53
    ]
    orders += [job(j, float(j), minutes=20) for j in range(4, 8)]
    problem, _ = build_problem(orders, crews, day=DAY, tz=TZ)
    return problem, [[0, 1, 2], [5, 3, 6, 4]]


def test_a_stop_after_lunch_gets_its_window_moved_onto_the_clock_without_lunch():
    problem, routes = lunch_while_waiting()
    assert best_timeline(problem, 0, routes[0]).feasible
    # one window per visit wherever it goes: on that clock A's route runs late
    model = build_data(problem)
    assert not pyvrp.Route(model.data, routes[0], model.type_of(0)).is_feasible()
    # windows from where the stops are: before lunch kept, after lunch 30 min earlier
    windows = route_clock_windows(problem, {0: routes[0]})
    hours = {i: tuple(s / 3600 for s in w) for i, w in windows.items()}
    assert hours[0] == (0, problem.visits[0].latest_s / 3600)
    assert hours[1] == (11.5, 12.5)
    model = build_data(problem, windows=windows)
    assert pyvrp.Route(model.data, routes[0], model.type_of(0)).is_feasible()
    # B has no lunch: nothing to move
    assert route_clock_windows(problem, {1: routes[1]}) == {}


def test_tightening_searches_a_route_that_takes_lunch_while_waiting():
    problem, routes = lunch_while_waiting()
    shorter = pyvrp_tighten(problem, routes, QUICK)
    assert sorted(i for r in shorter.routes for i in r) == list(range(7))
    assert plan_cost(problem, shorter.routes) < plan_cost(problem, routes)
    for k, route in enumerate(shorter.routes):
        assert best_timeline(problem, k, route).feasible


def test_make_room_moves_are_on_only_when_asked_or_when_the_work_fits(monkeypatch):
    problem, _ = lunch_while_waiting()
    model = OrToolsModel(problem)
    on = model.search_parameters(SolveParams(make_room_moves=True))
    off = model.search_parameters(SolveParams())
    assert on.local_search_operators.use_relocate_and_make_active == optional_boolean_pb2.BOOL_TRUE
    assert off.local_search_operators.use_relocate_and_make_active != optional_boolean_pb2.BOOL_TRUE
    # unset, the pass after PyVRP gets them on a day whose work fits, not on a booked one
    asked: list[bool | None] = []
    polish = OrToolsSolver.polish

    def noting(self, problem, params, routes):  # the real pass, its setting noted
        asked.append(params.make_room_moves)
        return polish(self, problem, params, routes)

    monkeypatch.setattr(OrToolsSolver, "polish", noting)
    crews = [crew("A"), crew("B")]
    # 16 crew-hours: 12 jobs of 30 min fit, 15 of 90 min do not (one short job keeps
    # them all in the pool, as in the over-booked test below)
    light = [job(j, 1.0, minutes=30) for j in range(1, 13)]
    heavy = [job(1, 1.0, minutes=20)] + [job(j, 1.0, minutes=90) for j in range(2, 17)]
    for orders in (light, heavy):
        day, _ = build_problem(orders, crews, day=DAY, tz=TZ)
        PlanPipeline().solve(day, SolveParams(time_limit_s=0.3))
    assert asked == [True, False]


def test_the_polish_hands_a_stop_to_another_crew_so_a_skilled_job_fits():
    # the only forestry crew is full of road work the road crew could do
    crews = [crew("TREES", "forestry", "asphalt", end=time(11)), crew("ROADS", "asphalt")]
    orders = [job(1, 1, skill="asphalt", minutes=200), job(2, 1, skill="forestry", minutes=90)]
    problem, _ = build_problem(orders, crews, day=DAY, tz=TZ)
    full = [[0], []]
    assert plan_cost(problem, full) > plan_cost(problem, [[1], [0]])
    polished = OrToolsSolver().polish(
        problem, SolveParams(time_limit_s=0.3, make_room_moves=True), full
    )
    assert polished.routes == ((1,), (0,))


def test_the_full_model_searches_from_lunch_feasible_routes():
    crews = [crew("A", lunch=LUNCH), crew("B", lunch=LUNCH), crew("C", lunch=LUNCH)]
    orders = [job(j, 0.4 * j, minutes=35 + 5 * (j % 4)) for j in range(1, 28)]
    problem, _ = build_problem(orders, crews, day=DAY, tz=TZ)
    start = pyvrp_warm_start(problem, QUICK)
    polished = OrToolsSolver().polish(problem, SolveParams(time_limit_s=0.3), start.routes)
    # OR-Tools' own search on the model with lunch intervals, not the relaxed fallback
    assert polished.status.startswith("warm:")
    assert polished.status not in {"warm:not_restored", "warm:relaxed"}


def test_tightening_runs_on_fresh_plans_and_its_share_is_checked():
    with pytest.raises(InputError, match=r"tighten_share must be in \[0, 1\)"):
        SolveParams(warm_share=0.5, tighten_share=0.5)
    with pytest.raises(InputError, match=r"tighten_share must be in \[0, 1\)"):
        SolveParams(tighten_share=-0.1)
    crews = [crew("A"), crew("B")]
    orders = [job(j, float(j), minutes=20) for j in range(1, 7)]
    request = PlanRequest(orders, crews, DAY, TZ)
    morning, _ = plan_routes(request, solve=SolveParams(time_limit_s=0.6))
    # a re-plan keeps crews on their routes where it can: no reshuffling stage
    again, _ = plan_routes(
        replace(
            request,
            warm_start={r.crew.code: [s.order.job_id for s in r.stops] for r in morning.routes},
        ),
        solve=SolveParams(time_limit_s=0.6),
    )
    assert [s.name for s in again.stats.stages] == ["pyvrp", "ortools"]


def test_an_over_booked_day_gives_the_time_to_choosing_jobs_not_to_shortening_routes():
    crews = [crew("A", lunch=LUNCH), crew("B")]
    # 7.5 h + 8 h of crew time: 12 jobs of 30 min fit, 15 jobs of 90 min do not (one
    # short job keeps them all in the solver's pool, whose bound counts the shortest)
    light, _ = build_problem([job(j, 1.0, minutes=30) for j in range(1, 13)], crews, day=DAY, tz=TZ)
    heavy_jobs = [job(1, 1.0, minutes=20)] + [job(j, 1.0, minutes=90) for j in range(2, 17)]
    heavy, _ = build_problem(heavy_jobs, crews, day=DAY, tz=TZ)
    assert work_load(light) == pytest.approx(6 / 15.5)
    assert work_load(heavy) == pytest.approx((20 + 15 * 90) / 60 / 15.5)
    auto = SolveParams()
    assert auto.shares(work_fits=True) == FITTING_SHARES
    assert auto.shares(work_fits=False) == BOOKED_SHARES == (0.65, 0.0)
    # a share the caller sets wins; a tightening share that would leave OR-Tools no time
    # is dropped
    assert SolveParams(tighten_share=0.2).shares(work_fits=False) == (0.65, 0.2)
    assert SolveParams(warm_share=0.8).shares(work_fits=True) == (0.8, 0.0)
    over, _ = plan_routes(
        PlanRequest(heavy_jobs, crews, DAY, TZ),
        solve=SolveParams(time_limit_s=0.6),
    )
    assert [s.name for s in over.stats.stages] == ["pyvrp", "ortools"]
