"""Assign points to wards (or any polygon layer), vectorised.

Points inside a polygon get its id; points outside every polygon but within ``snap_within_m``
of one are snapped to the nearest (Boston's city-limit intersections sit 25-130 ft outside
the ward polygons); the rest get no ward and a reason. A wrong ward misroutes a crew, so
nothing farther is guessed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import ndimage

from geodispatch.domain.errors import InputError
from geodispatch.geo.crs import DEFAULT_WORKING_CRS, lonlat_to_working, require_metric

WITHIN: Final = "within"
SNAPPED: Final = "snapped"
NONE: Final = "none"
_WITHIN_CODE, _SNAPPED_CODE, _NONE_CODE = 0, 1, 2


@dataclass(frozen=True, slots=True)
class WardParams:
    """How far outside every polygon a point may be and still be snapped to the nearest.

    ``grid_cell_m`` is the cell size of the lookup grid :class:`AreaIndex` builds (finer is
    faster per point, slower to build); batches smaller than ``grid_min_points`` skip the
    grid and test every point exactly, which is quicker than building it.
    """

    snap_within_m: float = 60.0
    grid_cell_m: float = 15.0
    grid_min_points: int = 200_000

    def __post_init__(self) -> None:
        if not 0 <= self.snap_within_m <= 1000:
            raise InputError(
                f"WardParams.snap_within_m must be in [0, 1000] metres. Got "
                f"{self.snap_within_m} instead."
            )
        if not 1 <= self.grid_cell_m <= 500:
            raise InputError(
                f"WardParams.grid_cell_m must be in [1, 500] metres. Got {self.grid_cell_m} "
                "instead."
            )


class AreaIndex:
    """A polygon layer prepared for fast point assignment, built once and reused.

    A regular grid (``cell_m``) covers the layer plus the snapping margin. Each cell is
    classified once: wholly inside one polygon, wholly farther than ``snap_within_m`` from
    every polygon, or "needs an exact test" (a boundary crosses it or snapping may apply).
    Assigning points is then a vectorised cell lookup; only points in boundary cells go
    through the exact STRtree predicate and nearest-polygon search, so the answer is the
    same as testing every point exactly, at a fraction of the cost.
    """

    def __init__(
        self,
        areas: gpd.GeoDataFrame,
        *,
        params: WardParams = WardParams(),
        working_crs: str = DEFAULT_WORKING_CRS,
    ) -> None:
        require_metric(areas, what="area polygons")
        if "area_id" not in areas.columns:
            raise InputError(
                "area polygons need an 'area_id' column; read them with "
                "io.boundaries.read_boundaries(path, id_column=...)"
            )
        if areas.crs is not None and not areas.crs.equals(working_crs):
            raise InputError(
                f"area polygons are in {areas.crs}, not the working CRS {working_crs}; "
                "call geo.crs.to_working(areas, working_crs) first"
            )
        self.params = params
        self.working_crs = working_crs
        self.cell_m = float(params.grid_cell_m)
        self.ids = areas["area_id"].astype("str").to_numpy(dtype=object)
        self.categories = pd.Index(self.ids).unique()
        self._codes = self.categories.get_indexer(self.ids)
        self.geometries = areas.geometry.to_numpy()
        shapely.prepare(self.geometries)
        self.boxes = shapely.bounds(self.geometries)
        self.tree = shapely.STRtree(self.geometries)
        margin = params.snap_within_m + 2 * self.cell_m
        x0, y0, x1, y1 = areas.total_bounds
        self.x0, self.y0 = x0 - margin, y0 - margin
        self.nx = int(np.ceil((x1 + margin - self.x0) / self.cell_m))
        self.ny = int(np.ceil((y1 + margin - self.y0) / self.cell_m))
        self._grid: np.ndarray | None = None

    def __getstate__(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        shapely.prepare(self.geometries)  # preparation is not pickled

    @property
    def grid(self) -> np.ndarray:
        """The cell classification, built on first use."""
        if self._grid is None:
            self._grid = self._classify()
        return self._grid

    #: cell codes below 0: -1 exact test needed, -2 outside every polygon beyond snapping
    _EXACT: Final = -1
    _FAR: Final = -2

    def _classify(self) -> np.ndarray:
        """Cell codes: polygon index, ``_EXACT`` or ``_FAR`` (see the class docstring).

        Blocks of ``block`` × ``block`` cells that no boundary comes near are classified
        by their centre alone; only the cells of the other blocks are tested one by one.
        """
        cell, block = self.cell_m, 4
        # boundaries densified to a quarter cell, so every cell they cross holds a vertex
        boundary = shapely.segmentize(shapely.boundary(self.geometries), cell / 4)
        coords = shapely.get_coordinates(boundary)
        bx, by = -(-self.nx // block), -(-self.ny // block)
        coarse_touch = self._dilate(coords, cell * block, (bx, by), 1)
        coarse = np.full((bx, by), self._FAR, dtype=np.int32)
        calm = np.flatnonzero(~coarse_touch.ravel())
        coarse.ravel()[calm] = self._centre_codes(calm, cell * block, by)
        grid = np.repeat(np.repeat(coarse, block, axis=0), block, axis=1)[: self.nx, : self.ny]
        grid = np.ascontiguousarray(grid)
        busy = np.repeat(np.repeat(coarse_touch, block, axis=0), block, axis=1)
        busy_cells = np.flatnonzero(busy[: self.nx, : self.ny].ravel())
        grid.ravel()[busy_cells] = self._centre_codes(busy_cells, cell, self.ny)
        # cells a boundary crosses (and their neighbours) need the exact test, and so do
        # cells outside every polygon but close enough that snapping may apply
        touch = self._dilate(coords, cell, (self.nx, self.ny), 1)
        reach = int(np.ceil(self.params.snap_within_m / cell)) + 1
        near = self._dilate(coords, cell, (self.nx, self.ny), reach)
        grid[touch] = self._EXACT
        grid[near & (grid == self._FAR)] = self._EXACT
        return grid

    def _centre_codes(self, flat: np.ndarray, size: float, ny: int) -> np.ndarray:
        """Polygon index (first on shared edges) or ``_FAR`` for cell centres by flat index."""
        i, j = np.divmod(flat, ny)
        polygon = self._polygon_of(self.x0 + (i + 0.5) * size, self.y0 + (j + 0.5) * size)
        return np.where(polygon >= 0, polygon, self._FAR).astype(np.int32)

    def _polygon_of(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Index of the first polygon each point intersects (boundary included), else -1."""
        out = np.full(len(x), -1, dtype=np.int64)
        point, polygon = points_in_polygons(self.geometries, x, y)
        # pairs come polygon by polygon: the first pair of a point is its first polygon
        first = np.unique(point, return_index=True)[1]
        out[point[first]] = polygon[first]
        return out

    def _dilate(
        self, coords: np.ndarray, size: float, shape: tuple[int, int], reach: int
    ) -> np.ndarray:
        """Cells of ``size`` within ``reach`` cells of any of ``coords``.

        The cells holding a vertex are marked on a grid padded by ``reach`` (so a vertex
        just outside still reaches in), then widened by a (2 reach + 1)² maximum filter.
        """
        padded = (shape[0] + 2 * reach, shape[1] + 2 * reach)
        mask = np.zeros(padded, dtype=bool)
        ci = ((coords[:, 0] - self.x0) // size).astype(np.int64) + reach
        cj = ((coords[:, 1] - self.y0) // size).astype(np.int64) + reach
        ok = (ci >= 0) & (ci < padded[0]) & (cj >= 0) & (cj < padded[1])
        mask[ci[ok], cj[ok]] = True
        if reach:
            mask = ndimage.maximum_filter(mask, size=2 * reach + 1, mode="constant", cval=False)
        return np.ascontiguousarray(mask[reach : reach + shape[0], reach : reach + shape[1]])

    def assign_xy(self, x: np.ndarray, y: np.ndarray) -> pd.DataFrame:
        """Like :func:`assign_areas` for points already in the working CRS."""
        n = len(x)
        located = np.isfinite(x) & np.isfinite(y)
        code = np.full(n, self._FAR, dtype=np.int64)
        if n < self.params.grid_min_points and self._grid is None:
            code[located] = self._EXACT  # a small batch: testing every point is quicker
        else:
            i = np.floor((x - self.x0) / self.cell_m)
            j = np.floor((y - self.y0) / self.cell_m)
            inside = located & (i >= 0) & (i < self.nx) & (j >= 0) & (j < self.ny)
            code[inside] = self.grid[i[inside].astype(np.int64), j[inside].astype(np.int64)]
        area = np.where(code >= 0, code, -1)
        method = np.where(code >= 0, _WITHIN_CODE, _NONE_CODE).astype(np.int8)
        exact = np.flatnonzero(code == self._EXACT)
        if len(exact):
            polygon = self._polygon_of(x[exact], y[exact])  # on a shared edge, the first
            area[exact] = polygon
            method[exact[polygon >= 0]] = _WITHIN_CODE
            out_pos = np.flatnonzero(polygon < 0)
            if len(out_pos):
                points = np.asarray(shapely.points(x[exact[out_pos]], y[exact[out_pos]]))
                near_point, near_area = self._nearest(points)
                area[exact[out_pos[near_point]]] = near_area
                method[exact[out_pos[near_point]]] = _SNAPPED_CODE
        reason = np.where(area >= 0, 0, np.where(located, 2, 1)).astype(np.int8)
        far = f"outside every area by more than {self.params.snap_within_m:g} m"
        codes = np.where(area >= 0, self._codes[np.maximum(area, 0)], -1)
        return pd.DataFrame(
            {
                "area_id": pd.Categorical.from_codes(codes, categories=self.categories),
                "method": pd.Categorical.from_codes(
                    method, categories=pd.Index([WITHIN, SNAPPED, NONE])
                ),
                "reason": pd.Categorical.from_codes(
                    reason, categories=pd.Index(["", "no location", far])
                ),
            }
        )

    def _nearest(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(point positions, area indices) of points within snapping distance of an area."""
        found = self.tree.query_nearest(
            points, max_distance=self.params.snap_within_m, return_distance=False, all_matches=False
        )
        return found[0], found[1]

    def assign(self, lon: np.ndarray, lat: np.ndarray) -> pd.DataFrame:
        """``area_id`` / ``method`` / ``reason`` for WGS84 points (see :func:`assign_areas`)."""
        x, y = lonlat_to_working(
            np.asarray(lon, dtype=float), np.asarray(lat, dtype=float), self.working_crs
        )
        return self.assign_xy(x, y)


def points_in_polygons(
    polygons: Sequence[shapely.Geometry | None] | np.ndarray, x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Every (point, polygon) pair where the point lies in the polygon (boundary included).

    The one point-in-polygon of the package. Polygons may overlap (a point then pairs with
    each); None polygons hold nothing. Pairs come polygon by polygon, points ascending
    within each. Each prepared polygon tests only the points inside its bounding box,
    with ``shapely.intersects_xy``: prepared point-in-polygon is much faster than testing
    unprepared polygons from the point side, as an STRtree query of points does.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    points: list[np.ndarray] = []
    owners: list[np.ndarray] = []
    for k, geometry in enumerate(polygons):
        if geometry is None or shapely.is_empty(geometry):
            continue
        x0, y0, x1, y1 = shapely.bounds(geometry)
        candidates = np.flatnonzero((x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))
        if candidates.size == 0:
            continue
        shapely.prepare(geometry)
        hit = candidates[shapely.intersects_xy(geometry, x[candidates], y[candidates])]
        points.append(hit)
        owners.append(np.full(hit.size, k, dtype=np.int64))
    if not points:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(points).astype(np.int64), np.concatenate(owners)


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
    inside a polygon get method 'within' (on a shared edge, the first polygon); points
    outside every polygon but within ``params.snap_within_m`` of one are 'snapped' to the
    nearest; the rest get method 'none' and a reason, as do points with NaN coordinates
    ('no location'). Build an :class:`AreaIndex` once to assign many batches.
    """
    return AreaIndex(areas, params=params, working_crs=working_crs).assign(lon, lat)


#: Columns :func:`combine_layers` returns.
AREA_COLUMNS: Final = ("ward", "ward_method", "areas", "area_note")


def combine_layers(
    assigned: Mapping[str, pd.DataFrame], *, ward_layer: str | None = "ward"
) -> pd.DataFrame:
    """One row per point summarising every layer's answer, as requests store it.

    ``assigned`` maps layer names to :meth:`AreaIndex.assign` results of the same points.
    The columns:

    - ``areas``: a JSON object of every layer's area id (``null`` when none), e.g.
      ``{"ward":"5","precinct":"0501","neighborhood":"Roxbury"}``;
    - ``area_note``: "" when every layer found its area inside a polygon, else what
      differed per layer (``precinct: snapped to the nearest area``), or "no location";
    - ``ward`` (numeric ward of ``ward_layer``, <NA> when none or not a number) and
      ``ward_method`` (within / snapped / none; None without a ward layer).

    Strings are built once per distinct combination (a few hundred in a city), so a
    million points take a fraction of a second.
    """
    names = list(assigned)
    n = len(next(iter(assigned.values()))) if names else 0
    out = pd.DataFrame(index=pd.RangeIndex(n))
    ids = {name: _codes(assigned[name]["area_id"]) for name in names}
    out["areas"] = _per_combination(
        ids,
        lambda row: json.dumps(
            {name: (None if value is None else str(value)) for name, value in row.items()},
            ensure_ascii=False,
            separators=(",", ":"),
        ),
        n,
    )
    how = {}
    for name in names:
        method_codes, methods = _codes(assigned[name]["method"])
        reason_codes, reasons = _codes(assigned[name]["reason"])
        pairs = [(m, r) for m in methods for r in reasons]
        how[name] = (method_codes * len(reasons) + reason_codes, pairs)
    out["area_note"] = _per_combination(how, _area_note, n)
    if ward_layer is not None and ward_layer in assigned:
        ward = assigned[ward_layer]
        out["ward"] = pd.to_numeric(ward["area_id"].astype(object), errors="coerce").astype("Int64")
        out["ward_method"] = ward["method"].astype(str).to_numpy(dtype=object)
    else:
        out["ward"] = pd.array([pd.NA] * n, dtype="Int64")
        out["ward_method"] = np.full(n, None, dtype=object)
    return out[list(AREA_COLUMNS)]


def _codes(series: pd.Series) -> tuple[np.ndarray, list[Any]]:
    """Integer codes (-1 for missing) and the values they stand for."""
    values = series.array
    if not isinstance(values, pd.Categorical):
        values = pd.Categorical(series)
    return np.asarray(values.codes, dtype=np.int64), list(values.categories)


def _per_combination(
    columns: Mapping[str, tuple[np.ndarray, Sequence[Any]]],
    render: Callable[[dict[str, Any]], str],
    n: int,
) -> np.ndarray:
    """``render`` applied once per distinct combination of the columns' values, spread out.

    Each column is (codes, values) with code -1 for "no value" (rendered as None).
    """
    if n == 0:
        return np.empty(0, dtype=object)
    key = np.zeros(n, dtype=np.int64)
    for codes, values in columns.values():
        key, _ = pd.factorize(key * (len(values) + 1) + codes + 1)  # stays small
    _, first = np.unique(key, return_index=True)
    texts = []
    for i in first:
        row = {}
        for name, (codes, values) in columns.items():
            row[name] = values[codes[i]] if codes[i] >= 0 else None
        texts.append(render(row))
    return np.asarray(texts, dtype=object)[key]


def _area_note(row: dict[str, Any]) -> str:
    """What differed from 'inside a polygon', per layer (``(method, reason)`` values).

    Layers with the same story share one phrase: ``ward, precinct: snapped to the nearest
    area``; a point without a location gets "no location".
    """
    phrases: dict[str, list[str]] = {}
    for name, (method, reason) in row.items():
        if method == SNAPPED:
            phrases.setdefault("snapped to the nearest area", []).append(name)
        elif method == NONE:
            phrases.setdefault(reason or "no area", []).append(name)
    if list(phrases) == ["no location"] and len(phrases["no location"]) == len(row):
        return "no location"
    return "; ".join(f"{', '.join(names)}: {phrase}" for phrase, names in phrases.items())
