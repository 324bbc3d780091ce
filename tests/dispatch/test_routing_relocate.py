"""Relocate after repair: single stops move to cheaper places, never against the rules."""

from __future__ import annotations

from dataclasses import replace

from geodispatch.dispatch.problem import RoutingProblem
from geodispatch.dispatch.repair import relocate, relocate_and_refill, repair
from geodispatch.dispatch.schedule import best_timeline
from tests.dispatch.routing_helpers import at, crew, job, plan


def _problem(orders: list, crews: list) -> tuple[RoutingProblem, dict[int, int]]:
    _, problem = plan(orders, crews)
    return problem, {v.order.job_id: i for i, v in enumerate(problem.visits)}


def _driving(problem: RoutingProblem, routes: list[list[int]]) -> int:
    return sum(best_timeline(problem, k, r).travel_s for k, r in enumerate(routes))


def test_a_zigzag_route_is_put_in_order_and_drives_less():
    # 5 → 1 → 6 km and back drives 5 + 4 + 5 + 6 = 20 km; 1 → 5 → 6 and back 12 km
    problem, of = _problem([job(1, 5.0), job(2, 1.0), job(3, 6.0)], [crew("A")])
    zigzag = [[of[1], of[2], of[3]]]

    out = relocate(problem, zigzag, [0], time_budget_s=5.0)

    assert out.routes == [[of[2], of[1], of[3]]]
    assert out.moved == 1
    assert _driving(problem, zigzag) - _driving(problem, out.routes) == out.saved_s
    assert out.saved_s >= 8 * 187


def test_a_stop_moves_to_the_crew_that_passes_by_it():
    problem, of = _problem(
        [job(1, 1.0), job(2, 10.0), job(3, 9.0), job(4, 11.0)], [crew("A"), crew("B")]
    )
    before = [[of[1], of[2]], [of[3], of[4]]]

    out = relocate(problem, before, [0, 0], time_budget_s=5.0)

    assert of[2] in out.routes[1]
    assert sorted(i for r in out.routes for i in r) == sorted(i for r in before for i in r)
    assert all(best_timeline(problem, k, r).feasible for k, r in enumerate(out.routes))
    assert _driving(problem, out.routes) < _driving(problem, before)


def test_a_stop_stays_with_the_only_crew_that_has_its_skill():
    problem, of = _problem(
        [job(1, 1.0), job(2, 10.0, skill="trees"), job(3, 9.0), job(4, 11.0)],
        [crew("A", "general", "trees"), crew("B", "general")],
    )

    out = relocate(problem, [[of[1], of[2]], [of[3], of[4]]], [0, 0], time_budget_s=5.0)

    assert of[2] in out.routes[0]


def test_a_locked_stop_is_never_moved():
    problem, of = _problem(
        [job(1, 1.0), job(2, 10.0), job(3, 9.0), job(4, 11.0)], [crew("A"), crew("B")]
    )
    visits = list(problem.visits)
    visits[of[2]] = replace(visits[of[2]], locked_vehicle=0, locked_rank=1, vehicles=(0,))
    locked = replace(problem, visits=tuple(visits))

    out = relocate(locked, [[of[1], of[2]], [of[3], of[4]]], [0, 0], time_budget_s=5.0)

    assert of[2] in out.routes[0]


def test_a_move_that_saves_driving_but_makes_a_due_job_late_is_not_made():
    # job 2 is due 07:40: alone on A it starts 07:31; behind B's two-hour job at 9 km
    # it would start about 09:31, far more lateness cost than A's 20 km round trip saves
    problem, of = _problem(
        [job(1, 1.0), job(2, 10.0, due=at(7, 40)), job(3, 9.0, minutes=120), job(4, 11.0)],
        [crew("A"), crew("B")],
    )

    out = relocate(problem, [[of[1], of[2]], [of[3], of[4]]], [0, 0], time_budget_s=5.0)

    assert of[2] in out.routes[0]


def test_a_job_left_out_is_inserted_once_relocating_makes_room_for_it():
    # the zigzag 5 → 1 → 6 km drives 62 min: with 410 min on site the 8-hour shift has no
    # room for job 4 (20 min, at 6 km); in order (1 → 5 → 6 km) it drives 37 min and fits
    problem, of = _problem(
        [
            job(1, 5.0, minutes=130),
            job(2, 1.0, minutes=140),
            job(3, 6.0, minutes=140),
            job(4, 6.0, minutes=20),
        ],
        [crew("A")],
    )
    fixed = repair(problem, [[of[1], of[2], of[3]]], [None], time_budget_s=5.0)
    assert fixed.dropped == [of[4]]  # no room on the zigzag

    refilled, shortened = relocate_and_refill(problem, fixed, time_budget_s=5.0)

    assert shortened.moved >= 1
    assert of[4] in refilled.routes[0]
    assert refilled.dropped == []
    assert best_timeline(problem, 0, refilled.routes[0]).feasible


def test_a_re_plan_hands_a_stop_to_another_crew_only_for_more_than_the_move_cost():
    # A's stops at 5 and 6 km, B's at 5.5 and 9 km: handing A's stops to B saves some
    # driving, but less than the 20 min per job a re-plan charges for moving a job
    problem, of = _problem(
        [job(1, 5.0), job(2, 6.0), job(3, 5.5), job(4, 9.0)], [crew("A"), crew("B")]
    )
    before = [[of[1], of[2]], [of[3], of[4]]]
    home = {i: k for k, r in enumerate(before) for i in r}

    fresh = relocate(problem, before, [0, 0], time_budget_s=5.0)
    assert any(home[i] != k for k, r in enumerate(fresh.routes) for i in r)  # a day plan moves

    replan = relocate(problem, before, [0, 0], time_budget_s=5.0, home=home)
    assert all(home[i] == k for k, r in enumerate(replan.routes) for i in r)
