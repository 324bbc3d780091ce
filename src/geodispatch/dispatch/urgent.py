"""When an urgent job cannot go on today's routes: why, and what would make it fit.

An urgent job is a must-serve visit. If the plan still leaves it out, the dispatcher is
told the plain reason (no crew with the skill on shift, the shifts are over, no crew can
reach it and return before its shift ends) and two ways to make it fit: the fewest
overtime minutes on a named crew (going straight there from where it is now), or the
first visit tomorrow morning.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from geodispatch.dispatch.matrix import MatrixSource
from geodispatch.domain.crews import Crew
from geodispatch.domain.plans import CrewPosition, WorkOrder


@dataclass(frozen=True, slots=True)
class CrewOption:
    """One crew going to the job: when it gets there and the overtime that costs."""

    crew_code: str
    arrive_at: datetime
    overtime_min: int


@dataclass(frozen=True, slots=True)
class UrgentFit:
    """Why an urgent job is off today's routes and what would put it on one."""

    job_id: int
    skill: str
    reason: str
    overtime: CrewOption | None  # fewest overtime minutes today (None: no capable crew)
    tomorrow: CrewOption | None  # first visit on the next day

    def advice(self) -> str:
        """The reason and the options, in one paragraph for the dispatcher."""
        parts = [f"Urgent job {self.job_id} is not on any route: {self.reason}."]
        if self.overtime is not None:
            o = self.overtime
            parts.append(
                f"It fits with {o.overtime_min} min of overtime on crew {o.crew_code} "
                f"(going straight there, arriving {o.arrive_at:%H:%M})."
            )
        if self.tomorrow is not None:
            t = self.tomorrow
            parts.append(
                f"Or first thing tomorrow: crew {t.crew_code} can be there at "
                f"{t.arrive_at:%a %d %b %H:%M}."
            )
        if self.overtime is None and self.tomorrow is None:
            parts.append(f"No active crew has the skill {self.skill!r}: add it to a crew.")
        return " ".join(parts)


def urgent_fit(
    order: WorkOrder,
    crews: Sequence[Crew],
    *,
    day: date,
    tz: ZoneInfo,
    now: datetime,
    reason: str,
    source: MatrixSource,
    positions: Mapping[str, CrewPosition] | None = None,
) -> UrgentFit:
    """The overtime and next-day options for ``order`` (which the plan left out for ``reason``).

    Today each capable crew drives from where it is (its position, else its yard), no
    earlier than now and its shift start, does the job and drives back to its yard; the
    overtime is how far that return passes its shift end. Tomorrow each capable crew
    leaves its yard at its shift start.
    """
    positions = positions or {}
    capable = [c for c in crews if c.active and c.can_do(order.skill)]
    if not capable or order.lon is None or order.lat is None:
        return UrgentFit(order.job_id, order.skill, reason, None, None)
    job = (order.lon, order.lat)
    service = timedelta(minutes=order.service_minutes)
    best_today: CrewOption | None = None
    best_next: CrewOption | None = None
    for crew in capable:
        start, end = crew.shift_on(day, tz)
        here = positions.get(crew.code)
        origin = (here.lon, here.lat) if here is not None else (crew.depot.lon, crew.depot.lat)
        leave = max(start, now, here.available_at if here is not None else start)
        travel = source.seconds(np.asarray([origin, job, (crew.depot.lon, crew.depot.lat)]))
        arrive = leave + timedelta(seconds=int(travel[0, 1]))
        back = arrive + service + timedelta(seconds=int(travel[1, 2]))
        overtime = max(0, -(-int((back - end).total_seconds()) // 60))
        option = CrewOption(crew.code, arrive, overtime)
        if best_today is None or (overtime, arrive) < (
            best_today.overtime_min,
            best_today.arrive_at,
        ):
            best_today = option
        next_start, _ = crew.shift_on(day + timedelta(days=1), tz)
        next_arrive = next_start + timedelta(seconds=int(travel[2, 1]))
        if best_next is None or next_arrive < best_next.arrive_at:
            best_next = CrewOption(crew.code, next_arrive, 0)
    return UrgentFit(order.job_id, order.skill, reason, best_today, best_next)
