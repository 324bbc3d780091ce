"""Reads behind the dispatcher's board: open jobs with their type, and a plan's stop states.

Read-only queries returning tidy frames; the rules (SLA standing, filters, duplicate
candidates) live in the services and the core.
"""

from __future__ import annotations

from typing import Final

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geodispatch.domain.requests import OPEN_STATUSES
from geodispatch.storage.tables import (
    CrewRow,
    JobRow,
    PlanRow,
    ServiceTypeRow,
    StatusEventRow,
    StopRow,
)

_OPEN = [s.value for s in OPEN_STATUSES]

#: Columns of :func:`open_jobs_frame`.
JOB_COLUMNS: Final = (
    "job_id",
    "service_code",
    "service_name",
    "department",
    "skill",
    "status",
    "priority",
    "caller_count",
    "address",
    "ward",
    "lon",
    "lat",
    "created_at",
    "updated_at",
    "due_at",
    "version",
)


def open_jobs_frame(session: Session) -> pd.DataFrame:
    """Every open job with its type's name, department and skill, oldest first."""
    rows = session.execute(
        select(
            JobRow.id,
            JobRow.service_code,
            ServiceTypeRow.name,
            ServiceTypeRow.department,
            ServiceTypeRow.skill,
            JobRow.status,
            JobRow.priority,
            JobRow.caller_count,
            JobRow.address,
            JobRow.ward,
            JobRow.lon,
            JobRow.lat,
            JobRow.created_at,
            JobRow.updated_at,
            JobRow.earliest_due_at,
            JobRow.version,
        )
        .join(ServiceTypeRow, ServiceTypeRow.code == JobRow.service_code)
        .where(JobRow.status.in_(_OPEN))
        .order_by(JobRow.created_at, JobRow.id)
    ).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=list(JOB_COLUMNS))
    for column in ("created_at", "updated_at", "due_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    frame["ward"] = frame["ward"].astype("Int64")
    for column in ("lon", "lat"):
        frame[column] = frame[column].astype(float)
    return frame


def plan_stops_frame(session: Session, plan_id: int) -> pd.DataFrame:
    """job_id, crew_code, sequence, stop_status, eta of every stop of a plan."""
    rows = session.execute(
        select(StopRow.job_id, CrewRow.code, StopRow.sequence, StopRow.status, StopRow.eta)
        .join(CrewRow, CrewRow.id == StopRow.crew_id)
        .where(StopRow.plan_id == plan_id)
    ).all()
    frame = pd.DataFrame(
        [tuple(r) for r in rows],
        columns=["job_id", "crew_code", "sequence", "stop_status", "eta"],
    )
    frame["eta"] = pd.to_datetime(frame["eta"], utc=True)
    return frame


def plan_state_token(session: Session, plan_id: int) -> tuple[int, int, int, str]:
    """A cheap token that changes whenever the plan or any of its stops changes.

    (plan version, stops, sum of stop versions, plan status): a stop's version grows on
    every update, so the sum moves with each crew tap; publishing moves the plan version.
    """
    version, status = session.execute(
        select(PlanRow.version, PlanRow.status).where(PlanRow.id == plan_id)
    ).one()
    count, total = session.execute(
        select(func.count(), func.coalesce(func.sum(StopRow.version), 0)).where(
            StopRow.plan_id == plan_id
        )
    ).one()
    return int(version), int(count or 0), int(total or 0), str(status)


#: Audit-event kinds a crew posts from the field.
FIELD_KINDS: Final = ("arrive", "done", "unable")


def field_reports(session: Session, plan_id: int) -> pd.DataFrame:
    """The newest crew report (arrive/done/unable) per job on a plan's stops.

    job_id, kind, at, actor, note, flags, distance_m, photo_ref.
    """
    on_plan = select(StopRow.job_id).where(StopRow.plan_id == plan_id)
    newest = (
        select(func.max(StatusEventRow.id))
        .where(StatusEventRow.kind.in_(FIELD_KINDS), StatusEventRow.job_id.in_(on_plan))
        .group_by(StatusEventRow.job_id)
    )
    rows = session.execute(
        select(
            StatusEventRow.job_id,
            StatusEventRow.kind,
            StatusEventRow.at,
            StatusEventRow.actor,
            StatusEventRow.note,
            StatusEventRow.flags,
            StatusEventRow.distance_m,
            StatusEventRow.photo_ref,
        ).where(StatusEventRow.id.in_(newest))
    ).all()
    frame = pd.DataFrame(
        [tuple(r) for r in rows],
        columns=["job_id", "kind", "at", "actor", "note", "flags", "distance_m", "photo_ref"],
    )
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    return frame
