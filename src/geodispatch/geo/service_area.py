"""The city's service area: the union of its ward polygons plus a margin, as a point test.

Intake refuses a point outside it (a typo, a swapped sign, a hostile ``lat=-90``) instead of
storing it: a point far away cannot be projected sensibly, would put a job on no crew's map
and, before this test existed, stopped the grouping of every later report.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from geodispatch.geo.crs import lonlat_to_working, require_metric


@dataclass(frozen=True, slots=True)
class ServiceArea:
    """Where requests may be: ``geometry`` (working CRS) is the wards' union grown by the margin.

    ``name`` says what the area is in messages, e.g. "the city's wards plus 1 km".
    """

    geometry: shapely.Geometry
    working_crs: str
    margin_m: float
    name: str

    @classmethod
    def from_polygons(
        cls, polygons: gpd.GeoDataFrame, *, margin_m: float, name: str = "the city's wards"
    ) -> ServiceArea:
        """The union of ``polygons`` (in a metric CRS) grown by ``margin_m`` metres."""
        require_metric(polygons, what="service area polygons")
        if margin_m < 0 or not np.isfinite(margin_m):
            raise ValueError(f"margin_m must be a finite distance of 0 m or more, not {margin_m}")
        union = shapely.union_all(polygons.geometry.to_numpy())
        grown = shapely.buffer(union, margin_m) if margin_m else union
        shapely.prepare(grown)
        margin = f"{margin_m / 1000:g} km" if margin_m >= 1000 else f"{margin_m:g} m"
        return cls(grown, str(polygons.crs), margin_m, f"{name} plus {margin}")

    def contains(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """True where the WGS84 point is a finite place on Earth inside the area."""
        lon = np.asarray(lon, dtype=float)
        lat = np.asarray(lat, dtype=float)
        with np.errstate(invalid="ignore"):
            on_earth = (
                np.isfinite(lon) & np.isfinite(lat) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
            )
        inside = np.zeros(len(lon), dtype=bool)
        if not on_earth.any():
            return inside
        x, y = lonlat_to_working(lon[on_earth], lat[on_earth], self.working_crs)
        placed = np.isfinite(x) & np.isfinite(y)
        hits = np.zeros(len(x), dtype=bool)
        hits[placed] = shapely.contains_xy(self.geometry, x[placed], y[placed])
        inside[on_earth] = hits
        return inside
