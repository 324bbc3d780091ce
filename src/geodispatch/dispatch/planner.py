"""Plan a day: build the problem, solve, repair, explain every dropped job, check.

This is the one entry point the services call; it returns a :class:`RoutePlan` whose
times come from the independent forward pass and whose ``violations`` come from the
independent checker (empty for a sound plan).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from geodispatch.dispatch.build import build_problem
from geodispatch.dispatch.checker import check_plan
from geodispatch.dispatch.matrix import MatrixCache, MatrixSource
from geodispatch.dispatch.pipeline import PlanPipeline
from geodispatch.dispatch.problem import PlanParams, RoutingProblem
from geodispatch.dispatch.reasons import explain_dropped
from geodispatch.dispatch.repair import RepairResult, relocate_and_refill, repair
from geodispatch.dispatch.schedule import Timeline, best_timeline, lunch_feasible, plan_cost
from geodispatch.dispatch.solver import RouteSolver, Solution, SolveParams
from geodispatch.domain.crews import Crew
from geodispatch.domain.plans import (
    CrewPosition,
    CrewRoute,
    LockedStop,
    PlannedStop,
    PlanStats,
    RoutePlan,
    WorkOrder,
)

#: Share of ``SolveParams.time_limit_s`` kept for repair and improvement after the solver.
REPAIR_SHARE = 0.1


@dataclass(frozen=True, slots=True)
class PlanRequest:
    """Everything one planning run needs besides the solver settings."""

    orders: Sequence[WorkOrder]
    crews: Sequence[Crew]
    day: date
    tz: ZoneInfo
    now: datetime | None = None
    positions: Sequence[CrewPosition] = ()
    locked: Sequence[LockedStop] = ()
    #: crew code -> job ids in order: a warm start (e.g. this morning's plan)
    warm_start: Mapping[str, Sequence[int]] | None = None
    #: when the plan is made (the product's clock); stamped on the plan
    created_at: datetime | None = None


def plan_routes(
    request: PlanRequest,
    *,
    params: PlanParams | None = None,
    solve: SolveParams | None = None,
    solver: RouteSolver | None = None,
    source: MatrixSource | None = None,
    cache: MatrixCache | None = None,
) -> tuple[RoutePlan, RoutingProblem]:
    """The day's plan and the problem it was checked against."""
    began = time.perf_counter()
    solve = solve or SolveParams()
    solver = solver or PlanPipeline()
    problem, pre_dropped = build_problem(
        request.orders,
        request.crews,
        day=request.day,
        tz=request.tz,
        params=params,
        source=source,
        cache=cache,
        now=request.now,
        positions=request.positions,
        locked=request.locked,
    )
    built = time.perf_counter()
    budget = max(0.1, REPAIR_SHARE * solve.time_limit_s)
    # a re-plan searches from the routes crews already have (kept feasible)
    before = warm_routes(problem, request.warm_start) if request.warm_start else None
    kept = lunch_feasible(problem, before) if before is not None else None
    solution = solver.solve(
        problem, replace(solve, time_limit_s=max(0.1, solve.time_limit_s - budget)), initial=kept
    )
    fixed = repair(
        problem,
        [list(r) for r in solution.routes],
        list(solution.break_after),
        time_budget_s=budget,
    )
    # the search's last seconds can leave costly placements (measured: up to 0.5 h of
    # driving on a 200-stop day); move single stops while that lowers the cost, then
    # insert again what the shorter routes now have room for
    fixed, shortened = relocate_and_refill(
        problem,
        fixed,
        time_budget_s=max(0.05, budget - fixed.wall_s),
        home=None if before is None else {i: k for k, r in enumerate(before) for i in r},
    )
    stats = replace(
        _stats(problem, solution, fixed, built - began),
        relocated=shortened.moved,
        relocate_saved_s=shortened.saved_s,
        relocate_s=round(shortened.wall_s, 3),
    )
    if kept is not None and before is not None:
        # the routes crews already have with new work inserted where it fits: used unless
        # the search beats it by more than the jobs it moves between crews cost, so a
        # re-plan never makes the day worse than "keep going and squeeze in the urgent
        # job", nor reshuffles crews for a few minutes of driving
        patched = repair(problem, kept, [None] * len(kept), time_budget_s=budget)
        moved = jobs_moved(before, fixed.routes)
        stats = replace(
            stats,
            baseline_travel_s=sum(
                best_timeline(problem, k, r, patched.break_after[k]).travel_s
                for k, r in enumerate(patched.routes)
            ),
            baseline_served=sum(len(r) for r in patched.routes),
            search_moved_from_kept=moved,
            move_cost_s=problem.params.move_cost_s,
        )
        if prefer_kept(problem, patched.routes, fixed.routes, moved=moved):
            fixed = patched
            # the search's routes, relocated or not, were not used
            stats = replace(
                stats, kept_routes=True, relocated=0, relocate_saved_s=0, relocate_s=0.0
            )
    dropped = explain_dropped(problem, fixed.routes, fixed.dropped, untried=fixed.untried)
    locked_jobs = {s.job_id for s in request.locked}
    routes = tuple(
        assemble_route(problem, k, fixed.routes[k], fixed.break_after[k], locked_jobs)
        for k in range(len(problem.vehicles))
    )
    plan = RoutePlan(
        plan_date=request.day,
        routes=routes,
        dropped=tuple(pre_dropped + dropped),
        solver=solution.solver,
        created_at=request.created_at or request.now,
        stats=stats,
    )
    violations = check_plan(problem, plan)
    stats = replace(plan.stats, total_s=round(time.perf_counter() - began, 3))
    return replace(plan, violations=tuple(violations), stats=stats), problem


