"""Load and save route plans: the plan, its stops and its unassigned jobs with reasons."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from geodispatch.domain.crews import Crew
from geodispatch.domain.errors import NotFoundError, StaleVersionError
from geodispatch.domain.jobs import Job
from geodispatch.domain.plans import (
    CrewRoute,
    DroppedJob,
    DropReason,
    PlannedStop,
    PlanStats,
    PlanStatus,
    RoutePlan,
    Violation,
    WorkOrder,
)
from geodispatch.storage.jobs_repo import to_job
from geodispatch.storage.tables import JobRow, PlanRow, PlanUnassignedRow, StopRow


@dataclass(frozen=True, slots=True)
class PlanHeader:
    """A plan's identity and headline numbers, without its stops."""

    id: int
    plan_date: date
    status: PlanStatus
    created_at: datetime
    created_by: str
    published_at: datetime | None
    parent_id: int | None
    solver: str
    summary: dict[str, Any]
    version: int


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def save_plan(
    session: Session,
    plan: RoutePlan,
    *,
    crew_ids: Mapping[str, int],
    created_by: str = "",
    parent_id: int | None = None,
    history: Sequence[tuple[str, PlannedStop]] = (),
) -> int:
    """Store ``plan`` as a new draft; returns its id.

    ``history`` holds (crew code, stop) pairs already done or under way when a re-plan was
    made; they are stored first on their crew's route, locked, with their status.
    """
    routes_meta: dict[str, dict[str, Any]] = {}
    for route in plan.routes:
        routes_meta[route.crew.code] = {
            "starts_at": _iso(route.starts_at),
            "ends_at": _iso(route.ends_at),
            "start_lon": route.start_lon,
            "start_lat": route.start_lat,
            "return_travel_s": route.return_travel_s,
            "break_start": _iso(route.break_start),
            "break_after": route.break_after,
            "arrive": {str(s.order.job_id): _iso(s.arrive_at) for s in route.stops},
        }
    summary = {
        "served": plan.served,
        "dropped": len(plan.dropped),
        "travel_s": plan.travel_s,
        "service_s": plan.service_s,
        "stats": plan.stats.to_json(),
        "violations": [
            {"kind": v.kind, "crew": v.crew_code, "job_id": v.job_id, "detail": v.detail}
            for v in plan.violations
        ],
        "routes": routes_meta,
    }
    row = PlanRow(
        plan_date=plan.plan_date,
        status=PlanStatus.DRAFT,
        created_at=plan.created_at or datetime.now(UTC),  # the services pass the clock's time
        created_by=created_by,
        parent_id=parent_id,
        solver=plan.solver,
        summary=json.dumps(summary, default=str),
        version=1,
    )
    session.add(row)
    session.flush()
    done_before: dict[str, int] = {}
    for code, stop in history:
        session.add(_stop_row(row.id, crew_ids[code], stop, status=stop.status, locked=True))
        done_before[code] = max(done_before.get(code, 0), stop.sequence)
    for route in plan.routes:
        offset = done_before.get(route.crew.code, 0)  # new stops follow the finished ones
        for stop in route.stops:
            stop = replace(stop, sequence=stop.sequence + offset)
            session.add(
                _stop_row(
                    row.id, crew_ids[route.crew.code], stop, status=stop.status, locked=stop.locked
                )
            )
    for dropped in plan.dropped:
        session.add(
            PlanUnassignedRow(
                plan_id=row.id,
                job_id=dropped.order.job_id,
                reason=dropped.reason.value,
                detail=dropped.detail,
            )
        )
    session.flush()
    return row.id


def _stop_row(
    plan_id: int, crew_id: int, stop: PlannedStop, *, status: str, locked: bool
) -> StopRow:
    return StopRow(
        plan_id=plan_id,
        crew_id=crew_id,
        job_id=stop.order.job_id,
        sequence=stop.sequence,
        eta=stop.eta,
        departs_at=stop.departs_at,
        travel_s=stop.travel_s,
        service_s=stop.service_s,
        locked=locked,
        urgent=stop.order.urgent,
        status=status,
        version=1,
    )


def header(session: Session, plan_id: int) -> PlanHeader:
    """One plan's header; NotFoundError when there is none."""
    row = session.get(PlanRow, plan_id)
    if row is None:
        raise NotFoundError(f"no plan with id {plan_id}; list plans with 'geodispatch plan list'")
    return _header(row)


