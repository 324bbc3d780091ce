"""Load and save hotspot runs and hotspots; tag requests with the hotspot they fall in.

Repositories convert between frames and rows; they hold no business rules. Which stored
hotspot a new one continues is decided by the caller (``analysis.hotspots.match_previous``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

import numpy as np
import pandas as pd
from sqlalchemy import (
    String,
    and_,
    bindparam,
    cast,
    func,
    insert,
    inspect,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from geodispatch.analysis.hotspots import HOTSPOT_COLUMNS
from geodispatch.domain.requests import OPEN_STATUSES
from geodispatch.storage.requests_repo import frame_records
from geodispatch.storage.tables import (
    HotspotRow,
    HotspotRunRow,
    RequestRow,
    ServiceTypeRow,
    StatusEventRow,
)

#: Detector columns stored under another name, and those not stored (ids and working-CRS
#: centres are the run's own; the stored row has its id and WGS84 centre).
_RENAMED: Final = {"first_report": "first_report_at", "last_report": "last_report_at"}
_NOT_STORED: Final = frozenset({"hotspot_id", "centroid_x", "centroid_y"})

#: Columns of a stored hotspot a caller writes (besides id, run, timestamps, active): the
#: detector's columns (``analysis.hotspots.HOTSPOT_COLUMNS``) and where the hotspot is.
HOTSPOT_FIELDS: Final = (
    *(_RENAMED.get(c, c) for c in HOTSPOT_COLUMNS if c not in _NOT_STORED),
    "service_name",
    "centroid_lon",
    "centroid_lat",
    "min_lon",
    "min_lat",
    "max_lon",
    "max_lat",
    "wards",
    "primary_ward",
    "geometry",
)
#: Request columns hotspot detection and ward tables read.
ANALYSIS_COLUMNS: Final = (
    "id",
    "service_code",
    "service_name",
    "lon",
    "lat",
    "created_at",
    "status",
    "address",
    "ward",
    "source_ward",
    "job_id",
)
#: Request columns a hotspot's detail shows.
DETAIL_COLUMNS: Final = (
    "id",
    "service_code",
    "service_name",
    "created_at",
    "closed_at",
    "status",
    "address",
    "description",
    "job_id",
    "lon",
    "lat",
)
_OPEN: Final = [s.value for s in OPEN_STATUSES]
_TIME_COLUMNS: Final = frozenset({"created_at", "due_at", "closed_at", "updated_at"})
_BATCH: Final = 20_000


def start_run(session: Session, *, now: datetime, params: str) -> int:
    """Record that a detection run began; returns its id.

    Runs left 'running' by a killed process are marked failed first (their hotspots were
    never saved: saving and tagging happen in one transaction).
    """
    session.execute(
        update(HotspotRunRow)
        .where(HotspotRunRow.status == "running")
        .values(status="failed", finished_at=now, note="interrupted before it finished")
    )
    row = HotspotRunRow(status="running", started_at=now, params=params)
    session.add(row)
    session.flush()
    return row.id


def finish_run(session: Session, run_id: int, *, now: datetime, **values: Any) -> None:
    """Record a run's period and counts and mark it done."""
    session.execute(
        update(HotspotRunRow)
        .where(HotspotRunRow.id == run_id)
        .values(status="done", finished_at=now, **values)
    )


def latest_run(session: Session) -> HotspotRunRow | None:
    """The newest finished run, or None."""
    return session.scalars(
        select(HotspotRunRow)
        .where(HotspotRunRow.status == "done")
        .order_by(HotspotRunRow.id.desc())
        .limit(1)
    ).first()


def has_active_hotspots(session: Session) -> bool:
    """Whether any active hotspot is stored (False in a database without hotspot tables)."""
    if not inspect(session.connection()).has_table(HotspotRow.__tablename__):
        return False
    found = session.scalar(select(HotspotRow.id).where(HotspotRow.active).limit(1))
    return found is not None


def import_requests(session: Session, import_id: int) -> pd.DataFrame:
    """Requests an import inserted or changed: ``id, service_code, lon, lat, hotspot_id``.

    Unlocated ones too (lon/lat NaN), so a request that lost its point loses its tag.
    """
    table: Any = RequestRow.__table__
    rows = session.execute(
        select(table.c.id, table.c.service_code, table.c.lon, table.c.lat, table.c.hotspot_id)
        .where(table.c.import_id == import_id)
        .order_by(table.c.id)
    ).all()
    frame = pd.DataFrame(
        [tuple(r) for r in rows], columns=["id", "service_code", "lon", "lat", "hotspot_id"]
    )
    for column in ("lon", "lat"):
        frame[column] = frame[column].astype("float64")
    frame["hotspot_id"] = frame["hotspot_id"].astype("float64").fillna(-1).astype("int64")
    return frame


