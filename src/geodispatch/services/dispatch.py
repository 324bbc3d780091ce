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

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from geodispatch.config import Settings, get_settings
from geodispatch.dispatch.matrix import MatrixSource, StraightLineSource
from geodispatch.dispatch.planner import PlanRequest, plan_routes
from geodispatch.dispatch.problem import PlanParams, day_origin
from geodispatch.dispatch.replan import (
    FINISHED,
    Progress,
    PublishCheck,
    diff_plans,
    replan_request,
)
from geodispatch.dispatch.replan import publish_check as check_publish
from geodispatch.dispatch.solver import SolveParams
from geodispatch.dispatch.urgent import UrgentFit, urgent_fit
from geodispatch.dispatch.workorders import RoutingSplit, routable_orders, work_orders
from geodispatch.domain.accounts import Action, StaffUser, acting
from geodispatch.domain.crews import Crew, last_shift_end
from geodispatch.domain.errors import (
    GeodispatchError,
    InputError,
    NotFoundError,
    ShiftOverError,
)
from geodispatch.domain.plans import PlanDiff, RoutePlan, TimeWindow, WorkOrder
from geodispatch.domain.updates import StopStatus
from geodispatch.io.crew_roster import read_roster
from geodispatch.io.road_network import road_network_source
from geodispatch.reporting.maps import TileSource
from geodispatch.reporting.route_map import route_map_html
from geodispatch.reporting.route_sheet import route_sheet_html
from geodispatch.services import clock, field, workflow
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
    released: tuple[int, ...] = ()  # jobs sent back to the queue when it was published
    urgent_fit: UrgentFit | None = None  # why the urgent job is off the routes, what would fit
    backlog: int = 0  # open jobs past their age limit, waiting in backlog review
    matrix: str = ""  # the travel-time source's key (straight line, road network)


#: The demo's roster of Boston public works crews, relative to ``settings.data_dir``.
BOSTON_ROSTER = Path("boston/crews.csv")


def boston_crews(settings: Settings | None = None) -> list[Crew]:
    """The demo roster: 20 Boston crews at 7 yards, 07:00-15:30, lunch 11:30-13:30."""
    settings = settings or get_settings()
    return read_roster(settings.data_path(BOSTON_ROSTER))


def _zone(settings: Settings) -> ZoneInfo:
    return ZoneInfo(settings.timezone)


def seed_crews(crews: Sequence[Crew] | None = None, *, settings: Settings | None = None) -> int:
    """Store ``crews`` (default: the Boston roster), updating crews with the same code."""
    settings = settings or get_settings()
    ensure_schema(settings.database_url)
    roster = crews if crews is not None else boston_crews(settings)
    with session_scope(settings.database_url) as session:
        for crew in roster:
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
            session, job_id, TimeWindow(start, end), note=note, now=clock.now(settings)
        )


def travel_source(settings: Settings) -> MatrixSource:
    """The travel-time source every plan uses: the road network when one is set."""
    if settings.road_network is not None:
        path = settings.data_path(settings.road_network)
        return road_network_source(path, settings.home / "cache")
    return StraightLineSource()


def _routing_split(
    session: Session, settings: Settings, now: datetime, urgent: Collection[int] = ()
) -> RoutingSplit:
    jobs = jobs_repo.open_jobs(session)
    catalogue = {t.code: t for t in catalogue_repo.list_service_types(session)}
    return routable_orders(
        jobs,
        catalogue,
        now=now,
        windows=crews_repo.appointments(session),
        default_max_age_days=settings.max_age_days,
        urgent=urgent,
    )


def _orders_for(session: Session, job_ids: Sequence[int]) -> dict[int, WorkOrder]:
    catalogue = {t.code: t for t in catalogue_repo.list_service_types(session)}
    jobs = plans_repo.jobs_by_id(session, job_ids)
    windows = crews_repo.appointments(session, job_ids)
    return {o.job_id: o for o in work_orders(jobs, catalogue, windows=windows)}


def _active_crews(session: Session) -> list[Crew]:
    crews = crews_repo.list_crews(session, active_only=True)
    if not crews:
        raise InputError(
            "no active crews; add crews with 'geodispatch crews seed' (Boston sample "
            "roster) before planning"
        )
    return crews


