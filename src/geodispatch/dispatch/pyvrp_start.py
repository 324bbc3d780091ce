"""A warm start from PyVRP's iterated local search, for the OR-Tools model to finish.

PyVRP (``pyvrp``, 0.14) finds much shorter routes than OR-Tools in the same seconds on
plain time-window problems (``../shared/research/routing.md``), but it does not model
everything a dispatcher's day has. This module maps what maps cleanly and approximates
the rest; OR-Tools (:mod:`geodispatch.dispatch.ortools_solver`) then owns the full model
and improves or rejects the result, and the independent checker re-checks every plan.

What maps cleanly:

* one PyVRP location per visit and per crew start/end point, distances and durations
  from the same integer travel matrix (driving seconds: the same arc cost as ours);
* one vehicle type per crew: its start and end points as depots, its shift as the
  vehicle's time window;
* appointment windows and shift bounds as client time windows, on-site time as the
  service duration;
* every visit optional with its drop penalty as prize (priority × callers × age), a
  mandatory visit (benchmark instances) as a required client;
* ``max_jobs`` and truck capacity as load dimensions.

What is approximated:

* skills and locked crews: PyVRP 0.14 has no client-to-vehicle restriction; each crew
  gets the routing profile of its set of allowed visits, in which every arc into a
  visit outside the set is prohibitively long (PyVRP's documented way to model access
  restrictions). Such a visit on a wrong crew is removed afterwards;
* lunch: PyVRP has no breaks, so each crew's shift ends ``break_s`` earlier (the lunch
  may still overlap waiting in OR-Tools and our schedule, which is what the next stage
  exploits); routes that do not fit once lunch is placed lose their least valuable
  stops (:func:`~geodispatch.dispatch.schedule.lunch_feasible`);
* locked stop order: locked stops are put back in their order in the slots they took;
* same-day SLA soft bounds and the workload-balance term are left to OR-Tools.

A day whose crews leave from several yards is first solved yard by yard
(:func:`yard_parts`), and the whole day then starts from the joined routes: PyVRP's
search on a whole day with skills stalls far from good routes, a yard's part does not.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import numpy as np
import pyvrp
from pyvrp import PenaltyParams
from pyvrp.exceptions import PenaltyBoundWarning
from scipy.optimize import linear_sum_assignment

from geodispatch.dispatch.problem import RoutingProblem, Visit
from geodispatch.dispatch.repair import repair
from geodispatch.dispatch.schedule import best_timeline, lunch_feasible, plan_cost
from geodispatch.domain.errors import InputError

#: PyVRP's penalty cap when every visit is optional (see :class:`PyVrpParams`).
OPTIONAL_MAX_PENALTY = 1000.0

#: Seconds :func:`pyvrp_tighten` gives repair to put back a stop lunch pushed out.
REFILL_S = 0.05

#: Searches run side by side at most (see :class:`PyVrpParams`).
MAX_WORKERS = 4

#: Days whose routes hold more stops than this get one PyVRP search per core, not two
#: (see :func:`default_workers`).
SMALL_DAY_STOPS = 150


def default_workers(stops: float = 0) -> int:
    """PyVRP searches to run side by side on a day whose routes hold ``stops``, at most 4.

    ``stops`` is about what the crews can serve
    (:func:`~geodispatch.dispatch.problem.routable_stops`). Two searches per core this
    process may use up to :data:`SMALL_DAY_STOPS`, one per core above: a small day's
    search stalls at a seed-dependent plan within seconds, so more seeds with less time
    each find a better start; a larger day's search still improves when its time ends.
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    per_core = 2 if stops <= SMALL_DAY_STOPS else 1
    return max(1, min(MAX_WORKERS, per_core * cores))


