"""Build the integer routing problem for a day from work orders, crews and a matrix.

Jobs that cannot be served by anyone today are taken out *before* solving, each with its
reason (see :mod:`geodispatch.dispatch.reasons`), so the solver only sees real choices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np

from geodispatch.dispatch.matrix import DEFAULT_CACHE, MatrixCache, MatrixSource, StraightLineSource
from geodispatch.dispatch.problem import (
    PlanParams,
    RoutingProblem,
    Vehicle,
    Visit,
    day_origin,
    locked_ranks,
    vehicle_for,
    visit_bounds,
)
from geodispatch.dispatch.reasons import crew_names, unservable_reason
from geodispatch.domain.crews import Crew
from geodispatch.domain.errors import InputError
from geodispatch.domain.plans import CrewPosition, DroppedJob, DropReason, LockedStop, WorkOrder


def build_problem(
    orders: Sequence[WorkOrder],
    crews: Sequence[Crew],
    *,
    day: date,
    tz: ZoneInfo,
    params: PlanParams | None = None,
    source: MatrixSource | None = None,
    cache: MatrixCache | None = None,
    now: datetime | None = None,
    positions: Sequence[CrewPosition] = (),
    locked: Sequence[LockedStop] = (),
) -> tuple[RoutingProblem, list[DroppedJob]]:
    """The solver's problem for ``day`` and the jobs no crew can serve today.

    ``now`` (re-plans) makes every crew start no earlier than now; ``positions`` start
    crews mid-day where they are; ``locked`` stops keep their crew and relative order.
    """
    params = params or PlanParams()
    source = source or StraightLineSource()
    cache = cache or DEFAULT_CACHE
    crews = [c for c in crews if c.active]
    codes = [c.code for c in crews]
    if len(set(codes)) != len(codes):
        raise InputError(f"crew codes must be unique; got {sorted(codes)}")
    origin = day_origin(day, tz)
    pos_by_code = {p.crew_code: p for p in positions}
    unknown = sorted(set(pos_by_code) - set(codes))
    if unknown:
        raise InputError(f"positions given for crews not on shift: {unknown}")

    dropped: list[DroppedJob] = []
    located = []
    for order in orders:
        if order.located:
            located.append(order)
        else:
            dropped.append(
                DroppedJob(
                    order,
                    DropReason.NO_LOCATION,
                    "the job has no usable point; geocode its address or drop a pin",
                )
            )
    vehicles: list[Vehicle] = []
    for crew in crews:
        veh = vehicle_for(
            crew,
            day=day,
            tz=tz,
            origin=origin,
            start_loc=0,  # set once the locations are known
            end_loc=0,
            now=now,
            position=pos_by_code.get(crew.code),
        )
        if veh is not None:
            vehicles.append(veh)
    horizon = max((v.end_s for v in vehicles), default=86_400)
    now_s = int((now - origin).total_seconds()) if now is not None else 0
    ranks = locked_ranks(tuple(locked))
    vehicle_of_code = {v.crew.code: k for k, v in enumerate(vehicles)}
    plan_start = origin if now is None else now
    if vehicles:
        plan_start = max(plan_start, min(v.crew.shift_on(day, tz)[0] for v in vehicles))

    candidates: list[Visit] = []
    for order in located:
        ready, latest, due_s = visit_bounds(order, origin=origin, horizon_s=horizon)
        weight = params.weight(order, plan_start=plan_start)
        allowed = tuple(k for k, v in enumerate(vehicles) if v.crew.can_do(order.skill))
        lock = ranks.get(order.job_id)
        locked_vehicle = locked_rank = None
        if lock is not None and lock[0] in vehicle_of_code:
            locked_vehicle, locked_rank = vehicle_of_code[lock[0]], lock[1]
            allowed = (locked_vehicle,)
        penalty = params.drop_value_s * weight
        if locked_vehicle is not None or order.urgent:
            penalty = params.drop_value_s * params.priority_weights[0] * params.locked_multiplier
        sla = 0
        if due_s is not None and params.sla_cost > 0:
            sla = max(1, round(params.sla_cost * weight))
        candidates.append(
            Visit(
                order=order,
                loc=-1,  # set once the locations are known
                service_s=order.service_minutes * 60,
                ready_s=ready,
                latest_s=latest,
                due_s=due_s,
                weight=weight,
                penalty=round(penalty),
                sla_coefficient=sla,
                vehicles=allowed,
                locked_vehicle=locked_vehicle,
                locked_rank=locked_rank,
            )
        )
    empty = np.zeros((0, 0), dtype=np.int64)
    draft = RoutingProblem(
        day=day,
        tz=tz,
        origin=origin,
        now_s=now_s,
        visits=tuple(candidates),
        vehicles=tuple(vehicles),
        travel=empty,
        points=empty.reshape(0, 2).astype(float),
        params=params,
    )
    pool, cut = candidate_pool(draft)
    for index in sorted(cut):
        dropped.append(DroppedJob(candidates[index].order, DropReason.LOWER_PRIORITY, cut[index]))
    # locations: the pooled jobs first, then each distinct crew start / end point; the
    # matrix covers only these, so a large backlog costs no n² memory
    pooled = [
        replace(v, loc=n) for n, v in enumerate(c for i, c in enumerate(candidates) if i in pool)
    ]
    points: list[tuple[float, float]] = [(v.order.lon or 0.0, v.order.lat or 0.0) for v in pooled]
    place_index: dict[tuple[float, float], int] = {}

    def place(lon: float, lat: float) -> int:
        key = (round(lon, 7), round(lat, 7))
        if key not in place_index:
            place_index[key] = len(points)
            points.append((lon, lat))
        return place_index[key]

    placed = []
    for veh in vehicles:
        here = pos_by_code.get(veh.crew.code)
        depot = veh.crew.depot
        start = place(here.lon, here.lat) if here else place(depot.lon, depot.lat)
        placed.append(replace(veh, start_loc=start, end_loc=place(depot.lon, depot.lat)))
    lonlat = np.asarray(points, dtype=float).reshape(-1, 2)
    travel = cache.get(source, lonlat).seconds if len(lonlat) else empty
    problem = replace(
        draft, visits=tuple(pooled), vehicles=tuple(placed), travel=travel, points=lonlat
    )
    keep: list[Visit] = []
    for index, visit in enumerate(problem.visits):
        verdict = unservable_reason(problem, index, all_crews=crews)
        if verdict is None or visit.locked_vehicle is not None:
            keep.append(visit)
        else:
            dropped.append(DroppedJob(visit.order, verdict[0], verdict[1]))
    return replace(problem, visits=tuple(keep)), dropped


def candidate_pool(problem: RoutingProblem) -> tuple[set[int], dict[int, str]]:
    """The visits worth giving the solver, and why each other one was not considered.

    A crew cannot do more jobs of a skill in a shift than its shift length divided by the
    shortest on-site time among them; summing that bound over the capable crews gives
    an upper bound on what can be served of each skill today. Only the most valuable jobs
    up to that bound (per skill) go to the solver: the rest could not be served even if
    every crew did nothing else, because at least that many jobs of equal or higher value
    compete for the same crews. Locked stops are always kept.
    """
    by_skill: dict[str, list[int]] = {}
    keep: set[int] = set()
    for index, visit in enumerate(problem.visits):
        if visit.vehicles:
            by_skill.setdefault(visit.order.skill, []).append(index)
        else:
            keep.add(index)  # explained as "no crew with the skill" later
    cut: dict[int, str] = {}
    for skill, members in by_skill.items():
        shortest = max(60, min(problem.visits[i].service_s for i in members))
        crews = {k for i in members for k in problem.visits[i].vehicles}
        bound = sum(
            (problem.vehicles[k].end_s - problem.vehicles[k].start_s) // shortest for k in crews
        )
        if len(members) <= bound:
            keep.update(members)
            continue
        ranked = sorted(members, key=lambda i: (-problem.visits[i].weight, i))
        keep.update(ranked[:bound])
        names = crew_names(sorted(problem.vehicles[k].crew.code for k in crews))
        for i in ranked[bound:]:
            if problem.visits[i].locked_vehicle is not None or problem.visits[i].order.urgent:
                keep.add(i)
                continue
            cut[i] = (
                f"not considered today: the crews with skill {skill!r} ({names}) can do at "
                f"most {bound} such jobs in their shifts, and {bound} open jobs of equal or "
                "higher priority, age or caller count come first"
            )
    return keep, cut
