"""Hotspots as GeoJSON (RFC 7946, WGS84) and CSV, for GIS tools and spreadsheets.

Input is the stored-hotspot frame (``storage.hotspots_repo.load_hotspots``): one row per
hotspot, ``geometry`` a GeoJSON geometry as text. Values are written as data, never as
markup; a spreadsheet formula typed into an address is neutralised in the CSV.
"""

from __future__ import annotations

import json
import math
from typing import Any, Final

import geopandas as gpd
import pandas as pd
import shapely

from geodispatch.analysis.hotspots import ALL_TYPES, hotspot_wards
from geodispatch.geo.crs import WGS84
from geodispatch.reporting.csv_cells import inert_csv

__all__ = ["EXPORT_COLUMNS", "hotspots_csv", "hotspots_geojson", "stored_rows", "stored_shapes"]

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
    "n_requests",
    "n_all",
    "share_ratio",
    "cluster_p",
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


def stored_rows(
    found: gpd.GeoDataFrame, wards: gpd.GeoDataFrame | None, names: dict[str, str]
) -> pd.DataFrame:
    """Detector output → the columns of the ``hotspots`` table (WGS84 geometry as text).

    ``names`` maps service codes to names; ``wards`` (working CRS, ``area_id``) gives each
    hotspot its wards, or None for none.
    """
    table = pd.DataFrame(found.drop(columns="geometry")).rename(
        columns={"first_report": "first_report_at", "last_report": "last_report_at"}
    )
    code = table["service_code"].astype(object)
    table["service_code"] = code.where(code != ALL_TYPES, None)
    table["service_name"] = [
        "All types" if c is None else names.get(c, c) for c in table["service_code"]
    ]
    geographic = found.to_crs(WGS84)
    table["geometry"] = [json.dumps(shapely.geometry.mapping(g)) for g in geographic.geometry]
    bounds = geographic.geometry.bounds
    table["min_lon"], table["min_lat"] = bounds["minx"].to_numpy(), bounds["miny"].to_numpy()
    table["max_lon"], table["max_lat"] = bounds["maxx"].to_numpy(), bounds["maxy"].to_numpy()
    centroids = gpd.GeoSeries(
        gpd.points_from_xy(found["centroid_x"], found["centroid_y"]), crs=found.crs
    ).to_crs(WGS84)
    table["centroid_lon"], table["centroid_lat"] = centroids.x.to_numpy(), centroids.y.to_numpy()
    if wards is not None and len(found):
        by_ward = hotspot_wards(found, wards)
        table["wards"] = [";".join(map(str, w)) for w in by_ward["wards"]]
        table["primary_ward"] = (
            by_ward["primary_ward"]
            .astype(object)
            .where(by_ward["primary_ward"].notna(), None)
            .to_numpy()
        )
    else:
        table["wards"] = ""
        table["primary_ward"] = None
    table["first_report_at"] = pd.to_datetime(table["first_report_at"], utc=True)
    table["last_report_at"] = pd.to_datetime(table["last_report_at"], utc=True)
    return table.drop(columns=["hotspot_id", "centroid_x", "centroid_y"])


def stored_shapes(previous: pd.DataFrame) -> gpd.GeoDataFrame:
    """Stored hotspots (``id``, ``service_code``, GeoJSON ``geometry``) as a WGS84 frame."""
    geometry = [shapely.geometry.shape(json.loads(g)) for g in previous["geometry"]]
    frame = pd.DataFrame(
        {"id": previous["id"].to_numpy(), "service_code": previous["service_code"].to_numpy()}
    )
    frame["service_code"] = frame["service_code"].where(frame["service_code"].notna(), None)
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=WGS84)
