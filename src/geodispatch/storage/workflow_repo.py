"""Status changes, the audit trail and job membership, with optimistic versioning.

Every change is one short transaction whose first statement is a conditional write
(``UPDATE ... WHERE id = ? AND version = ?``): the database serialises writers, the row
count says whether the caller's version was still current, and the audit events are
inserted in the same transaction, so an applied change always has its event and a refused
one leaves nothing behind. On SQLite the conditional update is what takes the write lock,
so no read snapshot can go stale under it (no "database is locked" upgrade deadlock).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.orm import Session

from geodispatch.domain.errors import NotFoundError, StaleVersionError
from geodispatch.domain.requests import OPEN_STATUSES, RequestStatus
from geodispatch.domain.workflow import EventKind, StatusEvent
from geodispatch.storage.tables import JobRow, RequestRow, ServiceTypeRow, StatusEventRow

_OPEN = [s.value for s in OPEN_STATUSES]


@dataclass(frozen=True, slots=True)
class RecordState:
    """The workflow fields of one job or request."""

    id: int
    status: RequestStatus
    version: int
    job_id: int | None = None


def job_state(session: Session, job_id: int) -> RecordState:
    """Status and version of a job; NotFoundError when there is none."""
    row = session.execute(
        select(JobRow.id, JobRow.status, JobRow.version).where(JobRow.id == job_id)
    ).first()
    if row is None:
        raise NotFoundError(f"no job {job_id}; list open jobs with 'geodispatch jobs list'")
    return RecordState(row.id, RequestStatus(row.status), row.version)


def request_state(session: Session, request_id: int) -> RecordState:
    """Status, version and job of a request; NotFoundError when there is none."""
    row = session.execute(
        select(RequestRow.id, RequestRow.status, RequestRow.version, RequestRow.job_id).where(
            RequestRow.id == request_id
        )
    ).first()
    if row is None:
        raise NotFoundError(f"no request {request_id}; check the id (Open311 service_request_id)")
    return RecordState(row.id, RequestStatus(row.status), row.version, row.job_id)


def require_version(current: RecordState, expected_version: int, *, what: str) -> None:
    """Raise StaleVersionError unless the record is still at the version the caller saw."""
    if current.version != expected_version:
        raise StaleVersionError(
            f"{what} changed while you were working on it: you had version {expected_version}, "
            f"it is now version {current.version} ({current.status.label}). Reload it and "
            "decide again; nothing was changed."
        )


def _closed_at(to_status: RequestStatus, now: datetime) -> datetime | None:
    return None if to_status in OPEN_STATUSES else now


def set_job_status(
    session: Session,
    job_id: int,
    *,
    expected_version: int,
    expected_status: RequestStatus,
    to_status: RequestStatus,
    now: datetime,
    merged_into: int | None = None,
) -> int:
    """Move a job to ``to_status`` if it is still at the version and status the caller saw.

    Returns the new version.

    Raises
    ------
    StaleVersionError
        Someone changed the job since the caller read it.
    """
    values: dict[str, Any] = {
        "status": to_status.value,
        "version": JobRow.version + 1,
        "updated_at": now,
        "closed_at": _closed_at(to_status, now),
    }
    if merged_into is not None or to_status is not RequestStatus.CLOSED_DUPLICATE:
        values["merged_into"] = merged_into
    result = session.execute(
        update(JobRow)
        .where(
            JobRow.id == job_id,
            JobRow.version == expected_version,
            JobRow.status == expected_status.value,
        )
        .values(values)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        require_version(job_state(session, job_id), expected_version, what=f"job {job_id}")
        raise StaleVersionError(  # same version, other status: changed and changed back
            f"job {job_id} is no longer {expected_status.label}; reload it and decide again"
        )
    return expected_version + 1


def set_request_status(
    session: Session,
    request_id: int,
    *,
    expected_version: int,
    expected_status: RequestStatus,
    to_status: RequestStatus,
    now: datetime,
) -> int:
    """Move one request to ``to_status`` under the same optimistic check as jobs."""
    result = session.execute(
        update(RequestRow)
        .where(
            RequestRow.id == request_id,
            RequestRow.version == expected_version,
            RequestRow.status == expected_status.value,
        )
        .values(
            status=to_status.value,
            version=RequestRow.version + 1,
            updated_at=now,
            closed_at=_closed_at(to_status, now),
        )
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        current = request_state(session, request_id)
        require_version(current, expected_version, what=f"request {request_id}")
        raise StaleVersionError(
            f"request {request_id} is no longer {expected_status.label}; reload it and decide again"
        )
    return expected_version + 1


def hold_request(session: Session, request_id: int, *, expected_version: int) -> RecordState:
    """Lock a request at the version the caller saw, before deciding anything about it.

    Writes that change nothing: they take the write lock (SQLite) or the row locks
    (PostgreSQL; the job's first, then the request's, the order every job change takes
    them in, so two dispatchers cannot deadlock), so no change to the request or its job
    can slip in between this check and the change that follows. Returns its state.

    Raises
    ------
    StaleVersionError
        The request moved on since the caller read it.
    NotFoundError
        No such request.
    """
    its_job = select(RequestRow.job_id).where(RequestRow.id == request_id).scalar_subquery()
    session.execute(update(JobRow).where(JobRow.id == its_job).values(version=JobRow.version))
    result = session.execute(
        update(RequestRow)
        .where(RequestRow.id == request_id, RequestRow.version == expected_version)
        .values(version=RequestRow.version)
    )
    current = request_state(session, request_id)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        require_version(current, expected_version, what=f"request {request_id}")
    return current


def cascade_to_requests(
    session: Session, job_id: int, *, to_status: RequestStatus, now: datetime
) -> list[tuple[int, RequestStatus]]:
    """Give every request of a job the job's new status; returns (id, previous status).

    The caller holds the job's write (its version was just bumped in this transaction), so
    the requests cannot move underneath.
    """
    rows = session.execute(
        select(RequestRow.id, RequestRow.status)
        .where(RequestRow.job_id == job_id, RequestRow.status != to_status.value)
        .order_by(RequestRow.id)
    ).all()
    if rows:
        session.execute(
            update(RequestRow)
            .where(RequestRow.id.in_([r.id for r in rows]))
            .values(
                status=to_status.value,
                version=RequestRow.version + 1,
                updated_at=now,
                closed_at=_closed_at(to_status, now),
            )
        )
    return [(r.id, RequestStatus(r.status)) for r in rows]


def add_events(session: Session, events: Sequence[dict[str, Any]]) -> None:
    """Append audit events (dicts of :class:`StatusEventRow` columns); never updates any."""
    if events:
        session.execute(insert(StatusEventRow), [_event_values(e) for e in events])


def _event_values(event: dict[str, Any]) -> dict[str, Any]:
    values = {
        "job_id": None,
        "request_id": None,
        "from_status": None,
        "to_status": None,
        "note": "",
        "lon": None,
        "lat": None,
        "photo_ref": None,
        "stop_id": None,
        "distance_m": None,
        "flags": "",
    } | event
    for key in ("kind", "from_status", "to_status"):
        if values[key] is not None:
            values[key] = str(getattr(values[key], "value", values[key]))
    return values


def events(
    session: Session,
    *,
    job_id: int | None = None,
    request_id: int | None = None,
    request_ids: Iterable[int] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
) -> list[StatusEvent]:
    """Audit events, oldest first, filtered by job, request(s) and time."""
    stmt = select(StatusEventRow).order_by(StatusEventRow.at, StatusEventRow.id)
    if job_id is not None:
        stmt = stmt.where(StatusEventRow.job_id == job_id)
    if request_id is not None:
        stmt = stmt.where(StatusEventRow.request_id == request_id)
    if request_ids is not None:
        stmt = stmt.where(StatusEventRow.request_id.in_(list(request_ids)))
    if since is not None:
        stmt = stmt.where(StatusEventRow.at >= since)
    if until is not None:
        stmt = stmt.where(StatusEventRow.at <= until)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [to_event(r) for r in session.scalars(stmt)]


def to_event(row: StatusEventRow) -> StatusEvent:
    """Domain record from an audit row."""
    return StatusEvent(
        id=row.id,
        kind=EventKind(row.kind),
        at=row.at,
        actor=row.actor,
        job_id=row.job_id,
        request_id=row.request_id,
        from_status=None if row.from_status is None else RequestStatus(row.from_status),
        to_status=None if row.to_status is None else RequestStatus(row.to_status),
        note=row.note,
        lon=row.lon,
        lat=row.lat,
        photo_ref=row.photo_ref,
        stop_id=row.stop_id,
        distance_m=row.distance_m,
        flags=row.flags,
    )


def count_events(session: Session, *, kind: str | None = None) -> int:
    """How many audit events there are (of one kind)."""
    stmt = select(func.count()).select_from(StatusEventRow)
    if kind is not None:
        stmt = stmt.where(StatusEventRow.kind == kind)
    return int(session.scalar(stmt) or 0)


# ---------------------------------------------------------------- job membership

#: Arbitrary key of the PostgreSQL advisory lock that makes grouping runs take turns.
_PG_GROUPING_LOCK = 0x6765_6F64_6772_6F75 % (2**63)


def lock_job_grouping(session: Session) -> None:
    """Make this transaction the only one putting requests into jobs until it ends.

    Call it first in the transaction, before reading which requests lack a job: two runs
    reading the same unjobbed requests would each make a job for them. PostgreSQL takes a
    transaction-scoped advisory lock (other writers are not held up); SQLite has one writer
    at a time, and a write that matches no row takes the database's write lock, so the
    reads that follow see every request committed before it.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_GROUPING_LOCK})
    else:
        session.execute(update(JobRow).where(JobRow.id == -1).values(version=JobRow.version))


