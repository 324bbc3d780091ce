"""Service-level targets: when each request is due, and which are overdue or at risk.

A type's target (``ServiceType.sla_hours``) counts clock hours from the report, or, when a
:class:`BusinessCalendar` is given, working hours only (a 16-hour target reported on Friday
afternoon falls due on Tuesday, not on Saturday night). Flags are computed for a given
"now", so reports and tests are reproducible.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from geodispatch.domain.errors import ConfigError, InputError, SchemaError

_DAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: Columns :func:`sla_flags` needs.
FLAG_COLUMNS: Final = ("created_at", "due_at", "closed_at", "is_open")


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """Working hours in the city's zone: the days and hours the SLA clock runs.

    Attributes
    ----------
    opens, closes
        Local start and end of a working day (``closes`` after ``opens``).
    workdays
        Weekday numbers that are working days (Monday = 0).
    holidays
        Dates on which the clock does not run.
    tz
        IANA zone of the city.
    """

    opens: time = time(7, 0)
    closes: time = time(15, 30)
    workdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    holidays: frozenset[date] = field(default_factory=frozenset)
    tz: str = "America/New_York"

    def __post_init__(self) -> None:
        if self.closes <= self.opens:
            raise InputError(
                f"BusinessCalendar: closes {self.closes:%H:%M} is not after opens "
                f"{self.opens:%H:%M}; give a day like 07:00-15:30"
            )
        if not self.workdays or not self.workdays <= set(range(7)):
            raise InputError(
                f"BusinessCalendar: workdays must be a non-empty set of 0..6 (Monday = 0). "
                f"Got {sorted(self.workdays)} instead."
            )

    @property
    def day_hours(self) -> float:
        """Working hours in one day."""
        start = datetime.combine(date.min, self.opens)
        return (datetime.combine(date.min, self.closes) - start).total_seconds() / 3600.0

    @classmethod
    def parse(cls, spec: str, *, tz: str) -> BusinessCalendar:
        """A calendar from text such as ``"mon-fri 07:00-15:30; holidays 2025-12-25"``.

        Raises
        ------
        ConfigError
            The text does not follow that form.
        """
        match = re.fullmatch(
            r"\s*([a-z]{3})(?:-([a-z]{3}))?\s+(\d{1,2}:\d{2})-(\d{1,2}:\d{2})\s*"
            r"(?:;\s*holidays\s+([\d\-,\s]+))?\s*",
            spec.lower(),
        )
        example = "'mon-fri 07:00-15:30; holidays 2025-12-25,2026-01-01'"
        if match is None:
            raise ConfigError(f"SLA calendar {spec!r} is not understood; write it like {example}")
        first, last, opens, closes, holidays = match.groups()
        try:
            a = _DAYS.index(first)
            b = _DAYS.index(last or first)
            span = range(a, b + 1) if a <= b else [*range(a, 7), *range(b + 1)]
            days = frozenset(span)
            return cls(
                opens=time.fromisoformat(opens.zfill(5)),
                closes=time.fromisoformat(closes.zfill(5)),
                workdays=days,
                holidays=frozenset(
                    date.fromisoformat(d.strip()) for d in (holidays or "").split(",") if d.strip()
                ),
                tz=tz,
            )
        except (ValueError, InputError) as exc:
            raise ConfigError(f"SLA calendar {spec!r}: {exc}; write it like {example}") from None

    def is_workday(self, day: date) -> bool:
        """True when the SLA clock runs on ``day``."""
        return day.weekday() in self.workdays and day not in self.holidays

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """The moment ``hours`` working hours after ``start`` (aware in, aware UTC out)."""
        if start.tzinfo is None:
            raise InputError(f"add_working_hours: start {start} has no time zone; attach one")
        zone = ZoneInfo(self.tz)
        local = start.astimezone(zone)
        remaining = timedelta(hours=hours)
        day = local.date()
        # whole weeks without holidays are skipped in one step (targets run to 17,000 hours)
        week = timedelta(hours=self.day_hours * len(self.workdays))
        while True:
            opens = datetime.combine(day, self.opens, zone)
            closes = datetime.combine(day, self.closes, zone)
            if self.is_workday(day) and local < closes:
                begin = max(local, opens)
                available = closes - begin
                if remaining <= available:
                    return (begin + remaining).astimezone(ZoneInfo("UTC"))
                remaining -= available
            day += timedelta(days=1)
            local = datetime.combine(day, time(0), zone)
            while remaining > week and not any(
                day + timedelta(days=k) in self.holidays for k in range(7)
            ):
                remaining -= week
                day += timedelta(days=7)
                local = datetime.combine(day, time(0), zone)


@dataclass(frozen=True, slots=True)
class SlaParams:
    """When an open request counts as at risk of missing its target.

    Attributes
    ----------
    at_risk_fraction
        An open request is at risk once less than this share of its SLA window is left
        (0.25: the last 12 hours of a 48-hour pothole target, the last 3.5 days of a
        two-week street-light target).
    """

    at_risk_fraction: float = 0.25

    def __post_init__(self) -> None:
        if not 0 < self.at_risk_fraction < 1:
            raise InputError(
                f"SlaParams.at_risk_fraction must be in (0, 1). Got {self.at_risk_fraction} "
                "instead."
            )


def due_time(
    created: datetime, target_hours: float, calendar: BusinessCalendar | None = None
) -> datetime:
    """When a request opened at ``created`` is due under a target of ``target_hours``."""
    if target_hours <= 0:
        raise InputError(f"SLA target must be positive hours. Got {target_hours} instead.")
    if calendar is None:
        return created + timedelta(hours=target_hours)
    return calendar.add_working_hours(created, target_hours)


def due_times(
    created: pd.Series, target_hours: pd.Series, calendar: BusinessCalendar | None = None
) -> pd.Series:
    """Due time per row (NaT where the type has no target), aligned to ``created``."""
    hours = pd.to_numeric(target_hours, errors="coerce")
    valid = hours.notna() & (hours > 0) & created.notna()
    if calendar is None:
        out = created + pd.to_timedelta(hours.where(valid), unit="h")
        return out.where(valid)
    values = [
        pd.Timestamp(calendar.add_working_hours(c.to_pydatetime(), float(h))) if ok else pd.NaT
        for c, h, ok in zip(created, hours, valid, strict=True)
    ]
    return pd.Series(pd.DatetimeIndex(values, tz="UTC"), index=created.index)


def sla_flags(
    frame: pd.DataFrame, *, now: datetime, params: SlaParams | None = None
) -> pd.DataFrame:
    """SLA standing of each request at ``now``.

    Parameters
    ----------
    frame
        :data:`FLAG_COLUMNS`: aware ``created_at``, ``due_at`` (NaT = no target),
        ``closed_at`` and boolean ``is_open``.
    now
        The moment to judge at (aware).
    params
        At-risk threshold.

    Returns
    -------
    pandas.DataFrame
        Same index, with ``hours_left`` (open requests; negative when overdue),
        ``overdue`` (open and past due), ``at_risk`` (open, not yet overdue, less than
        ``at_risk_fraction`` of the window left), ``met`` (closed on or before due; <NA>
        while open or without a target) and ``hours_late`` (how late a closed request was).
    """
    params = params or SlaParams()
    missing = [c for c in FLAG_COLUMNS if c not in frame.columns]
    if missing:
        raise SchemaError(f"sla_flags: missing column(s) {', '.join(missing)}")
    stamp = pd.Timestamp(now)
    due = frame["due_at"]
    has_due = due.notna().to_numpy()
    is_open = frame["is_open"].to_numpy(dtype=bool)
    hours_left = ((due - stamp).dt.total_seconds() / 3600.0).where(is_open & has_due)
    window_h = (due - frame["created_at"]).dt.total_seconds() / 3600.0
    overdue = is_open & has_due & (hours_left < 0).to_numpy(dtype=bool)
    at_risk = (
        is_open
        & has_due
        & ~overdue
        & (hours_left < params.at_risk_fraction * window_h.clip(lower=0)).to_numpy(dtype=bool)
    )
    closed = ~is_open & has_due & frame["closed_at"].notna().to_numpy()
    late_h = (frame["closed_at"] - due).dt.total_seconds() / 3600.0
    met = pd.Series(pd.NA, index=frame.index, dtype="boolean")
    met[closed] = (late_h[closed] <= 0).to_numpy()
    return pd.DataFrame(
        {
            "hours_left": hours_left,
            "overdue": overdue,
            "at_risk": at_risk,
            "met": met,
            "hours_late": late_h.where(closed & (late_h > 0).to_numpy(dtype=bool), np.nan),
        },
        index=frame.index,
    )
