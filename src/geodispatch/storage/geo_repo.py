"""Load and save what geocoding and area assignment derive for requests; the geocode cache.

Bulk updates go through one executemany keyed by request id (driver-level on SQLite).
The areas of a request live in its own columns (``ward``, ``ward_method``, ``areas`` as a
JSON object of every layer's area id, ``area_note``), written with the request at intake.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

import numpy as np
import pandas as pd
from sqlalchemy import JSON, and_, bindparam, cast, func, select, update
from sqlalchemy.orm import Session

from geodispatch.domain.requests import LocationStatus
from geodispatch.geo.wards import AREA_COLUMNS
from geodispatch.storage.requests_repo import result_frame
from geodispatch.storage.tables import GeocodeCacheRow, RequestRow

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
    return result_frame(rows, ["id", "address", "zipcode"])


def save_geocodes(
    session: Session, ids: Sequence[int], results: pd.DataFrame, areas: pd.DataFrame
) -> None:
    """Store geocoding results (:data:`geo.geocode.RESULT_COLUMNS`) on their requests.

    A placed address becomes ``geocoded`` with its match, score, flag and note; an address
    that could not be placed stays ``unknown`` with the reason in ``location_note``.
    ``areas`` holds the :data:`AREA_COLUMNS` of the new points, row for row.
    """
    if not len(ids):
        return
    records = []
    for rid, lon, lat, match, score, flag, note, matched, area in zip(
        ids,
        results["lon"].to_numpy(dtype=float),
        results["lat"].to_numpy(dtype=float),
        results["match"],
        results["score"].to_numpy(dtype=float),
        results["flag"],
        results["note"],
        results["matched"],
        _area_values(areas),
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
                **dict(zip(AREA_COLUMNS, area, strict=True)),
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
    return result_frame(rows, ["id", "lon", "lat"])


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
    frame = result_frame(session.connection().execute(stmt), ["id", "lon", "lat"])
    frame["lon"] = pd.to_numeric(frame["lon"], errors="coerce").astype(float)
    frame["lat"] = pd.to_numeric(frame["lat"], errors="coerce").astype(float)
    return frame


def save_areas(session: Session, ids: Sequence[int] | np.ndarray, areas: pd.DataFrame) -> None:
    """Store the :data:`AREA_COLUMNS` of requests ``ids`` (``areas`` row for row)."""
    _bulk_update(
        session,
        [
            {"b_id": int(rid), **dict(zip(AREA_COLUMNS, values, strict=True))}
            for rid, values in zip(ids, _area_values(areas), strict=True)
        ],
    )


def area_counts(session: Session, layer: str) -> pd.DataFrame:
    """Requests per area of one configured layer: ``area_id, n`` (None: no area), largest first.

    Reads the layer out of the ``areas`` JSON column (SQLite ``json_extract``,
    PostgreSQL ``json_extract_path_text``).
    """
    table: Any = RequestRow.__table__
    if session.connection().dialect.name == "sqlite":
        path = '$."' + layer.replace('"', '""') + '"'
        area = func.json_extract(table.c.areas, path)
    else:
        area = func.json_extract_path_text(cast(table.c.areas, JSON), layer)
    rows = session.connection().execute(
        select(area.label("area_id"), func.count().label("n"))
        .where(table.c.areas.is_not(None))
        .group_by(area)
        .order_by(func.count().desc(), area)
    )
    return result_frame(rows, ["area_id", "n"])


def _area_values(areas: pd.DataFrame) -> list[tuple[Any, ...]]:
    """Rows of the area columns as plain Python values (None for a missing ward)."""
    ward = areas["ward"]
    wards = [None if pd.isna(w) else int(w) for w in ward.to_numpy(dtype=object)]
    rest = [areas[c].to_numpy(dtype=object) for c in AREA_COLUMNS[1:]]
    return list(zip(wards, *rest, strict=True))


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
