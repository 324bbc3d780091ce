"""Load and save jobs (merged requests)."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from geodispatch.domain.errors import NotFoundError
from geodispatch.domain.jobs import Job
from geodispatch.domain.requests import OPEN_STATUSES, Priority, RequestStatus
from geodispatch.storage.tables import JobRow

_OPEN = [s.value for s in OPEN_STATUSES]


def to_job(row: JobRow) -> Job:
    """Domain object from a jobs row."""
    return Job(
        id=row.id,
        service_code=row.service_code,
        status=RequestStatus(row.status),
        address=row.address,
        lon=row.lon,
        lat=row.lat,
        ward=row.ward,
        caller_count=row.caller_count,
        priority=Priority(row.priority),
        earliest_due_at=row.earliest_due_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        closed_at=row.closed_at,
        version=row.version,
        merged_into=row.merged_into,
        confirmed_at=row.confirmed_at,
    )


def get_job(session: Session, job_id: int) -> Job | None:
    """One job, or None."""
    row = session.get(JobRow, job_id)
    return None if row is None else to_job(row)


def open_jobs(session: Session) -> list[Job]:
    """Every job still owed work, oldest first."""
    rows = session.scalars(
        select(JobRow).where(JobRow.status.in_(_OPEN)).order_by(JobRow.created_at, JobRow.id)
    )
    return [to_job(r) for r in rows]


def jobs_frame(jobs: list[Job]) -> pd.DataFrame:
    """Jobs as a tidy frame (one row per job) for analysis and display."""
    return pd.DataFrame(
        [
            {
                "job_id": j.id,
                "service_code": j.service_code,
                "status": j.status.value,
                "address": j.address,
                "lon": j.lon,
                "lat": j.lat,
                "ward": j.ward,
                "caller_count": j.caller_count,
                "priority": int(j.priority),
                "earliest_due_at": j.earliest_due_at,
                "created_at": j.created_at,
            }
            for j in jobs
        ]
    )


def set_confirmed(session: Session, job_id: int, *, at: datetime) -> None:
    """Record that a dispatcher re-confirmed the job still needs field work."""
    row = session.get(JobRow, job_id)
    if row is None:
        raise NotFoundError(f"no job with id {job_id}")
    row.confirmed_at = at
    row.updated_at = at
    row.version += 1