def hotspot_shapes(session: Session, service_codes: set[str]) -> pd.DataFrame:
    """Active hotspots a request of these types can fall in: ``id, service_code, geometry``.

    Those of the same types and the all-types ones (``service_code`` None).
    """
    table: Any = HotspotRow.__table__
    kinds = table.c.service_code.is_(None)
    if service_codes:
        kinds = kinds | table.c.service_code.in_(sorted(service_codes))
    rows = session.execute(
        select(table.c.id, table.c.service_code, table.c.geometry)
        .where(table.c.active.is_(True), kinds)
        .order_by(table.c.id)
    ).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=["id", "service_code", "geometry"])


def load_hotspots(session: Session, *, active_only: bool = True) -> pd.DataFrame:
    """Stored hotspots (active ones by default) as a frame, one row each, ids ascending."""
    table: Any = HotspotRow.__table__
    stmt = select(table).order_by(table.c.id)
    if active_only:
        stmt = stmt.where(table.c.active.is_(True))
    rows = session.execute(stmt).mappings().all()
    frame = pd.DataFrame([dict(r) for r in rows], columns=[c.name for c in table.columns])
    for column in ("first_report_at", "last_report_at", "first_detected_at", "last_detected_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def save_hotspots(
    session: Session, frame: pd.DataFrame, *, run_id: int, now: datetime
) -> np.ndarray:
    """Store a run's hotspots; returns their ids in the frame's order.

    Rows with an ``id`` (a hotspot that continues) update that row and keep its first
    detection time; rows without one are inserted. Active hotspots not in the frame are
    retired: they stay for history, with ``active`` false and ``retired_at`` set.
    """
    ids = (
        frame["id"].astype("Int64")
        if "id" in frame.columns
        else pd.Series(pd.NA, index=frame.index, dtype="Int64")
    )
    continuing = ids.notna().to_numpy()
    kept = [int(v) for v in ids[continuing]]
    session.execute(
        update(HotspotRow)
        .where(HotspotRow.active.is_(True), HotspotRow.id.not_in(kept))
        .values(active=False, retired_at=now)
    )
    table: Any = HotspotRow.__table__
    if continuing.any():
        records = frame_records(frame.loc[continuing], list(HOTSPOT_FIELDS))
        for record, hotspot_id in zip(records, kept, strict=True):
            record["b_id"] = hotspot_id
        stmt = (
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(
                {c: bindparam(c) for c in HOTSPOT_FIELDS}
                | {"run_id": run_id, "active": True, "last_detected_at": now, "retired_at": None}
            )
        )
        session.connection().execute(stmt, records)
    out = np.array([None if pd.isna(v) else int(v) for v in ids], dtype=object)
    fresh = np.flatnonzero(~continuing)
    if fresh.size:
        records = frame_records(frame.iloc[fresh], list(HOTSPOT_FIELDS))
        for record in records:
            record.update(run_id=run_id, active=True, first_detected_at=now, last_detected_at=now)
        new_ids = session.execute(insert(table).returning(table.c.id), records).scalars().all()
        out[fresh] = list(new_ids)
    return np.asarray(out, dtype=np.int64)


