"""The solver interface: a problem in, routes out; any engine fits behind it.

A solver returns only the order of visits per crew (and where lunch falls); times are
always recomputed by :mod:`geodispatch.dispatch.schedule`, and every plan is re-checked by
:mod:`geodispatch.dispatch.checker`. ``initial`` routes give a warm start, e.g. from a
faster heuristic, or the morning's plan in a mid-day re-plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from geodispatch.dispatch.problem import RoutingProblem
from geodispatch.domain.errors import InputError

FIRST_SOLUTIONS: Final = (
    "SAVINGS",
    "PARALLEL_SAVINGS",
    "PARALLEL_CHEAPEST_INSERTION",
    "LOCAL_CHEAPEST_INSERTION",
    "SEQUENTIAL_CHEAPEST_INSERTION",
    "PATH_CHEAPEST_ARC",
    "CHRISTOFIDES",
    "ALL_UNPERFORMED",
)
METAHEURISTICS: Final = (
    "GUIDED_LOCAL_SEARCH",
    "SIMULATED_ANNEALING",
    "TABU_SEARCH",
    "GREEDY_DESCENT",
)


@dataclass(frozen=True, slots=True)
class SolveParams:
    """How long and how a solver searches.

    Defaults are the settings measured best on our benchmark (``bench/routing.py``):
    see ``../shared/research/routing.md`` for why PATH_CHEAPEST_ARC is not offered as a
    default (no first solution with tight windows) and GLS is the metaheuristic.
    ``neighbors_ratio`` limits local-search moves to each stop's nearest fraction of stops
    (at least ``min_neighbors``), which buys many more iterations on large days.
    """

    time_limit_s: float = 5.0
    first_solution: str = "SAVINGS"
    metaheuristic: str = "GUIDED_LOCAL_SEARCH"
    gls_lambda: float = 0.1
    neighbors_ratio: float = 1.0
    min_neighbors: int = 1
    log_search: bool = False

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
        if self.metaheuristic not in METAHEURISTICS:
            raise InputError(
                f"SolveParams.metaheuristic must be one of {METAHEURISTICS}. "
                f"Got {self.metaheuristic!r} instead."
            )
        if not 0 < self.neighbors_ratio <= 1:
            raise InputError(
                f"SolveParams.neighbors_ratio must be in (0, 1]. Got {self.neighbors_ratio}."
            )


@dataclass(frozen=True, slots=True)
class Solution:
    """Visit indices per vehicle in order, lunch placement hints, and search facts."""

    routes: tuple[tuple[int, ...], ...]
    break_after: tuple[int | None, ...]
    objective: int
    status: str
    wall_s: float
    solver: str

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
