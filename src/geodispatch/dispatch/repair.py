"""Repair after the solver: insert every left-out job that still fits, then try swaps.

An anytime solver stopped by its time limit can leave a job out that fits somewhere; a
dispatcher would rightly ask why. The repair inserts each dropped job (most valuable
first) at its cheapest feasible place, then, for a dropped job more urgent than some
served one, tries it in place of each less urgent stop on a capable crew's route (the
removed stop is re-inserted elsewhere when it fits). After this, "capacity ran out" and
"fits in place of no lower-priority job" are facts, not guesses.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from geodispatch.dispatch.problem import RoutingProblem
from geodispatch.dispatch.schedule import RouteSlack, best_timeline


@dataclass(slots=True)
class RepairResult:
    """Routes and lunch placements after repair, with what it changed."""

    routes: list[list[int]]
    break_after: list[int]
    dropped: list[int]
    inserted: int = 0
    swapped: int = 0
    untried: list[int] = field(default_factory=list)
    wall_s: float = 0.0


def repair(
    problem: RoutingProblem,
    routes: list[list[int]],
    hints: list[int | None],
    *,
    time_budget_s: float = 2.0,
) -> RepairResult:
    """Insert dropped visits where they fit, then swap for less urgent ones."""
    began = time.perf_counter()
    routes = [list(r) for r in routes]
    breaks = []
    for k, route in enumerate(routes):
        breaks.append(best_timeline(problem, k, route, hints[k]).break_after)
    served = {i for r in routes for i in r}
    dropped = [i for i in range(len(problem.visits)) if i not in served]
    dropped.sort(key=lambda i: (-problem.visits[i].weight, i))
    result = RepairResult(routes, breaks, [])
    slack = {k: RouteSlack(problem, k, routes[k], breaks[k]) for k in range(len(routes))}

    def try_insert(i: int) -> bool:
        best: tuple[int, int, int, int] | None = None
        for k in problem.visits[i].vehicles:
            found = slack[k].best_insertion(i)
            if found is not None and (best is None or found[0] < best[0]):
                best = (found[0], k, found[1], found[2])
        if best is None:
            return False
        _, k, pos, lunch = best
        trial = [*routes[k][:pos], i, *routes[k][pos:]]
        if not best_timeline(problem, k, trial, lunch).feasible:
            return False
        routes[k] = trial
        breaks[k] = best_timeline(problem, k, trial, lunch).break_after
        slack[k] = RouteSlack(problem, k, routes[k], breaks[k])
        return True

    left: list[int] = []
    for i in dropped:
        if try_insert(i):
            result.inserted += 1
        else:
            left.append(i)

    still: list[int] = []
    for i in left:
        if time.perf_counter() - began > time_budget_s:
            result.untried.append(i)
            still.append(i)
            continue
        visit = problem.visits[i]
        best_swap: tuple[float, int, int, int, int] | None = None  # (gain, k, out_pos, pos, lunch)
        for k in visit.vehicles:
            route = routes[k]
            for out_pos, j in enumerate(route):
                other = problem.visits[j]
                if other.locked_vehicle is not None or other.order.priority <= visit.order.priority:
                    continue
                trial = route[:out_pos] + route[out_pos + 1 :]
                lunch = breaks[k] - 1 if out_pos < breaks[k] else breaks[k]
                found = RouteSlack(problem, k, trial, max(lunch, 0)).best_insertion(i)
                if found is None:
                    continue
                gain = visit.weight - other.weight
                if best_swap is None or gain > best_swap[0]:
                    best_swap = (gain, k, out_pos, found[1], found[2])
        if best_swap is None:
            still.append(i)
            continue
        _, k, out_pos, pos, lunch = best_swap
        removed = routes[k][out_pos]
        trial = routes[k][:out_pos] + routes[k][out_pos + 1 :]
        trial = [*trial[:pos], i, *trial[pos:]]
        timeline = best_timeline(problem, k, trial, lunch)
        if not timeline.feasible:
            still.append(i)
            continue
        routes[k], breaks[k] = trial, timeline.break_after
        slack[k] = RouteSlack(problem, k, routes[k], breaks[k])
        result.swapped += 1
        if not try_insert(removed):
            still.append(removed)
    result.routes, result.break_after = routes, breaks
    result.dropped = sorted(still)
    result.wall_s = time.perf_counter() - began
    return result
