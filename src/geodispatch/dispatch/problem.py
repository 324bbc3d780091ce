"""The integer routing problem that the solver, the repair step and the checker all share.

Times are whole seconds after the local midnight that begins the plan day (real elapsed
seconds, so a daylight-saving day is handled). Locations are indices into one travel
matrix: the jobs first, then every distinct start or end point of a crew.

How a job's value is set (:class:`PlanParams`):

* Serving a job is worth ``weight × drop_value_s`` seconds of driving, where ``weight`` is
  the priority weight (P1 10, P2 3, P3 1) × a caller factor (+10 % per extra caller, at
  most +50 %) × an overdue factor (+50 % at most, reached after 14 days overdue). The
  factors are capped so that no P3 ever outranks a P2 and no P2 a P1: priority decides,
  callers and age break ties among equals.
* Jobs already overdue when the day starts (most of a backlog) carry no intra-day SLA
  term: a deadline that has passed cannot be met by serving them at 07:05 rather than at
  14:00, and pulling all of them to the morning would wreck the routes. Their age raises
  their drop penalty instead (above).
* Jobs due later today get a soft upper bound at ``due − service`` on their start: each
  second late costs ``sla_cost × weight`` seconds of driving.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from geodispatch.domain.crews import Crew, local_instant
from geodispatch.domain.errors import InputError
from geodispatch.domain.plans import CrewPosition, LockedStop, WorkOrder
from geodispatch.domain.requests import Priority


@dataclass(frozen=True, slots=True)
class PlanParams:
    """Objective weights of the daily plan (driving seconds are the unit of cost)."""

    #: Weight of a served job by priority (P1, P2, P3).
    priority_weights: tuple[float, float, float] = (10.0, 3.0, 1.0)
    #: Driving seconds one unit of weight is worth: a shift's driving (8 h) makes serving
    #: work strictly more important than saving travel.
    drop_value_s: int = 8 * 3600
    #: Extra weight per caller beyond the first, and its cap.
    caller_bonus: float = 0.10
    caller_bonus_max: float = 0.50
    #: Extra weight for jobs already overdue at plan start, reached after ``overdue_days``.
    overdue_bonus_max: float = 0.50
    overdue_days: float = 14.0
    #: Driving seconds per second late against a same-day SLA, per unit of weight.
    sla_cost: float = 1.0
    #: Cost per second of (latest return − earliest departure) over crews; 0 turns the
    #: workload balance term off.
    balance_coefficient: int = 0
    #: Locked stops and urgent jobs cost this many times a P1 job to drop (so they never are,
    #: in practice, while a crew can reach them).
    locked_multiplier: float = 100.0
    #: In a re-plan, driving seconds each job moved to another crew must win back: the
    #: new plan replaces "keep the routes, squeeze the new work in" only when it is better
    #: by more than this per moved job (the crew chief calls both crews, material is
    #: re-loaded). 20 min: one more P3 job (8 h) is not worth reshuffling 25 jobs mid-day.
    move_cost_s: int = 20 * 60

    def __post_init__(self) -> None:
        if any(w <= 0 for w in self.priority_weights):
            raise InputError("PlanParams.priority_weights must all be positive.")
        if self.drop_value_s < 60:
            raise InputError(f"PlanParams.drop_value_s must be ≥ 60. Got {self.drop_value_s}.")
        if self.move_cost_s < 0:
            raise InputError(f"PlanParams.move_cost_s must be ≥ 0. Got {self.move_cost_s}.")
        if self.sla_cost < 0 or self.balance_coefficient < 0:
            raise InputError("PlanParams.sla_cost and balance_coefficient must be ≥ 0.")

    def weight(self, order: WorkOrder, *, plan_start: datetime) -> float:
        """The job's value: priority × caller factor × overdue factor (see module doc)."""
        base = self.priority_weights[int(order.priority) - 1]
        callers = 1.0 + min(self.caller_bonus * (order.caller_count - 1), self.caller_bonus_max)
        overdue = 1.0
        if order.due_at is not None and order.due_at < plan_start:
            days = (plan_start - order.due_at).total_seconds() / 86400.0
            overdue += self.overdue_bonus_max * min(1.0, days / self.overdue_days)
        return base * callers * overdue


@dataclass(frozen=True, slots=True)
class Vehicle:
    """A crew as the solver sees it: start/end location, time range, break, cap."""

    crew: Crew
    start_loc: int
    end_loc: int
    start_s: int
    end_s: int
    break_earliest_s: int | None = None
    break_latest_s: int | None = None
    break_s: int = 0
    max_jobs: int | None = None
    capacity: int | None = None  # load a truck carries (e.g. asphalt tons); None: unlimited

    @property
    def has_break(self) -> bool:
        """True when the crew still has a lunch break to take in this plan."""
        return self.break_earliest_s is not None