@dataclass(frozen=True, slots=True)
class PyVrpParams:
    """How the PyVRP stage searches.

    ``seed`` makes the search repeatable for equal time (with a time limit the number of
    iterations, hence the result, still depends on machine load). ``runs`` splits the
    time over that many searches with consecutive seeds and keeps the best.
    ``coordinate_scale`` turns the problem's points into the integer coordinates PyVRP
    uses for its neighbourhood geometry. ``max_penalty`` caps PyVRP's penalty per unit of
    violation: PyVRP starts at half the cap and adapts slowly, so with its default cap a
    search of seconds never lets a route run slightly late, which it needs to move jobs
    between crews; ``None`` picks :data:`OPTIONAL_MAX_PENALTY` when every visit is
    optional (dispatch days) and PyVRP's default when some visit is required.
    ``history_length`` is the late-acceptance history of the iterated local search
    (PyVRP's default suits searches of minutes; a shorter one pays within seconds).
    ``yard_share`` of the time goes first to each yard's part of the day on its own when
    crews leave from two or more yards (:func:`yard_parts`): a whole day with skills
    stalls far from good routes, a yard's part converges in seconds; 0 turns it off.
    ``workers`` searches run side by side in threads (seeds ``seed``, ``seed + 1``…),
    each for the whole time, and the one whose routes cost least in our model (skills and
    lunch applied) is kept. ``min_iterations`` is a floor per search: on a busy machine a
    search runs past its time, up to ``overrun`` × the time, until it has done that many
    iterations (:class:`FlooredRuntime`). The runs behind these defaults:
    ``docs/routing_settings.md``.
    """

    time_limit_s: float = 4.0
    seed: int = 1
    runs: int = 1
    coordinate_scale: float = 1e5
    max_penalty: float | None = None
    history_length: int = 50
    yard_share: float = 0.6
    min_iterations: int = 250
    overrun: float = 2.0
    workers: int = field(default_factory=lambda: default_workers())

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise InputError(f"PyVrpParams.workers must be ≥ 1. Got {self.workers}.")
        if self.min_iterations < 0 or self.overrun < 1:
            raise InputError(
                "PyVrpParams.min_iterations must be ≥ 0 and overrun ≥ 1. Got "
                f"{self.min_iterations} and {self.overrun}."
            )
        if self.runs < 1:
            raise InputError(f"PyVrpParams.runs must be ≥ 1. Got {self.runs}.")
        if self.history_length < 1:
            raise InputError(f"PyVrpParams.history_length must be ≥ 1. Got {self.history_length}.")
        if not 0 <= self.yard_share < 1:
            raise InputError(f"PyVrpParams.yard_share must be in [0, 1). Got {self.yard_share}.")
        if self.max_penalty is not None and self.max_penalty <= 1:
            raise InputError(f"PyVrpParams.max_penalty must be > 1. Got {self.max_penalty}.")
        if not 0 < self.time_limit_s <= 3600:
            raise InputError(
                f"PyVrpParams.time_limit_s must be in (0, 3600] seconds. Got {self.time_limit_s}."
            )


@dataclass(frozen=True, slots=True)
class WarmStart:
    """Routes (visit indices per vehicle) from the PyVRP stage, and what it did."""

    routes: tuple[tuple[int, ...], ...]
    wall_s: float
    feasible: bool  # PyVRP's own verdict on its model (lunch approximated)
    removed_skill: int  # visits PyVRP put on a crew that may not do them
    removed_lunch: int  # visits removed so every route fits with its lunch
    costs: tuple[int, ...] = ()  # each search's routes in our model's cost, seed order


