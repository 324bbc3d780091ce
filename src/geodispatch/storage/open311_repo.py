"""Reads behind the Open311 GeoReport API: requests with filters and paging, and updates.

The API is public: requests of the city's internal work-order types (the catalogue's
``public`` flag is false) are never read here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import false, func, or_, select, update
from sqlalchemy.orm import Session

from geodispatch.domain.requests import RequestStatus
from geodispatch.domain.workflow import EventKind
from geodispatch.storage.tables import (
    JobRow,
    RequestRow,
    ServiceTypeRow,
    StatusEventRow,
)


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """What the API shows of one request."""

    id: int
    source: str
    source_id: str
    service_code: str
    service_name: str
    department: str
    description: str
    address: str
    zipcode: str
    lon: float | None
    lat: float | None
    status: RequestStatus
    created_at: datetime
    due_at: datetime | None
    closed_at: datetime | None
    updated_at: datetime
    closure_note: str
    job_id: int | None
    caller_count: int
    ward: int | None
    sla_hours: float | None
    media_url: str | None = None


_UPDATED = func.coalesce(RequestRow.closed_at, RequestRow.updated_at)
#: A request residents may read of: its type is not one of the city's internal work orders.
_PUBLIC_TYPE = RequestRow.service_code.not_in(
    select(ServiceTypeRow.code).where(ServiceTypeRow.public == false())
)


def _select() -> Any:
    return (
        select(
            RequestRow.id,
            RequestRow.source,
            RequestRow.source_id,
            RequestRow.service_code,
            func.coalesce(ServiceTypeRow.name, RequestRow.service_name),
            func.coalesce(func.nullif(ServiceTypeRow.department, ""), RequestRow.department),
            RequestRow.description,
            RequestRow.address,
            RequestRow.zipcode,
            RequestRow.lon,
            RequestRow.lat,
            RequestRow.status,
            RequestRow.created_at,
            RequestRow.due_at,
            RequestRow.closed_at,
            RequestRow.updated_at,
            RequestRow.closure_note,
            RequestRow.job_id,
            func.coalesce(JobRow.caller_count, 1),
            func.coalesce(RequestRow.ward, RequestRow.source_ward),
            ServiceTypeRow.sla_hours,
            RequestRow.media_url,
        )
        .outerjoin(ServiceTypeRow, ServiceTypeRow.code == RequestRow.service_code)
        .outerjoin(JobRow, JobRow.id == RequestRow.job_id)
    )


def _record(r: Any) -> RequestRecord:
    values = list(r)
    values[11] = RequestStatus(values[11])
    return RequestRecord(*values)


def query_requests(
    session: Session,
    *,
    ids: Sequence[int] | None = None,
    codes: Sequence[str] | None = None,
    statuses: Sequence[RequestStatus] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    updated_after: datetime | None = None,
    updated_before: datetime | None = None,
    limit: int = 1000,
    offset: int = 0,
) -> tuple[list[RequestRecord], int]:
    """Public requests matching every given filter, newest first, and how many match in total."""
    conditions: list[Any] = [_PUBLIC_TYPE]
    if ids is not None:
        conditions.append(RequestRow.id.in_(list(ids)))
    if codes is not None:
        conditions.append(RequestRow.service_code.in_(list(codes)))
    if statuses is not None:
        conditions.append(RequestRow.status.in_([s.value for s in statuses]))
    if start is not None:
        conditions.append(RequestRow.created_at >= start)
    if end is not None:
        conditions.append(RequestRow.created_at <= end)
    if updated_after is not None:
        conditions.append(updated_after <= _UPDATED)
    if updated_before is not None:
        conditions.append(updated_before >= _UPDATED)
    total = session.scalar(select(func.count()).select_from(RequestRow).where(*conditions))
    rows = session.execute(
        _select()
        .where(*conditions)
        .order_by(RequestRow.created_at.desc(), RequestRow.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return [_record(r) for r in rows], int(total or 0)


def request_by_source(session: Session, source: str, source_id: str) -> int | None:
    """Our id of a request given its source's id."""
    return session.scalar(
        select(RequestRow.id).where(RequestRow.source == source, RequestRow.source_id == source_id)
    )


def set_media_url(session: Session, request_id: int, url: str) -> None:
    """Keep the photo link a client posted with a request."""
    session.execute(update(RequestRow).where(RequestRow.id == request_id).values(media_url=url))


