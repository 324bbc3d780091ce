"""Relocate after repair: single stops move to cheaper places, never against the rules."""

from __future__ import annotations

from dataclasses import replace

from geodispatch.dispatch.problem import RoutingProblem
from geodispatch.dispatch.repair import relocate
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