def open_requests_without_job(session: Session) -> pd.DataFrame:
    """Open requests not yet in a job, with what grouping needs."""
    rows = session.execute(
        select(
            RequestRow.id.label("request_id"),
            RequestRow.service_code,
            RequestRow.lon,
            RequestRow.lat,
            RequestRow.address,
            RequestRow.created_at,
            RequestRow.status,
        )
        .where(RequestRow.job_id.is_(None), RequestRow.status.in_(_OPEN))
        .order_by(RequestRow.id)
    ).all()
    return _frame(
        rows, ["request_id", "service_code", "lon", "lat", "address", "created_at", "status"]
    )


def clear_points(session: Session, notes: dict[int, str]) -> None:
    """Keep these requests without a point (location unknown), each with its note."""
    for request_id, note in notes.items():
        session.execute(
            update(RequestRow)
            .where(RequestRow.id == request_id)
            .values(lon=None, lat=None, location_status="unknown", location_note=note)
        )


def open_job_anchors(session: Session, service_codes: Iterable[str]) -> pd.DataFrame:
    """Open jobs of the given types with their anchor point and latest report time."""
    codes = list(service_codes)
    last = (
        select(RequestRow.job_id, func.max(RequestRow.created_at).label("last_report_at"))
        .where(RequestRow.job_id.is_not(None))
        .group_by(RequestRow.job_id)
        .subquery()
    )
    rows = session.execute(
        select(
            JobRow.id.label("job_id"),
            JobRow.service_code,
            JobRow.lon,
            JobRow.lat,
            JobRow.address,
            func.coalesce(last.c.last_report_at, JobRow.created_at).label("last_report_at"),
        )
        .outerjoin(last, last.c.job_id == JobRow.id)
        .where(JobRow.status.in_(_OPEN), JobRow.service_code.in_(codes))
        .order_by(JobRow.id)
    ).all()
    frame = _frame(rows, ["job_id", "service_code", "lon", "lat", "address", "last_report_at"])
    frame["last_report_at"] = pd.to_datetime(frame["last_report_at"], utc=True)
    return frame