@dataclass(frozen=True, slots=True)
class PyVrpModel:
    """The :class:`RoutingProblem` as PyVRP ``ProblemData``, with the index maps back.

    ``crews_of_type[t]`` are the crews (vehicle indices) PyVRP's vehicle type ``t``
    stands for: crews alike in yard, shift, lunch, caps and allowed visits share one type.
    """

    data: pyvrp.ProblemData
    profiles: int
    crews_of_type: tuple[tuple[int, ...], ...]

    def type_of(self, vehicle: int) -> int:
        """PyVRP's vehicle type of crew ``vehicle``."""
        return next(t for t, crews in enumerate(self.crews_of_type) if vehicle in crews)

    def routes_by_crew(
        self,
        solution: pyvrp.Solution,
        crews: int,
        *,
        before: Sequence[Sequence[int]] | None = None,
    ) -> list[list[int]]:
        """Client indices per crew: each type's routes go to the crews it stands for.

        PyVRP does not tell alike crews apart, so with ``before`` (the routes the
        search started from, per crew) each route goes to the crew whose old route it
        shares most stops with: a re-plan must not report two identical crews'
        unchanged routes as swapped. Without it, routes go to the type's crews in order.
        """
        by_type: list[list[list[int]]] = [[] for _ in self.crews_of_type]
        for route in solution.routes():
            visits = [a.idx for a in route.schedule() if a.type == pyvrp.ActivityType.CLIENT]
            by_type[route.vehicle_type()].append(visits)
        routes: list[list[int]] = [[] for _ in range(crews)]
        for members, found in zip(self.crews_of_type, by_type, strict=True):
            if before is None or len(members) == 1:
                for k, visits in zip(members, found, strict=False):
                    routes[k] = visits
                continue
            found_sets = [set(visits) for visits in found]
            shared = np.array(
                [[len(f.intersection(before[k])) for f in found_sets] for k in members],
                dtype=np.int64,
            ).reshape(len(members), len(found))
            rows, cols = linear_sum_assignment(shared, maximize=True)
            for row, col in zip(rows.tolist(), cols.tolist(), strict=True):
                routes[members[row]] = found[col]
        return routes


def build_data(
    problem: RoutingProblem,
    *,
    coordinate_scale: float = 1e5,
    required: Collection[int] = (),
    windows: Mapping[int, tuple[int, int]] | None = None,
) -> PyVrpModel:
    """PyVRP problem data for ``problem`` (see the module docstring for the mapping).

    ``required`` visits (indices) are required clients without a prize, as is every
    visit with a negative penalty (:func:`pyvrp_tighten` fixes a plan's served set so).
    ``windows`` replaces some visits' windows on PyVRP's clock (by default
    :func:`lunch_clock_window`), e.g. with :func:`route_clock_windows`.
    """
    visits, vehicles = problem.visits, problem.vehicles
    depot_locs = sorted({v.start_loc for v in vehicles} | {v.end_loc for v in vehicles})
    depot_of = {loc: k for k, loc in enumerate(depot_locs)}
    # PyVRP location j: depots first (any order works in 0.14), then one per visit
    locs = np.array(depot_locs + [v.loc for v in visits], dtype=np.int64)
    travel = np.asarray(problem.travel, dtype=np.int64)[np.ix_(locs, locs)]
    points = np.asarray(problem.points, dtype=float)
    locations = []
    for loc in locs.tolist():
        x, y = points[loc] if loc < len(points) else (0.0, 0.0)
        locations.append(
            pyvrp.Location(
                x=round(float(x) * coordinate_scale), y=round(float(y) * coordinate_scale)
            )
        )
    jobs_dim = any(v.max_jobs is not None for v in vehicles)
    load_dim = any(v.capacity is not None for v in vehicles)

    def amounts(count: int, load: int) -> list[int]:
        return ([count] if jobs_dim else []) + ([load] if load_dim else [])

    depots = [pyvrp.Depot(location=k) for k in range(len(depot_locs))]
    clients = []
    for i, v in enumerate(visits):
        early, late = (windows or {}).get(i) or lunch_clock_window(problem, v)
        must = i in required or v.penalty < 0
        clients.append(
            pyvrp.Client(
                location=len(depot_locs) + i,
                delivery=amounts(1, v.demand),
                service_duration=v.service_s,
                tw_early=early,
                tw_late=late,
                prize=0 if must else v.penalty,
                required=must,
            )
        )
    # one routing profile per distinct set of visits a crew may serve (skills, locks)
    allowed_sets: list[frozenset[int]] = []
    profile_of: list[int] = []
    for k in range(len(vehicles)):
        allowed = frozenset(i for i, v in enumerate(visits) if k in v.vehicles)
        if allowed not in allowed_sets:
            allowed_sets.append(allowed)
        profile_of.append(allowed_sets.index(allowed))
    prohibitive = 10 * (int(travel.max(initial=0)) + max((c.prize for c in clients), default=0))
    distances = []
    for allowed in allowed_sets:
        banned = [len(depot_locs) + i for i in range(len(visits)) if i not in allowed]
        dist = travel.copy()
        if banned:
            dist[:, banned] = prohibitive
            np.fill_diagonal(dist, 0)
        distances.append(dist)
    jobs_cap = len(visits) + 1
    load_cap = sum(v.demand for v in visits) + 1
    # crews alike in every respect PyVRP sees share one vehicle type (measured: a 200-stop
    # day's 20 crews are 6 types; fewer types, shorter routes for the same time)
    alike: dict[tuple[int, int, int, int, int, int, int], list[int]] = {}
    for k, veh in enumerate(vehicles):
        key = (
            veh.max_jobs if veh.max_jobs is not None else jobs_cap,
            veh.capacity if veh.capacity is not None else load_cap,
            depot_of[veh.start_loc],
            depot_of[veh.end_loc],
            veh.start_s,
            max(veh.start_s, veh.end_s - veh.break_s),
            profile_of[k],
        )
        alike.setdefault(key, []).append(k)
    types = [
        pyvrp.VehicleType(
            num_available=len(crews),
            capacity=amounts(jobs, load),
            start_depot=start,
            end_depot=end,
            tw_early=early,
            tw_late=late,
            profile=profile,
            name=",".join(vehicles[k].crew.code for k in crews),
        )
        for (jobs, load, start, end, early, late, profile), crews in alike.items()
    ]
    # PyVRP's stubs spell matrices np.ndarray[int], which numpy's typing cannot match
    data = pyvrp.ProblemData(
        locations,
        clients,
        depots,
        types,
        distances,  # type: ignore[arg-type]
        [travel] * len(distances),  # type: ignore[list-item]
    )
    return PyVrpModel(data, len(allowed_sets), tuple(tuple(c) for c in alike.values()))


