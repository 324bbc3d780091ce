"""Load and save requests, rejected rows, imports and the service catalogue.

Repositories convert between frames/dataclasses and rows; they hold no business rules.
Bulk paths use SQLAlchemy Core ``executemany`` so a million rows stay fast.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import numpy as np
import pandas as pd
from sqlalchemy import Connection, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from geodispatch.domain.requests import (
    OPEN_STATUSES,
    ImportRecord,
    Priority,
    RejectedRow,
    RequestStatus,
)
from geodispatch.domain.service_types import ServiceType
from geodispatch.storage.tables import (
    ImportRow,
    RejectedRowRow,
    RequestRow,
    ServiceTypeRow,
    StatusEventRow,
)

#: Columns intake owns: an updated source row overwrites them. Everything else on a request
#: (ward, geocode, job, hotspot, workflow status while open) belongs to later stages.
SOURCE_COLUMNS: Final = (
    "line",
    "service_code",
    "service_name",
    "department",
    "description",
    "address",
    "zipcode",
    "lon",
    "lat",
    "location_status",
    "location_note",
    "source_ward",
    "channel",
    "created_at",
    "due_at",
    "closed_at",
    "closure_note",
    "row_hash",
)
_BATCH: Final = 500  # ids per IN (...) query


@dataclass(frozen=True, slots=True)
class UpsertCounts:
    """What one batch of accepted requests did to the table."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: UpsertCounts) -> UpsertCounts:
        return UpsertCounts(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
        )


def _column_values(series: pd.Series) -> list[Any]:
    """A column as Python values with None for every kind of missing."""
    missing = series.isna().to_numpy()
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        values = np.array(series.dt.tz_convert(UTC).dt.to_pydatetime(), dtype=object)
    elif pd.api.types.is_float_dtype(series.dtype):
        values = series.to_numpy(dtype=float).astype(object)
    elif pd.api.types.is_integer_dtype(series.dtype):
        values = series.astype(object).to_numpy(copy=True)
    else:
        values = series.to_numpy(dtype=object, copy=True)
    if missing.any():
        values[missing] = None
    return values.tolist()  # type: ignore[no-any-return]


def result_frame(rows: Iterable[Any], columns: Sequence[str]) -> pd.DataFrame:
    """Query result rows as a frame with ``columns``.

    Built from plain tuples: given SQLAlchemy ``Row`` objects, pandas probes each one for
    attributes and every probe goes through the row's failed-key fallback, which made
    reading 58k rows about six times slower.
    """
    return pd.DataFrame([tuple(r) for r in rows], columns=list(columns))


def frame_records(frame: pd.DataFrame, columns: Sequence[str]) -> list[dict[str, Any]]:
    """Rows of ``frame`` as dicts of plain Python values, for Core executemany."""
    arrays = [_column_values(frame[c]) for c in columns]
    return [dict(zip(columns, values, strict=True)) for values in zip(*arrays, strict=True)]


def bulk_insert(
    session: Session,
    table: Any,
    frame: pd.DataFrame,
    columns: Sequence[str],
    *,
    constants: dict[str, Any] | None = None,
) -> None:
    """Insert the rows of ``frame`` fast: COPY on PostgreSQL, one executemany on SQLite.

    SQLAlchemy's per-value type processing dominates a million-row insert, so the values
    are prepared column-wise here. PostgreSQL (psycopg 3) streams them with ``COPY ... FROM
    STDIN``, several times faster than batched INSERTs for a big import; SQLite gets one
    driver-level executemany (timestamps in the format SQLAlchemy itself writes and reads
    back). Other backends take the Core path, which their drivers batch.
    """
    constants = constants or {}
    connection = session.connection()
    names = [*columns, *constants]
    dialect = connection.dialect
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        arrays = [_column_values(frame[c]) for c in columns]
        arrays += [[value] * len(frame) for value in constants.values()]
        _copy_rows(connection, table.name, names, zip(*arrays, strict=True))
        return
    if dialect.name != "sqlite":
        records = frame_records(frame, columns)
        for record in records:
            record.update(constants)
        connection.execute(insert(table), records)
        return
    arrays = []
    for c in columns:
        series = frame[c]
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            text = series.dt.tz_convert(UTC).dt.strftime(_SQLITE_DATETIME)
            arrays.append(text.astype(object).where(series.notna(), None).tolist())
        else:
            arrays.append(_column_values(series))
    arrays += [[value] * len(frame) for value in constants.values()]
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})"
    connection.exec_driver_sql(sql, list(zip(*arrays, strict=True)))