def _header(row: PlanRow) -> PlanHeader:
    return PlanHeader(
        id=row.id,
        plan_date=row.plan_date,
        status=PlanStatus(row.status),
        created_at=row.created_at,
        created_by=row.created_by,
        published_at=row.published_at,
        parent_id=row.parent_id,
        solver=row.solver,
        summary=json.loads(row.summary or "{}"),
        version=row.version,
    )


def list_plans(session: Session, *, day: date | None = None, limit: int = 50) -> list[PlanHeader]:
    """Plans, newest first (optionally of one day)."""
    stmt = select(PlanRow).order_by(PlanRow.id.desc()).limit(limit)
    if day is not None:
        stmt = stmt.where(PlanRow.plan_date == day)
    return [_header(r) for r in session.scalars(stmt)]


def current_plan_id(session: Session, day: date) -> int | None:
    """The day's published plan, else its newest draft, else None."""
    for status in (PlanStatus.PUBLISHED, PlanStatus.DRAFT):
        found = session.scalars(
            select(PlanRow.id)
            .where(PlanRow.plan_date == day, PlanRow.status == status)
            .order_by(PlanRow.id.desc())
            .limit(1)
        ).first()
        if found is not None:
            return int(found)
    return None


def plan_job_ids(session: Session, plan_id: int) -> list[int]:
    """Every job a plan mentions (on a stop or unassigned)."""
    stops = session.scalars(select(StopRow.job_id).where(StopRow.plan_id == plan_id))
    left = session.scalars(
        select(PlanUnassignedRow.job_id).where(PlanUnassignedRow.plan_id == plan_id)
    )
    return sorted({*stops, *left})


def load_plan(
    session: Session,
    plan_id: int,
    *,
    orders: Mapping[int, WorkOrder],
    crews: Mapping[int, Crew],
    tz: tzinfo = UTC,
) -> RoutePlan:
    """The stored plan with its routes and dropped jobs (``orders`` by job id, ``crews`` by id).

    Times come back in ``tz`` (the city's zone), as the planner produced them.
    """
    head = header(session, plan_id)
    meta = head.summary.get("routes", {})
    rows = session.scalars(
        select(StopRow)
        .where(StopRow.plan_id == plan_id)
        .order_by(StopRow.crew_id, StopRow.sequence)
    ).all()
    by_crew: dict[int, list[StopRow]] = {}
    for r in rows:
        by_crew.setdefault(r.crew_id, []).append(r)
    routes = []
    for crew_id, crew in sorted(crews.items(), key=lambda kv: kv[1].code):
        info = meta.get(crew.code)
        stops_rows = by_crew.get(crew_id, [])
        if info is None and not stops_rows:
            continue
        info = info or {}
        arrive = info.get("arrive", {})
        stops = []
        for r in stops_rows:
            order = orders[r.job_id]
            if r.urgent:
                order = replace(order, urgent=True)
            arrived = arrive.get(str(r.job_id))
            eta, departs = r.eta.astimezone(tz), r.departs_at.astimezone(tz)
            arrive_at = (datetime.fromisoformat(arrived) if arrived else eta).astimezone(tz)
            late = 0
            if order.due_at is not None:
                late = max(0, int((departs - order.due_at).total_seconds()))
            stops.append(
                PlannedStop(
                    order=order,
                    sequence=r.sequence,
                    arrive_at=arrive_at,
                    eta=eta,
                    departs_at=departs,
                    travel_s=r.travel_s,
                    wait_s=max(0, int((eta - arrive_at).total_seconds())),
                    service_s=r.service_s,
                    late_s=late,
                    locked=r.locked,
                    status=r.status,
                )
            )
        first = stops[0].eta if stops else head.created_at.astimezone(tz)
        routes.append(
            CrewRoute(
                crew=crew,
                stops=tuple(stops),
                starts_at=_dt(info.get("starts_at"), tz) or first,
                ends_at=_dt(info.get("ends_at"), tz) or (stops[-1].departs_at if stops else first),
                start_lon=float(info.get("start_lon", crew.depot.lon)),
                start_lat=float(info.get("start_lat", crew.depot.lat)),
                return_travel_s=int(info.get("return_travel_s", 0)),
                break_start=_dt(info.get("break_start"), tz),
                break_after=int(info.get("break_after", 0)),
            )
        )
    dropped = tuple(
        DroppedJob(orders[r.job_id], DropReason(r.reason), r.detail)
        for r in session.scalars(
            select(PlanUnassignedRow)
            .where(PlanUnassignedRow.plan_id == plan_id)
            .order_by(PlanUnassignedRow.id)
        )
    )
    violations = tuple(
        Violation(v["kind"], v["crew"], v["job_id"], v["detail"])
        for v in head.summary.get("violations", [])
    )
    return RoutePlan(
        plan_date=head.plan_date,
        routes=tuple(routes),
        dropped=dropped,
        solver=head.solver,
        created_at=head.created_at,
        stats=PlanStats.from_json(head.summary.get("stats", {})),
        violations=violations,
        id=head.id,
        parent_id=head.parent_id,
        status=head.status,
        version=head.version,
    )