def day_window(visit: Visit) -> tuple[int, int]:
    """The visit's window as PyVRP takes it: never before the day starts, never empty."""
    return max(0, visit.ready_s), max(0, visit.ready_s, visit.latest_s)


def lunch_clock_window(problem: RoutingProblem, visit: Visit) -> tuple[int, int]:
    """The visit's window on PyVRP's clock, where the crews' lunch has been taken out.

    PyVRP has no breaks, so each crew's day ends ``break_s`` early; on that clock a stop
    served after lunch starts ``break_s`` later in real time. When every crew that may
    serve the visit has the same lunch: a window opening at or after the latest lunch
    start (the stop must come after lunch) moves ``break_s`` earlier, exactly; a window
    that closes after the lunch window opens closes ``break_s`` earlier (safe whether the
    stop comes before or after lunch); one that closes before lunch can start is kept.
    Measured on the seeded 311 days: fewer stops removed when lunch is placed.
    """
    early, late = day_window(visit)
    lunches = {
        (veh.break_earliest_s, veh.break_latest_s, veh.break_s)
        for veh in (problem.vehicles[k] for k in visit.vehicles)
    }
    if len(lunches) != 1:
        return early, late
    ((opens, last_start, length),) = lunches
    if opens is None or last_start is None:
        return early, late
    if early >= last_start:
        return max(0, early - length), max(0, late - length)
    if late > opens:
        return early, max(early, late - length)
    return early, late


def route_clock_windows(
    problem: RoutingProblem, routes: Mapping[int, Sequence[int]]
) -> dict[int, tuple[int, int]]:
    """Windows on PyVRP's lunch-free clock for the stops of ``routes`` where they are.

    ``routes`` maps crews to their visits in order. A stop before its crew's lunch keeps
    its window; one after it has the window moved ``break_s`` earlier, exactly what
    the lunch-free clock needs there. So a route that fits its crew's day with lunch
    fits PyVRP's clock too, including a lunch taken while waiting for an appointment,
    which :func:`lunch_clock_window` (one window for a visit wherever it goes) cannot
    see. The windows hold for the stops where they are now; a stop PyVRP moves across
    lunch may no longer fit, which :func:`~geodispatch.dispatch.schedule.lunch_feasible`
    finds. Routes without lunch, or that break a rule already, are left out.
    """
    out: dict[int, tuple[int, int]] = {}
    for k, route in routes.items():
        veh = problem.vehicles[k]
        if not veh.has_break or not route:
            continue
        line = best_timeline(problem, k, route)
        if not line.feasible:
            continue
        for pos, i in enumerate(route):
            early, late = day_window(problem.visits[i])
            shift = veh.break_s if pos >= line.break_after else 0
            out[i] = (max(0, early - shift), max(0, late - shift))
    return out