@dataclass(frozen=True, slots=True)
class Visit:
    """A job as the solver sees it.

    ``ready_s``/``latest_s`` bound the start of service (appointment or shift bounds);
    ``due_s`` is the latest on-time start for a same-day SLA (soft), ``None`` otherwise.
    ``penalty`` is what leaving the visit out costs; a negative penalty makes the visit
    mandatory (benchmark instances only: a dispatcher's plan keeps every stop optional).
    """

    order: WorkOrder
    loc: int
    service_s: int
    ready_s: int
    latest_s: int
    due_s: int | None
    weight: float
    penalty: int
    sla_coefficient: int
    vehicles: tuple[int, ...]
    locked_vehicle: int | None = None
    locked_rank: int | None = None
    demand: int = 0  # load the job uses up (checked against Vehicle.capacity)


@dataclass(frozen=True, slots=True)
class RoutingProblem:
    """Everything needed to solve or check one day: visits, vehicles, travel seconds."""

    day: date
    tz: ZoneInfo
    origin: datetime
    now_s: int
    visits: tuple[Visit, ...]
    vehicles: tuple[Vehicle, ...]
    travel: np.ndarray
    points: np.ndarray
    params: PlanParams

    def at(self, seconds: int) -> datetime:
        """The aware instant (city zone) ``seconds`` after the plan day's origin."""
        return (self.origin + timedelta(seconds=int(seconds))).astimezone(self.tz)

    def seconds_of(self, instant: datetime) -> int:
        """Seconds from the plan day's origin to ``instant`` (may be negative)."""
        return int((instant - self.origin).total_seconds())

    @property
    def horizon_s(self) -> int:
        """Latest time any crew may still be working."""
        return max((v.end_s for v in self.vehicles), default=86_400)


def day_origin(day: date, tz: ZoneInfo) -> datetime:
    """Local midnight that starts ``day``."""
    return local_instant(day, datetime.min.time(), tz)


def vehicle_for(
    crew: Crew,
    *,
    day: date,
    tz: ZoneInfo,
    origin: datetime,
    start_loc: int,
    end_loc: int,
    now: datetime | None,
    position: CrewPosition | None,
) -> Vehicle | None:
    """The crew's solver vehicle for ``day``; None when its shift is already over."""
    start, end = crew.shift_on(day, tz)
    start_s = int((start - origin).total_seconds())
    end_s = int((end - origin).total_seconds())
    if now is not None:
        start_s = max(start_s, int((now - origin).total_seconds()))
    if position is not None:
        start_s = max(start_s, int((position.available_at - origin).total_seconds()))
    if start_s >= end_s:
        return None
    b_early = b_late = None
    b_len = 0
    if crew.lunch is not None and not (position is not None and position.break_taken):
        early = int((local_instant(day, crew.lunch.window_start, tz) - origin).total_seconds())
        late = int((local_instant(day, crew.lunch.latest_start, tz) - origin).total_seconds())
        if late >= start_s:  # a window already over by now counts as taken
            b_early, b_late, b_len = max(early, start_s), late, crew.lunch.minutes * 60
    return Vehicle(
        crew=crew,
        start_loc=start_loc,
        end_loc=end_loc,
        start_s=start_s,
        end_s=end_s,
        break_earliest_s=b_early,
        break_latest_s=b_late,
        break_s=b_len,
        max_jobs=crew.max_jobs,
    )


def visit_bounds(
    order: WorkOrder, *, origin: datetime, horizon_s: int
) -> tuple[int, int, int | None]:
    """(ready_s, latest_s, due_s) of a work order; ``due_s`` only for a same-day SLA."""
    ready, latest = 0, horizon_s
    if order.window is not None:
        ready = max(ready, int((order.window.start - origin).total_seconds()))
        latest = min(latest, int((order.window.end - origin).total_seconds()))
    due_s = None
    if order.due_at is not None:
        due = int((order.due_at - origin).total_seconds()) - order.service_minutes * 60
        if 0 <= due < horizon_s:
            due_s = due
    return ready, latest, due_s


def locked_ranks(locked: tuple[LockedStop, ...]) -> dict[int, tuple[str, int]]:
    """Job id -> (crew code, rank among that crew's locked stops)."""
    out: dict[int, tuple[str, int]] = {}
    by_crew: dict[str, list[LockedStop]] = {}
    for stop in locked:
        by_crew.setdefault(stop.crew_code, []).append(stop)
    for code, stops in by_crew.items():
        for rank, stop in enumerate(sorted(stops, key=lambda s: s.sequence)):
            out[stop.job_id] = (code, rank)
    return out


def priority_label(priority: Priority) -> str:
    """'P1', 'P2' or 'P3'."""
    return f"P{int(priority)}"


def work_load(problem: RoutingProblem) -> float:
    """On-site hours of all visits over the crews' working hours (lunch taken out).

    Above 1 the day is over-booked: even without driving, not every job fits, so the
    solver's time is best spent choosing jobs (see ``SolveParams.shares``).
    """
    hours = sum(max(0, v.end_s - v.start_s - v.break_s) for v in problem.vehicles)
    work = sum(v.service_s for v in problem.visits)
    return work / hours if hours else math.inf


def routable_stops(problem: RoutingProblem) -> float:
    """About how many stops today's routes can hold (driving ignored).

    Every visit when the work fits the crews' hours, else the visits scaled down by the
    :func:`work_load`. It sizes the route search (``pyvrp_start.default_workers``): a
    day of many requests but few crews is a small search.
    """
    return len(problem.visits) / max(1.0, work_load(problem))