def load_requests(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    service_codes: Sequence[str] | None = None,
    wards: Sequence[int] | None = None,
    located_only: bool = True,
    columns: Sequence[str] = ANALYSIS_COLUMNS,
) -> pd.DataFrame:
    """Requests for analysis or a map, filtered by period, types and ward.

    ``wards`` filters on our ward, else the city's (``source_ward``); requests with
    neither are returned too, for the caller to place with the ward polygons.
    ``is_open`` is added.
    """
    table: Any = RequestRow.__table__
    # times as text, parsed by pandas in one go: SQLAlchemy's per-value conversion of
    # UTCDateTime dominated loading tens of thousands of rows
    selected = [
        cast(table.c[c], String).label(c) if c in _TIME_COLUMNS else table.c[c] for c in columns
    ]
    stmt = select(*selected, table.c.status.in_(_OPEN).label("is_open"))
    conditions = []
    if located_only:
        conditions.append(table.c.lon.is_not(None))
    if since is not None:
        conditions.append(table.c.created_at >= since)
    if until is not None:
        conditions.append(table.c.created_at <= until)
    if service_codes:
        conditions.append(table.c.service_code.in_(list(service_codes)))
    if wards:
        ward = func.coalesce(table.c.ward, table.c.source_ward)
        conditions.append(or_(ward.in_(list(wards)), ward.is_(None)))
    if conditions:
        stmt = stmt.where(and_(*conditions))
    names = [*columns, "is_open"]
    rows = session.execute(stmt.order_by(table.c.id)).all()
    # column-wise from plain tuples: handing Row objects to pandas probes each for
    # attributes and costs seconds per 100k rows
    values = list(zip(*(tuple(r) for r in rows), strict=True)) or [()] * len(names)
    frame = pd.DataFrame(dict(zip(names, values, strict=True)))
    if "created_at" in frame.columns:
        frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True, format="ISO8601")
    frame["is_open"] = frame["is_open"].astype(bool)
    for column in ("lon", "lat"):
        if column in frame.columns:
            frame[column] = frame[column].astype("float64")
    return frame


def type_visibility(session: Session) -> dict[str, bool]:
    """Each catalogue type's ``public`` flag (False: the city's internal work orders)."""
    rows = session.execute(select(ServiceTypeRow.code, ServiceTypeRow.public)).all()
    return {str(code): bool(public) for code, public in rows}


def tagged_counts(session: Session) -> pd.Series:
    """Requests tagged with each hotspot id (index: hotspot id)."""
    rows = session.execute(
        select(RequestRow.hotspot_id, func.count())
        .where(RequestRow.hotspot_id.is_not(None))
        .group_by(RequestRow.hotspot_id)
    ).all()
    return pd.Series({int(h): int(n) for h, n in rows if h is not None}, dtype="int64")


def hotspot_requests(session: Session, hotspot_id: int) -> pd.DataFrame:
    """The requests tagged with one hotspot, oldest first (:data:`DETAIL_COLUMNS`)."""
    table: Any = RequestRow.__table__
    selected = [
        cast(table.c[c], String).label(c) if c in _TIME_COLUMNS else table.c[c]
        for c in DETAIL_COLUMNS
    ]
    rows = session.execute(
        select(*selected)
        .where(table.c.hotspot_id == hotspot_id)
        .order_by(table.c.created_at, table.c.id)
    ).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=list(DETAIL_COLUMNS))
    for column in ("created_at", "closed_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
    return frame


def clear_request_hotspots(session: Session) -> int:
    """Untag every request (before a refresh re-tags them)."""
    result = session.execute(
        update(RequestRow).where(RequestRow.hotspot_id.is_not(None)).values(hotspot_id=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def set_request_hotspots(session: Session, request_ids: np.ndarray, hotspot_ids: np.ndarray) -> int:
    """Set ``hotspot_id`` of the given requests (None for -1); returns rows written.

    A derived tag, not a workflow change: ``version`` and ``updated_at`` are left alone so
    a dispatcher's open edit never turns stale because a nightly refresh ran.
    """
    if len(request_ids) == 0:
        return 0
    table: Any = RequestRow.__table__
    stmt = update(table).where(table.c.id == bindparam("b_id")).values(hotspot_id=bindparam("h"))
    written = 0
    for start in range(0, len(request_ids), _BATCH):
        ids = request_ids[start : start + _BATCH]
        tags = hotspot_ids[start : start + _BATCH]
        params = [
            {"b_id": int(r), "h": (int(h) if h >= 0 else None)}
            for r, h in zip(ids, tags, strict=True)
        ]
        session.connection().execute(stmt, params)
        written += len(params)
    return written


def request_hotspot(session: Session, request_id: int) -> int | None:
    """The hotspot a stored request is tagged with."""
    return session.scalar(select(RequestRow.hotspot_id).where(RequestRow.id == request_id))


def data_version(session: Session) -> tuple[int, int, str]:
    """A cheap token that changes when requests or hotspots change (for caching maps).

    The newest status event counts too: a workflow change is stamped with the product's
    clock, which a pinned (demo) clock can put before an import's real ``updated_at``.
    """
    run = session.scalar(select(func.max(HotspotRunRow.id)))
    count, updated = session.execute(
        select(func.count(), func.max(RequestRow.updated_at)).select_from(RequestRow)
    ).one()
    event = session.scalar(select(func.max(StatusEventRow.id)))
    return int(run or 0), int(count or 0), f"{updated}|{event or 0}"