def pyvrp_warm_start(
    problem: RoutingProblem,
    params: PyVrpParams,
    *,
    initial: Sequence[Sequence[int]] | None = None,
) -> WarmStart:
    """Routes for ``problem`` from PyVRP, made to fit the full model's rules.

    ``initial`` (visit indices per vehicle, e.g. this morning's routes) seeds PyVRP's
    search. The routes returned respect skills, locked crews and order, shifts with
    lunch, appointment windows, job caps and truck capacity as our schedule computes
    them; only the soft SLA bounds and the balance term are left to the next stage.
    Without ``initial``, a day with crews at several yards first gets routes yard by
    yard (``params.yard_share`` of the time).
    """
    began = time.perf_counter()
    if not problem.visits or not problem.vehicles:
        return WarmStart(
            tuple(() for _ in problem.vehicles),
            0.0,
            feasible=True,
            removed_skill=0,
            removed_lunch=0,
        )
    if initial is None and params.yard_share > 0:
        parts = yard_parts(problem)
        if len(parts) > 1:
            initial = _solve_parts(problem, parts, params)
    model = build_data(problem, coordinate_scale=params.coordinate_scale)
    start = None
    if initial is not None:
        start = pyvrp.Solution(
            model.data,
            [
                pyvrp.Route(model.data, list(r), model.type_of(k))
                for k, r in enumerate(initial)
                if r
            ],
        )
    cap = penalty_cap(problem, params)
    penalties = PenaltyParams() if cap is None else PenaltyParams(max_penalty=cap)
    runs, workers = params.runs, params.workers
    found: list[pyvrp.Solution] = []
    for run in range(runs):
        left = (params.time_limit_s - (time.perf_counter() - began)) / (runs - run)
        seeds = [params.seed + run * workers + w for w in range(workers)]
        found += _searches(model.data, seeds, max(0.01, left), params, penalties, start)
    # the best by our own cost once skills and lunch are applied, not by PyVRP's: its
    # model approximates both (ties keep the first seed, so a result is repeatable)
    return _cheapest_fit([_fitted(problem, model, s, initial) for s in found], began)


def _cheapest_fit(fits: Sequence[_Fitted], began: float) -> WarmStart:
    """The fitted search result that costs least in our model, with every search's cost."""
    best = fits[cheapest([f.cost for f in fits])]
    return WarmStart(
        routes=best.routes,
        wall_s=time.perf_counter() - began,
        feasible=best.feasible,
        removed_skill=best.removed_skill,
        removed_lunch=best.removed_lunch,
        costs=tuple(f.cost for f in fits),
    )