def jobs_moved(before: Sequence[Sequence[int]], after: Sequence[Sequence[int]]) -> int:
    """Visits on a route in both that ``after`` puts on another vehicle than ``before``."""
    crew_before = {i: k for k, route in enumerate(before) for i in route}
    return sum(1 for k, route in enumerate(after) for i in route if crew_before.get(i, k) != k)


def prefer_kept(
    problem: RoutingProblem,
    kept: Sequence[Sequence[int]],
    fresh: Sequence[Sequence[int]],
    *,
    moved: int,
) -> bool:
    """True when a re-plan should keep the crews' routes (with new work squeezed in).

    ``fresh`` wins only when its cost beats ``kept``'s by more than
    ``PlanParams.move_cost_s`` for each of the ``moved`` jobs it hands to another crew.
    """
    churn = problem.params.move_cost_s * moved
    return plan_cost(problem, kept) <= plan_cost(problem, fresh) + churn


def warm_routes(problem: RoutingProblem, warm: Mapping[str, Sequence[int]]) -> list[list[int]]:
    """A warm start as visit indices per vehicle (unknown jobs and crews are skipped)."""
    visit_of_job = {v.order.job_id: i for i, v in enumerate(problem.visits)}
    out = []
    for veh in problem.vehicles:
        jobs = warm.get(veh.crew.code, ())
        out.append([visit_of_job[j] for j in jobs if j in visit_of_job])
    return out


def assemble_route(
    problem: RoutingProblem,
    vehicle: int,
    visits: Sequence[int],
    hint: int | None,
    locked_jobs: set[int],
) -> CrewRoute:
    """A crew's route with times from the forward pass."""
    veh = problem.vehicles[vehicle]
    timeline: Timeline = best_timeline(problem, vehicle, visits, hint)
    stops = []
    for pos, i in enumerate(visits):
        visit = problem.visits[i]
        late = 0
        if visit.order.due_at is not None:
            late = max(0, timeline.depart[pos] - problem.seconds_of(visit.order.due_at))
        stops.append(
            PlannedStop(
                order=visit.order,
                sequence=pos + 1,
                arrive_at=problem.at(timeline.arrive[pos]),
                eta=problem.at(timeline.start[pos]),
                departs_at=problem.at(timeline.depart[pos]),
                travel_s=timeline.travel[pos],
                wait_s=timeline.start[pos] - timeline.arrive[pos],
                service_s=visit.service_s,
                late_s=late,
                locked=visit.order.job_id in locked_jobs,
            )
        )
    start_lon, start_lat = problem.points[veh.start_loc]
    return CrewRoute(
        crew=veh.crew,
        stops=tuple(stops),
        starts_at=problem.at(veh.start_s),
        ends_at=problem.at(timeline.end_s),
        start_lon=float(start_lon),
        start_lat=float(start_lat),
        return_travel_s=timeline.return_travel,
        break_start=None if timeline.break_start is None else problem.at(timeline.break_start),
        break_after=timeline.break_after if veh.has_break else 0,
    )


def _stats(
    problem: RoutingProblem, solution: Solution, fixed: RepairResult, build_s: float
) -> PlanStats:
    return PlanStats(
        jobs_considered=len(problem.visits),
        crews=len(problem.vehicles),
        objective=solution.objective,
        solver_status=solution.status,
        stages=solution.stages,
        solve_s=round(solution.wall_s, 3),
        build_s=round(build_s, 3),
        repair_inserted=fixed.inserted,
        repair_swapped=fixed.swapped,
        repair_s=round(fixed.wall_s, 3),
    )