def latest_public_notes(session: Session, request_ids: Sequence[int]) -> dict[int, str]:
    """Request id -> the latest public note of its job (a dispatcher's note for residents).

    Other notes (crews', dispatchers' notes with a change) are internal and never read here.
    """
    if not request_ids:
        return {}
    ranked = (
        select(
            RequestRow.id.label("request_id"),
            StatusEventRow.note,
            func.row_number()
            .over(
                partition_by=RequestRow.id,
                order_by=(StatusEventRow.at.desc(), StatusEventRow.id.desc()),
            )
            .label("n"),
        )
        .join(StatusEventRow, StatusEventRow.job_id == RequestRow.job_id)
        .where(
            RequestRow.id.in_(list(request_ids)),
            StatusEventRow.kind == EventKind.PUBLIC.value,
            StatusEventRow.note != "",
        )
        .subquery()
    )
    rows = session.execute(select(ranked.c.request_id, ranked.c.note).where(ranked.c.n == 1))
    return {int(r[0]): str(r[1]) for r in rows}


def updates_between(
    session: Session, start: datetime, end: datetime, *, limit: int, offset: int = 0
) -> tuple[list[tuple[int, int, str, str, datetime]], int]:
    """One page of status changes of public requests in a window, and how many there are.

    Each change is (event id, request id, to status, note, at), oldest first.
    """
    where = (
        _PUBLIC_TYPE,
        StatusEventRow.request_id.is_not(None),
        StatusEventRow.to_status.is_not(None),
        StatusEventRow.at >= start,
        StatusEventRow.at <= end,
    )
    joined = select(StatusEventRow.id).join(RequestRow, RequestRow.id == StatusEventRow.request_id)
    total = session.scalar(select(func.count()).select_from(joined.where(*where).subquery()))
    rows = session.execute(
        select(
            StatusEventRow.id,
            StatusEventRow.request_id,
            StatusEventRow.to_status,
            StatusEventRow.note,
            StatusEventRow.at,
        )
        .join(RequestRow, RequestRow.id == StatusEventRow.request_id)
        .where(*where)
        .order_by(StatusEventRow.at, StatusEventRow.id)
        .limit(limit)
        .offset(offset)
    ).all()
    changes = [(int(r[0]), int(r[1] or 0), str(r[2]), str(r[3]), r[4]) for r in rows]
    return changes, int(total or 0)


def catalogue_changed_at(session: Session) -> datetime | None:
    """When the service catalogue last changed (discovery's changeset)."""
    return session.scalar(select(func.max(ServiceTypeRow.updated_at)))


def map_points(
    session: Session,
    *,
    closed_since: datetime,
    ward: int | None = None,
    code: str | None = None,
    limit: int = 5000,
) -> list[tuple[int, str, str, str, float, float, datetime, int | None]]:
    """Public requests with a point that are open or closed since ``closed_since``.

    Rows of (id, service code, type name, status, lon, lat, created at, ward); newest first.
    No descriptions, addresses or notes.
    """
    conditions: list[Any] = [
        _PUBLIC_TYPE,
        RequestRow.lon.is_not(None),
        RequestRow.lat.is_not(None),
        or_(
            RequestRow.status.in_([s.value for s in RequestStatus if s.is_open]),
            RequestRow.closed_at >= closed_since,
        ),
    ]
    if ward is not None:
        conditions.append(func.coalesce(RequestRow.ward, RequestRow.source_ward) == ward)
    if code is not None:
        conditions.append(RequestRow.service_code == code)
    rows = session.execute(
        select(
            RequestRow.id,
            RequestRow.service_code,
            func.coalesce(ServiceTypeRow.name, RequestRow.service_name),
            RequestRow.status,
            RequestRow.lon,
            RequestRow.lat,
            RequestRow.created_at,
            func.coalesce(RequestRow.ward, RequestRow.source_ward),
        )
        .outerjoin(ServiceTypeRow, ServiceTypeRow.code == RequestRow.service_code)
        .where(*conditions)
        .order_by(RequestRow.created_at.desc(), RequestRow.id.desc())
        .limit(limit)
    ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def public_wards(session: Session) -> list[int]:
    """The wards public requests are in, in order (the public map's ward filter)."""
    ward = func.coalesce(RequestRow.ward, RequestRow.source_ward)
    rows = session.scalars(
        select(ward).where(_PUBLIC_TYPE, ward.is_not(None)).distinct().order_by(ward)
    )
    return [int(w) for w in rows]
