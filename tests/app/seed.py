"""A real seeded database for app tests: Boston's 2025 open backlog, crews, a published plan.

Seeded with the product's own services (import, grouping, hotspots, crews, planning,
publishing), so the pages are tested against what a city's first day looks like.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from geodispatch.config import Settings
from geodispatch.services import board, clock, dispatch, field
from geodispatch.services.hotspots import refresh_hotspots
from geodispatch.services.intake import import_file
from geodispatch.services.workflow import group_new_requests
from tests.conftest import BOSTON_2025

PIN = "24680"
#: The 2025 backlog's last day: the day the seeded database runs on.
DAY = date(2025, 5, 19)
#: Crews that get a PIN (hashing a PIN takes a fraction of a second: not all 20).
SIGNED_CREWS = ("ASP-1", "LGT-1", "SGN-1")


def seed_boston_slice(settings: Settings, *, plan_seconds: float = 1.0) -> int:
    """Load the 2025 backlog, group it, find hotspots, seed crews, publish today's plan.

    Returns the published plan's id.
    """
    import_file(BOSTON_2025, source="boston", settings=settings)
    group_new_requests(settings=settings)
    refresh_hotspots(settings=settings)
    dispatch.seed_crews(settings=settings)
    for code in SIGNED_CREWS:
        field.set_pin(code, PIN, settings=settings)
    # the product's day is the backlog's last day, as the demo pins it (so a server
    # started on this database runs on it too); the plan is that day's morning plan
    clock.pin_demo_day(DAY, settings=settings)
    morning = datetime.combine(DAY, time(6, 30), ZoneInfo(settings.timezone))
    outcome = dispatch.plan_day(DAY, now=morning, time_limit_s=plan_seconds, settings=settings)
    board.publish(outcome.plan_id, expected_version=outcome.plan.version, settings=settings)
    return outcome.plan_id
