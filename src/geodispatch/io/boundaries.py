"""Read boundary layers (wards, precincts, neighbourhoods) with their CRS stated and checked.

Some city layers carry coordinates in a projected CRS without declaring it; GeoPandas
would silently read them as degrees. ``read_boundaries`` takes the CRS as an argument when
the file has none, checks that the bounds are plausible for it, and repairs invalid rings.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from pyproj import CRS

from geodispatch.domain.errors import CRSError, InputError, SchemaError


def read_boundaries(path: Path, *, id_column: str, crs: str | None = None) -> gpd.GeoDataFrame:
    """A boundary layer as a GeoDataFrame with ``area_id`` (str) and valid geometry.

    ``crs`` states the CRS of the coordinates when the file declares none (e.g.
    ``"EPSG:2249"``); without it an undeclared GeoJSON is WGS84, as its standard says, and
    a bounds check catches feet read as degrees. A file that declares a CRS different from
    ``crs`` is refused rather than guessed. Invalid polygons (self-intersecting rings) are
    repaired with ``shapely.make_valid`` and reduced to their polygonal parts.
    """
    if not path.exists():
        raise InputError(f"boundary file {path} does not exist; check the path")
    frame = gpd.read_file(path)
    if id_column not in frame.columns:
        raise SchemaError(
            f"boundary file {path.name}: no column {id_column!r} (found "
            f"{', '.join(c for c in frame.columns if c != 'geometry')}); pass id_column=..."
        )
    declared = _declared_crs(path)
    if declared is None:
        frame = frame.set_crs(crs or "EPSG:4326", allow_override=True)
    elif crs is not None and not CRS.from_user_input(declared).equals(CRS.from_user_input(crs)):
        raise CRSError(
            f"boundary file {path.name} declares {declared} but crs={crs!r} was "
            "given; drop the crs argument or fix the file"
        )
    _check_bounds(frame, path)
    with np.errstate(invalid="ignore"):
        geometry = shapely.make_valid(frame.geometry.to_numpy())
    geometry = [_polygonal(g) for g in geometry]
    out = gpd.GeoDataFrame(
        {"area_id": frame[id_column].astype(str).str.strip()}, geometry=geometry, crs=frame.crs
    )
    for column in frame.columns:
        if column not in {"geometry", id_column}:
            out[column] = frame[column].to_numpy()
    return out


def _declared_crs(path: Path) -> str | None:
    """The CRS the file itself declares (a GeoJSON 'crs' member, a .prj, ...), else None.

    GDAL reports WGS84 for every GeoJSON, declared or not; only an explicit member counts.
    """
    if path.suffix.lower() in {".geojson", ".json"}:
        with path.open("rb") as handle:
            try:
                document = json.load(handle)
            except json.JSONDecodeError as exc:
                raise InputError(f"boundary file {path.name} is not valid JSON ({exc})") from None
        member = document.get("crs") if isinstance(document, dict) else None
        if not member:
            return None
    crs = pyogrio.read_info(path).get("crs")
    return str(crs) if crs else None


def _check_bounds(frame: gpd.GeoDataFrame, path: Path) -> None:
    """Catch a layer whose coordinates do not fit its CRS (feet read as degrees)."""
    x0, y0, x1, y1 = frame.total_bounds
    if (
        frame.crs is not None
        and frame.crs.is_geographic
        and (abs(x0) > 180 or abs(x1) > 180 or abs(y0) > 90 or abs(y1) > 90)
    ):
        raise CRSError(
            f"boundary file {path.name}: coordinates up to ({x1:.0f}, {y1:.0f}) cannot be "
            f"degrees although the layer says {frame.crs}; it is probably in a projected CRS "
            "such as EPSG:2249 (US feet): pass crs='EPSG:2249'"
        )


def _polygonal(geometry: shapely.Geometry | None) -> shapely.Geometry | None:
    """Keep only the polygon parts of a repaired geometry (make_valid may add lines)."""
    if geometry is None or shapely.get_type_id(geometry) in (3, 6):  # Polygon, MultiPolygon
        return geometry
    parts = [g for g in shapely.get_parts(geometry) if shapely.get_type_id(g) in (3, 6)]
    return shapely.union_all(parts) if parts else geometry
