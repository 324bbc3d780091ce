"""Field crews: the yard they leave from, their shift, lunch break and skills.

Shift and break times are local wall-clock times of the city (``HH:MM``); a crew's day is
turned into concrete instants by :meth:`Crew.shift_on` with the city's time zone, so a
daylight-saving change never moves a shift.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from geodispatch.domain.errors import InputError

#: Skills a crew may list; the catalogue's service types name one of these per type.
KNOWN_SKILLS: Final = frozenset(
    {
        "general",
        "asphalt",
        "electrical",
        "signs",
        "forestry",
        "sanitation",
        "graffiti",
        "water",
        "street_cleaning",
        "enforcement",
        "parks",
        "inspection",
    }
)


def parse_hhmm(text: str, *, what: str) -> time:
    """A local time from ``HH:MM`` text, with an error that names the field."""
    try:
        hours, minutes = text.strip().split(":")
        return time(int(hours), int(minutes))
    except (ValueError, AttributeError):
        raise InputError(f"{what}: {text!r} is not a time; write it as HH:MM, e.g. 07:00") from None


def local_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The aware instant of local time ``at`` on ``day`` in ``tz``."""
    return datetime.combine(day, at, tzinfo=tz)


@dataclass(frozen=True, slots=True)
class Depot:
    """A yard: where a crew picks up its truck in the morning and returns it at night."""

    name: str
    lon: float
    lat: float

    def __post_init__(self) -> None:
        if not (-180.0 <= self.lon <= 180.0 and -90.0 <= self.lat <= 90.0):
            raise InputError(
                f"yard {self.name!r}: ({self.lon}, {self.lat}) is not a WGS84 lon/lat point; "
                "give longitude first, e.g. -71.06, 42.36"
            )


@dataclass(frozen=True, slots=True)
class LunchBreak:
    """A break of ``minutes`` that must lie wholly inside ``[window_start, window_end]``."""

    window_start: time
    window_end: time
    minutes: int = 30

    def __post_init__(self) -> None:
        if not 1 <= self.minutes <= 180:
            raise InputError(f"break minutes must be in [1, 180]. Got {self.minutes} instead.")
        span = _minutes(self.window_end) - _minutes(self.window_start)
        if span < self.minutes:
            raise InputError(
                f"break window {self.window_start:%H:%M}-{self.window_end:%H:%M} is shorter "
                f"than the {self.minutes} min break; widen the window or shorten the break"
            )

    @property
    def latest_start(self) -> time:
        """The last local time the break can begin and still end inside its window."""
        total = _minutes(self.window_end) - self.minutes
        return time(total // 60, total % 60)


@dataclass(frozen=True, slots=True)
class Crew:
    """A field crew with its yard, daily shift, optional lunch break, skills and job cap.

    Shifts do not cross midnight. ``max_jobs`` caps the stops in one day (``None``: no cap).
    ``id`` is the database id (0 before the crew is stored).
    """

    code: str
    depot: Depot
    shift_start: time
    shift_end: time
    skills: frozenset[str]
    lunch: LunchBreak | None = None
    name: str = ""
    max_jobs: int | None = None
    active: bool = True
    id: int = 0

    def __post_init__(self) -> None:
        if not self.code.strip():
            raise InputError("a crew needs a code, e.g. 'PWD-1'")
        if self.shift_end <= self.shift_start:
            raise InputError(
                f"crew {self.code!r}: shift ends {self.shift_end:%H:%M}, not after it starts "
                f"{self.shift_start:%H:%M}; shifts cannot cross midnight, correct the roster"
            )
        if not self.skills:
            raise InputError(f"crew {self.code!r} has no skills; give at least 'general'")
        bad = sorted(s for s in self.skills if s != s.strip().lower() or not s.strip())
        if bad:
            raise InputError(
                f"crew {self.code!r}: skills must be lower-case words. Got {bad} instead."
            )
        if self.max_jobs is not None and self.max_jobs < 1:
            raise InputError(
                f"crew {self.code!r}: max_jobs must be at least 1 or empty. Got {self.max_jobs}."
            )
        if self.lunch is not None and not (
            self.shift_start <= self.lunch.window_start and self.lunch.window_end <= self.shift_end
        ):
            raise InputError(
                f"crew {self.code!r}: break window {self.lunch.window_start:%H:%M}-"
                f"{self.lunch.window_end:%H:%M} lies outside the shift "
                f"{self.shift_start:%H:%M}-{self.shift_end:%H:%M}; move it inside"
            )

    def shift_on(self, day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """The shift's start and end instants on ``day`` in the city's zone ``tz``."""
        return local_instant(day, self.shift_start, tz), local_instant(day, self.shift_end, tz)

    @property
    def shift_length(self) -> timedelta:
        """The shift's nominal length (wall clock)."""
        return timedelta(minutes=_minutes(self.shift_end) - _minutes(self.shift_start))

    def can_do(self, skill: str) -> bool:
        """True when the crew has ``skill``."""
        return skill in self.skills

    @property
    def skills_text(self) -> str:
        """Skills as sorted, comma-separated text (how they are stored)."""
        return ",".join(sorted(self.skills))


def parse_skills(text: str) -> frozenset[str]:
    """Skills from comma-separated text, normalised to lower case."""
    return frozenset(s.strip().lower() for s in text.split(",") if s.strip())


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def last_shift_end(crews: Sequence[Crew], day: date, tz: ZoneInfo) -> datetime | None:
    """When the last active crew's shift on ``day`` ends (None: no active crew)."""
    ends = [c.shift_on(day, tz)[1] for c in crews if c.active]
    return max(ends) if ends else None
