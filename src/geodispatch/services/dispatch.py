"""Dispatcher and crew actions: seed crews, plan a day, re-plan, publish, show routes.

Each function is one user action: it opens a session, loads what the core needs through
the repositories, calls the pure planner and stores the result. The job workflow is the
workflow service's: planning first groups new requests into jobs
(:func:`~geodispatch.services.workflow.group_new_requests`), publishing marks the plan's
jobs Work assigned (:func:`~geodispatch.services.workflow.assign_plan_jobs`, audited), and
a crew's route is read the one way the crew's phone reads it
(:func:`~geodispatch.services.field.todays_route`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from geodispatch.config import Settings, get_settings
from geodispatch.dispatch.matrix import MatrixSource
from geodispatch.dispatch.planner import PlanRequest, plan_routes
from geodispatch.dispatch.problem import PlanParams
from geodispatch.dispatch.replan import Progress, diff_plans, replan_request
from geodispatch.dispatch.solver import SolveParams
from geodispatch.dispatch.workorders import work_orders
from geodispatch.domain.accounts import Action, StaffUser, acting
from geodispatch.domain.crews import Crew, Depot, LunchBreak
from geodispatch.domain.errors import InputError, NotFoundError
from geodispatch.domain.plans import PlanDiff, RoutePlan, TimeWindow, WorkOrder
from geodispatch.domain.requests import Priority
from geodispatch.reporting.maps import TileSource
from geodispatch.reporting.route_map import route_map_html
from geodispatch.reporting.route_sheet import route_sheet_html
from geodispatch.services import field, workflow
from geodispatch.storage import crews_repo, field_repo, jobs_repo, plans_repo
from geodispatch.storage import requests_repo as catalogue_repo
from geodispatch.storage.db import Session, ensure_schema, session_scope


@dataclass(frozen=True, slots=True)
class PlanOutcome:
    """A stored plan and, for re-plans, what changed; on publishing, how many jobs moved."""

    plan_id: int
    plan: RoutePlan
    diff: PlanDiff | None = None
    assigned: int = 0  # jobs that became Work assigned when the plan was published


# Boston's public works yards (approximate points) and a day roster of crews.
_YARDS = {
    "frontage": Depot("Frontage Rd yard, South Boston", -71.0622, 42.3435),
    "charlestown": Depot("Charlestown yard, Rutherford Ave", -71.0700, 42.3760),
    "eastboston": Depot("East Boston yard, Border St", -71.0390, 42.3720),
    "dorchester": Depot("Dorchester yard, Columbia Rd", -71.0620, 42.3090),
    "hydepark": Depot("Hyde Park yard, Hyde Park Ave", -71.1200, 42.2600),
    "westrox": Depot("West Roxbury yard, Gardner St", -71.1640, 42.2770),
    "brighton": Depot("Brighton yard, Western Ave", -71.1480, 42.3620),
}
_ROSTER = (
    ("ASP-1", "Asphalt crew 1", "frontage", "asphalt,general"),
    ("ASP-2", "Asphalt crew 2", "dorchester", "asphalt,general"),
    ("ASP-3", "Asphalt crew 3", "hydepark", "asphalt,general"),
    ("ASP-4", "Asphalt crew 4", "brighton", "asphalt,general"),
    ("ASP-5", "Asphalt crew 5", "charlestown", "asphalt,general"),
    ("LGT-1", "Street lights 1", "frontage", "electrical"),
    ("LGT-2", "Street lights 2", "dorchester", "electrical"),
    ("LGT-3", "Street lights 3", "westrox", "electrical"),
    ("LGT-4", "Street lights 4", "eastboston", "electrical"),
    ("SGN-1", "Signs and signals 1", "frontage", "signs,general"),
    ("SGN-2", "Signs and signals 2", "brighton", "signs,general"),
    ("TRE-1", "Forestry 1", "westrox", "forestry,parks"),
    ("TRE-2", "Forestry 2", "hydepark", "forestry,general"),
    ("SAN-1", "Sanitation 1", "charlestown", "sanitation,street_cleaning"),
    ("SAN-2", "Sanitation 2", "dorchester", "sanitation,street_cleaning,general"),
    ("GRF-1", "Graffiti 1", "frontage", "graffiti,general"),
    ("GRF-2", "Graffiti 2", "eastboston", "graffiti,general"),
    ("WTR-1", "Water and sewer 1", "eastboston", "water,general"),
    ("GEN-1", "General maintenance 1", "charlestown", "general,signs"),
    ("GEN-2", "General maintenance 2", "westrox", "general,parks"),
)


def boston_crews() -> list[Crew]:
    """A realistic Boston public works roster: 20 crews, 7 yards, 07:00-15:30, lunch 11:30-13:30."""
    out = []
    for code, name, yard, skills in _ROSTER:
        out.append(
            Crew(
                code=code,
                name=name,
                depot=_YARDS[yard],
                shift_start=time(7, 0),
                shift_end=time(15, 30),
                lunch=LunchBreak(time(11, 30), time(13, 30), 30),
                skills=frozenset(skills.split(",")),
            )
        )
    return out


def _zone(settings: Settings) -> ZoneInfo:
    return ZoneInfo(settings.timezone)


def seed_crews(crews: Sequence[Crew] | None = None, *, settings: Settings | None = None) -> int:
    """Store ``crews`` (default: the Boston roster), updating crews with the same code."""
    settings = settings or get_settings()
    ensure_schema(settings.database_url)
    with session_scope(settings.database_url) as session:
        for crew in crews if crews is not None else boston_crews():
            crews_repo.save_crew(session, crew)
        return len(crews_repo.list_crews(session))


def list_crews(*, settings: Settings | None = None) -> list[Crew]:
    """Every crew, by code."""
    settings = settings or get_settings()
    ensure_schema(settings.database_url)
    with session_scope(settings.database_url) as session:
        return crews_repo.list_crews(session)


def book_appointment(
    job_id: int, start: datetime, end: datetime, *, note: str = "", settings: Settings | None = None
) -> None:
    """Book a window in which the crew must start work on ``job_id``."""
    settings = settings or get_settings()
    ensure_schema(settings.database_url)
    with session_scope(settings.database_url) as session:
        if jobs_repo.get_job(session, job_id) is None:
            raise NotFoundError(f"no job with id {job_id}")
        crews_repo.set_appointment(
            session, job_id, TimeWindow(start, end), note=note, now=datetime.now(UTC)
        )


def _open_orders(session: Session) -> list[WorkOrder]:
    jobs = jobs_repo.open_jobs(session)
    catalogue = {t.code: t for t in catalogue_repo.list_service_types(session)}
    windows = crews_repo.appointments(session)
    return work_orders(jobs, catalogue, windows=windows)


def _orders_for(session: Session, job_ids: Sequence[int]) -> dict[int, WorkOrder]:
    catalogue = {t.code: t for t in catalogue_repo.list_service_types(session)}
    jobs = plans_repo.jobs_by_id(session, job_ids)
    windows = crews_repo.appointments(session, job_ids)
    return {o.job_id: o for o in work_orders(jobs, catalogue, windows=windows)}


def plan_day(
    day: date,
    *,
    time_limit_s: float = 5.0,
    created_by: str | StaffUser = "",
    params: PlanParams | None = None,
    source: MatrixSource | None = None,
    settings: Settings | None = None,
) -> PlanOutcome:
    """Plan ``day`` for every active crew over all open jobs, and store it as a draft.

    New requests are first grouped into jobs (repeat reports join one job, which then
    counts its callers), so a crew never drives to the same pothole twice. A signed-in
    ``created_by`` must be allowed to plan the day.
    """
    author = acting(created_by, Action.PLAN_DAY)
    settings = settings or get_settings()
    ensure_schema(settings.database_url)
    tz = _zone(settings)
    workflow.group_new_requests(settings=settings)
    with session_scope(settings.database_url) as session:
        orders = _open_orders(session)
        crews = crews_repo.list_crews(session, active_only=True)
        if not crews:
            raise InputError(
                "no active crews; add crews with 'geodispatch crews seed' (Boston sample "
                "roster) before planning"
            )
        plan, _ = plan_routes(
            PlanRequest(orders, crews, day, tz),
            params=params,
            solve=SolveParams(time_limit_s=time_limit_s),
            source=source,
        )
        plan_id = plans_repo.save_plan(
            session, plan, crew_ids=crews_repo.crew_ids(session), created_by=author
        )
    return PlanOutcome(plan_id, _with_id(plan, plan_id))


def _with_id(plan: RoutePlan, plan_id: int) -> RoutePlan:
    return replace(plan, id=plan_id)


def load_plan(plan_id: int, *, settings: Settings | None = None) -> RoutePlan:
    """A stored plan with its routes and dropped jobs."""
    settings = settings or get_settings()
    ensure_schema(settings.database_url)
    with session_scope(settings.database_url) as session:
        return _load(session, plan_id, _zone(settings))


def _load(session: Session, plan_id: int, tz: ZoneInfo) -> RoutePlan:
    orders = _orders_for(session, plans_repo.plan_job_ids(session, plan_id))
    crews = {c.id: c for c in crews_repo.list_crews(session)}
    return plans_repo.load_plan(session, plan_id, orders=orders, crews=crews, tz=tz)


def replan_with_urgent_job(
    plan_id: int,
    *,
    urgent_job_id: int | None = None,
    now: datetime | None = None,
    time_limit_s: float = 1.0,
    created_by: str | StaffUser = "",
    params: PlanParams | None = None,
    source: MatrixSource | None = None,
    settings: Settings | None = None,
) -> PlanOutcome:
    """Re-plan mid-day: keep done and in-progress stops, add the urgent job as P1, re-solve.

    The new plan is stored as a draft child of ``plan_id``; its diff lists the jobs that
    moved, the driving saved and the SLA risks. A signed-in ``created_by`` must be allowed
    to re-plan.
    """
    author = acting(created_by, Action.REPLAN)
    settings = settings or get_settings()
    ensure_schema(settings.database_url)
    tz = _zone(settings)
    now = (now or datetime.now(UTC)).astimezone(tz)
    workflow.group_new_requests(settings=settings)
    with session_scope(settings.database_url) as session:
        previous = _load(session, plan_id, tz)
        orders = _open_orders(session)
        if urgent_job_id is not None:
            found = [o for o in orders if o.job_id == urgent_job_id]
            if not found:
                raise NotFoundError(
                    f"job {urgent_job_id} is not an open job; check the id or its status"
                )
            orders = [
                replace(o, priority=Priority.P1) if o.job_id == urgent_job_id else o for o in orders
            ]
        states = plans_repo.stop_states(session, plan_id)
        progress = {job: Progress(status, locked) for job, (status, locked) in states.items()}
        crews = crews_repo.list_crews(session, active_only=True)
        request = replan_request(previous, orders=orders, crews=crews, progress=progress, now=now)
        plan, problem = plan_routes(
            request,
            params=params,
            solve=SolveParams(time_limit_s=time_limit_s),
            source=source,
        )
        diff = diff_plans(previous, plan, problem, warm=request.warm_start or {})
        history = [
            (route.crew.code, stop)
            for route in previous.routes
            for stop in route.stops
            if progress.get(stop.order.job_id, Progress("planned")).status != "planned"
        ]
        new_id = plans_repo.save_plan(
            session,
            plan,
            crew_ids=crews_repo.crew_ids(session),
            created_by=author,
            parent_id=plan_id,
            history=history,
        )
    return PlanOutcome(new_id, _with_id(plan, new_id), diff)


def publish_plan(
    plan_id: int,
    *,
    expected_version: int | None = None,
    published_by: str = "",
    settings: Settings | None = None,
) -> PlanOutcome:
    """Publish a plan to the crews and mark its jobs Work assigned.

    The day's earlier published plan is superseded. Every queued job on the plan's routes
    becomes Work assigned through the workflow (a New job is marked Reviewed first), with
    one audit event per step naming the plan and crew, by ``published_by`` (the signed-in
    account; default ``plan:<id>``).
    """
    settings = settings or get_settings()
    ensure_schema(settings.database_url)
    with session_scope(settings.database_url) as session:
        plans_repo.publish(
            session, plan_id, now=datetime.now(UTC), expected_version=expected_version
        )
    assigned = workflow.assign_plan_jobs(plan_id, actor=published_by, settings=settings)
    with session_scope(settings.database_url) as session:
        plan = _load(session, plan_id, _zone(settings))
    return PlanOutcome(plan_id, plan, assigned=assigned)


def todays_route(
    crew_code: str, *, day: date | None = None, settings: Settings | None = None
) -> list[field_repo.StopView]:
    """The crew's stops in the day's published plan, in order (empty when none is published).

    The dispatcher's view of what the crew's phone shows: the same reader
    (:func:`geodispatch.services.field.todays_route`), with each stop's id, status and
    version for updates.

    Raises
    ------
    NotFoundError
        No crew has that code.
    """
    settings = settings or get_settings()
    ensure_schema(settings.database_url)
    with session_scope(settings.database_url) as session:
        crew_id = crews_repo.crew_ids(session).get(crew_code)
    if crew_id is None:
        raise NotFoundError(f"no crew with code {crew_code!r}; see 'geodispatch crews list'")
    return field.todays_route(field.CrewIdentity(crew_id, crew_code), day=day, settings=settings)


def plan_summaries(
    *, day: date | None = None, limit: int = 50, settings: Settings | None = None
) -> list[plans_repo.PlanHeader]:
    """Plans for the dispatcher page, newest first: status, totals, solver facts."""
    settings = settings or get_settings()
    ensure_schema(settings.database_url)
    with session_scope(settings.database_url) as session:
        return plans_repo.list_plans(session, day=day, limit=limit)


def set_stop(
    plan_id: int,
    job_id: int,
    *,
    status: str | None = None,
    locked: bool | None = None,
    settings: Settings | None = None,
) -> None:
    """Mark a stop arrived/done/unable, or lock it to its crew and place for re-plans."""
    if status is not None and status not in {"planned", "arrived", "done", "unable"}:
        raise InputError(
            f"stop status must be planned, arrived, done or unable. Got {status!r} instead."
        )
    settings = settings or get_settings()
    ensure_schema(settings.database_url)
    with session_scope(settings.database_url) as session:
        plans_repo.set_stop_state(session, plan_id, job_id, status=status, locked=locked)


def plan_map_html(
    plan_id: int, *, tiles: TileSource | None = None, settings: Settings | None = None
) -> str:
    """The plan's folium map as one standalone HTML page that works with no network.

    Leaflet is inlined (``reporting.maps.render_html``); base tiles are drawn only when
    ``tiles`` names a tile server.
    """
    return route_map_html(load_plan(plan_id, settings=settings), tiles=tiles)


def plan_sheet_html(
    plan_id: int, *, crew_code: str | None = None, settings: Settings | None = None
) -> str:
    """The printable route sheet of a plan (all crews or one)."""
    return route_sheet_html(load_plan(plan_id, settings=settings), crew_code=crew_code)