def _copy_rows(
    connection: Connection, table: str, names: Sequence[str], rows: Iterable[tuple[Any, ...]]
) -> None:
    """Stream rows into ``table`` with PostgreSQL's COPY, inside the session's transaction."""
    from psycopg import sql

    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(n) for n in names)
    )
    raw: Any = connection.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


_SQLITE_DATETIME: Final = "%Y-%m-%d %H:%M:%S.%f"


def source_has_requests(session: Session, source: str) -> bool:
    """True when any request of ``source`` is stored."""
    return (
        session.execute(select(RequestRow.id).where(RequestRow.source == source).limit(1)).first()
        is not None
    )


def existing_hashes(session: Session, source: str, source_ids: Iterable[str]) -> dict[str, str]:
    """source_id -> row_hash for the ids of ``source`` already stored."""
    ids = list(source_ids)
    found: dict[str, str] = {}
    for start in range(0, len(ids), _BATCH):
        batch = ids[start : start + _BATCH]
        rows = session.execute(
            select(RequestRow.source_id, RequestRow.row_hash).where(
                RequestRow.source == source, RequestRow.source_id.in_(batch)
            )
        )
        found.update({sid: h for sid, h in rows})
    return found


def upsert_requests(
    session: Session,
    accepted: pd.DataFrame,
    *,
    import_id: int,
    priorities: dict[str, int],
    now: datetime,
    all_new: bool = False,
    derive: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
) -> UpsertCounts:
    """Insert new requests and update changed ones; identical rows are left alone.

    A changed row overwrites the fields intake owns (:data:`SOURCE_COLUMNS`). Its workflow
    status is replaced only when the source closed it or ours is still ``new``, so a
    dispatcher's progress is never undone by an older export. ``all_new`` says the source
    had no requests before this import (ids within one import are unique), which skips the
    lookup of stored hashes. ``derive`` is called with the rows about to be written (new or
    changed) and returns further request columns computed from them, row for row (such as
    the ward of the point); they are written in the same insert or update.
    """
    if accepted.empty:
        return UpsertCounts()
    source = str(accepted["source"].iat[0])
    known = {} if all_new else existing_hashes(session, source, accepted["source_id"])
    stored_hash = accepted["source_id"].map(known)
    is_new = stored_hash.isna().to_numpy()
    changed = (~is_new) & (stored_hash.to_numpy(dtype=object) != accepted["row_hash"].to_numpy())

    fresh = accepted.loc[is_new].copy()
    if not fresh.empty:
        fresh["updated_at"] = pd.Timestamp(now)
        fresh["priority"] = (
            fresh["service_code"].map(priorities).fillna(int(Priority.P3)).astype("int64")
        )
        fresh, extra = _with_derived(fresh, derive)
        bulk_insert(
            session,
            RequestRow.__table__,
            fresh,
            ["source", "source_id", *SOURCE_COLUMNS, "status", "updated_at", "priority", *extra],
            constants={"import_id": import_id, "version": 1},
        )

    moved = accepted.loc[changed]
    if not moved.empty:
        moved, extra = _with_derived(moved, derive)
        moved = _keep_local_progress(session, source, moved)
        records = frame_records(moved, ["source_id", *SOURCE_COLUMNS, "status", *extra])
        table: Any = RequestRow.__table__
        stmt = (
            update(table)
            .where(table.c.source == source, table.c.source_id == bindparam("b_source_id"))
            .values(
                {c: bindparam(f"b_{c}") for c in (*SOURCE_COLUMNS, "status", *extra)}
                | {"import_id": import_id, "updated_at": now, "version": table.c.version + 1}
            )
        )
        session.connection().execute(stmt, [{f"b_{k}": v for k, v in r.items()} for r in records])
        _audit_status_changes(session, moved, import_id=import_id, now=now)
    return UpsertCounts(
        int(is_new.sum()), int(changed.sum()), int(len(accepted) - is_new.sum() - changed.sum())
    )


