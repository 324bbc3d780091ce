"""The solver interface: a problem in, routes out; any engine fits behind it.

A solver returns only the order of visits per crew (and where lunch falls); times are
always recomputed by :mod:`geodispatch.dispatch.schedule`, and every plan is re-checked by
:mod:`geodispatch.dispatch.checker`. ``initial`` routes give a warm start, e.g. from a
faster heuristic, or the morning's plan in a mid-day re-plan.

The default pipeline has three stages (``SolveParams.warm_start="pyvrp"``): PyVRP's
iterated local search picks the jobs and builds routes
(:mod:`geodispatch.dispatch.pyvrp_start`); OR-Tools, which owns the full model, loads
them and improves them (it swaps left-out work in); PyVRP then shortens those routes
with the served jobs fixed, kept only when that lowers the model's cost.
``warm_start="none"`` is OR-Tools alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from geodispatch.dispatch.problem import RoutingProblem
from geodispatch.domain.errors import InputError
from geodispatch.domain.plans import StageStat

FIRST_SOLUTIONS: Final = (
    "AUTO",
    "SAVINGS",
    "PARALLEL_SAVINGS",
    "PARALLEL_CHEAPEST_INSERTION",
    "LOCAL_CHEAPEST_INSERTION",
    "SEQUENTIAL_CHEAPEST_INSERTION",
    "PATH_CHEAPEST_ARC",
    "CHRISTOFIDES",
    "ALL_UNPERFORMED",
)
WARM_STARTS: Final = ("pyvrp", "none")
METAHEURISTICS: Final = (
    "GUIDED_LOCAL_SEARCH",
    "SIMULATED_ANNEALING",
    "TABU_SEARCH",
    "GREEDY_DESCENT",
)


#: (warm_share, tighten_share) when a day's work fits its crews' hours, and when it does not.
FITTING_SHARES: Final = (0.45, 0.3)
BOOKED_SHARES: Final = (0.65, 0.0)

#: Stops above which ``first_solution="AUTO"`` switches to parallel cheapest insertion.
LARGE_DAY: Final = 400


@dataclass(frozen=True, slots=True)
class SolveParams:
    """How long and how a solver searches.

    ``time_limit_s`` is the budget of one planning call: the solver searches for 90 % of
    it and the repair step (insert, relocate, swap) uses the rest.
    Defaults are the settings measured best on our benchmark (``bench/routing.py``):
    see ``../shared/research/routing.md`` for why PATH_CHEAPEST_ARC is not offered as a
    default (no first solution with tight windows) and GLS is the metaheuristic.
    ``neighbors_ratio`` limits local-search moves to each stop's nearest fraction of stops
    (at least ``min_neighbors``), which buys many more iterations on large days.
    ``first_solution="AUTO"`` picks SAVINGS up to :data:`LARGE_DAY` stops and
    PARALLEL_CHEAPEST_INSERTION above: on our benchmark SAVINGS was better on Solomon
    (median gap 2.6 % vs 3.5 %) and on the over-booked 200-stop day (served weight 460 vs
    453), PARALLEL_CHEAPEST_INSERTION on the 1000-stop day (58.6 h driving vs 77.9 h).
    ``split_share`` of the time builds a first solution skill group by skill group
    (:func:`~geodispatch.dispatch.ortools_solver.split_by_skill`) that warm-starts the
    full model; ``None`` means 0.9 above :data:`LARGE_DAY` stops and 0 below (measured:
    1000 stops / 40 crews, 27 s: served weight 1845 → 1933, driving 59.9 → 46.5 h; no
    gain on 200-stop days). ``relaxed_share`` of the time goes to a first phase without
    lunch windows (shifts shortened by the lunch instead) whose routes warm-start the
    full model (measured: no consistent gain; off by default).

    ``warm_start="pyvrp"`` (default) gives ``warm_share`` of the time to PyVRP, whose
    routes OR-Tools then loads and improves, and ``tighten_share`` to PyVRP again with
    the served jobs fixed (:func:`~geodispatch.dispatch.pyvrp_start.pyvrp_tighten`;
    fresh plans only: a re-plan keeps crews on their routes where it can); OR-Tools
    gets the rest, and the two later stages share whatever the first left (its setup
    can overrun on short limits). The first-solution, split and relaxed settings above
    then apply only to ``warm_start="none"`` (OR-Tools alone) and to re-plans that
    bring their own warm start. ``seed`` seeds PyVRP's search.
    Unset shares follow the day (:meth:`shares`, :func:`~geodispatch.dispatch.problem.
    work_load`): when the work fits the crews' hours, :data:`FITTING_SHARES` (0.45,
    0.3): driving is what is left to win, and OR-Tools' short pass, which swaps in
    work PyVRP's prize search left out, often does it at a driving cost the last
    stage takes back. Measured in ``bench/routing.py`` on the tight 200 / 20 day (seed
    312): 24.2–25.1 h of driving for 476–477 weight in four runs, where the two-stage
    pipeline (0.65, 0) drove 25.8–26.7 h and VROOM 25.4 h. When the work exceeds the
    crews' hours, :data:`BOOKED_SHARES` (0.65, 0): which jobs are served matters most,
    and OR-Tools' time is what finds them. Measured on Boston's backlog (the demo
    day, 310 jobs for 20 crews, 5 s, two runs each): objective 10.16–10.40 M with
    (0.65, 0) against 10.66–10.84 M with (0.45, 0.3) and 10.70–11.89 M with (0.5, 0.2);
    on the benchmark's over-booked days both gave the same served weight (± 1).
    ``pyvrp_workers`` PyVRP searches run side by side (``None``: two per core when the
    routes hold up to 150 stops, one per core above, at most four; see
    :func:`~geodispatch.dispatch.pyvrp_start.default_workers`); 1 keeps the planner on
    one core.

    ``make_room_moves`` turns on OR-Tools' relocate-and-make-active moves (a stop moves
    so a left-out job fits where it was) in the pass that improves PyVRP's routes;
    ``None`` means on for a day whose work fits its crews' hours, where every job left
    out is one that should get in, and off for an over-booked day, where the moves slow
    the search that picks which jobs to serve. Measured on the tight 200 / 20 day (seed
    312), where PyVRP's prize search leaves 3–4 forestry jobs out and all six forestry
    crews are full: from a start with four out, OR-Tools alone served 198 of 200 jobs
    after 1 s and 2 s and 200 after 3 s, with the moves 199 after 1 s; whole plans: with
    the moves 34 runs of 35 served weight 477 (200 jobs) or 476 (199) in 23.9–25.9 h of
    driving and one served 198, without them 5 runs of 32 served 198 jobs (weight 475,
    under VROOM's 476). Boston's over-booked backlog at 5 s cost 10.54 M with the moves
    against 9.83 M without; the 200 / 20 seed 311 day drove the same with or without.
    """

    time_limit_s: float = 5.0
    warm_start: str = "pyvrp"
    warm_share: float | None = None
    seed: int = 1
    first_solution: str = "AUTO"
    metaheuristic: str = "GUIDED_LOCAL_SEARCH"
    gls_lambda: float = 0.1
    neighbors_ratio: float = 1.0
    min_neighbors: int = 1
    relaxed_share: float = 0.0
    split_share: float | None = None
    log_search: bool = False
    pyvrp_workers: int | None = None
    tighten_share: float | None = None
    make_room_moves: bool | None = None

    def __post_init__(self) -> None:
        if not 0 < self.time_limit_s <= 3600:
            raise InputError(
                f"SolveParams.time_limit_s must be in (0, 3600] seconds. Got {self.time_limit_s}."
            )
        if self.first_solution not in FIRST_SOLUTIONS:
            raise InputError(
                f"SolveParams.first_solution must be one of {FIRST_SOLUTIONS}. "
                f"Got {self.first_solution!r} instead."
            )
        if self.warm_start not in WARM_STARTS:
            raise InputError(
                f"SolveParams.warm_start must be one of {WARM_STARTS}. "
                f"Got {self.warm_start!r} instead."
            )
        if self.warm_share is not None and not 0 < self.warm_share < 1:
            raise InputError(f"SolveParams.warm_share must be in (0, 1). Got {self.warm_share}.")
        if self.tighten_share is not None and (
            not 0 <= self.tighten_share < 1 or (self.warm_share or 0) + self.tighten_share >= 1
        ):
            raise InputError(
                "SolveParams.tighten_share must be in [0, 1) and leave OR-Tools time after "
                f"warm_share ({self.warm_share}). Got {self.tighten_share}."
            )
        if self.pyvrp_workers is not None and self.pyvrp_workers < 1:
            raise InputError(f"SolveParams.pyvrp_workers must be ≥ 1. Got {self.pyvrp_workers}.")
        if self.metaheuristic not in METAHEURISTICS:
            raise InputError(
                f"SolveParams.metaheuristic must be one of {METAHEURISTICS}. "
                f"Got {self.metaheuristic!r} instead."
            )
        if self.split_share is not None and not 0 <= self.split_share < 1:
            raise InputError(f"SolveParams.split_share must be in [0, 1). Got {self.split_share}.")
        if not 0 <= self.relaxed_share < 1:
            raise InputError(
                f"SolveParams.relaxed_share must be in [0, 1). Got {self.relaxed_share}."
            )
        if not 0 < self.neighbors_ratio <= 1:
            raise InputError(
                f"SolveParams.neighbors_ratio must be in (0, 1]. Got {self.neighbors_ratio}."
            )

    def shares(self, *, work_fits: bool) -> tuple[float, float]:
        """(warm_share, tighten_share) for a day, the unset ones from whether its work fits.

        A day whose work fits its crews' hours gets :data:`FITTING_SHARES`, an over-booked
        one :data:`BOOKED_SHARES` (see the class docstring for the measurements).
        """
        warm, tighten = FITTING_SHARES if work_fits else BOOKED_SHARES
        if self.tighten_share is not None:
            tighten = self.tighten_share
        if self.warm_share is not None:
            warm = self.warm_share
            tighten = tighten if warm + tighten < 1 else 0.0
        return warm, tighten


#: What one stage of a solver pipeline did (the plan's stats keep them as they are).
Stage = StageStat


@dataclass(frozen=True, slots=True)
class Solution:
    """Visit indices per vehicle in order, lunch placement hints, and search facts."""

    routes: tuple[tuple[int, ...], ...]
    break_after: tuple[int | None, ...]
    objective: int
    status: str
    wall_s: float
    solver: str
    stages: tuple[Stage, ...] = ()

    @property
    def served(self) -> frozenset[int]:
        """Visit indices on some route."""
        return frozenset(i for r in self.routes for i in r)


class RouteSolver(Protocol):
    """Anything that can route a :class:`RoutingProblem`."""

    @property
    def name(self) -> str:
        """Short name stored with each plan (e.g. 'ortools')."""
        ...

    def solve(
        self,
        problem: RoutingProblem,
        params: SolveParams,
        *,
        initial: Sequence[Sequence[int]] | None = None,
    ) -> Solution:
        """Routes for ``problem`` within ``params.time_limit_s``; ``initial`` warm-starts."""
        ...


def first_solution_for(params: SolveParams, stops: int) -> str:
    """The first-solution strategy to use for a problem with ``stops`` stops."""
    if params.first_solution != "AUTO":
        return params.first_solution
    return "SAVINGS" if stops <= LARGE_DAY else "PARALLEL_CHEAPEST_INSERTION"


def split_share_for(params: SolveParams, stops: int) -> float:
    """The share of time for the skill-by-skill first solution (see :class:`SolveParams`)."""
    if params.split_share is not None:
        return params.split_share
    return 0.9 if stops > LARGE_DAY else 0.0