def _dt(text: str | None, tz: tzinfo) -> datetime | None:
    return None if not text else datetime.fromisoformat(text).astimezone(tz)


def publish(session: Session, plan_id: int, *, now: datetime, expected_version: int | None) -> None:
    """Publish a plan; the day's previously published plan becomes superseded."""
    row = session.get(PlanRow, plan_id)
    if row is None:
        raise NotFoundError(f"no plan with id {plan_id}")
    if expected_version is not None and row.version != expected_version:
        raise StaleVersionError(
            f"plan {plan_id} changed (version {row.version}, you had {expected_version}); "
            "reload it and publish again"
        )
    session.execute(
        update(PlanRow)
        .where(PlanRow.plan_date == row.plan_date, PlanRow.status == PlanStatus.PUBLISHED)
        .where(PlanRow.id != plan_id)
        .values(status=PlanStatus.SUPERSEDED, version=PlanRow.version + 1)
    )
    row.status = PlanStatus.PUBLISHED
    row.published_at = now
    row.version += 1
    session.flush()


def stop_states(session: Session, plan_id: int) -> dict[int, tuple[str, bool]]:
    """Job id -> (stop status, locked) for a plan's stops."""
    return {
        r.job_id: (r.status, r.locked)
        for r in session.scalars(select(StopRow).where(StopRow.plan_id == plan_id))
    }


def set_stop_state(
    session: Session,
    plan_id: int,
    job_id: int,
    *,
    status: str | None = None,
    locked: bool | None = None,
) -> None:
    """Change a stop's status (planned|arrived|done|unable) or lock flag."""
    row = session.scalars(
        select(StopRow).where(StopRow.plan_id == plan_id, StopRow.job_id == job_id)
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"job {job_id} is not a stop of plan {plan_id}")
    if status is not None:
        row.status = status
    if locked is not None:
        row.locked = locked
    row.version += 1
    session.flush()


def jobs_by_id(session: Session, job_ids: Sequence[int]) -> list[Job]:
    """The jobs with these ids (any status), in id order."""
    ids = sorted(set(job_ids))
    out: list[Job] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        out.extend(to_job(r) for r in session.scalars(select(JobRow).where(JobRow.id.in_(chunk))))
    return sorted(out, key=lambda j: j.id)


def published_plan_id(session: Session, day: date) -> int | None:
    """The day's published plan, or None."""
    found = session.scalars(
        select(PlanRow.id)
        .where(PlanRow.plan_date == day, PlanRow.status == PlanStatus.PUBLISHED)
        .order_by(PlanRow.id.desc())
        .limit(1)
    ).first()
    return None if found is None else int(found)


def assigned_off_route(session: Session, day: date) -> list[int]:
    """Jobs marked Work assigned that no published plan of ``day`` or later has on a route."""
    routed = (
        select(StopRow.job_id)
        .join(PlanRow, PlanRow.id == StopRow.plan_id)
        .where(PlanRow.status == PlanStatus.PUBLISHED, PlanRow.plan_date >= day)
    )
    rows = session.scalars(
        select(JobRow.id)
        .where(JobRow.status == "assigned", JobRow.id.not_in(routed))
        .order_by(JobRow.id)
    )
    return [int(r) for r in rows]


def plan_day(session: Session, plan_id: int) -> date | None:
    """The day a plan is for, or None when there is no such plan."""
    return session.scalar(select(PlanRow.plan_date).where(PlanRow.id == plan_id))