def check_shift_left(crews: Sequence[Crew], day: date, now: datetime, tz: ZoneInfo) -> None:
    """Refuse to plan ``day`` at ``now`` when every crew's shift has ended.

    Raises
    ------
    ShiftOverError
        With the next day to plan instead.
    """
    last = last_shift_end(crews, day, tz)
    if last is not None and last <= now:
        tomorrow = day + timedelta(days=1)
        raise ShiftOverError(
            f"every crew's shift on {day} has ended (the last at {last:%H:%M}; it is "
            f"{now:%H:%M}): there is no time left to plan today. Plan tomorrow, {tomorrow}, "
            "instead.",
            tomorrow,
        )


def _not_past(day: date, now: datetime) -> None:
    if day < now.date():
        raise InputError(f"{day} is in the past (today is {now.date()}); plan today or a later day")


def plan_day(
    day: date,
    *,
    now: datetime | None = None,
    time_limit_s: float = 5.0,
    created_by: str | StaffUser = "",
    params: PlanParams | None = None,
    source: MatrixSource | None = None,
    settings: Settings | None = None,
) -> PlanOutcome:
    """Plan ``day`` for every active crew over the open field work, and store it as a draft.

    New requests are first grouped into jobs (repeat reports join one job, which then
    counts its callers), so a crew never drives to the same pothole twice. Planned
    during the day's shift, the plan starts from where the day is: with a published plan,
    as a re-plan from the crews' progress; else every crew leaves its yard now. Only
    field work within its age limit is routed (older jobs wait in backlog review). A
    signed-in ``created_by`` must be allowed to plan the day.

    Raises
    ------
    ShiftOverError
        ``day`` is today and every shift has ended (the error names tomorrow).
    InputError
        ``day`` is in the past, or no crew is active.
    """
    author = acting(created_by, Action.PLAN_DAY)
    settings = settings or get_settings()
    url = ensure_schema(settings.database_url)
    tz = _zone(settings)
    now = (now or clock.now(settings)).astimezone(tz)
    _not_past(day, now)
    workflow.group_new_requests(settings=settings)
    with session_scope(url) as session:
        crews = _active_crews(session)
        published = plans_repo.published_plan_id(session, day)
    if day == now.date():
        check_shift_left(crews, day, now, tz)
        if published is not None:
            return replan_with_urgent_job(
                published,
                now=now,
                time_limit_s=time_limit_s,
                created_by=created_by,
                params=params,
                source=source,
                settings=settings,
            )
    with session_scope(url) as session:
        split = _routing_split(session, settings, now)
    source = source or travel_source(settings)
    request = PlanRequest(
        split.orders, crews, day, tz, now=now if day == now.date() else None, created_at=now
    )
    # the search runs outside any database transaction
    plan, _ = plan_routes(
        request, params=params, solve=SolveParams(time_limit_s=time_limit_s), source=source
    )
    plan = replace(plan, stats=replace(plan.stats, matrix=source.key))
    with session_scope(url) as session:
        plan_id = plans_repo.save_plan(
            session, plan, crew_ids=crews_repo.crew_ids(session), created_by=author
        )
    return PlanOutcome(
        plan_id, _with_id(plan, plan_id), backlog=len(split.too_old), matrix=source.key
    )


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
    """Re-plan mid-day: keep done and in-progress stops, add the urgent job as must-serve.

    The new plan is stored as a draft child of ``plan_id``; its diff lists the jobs that
    moved, the driving saved and the SLA risks. Each crew starts where it last reported
    (else its yard) at the later of now and its shift start. When the urgent job still
    cannot go on a route, ``urgent_fit`` says why and what would make it fit. A signed-in
    ``created_by`` must be allowed to re-plan.
    """
    author = acting(created_by, Action.REPLAN)
    settings = settings or get_settings()
    url = ensure_schema(settings.database_url)
    tz = _zone(settings)
    now = (now or clock.now(settings)).astimezone(tz)
    workflow.group_new_requests(settings=settings)
    with session_scope(url) as session:
        previous = _load(session, plan_id, tz)
        _not_past(previous.plan_date, now)
        # the urgent job, and those of earlier re-plans still to do, must be served
        urgent = {s.order.job_id for r in previous.routes for s in r.stops if s.order.urgent}
        if urgent_job_id is not None:
            urgent.add(urgent_job_id)
        split = _routing_split(session, settings, now, urgent=urgent)
        if urgent_job_id is not None and not any(o.job_id == urgent_job_id for o in split.orders):
            raise _not_routable(urgent_job_id, split)
        states = plans_repo.stop_states(session, plan_id)
        crews = _active_crews(session)
    progress = {
        job: Progress(StopStatus(status), locked) for job, (status, locked) in states.items()
    }
    made = now
    if previous.plan_date > now.date():
        now = day_origin(previous.plan_date, tz)  # a later day is planned from its start
    request = replan_request(previous, orders=split.orders, crews=crews, progress=progress, now=now)
    source = source or travel_source(settings)
    plan, problem = plan_routes(
        replace(request, created_at=made),
        params=params,
        solve=SolveParams(time_limit_s=time_limit_s),
        source=source,
    )
    plan = replace(plan, stats=replace(plan.stats, matrix=source.key))
    diff = diff_plans(previous, plan, problem, warm=request.warm_start or {})
    history = [
        (route.crew.code, stop)
        for route in previous.routes
        for stop in route.stops
        if progress.get(stop.order.job_id, Progress(StopStatus.PLANNED)).status
        != StopStatus.PLANNED
    ]
    fit = None
    if urgent_job_id is not None:
        left_out = next((d for d in plan.dropped if d.order.job_id == urgent_job_id), None)
        if left_out is not None:
            fit = urgent_fit(
                left_out.order,
                crews,
                day=previous.plan_date,
                tz=tz,
                now=now,
                reason=f"{left_out.reason.label.lower()} ({left_out.detail})",
                source=source,
                positions={p.crew_code: p for p in request.positions},
            )
    with session_scope(url) as session:
        new_id = plans_repo.save_plan(
            session,
            plan,
            crew_ids=crews_repo.crew_ids(session),
            created_by=author,
            parent_id=plan_id,
            history=history,
        )
    return PlanOutcome(
        new_id,
        _with_id(plan, new_id),
        diff,
        urgent_fit=fit,
        backlog=len(split.too_old),
        matrix=source.key,
    )


