"""Aggregate queries over requests for overview screens (counted by the database)."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import case, func, select, true
from sqlalchemy.orm import Session

from geodispatch.domain.requests import OPEN_STATUSES, LocationStatus, RequestStatus
from geodispatch.storage.tables import RequestRow, ServiceTypeRow

_OPEN = [s.value for s in OPEN_STATUSES]


def count_requests(session: Session, *, open_only: bool = False) -> int:
    """Number of requests (only open ones with ``open_only``)."""
    stmt = select(func.count()).select_from(RequestRow)
    if open_only:
        stmt = stmt.where(RequestRow.status.in_(_OPEN))
    return int(session.scalar(stmt) or 0)


def count_location_unknown(session: Session) -> int:
    """Requests without a usable point."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(RequestRow)
            .where(RequestRow.location_status == LocationStatus.UNKNOWN.value)
        )
        or 0
    )


def _open_count() -> object:
    return func.sum(case((RequestRow.status.in_(_OPEN), 1), else_=0))


def counts_by_type(session: Session) -> pd.DataFrame:
    """service_name, department, requests, open; busiest first."""
    rows = session.execute(
        select(
            RequestRow.service_name, func.max(RequestRow.department), func.count(), _open_count()
        )  # type: ignore[call-overload]
        .group_by(RequestRow.service_name)
        .order_by(func.count().desc(), RequestRow.service_name)
    ).all()
    return pd.DataFrame(rows, columns=["service_name", "department", "requests", "open"])


def counts_by_ward(session: Session) -> pd.DataFrame:
    """Ward (our assignment, else the source's; <NA> when neither), requests, open."""
    ward = func.coalesce(RequestRow.ward, RequestRow.source_ward)
    rows = session.execute(
        select(ward, func.count(), _open_count())  # type: ignore[call-overload]
        .group_by(ward)
        .order_by(ward)
    ).all()
    frame = pd.DataFrame(rows, columns=["ward", "requests", "open"])
    frame["ward"] = frame["ward"].astype("Int64")
    return frame


def counts_by_status(session: Session) -> pd.DataFrame:
    """status, label, requests in workflow order."""
    rows = dict(
        session.execute(select(RequestRow.status, func.count()).group_by(RequestRow.status)).all()
    )
    order = list(RequestStatus)
    return pd.DataFrame(
        [(s.value, s.label, int(rows.get(s.value, 0))) for s in order if s.value in rows],
        columns=["status", "label", "requests"],
    )


def latest_created(session: Session) -> pd.Timestamp | None:
    """When the newest request was opened."""
    value = session.scalar(select(func.max(RequestRow.created_at)))
    return None if value is None else pd.Timestamp(value)


def created_range(session: Session) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """When the oldest and the newest stored request were opened."""
    low, high = session.execute(
        select(func.min(RequestRow.created_at), func.max(RequestRow.created_at))
    ).one()
    return (
        None if low is None else pd.Timestamp(low),
        None if high is None else pd.Timestamp(high),
    )


def request_facts(session: Session, *, since: pd.Timestamp | None = None) -> pd.DataFrame:
    """Non-personal facts per request for KPIs: type, department, ward, status and times.

    No address, description or reporter field is read, so what is built from this frame
    can be published. ``public`` is the catalogue's flag of the request's type (False for
    the city's own work orders, which public figures leave out).
    """
    ward = func.coalesce(RequestRow.ward, RequestRow.source_ward).label("ward")
    stmt = select(
        RequestRow.service_name,
        RequestRow.department,
        ward,
        RequestRow.status,
        RequestRow.created_at,
        RequestRow.closed_at,
        RequestRow.due_at,
        func.coalesce(ServiceTypeRow.public, true()),
    ).outerjoin(ServiceTypeRow, ServiceTypeRow.code == RequestRow.service_code)
    if since is not None:
        stmt = stmt.where(RequestRow.created_at >= since.to_pydatetime())
    frame = pd.DataFrame(
        session.execute(stmt).all(),
        columns=[
            "service_name",
            "department",
            "ward",
            "status",
            "created_at",
            "closed_at",
            "due_at",
            "public",
        ],
    )
    frame["public"] = frame["public"].astype(bool)
    for column in ("created_at", "closed_at", "due_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    frame["ward"] = frame["ward"].astype("Int64")
    return frame
