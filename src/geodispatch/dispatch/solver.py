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

    ``time_limit_s`` is the budget of one planning call: the search gets 90 % of it and
    the repair step (insert, relocate, swap) the rest. With ``warm_start="pyvrp"``
    (default; :class:`~geodispatch.dispatch.pipeline.PlanPipeline`) PyVRP gets
    ``warm_share`` of the search time, OR-Tools improves its routes, and on a fresh plan
    PyVRP shortens them with the served jobs fixed for ``tighten_share``; unset shares
    follow the day (:meth:`shares`: :data:`FITTING_SHARES` when the work fits the crews'
    hours, where driving is what is left to win; :data:`BOOKED_SHARES` when it does not,
    where choosing the jobs matters most). ``warm_start="none"`` is OR-Tools alone, where
    ``first_solution`` ("AUTO": SAVINGS up to :data:`LARGE_DAY` stops, else
    PARALLEL_CHEAPEST_INSERTION), ``split_share`` (a skill-group-by-group first solution;
    ``None``: 0.9 above :data:`LARGE_DAY`) and ``relaxed_share`` (a first phase without
    lunch windows) apply. ``neighbors_ratio`` limits OR-Tools' moves to each stop's
    nearest fraction of stops (at least ``min_neighbors``). ``seed`` seeds PyVRP;
    ``pyvrp_workers`` searches run side by side (``None``: by the day's size,
    :func:`~geodispatch.dispatch.pyvrp_start.default_workers`; 1 keeps the planner on
    one core). ``make_room_moves`` turns on OR-Tools' relocate-and-make-active moves in
    the pass after PyVRP (``None``: on when the work fits, where every job left out
    should get in; off when over-booked, where they slow the choice of jobs).
    The runs behind these defaults: ``docs/routing_settings.md``.
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
