"""The daily routing model in OR-Tools.

* Arc cost = driving seconds, registered as a matrix on the C++ side
  (``RegisterTransitMatrix``; Python callbacks cost ~2.6 gap points, see research).
* Time dimension: transit = service at the origin + travel; waiting allowed; every stop's
  start bounded by its appointment; crews leave no earlier than shift start (or now) and
  are back by shift end.
* Lunch: one fixed-duration break interval per crew inside its window, never during
  service (``SetBreakIntervalsOfVehicle`` with the stops' service times).
* Skills: each stop's vehicle variable is restricted to capable crews
  (``VehicleVar(i).SetValues([-1, ...])``: ``SetAllowedVehiclesForIndex`` raises a
  TypeError in the 9.15 Python wheel).
* Every stop droppable (``AddDisjunction``) with its priority-scaled penalty, so a plan
  always exists; locked stops carry a prohibitive penalty, a fixed crew and their order.
* Same-day SLA: soft upper bound on the start, cost per second late by weight.
* Optional workload balance: global span cost on the time dimension.
* ``max_jobs``: a count dimension with per-crew capacity; truck ``capacity`` likewise.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2
from ortools.util import optional_boolean_pb2

from geodispatch.dispatch.problem import RoutingProblem
from geodispatch.dispatch.schedule import lunch_feasible, plan_cost
from geodispatch.dispatch.solver import (
    Solution,
    SolveParams,
    Stage,
    first_solution_for,
    split_share_for,
)
from geodispatch.domain.errors import PlanningError

_STATUS = {
    0: "not_solved",
    1: "success",
    2: "partial_success_local_optimum_not_reached",
    3: "fail",
    4: "fail_timeout",
    5: "invalid",
    6: "infeasible",
    7: "optimal",
}


class OrToolsModel:
    """One OR-Tools routing model built from a :class:`RoutingProblem`."""

    def __init__(self, problem: RoutingProblem) -> None:
        self.problem = problem
        m = len(problem.visits)
        depot_locs = sorted(
            {v.start_loc for v in problem.vehicles} | {v.end_loc for v in problem.vehicles}
        )
        node_of_loc = {loc: m + k for k, loc in enumerate(depot_locs)}
        self.n_visits = m
        node_loc = np.array([v.loc for v in problem.visits] + depot_locs, dtype=np.int64)
        starts = [node_of_loc[v.start_loc] for v in problem.vehicles]
        ends = [node_of_loc[v.end_loc] for v in problem.vehicles]
        self.manager = pywrapcp.RoutingIndexManager(
            len(node_loc), len(problem.vehicles), starts, ends
        )
        self.routing = pywrapcp.RoutingModel(self.manager)
        routing, manager = self.routing, self.manager

        travel = problem.travel[np.ix_(node_loc, node_loc)]
        service = np.array(
            [v.service_s for v in problem.visits] + [0] * len(depot_locs), dtype=np.int64
        )
        arc = routing.RegisterTransitMatrix(travel.tolist())
        routing.SetArcCostEvaluatorOfAllVehicles(arc)
        transit = routing.RegisterTransitMatrix((travel + service[:, None]).tolist())
        horizon = problem.horizon_s
        routing.AddDimension(transit, horizon, horizon, False, "time")  # noqa: FBT003
        dim = routing.GetDimensionOrDie("time")
        self.time = dim

        all_vehicles = len(problem.vehicles)
        for i, visit in enumerate(problem.visits):
            index = manager.NodeToIndex(i)
            low = max(0, visit.ready_s)  # an impossible locked window is left to the checker
            dim.CumulVar(index).SetRange(low, max(low, visit.latest_s))
            if visit.penalty >= 0:
                routing.AddDisjunction([index], int(visit.penalty))
            if len(visit.vehicles) < all_vehicles:
                routing.VehicleVar(index).SetValues([-1, *visit.vehicles])
            if visit.due_s is not None and visit.sla_coefficient > 0:
                dim.SetCumulVarSoftUpperBound(index, max(0, visit.due_s), visit.sla_coefficient)
        for k, veh in enumerate(problem.vehicles):
            dim.CumulVar(routing.Start(k)).SetRange(veh.start_s, veh.end_s)
            dim.CumulVar(routing.End(k)).SetRange(veh.start_s, veh.end_s)
        # no cumul is handed to OR-Tools' finalizer: our schedule recomputes every time,
        # and with lunch breaks that finalizer failed to complete routes it had just
        # restored (ReadAssignmentFromRoutes, then status FAIL in 0.25 s; measured on
        # the benchmark's 200 / 20 seed 312 day: PyVRP's 20 lunch-feasible routes, each
        # of which loads alone, failed together, and the warm start fell back to the
        # model without lunch windows); without it the same routes load and search
        if any(v.max_jobs is not None for v in problem.vehicles):
            count = routing.RegisterUnaryTransitVector([1] * m + [0] * len(depot_locs))
            caps = [v.max_jobs if v.max_jobs is not None else m + 1 for v in problem.vehicles]
            routing.AddDimensionWithVehicleCapacity(count, 0, caps, True, "jobs")  # noqa: FBT003
        if any(v.capacity is not None for v in problem.vehicles):
            load = routing.RegisterUnaryTransitVector(
                [v.demand for v in problem.visits] + [0] * len(depot_locs)
            )
            most = sum(v.demand for v in problem.visits) + 1
            caps = [v.capacity if v.capacity is not None else most for v in problem.vehicles]
            routing.AddDimensionWithVehicleCapacity(load, 0, caps, True, "load")  # noqa: FBT003
        solver = routing.solver()
        self.breaks: list[object | None] = [None] * len(problem.vehicles)
        if any(v.has_break for v in problem.vehicles):
            visit_transits = [int(service[manager.IndexToNode(i)]) for i in range(routing.Size())]
            for k, veh in enumerate(problem.vehicles):
                if not veh.has_break:
                    continue
                assert veh.break_earliest_s is not None
                assert veh.break_latest_s is not None
                interval = solver.FixedDurationIntervalVar(
                    veh.break_earliest_s,
                    veh.break_latest_s,
                    veh.break_s,
                    False,  # noqa: FBT003
                    f"lunch-{k}",
                )
                dim.SetBreakIntervalsOfVehicle([interval], k, visit_transits)
                self.breaks[k] = interval
        by_vehicle: dict[int, list[tuple[int, int]]] = {}
        for i, visit in enumerate(problem.visits):
            if visit.locked_vehicle is not None and visit.locked_rank is not None:
                by_vehicle.setdefault(visit.locked_vehicle, []).append((visit.locked_rank, i))
        for pins in by_vehicle.values():
            pins.sort()
            for (_, a), (_, b) in itertools.pairwise(pins):
                ia, ib = manager.NodeToIndex(a), manager.NodeToIndex(b)
                solver.Add(dim.CumulVar(ia) < dim.CumulVar(ib))
        if problem.params.balance_coefficient > 0:
            dim.SetGlobalSpanCostCoefficient(problem.params.balance_coefficient)

    def search_parameters(self, params: SolveParams) -> pywrapcp.RoutingSearchParameters:
        """OR-Tools search parameters for ``params``."""
        sp = pywrapcp.DefaultRoutingSearchParameters()
        sp.first_solution_strategy = getattr(
            routing_enums_pb2.FirstSolutionStrategy,
            first_solution_for(params, len(self.problem.visits)),
        )
        sp.local_search_metaheuristic = getattr(
            routing_enums_pb2.LocalSearchMetaheuristic, params.metaheuristic
        )
        sp.guided_local_search_lambda_coefficient = params.gls_lambda
        sp.ls_operator_neighbors_ratio = params.neighbors_ratio
        sp.ls_operator_min_neighbors = params.min_neighbors
        sp.time_limit.FromMilliseconds(max(1, round(params.time_limit_s * 1000)))
        if params.make_room_moves:
            sp.local_search_operators.use_relocate_and_make_active = optional_boolean_pb2.BOOL_TRUE
        sp.log_search = params.log_search
        return sp

    def solve(
        self,
        params: SolveParams,
        *,
        initial: Sequence[Sequence[int]] | None = None,
        cold: bool = True,
    ) -> tuple[pywrapcp.Assignment | None, float]:
        """Run the search; returns the assignment (or None) and the wall time.

        With ``initial`` routes the search starts from them; when OR-Tools cannot
        restore them it searches from scratch (``cold``) or gives up (returns None).
        """
        sp = self.search_parameters(params)
        began = time.perf_counter()
        solution = None
        self.warm_started = False
        if initial is not None:
            self.routing.CloseModelWithParameters(sp)
            routes = [[self.manager.NodeToIndex(i) for i in r] for r in initial]
            # OR-Tools 9.15 restores lunch-feasible routes (ReadAssignmentFromRoutes) but
            # then fails to search from them on tight days with lunch breaks (measured:
            # 1000 stops / 40 crews, routes ending within minutes of the shift; without
            # break intervals the same routes load); callers check ``warm_started``
            start = self.routing.ReadAssignmentFromRoutes(routes, True)  # noqa: FBT003
            if start is not None:
                solution = self.routing.SolveFromAssignmentWithParameters(start, sp)
                self.warm_started = solution is not None
        if solution is None and (initial is None or cold):
            solution = self.routing.SolveWithParameters(sp)
        return solution, time.perf_counter() - began

    def routes(self, solution: pywrapcp.Assignment) -> tuple[tuple[int, ...], ...]:
        """Visit indices per vehicle, in route order."""
        out = []
        for k in range(len(self.problem.vehicles)):
            index = solution.Value(self.routing.NextVar(self.routing.Start(k)))
            route = []
            while not self.routing.IsEnd(index):
                route.append(self.manager.IndexToNode(index))
                index = solution.Value(self.routing.NextVar(index))
            out.append(tuple(route))
        return tuple(out)

    def break_hints(
        self, solution: pywrapcp.Assignment, routes: Sequence[Sequence[int]]
    ) -> tuple[int | None, ...]:
        """How many stops each crew serves before its lunch, as the solver placed it."""
        out: list[int | None] = []
        for k, route in enumerate(routes):
            interval = self.breaks[k]
            if interval is None:
                out.append(None)
                continue
            begin = _interval_start(solution, interval)
            done = 0
            for node in route:
                index = self.manager.NodeToIndex(node)
                if (
                    solution.Min(self.time.CumulVar(index)) + self.problem.visits[node].service_s
                    <= begin
                ):
                    done += 1
            out.append(done)
        return tuple(out)


def _interval_start(solution: pywrapcp.Assignment, interval: object) -> int:
    container = solution.IntervalVarContainer()
    for j in range(container.Size()):
        element = container.Element(j)
        if element.Var().Name() == interval.Name():  # type: ignore[attr-defined]
            return int(element.StartValue())
    return int(interval.StartMin())  # type: ignore[attr-defined]


def relaxed(problem: RoutingProblem) -> RoutingProblem:
    """The problem without lunch windows, each shift shortened by its lunch instead.

    The relaxed model searches much faster; its routes are then made lunch-feasible by
    :func:`lunch_feasible` and polished in the full model.
    """
    vehicles = tuple(
        replace(v, break_earliest_s=None, break_latest_s=None, break_s=0, end_s=v.end_s - v.break_s)
        if v.has_break
        else v
        for v in problem.vehicles
    )
    return replace(problem, vehicles=vehicles)


def _skill_groups(problem: RoutingProblem) -> dict[tuple[int, ...], list[int]]:
    """Visits grouped by their capable crews; empty when every crew can do every visit."""
    if all(len(v.vehicles) == len(problem.vehicles) for v in problem.visits):
        return {}
    groups: dict[tuple[int, ...], list[int]] = {}
    for i, visit in enumerate(problem.visits):
        if visit.locked_vehicle is None:
            groups.setdefault(visit.vehicles, []).append(i)
    return groups


def split_by_skill(problem: RoutingProblem, params: SolveParams) -> list[list[int]]:
    """A first solution built skill by skill: each crew works one skill group's jobs.

    Crews are handed to the groups they can serve, most constrained crew first, each to
    the group whose work (on-site time + 30 % for driving) is least covered so far; then
    every group is solved on its own, without skill restrictions, which OR-Tools does far
    better than the whole day with them (its first solutions with restricted vehicles
    are several times longer). The full model then starts from these routes.
    """
    groups = _skill_groups(problem)
    need = {g: 1.3 * sum(problem.visits[i].service_s for i in m) for g, m in groups.items()}
    covered = dict.fromkeys(groups, 0.0)
    crews_of: dict[tuple[int, ...], list[int]] = {g: [] for g in groups}
    order = sorted(range(len(problem.vehicles)), key=lambda k: sum(k in g for g in groups))
    for k in order:
        options = [g for g in groups if k in g]
        if not options:
            continue
        g = max(options, key=lambda g: (need[g] - covered[g]) / max(need[g], 1.0))
        crews_of[g].append(k)
        veh = problem.vehicles[k]
        covered[g] += veh.end_s - veh.start_s - veh.break_s
    routes: list[list[int]] = [[] for _ in problem.vehicles]
    total = sum(len(m) for m in groups.values())
    for g, members in groups.items():
        crews = crews_of[g]
        if not crews:
            continue
        every = tuple(range(len(crews)))
        sub = replace(
            problem,
            visits=tuple(replace(problem.visits[i], vehicles=every) for i in members),
            vehicles=tuple(problem.vehicles[k] for k in crews),
        )
        limit = max(0.05, params.time_limit_s * len(members) / total)
        model = OrToolsModel(sub)
        solution, _ = model.solve(replace(params, time_limit_s=limit, split_share=0.0))
        if solution is None:
            continue
        for n, route in enumerate(model.routes(solution)):
            routes[crews[n]] = [members[i] for i in route]
    return routes


class OrToolsSolver:
    """:class:`RouteSolver` backed by OR-Tools' routing library alone.

    It searches from ``initial`` when given (:meth:`polish` loads routes another stage
    built). Without it, and with ``params.relaxed_share`` > 0 and crews with lunch, the
    search runs in two phases: first the relaxed model (no lunch windows, shifts shortened
    by the lunch) for that share of the time, then the full model warm-started from its
    routes; a large day with several skill groups is first routed group by group
    (``params.split_share``). The product's stage order (PyVRP, then OR-Tools, then PyVRP
    shortening) is :class:`~geodispatch.dispatch.pipeline.PlanPipeline`'s.
    """

    name = "ortools"

    def solve(
        self,
        problem: RoutingProblem,
        params: SolveParams,
        *,
        initial: Sequence[Sequence[int]] | None = None,
    ) -> Solution:
        """Build the model, search within the time limit, return routes and lunch hints."""
        if not problem.vehicles or not problem.visits:
            empty = tuple(() for _ in problem.vehicles)
            return Solution(
                empty, tuple(None for _ in problem.vehicles), 0, "trivial", 0.0, self.name
            )
        split = split_share_for(params, len(problem.visits))
        if initial is None and split > 0 and _skill_groups(problem):
            began = time.perf_counter()
            seed = split_by_skill(
                problem, replace(params, time_limit_s=params.time_limit_s * split)
            )
            rest = replace(
                params, time_limit_s=max(0.1, params.time_limit_s - (time.perf_counter() - began))
            )
            try:
                found: Solution | None = self._once(problem, rest, initial=seed)
            except PlanningError:
                found = None  # the split used up the time: its routes stand
            seed_cost = plan_cost(problem, seed)
            if (
                found is None
                or found.status == "cold"
                or seed_cost < plan_cost(problem, found.routes)
            ):
                # the warm start could not be restored: keep the seed (repair completes it)
                note = (
                    "the full model found no plan in the time left"
                    if found is None
                    else "the full model did not improve them"
                )
                found = Solution(
                    routes=tuple(tuple(r) for r in seed),
                    break_after=tuple(None for _ in seed),
                    objective=seed_cost,
                    status="split",
                    wall_s=0.0,
                    solver=self.name,
                    stages=(
                        Stage(
                            "split",
                            round(time.perf_counter() - began, 3),
                            seed_cost,
                            f"routes built skill group by skill group kept: {note}",
                        ),
                    ),
                )
            return replace(found, wall_s=time.perf_counter() - began)
        share = params.relaxed_share
        if initial is None and share > 0 and any(v.has_break for v in problem.vehicles):
            first = self._once(
                relaxed(problem), replace(params, time_limit_s=params.time_limit_s * share)
            )
            rest = replace(params, time_limit_s=params.time_limit_s * (1 - share))
            second = self._once(problem, rest, initial=lunch_feasible(problem, first.routes))
            return replace(second, wall_s=first.wall_s + second.wall_s)
        return self._once(problem, params, initial=initial)

    def polish(
        self, problem: RoutingProblem, params: SolveParams, routes: Sequence[Sequence[int]]
    ) -> Solution:
        """OR-Tools' search started from ``routes`` (which must fit their crews' days).

        The full model (lunch breaks, SLA bounds, balance, locks) loads the routes and
        improves them; its result replaces them only by a better objective. When OR-Tools
        cannot search from them (see :meth:`OrToolsModel.solve`), the model without
        lunch windows (shifts shortened by the lunch) does, and its routes are made
        lunch-feasible by our schedule; if that does not beat the input, the input stays.
        """
        began = time.perf_counter()
        model = OrToolsModel(problem)
        solution, _ = model.solve(params, initial=routes, cold=False)
        if solution is not None:
            out = model.routes(solution)
            return Solution(
                routes=out,
                break_after=model.break_hints(solution, out),
                objective=int(solution.ObjectiveValue()),
                status="warm:" + _STATUS.get(model.routing.status(), str(model.routing.status())),
                wall_s=time.perf_counter() - began,
                solver=self.name,
                stages=(
                    Stage(
                        "ortools", round(time.perf_counter() - began, 3), plan_cost(problem, out)
                    ),
                ),
            )
        kept = [list(r) for r in routes]
        status = "warm:not_restored"
        note = "full model could not search from the routes"
        if any(v.has_break for v in problem.vehicles):
            easy = relaxed(problem)
            left = max(0.1, params.time_limit_s - (time.perf_counter() - began))
            loose = OrToolsModel(easy)
            found, _ = loose.solve(
                replace(params, time_limit_s=left),
                initial=lunch_feasible(easy, routes),
                cold=False,
            )
            if found is not None:
                better = lunch_feasible(problem, loose.routes(found))
                note += "; searched without lunch windows, lunch placed by our schedule"
                if plan_cost(problem, better) < plan_cost(problem, kept):
                    kept, status = better, "warm:relaxed"
        return Solution(
            routes=tuple(tuple(r) for r in kept),
            break_after=tuple(None for _ in kept),
            objective=plan_cost(problem, kept),
            status=status,
            wall_s=time.perf_counter() - began,
            solver=self.name,
            stages=(
                Stage(
                    "ortools", round(time.perf_counter() - began, 3), plan_cost(problem, kept), note
                ),
            ),
        )

    def _once(
        self,
        problem: RoutingProblem,
        params: SolveParams,
        *,
        initial: Sequence[Sequence[int]] | None = None,
    ) -> Solution:
        model = OrToolsModel(problem)
        solution, wall = model.solve(params, initial=initial)
        if solution is None:
            status = _STATUS.get(model.routing.status(), str(model.routing.status()))
            raise PlanningError(
                f"OR-Tools found no plan ({status}) in {params.time_limit_s:g} s; every stop is "
                "optional, so this points at a crew whose shift or lunch cannot fit at all"
            )
        routes = model.routes(solution)
        return Solution(
            routes=routes,
            break_after=model.break_hints(solution, routes),
            objective=int(solution.ObjectiveValue()),
            status="cold"
            if initial is not None and not model.warm_started
            else _STATUS.get(model.routing.status(), str(model.routing.status())),
            wall_s=wall,
            solver=self.name,
        )
