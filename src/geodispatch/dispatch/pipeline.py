"""How the route search runs: the stage order and one time budget, in this one file.

A plan is made by :func:`geodispatch.dispatch.planner.plan_routes` in this order:

1. build the integer problem (``build.build_problem``: work orders, crews, travel matrix,
   jobs no crew can serve taken out with their reason);
2. search routes: :class:`PlanPipeline` below, for ``SolveParams.time_limit_s`` less the
   planner's repair share (``planner.REPAIR_SHARE``, 10 %);
3. repair (insert what still fits, swap for less urgent work) and relocate single stops
   while that lowers the cost (``repair``);
4. in a re-plan, keep the crews' routes with the new work squeezed in unless the search
   beats them by more than the jobs it moves cost (``planner.prefer_kept``);
5. explain every job left out (``reasons``), time every stop with the forward pass and
   check the plan independently (``schedule``, ``checker``).

The search itself (step 2) is three stages, each behind the :class:`RouteSolver`
interface or a function of one solver:

* :class:`PyVrpSolver`: PyVRP's iterated local search picks the jobs and builds routes
  (``SolveParams.shares``: 45 % of the search time when the day's work fits the crews'
  hours, 65 % when it is over-booked); in a re-plan it starts from the crews' routes;
* :class:`~geodispatch.dispatch.ortools_solver.OrToolsSolver.polish`: OR-Tools' full
  model (lunch windows, SLA bounds, locks, balance) loads those routes and improves them
  in its share of what is left;
* :func:`shorten`: on a fresh plan whose work fits, PyVRP shortens OR-Tools' routes with
  the served jobs fixed, in the rest of the time; kept only when it lowers the cost.

With ``SolveParams(warm_start="none")`` OR-Tools searches alone.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace

from geodispatch.dispatch.ortools_solver import OrToolsSolver
from geodispatch.dispatch.problem import RoutingProblem, routable_stops, work_load
from geodispatch.dispatch.pyvrp_start import (
    PyVrpParams,
    default_workers,
    pyvrp_tighten,
    pyvrp_warm_start,
)
from geodispatch.dispatch.schedule import plan_cost
from geodispatch.dispatch.solver import Solution, SolveParams, Stage


class PyVrpSolver:
    """:class:`RouteSolver` backed by PyVRP: routes within ``params.time_limit_s``.

    Several searches with different seeds run side by side (``params.pyvrp_workers``, or
    by the day's size, :func:`~geodispatch.dispatch.pyvrp_start.default_workers`); the one
    whose routes cost least once lunch is placed is kept.
    """

    name = "pyvrp"

    def solve(
        self,
        problem: RoutingProblem,
        params: SolveParams,
        *,
        initial: Sequence[Sequence[int]] | None = None,
    ) -> Solution:
        """PyVRP's routes, from ``initial`` when given (the crews' routes in a re-plan)."""
        settings = self.settings(problem, params)
        start = pyvrp_warm_start(problem, settings, initial=initial)
        cost = plan_cost(problem, start.routes)
        searches = f"best of {len(start.costs)} searches; " if len(start.costs) > 1 else ""
        stage = Stage(
            "pyvrp",
            round(start.wall_s, 3),
            cost,
            f"{searches}removed {start.removed_skill} on a wrong crew, "
            f"{start.removed_lunch} for lunch",
        )
        return Solution(
            routes=tuple(tuple(r) for r in start.routes),
            break_after=tuple(None for _ in start.routes),
            objective=cost,
            status="pyvrp",
            wall_s=start.wall_s,
            solver=self.name,
            stages=(stage,),
        )

    @staticmethod
    def settings(problem: RoutingProblem, params: SolveParams) -> PyVrpParams:
        """PyVRP's settings for a search of ``params.time_limit_s``."""
        workers = params.pyvrp_workers or default_workers(routable_stops(problem))
        return PyVrpParams(time_limit_s=params.time_limit_s, seed=params.seed, workers=workers)


def shorten(
    problem: RoutingProblem, found: Solution, cost: int, settings: PyVrpParams
) -> tuple[Solution, Stage]:
    """``found`` with PyVRP's shorter routes for the same jobs when they cost less."""
    shorter = pyvrp_tighten(problem, found.routes, settings)
    new = plan_cost(problem, shorter.routes)
    stage = Stage(
        "pyvrp-tighten",
        round(shorter.wall_s, 3),
        min(new, cost),
        f"{'kept' if new < cost else 'not kept'}: cost {new} vs {cost} before; "
        f"removed {shorter.removed_lunch} for lunch",
    )
    if new >= cost:
        return found, stage
    kept = replace(
        found,
        routes=shorter.routes,
        break_after=tuple(None for _ in shorter.routes),
        objective=new,
    )
    return kept, stage


class PlanPipeline:
    """The product's route search: PyVRP, then OR-Tools, then PyVRP shortening (see module).

    One budget, ``params.time_limit_s``, split by ``SolveParams.shares``: the first stage
    gets its share; OR-Tools and the shortening stage share what is left in their
    proportion (the first stage's setup can overrun). A re-plan skips the shortening
    stage, which is free to reshuffle crews.
    """

    name = "pyvrp+ortools"

    def __init__(self) -> None:
        self.pyvrp = PyVrpSolver()
        self.ortools = OrToolsSolver()

    def solve(
        self,
        problem: RoutingProblem,
        params: SolveParams,
        *,
        initial: Sequence[Sequence[int]] | None = None,
    ) -> Solution:
        """Routes for ``problem`` within ``params.time_limit_s``; ``initial`` warm-starts."""
        if params.warm_start == "none" or not problem.vehicles or not problem.visits:
            return self.ortools.solve(problem, params, initial=initial)
        began = time.perf_counter()
        fits = work_load(problem) <= 1
        warm, tighten = params.shares(work_fits=fits)
        tighten = tighten if initial is None else 0.0
        first = self.pyvrp.solve(
            problem, replace(params, time_limit_s=params.time_limit_s * warm), initial=initial
        )
        left = params.time_limit_s - (time.perf_counter() - began)
        rest = replace(
            params,
            time_limit_s=max(0.1, left * (1 - warm - tighten) / (1 - warm)),
            make_room_moves=fits if params.make_room_moves is None else params.make_room_moves,
        )
        found = self.ortools.polish(problem, rest, first.routes)
        stages = (*first.stages, *found.stages)
        if tighten > 0:
            left = params.time_limit_s - (time.perf_counter() - began)
            settings = self.pyvrp.settings(problem, replace(params, time_limit_s=max(0.05, left)))
            found, last = shorten(problem, found, stages[-1].cost, settings)
            stages = (*stages, last)
        return replace(found, solver=self.name, wall_s=time.perf_counter() - began, stages=stages)
