"""Tiny hand-checkable routing instances shared by the routing tests.

Points lie on a line east of a yard: ``east(km)`` is ``km`` kilometres east of it. With
the default matrix (1.3 × straight line at 25 km/h) one straight kilometre takes
1300 m / (25/3.6 m/s) = 187.2 s → 187 s.
"""

from __future__ import annotations

import math
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from geodispatch.dispatch.planner import PlanRequest, plan_routes
from geodispatch.dispatch.problem import PlanParams, RoutingProblem
from geodispatch.dispatch.solver import SolveParams
from geodispatch.domain.crews import Crew, Depot, LunchBreak
from geodispatch.domain.plans import RoutePlan, TimeWindow, WorkOrder
from geodispatch.domain.requests import Priority

TZ = ZoneInfo("America/New_York")
DAY = date(2025, 6, 2)
YARD_LON, YARD_LAT = -71.06, 42.35
KM_LON = 1000.0 / (6_371_008.8 * math.cos(math.radians(YARD_LAT)) * math.pi / 180.0)
FAST = SolveParams(time_limit_s=0.5)


def east(km: float) -> float:
    """Longitude ``km`` kilometres east of the yard (same latitude)."""
    return YARD_LON + km * KM_LON


def at(hour: int, minute: int = 0) -> datetime:
    """A local time on the test day."""
    return datetime(DAY.year, DAY.month, DAY.day, hour, minute, tzinfo=TZ)


def crew(
    code: str,
    *skills: str,
    start: time = time(7),
    end: time = time(15),
    lunch: LunchBreak | None = None,
    max_jobs: int | None = None,
) -> Crew:
    """A crew at the yard."""
    return Crew(
        code=code,
        depot=Depot("Yard", YARD_LON, YARD_LAT),
        shift_start=start,
        shift_end=end,
        skills=frozenset(skills or ("general",)),
        lunch=lunch,
        max_jobs=max_jobs,
    )


def job(
    job_id: int,
    km: float | None,
    *,
    skill: str = "general",
    minutes: int = 30,
    priority: Priority = Priority.P3,
    window: tuple[datetime, datetime] | None = None,
    due: datetime | None = None,
    address: str | None = None,
) -> WorkOrder:
    """A work order ``km`` east of the yard (None: no location)."""
    return WorkOrder(
        job_id=job_id,
        service_code="test",
        title=f"Test job {job_id}",
        address=address or f"{job_id} Test St",
        lon=None if km is None else east(km),
        lat=None if km is None else YARD_LAT,
        skill=skill,
        service_minutes=minutes,
        priority=priority,
        window=None if window is None else TimeWindow(*window),
        due_at=due,
    )


def plan(
    orders: list[WorkOrder],
    crews: list[Crew],
    *,
    params: PlanParams | None = None,
    **kwargs: object,
) -> tuple[RoutePlan, RoutingProblem]:
    """Plan the test day with a short search."""
    request = PlanRequest(orders, crews, DAY, TZ, **kwargs)  # type: ignore[arg-type]
    return plan_routes(request, solve=FAST, params=params)
