"""The dispatcher's board: open jobs with filters, possible duplicates, today's plan.

Reads for the dispatcher pages (one call per screen) and the two plan actions that need
more than one step (publish = publish + mark the routed jobs Work assigned; re-plan with
an urgent job = re-plan + the list of what changed). Everything here goes through the
repositories and the pure core; pages only render what comes back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Final

import numpy as np
import pandas as pd

from geodispatch.analysis.dedup import CandidateParams, near_duplicates
from geodispatch.analysis.sla import sla_flags
from geodispatch.config import Settings, get_settings
from geodispatch.dispatch.replan import PublishCheck
from geodispatch.domain.accounts import Action, StaffUser, require
from geodispatch.domain.errors import InputError, NotFoundError
from geodispatch.domain.jobs import Job
from geodispatch.domain.plans import PlanDiff, RoutePlan
from geodispatch.domain.requests import RequestStatus
from geodispatch.domain.workflow import TRANSITIONS, EventKind
from geodispatch.geo.crs import lonlat_to_working
from geodispatch.io.photos import photo_path
from geodispatch.reporting.maps import TileSource, render_html
from geodispatch.reporting.plan_tables import (
    change_table,
    crew_table,
    dropped_table,
    reason_table,
    stop_table,
)
from geodispatch.reporting.route_map import route_map
from geodispatch.services import clock, dispatch, workflow
from geodispatch.services.field import local_today
from geodispatch.services.hotspots import ward_outlines
from geodispatch.services.workflow import (
    PRIVATE_PREMISES_SKILLS,
    database_url,
)
from geodispatch.storage import board_repo, plans_repo
from geodispatch.storage.db import session_scope

#: SLA standing of an open job, and how it reads on screen.
SLA_STATES: Final = {
    "overdue": "Overdue",
    "at_risk": "At risk",
    "on_track": "On track",
    "no_target": "No SLA target",
}


@dataclass(frozen=True, slots=True)
class JobFilter:
    """What the dispatcher narrowed the open jobs to; empty tuples mean "all".

    ``min_age_days``/``max_age_days`` bound the age of the job's first report;
    ``sla`` holds :data:`SLA_STATES` keys; ``routed`` is ``"any"``, ``"on_route"`` (on
    a route of the day's plan) or ``"not_routed"``; ``text`` matches the address.
    """

    service_codes: tuple[str, ...] = ()
    wards: tuple[int, ...] = ()
    min_age_days: float = 0.0
    max_age_days: float | None = None
    sla: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    routed: str = "any"
    text: str = ""

    def __post_init__(self) -> None:
        unknown = [s for s in self.sla if s not in SLA_STATES]
        if unknown:
            raise InputError(
                f"unknown SLA state(s) {', '.join(unknown)}; use {', '.join(SLA_STATES)}"
            )
        if self.routed not in {"any", "on_route", "not_routed"}:
            raise InputError(
                f"routed must be any, on_route or not_routed. Got {self.routed!r} instead."
            )
        if self.min_age_days < 0 or (
            self.max_age_days is not None and self.max_age_days < self.min_age_days
        ):
            raise InputError(
                f"age range {self.min_age_days}–{self.max_age_days} days is empty; the "
                "lower bound must be ≥ 0 and not above the upper one"
            )


@dataclass(frozen=True, slots=True)
class JobBoard:
    """Open jobs after the filter, and what the filter widgets can offer."""

    jobs: pd.DataFrame
    total: int
    types: dict[str, str]  # code -> name, of every open job
    wards: list[int]
    by_sla: dict[str, int]  # counts over the filtered jobs
    plan_id: int | None  # the day's plan the "crew" column comes from
    max_age_days: float


def _sla_state(frame: pd.DataFrame, now: datetime) -> pd.DataFrame:
    facts = frame[["created_at", "due_at"]].assign(
        closed_at=pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]"), is_open=True
    )
    flags = sla_flags(facts, now=now)
    state = np.select(
        [flags["overdue"].to_numpy(), flags["at_risk"].to_numpy(), frame["due_at"].isna()],
        ["overdue", "at_risk", "no_target"],
        default="on_track",
    )
    hours = flags["hours_left"]
    return frame.assign(hours_left=hours, days_left=hours / 24.0, sla=state)


def job_board(
    selection: JobFilter | None = None,
    *,
    now: datetime | None = None,
    day: date | None = None,
    settings: Settings | None = None,
) -> JobBoard:
    """Open jobs with SLA standing, age and today's crew, filtered; most urgent first.

    Sorted overdue first (most overdue at the top), then by hours left, then priority;
    jobs without an SLA target come last.
    """
    settings = settings or get_settings()
    selection = selection or JobFilter()
    at = now or clock.now(settings)
    day = day or local_today(settings, at)
    with session_scope(database_url(settings)) as session:
        frame = board_repo.open_jobs_frame(session)
        plan_id = plans_repo.current_plan_id(session, day)
        stops = (
            board_repo.plan_stops_frame(session, plan_id)
            if plan_id is not None
            else pd.DataFrame(columns=["job_id", "crew_code", "sequence", "stop_status", "eta"])
        )
    # a pinned clock (the demo, a test) does not see reports made after its "now"
    frame = frame[frame["created_at"] <= pd.Timestamp(at)].reset_index(drop=True)
    frame = _sla_state(frame, at)
    frame["age_days"] = (pd.Timestamp(at) - frame["created_at"]).dt.total_seconds() / 86_400
    frame["status_label"] = frame["status"].map(lambda s: RequestStatus(s).label)
    frame = frame.merge(stops[["job_id", "crew_code", "sequence"]], on="job_id", how="left")
    types = dict(zip(frame["service_code"], frame["service_name"], strict=True))
    wards = sorted(int(w) for w in frame["ward"].dropna().unique())
    max_age = float(frame["age_days"].max()) if len(frame) else 0.0
    keep = _selected(frame, selection)
    chosen = frame[keep].sort_values(
        ["hours_left", "priority", "created_at", "job_id"], na_position="last", kind="stable"
    )
    return JobBoard(
        jobs=chosen.reset_index(drop=True),
        total=len(frame),
        types=dict(sorted(types.items(), key=lambda kv: kv[1])),
        wards=wards,
        by_sla={k: int((chosen["sla"] == k).sum()) for k in SLA_STATES},
        plan_id=plan_id,
        max_age_days=max_age,
    )


def _selected(frame: pd.DataFrame, selection: JobFilter) -> np.ndarray:
    keep = np.ones(len(frame), dtype=bool)
    if selection.service_codes:
        keep &= frame["service_code"].isin(selection.service_codes).to_numpy()
    if selection.wards:
        keep &= frame["ward"].isin(selection.wards).to_numpy(dtype=bool, na_value=False)
    keep &= (frame["age_days"] >= selection.min_age_days).to_numpy()
    if selection.max_age_days is not None:
        keep &= (frame["age_days"] <= selection.max_age_days).to_numpy()
    if selection.sla:
        keep &= frame["sla"].isin(selection.sla).to_numpy()
    if selection.statuses:
        keep &= frame["status"].isin(selection.statuses).to_numpy()
    routed = frame["crew_code"].notna().to_numpy()
    if selection.routed == "on_route":
        keep &= routed
    elif selection.routed == "not_routed":
        keep &= ~routed
    if selection.text.strip():
        needle = selection.text.strip().lower()
        keep &= frame["address"].str.lower().str.contains(needle, regex=False).to_numpy()
    return keep


def duplicate_candidates(
    params: CandidateParams | None = None, *, settings: Settings | None = None
) -> pd.DataFrame:
    """Pairs of open jobs that may be one problem, closest first, with both sides' details.

    Columns: ``job_a`` (older), ``job_b``, ``service_name``, ``distance_m``,
    ``days_apart``, ``same_address``, and per side ``address_*``, ``callers_*``,
    ``created_*``, ``status_*``, ``version_*``. Inspections (one address, many flats) are
    never offered.
    """
    settings = settings or get_settings()
    with session_scope(database_url(settings)) as session:
        jobs = board_repo.open_jobs_frame(session)
    private = frozenset(jobs.loc[jobs["skill"].isin(PRIVATE_PREMISES_SKILLS), "service_code"])
    params = params or CandidateParams()
    if private - params.never_merge:
        params = CandidateParams(
            radius_m=params.radius_m,
            window=params.window,
            never_merge=params.never_merge | private,
            max_pairs=params.max_pairs,
        )
    x, y = lonlat_to_working(
        jobs["lon"].to_numpy(dtype=float), jobs["lat"].to_numpy(dtype=float), settings.working_crs
    )
    pairs = near_duplicates(jobs.assign(x=x, y=y), params)
    side = jobs.set_index("job_id")[
        ["service_name", "address", "caller_count", "created_at", "status", "version"]
    ]
    out = pairs.join(side.add_suffix("_a"), on="job_a").join(side.add_suffix("_b"), on="job_b")
    out = out.rename(
        columns={
            "service_name_a": "service_name",
            "caller_count_a": "callers_a",
            "caller_count_b": "callers_b",
            "created_at_a": "created_a",
            "created_at_b": "created_b",
        }
    ).drop(columns=["service_name_b"])
    for column in ("status_a", "status_b"):
        out[column] = out[column].map(lambda s: RequestStatus(s).label)
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------- the day's plan


@dataclass(frozen=True, slots=True)
class PlanBoard:
    """One stored plan as the dispatcher reads it."""

    header: plans_repo.PlanHeader
    plan: RoutePlan
    crews: pd.DataFrame  # every active crew with its route's progress
    stops: pd.DataFrame  # one row per stop, by crew and sequence, with the crew's report
    dropped: pd.DataFrame  # every job left out, with the reason, most urgent first
    reasons: pd.DataFrame  # jobs left out per reason
    violations: list[str] = field(default_factory=list)

    @property
    def crews_working(self) -> int:
        """Crews with at least one stop on this plan."""
        return int((self.crews["stops"] > 0).sum()) if len(self.crews) else 0

    @property
    def finished(self) -> int:
        """Stops the crews reported done or could not complete."""
        if not len(self.crews):
            return 0
        return int(self.crews["done"].sum() + self.crews["unable"].sum())


def today(settings: Settings | None = None) -> date:
    """Today's date in the city's time zone."""
    return local_today(settings or get_settings())


def day_plans(day: date, *, settings: Settings | None = None) -> list[plans_repo.PlanHeader]:
    """The day's plans, newest first."""
    return dispatch.plan_summaries(day=day, settings=settings)


def current_plan_id(day: date, *, settings: Settings | None = None) -> int | None:
    """The day's published plan, else its newest draft, else None."""
    settings = settings or get_settings()
    with session_scope(database_url(settings)) as session:
        return plans_repo.current_plan_id(session, day)


def plan_token(plan_id: int, *, settings: Settings | None = None) -> tuple[int, int, int, str]:
    """Changes whenever the plan or one of its stops changes (a cache key for screens)."""
    settings = settings or get_settings()
    with session_scope(database_url(settings)) as session:
        return board_repo.plan_state_token(session, plan_id)


def plan_board(plan_id: int, *, settings: Settings | None = None) -> PlanBoard:
    """A plan with its crew table, stops, jobs left out (with reasons) and violations."""
    settings = settings or get_settings()
    plan = dispatch.load_plan(plan_id, settings=settings)
    crews = dispatch.list_crews(settings=settings)
    with session_scope(database_url(settings)) as session:
        header = plans_repo.header(session, plan_id)
        reports = board_repo.field_reports(session, plan_id)
    on_shift = [c for c in crews if c.active]
    dropped = dropped_table(plan)
    reports = reports.rename(
        columns={
            "kind": "report",
            "at": "report_at",
            "note": "report_note",
            "flags": "report_flags",
            "actor": "report_by",
        }
    )
    stops = stop_table(plan).merge(
        reports[
            ["job_id", "report", "report_at", "report_by", "report_note", "report_flags"]
        ].assign(photo_ref=reports["photo_ref"]),
        on="job_id",
        how="left",
    )
    return PlanBoard(
        header=header,
        plan=plan,
        crews=crew_table(plan, on_shift),
        stops=stops,
        dropped=dropped,
        reasons=reason_table(dropped),
        violations=[f"{v.crew_code}: {v.detail}" for v in plan.violations],
    )


def roster(*, settings: Settings | None = None) -> pd.DataFrame:
    """Active crews with yard, shift and skills (no plan yet: nothing routed)."""
    crews = [c for c in dispatch.list_crews(settings=settings) if c.active]
    return crew_table(None, crews)


def publish(
    plan_id: int,
    *,
    expected_version: int,
    confirm_removals: bool = False,
    by: StaffUser | None = None,
    settings: Settings | None = None,
) -> dispatch.PlanOutcome:
    """Publish a plan to the crews and mark its routed jobs Work assigned.

    Returns the published plan, how many jobs became Work assigned and which went back
    to the queue. The day's earlier published plan is superseded; a stale
    ``expected_version`` (someone else published or re-planned meanwhile) is refused and
    nothing changes; so is a plan with no stops, or one that takes jobs off the crews'
    routes without ``confirm_removals`` (see :func:`publish_check`). A signed-in ``by``
    must be allowed to publish plans; the audit names it.
    """
    who = require(by, Action.PUBLISH_PLAN).username if by is not None else ""
    return dispatch.publish_plan(
        plan_id,
        expected_version=expected_version,
        confirm_removals=confirm_removals,
        published_by=who,
        settings=settings,
    )


def publish_check(plan_id: int, *, settings: Settings | None = None) -> PublishCheck:
    """What publishing the plan would take off the crews' published routes."""
    return dispatch.publish_check(plan_id, settings=settings)


@dataclass(frozen=True, slots=True)
class Replan:
    """A re-plan's new draft and what it changed against the plan it re-planned."""

    plan_id: int
    parent_id: int
    urgent_job_id: int | None
    urgent_outcome: str  # where the urgent job ended up, or why not and what would fit
    urgent_placed: bool  # the urgent job is on a route of the new draft
    changes: pd.DataFrame
    travel_saved_min: int
    sla_risks: list[str]
    kept_note: str = ""  # why the crews' routes stood (new work squeezed in), if they did


def _kept_note(plan: RoutePlan) -> str:
    """Why a re-plan kept the crews' routes, in words ("" when it did not)."""
    if not plan.stats.kept_routes:
        return ""
    moved, cost = plan.stats.search_moved_from_kept, plan.stats.move_cost_s
    kept = "Today's routes stand, with the new work squeezed in where it is cheapest"
    if not moved or not cost:
        return f"{kept}: no new order was better."
    return (
        f"{kept}: the best new order would have handed {moved} job(s) to other crews "
        f"without saving {round(cost / 60)} min of driving for each."
    )


def _where_is(plan: RoutePlan, job_id: int | None) -> tuple[str, bool]:
    """Where a job is in a plan, in words, and whether it is on a route.

    The words name the crew, stop and ETA, or why the job is left out.
    """
    if job_id is None:
        return "", False
    for route in plan.routes:
        for stop in route.stops:
            if stop.order.job_id == job_id:
                return (
                    f"job {job_id} is stop {stop.sequence} of {route.crew.code}, "
                    f"ETA {stop.eta:%H:%M}"
                ), True
    for dropped in plan.dropped:
        if dropped.order.job_id == job_id:
            reason = f"{dropped.reason.label} ({dropped.detail})"
            return f"job {job_id} is not on any route: {reason}", False
    return f"job {job_id} is not in the plan", False


def replan_urgent(
    plan_id: int,
    urgent_job_id: int | None,
    *,
    now: datetime | None = None,
    time_limit_s: float = 3.0,
    created_by: str | StaffUser = "",
    settings: Settings | None = None,
) -> Replan:
    """Re-plan mid-day with ``urgent_job_id`` as P1: finished stops stay, the rest may move.

    The new plan is a draft (publish it to send it to the crews); ``changes`` lists
    every job that moved crew, was added, retimed by more than 10 minutes, or dropped.
    """
    outcome = dispatch.replan_with_urgent_job(
        plan_id,
        urgent_job_id=urgent_job_id,
        now=now,
        time_limit_s=time_limit_s,
        created_by=created_by,
        settings=settings,
    )
    diff = outcome.diff
    where, placed = _where_is(outcome.plan, urgent_job_id)
    if outcome.urgent_fit is not None:
        where = outcome.urgent_fit.advice()
    return Replan(
        plan_id=outcome.plan_id,
        parent_id=plan_id,
        urgent_job_id=urgent_job_id,
        urgent_outcome=where,
        urgent_placed=placed,
        changes=change_table(diff or PlanDiff((), 0, ())),
        travel_saved_min=round(diff.travel_saved_s / 60) if diff is not None else 0,
        sla_risks=list(diff.sla_risks) if diff is not None else [],
        kept_note=_kept_note(outcome.plan),
    )


def photo_bytes(ref: str, *, settings: Settings | None = None) -> bytes:
    """A stored crew photo's bytes (re-encoded on upload, without EXIF)."""
    settings = settings or get_settings()
    path = photo_path(settings.home, ref)
    if not path.is_file():
        raise NotFoundError(f"photo {ref} is not on this server (moved or deleted)")
    return path.read_bytes()


#: Left-out jobs drawn on the dispatcher's map (most urgent first; the rest are listed).
MAP_DROPPED: Final = 100


def plan_map_html(
    pb: PlanBoard, *, tiles: TileSource | None = None, settings: Settings | None = None
) -> str:
    """The board's plan on an offline map: routes by crew over the wards, reported stops hollow."""
    outlines = ward_outlines(settings=settings)
    return render_html(route_map(pb.plan, tiles=tiles, max_dropped=MAP_DROPPED, outlines=outlines))


# --------------------------------------------------------------------------- one job


@dataclass(frozen=True, slots=True)
class JobDetail:
    """One job with its audit trail and the statuses a dispatcher may move it to."""

    job: Job
    history: pd.DataFrame  # at, event, request, from, to, by, note, flags; oldest first
    moves: list[RequestStatus]  # allowed next statuses, in workflow order
    public_note: str = ""  # the latest note for residents (Open311 shows it), "" when none


def job_detail(job_id: int, *, settings: Settings | None = None) -> JobDetail:
    """A job, every status event of it and its requests, and where it may go next.

    ``public_note`` is the latest note for residents: Open311 shows it with each request.

    Raises NotFoundError (with the id) when there is no such job.
    """
    job = workflow.get_job(job_id, settings=settings)
    events = workflow.job_history(job.id, settings=settings)
    history = pd.DataFrame(
        [
            {
                "at": e.at,
                "event": "note for residents"
                if e.kind is EventKind.PUBLIC
                else e.kind.value.replace("_", " "),
                "request": e.request_id,
                "from": e.from_status.label if e.from_status else "",
                "to": e.to_status.label if e.to_status else "",
                "by": e.actor,
                "note": e.note,
                "flags": e.flags,
            }
            for e in events
        ],
        columns=["at", "event", "request", "from", "to", "by", "note", "flags"],
    )
    order = list(TRANSITIONS)
    moves = sorted(TRANSITIONS[job.status], key=order.index)
    public = [e.note for e in events if e.kind is EventKind.PUBLIC and e.note]
    return JobDetail(
        job=job, history=history, moves=moves, public_note=public[-1] if public else ""
    )
