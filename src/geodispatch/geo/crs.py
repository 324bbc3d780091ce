"""Coordinate reference systems: one metric working CRS, checked wherever metres matter.

Boston's precinct and neighbourhood files are EPSG:2249, projected but in US feet, and
declare no CRS; ``is_projected`` alone would pass them. So distances require a CRS whose
axis unit is the metre, and undeclared layers must be read with their CRS stated.
"""

from __future__ import annotations

from typing import Final

import geopandas as gpd
import numpy as np
from pyproj import CRS, Transformer

from geodispatch.domain.errors import CRSError

#: NAD83 / Massachusetts Mainland in metres: the default working CRS for Boston.
DEFAULT_WORKING_CRS: Final = "EPSG:26986"
WGS84: Final = "EPSG:4326"


def require_metric(gdf: gpd.GeoDataFrame, *, what: str) -> None:
    """Raise CRSError unless ``gdf`` is in a CRS measured in metres."""
    crs = gdf.crs
    unit = crs.axis_info[0].unit_name if crs is not None and crs.axis_info else None
    if unit not in {"metre", "meter"}:
        raise CRSError(
            f"{what} are in {crs or 'no CRS'} (unit: {unit}); distances need metres. "
            "Call geo.crs.to_working(gdf) first."
        )


def to_working(gdf: gpd.GeoDataFrame, working_crs: str = DEFAULT_WORKING_CRS) -> gpd.GeoDataFrame:
    """``gdf`` reprojected to the metric working CRS; refuses a frame with no CRS."""
    if gdf.crs is None:
        raise CRSError(
            "geometry has no CRS; state it with set_crs(...) before reprojecting "
            "(Boston's precinct and neighbourhood files are EPSG:2249, US feet)"
        )
    return gdf.to_crs(working_crs)


def lonlat_to_working(
    lon: np.ndarray, lat: np.ndarray, working_crs: str = DEFAULT_WORKING_CRS
) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 longitude/latitude arrays to x/y metres in the working CRS (NaN stays NaN)."""
    transformer = Transformer.from_crs(WGS84, CRS.from_user_input(working_crs), always_xy=True)
    x, y = transformer.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def working_to_lonlat(
    x: np.ndarray, y: np.ndarray, working_crs: str = DEFAULT_WORKING_CRS
) -> tuple[np.ndarray, np.ndarray]:
    """Working-CRS metres back to WGS84 longitude/latitude."""
    transformer = Transformer.from_crs(CRS.from_user_input(working_crs), WGS84, always_xy=True)
    lon, lat = transformer.transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
