"""Hotspots as GeoJSON (RFC 7946, WGS84) and CSV, for GIS tools and spreadsheets.

Input is the stored-hotspot frame (``storage.hotspots_repo.load_hotspots``): one row per
hotspot, ``geometry`` a GeoJSON geometry as text. Values are written as data, never as
markup; a spreadsheet formula typed into an address is neutralised in the CSV.
"""

from __future__ import annotations

import json
import math
from typing import Any, Final

import pandas as pd

from geodispatch.reporting.csv_cells import inert_csv

__all__ = ["EXPORT_COLUMNS", "hotspots_csv", "hotspots_geojson"]

#: Columns written to both formats, in order.
EXPORT_COLUMNS: Final = (
    "id",
    "service_code",
    "service_name",
    "trend",
    "found_in",
    "wards",
    "primary_ward",
    "n_reports",
    "expected",
    "ratio",
    "p_value",
    "q_value",
    "distinct_addresses",
    "distinct_sites",
    "top_address",
    "top_address_reports",
    "first_report_at",
    "last_report_at",
    "months_with_reports",
    "months_active",
    "monthly_recurrence",
    "open_share",
    "n_recent",
    "recent_share",
    "expected_share",
    "trend_q",
    "area_m2",
    "centroid_lon",
    "centroid_lat",
    "first_detected_at",
)


def _plain(value: Any) -> Any:
    """A JSON-safe Python value: None for missing, ISO 8601 for times."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalar
        return _plain(value.item())
    return value


def hotspots_geojson(hotspots: pd.DataFrame) -> str:
    """A FeatureCollection: each hotspot's polygon with its statistics as properties."""
    features = []
    for row in hotspots.to_dict("records"):
        properties = {c: _plain(row.get(c)) for c in EXPORT_COLUMNS}
        properties["service_code"] = properties["service_code"] or "*"
        features.append(
            {
                "type": "Feature",
                "id": properties["id"],
                "geometry": json.loads(row["geometry"]),
                "properties": properties,
            }
        )
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)


def hotspots_csv(hotspots: pd.DataFrame) -> str:
    """One line per hotspot with :data:`EXPORT_COLUMNS` (no geometry; centroid given)."""
    frame = hotspots.reindex(columns=list(EXPORT_COLUMNS)).copy()
    frame["service_code"] = frame["service_code"].fillna("*")
    for column in ("service_name", "top_address", "wards"):
        frame[column] = frame[column].fillna("").astype(str)
    return inert_csv(frame, index=False, date_format="%Y-%m-%dT%H:%M:%S%z")