def _not_routable(job_id: int, split: RoutingSplit) -> GeodispatchError:
    """Why a job the dispatcher marked urgent cannot be routed at all."""
    if any(j.id == job_id for j in split.no_field_work):
        job = next(j for j in split.no_field_work if j.id == job_id)
        return InputError(
            f"job {job_id} is of type {job.service_code!r}, which the catalogue marks as no "
            "field work; no crew visits it. Change the type's field work setting in Service "
            "types if crews do go out for it"
        )
    return NotFoundError(f"job {job_id} is not an open job; check the id or its status")


def publish_check(plan_id: int, *, settings: Settings | None = None) -> PublishCheck:
    """What publishing ``plan_id`` would take off the crews' published routes."""
    settings = settings or get_settings()
    url = ensure_schema(settings.database_url)
    tz = _zone(settings)
    with session_scope(url) as session:
        draft = _load(session, plan_id, tz)
        current = plans_repo.published_plan_id(session, draft.plan_date)
        published = None
        finished: set[int] = set()
        if current is not None and current != plan_id:
            published = _load(session, current, tz)
            finished = {
                job
                for job, (status, _) in plans_repo.stop_states(session, current).items()
                if StopStatus(status) in FINISHED
            }
    return check_publish(plan_id, draft, published, finished=finished)


def publish_plan(
    plan_id: int,
    *,
    expected_version: int | None = None,
    confirm_removals: bool = False,
    published_by: str = "",
    settings: Settings | None = None,
) -> PlanOutcome:
    """Publish a plan to the crews and mark its jobs Work assigned.

    The day's earlier published plan is superseded. Every queued job on the plan's routes
    becomes Work assigned through the workflow (a New job is marked Reviewed first), with
    one audit event per step naming the plan and crew, by ``published_by`` (the signed-in
    account; default ``plan:<id>``); every Work-assigned job left on no published route
    goes back to the queue (audited).

    Raises
    ------
    InputError
        The plan has no stops, or it takes work off the crews' published routes and
        ``confirm_removals`` is not set (the message says what leaves which crew).
    """
    settings = settings or get_settings()
    check = publish_check(plan_id, settings=settings)
    if check.empty:
        raise InputError(check.in_words() + " Plan again, or keep the published plan.")
    if check.needs_confirmation and not confirm_removals:
        raise InputError(
            check.in_words() + " Confirm to publish anyway ('--confirm' on the command line)."
        )
    with session_scope(ensure_schema(settings.database_url)) as session:
        plans_repo.publish(
            session, plan_id, now=clock.now(settings), expected_version=expected_version
        )
    assigned = workflow.assign_plan_jobs(plan_id, actor=published_by, settings=settings)
    released = workflow.release_off_route_jobs(plan_id, actor=published_by, settings=settings)
    with session_scope(settings.database_url) as session:
        plan = _load(session, plan_id, _zone(settings))
    return PlanOutcome(plan_id, plan, assigned=assigned, released=tuple(released))


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
    if status is not None and status not in set(StopStatus):
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
