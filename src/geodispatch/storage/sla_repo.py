"""Queries behind the manager's lists: incomplete work with due times, and closure audits."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session, aliased

from geodispatch.domain.requests import OPEN_STATUSES, RequestStatus
from geodispatch.domain.workflow import FIELD_COMPLETION, EventKind
from geodispatch.storage.tables import JobRow, RequestRow, ServiceTypeRow, StatusEventRow

_OPEN = [s.value for s in OPEN_STATUSES]
WORK_COLUMNS = [
    "request_id",
    "source_id",
    "job_id",
    "service_code",
    "service_name",
    "department",
    "ward",
    "status",
    "address",
    "created_at",
    "due_at",
    "closed_at",
    "caller_count",
]


def requests_frame(
    session: Session,
    *,
    open_only: bool = True,
    department: str | None = None,
    ward: int | None = None,
    source: str | None = None,
) -> pd.DataFrame:
    """Requests with type, department (the catalogue's, else the source's) and ward."""
    department_col = func.coalesce(
        func.nullif(ServiceTypeRow.department, ""), RequestRow.department
    )
    ward_col = func.coalesce(RequestRow.ward, RequestRow.source_ward)
    stmt = (
        select(
            RequestRow.id,
            RequestRow.source_id,
            RequestRow.job_id,
            RequestRow.service_code,
            RequestRow.service_name,
            department_col,
            ward_col,
            RequestRow.status,
            RequestRow.address,
            RequestRow.created_at,
            RequestRow.due_at,
            RequestRow.closed_at,
            func.coalesce(JobRow.caller_count, 1),
        )
        .join(ServiceTypeRow, ServiceTypeRow.code == RequestRow.service_code)
        .outerjoin(JobRow, JobRow.id == RequestRow.job_id)
        .order_by(RequestRow.id)
    )
    if open_only:
        stmt = stmt.where(RequestRow.status.in_(_OPEN))
    if department is not None:
        stmt = stmt.where(department_col == department)
    if ward is not None:
        stmt = stmt.where(ward_col == ward)
    if source is not None:
        stmt = stmt.where(RequestRow.source == source)
    return _times(pd.DataFrame([tuple(r) for r in session.execute(stmt)], columns=WORK_COLUMNS))


def _times(frame: pd.DataFrame) -> pd.DataFrame:
    for c in ("created_at", "due_at", "closed_at"):
        frame[c] = pd.to_datetime(frame[c], utc=True)
    frame["ward"] = frame["ward"].astype("Int64")
    return frame


def closed_without_field_completion(session: Session) -> pd.DataFrame:
    """Completed requests with no crew 'done' event on their job, and why each is listed.

    Two kinds are listed. ``closed_here``: someone completed it in geodispatch (an audit
    event took it to completed) but no crew recorded the work. ``closed_in_source``: the
    source system closed it (no completion event here) after it had been dispatched in
    geodispatch (an event took it to Work assigned or In progress). Historical closures
    that were never dispatched here are not listed: the source system, not a crew of ours,
    is accountable for them, and listing them would bury the real cases.
    """
    done = aliased(StatusEventRow)
    completion = aliased(StatusEventRow)
    dispatched = aliased(StatusEventRow)
    no_field_done = ~exists().where(
        and_(done.job_id == RequestRow.job_id, done.kind == FIELD_COMPLETION.value)
    )
    # a completion event here, not one an import wrote to record the source's closure
    completion_here = and_(
        completion.request_id == RequestRow.id,
        completion.to_status == RequestStatus.COMPLETED.value,
        ~completion.actor.startswith("import"),
    )
    completed_here = exists().where(completion_here)
    was_dispatched = exists().where(
        and_(
            dispatched.request_id == RequestRow.id,
            dispatched.to_status.in_(
                [RequestStatus.ASSIGNED.value, RequestStatus.IN_PROGRESS.value]
            ),
        )
    )
    last_actor = (
        select(completion.actor)
        .where(completion_here)
        .order_by(completion.at.desc(), completion.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    stmt: Any = (
        select(
            RequestRow.id,
            RequestRow.job_id,
            RequestRow.service_code,
            RequestRow.address,
            RequestRow.closed_at,
            completed_here.label("here"),
            last_actor.label("actor"),
        )
        .where(
            RequestRow.status == RequestStatus.COMPLETED.value,
            no_field_done,
            completed_here | was_dispatched,
        )
        .order_by(RequestRow.closed_at.desc(), RequestRow.id)
    )
    rows = session.execute(stmt).all()
    frame = pd.DataFrame(
        [tuple(r) for r in rows],
        columns=["request_id", "job_id", "service_code", "address", "closed_at", "here", "actor"],
    )
    frame["closed_at"] = pd.to_datetime(frame["closed_at"], utc=True)
    frame["reason"] = [
        f"completed by {a} with no crew completion recorded"
        if here
        else "closed in the source system after being dispatched here; no crew completion"
        for here, a in zip(frame["here"], frame["actor"], strict=True)
    ]
    frame["kind"] = ["closed_here" if h else "closed_in_source" for h in frame["here"]]
    return frame.drop(columns=["here"])


def count_field_events(session: Session) -> dict[str, int]:
    """How many crew events of each kind are recorded."""
    kinds = [EventKind.ARRIVE.value, EventKind.DONE.value, EventKind.UNABLE.value]
    rows = session.execute(
        select(StatusEventRow.kind, func.count())
        .where(StatusEventRow.kind.in_(kinds))
        .group_by(StatusEventRow.kind)
    ).all()
    return {str(k): int(n) for k, n in rows}


def flagged_completions(session: Session) -> pd.DataFrame:
    """Crew 'done' events with audit flags (far from the site, no position, no photo)."""
    rows = session.execute(
        select(
            StatusEventRow.id,
            StatusEventRow.job_id,
            JobRow.service_code,
            JobRow.address,
            StatusEventRow.actor,
            StatusEventRow.at,
            StatusEventRow.distance_m,
            StatusEventRow.flags,
            StatusEventRow.note,
        )
        .join(JobRow, JobRow.id == StatusEventRow.job_id)
        .where(StatusEventRow.kind == FIELD_COMPLETION.value, StatusEventRow.flags != "")
        .order_by(StatusEventRow.at.desc(), StatusEventRow.id.desc())
    ).all()
    frame = pd.DataFrame(
        [tuple(r) for r in rows],
        columns=[
            "event_id",
            "job_id",
            "service_code",
            "address",
            "actor",
            "at",
            "distance_m",
            "flags",
            "note",
        ],
    )
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    return frame
