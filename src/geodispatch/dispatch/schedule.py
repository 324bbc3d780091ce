"""Times along one crew's route, recomputed from the order of stops alone.

Given a vehicle, its visits in order and where lunch falls (after how many stops), the
forward pass gives every stop its earliest arrival, start of service and departure:
crews leave at shift start, drive, wait for an appointment window when early, and take
lunch in the chosen leg as early as its window allows (mid-drive counts: drive, eat,
drive on). Nothing here comes from a solver, which is what lets the checker and the
repair step trust it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from geodispatch.dispatch.problem import RoutingProblem, Vehicle


@dataclass(slots=True)
class Timeline:
    """Earliest times along one route, and every rule it breaks (empty when feasible)."""

    arrive: list[int] = field(default_factory=list)
    start: list[int] = field(default_factory=list)
    depart: list[int] = field(default_factory=list)
    travel: list[int] = field(default_factory=list)  # leg into each stop
    return_travel: int = 0
    end_s: int = 0
    start_s: int = 0
    break_start: int | None = None
    break_after: int = 0
    problems: list[tuple[str, int | None, str]] = field(default_factory=list)

    @property
    def feasible(self) -> bool:
        """True when the route breaks no rule."""
        return not self.problems

    @property
    def travel_s(self) -> int:
        """Driving seconds including the return leg."""
        return sum(self.travel) + self.return_travel


def simulate(
    problem: RoutingProblem, vehicle: int, visits: Sequence[int], break_after: int = 0
) -> Timeline:
    """Forward pass over ``visits`` (indices into ``problem.visits``) for ``vehicle``."""
    veh = problem.vehicles[vehicle]
    out = Timeline(start_s=veh.start_s, break_after=break_after)
    travel = problem.travel
    t, loc = veh.start_s, veh.start_loc
    n = len(visits)
    if veh.has_break and not 0 <= break_after <= n:
        out.problems.append(("break", None, f"lunch placed after stop {break_after} of {n}"))
    for k in range(n + 1):
        nxt = problem.visits[visits[k]].loc if k < n else veh.end_loc
        leg = int(travel[loc, nxt])
        arrive = t + leg
        if veh.has_break and k == break_after:
            arrive = _with_break(out, veh, t, leg)
        if k == n:
            out.return_travel = leg
            out.end_s = arrive
            if arrive > veh.end_s:
                out.problems.append(
                    ("shift_end", None, f"back at the yard {arrive - veh.end_s} s after shift end")
                )
            break
        visit = problem.visits[visits[k]]
        begin = max(arrive, visit.ready_s)
        if begin > visit.latest_s:
            out.problems.append(
                ("window", visit.order.job_id, f"starts {begin - visit.latest_s} s after window")
            )
        out.arrive.append(arrive)
        out.start.append(begin)
        out.depart.append(begin + visit.service_s)
        out.travel.append(leg)
        t, loc = begin + visit.service_s, visit.loc
    if veh.max_jobs is not None and n > veh.max_jobs:
        out.problems.append(("max_jobs", None, f"{n} stops, cap {veh.max_jobs}"))
    load = sum(problem.visits[i].demand for i in visits)
    if veh.capacity is not None and load > veh.capacity:
        out.problems.append(("capacity", None, f"load {load}, capacity {veh.capacity}"))
    return out


def _with_break(out: Timeline, veh: Vehicle, depart: int, leg: int) -> int:
    """Arrival after a leg that holds lunch: break at max(depart, window open)."""
    assert veh.break_earliest_s is not None
    assert veh.break_latest_s is not None
    begin = max(depart, veh.break_earliest_s)
    if begin > veh.break_latest_s:
        out.problems.append(
            ("break", None, f"lunch can start only {begin - veh.break_latest_s} s after its window")
        )
    out.break_start = begin
    return max(depart + leg, begin) + veh.break_s


def best_timeline(
    problem: RoutingProblem, vehicle: int, visits: Sequence[int], hint: int | None = None
) -> Timeline:
    """The feasible timeline with lunch in the leg that ends the day earliest.

    Tries ``hint`` first and keeps it when feasible (a solver's own placement); otherwise
    every leg. Without a feasible placement, returns the one breaking the fewest rules.
    """
    if not problem.vehicles[vehicle].has_break:
        return simulate(problem, vehicle, visits)
    if hint is not None and 0 <= hint <= len(visits):
        first = simulate(problem, vehicle, visits, hint)
        if first.feasible:
            return first
    best: Timeline | None = None
    for b in range(len(visits) + 1):
        cand = simulate(problem, vehicle, visits, b)
        if best is None or (len(cand.problems), cand.end_s) < (len(best.problems), best.end_s):
            best = cand
    assert best is not None
    return best


_NEVER = -(10**12)


def _arrive(veh: Vehicle, depart: int, leg: int, *, lunch: bool) -> tuple[int, bool]:
    """Arrival after a leg, and whether lunch (if held in this leg) starts in its window."""
    if not lunch:
        return depart + leg, True
    assert veh.break_earliest_s is not None
    assert veh.break_latest_s is not None
    begin = max(depart, veh.break_earliest_s)
    return max(depart + leg, begin) + veh.break_s, begin <= veh.break_latest_s


def _latest_depart(veh: Vehicle, latest_arrival: int, leg: int, *, lunch: bool) -> int:
    """Latest departure that still arrives by ``latest_arrival`` (lunch in the leg or not)."""
    if not lunch:
        return latest_arrival - leg
    assert veh.break_earliest_s is not None
    assert veh.break_latest_s is not None
    if veh.break_earliest_s + veh.break_s > latest_arrival:
        return _NEVER
    return min(latest_arrival - leg - veh.break_s, veh.break_latest_s)


class RouteSlack:
    """Earliest departures and latest starts along a route, for O(1) insertion checks.

    Nodes are 0 (start), 1..n (stops), n+1 (end); leg ℓ runs from node ℓ-1 to node ℓ and
    holds lunch when ``break_after == ℓ - 1``. ``depart[ℓ]`` is the earliest departure
    from node ℓ; ``latest[ℓ]`` the latest start of service at node ℓ (latest arrival for
    the end) that keeps the rest of the route feasible.
    """

    def __init__(
        self, problem: RoutingProblem, vehicle: int, visits: Sequence[int], break_after: int
    ) -> None:
        self.problem = problem
        self.vehicle = vehicle
        self.visits = list(visits)
        veh = problem.vehicles[vehicle]
        self.veh = veh
        self.lunch = break_after if veh.has_break else -1
        n = len(self.visits)
        locs = [veh.start_loc, *(problem.visits[i].loc for i in self.visits), veh.end_loc]
        self.locs = locs
        travel = problem.travel
        self.depart = [veh.start_s] * (n + 1)
        self.ok = True
        for node in range(1, n + 1):
            visit = problem.visits[self.visits[node - 1]]
            arrive, ok = _arrive(
                veh,
                self.depart[node - 1],
                int(travel[locs[node - 1], locs[node]]),
                lunch=self.lunch == node - 1,
            )
            begin = max(arrive, visit.ready_s)
            self.ok = self.ok and ok and begin <= visit.latest_s
            self.depart[node] = begin + visit.service_s
        self.latest = [0] * (n + 2)
        self.latest[n + 1] = veh.end_s
        for node in range(n, -1, -1):
            leave = _latest_depart(
                veh,
                self.latest[node + 1],
                int(travel[locs[node], locs[node + 1]]),
                lunch=self.lunch == node,
            )
            if node == 0:
                self.latest[0] = leave
                break
            visit = problem.visits[self.visits[node - 1]]
            last = min(visit.latest_s, leave - visit.service_s)
            self.latest[node] = last if visit.ready_s <= last else _NEVER
        self.ok = self.ok and veh.start_s <= self.latest[0]
        if veh.max_jobs is not None and n > veh.max_jobs:
            self.ok = False
        self.load = sum(problem.visits[i].demand for i in self.visits)
        if veh.capacity is not None and self.load > veh.capacity:
            self.ok = False

    def insert_at(self, visit: int, pos: int) -> tuple[int, int] | None:
        """(added travel, new break_after) for ``visit`` before stop ``pos``, or None."""
        veh, problem, travel = self.veh, self.problem, self.problem.travel
        if veh.max_jobs is not None and len(self.visits) >= veh.max_jobs:
            return None
        v = problem.visits[visit]
        if veh.capacity is not None and self.load + v.demand > veh.capacity:
            return None
        a, b = self.locs[pos], self.locs[pos + 1]
        t1, t2 = int(travel[a, v.loc]), int(travel[v.loc, b])
        added = t1 + t2 - int(travel[a, b])
        options = [(False, False)]
        if self.lunch == pos:
            options = [(True, False), (False, True)]
        for first, second in options:
            arrive, ok1 = _arrive(veh, self.depart[pos], t1, lunch=first)
            begin = max(arrive, v.ready_s)
            if not ok1 or begin > v.latest_s:
                continue
            arrive_next, ok2 = _arrive(veh, begin + v.service_s, t2, lunch=second)
            if ok2 and arrive_next <= self.latest[pos + 1]:
                lunch = self.lunch
                if self.lunch > pos or (self.lunch == pos and second):
                    lunch = self.lunch + 1
                return added, max(lunch, 0)
        return None

    def best_insertion(self, visit: int) -> tuple[int, int, int] | None:
        """Cheapest feasible (added travel, position, break_after) for ``visit``."""
        if not self.ok:
            return None
        best: tuple[int, int, int] | None = None
        for pos in range(len(self.visits) + 1):
            found = self.insert_at(visit, pos)
            if found is not None and (best is None or found[0] < best[0]):
                best = (found[0], pos, found[1])
        return best


def lunch_feasible(problem: RoutingProblem, routes: Sequence[Sequence[int]]) -> list[list[int]]:
    """Routes that fit their crew's day: least valuable stops removed until each route fits."""
    out = []
    for k, route in enumerate(routes):
        current = list(route)
        while current and not best_timeline(problem, k, current).feasible:
            options = []
            for pos in range(len(current)):
                trial = current[:pos] + current[pos + 1 :]
                if best_timeline(problem, k, trial).feasible:
                    options.append((problem.visits[current[pos]].weight, pos))
            current.pop(min(options)[1] if options else len(current) - 1)
        out.append(current)
    return out


def route_cost(problem: RoutingProblem, visits: Sequence[int], timeline: Timeline) -> int:
    """One route's share of the model's objective: driving plus soft SLA lateness cost.

    Each second past a same-day SLA due time costs the visit's ``sla_coefficient``, as
    OR-Tools' soft upper bound on the visit's start does.
    """
    late = 0
    for pos, i in enumerate(visits):
        visit = problem.visits[i]
        if visit.due_s is not None and visit.sla_coefficient > 0:
            late += visit.sla_coefficient * max(0, timeline.start[pos] - visit.due_s)
    return timeline.travel_s + late


def route_end(
    problem: RoutingProblem, vehicle: int, visits: Sequence[int], timeline: Timeline
) -> int:
    """When a route ends: back at the yard, or its shift start when it has no stops."""
    return timeline.end_s if visits else problem.vehicles[vehicle].start_s


#: What leaving out a mandatory visit (negative penalty: benchmark instances) costs in
#: :func:`plan_cost`: more than any plan's driving, so no comparison prefers it.
MANDATORY_DROP = 10**12


def plan_cost(problem: RoutingProblem, routes: Sequence[Sequence[int]]) -> int:
    """The model's objective recomputed from the routes.

    Driving seconds, SLA lateness cost, the penalty of every drop, and the balance term
    when it is on (its coefficient times the span from the first shift start to the
    last crew back).
    """
    served = {i for r in routes for i in r}
    cost = sum(
        v.penalty if v.penalty >= 0 else MANDATORY_DROP
        for i, v in enumerate(problem.visits)
        if i not in served
    )
    last_back = 0
    for k, route in enumerate(routes):
        timeline = best_timeline(problem, k, route)
        cost += route_cost(problem, route, timeline)
        last_back = max(last_back, route_end(problem, k, route, timeline))
    balance = problem.params.balance_coefficient
    if balance > 0 and problem.vehicles:
        cost += balance * (last_back - min(v.start_s for v in problem.vehicles))
    return cost