def pyvrp_tighten(
    problem: RoutingProblem, routes: Sequence[Sequence[int]], params: PyVrpParams
) -> WarmStart:
    """The same jobs on shorter routes: PyVRP's search with the served set fixed.

    Every visit on ``routes`` becomes a required client and every other one is left
    out, so PyVRP searches only the order of stops and which crew does them, starting
    from ``routes``. That is the stage after OR-Tools (see
    :class:`~geodispatch.dispatch.pipeline.PlanPipeline`): OR-Tools' short
    pass swaps left-out work in where PyVRP's prize search stalls, but often at a high
    driving cost, and its search with lunch intervals undoes little of it in seconds.
    Without prizes to collect PyVRP shortens routes quickly. Measured on the benchmark's
    200 / 20 seed 312 day, from OR-Tools' routes (199 jobs, 26.4 h of driving): 25.2 h
    after 1.5 s and 24.6 h after 3 s (seed 1), where VROOM drives 25.4 h for 199 jobs.

    A route PyVRP's clock cannot hold with :func:`lunch_clock_window`'s windows (lunch
    taken while waiting for an appointment, say) gets its stops' windows from where
    they are (:func:`route_clock_windows`). Measured on the 200 / 20 seed 312 day, where
    2–6 of 20 routes are such: held back from the search they left the day at
    25.8–26.0 h of driving in 11 of 15 runs (VROOM: 25.4 h); searched with those
    windows, 24.2–25.7 h in all 32 runs, though 5 of them served 198 jobs of 200 (the
    case ``SolveParams.make_room_moves`` is for). A route that still does not fit stays
    as it is with its crew: started from it, PyVRP would rather hand stops to crews
    without the skill (a long detour in its model) than keep the route late. The
    routes returned keep skills, locked order and lunch: a stop that no longer fits
    lunch is left out and put back where it fits cheapest
    (:func:`~geodispatch.dispatch.repair.repair`) before the result is costed, so a
    search is not judged by a dropped job's penalty; ``costs`` are in the whole
    problem's terms.
    """
    began = time.perf_counter()
    part = YardPart(
        tuple(range(len(problem.vehicles))), tuple(sorted({i for r in routes for i in r}))
    )
    sub, model, start_routes = _fixed_set_model(problem, part, routes, params)
    held = _held(model, start_routes)
    clock: dict[int, tuple[int, int]] = {}
    if held:
        clock = route_clock_windows(problem, {k: routes[k] for k in held})
        sub, model, start_routes = _fixed_set_model(problem, part, routes, params, clock)
        held = _held(model, start_routes)
    if held:
        free = tuple(k for k in part.crews if k not in held)
        part = YardPart(free, tuple(sorted(i for k in free for i in routes[k])))
        sub, model, start_routes = _fixed_set_model(problem, part, routes, params, clock)
    if not part.visits:
        kept = tuple(tuple(r) for r in routes)
        return WarmStart(kept, 0.0, feasible=True, removed_skill=0, removed_lunch=0)
    start = pyvrp.Solution(
        model.data,
        [pyvrp.Route(model.data, r, model.type_of(n)) for n, r in enumerate(start_routes) if r],
    )
    seeds = [params.seed + w for w in range(params.workers)]
    # every client required: PyVRP's own penalty cap, as on the benchmark instances
    found = _searches(model.data, seeds, params.time_limit_s, params, PenaltyParams(), start)
    fits = []
    for solution in found:
        fit = _fitted(sub, model, solution, start_routes)
        out = [list(r) for r in routes]
        for n, route in enumerate(fit.routes):
            out[part.crews[n]] = [part.visits[i] for i in route]
        # shorter routes may have room for jobs left out before (or pushed out by lunch)
        out = repair(problem, out, [None] * len(out), time_budget_s=REFILL_S).routes
        fits.append(replace(fit, routes=tuple(tuple(r) for r in out), cost=plan_cost(problem, out)))
    return _cheapest_fit(fits, began)


def _held(model: PyVrpModel, routes: Sequence[Sequence[int]]) -> list[int]:
    """The crews whose route in ``routes`` breaks a rule on ``model``'s clock."""
    return [
        k
        for k, r in enumerate(routes)
        if r and not pyvrp.Route(model.data, list(r), model.type_of(k)).is_feasible()
    ]


def _fixed_set_model(
    problem: RoutingProblem,
    part: YardPart,
    routes: Sequence[Sequence[int]],
    params: PyVrpParams,
    windows: Mapping[int, tuple[int, int]] | None = None,
) -> tuple[RoutingProblem, PyVrpModel, list[list[int]]]:
    """``part`` as a problem, its PyVRP data (every visit required), ``routes`` in it.

    ``windows`` (by visit of ``problem``) override PyVRP's windows as in :func:`build_data`.
    """
    position = {i: n for n, i in enumerate(part.visits)}
    sub = part.problem(problem)
    model = build_data(
        sub,
        coordinate_scale=params.coordinate_scale,
        required=range(len(sub.visits)),
        windows={position[i]: w for i, w in (windows or {}).items() if i in position},
    )
    return sub, model, [[position[i] for i in routes[k]] for k in part.crews]


