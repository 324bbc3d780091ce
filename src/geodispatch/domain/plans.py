"""Work orders, route plans and the reasons a job was left out of a day's plan.

A *work order* is a job as the planner sees it: a point, the skill and minutes it needs,
its priority, SLA due time, optional appointment window and caller count. A *route plan*
is one day's answer: per crew the ordered stops with times, and every job left out with a
reason a dispatcher can act on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Final

from geodispatch.domain.crews import Crew
from geodispatch.domain.errors import InputError
from geodispatch.domain.requests import Priority


def _require_aware(value: datetime | None, *, what: str) -> None:
    if value is not None and value.tzinfo is None:
        raise InputError(f"{what} {value:%Y-%m-%d %H:%M} has no time zone; pass an aware time")


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """An appointment: service must *start* between ``start`` and ``end``."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        _require_aware(self.start, what="appointment start")
        _require_aware(self.end, what="appointment end")
        if self.end < self.start:
            raise InputError(
                f"appointment ends {self.end:%Y-%m-%d %H:%M} before it starts "
                f"{self.start:%Y-%m-%d %H:%M}; swap the two times"
            )


@dataclass(frozen=True, slots=True)
class WorkOrder:
    """One job ready for routing.

    ``service_minutes`` is the on-site time; ``due_at`` the SLA due time (soft: lateness
    costs, it never forbids a visit); ``window`` a hard appointment window for the start of
    service. ``lon``/``lat`` are ``None`` when the job has no usable location; such jobs are
    reported, never routed to a guessed point. ``urgent`` makes the job a must-serve visit
    (the dispatcher's "urgent: re-plan around it"), not merely a high priority.
    """

    job_id: int
    service_code: str
    title: str
    address: str
    lon: float | None
    lat: float | None
    skill: str
    service_minutes: int
    priority: Priority
    due_at: datetime | None = None
    window: TimeWindow | None = None
    caller_count: int = 1
    created_at: datetime | None = None
    ward: int | None = None
    urgent: bool = False

    def __post_init__(self) -> None:
        _require_aware(self.due_at, what=f"job {self.job_id}: due time")
        _require_aware(self.created_at, what=f"job {self.job_id}: created time")
        if not 1 <= self.service_minutes <= 24 * 60:
            raise InputError(
                f"job {self.job_id}: service_minutes must be in [1, 1440]. "
                f"Got {self.service_minutes} instead."
            )
        if self.caller_count < 1:
            raise InputError(f"job {self.job_id}: caller_count must be at least 1.")
        if not self.skill:
            raise InputError(f"job {self.job_id}: skill is empty; use 'general'")

    @property
    def located(self) -> bool:
        """True when a crew can drive to the job."""
        return self.lon is not None and self.lat is not None


@dataclass(frozen=True, slots=True)
class LockedStop:
    """A stop a re-plan must keep on its crew, in this order among the crew's locked stops."""

    job_id: int
    crew_code: str
    sequence: int


@dataclass(frozen=True, slots=True)
class CrewPosition:
    """Where a crew is mid-day: free from ``available_at`` at (lon, lat).

    After a re-plan the crew's route starts here instead of at its yard. ``break_taken``
    says lunch is already done today.
    """

    crew_code: str
    available_at: datetime
    lon: float
    lat: float
    break_taken: bool = False

    def __post_init__(self) -> None:
        _require_aware(self.available_at, what=f"crew {self.crew_code}: available time")


class DropReason(StrEnum):
    """Why a job is not on any route today."""

    NO_LOCATION = "no_location"
    NO_CREW_WITH_SKILL = "no_crew_with_skill"
    OUTSIDE_ALL_SHIFTS = "outside_all_shifts"
    PAST_DEADLINE = "past_deadline"
    NOT_REACHABLE = "not_reachable"
    LOWER_PRIORITY = "lower_priority"
    NO_ROOM = "no_room"

    @property
    def label(self) -> str:
        """Plain-language label for screens."""
        return DROP_LABELS[self]


DROP_LABELS: Final = {
    DropReason.NO_LOCATION: "No usable location",
    DropReason.NO_CREW_WITH_SKILL: "No crew on shift has the skill",
    DropReason.OUTSIDE_ALL_SHIFTS: "Appointment outside every shift",
    DropReason.PAST_DEADLINE: "Appointment window already over",
    DropReason.NOT_REACHABLE: "Cannot be done within any shift",
    DropReason.LOWER_PRIORITY: "Lower priority than the work served",
    DropReason.NO_ROOM: "Does not fit any route",
}


@dataclass(frozen=True, slots=True)
class DroppedJob:
    """A job left out of the plan, with the reason and a detail a dispatcher can act on."""

    order: WorkOrder
    reason: DropReason
    detail: str


@dataclass(frozen=True, slots=True)
class PlannedStop:
    """A job on a crew's route: when the crew arrives, starts, and leaves.

    ``eta`` is the start of service (what a resident is told); ``arrive_at`` can be earlier
    when the crew waits for an appointment window. ``travel_s`` is the drive from the
    previous stop (or the yard). ``late_s`` is how far service ends after the SLA due time.
    """

    order: WorkOrder
    sequence: int
    arrive_at: datetime
    eta: datetime
    departs_at: datetime
    travel_s: int
    wait_s: int
    service_s: int
    late_s: int = 0
    locked: bool = False
    status: str = "planned"


