"""Seeded synthetic 311 dispatch days for the routing benchmark.

A day is a city of 20 × 15 km (placed over Boston so the straight-line matrix works on
real lon/lat), with:

* requests: 70 % in 6 neighbourhood clusters (Gaussian, σ = 0.8 km), 30 % uniform;
* yards: 1 yard per 10 crews (at least one), spread over the city;
* crews: 07:00–15:00 (8 h, back at the yard by 15:00), a 30 min lunch that must lie in
  11:00–13:00; two skills each, sets cycled from {asphalt, signs}, {electrical, graffiti},
  {forestry, asphalt}, {graffiti, signs}, {electrical, forestry}, {asphalt, electrical},
  so every skill has at least a third of the crews;
* jobs: 5 skills, on-site minutes by skill (asphalt 20–50, electrical 15–40, signs 15–30,
  graffiti 15–30, forestry 30–50); priorities P1/P2/P3 = 10/30/60 % (weights 10/3/1);
  ~15 % get a 2-hour appointment starting between 08:00 and 13:00;
* no SLA due times (so the soft SLA term, which the peers lack, is off and every solver
  optimises the same thing: served priority weight first, then driving).

Travel: the product's default matrix (great-circle × 1.3 at 25 km/h, integer seconds).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from geodispatch.domain.crews import Crew, Depot, LunchBreak
from geodispatch.domain.plans import TimeWindow, WorkOrder
from geodispatch.domain.requests import Priority

TZ = ZoneInfo("America/New_York")
DAY = date(2025, 6, 2)
SW = (-71.19, 42.23)  # south-west corner of the synthetic city
KM_LAT = 1 / 111.2
KM_LON = 1 / (111.2 * math.cos(math.radians(42.3)))
SKILL_SETS = (
    ("asphalt", "signs"),
    ("electrical", "graffiti"),
    ("forestry", "asphalt"),
    ("graffiti", "signs"),
    ("electrical", "forestry"),
    ("asphalt", "electrical"),
)
MINUTES = {
    "asphalt": (20, 50),
    "electrical": (15, 40),
    "signs": (15, 30),
    "graffiti": (15, 30),
    "forestry": (30, 50),
}


@dataclass(frozen=True, slots=True)
class Day:
    """One synthetic day: work orders and crews."""

    name: str
    orders: list[WorkOrder]
    crews: list[Crew]


def _lonlat(x_km: float, y_km: float) -> tuple[float, float]:
    return SW[0] + x_km * KM_LON, SW[1] + y_km * KM_LAT


def make_day(stops: int, crews: int, seed: int = 311) -> Day:
    """A seeded day of ``stops`` requests and ``crews`` crews (see module docstring)."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform((2, 2), (18, 13), size=(6, 2))
    orders: list[WorkOrder] = []
    skills = list(MINUTES)
    for j in range(stops):
        if rng.random() < 0.7:
            x, y = centres[rng.integers(6)] + rng.normal(0, 0.8, size=2)
        else:
            x, y = rng.uniform((0, 0), (20, 15))
        x, y = float(np.clip(x, 0, 20)), float(np.clip(y, 0, 15))
        skill = skills[rng.integers(len(skills))]
        lo, hi = MINUTES[skill]
        u = rng.random()
        priority = Priority.P1 if u < 0.1 else Priority.P2 if u < 0.4 else Priority.P3
        window = None
        if rng.random() < 0.15:
            start = datetime.combine(DAY, time(8), tzinfo=TZ) + timedelta(
                minutes=int(rng.integers(0, 5 * 60 // 15 + 1)) * 15
            )
            window = TimeWindow(start, start + timedelta(hours=2))
        lon, lat = _lonlat(x, y)
        orders.append(
            WorkOrder(
                job_id=j + 1,
                service_code=skill,
                title=f"{skill} job",
                address=f"{j + 1} Synthetic St",
                lon=lon,
                lat=lat,
                skill=skill,
                service_minutes=int(rng.integers(lo, hi + 1)),
                priority=priority,
                window=window,
            )
        )
    n_yards = max(1, crews // 10)
    yards = [
        Depot(f"Yard {k + 1}", *_lonlat(4 + 12 * (k % 2), 4 + 7 * ((k // 2) % 2)))
        for k in range(n_yards)
    ]
    roster = [
        Crew(
            code=f"C{k + 1:02d}",
            depot=yards[k % n_yards],
            shift_start=time(7),
            shift_end=time(15),
            skills=frozenset(SKILL_SETS[k % len(SKILL_SETS)]),
            lunch=LunchBreak(time(11), time(13), 30),
        )
        for k in range(crews)
    ]
    return Day(f"311-n{stops}-c{crews}-s{seed}", orders, roster)