def _with_derived(
    frame: pd.DataFrame, derive: Callable[[pd.DataFrame], pd.DataFrame] | None
) -> tuple[pd.DataFrame, list[str]]:
    """``frame`` with the columns ``derive`` computes for it, and their names."""
    if derive is None:
        return frame, []
    derived = derive(frame)
    derived.index = frame.index
    return pd.concat([frame, derived], axis=1), list(derived.columns)


def _keep_local_progress(session: Session, source: str, moved: pd.DataFrame) -> pd.DataFrame:
    """Decide each updated row's status, close time and closing note.

    The source's status wins when it closed the request or ours is still ``new``; otherwise
    (a dispatcher reviewed, assigned or completed it here) ours, with our close time and
    note, is kept, so an older export never undoes work done in geodispatch. The stored
    values are read with a row lock and returned in ``old_status``/``request_id`` for the
    audit trail.
    """
    ids = moved["source_id"].tolist()
    stored: dict[str, tuple[int, str, datetime | None, str]] = {}
    for start in range(0, len(ids), _BATCH):
        rows = session.execute(
            select(
                RequestRow.source_id,
                RequestRow.id,
                RequestRow.status,
                RequestRow.closed_at,
                RequestRow.closure_note,
            )
            .where(
                RequestRow.source == source, RequestRow.source_id.in_(ids[start : start + _BATCH])
            )
            .with_for_update()
        )
        stored.update({r[0]: (r[1], r[2], r[3], r[4]) for r in rows})
    out = moved.copy()
    open_values = {s.value for s in OPEN_STATUSES}
    keep_ours = np.array(
        [
            out_status in open_values and stored[sid][1] != RequestStatus.NEW.value
            for sid, out_status in zip(out["source_id"], out["status"], strict=True)
        ],
        dtype=bool,
    )
    out["request_id"] = [stored[sid][0] for sid in out["source_id"]]
    out["old_status"] = [stored[sid][1] for sid in out["source_id"]]
    if keep_ours.any():
        ours = out.loc[keep_ours, "source_id"]
        out.loc[keep_ours, "status"] = [stored[sid][1] for sid in ours]
        closed = pd.Series([stored[sid][2] for sid in ours], index=ours.index, dtype=object)
        out.loc[keep_ours, "closed_at"] = pd.to_datetime(closed, utc=True)
        out.loc[keep_ours, "closure_note"] = [stored[sid][3] for sid in ours]
    return out


def _audit_status_changes(
    session: Session, moved: pd.DataFrame, *, import_id: int, now: datetime
) -> None:
    """One audit event per request whose status the source export changed."""
    changed = moved[moved["status"] != moved["old_status"]]
    if changed.empty:
        return
    session.connection().execute(
        insert(StatusEventRow),
        [
            {
                "request_id": int(rid),
                "kind": "status",
                "from_status": old,
                "to_status": new,
                "actor": f"import:{import_id}",
                "at": now,
                "note": "changed by the source system's export",
            }
            for rid, old, new in zip(
                changed["request_id"], changed["old_status"], changed["status"], strict=True
            )
        ],
    )


def insert_rejected(
    session: Session, rejected: pd.DataFrame, *, import_id: int, file_name: str
) -> None:
    """Store rejected rows with their line, field, value, problem, fix and raw text."""
    if rejected.empty:
        return
    records = frame_records(rejected, ["source", "line", "field", "value", "problem", "fix", "raw"])
    for record in records:
        record["import_id"] = import_id
        record["file_name"] = file_name
    session.connection().execute(insert(RejectedRowRow), records)


def start_import(
    session: Session, *, source: str, kind: str, file_name: str, sha256: str, now: datetime
) -> int:
    """Record that an import began; returns its id."""
    row = ImportRow(
        source=source,
        kind=kind,
        file_name=file_name[-255:],
        file_sha256=sha256,
        status="running",
        started_at=now,
    )
    session.add(row)
    session.flush()
    return row.id


