"""Assign points to wards (or any polygon layer), vectorised.

Points inside a polygon get its id; points outside every polygon but within ``snap_within_m``
of one are snapped to the nearest (Boston's city-limit intersections sit 25-130 ft outside
the ward polygons); the rest get no ward and a reason. A wrong ward misroutes a crew, so
nothing farther is guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd

from geodispatch.domain.errors import InputError
from geodispatch.geo.crs import DEFAULT_WORKING_CRS, lonlat_to_working, require_metric

WITHIN: Final = "within"
SNAPPED: Final = "snapped"
NONE: Final = "none"


@dataclass(frozen=True, slots=True)
class WardParams:
    """How far outside every polygon a point may be and still be snapped to the nearest."""

    snap_within_m: float = 60.0

    def __post_init__(self) -> None:
        if not 0 <= self.snap_within_m <= 1000:
            raise InputError(
                f"WardParams.snap_within_m must be in [0, 1000] metres. Got "
                f"{self.snap_within_m} instead."
            )


def assign_areas(
    lon: np.ndarray,
    lat: np.ndarray,
    areas: gpd.GeoDataFrame,
    *,
    params: WardParams = WardParams(),
    working_crs: str = DEFAULT_WORKING_CRS,
) -> pd.DataFrame:
    """For each lon/lat point: ``area_id`` (or <NA>), ``method`` and ``reason``.

    ``areas`` needs an ``area_id`` column and must be in the metric working CRS. Points
    with NaN coordinates get method 'none' and reason 'no location'.
    """
    require_metric(areas, what="area polygons")
    n = len(lon)
    x, y = lonlat_to_working(lon, lat, working_crs)
    located = np.isfinite(x) & np.isfinite(y)
    area_id = np.full(n, None, dtype=object)
    method = np.full(n, NONE, dtype=object)
    reason = np.where(located, "", "no location").astype(object)
    if located.any():
        points = gpd.GeoSeries(gpd.points_from_xy(x[located], y[located]), crs=areas.crs)
        idx = np.flatnonzero(located)
        tree = areas.sindex
        hit_point, hit_area = tree.query(points.to_numpy(), predicate="intersects")
        first = pd.Series(hit_area).groupby(hit_point).first()  # on a shared edge, the first
        area_id[idx[first.index.to_numpy()]] = areas["area_id"].to_numpy()[first.to_numpy()]
        method[idx[first.index.to_numpy()]] = WITHIN
        outside = np.setdiff1d(np.arange(len(idx)), first.index.to_numpy())
        if len(outside):
            near_point, near_area = tree.nearest(
                points.to_numpy()[outside], max_distance=params.snap_within_m, return_all=False
            )
            snapped = outside[near_point]
            area_id[idx[snapped]] = areas["area_id"].to_numpy()[near_area]
            method[idx[snapped]] = SNAPPED
            far = np.setdiff1d(outside, snapped)
            reason[idx[far]] = f"outside every area by more than {params.snap_within_m:g} m"
    return pd.DataFrame(
        {"area_id": pd.array(area_id, dtype="string"), "method": method, "reason": reason}
    )