def _frame(rows: Sequence[Any], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame([tuple(r) for r in rows], columns=columns)
    for c in ("lon", "lat"):
        if c in frame.columns:
            frame[c] = pd.to_numeric(frame[c], errors="coerce").astype(float)
    if "created_at" in frame.columns:
        frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    return frame


def create_job_for(session: Session, request_id: int, *, now: datetime) -> int:
    """A new job anchored at one request (its point, address, ward, status); returns its id."""
    return create_jobs_for(session, [request_id], now=now)[0]


def create_jobs_for(session: Session, request_ids: Sequence[int], *, now: datetime) -> list[int]:
    """One new job per request, anchored at it; returns the job ids in the same order."""
    records: dict[int, dict[str, Any]] = {}
    ids = list(request_ids)
    for start in range(0, len(ids), 500):
        rows = session.execute(
            select(
                RequestRow.id,
                RequestRow.service_code,
                RequestRow.status,
                RequestRow.address,
                RequestRow.lon,
                RequestRow.lat,
                func.coalesce(RequestRow.ward, RequestRow.source_ward).label("ward"),
                RequestRow.priority,
                RequestRow.due_at,
                RequestRow.created_at,
            ).where(RequestRow.id.in_(ids[start : start + 500]))
        ).all()
        for r in rows:
            records[r.id] = {
                "service_code": r.service_code,
                "status": r.status,
                "address": r.address,
                "lon": r.lon,
                "lat": r.lat,
                "ward": r.ward,
                "caller_count": 1,
                "priority": r.priority,
                "earliest_due_at": r.due_at,
                "created_at": r.created_at,
                "updated_at": now,
                "version": 1,
            }
    missing = [i for i in ids if i not in records]
    if missing:
        raise NotFoundError(f"no request(s) {', '.join(map(str, missing[:10]))}")
    if not ids:
        return []
    # one statement per slice: SQLAlchemy splices the batches of one long RETURNING insert
    # into each other at a cost that grows with the square of the row count
    statement = insert(JobRow).returning(JobRow.id, sort_by_parameter_order=True)
    new_ids: list[int] = []
    for start in range(0, len(ids), 500):
        result = session.execute(statement, [records[i] for i in ids[start : start + 500]])
        new_ids += [int(v) for v in result.scalars().all()]
    return new_ids


def link_many(
    session: Session, links: Sequence[tuple[int, int, RequestStatus]], *, now: datetime
) -> None:
    """Point each request that has no job yet at one: (request id, job id, the job's status).

    Only requests without a job are changed; if any was put into a job by someone else
    meanwhile, StaleVersionError rolls the whole grouping back (run it again).
    """
    if not links:
        return
    table: Any = RequestRow.__table__
    result = session.connection().execute(
        update(table)
        .where(table.c.id == bindparam("b_id"), table.c.job_id.is_(None))
        .values(
            job_id=bindparam("b_job"),
            status=bindparam("b_status"),
            closed_at=bindparam("b_closed"),
            version=table.c.version + 1,
            updated_at=now,
        ),
        [
            {"b_id": r, "b_job": j, "b_status": st.value, "b_closed": _closed_at(st, now)}
            for r, j, st in links
        ],
    )
    if result.rowcount != len(links):
        raise StaleVersionError(
            f"{len(links) - result.rowcount} of {len(links)} request(s) were put into a job "
            "by someone else while they were being grouped; nothing was changed, run the "
            "grouping again"
        )


def link_requests(
    session: Session,
    job_id: int,
    request_ids: Sequence[int],
    *,
    status: RequestStatus | None,
    now: datetime,
) -> None:
    """Point requests at a job (bumping their versions); ``status`` aligns them with it."""
    if not request_ids:
        return
    values: dict[str, Any] = {
        "job_id": job_id,
        "version": RequestRow.version + 1,
        "updated_at": now,
    }
    if status is not None:
        values |= {"status": status.value, "closed_at": _closed_at(status, now)}
    session.execute(update(RequestRow).where(RequestRow.id.in_(list(request_ids))).values(values))


def refresh_job_totals(session: Session, job_ids: Iterable[int], *, now: datetime) -> None:
    """Recompute caller count, earliest due time, top priority and first report time.

    A job's version is bumped when any of them changed, so a dispatcher holding the old
    numbers is told to reload.
    """
    wanted = sorted(set(job_ids))
    changes = []
    for start in range(0, len(wanted), 500):
        batch = wanted[start : start + 500]
        totals = session.execute(
            select(
                RequestRow.job_id,
                func.count(RequestRow.id),
                func.min(RequestRow.due_at),
                func.min(RequestRow.priority),
                func.min(RequestRow.created_at),
            )
            .where(RequestRow.job_id.in_(batch))
            .group_by(RequestRow.job_id)
        ).all()
        current = {
            r.id: (r.caller_count, r.earliest_due_at, r.priority, r.created_at)
            for r in session.execute(
                select(
                    JobRow.id,
                    JobRow.caller_count,
                    JobRow.earliest_due_at,
                    JobRow.priority,
                    JobRow.created_at,
                ).where(JobRow.id.in_(batch))
            )
        }
        for job_id, count, due, priority, created in totals:
            new = (int(count), _aware(due), int(priority), _aware(created))
            if current.get(job_id) != new:
                changes.append(
                    {
                        "b_id": job_id,
                        "b_count": new[0],
                        "b_due": new[1],
                        "b_priority": new[2],
                        "b_created": new[3],
                    }
                )
    if changes:
        table: Any = JobRow.__table__
        session.connection().execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(
                caller_count=bindparam("b_count"),
                earliest_due_at=bindparam("b_due"),
                priority=bindparam("b_priority"),
                created_at=bindparam("b_created"),
                updated_at=now,
                version=table.c.version + 1,
            ),
            changes,
        )
    session.expire_all()