@dataclass(frozen=True, slots=True)
class CrewRoute:
    """One crew's day: stops in order, lunch, and the totals a crew chief checks."""

    crew: Crew
    stops: tuple[PlannedStop, ...]
    starts_at: datetime
    ends_at: datetime
    start_lon: float
    start_lat: float
    return_travel_s: int
    break_start: datetime | None = None
    break_after: int = 0  # lunch after this many stops

    @property
    def travel_s(self) -> int:
        """Driving seconds, yard (or current position) to yard."""
        return sum(s.travel_s for s in self.stops) + self.return_travel_s

    @property
    def service_s(self) -> int:
        """On-site work seconds."""
        return sum(s.service_s for s in self.stops)

    @property
    def wait_s(self) -> int:
        """Seconds spent waiting for appointment windows."""
        return sum(s.wait_s for s in self.stops)

    @property
    def span(self) -> timedelta:
        """From leaving the yard to being back."""
        return self.ends_at - self.starts_at


@dataclass(frozen=True, slots=True)
class Violation:
    """A rule a plan breaks, as found by the independent checker."""

    kind: str
    crew_code: str
    job_id: int | None
    detail: str


class PlanStatus(StrEnum):
    """Where a stored plan stands: a draft, the one crews see, or history."""

    DRAFT = "draft"
    PUBLISHED = "published"
    SUPERSEDED = "superseded"


@dataclass(frozen=True, slots=True)
class StageStat:
    """What one stage of the route search did: its name, seconds, and the plan cost after.

    ``cost`` is :func:`~geodispatch.dispatch.schedule.plan_cost` of the routes the stage
    handed on (driving seconds + drop penalties), so stages compare on one scale.
    """

    name: str
    wall_s: float
    cost: int
    note: str = ""


@dataclass(frozen=True, slots=True)
class PlanStats:
    """How a plan was made: size, search stages, repair, the re-plan baseline, the matrix.

    ``baseline_*`` and ``kept_routes`` are set by re-plans: the crews' routes with the new
    work squeezed in (what a dispatcher would do by hand), and whether the plan kept them
    because the search's order did not pay for the jobs it moved between crews.
    ``matrix`` is the travel-time source's key (see ``dispatch.matrix.matrix_label``).
    """

    jobs_considered: int = 0
    crews: int = 0
    objective: int = 0
    solver_status: str = ""
    stages: tuple[StageStat, ...] = ()
    solve_s: float = 0.0
    build_s: float = 0.0
    repair_inserted: int = 0
    repair_swapped: int = 0
    repair_s: float = 0.0
    relocated: int = 0
    relocate_saved_s: int = 0
    relocate_s: float = 0.0
    baseline_travel_s: int | None = None
    baseline_served: int | None = None
    search_moved_from_kept: int | None = None
    move_cost_s: int | None = None
    kept_routes: bool = False
    total_s: float = 0.0
    matrix: str = ""

    def to_json(self) -> dict[str, object]:
        """Plain JSON-ready values (how plans store their stats)."""
        out = {f: getattr(self, f) for f in _STAT_FIELDS if f != "stages"}
        out["stages"] = [
            {"stage": s.name, "s": s.wall_s, "cost": s.cost, "note": s.note} for s in self.stages
        ]
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> PlanStats:
        """Stats from :meth:`to_json`'s values; unknown keys (older plans) are ignored."""
        raw_stages = data.get("stages") or []
        stages = tuple(
            StageStat(
                str(s.get("stage", "")),
                float(s.get("s", 0.0)),
                int(s.get("cost", 0)),
                str(s.get("note", "")),
            )
            for s in raw_stages  # type: ignore[attr-defined]
            if isinstance(s, Mapping)
        )
        known = {k: v for k, v in data.items() if k in _STAT_FIELDS and k != "stages"}
        return cls(**known, stages=stages)  # type: ignore[arg-type]


_STAT_FIELDS: Final = frozenset(PlanStats.__dataclass_fields__)


@dataclass(frozen=True, slots=True)
class RoutePlan:
    """One day's routing plan: routes, dropped jobs with reasons, and what produced it."""

    plan_date: date
    routes: tuple[CrewRoute, ...]
    dropped: tuple[DroppedJob, ...]
    solver: str = ""
    created_at: datetime | None = None
    stats: PlanStats = PlanStats()
    violations: tuple[Violation, ...] = ()
    id: int | None = None
    parent_id: int | None = None
    status: PlanStatus = PlanStatus.DRAFT
    version: int = 1

    @property
    def served(self) -> int:
        """Jobs on some route."""
        return sum(len(r.stops) for r in self.routes)

    @property
    def travel_s(self) -> int:
        """Driving seconds over all crews."""
        return sum(r.travel_s for r in self.routes)

    @property
    def service_s(self) -> int:
        """On-site seconds over all crews."""
        return sum(r.service_s for r in self.routes)

    def route_of(self, crew_code: str) -> CrewRoute | None:
        """The route of the crew with ``crew_code``, if it has one in this plan."""
        return next((r for r in self.routes if r.crew.code == crew_code), None)

    def crew_of_job(self) -> dict[int, str]:
        """Job id -> crew code for every served job."""
        return {s.order.job_id: r.crew.code for r in self.routes for s in r.stops}


@dataclass(frozen=True, slots=True)
class PlanChange:
    """How one job's place changed between a plan and its re-plan."""

    job_id: int
    kind: str  # moved | added | dropped | retimed | new
    from_crew: str | None
    to_crew: str | None
    eta_before: datetime | None
    eta_after: datetime | None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class PlanDiff:
    """What a re-plan changed: jobs moved, minutes of driving saved, SLA risks."""

    changes: tuple[PlanChange, ...]
    travel_saved_s: int
    sla_risks: tuple[str, ...]
