"""Queries behind closure truth: closed requests with their notes, links and re-report inputs."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import bindparam, func, insert, select, true, update
from sqlalchemy.orm import Session

from geodispatch.domain.requests import OPEN_STATUSES
from geodispatch.domain.workflow import FIELD_COMPLETION, EventKind
from geodispatch.storage.tables import ImportRow, RequestRow, ServiceTypeRow, StatusEventRow

_OPEN = [s.value for s in OPEN_STATUSES]
CLOSED_COLUMNS = [
    "request_id",
    "source",
    "source_id",
    "import_id",
    "job_id",
    "status",
    "closure_note",
    "closure_class",
    "duplicate_of",
]


def closed_requests(
    session: Session, *, source: str | None = None, kinds: tuple[str, ...] | None = None
) -> pd.DataFrame:
    """Requests that are not open, with closure note, class and duplicate link.

    ``kinds`` keeps those last written by an import of one of these kinds (``city_export``…).
    """
    stmt = select(
        RequestRow.id,
        RequestRow.source,
        RequestRow.source_id,
        RequestRow.import_id,
        RequestRow.job_id,
        RequestRow.status,
        RequestRow.closure_note,
        RequestRow.closure_class,
        RequestRow.duplicate_of,
    ).where(RequestRow.status.not_in(_OPEN))
    if source is not None:
        stmt = stmt.where(RequestRow.source == source)
    if kinds is not None:
        stmt = stmt.join(ImportRow, ImportRow.id == RequestRow.import_id).where(
            ImportRow.kind.in_(kinds)
        )
    rows = session.execute(stmt.order_by(RequestRow.id)).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=CLOSED_COLUMNS)


def class_counts(session: Session) -> pd.DataFrame:
    """Closed requests per type and closure class (``service_name, closure_class, requests``)."""
    stmt = (
        select(RequestRow.service_name, RequestRow.closure_class, func.count())
        .where(RequestRow.closure_class.is_not(None))
        .group_by(RequestRow.service_name, RequestRow.closure_class)
    )
    rows = [tuple(r) for r in session.execute(stmt)]
    return pd.DataFrame(rows, columns=["service_name", "closure_class", "requests"])


def linked_duplicates(session: Session) -> int:
    """Requests linked to the original their duplicate note cites."""
    stmt = select(func.count()).where(RequestRow.duplicate_of.is_not(None))
    return int(session.execute(stmt).scalar_one())


def request_ids(session: Session, source: str, source_ids: Iterable[str]) -> dict[str, int]:
    """Our request id of each source id that is stored (others are left out)."""
    wanted = sorted(set(source_ids))
    found: dict[str, int] = {}
    for start in range(0, len(wanted), 900):  # SQLite's bound-parameter limit
        chunk = wanted[start : start + 900]
        stmt = select(RequestRow.source_id, RequestRow.id).where(
            RequestRow.source == source, RequestRow.source_id.in_(chunk)
        )
        found.update({str(s): int(i) for s, i in session.execute(stmt)})
    return found


def write_closures(session: Session, changes: pd.DataFrame, *, actor: str, now: datetime) -> None:
    """Store class, duplicate link and status of each row of ``changes``; audit status changes.

    ``changes`` has ``request_id, closure_class, duplicate_of, status, old_status``. A status
    change bumps the request's version and ``updated_at`` and writes an append-only status
    event with ``actor`` in the same transaction; a class or link alone does neither.
    """
    if changes.empty:
        return
    table: Any = RequestRow.__table__
    moved_mask = (changes["status"] != changes["old_status"]).to_numpy(dtype=bool)
    notes_only: dict[str, Any] = {
        "closure_class": bindparam("b_class"),
        "duplicate_of": bindparam("b_dup"),
    }
    # a new status is a change residents and caches must see; a note's reading is not
    for mask, values in (
        (~moved_mask, notes_only),
        (
            moved_mask,
            notes_only
            | {"status": bindparam("b_status"), "updated_at": now, "version": table.c.version + 1},
        ),
    ):
        part = changes[mask]
        if part.empty:
            continue
        stmt = update(table).where(table.c.id == bindparam("b_id")).values(values)
        dup = part["duplicate_of"].astype("Int64")
        session.connection().execute(
            stmt,
            [
                {
                    "b_id": int(i),
                    "b_class": str(c),
                    "b_dup": None if pd.isna(d) else int(d),
                    "b_status": str(s),
                }
                for i, c, d, s in zip(
                    part["request_id"], part["closure_class"], dup, part["status"], strict=True
                )
            ],
        )
    moved = changes[changes["status"] != changes["old_status"]]
    if not moved.empty:
        session.connection().execute(
            insert(StatusEventRow),
            [
                {
                    "request_id": int(i),
                    "kind": EventKind.STATUS.value,
                    "from_status": str(old),
                    "to_status": str(new),
                    "actor": actor,
                    "at": now,
                    "note": f"the source's closure note reads as {cls}",
                }
                for i, old, new, cls in zip(
                    moved["request_id"],
                    moved["old_status"],
                    moved["status"],
                    moved["closure_class"],
                    strict=True,
                )
            ],
        )


REPORT_COLUMNS = [
    "request_id",
    "source_id",
    "job_id",
    "service_code",
    "service_name",
    "category",
    "department",
    "ward",
    "status",
    "closure_class",
    "lon",
    "lat",
    "created_at",
    "closed_at",
    "crew",
    "public",
]


def report_facts(session: Session) -> pd.DataFrame:
    """Every located or unlocated request with type family, ward, outcome and crew.

    ``category`` is the catalogue's grouping of the type (its family), ``public`` False for
    the city's own work orders; ``crew`` is the
    actor of the job's last field "done" event (``crew:CODE``), empty when no crew of ours
    recorded the work. No address, description or reporter field is read.
    """
    done = (
        select(StatusEventRow.job_id, func.max(StatusEventRow.id).label("event_id"))
        .where(StatusEventRow.kind == FIELD_COMPLETION.value, StatusEventRow.job_id.is_not(None))
        .group_by(StatusEventRow.job_id)
        .subquery()
    )
    crew_event = select(StatusEventRow.id, StatusEventRow.actor).subquery()
    ward = func.coalesce(RequestRow.ward, RequestRow.source_ward)
    department = func.coalesce(func.nullif(ServiceTypeRow.department, ""), RequestRow.department)
    stmt = (
        select(
            RequestRow.id,
            RequestRow.source_id,
            RequestRow.job_id,
            RequestRow.service_code,
            RequestRow.service_name,
            func.coalesce(ServiceTypeRow.category, ""),
            department,
            ward,
            RequestRow.status,
            RequestRow.closure_class,
            RequestRow.lon,
            RequestRow.lat,
            RequestRow.created_at,
            RequestRow.closed_at,
            func.coalesce(crew_event.c.actor, ""),
            func.coalesce(ServiceTypeRow.public, true()),
        )
        .outerjoin(ServiceTypeRow, ServiceTypeRow.code == RequestRow.service_code)
        .outerjoin(done, done.c.job_id == RequestRow.job_id)
        .outerjoin(crew_event, crew_event.c.id == done.c.event_id)
        .order_by(RequestRow.id)
    )
    frame = pd.DataFrame([tuple(r) for r in session.execute(stmt)], columns=REPORT_COLUMNS)
    for column in ("created_at", "closed_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    frame["ward"] = frame["ward"].astype("Int64")
    frame["public"] = frame["public"].astype(bool)
    frame["job_id"] = frame["job_id"].astype("Int64")
    for column in ("lon", "lat"):
        frame[column] = frame[column].astype(float)
    return frame


def duplicates_of(session: Session, request_ids: Iterable[int]) -> pd.DataFrame:
    """Requests linked as duplicates of any of ``request_ids`` (id, source id, closed time)."""
    ids = sorted({int(i) for i in request_ids})
    rows: list[tuple[Any, ...]] = []
    for start in range(0, len(ids), 900):
        stmt = select(
            RequestRow.id, RequestRow.source_id, RequestRow.duplicate_of, RequestRow.closed_at
        ).where(RequestRow.duplicate_of.in_(ids[start : start + 900]))
        rows.extend(tuple(r) for r in session.execute(stmt))
    frame = pd.DataFrame(rows, columns=["request_id", "source_id", "duplicate_of", "closed_at"])
    frame["closed_at"] = pd.to_datetime(frame["closed_at"], utc=True)
    return frame
