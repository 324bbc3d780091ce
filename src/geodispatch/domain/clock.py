"""The product's one clock: what "now" and "today" are in the city's zone.

Every screen, command and service asks a :class:`Clock` for the time, so a demo whose data
ends on some past day can run on that day (its SLA states, trend windows and plans all
follow), and tests can run the product at 08:00, 11:30 or after the shift ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from geodispatch.domain.errors import InputError


@dataclass(frozen=True, slots=True)
class Clock:
    """The city's time, optionally pinned to one day (a demo) or one instant (a test).

    ``day`` pins the date and lets the time of day run; ``at`` also fixes the time of
    day. ``reason`` says why the clock is pinned, for the banner every page shows.
    """

    zone: ZoneInfo
    day: date | None = None
    at: time | None = None
    reason: str = ""

    def __post_init__(self) -> None:
        if self.at is not None and self.day is None:
            raise InputError("a clock with a fixed time of day needs a day too (e.g. 2025-05-19)")

    @property
    def pinned(self) -> bool:
        """True when "today" is not the real date."""
        return self.day is not None

    def now(self) -> datetime:
        """The current instant, aware, in the city's zone."""
        real = datetime.now(self.zone)
        if self.day is None:
            return real
        clock_time = self.at or real.time()
        return datetime.combine(self.day, clock_time, tzinfo=self.zone)

    def today(self) -> date:
        """Today's date in the city's zone."""
        return self.now().date()

    def banner(self) -> str:
        """One line saying which day the product runs on ("" for the real clock)."""
        if self.day is None:
            return ""
        when = f"{self.day:%A %d %B %Y}"
        if self.at is not None:
            when += f", {self.at:%H:%M} (time fixed)"
        why = f" ({self.reason})" if self.reason else ""
        return f"Running on {when}{why}, not on the real date."


def parse_clock(text: str, zone: ZoneInfo, *, reason: str = "") -> Clock:
    """A clock from a setting: '' (real time), 'YYYY-MM-DD' or 'YYYY-MM-DDTHH:MM'."""
    text = text.strip()
    if not text:
        return Clock(zone)
    try:
        if "T" in text or " " in text:
            stamp = datetime.fromisoformat(text)
            return Clock(zone, stamp.date(), stamp.time().replace(tzinfo=None), reason)
        return Clock(zone, date.fromisoformat(text), None, reason)
    except ValueError as exc:
        raise InputError(
            f"clock setting {text!r} is not a date or date and time; use e.g. 2025-05-19 "
            "or 2025-05-19T15:17, or leave it empty for the real time"
        ) from exc
