"""Load and save what geocoding and area assignment derive for requests; the geocode cache.

Bulk updates go through one Core ``executemany`` keyed by request id.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

import numpy as np
import pandas as pd
from sqlalchemy import and_, bindparam, delete, select, update
from sqlalchemy.orm import Session

from geodispatch.domain.requests import LocationStatus
from geodispatch.storage.requests_repo import bulk_insert
from geodispatch.storage.tables import GeocodeCacheRow, RequestAreaRow, RequestRow

_BATCH: Final = 500  # ids per IN (...) query


def requests_to_geocode(
    session: Session, *, import_id: int | None = None, redo: bool = False
) -> pd.DataFrame:
    """Requests with an address but no point from the source: ``id, address, zipcode``.

    By default only those never tried (``geocode_match`` empty); ``redo`` takes every
    request whose point is not the source's (geocoded or unknown) again.
    """
    table: Any = RequestRow.__table__
    conditions = [table.c.address != ""]
    if redo:
        conditions.append(table.c.location_status != LocationStatus.SOURCE.value)
    else:
        conditions.append(table.c.location_status == LocationStatus.UNKNOWN.value)
        if import_id is None:
            conditions.append(table.c.geocode_match.is_(None))
    if import_id is not None:
        conditions.append(table.c.import_id == import_id)
    rows = session.connection().execute(
        select(table.c.id, table.c.address, table.c.zipcode).where(and_(*conditions))
    )
    return pd.DataFrame(rows.all(), columns=["id", "address", "zipcode"])


def save_geocodes(session: Session, ids: Sequence[int], results: pd.DataFrame) -> None:
    """Store geocoding results (:data:`geo.geocode.RESULT_COLUMNS`) on their requests.

    A placed address becomes ``geocoded`` with its match, score, flag and note; an address
    that could not be placed stays ``unknown`` with the reason in ``location_note``.
    """
    if not len(ids):
        return
    records = []
    for rid, lon, lat, match, score, flag, note, matched in zip(
        ids,
        results["lon"].to_numpy(dtype=float),
        results["lat"].to_numpy(dtype=float),
        results["match"],
        results["score"].to_numpy(dtype=float),
        results["flag"],
        results["note"],
        results["matched"],
        strict=True,
    ):
        placed = math.isfinite(lon) and math.isfinite(lat)
        records.append(
            {
                "b_id": int(rid),
                "lon": lon if placed else None,
                "lat": lat if placed else None,
                "location_status": (
                    LocationStatus.GEOCODED.value if placed else LocationStatus.UNKNOWN.value
                ),
                "location_note": str(note) if placed else f"address not found: {note}",
                "geocode_match": str(match),
                "geocode_score": float(score),
                "geocode_flag": str(flag),
                "geocode_address": str(matched),
            }
        )
    _bulk_update(session, records)


def requests_to_reverse(session: Session, *, import_id: int | None = None) -> pd.DataFrame:
    """Requests with a point but no address text (a map pin only): ``id, lon, lat``."""
    table: Any = RequestRow.__table__
    conditions = [table.c.address == "", table.c.lon.is_not(None)]
    if import_id is not None:
        conditions.append(table.c.import_id == import_id)
    rows = session.connection().execute(
        select(table.c.id, table.c.lon, table.c.lat).where(and_(*conditions))
    )
    return pd.DataFrame(rows.all(), columns=["id", "lon", "lat"])


def save_nearest_addresses(session: Session, ids: Sequence[int], labels: Sequence[str]) -> None:
    """Record the nearest known address of pin-only requests (``geocode_address``)."""
    if not len(ids):
        return
    _bulk_update(
        session,
        [{"b_id": int(i), "geocode_address": str(t)} for i, t in zip(ids, labels, strict=True)],
    )


def request_points(session: Session, *, import_id: int | None = None) -> pd.DataFrame:
    """``id, lon, lat`` of requests (all, or one import's); NaN where unknown."""
    table: Any = RequestRow.__table__
    stmt = select(table.c.id, table.c.lon, table.c.lat)
    if import_id is not None:
        stmt = stmt.where(table.c.import_id == import_id)
    frame = pd.DataFrame(session.connection().execute(stmt).all(), columns=["id", "lon", "lat"])
    frame["lon"] = pd.to_numeric(frame["lon"], errors="coerce").astype(float)
    frame["lat"] = pd.to_numeric(frame["lat"], errors="coerce").astype(float)
    return frame


def save_areas(
    session: Session,
    layer: str,
    ids: np.ndarray,
    areas: pd.DataFrame,
    *,
    import_id: int | None,
    ward_layer: bool,
) -> None:
    """Replace the ``layer`` assignments of the requests ``ids`` (one import's, or all).

    ``areas`` has ``area_id, method, reason`` per id. With ``ward_layer`` the ward number
    and method are also written on the request itself.
    """
    table: Any = RequestAreaRow.__table__
    stmt = delete(table).where(table.c.layer == layer)
    if import_id is not None:
        mine = select(RequestRow.__table__.c.id).where(
            RequestRow.__table__.c.import_id == import_id
        )
        stmt = stmt.where(table.c.request_id.in_(mine))
    session.connection().execute(stmt)
    frame = pd.DataFrame(
        {
            "request_id": np.asarray(ids, dtype=np.int64),
            "area_id": areas["area_id"].astype(object).where(areas["area_id"].notna(), None),
            "method": areas["method"].astype(str),
            "reason": areas["reason"].astype(str),
        }
    )
    columns = ["request_id", "area_id", "method", "reason"]
    bulk_insert(session, table, frame, columns, constants={"layer": layer})
    if ward_layer:
        ward = pd.to_numeric(areas["area_id"].astype(object), errors="coerce")
        _bulk_update(
            session,
            [
                {"b_id": int(i), "ward": None if math.isnan(w) else int(w), "ward_method": str(m)}
                for i, w, m in zip(ids, ward.to_numpy(dtype=float), frame["method"], strict=True)
            ],
        )


def _bulk_update(session: Session, records: list[dict[str, Any]]) -> None:
    """Update requests by id (``b_id``) with the other keys of each record (all the same).

    On SQLite one driver-level executemany; elsewhere a Core executemany.
    """
    if not records:
        return
    columns = [k for k in records[0] if k != "b_id"]
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        sql = f"UPDATE requests SET {', '.join(f'{c} = ?' for c in columns)} WHERE id = ?"
        connection.exec_driver_sql(sql, [(*(r[c] for c in columns), r["b_id"]) for r in records])
        return
    table: Any = RequestRow.__table__
    stmt = (
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values({c: bindparam(c) for c in columns})
    )
    connection.execute(stmt, records)


def area_counts(session: Session, layer: str) -> pd.DataFrame:
    """Requests per area of one layer (``area_id, method, n``)."""
    from sqlalchemy import func

    rows = session.execute(
        select(RequestAreaRow.area_id, RequestAreaRow.method, func.count())
        .where(RequestAreaRow.layer == layer)
        .group_by(RequestAreaRow.area_id, RequestAreaRow.method)
    )
    return pd.DataFrame(rows.all(), columns=["area_id", "method", "n"])


class SqlGeocodeCache:
    """The ``geocode_cache`` table as an online geocoder's cache (within one session)."""

    def __init__(self, session: Session, *, now: datetime) -> None:
        self.session = session
        self.now = now

    def get_many(self, provider: str, queries: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Cached answers for the queries already asked of ``provider``."""
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(queries), _BATCH):
            batch = list(queries[start : start + _BATCH])
            rows = self.session.scalars(
                select(GeocodeCacheRow).where(
                    GeocodeCacheRow.provider == provider, GeocodeCacheRow.query.in_(batch)
                )
            )
            for row in rows:
                found[row.query] = {
                    "lon": math.nan if row.lon is None else row.lon,
                    "lat": math.nan if row.lat is None else row.lat,
                    "match": row.match,
                    "score": row.score,
                    "flag": row.flag,
                    "note": row.note,
                    "matched": row.matched,
                }
        return found

    def put_many(self, provider: str, rows: dict[str, dict[str, Any]]) -> None:
        """Store new answers."""
        for query, row in rows.items():
            lon, lat = float(row["lon"]), float(row["lat"])
            self.session.add(
                GeocodeCacheRow(
                    provider=provider,
                    query=query,
                    lon=lon if math.isfinite(lon) else None,
                    lat=lat if math.isfinite(lat) else None,
                    match=str(row["match"]),
                    score=float(row["score"]),
                    flag=str(row["flag"]),
                    note=str(row["note"]),
                    matched=str(row["matched"]),
                    created_at=self.now,
                )
            )
        self.session.flush()