def _searches(
    data: pyvrp.ProblemData,
    seeds: Sequence[int],
    limit_s: float,
    params: PyVrpParams,
    penalties: PenaltyParams,
    start: pyvrp.Solution | None,
) -> list[pyvrp.Solution]:
    """PyVRP's best solutions from one search per seed, all run at once for ``limit_s``.

    PyVRP's local search runs in C++ without Python's lock, so searches in threads use
    as many cores as there are seeds: on 2 cores, 2 s on the benchmark's 200-stop day
    (seed 312), one search alone ran 1,274–1,357 iterations and each of two side by side
    1,227–1,405 (3 rounds, after a warm-up). On a busy machine they share what is free.
    """

    def search(seed: int) -> pyvrp.Solution:
        result = pyvrp.solve(
            data,
            stop=FlooredRuntime(limit_s, params.min_iterations, limit_s * params.overrun),
            seed=seed,
            collect_stats=False,
            display=False,
            params=pyvrp.SolveParams(
                ils=pyvrp.IteratedLocalSearchParams(history_length=params.history_length),
                penalty=penalties,
            ),
            initial_solution=start,
        )
        return result.best

    # PyVRP warns whenever a penalty reaches its cap, advising a higher one; the low cap
    # on dispatch days is deliberate (see PyVrpParams.max_penalty), so the advice is noise
    # in the planner's log. Only this class is silenced, and only while the searches run.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=PenaltyBoundWarning)
        if len(seeds) == 1:
            return [search(seeds[0])]
        with ThreadPoolExecutor(max_workers=len(seeds), thread_name_prefix="pyvrp") as pool:
            return list(pool.map(search, seeds))