def finish_import(
    session: Session, import_id: int, *, counts: dict[str, int], now: datetime, note: str = ""
) -> None:
    """Record an import's counts and mark it done."""
    session.execute(
        update(ImportRow)
        .where(ImportRow.id == import_id)
        .values(status="done", finished_at=now, note=note, **counts)
    )


def claim_import(session: Session, import_id: int) -> None:
    """Lock this import's log row for the whole data transaction.

    No other process then takes a running import for an interrupted one (a PostgreSQL row
    lock; SQLite's single writer gives the same guarantee).
    """
    session.execute(select(ImportRow.id).where(ImportRow.id == import_id).with_for_update())


def mark_interrupted_imports(session: Session, *, now: datetime) -> int:
    """Imports left 'running' by a killed process are marked failed (their data rolled back).

    An import still running holds the lock on its row (:func:`claim_import`) and is skipped.
    """
    stale = (
        select(ImportRow.id).where(ImportRow.status == "running").with_for_update(skip_locked=True)
    )
    ids = list(session.scalars(stale))
    if not ids:
        return 0
    session.execute(
        update(ImportRow)
        .where(ImportRow.id.in_(ids))
        .values(
            status="failed",
            finished_at=now,
            note="interrupted before it finished; nothing from it was kept, import again",
        )
    )
    return len(ids)


def service_priorities(session: Session) -> dict[str, int]:
    """Code -> default priority of every catalogued type."""
    return {c: p for c, p in session.execute(select(ServiceTypeRow.code, ServiceTypeRow.priority))}


def add_new_service_types(
    session: Session, types: Iterable[ServiceType], *, now: datetime
) -> tuple[int, dict[str, str]]:
    """Insert types not yet catalogued; returns (added, code renames).

    A type is one name: when a source uses its own code for a name already catalogued
    under another code (an Open311 feed's ``4fd3…`` for "Request for Pothole Repair"), its
    requests are filed under the existing code, which the returned mapping gives.
    """
    by_name = {
        name: code
        for code, name in session.execute(select(ServiceTypeRow.code, ServiceTypeRow.name))
    }
    known = set(by_name.values())
    renames: dict[str, str] = {}
    added = 0
    for t in types:
        if t.code in known:
            continue
        if t.name in by_name:
            renames[t.code] = by_name[t.name]
            continue
        session.add(_type_row(t, now))
        known.add(t.code)
        by_name[t.name] = t.code
        added += 1
    session.flush()
    return added, renames


def sla_inputs(session: Session, codes: Iterable[str] | None = None) -> pd.DataFrame:
    """Per request with a due time: ``service_code`` and ``hours`` from open to due.

    The hours are computed by the database, so a million requests never pass through
    Python as datetimes.
    """
    connection = session.connection()
    table: Any = RequestRow.__table__
    if connection.dialect.name == "sqlite":
        hours = (func.julianday(table.c.due_at) - func.julianday(table.c.created_at)) * 24.0
    else:
        hours = func.extract("epoch", table.c.due_at - table.c.created_at) / 3600.0
    stmt = select(table.c.service_code, hours.label("hours")).where(table.c.due_at.is_not(None))
    if codes is not None:
        stmt = stmt.where(table.c.service_code.in_(list(codes)))
    return result_frame(connection.execute(stmt), ["service_code", "hours"])


def refresh_service_types(
    session: Session, sla_hours: dict[str, float | None], counts: dict[str, int], *, now: datetime
) -> None:
    """Update the data-derived SLA target and request count of every catalogued type.

    SLA targets a person edited are kept.
    """
    for row in session.scalars(select(ServiceTypeRow)):
        row.request_count = counts.get(row.code, 0)
        if not row.edited and row.code in sla_hours:
            row.sla_hours = sla_hours[row.code]
            row.updated_at = now


def request_counts_by_type(session: Session) -> dict[str, int]:
    """Code -> number of stored requests."""
    return {
        c: n
        for c, n in session.execute(
            select(RequestRow.service_code, func.count()).group_by(RequestRow.service_code)
        )
    }


