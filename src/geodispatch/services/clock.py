"""Where the product asks for "now": the city's clock, pinned when the settings or the demo say.

``GEODISPATCH_CLOCK`` pins the day (``2025-05-19``) or the instant (``2025-05-19T15:17``);
otherwise a loaded demo pins the day to its data's last day (so its backlog, SLA states
and trend windows read as they did then); otherwise the real time. Nothing else in the
product calls ``datetime.now()``.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from geodispatch.config import Settings, get_settings
from geodispatch.domain.clock import Clock, parse_clock
from geodispatch.storage import state_repo
from geodispatch.storage.db import ensure_schema, session_scope


def city_clock(settings: Settings | None = None) -> Clock:
    """The clock the product runs on (see module docstring)."""
    settings = settings or get_settings()
    zone = ZoneInfo(settings.timezone)
    if settings.clock.strip():
        return parse_clock(settings.clock, zone, reason="set by GEODISPATCH_CLOCK")
    with session_scope(ensure_schema(settings.database_url)) as session:
        pinned = state_repo.get_value(session, state_repo.DEMO_DAY)
    if pinned:
        return parse_clock(pinned, zone, reason="the demo data's last day")
    return Clock(zone)


def now(settings: Settings | None = None) -> datetime:
    """The current instant in the city's zone."""
    return city_clock(settings).now()


def today(settings: Settings | None = None) -> date:
    """Today's date in the city's zone."""
    return city_clock(settings).today()


def pin_demo_day(day: date | None, *, settings: Settings | None = None) -> None:
    """Pin the product's day to ``day`` (the demo's last data day); None unpins it."""
    settings = settings or get_settings()
    with session_scope(ensure_schema(settings.database_url)) as session:
        state_repo.set_value(
            session,
            state_repo.DEMO_DAY,
            "" if day is None else day.isoformat(),
            now=Clock(ZoneInfo(settings.timezone)).now(),
        )