class FlooredRuntime:
    """PyVRP stopping rule: stop after ``limit_s`` once ``min_iterations`` are done.

    On a machine other work keeps busy a search gets a fraction of a core, and a pure
    wall-clock limit ends it after a handful of iterations, far from good routes. With
    the floor it runs on, up to ``cap_s``, until it has done the iterations an idle core
    does in a fraction of the limit; on an idle machine the floor is reached long before
    the limit and changes nothing.
    """

    def __init__(
        self,
        limit_s: float,
        min_iterations: int,
        cap_s: float,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.limit_s = limit_s
        self.min_iterations = min_iterations
        self.cap_s = max(cap_s, limit_s)
        self.clock = clock
        self.began = clock()
        self.iterations = 0

    def __call__(self, best_cost: float) -> bool:
        """True when the search should stop (PyVRP calls this once per iteration)."""
        elapsed = self.clock() - self.began
        if elapsed >= self.cap_s:
            return True
        done = elapsed >= self.limit_s and self.iterations >= self.min_iterations
        self.iterations += 1
        return done


def cheapest(costs: Sequence[int]) -> int:
    """Index of the lowest cost; on a tie the first (the lowest seed), so runs repeat."""
    return min(range(len(costs)), key=lambda n: (costs[n], n))


@dataclass(frozen=True, slots=True)
class _Fitted:
    """A PyVRP solution as routes that fit the full model, and what fitting removed."""

    routes: tuple[tuple[int, ...], ...]
    cost: int
    feasible: bool
    removed_skill: int
    removed_lunch: int


def _fitted(
    problem: RoutingProblem,
    model: PyVrpModel,
    solution: pyvrp.Solution,
    initial: Sequence[Sequence[int]] | None,
) -> _Fitted:
    """``solution`` as routes per crew that keep skills, locked order and lunch, costed."""
    routes: list[list[int]] = []
    removed_skill = 0
    by_crew = model.routes_by_crew(solution, len(problem.vehicles), before=initial)
    for k, route in enumerate(by_crew):
        kept = [i for i in route if k in problem.visits[i].vehicles]
        removed_skill += len(route) - len(kept)
        routes.append(kept)
    routes = [_locked_in_order(problem, r) for r in routes]
    fitted = lunch_feasible(problem, routes)
    return _Fitted(
        routes=tuple(tuple(r) for r in fitted),
        cost=plan_cost(problem, fitted),
        feasible=bool(solution.is_feasible()),
        removed_skill=removed_skill,
        removed_lunch=sum(len(a) - len(b) for a, b in zip(routes, fitted, strict=True)),
    )


@dataclass(frozen=True, slots=True)
class YardPart:
    """One yard's share of a day: its crews and the visits nearest it (indices)."""

    crews: tuple[int, ...]
    visits: tuple[int, ...]

    def problem(self, whole: RoutingProblem) -> RoutingProblem:
        """``whole`` cut down to this part, crews renumbered in ``crews`` order."""
        new = {k: n for n, k in enumerate(self.crews)}
        visits = []
        for i in self.visits:
            v = whole.visits[i]
            visits.append(
                replace(
                    v,
                    vehicles=tuple(new[k] for k in v.vehicles if k in new),
                    locked_vehicle=None if v.locked_vehicle is None else new[v.locked_vehicle],
                )
            )
        return replace(
            whole,
            visits=tuple(visits),
            vehicles=tuple(whole.vehicles[k] for k in self.crews),
        )


def yard_parts(problem: RoutingProblem) -> list[YardPart]:
    """The day cut by yard, for solving each yard's part alone.

    Crews go by the yard they return to; each visit to the yard nearest it (there and
    back) among the yards with a crew that may do it. A visit locked to a crew goes
    with that crew; a visit no crew may do is in no part.
    """
    travel = np.asarray(problem.travel)
    # by the yard crews return to: in a re-plan a crew starts where it is
    yards = sorted({v.end_loc for v in problem.vehicles})
    crews = {y: [k for k, v in enumerate(problem.vehicles) if v.end_loc == y] for y in yards}
    yard_of_crew = {k: y for y, ks in crews.items() for k in ks}
    members: dict[int, list[int]] = {y: [] for y in yards}
    for i, v in enumerate(problem.visits):
        if v.locked_vehicle is not None:
            members[yard_of_crew[v.locked_vehicle]].append(i)
            continue
        options = {yard_of_crew[k] for k in v.vehicles}
        if options:
            y = min(options, key=lambda y: (int(travel[y, v.loc] + travel[v.loc, y]), y))
            members[y].append(i)
    return [YardPart(tuple(crews[y]), tuple(members[y])) for y in yards]


def _solve_parts(
    problem: RoutingProblem, parts: Sequence[YardPart], params: PyVrpParams
) -> list[list[int]]:
    """Routes per crew from solving each yard's part alone.

    Each part gets its share (by number of visits) of ``params.yard_share`` of the time.
    """
    budget = params.time_limit_s * params.yard_share
    total = max(1, sum(len(p.visits) for p in parts))
    routes: list[list[int]] = [[] for _ in problem.vehicles]
    for part in parts:
        if not part.visits:
            continue
        found = pyvrp_warm_start(
            part.problem(problem),
            replace(
                params,
                time_limit_s=max(0.01, budget * len(part.visits) / total),
                runs=1,
                yard_share=0.0,
            ),
        )
        for n, route in enumerate(found.routes):
            routes[part.crews[n]] = [part.visits[i] for i in route]
    return routes


def penalty_cap(problem: RoutingProblem, params: PyVrpParams) -> float | None:
    """PyVRP's penalty cap for ``problem``: ``None`` keeps PyVRP's own default.

    ``params.max_penalty`` when set; otherwise :data:`OPTIONAL_MAX_PENALTY` when every
    visit may be left out (a dispatch day) and PyVRP's default when some visit is
    required (a benchmark instance). See :class:`PyVrpParams` for the measurements.
    """
    if params.max_penalty is not None:
        return params.max_penalty
    if all(v.penalty >= 0 for v in problem.visits):
        return OPTIONAL_MAX_PENALTY
    return None


def _locked_in_order(problem: RoutingProblem, route: list[int]) -> list[int]:
    """``route`` with its locked stops re-ordered by rank in the slots they occupy."""
    slots = [p for p, i in enumerate(route) if problem.visits[i].locked_rank is not None]
    if len(slots) < 2:
        return route
    ordered = sorted((route[p] for p in slots), key=lambda i: problem.visits[i].locked_rank or 0)
    out = list(route)
    for p, i in zip(slots, ordered, strict=True):
        out[p] = i
    return out