def _aware(value: Any) -> Any:
    """Aggregates come back as text or naive values on SQLite; make them aware UTC."""
    if value is None:
        return None
    stamp = pd.Timestamp(value)
    return (stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp).to_pydatetime()


def job_request_ids(session: Session, job_id: int) -> list[int]:
    """Ids of the requests a job carries."""
    return list(
        session.scalars(
            select(RequestRow.id).where(RequestRow.job_id == job_id).order_by(RequestRow.id)
        )
    )


def fill_due_times(session: Session, due: pd.Series) -> int:
    """Store computed due times (request id -> aware timestamp) on requests that had none."""
    records = [
        {"b_id": int(i), "b_due": pd.Timestamp(d).to_pydatetime()}
        for i, d in zip(due.dropna().index.tolist(), due.dropna().tolist(), strict=True)
    ]
    if not records:
        return 0
    table: Any = RequestRow.__table__
    session.connection().execute(
        update(table)
        .where(table.c.id == bindparam("b_id"), table.c.due_at.is_(None))
        .values(due_at=bindparam("b_due")),
        records,
    )
    return len(records)


def open_requests_missing_due(session: Session) -> pd.DataFrame:
    """Open requests with no due time whose type has an SLA target."""
    rows = session.execute(
        select(RequestRow.id, RequestRow.created_at, ServiceTypeRow.sla_hours)
        .join(ServiceTypeRow, ServiceTypeRow.code == RequestRow.service_code)
        .where(
            RequestRow.due_at.is_(None),
            RequestRow.status.in_(_OPEN),
            ServiceTypeRow.sla_hours.is_not(None),
        )
    ).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=["request_id", "created_at", "hours"])
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    return frame.set_index("request_id")


def open_jobs_closed_at_source(session: Session) -> list[tuple[RecordState, list[RequestStatus]]]:
    """Open jobs none of whose requests is open any more, with their requests' statuses.

    This happens when a re-import says the source system closed every report of a job.
    """
    open_request = (
        select(RequestRow.id)
        .where(RequestRow.job_id == JobRow.id, RequestRow.status.in_(_OPEN))
        .exists()
    )
    any_request = select(RequestRow.id).where(RequestRow.job_id == JobRow.id).exists()
    jobs = session.execute(
        select(JobRow.id, JobRow.status, JobRow.version)
        .where(JobRow.status.in_(_OPEN), any_request, ~open_request)
        .order_by(JobRow.id)
    ).all()
    out = []
    for job_id, status, version in jobs:
        statuses = session.scalars(
            select(RequestRow.status).where(RequestRow.job_id == job_id).order_by(RequestRow.id)
        ).all()
        out.append(
            (
                RecordState(job_id, RequestStatus(status), version),
                [RequestStatus(s) for s in statuses],
            )
        )
    return out