def list_service_types(session: Session) -> list[ServiceType]:
    """The whole catalogue, ordered by name."""
    rows = session.scalars(select(ServiceTypeRow).order_by(ServiceTypeRow.name))
    return [to_service_type(r) for r in rows]


def save_service_type(session: Session, service_type: ServiceType, *, now: datetime) -> None:
    """Store a person's edit of a type; it is marked edited so re-imports keep it."""
    row = session.get(ServiceTypeRow, service_type.code)
    if row is None:
        session.add(_type_row(service_type, now, edited=True))
        return
    row.name = service_type.name
    row.department = service_type.department
    row.queue = service_type.queue
    row.category = service_type.category
    row.sla_hours = service_type.sla_hours
    row.service_minutes = service_type.service_minutes
    row.skill = service_type.skill
    row.priority = int(service_type.priority)
    row.field_work = service_type.field_work
    row.public = service_type.public
    row.max_age_days = service_type.max_age_days
    row.edited = True
    row.updated_at = now


def to_service_type(row: ServiceTypeRow) -> ServiceType:
    """Domain object from a catalogue row."""
    return ServiceType(
        code=row.code,
        name=row.name,
        department=row.department,
        queue=row.queue,
        category=row.category,
        sla_hours=row.sla_hours,
        service_minutes=row.service_minutes,
        skill=row.skill,
        priority=Priority(row.priority),
        field_work=row.field_work,
        edited=row.edited,
        public=row.public,
        max_age_days=row.max_age_days,
    )


def _type_row(t: ServiceType, now: datetime, *, edited: bool = False) -> ServiceTypeRow:
    return ServiceTypeRow(
        code=t.code,
        name=t.name,
        department=t.department,
        queue=t.queue,
        category=t.category,
        sla_hours=t.sla_hours,
        service_minutes=t.service_minutes,
        skill=t.skill,
        priority=int(t.priority),
        field_work=t.field_work,
        edited=edited,
        public=t.public,
        max_age_days=t.max_age_days,
        request_count=0,
        updated_at=now,
    )


def list_rejected(
    session: Session,
    *,
    source: str | None,
    file_name: str | None,
    limit: int,
    offset: int = 0,
    import_id: int | None = None,
) -> tuple[list[RejectedRow], int]:
    """Rejected rows and their count, by line.

    Rejected rows are never deleted: each belongs to its import. By default the listing
    shows those of the latest finished import of each file (earlier imports of the same
    file are history; ``import_id`` shows any one import's).
    """
    conditions = []
    if source is not None:
        conditions.append(RejectedRowRow.source == source)
    if file_name is not None:
        conditions.append(RejectedRowRow.file_name == file_name)
    if import_id is not None:
        conditions.append(RejectedRowRow.import_id == import_id)
    else:
        latest = (
            select(func.max(ImportRow.id))
            .where(ImportRow.status == "done")
            .group_by(ImportRow.source, ImportRow.file_name)
        )
        conditions.append(RejectedRowRow.import_id.in_(latest))
    total = session.scalar(select(func.count()).select_from(RejectedRowRow).where(*conditions))
    rows = session.scalars(
        select(RejectedRowRow)
        .where(*conditions)
        .order_by(RejectedRowRow.import_id.desc(), RejectedRowRow.line, RejectedRowRow.id)
        .limit(limit)
        .offset(offset)
    )
    return [
        RejectedRow(r.source, r.line, r.field, r.value, r.problem, r.fix, r.raw) for r in rows
    ], int(total or 0)


def list_imports(session: Session, *, limit: int) -> list[ImportRecord]:
    """The latest imports, newest first."""
    rows = session.scalars(select(ImportRow).order_by(ImportRow.id.desc()).limit(limit))
    return [
        ImportRecord(
            id=r.id,
            source=r.source,
            kind=r.kind,
            file_name=r.file_name,
            status=r.status,
            started_at=r.started_at,
            finished_at=r.finished_at,
            rows_read=r.rows_read,
            accepted=r.accepted,
            inserted=r.inserted,
            updated=r.updated,
            unchanged=r.unchanged,
            rejected=r.rejected,
            note=r.note,
        )
        for r in rows
    ]
