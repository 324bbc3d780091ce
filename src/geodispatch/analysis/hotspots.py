"""Hotspots: places where one request type is over-represented, not merely busy.

Reports are counted in 25 m cells and tested over 75 m and 225 m windows. By default the
test is case-control (Kulldorff's Bernoulli model asked window by window): given the
reports of every type in a window, a type's count is binomial with its local share of all
reports (each smoothed at 1 km; the share estimated again with every type's first-pass
hotspots left out). A downtown or a housing complex raises every type alike and so is no
hotspot; a corner where potholes are a larger part of what people report is. The effect
floor is an odds ratio. Cells pass Benjamini–Hochberg over all land cells × windows;
clusters of one type within ``merge_gap_m`` (and small ones near a large one) are one
place; a place is kept when its strongest window passes a Bonferroni bound over the
city's independent windows and its own count passes Benjamini–Hochberg over all places.
The recent window is then labelled new / intensifying / persistent / diminishing
(:mod:`geodispatch.analysis.emerging`). The all-types view (``all_types``) has no
exposure to compare with: it is a density scan against the 1 km surroundings (busy
places), as is every type with ``case_control=False``.

This module is pure: arrays and frames in, frames out; coordinates in a metric CRS.
"""

from __future__ import annotations

import math
import os
import queue
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from scipy.spatial import cKDTree
from scipy.stats import binom, poisson

from geodispatch.analysis.emerging import EmergingParams, Trend, classify_places
from geodispatch.analysis.grid_scan import (
    Baseline,
    Grid,
    ScanArea,
    ScanCells,
    WindowCounts,
    bh_reject,
    cells_to_polygons,
    claim_neighbours,
    count_windows,
    dilate_cells,
    label_cells,
    land_from_geometry,
    land_from_points,
    poisson_scan,
    share_scan,
)
from geodispatch.domain.errors import CRSError, InputError, SchemaError
from geodispatch.geo.wards import points_in_polygons

__all__ = [
    "ALL_TYPES",
    "HOTSPOT_COLUMNS",
    "HotspotParams",
    "HotspotResult",
    "detect_hotspots",
    "find_placeholders",
    "hotspot_of_points",
    "hotspot_wards",
    "match_previous",
]

#: ``service_code`` of hotspots found over all request types together.
ALL_TYPES: Final = "*"

#: Columns of :attr:`HotspotResult.hotspots`, with their meaning.
HOTSPOT_COLUMNS: Final[dict[str, str]] = {
    "hotspot_id": "0..n-1 within this result",
    "service_code": f"request type, or {ALL_TYPES!r} for all types together",
    "trend": "new | intensifying | persistent | diminishing ('' without report times)",
    "found_in": "'history' (whole period) or 'recent' (only the recent window)",
    "n_reports": "reports of the type inside the polygon, whole period",
    "expected": "reports the surrounding 1 km predicts for the polygon",
    "ratio": "n_reports / expected",
    "p_value": "smallest Poisson p of the polygon's cells (one-sided)",
    "q_value": "smallest Benjamini–Hochberg q of the polygon's cells",
    "n_cells": "grid cells in the polygon",
    "n_all": "reports of every analysed type inside the polygon (the exposure)",
    "share_ratio": "the type's share of all reports inside / its city-wide share",
    "cluster_p": "p of the polygon's own count against its expectation",
    "area_m2": "polygon area, square metres",
    "centroid_x": "mean x of the reports inside (working CRS, metres)",
    "centroid_y": "mean y of the reports inside",
    "distinct_addresses": "distinct address texts (distinct sites when there is no text)",
    "distinct_sites": "distinct locations, reports within the site radius merged (DBSCAN)",
    "top_address": "the address reported most often inside ('' without address text)",
    "top_address_reports": "reports at that address (or at the busiest site)",
    "first_report": "UTC time of the first report inside",
    "last_report": "UTC time of the last report inside",
    "months_with_reports": "calendar months (city time) with at least one report inside",
    "months_active": "months in which the type had any report anywhere in the city",
    "monthly_recurrence": "months_with_reports / months_active",
    "open_share": "share of the reports inside still open (NaN without status)",
    "n_recent": "reports inside in the recent window",
    "recent_share": "n_recent / n_reports",
    "expected_share": "the type's city-wide share of reports in the recent window",
    "trend_p": "p of the share test that decided the trend",
    "trend_q": "its Benjamini–Hochberg q",
}


@dataclass(frozen=True, slots=True)
class HotspotParams:
    """Tunables of the hotspot scan, in metres; defaults are the measured recommendation.

    Attributes
    ----------
    cell_m
        Grid cell size (default 25 m: a house frontage or two, finer than any hotspot).
    baseline_sigma_m
        σ of the Gaussian kernel that predicts each place's count from its surroundings
        (default 1 km: a neighbourhood; results barely move between 0.5 and 2 km).
    baseline_cell_m
        Resolution at which the baseline is smoothed before it is interpolated back to
        cells (default 200 m; a multiple of ``cell_m``, at most σ/2).
    windows_m
        Sides of the square windows tested around every cell, odd multiples of ``cell_m``
        (default 75 m and 225 m: a corner, a block).
    fdr_q
        Benjamini–Hochberg false discovery rate over all land cells × windows (0.05).
    min_ratio
        Effect-size floor (default 2): under the case-control test the type's odds
        against the other types in a window must be at least this many times its local
        odds (the excess a place adds on top of its usual mix); under the density test
        the window must hold this many times its expected count. It keeps statistically
        certain but trivial excesses out of big cities.
    min_reports
        ...and at least this many reports (default 5).
    land_block_m
        Without a land polygon, land is inferred from where any reports fall, in blocks of
        this size (default 500 m).
    site_radius_m
        Reports this close are one site when counting repeat locations (default 10 m).
    all_types
        Also scan all request types together (default False). That view has no exposure
        to compare with (it tests density against the 1 km surroundings, as before), so
        it shows busy places, not problems; a manager asks for it explicitly.
    case_control
        Test each type against all other types in the same cells and windows (default
        True): the expected count of type T in a window is the reports of every type
        there times T's local share of all reports (smoothed at ``baseline_sigma_m``),
        and the count is tested with the binomial upper tail. A place dense in every
        type (downtown, a housing complex) then predicts a high count of T and is no
        hotspot; a place where T is over-represented is. False: the previous test,
        T against a smoothing of T alone (density, no exposure).
    refine_baseline
        Compute the type's local share a second time with the first pass's hotspots
        (and the windows around them) left out, so a large hotspot does not raise its
        own expectation (default True).
    merge_gap_m
        Significant clusters of one type closer than this are one hotspot (default
        100 m): an area whose windows pass in patches is found once, not in fragments.
    satellite_share
        A smaller cluster within this share of a larger cluster's radius of it joins
        it (default 0.5; 0 turns it off): the patches around a large area's edge.
    peak_fwer
        Family-wise error rate, per type, for a place's strongest window (default
        0.05): the window's p must be below it divided by the city's number of
        independent windows (land cells / cells per window, summed over windows).
    cluster_q
        False discovery rate over hotspots: each long-run place's own count is tested
        against its expectation (binomial under case-control, Poisson otherwise) and
        the places of a run are controlled with Benjamini–Hochberg (default 0.05).
    placeholder_min_reports, placeholder_min_types
        A single exact point holding at least this many reports of at least this many
        different types is a placeholder (e.g. City Hall's address for "location
        unknown"), not a place: its reports are left out of the scan (defaults 30 and 15;
        in Boston 2011 City Hall Plaza's point has 154 reports of 35 types, the busiest
        real intersection 25 reports of 10 types).
    """

    cell_m: float = 25.0
    baseline_sigma_m: float = 1000.0
    baseline_cell_m: float = 200.0
    windows_m: tuple[float, ...] = (75.0, 225.0)
    fdr_q: float = 0.05
    min_ratio: float = 2.0
    min_reports: int = 5
    land_block_m: float = 500.0
    site_radius_m: float = 10.0
    all_types: bool = False
    case_control: bool = True
    refine_baseline: bool = True
    merge_gap_m: float = 100.0
    satellite_share: float = 0.5
    peak_fwer: float = 0.05
    cluster_q: float = 0.05
    placeholder_min_reports: int = 30
    placeholder_min_types: int = 15

    def __post_init__(self) -> None:
        problems = []
        if not 1 <= self.cell_m <= 500:
            problems.append(f"cell_m must be in [1, 500] metres. Got {self.cell_m} instead.")
        else:
            block = self.baseline_cell_m / self.cell_m
            if abs(block - round(block)) > 1e-6 or round(block) < 1:
                problems.append(
                    f"baseline_cell_m must be a multiple of cell_m ({self.cell_m:g}). "
                    f"Got {self.baseline_cell_m} instead."
                )
            for w in self.windows_m:
                k = w / self.cell_m
                if abs(k - round(k)) > 1e-6 or round(k) % 2 == 0:
                    problems.append(
                        f"every window must be an odd multiple of cell_m ({self.cell_m:g}), "
                        f"e.g. {3 * self.cell_m:g}. Got {w} instead."
                    )
        if not self.windows_m:
            problems.append("windows_m needs at least one window, e.g. (75.0, 225.0).")
        if not 100 <= self.baseline_sigma_m <= 20_000:
            problems.append(
                f"baseline_sigma_m must be in [100, 20000] metres. Got "
                f"{self.baseline_sigma_m} instead."
            )
        elif self.baseline_cell_m > self.baseline_sigma_m / 2:
            problems.append(
                f"baseline_cell_m must be at most baseline_sigma_m / 2 "
                f"({self.baseline_sigma_m / 2:g}). Got {self.baseline_cell_m} instead."
            )
        if not 0 < self.fdr_q <= 0.5:
            problems.append(f"fdr_q must be in (0, 0.5]. Got {self.fdr_q} instead.")
        if self.min_ratio < 1:
            problems.append(f"min_ratio must be at least 1. Got {self.min_ratio} instead.")
        if self.min_reports < 1:
            problems.append(f"min_reports must be at least 1. Got {self.min_reports} instead.")
        if self.land_block_m < self.cell_m:
            problems.append(
                f"land_block_m must be at least cell_m. Got {self.land_block_m} instead."
            )
        if not 0 < self.site_radius_m <= 100:
            problems.append(
                f"site_radius_m must be in (0, 100] metres. Got {self.site_radius_m} instead."
            )
        if not 0 <= self.merge_gap_m <= 500:
            problems.append(
                f"merge_gap_m must be in [0, 500] metres. Got {self.merge_gap_m} instead."
            )
        if not 0 < self.peak_fwer <= 1:
            problems.append(f"peak_fwer must be in (0, 1]. Got {self.peak_fwer} instead.")
        if not 0 <= self.satellite_share <= 2:
            problems.append(
                f"satellite_share must be in [0, 2]. Got {self.satellite_share} instead."
            )
        if not 0 < self.cluster_q <= 1:
            problems.append(f"cluster_q must be in (0, 1]. Got {self.cluster_q} instead.")
        if problems:
            raise InputError("HotspotParams: " + " ".join(problems))

    @property
    def block(self) -> int:
        """Cells per baseline block side."""
        return round(self.baseline_cell_m / self.cell_m)

    @property
    def merge_reach(self) -> int:
        """Cells grown around each cluster so that clusters ``merge_gap_m`` apart touch."""
        return math.ceil(self.merge_gap_m / self.cell_m / 2)

    @property
    def halves(self) -> tuple[int, ...]:
        """Window half-widths in cells."""
        return tuple(round(w / self.cell_m) // 2 for w in self.windows_m)


@dataclass(frozen=True, slots=True)
class HotspotResult:
    """What a scan found.

    Attributes
    ----------
    hotspots
        GeoDataFrame (working CRS), one row per hotspot, columns :data:`HOTSPOT_COLUMNS`,
        ordered by type then strength.
    point_hotspot
        For every input row, the ``hotspot_id`` of its own type's hotspot it falls in, or -1.
    point_hotspot_all
        For every input row, the all-types hotspot it falls in, or -1.
    grid, land_cells
        The analysis grid and how many of its cells are land.
    analysed, excluded
        Rows analysed, and rows left out (no location, outside the area, after ``as_of``,
        or at a placeholder point).
    placeholders
        The placeholder points left out: x, y, reports, types.
    as_of, window_start
        End of the analysis and start of the recent window (None without report times).
    """

    hotspots: gpd.GeoDataFrame
    point_hotspot: np.ndarray
    point_hotspot_all: np.ndarray
    grid: Grid
    land_cells: int
    analysed: int
    excluded: int
    placeholders: pd.DataFrame = field(default_factory=pd.DataFrame)
    as_of: pd.Timestamp | None = None
    window_start: pd.Timestamp | None = None
    params: HotspotParams = field(default_factory=HotspotParams)


@dataclass(slots=True)
class _Found:
    """Hotspots of one type, before description (arrays aligned per hotspot)."""

    code: str
    polygons: list[shapely.Geometry]
    n_reports: np.ndarray
    expected: np.ndarray
    p: np.ndarray
    q: np.ndarray
    n_cells: np.ndarray
    n_recent: np.ndarray
    share: float
    trend: np.ndarray
    trend_p: np.ndarray
    trend_q: np.ndarray
    found_in: np.ndarray
    members: np.ndarray  # point indices (into the input) inside, grouped
    member_place: np.ndarray  # local place index of each member
    member_weight: np.ndarray  # weight of each member in its place's centre
    member_site: np.ndarray  # repeat location of each member (ids local to this group)
    n_all: np.ndarray  # reports of every type inside (NaN without exposure)
    share_ratio: np.ndarray  # the type's share inside / its city-wide share (NaN likewise)
    cluster_p: np.ndarray  # the place's own count against its expectation

    def subset(self, keep: np.ndarray) -> _Found:
        """The same hotspots less those where ``keep`` is False, renumbered in order."""
        remap = np.full(keep.size, -1, dtype=np.int64)
        remap[keep] = np.arange(int(keep.sum()))
        inside = keep[self.member_place]
        per_place = ("n_reports", "expected", "p", "q", "n_cells", "n_recent", "trend")
        fields = {name: getattr(self, name)[keep] for name in per_place}
        more = ("trend_p", "trend_q", "found_in", "n_all", "share_ratio", "cluster_p")
        fields |= {name: getattr(self, name)[keep] for name in more}
        return _Found(
            code=self.code,
            polygons=[g for g, k in zip(self.polygons, keep, strict=True) if k],
            share=self.share,
            members=self.members[inside],
            member_place=remap[self.member_place[inside]],
            member_weight=self.member_weight[inside],
            member_site=self.member_site[inside],
            **fields,
        )


def detect_hotspots(
    points: pd.DataFrame,
    *,
    params: HotspotParams | None = None,
    emerging: EmergingParams | None = None,
    as_of: pd.Timestamp | None = None,
    land: shapely.Geometry | None = None,
    timezone: str = "UTC",
    crs: str | None = None,
    workers: int | None = None,
) -> HotspotResult:
    """Find hotspots per request type (and over all types) and label their trend.

    Parameters
    ----------
    points
        One row per report: ``x``, ``y`` (metres in a metric CRS; NaN = unknown location,
        left out) and ``service_code``. Optional: ``created_at`` (UTC datetimes; needed for
        first/last report, monthly recurrence and trends), ``is_open`` (bool) and
        ``address`` (text, for distinct and most-reported addresses).
    params
        Scan settings (defaults: :class:`HotspotParams`).
    emerging
        Trend settings (defaults: :class:`EmergingParams`); trends need ``created_at``.
    as_of
        End of the analysis; reports after it are left out. Default: the newest report.
    land
        Where reports can occur (the city's boundary, in the same CRS); cells outside are
        never tested and do not dilute the baseline. Without it, land is inferred from the
        reports. In a real city pass it: a harbour is not a quiet neighbourhood.
    timezone
        The city's time zone, for calendar months.
    crs
        CRS of ``x``/``y``, stored on the result's GeoDataFrame.
    workers
        Threads scanning request types side by side (default: 2, or 1 on a single
        core). The scans are numpy work that releases the interpreter lock, so a second
        thread cuts the wall time, most of all on a busy machine; the result is the same
        for any number.

    Returns
    -------
    HotspotResult
        Hotspots with their statistics and polygons, and each report's hotspot.

    Raises
    ------
    SchemaError
        When a required column is missing.
    CRSError
        When ``crs`` is not measured in metres (cells and windows are in metres).
    InputError
        When the located reports span an implausibly large area.
    """
    params = params or HotspotParams()
    emerging = emerging or EmergingParams()
    _check_columns(points)
    if crs is not None:
        _require_metres(crs)
    n_rows = len(points)
    x = points["x"].to_numpy(dtype=np.float64)
    y = points["y"].to_numpy(dtype=np.float64)
    located = np.isfinite(x) & np.isfinite(y)

    times = _utc_nanos(points)
    as_of_ts: pd.Timestamp | None = None
    window_start: pd.Timestamp | None = None
    recent = np.zeros(n_rows, dtype=bool)
    assess_trends = False
    if times is not None and as_of is None and not (located & (times != _NAT)).any():
        times = None  # nothing dated to analyse: no period, no trends
    if times is not None:
        known = times != _NAT
        if as_of is None:
            as_of_ns = int(times[known & located].max())
        else:
            as_of_ns = pd.Timestamp(as_of).tz_convert("UTC").value
        located &= known & (times <= as_of_ns)
        start_ns = as_of_ns - int(emerging.window_days * 86_400e9)
        recent = located & (times > start_ns)
        # trends need history before the window: with all reports inside it there is
        # nothing to compare with, and every hotspot would look "persistent"
        assess_trends = bool((located & ~recent).any())
        as_of_ts = pd.Timestamp(as_of_ns, tz="UTC")
        window_start = pd.Timestamp(start_ns, tz="UTC")

    grid = _make_grid(x[located], y[located], land, params)
    flat = np.full(n_rows, -1, dtype=np.int64)
    flat[located] = grid.locate(x[located], y[located])
    if land is not None:
        land_mask = land_from_geometry(grid, land)
    else:
        land_mask = land_from_points(grid, flat, block_m=params.land_block_m)
    code_index, categories = _factorize(points["service_code"])
    placeholders, at_placeholder = find_placeholders(
        x,
        y,
        code_index,
        flat,
        min_reports=params.placeholder_min_reports,
        min_types=params.placeholder_min_types,
    )
    flat[at_placeholder] = -1
    used = flat >= 0
    area = ScanArea.build(
        grid,
        land_mask,
        halves=params.halves,
        sigma_blocks=params.baseline_sigma_m / params.baseline_cell_m,
    )

    key = np.where(used, code_index, -1).astype(np.int32 if len(categories) > 32_000 else np.int16)
    order = np.argsort(key, kind="stable")
    counts_per_code = np.bincount(code_index[used], minlength=len(categories))
    starts = np.concatenate([[0], np.cumsum(counts_per_code)]) + int((~used).sum())

    groups: list[tuple[str, np.ndarray]] = [
        (categories[k], order[starts[k] : starts[k + 1]])
        for k in range(len(categories))
        if counts_per_code[k] >= params.min_reports
    ]
    if params.all_types:
        groups.append((ALL_TYPES, np.flatnonzero(used)))
    exposure = (
        _Exposure.build(area, flat[used], flat[used & recent] if assess_trends else None)
        if params.case_control
        else None
    )
    threads = max(1, min(workers or min(2, os.cpu_count() or 1), len(groups)))
    if exposure is not None and params.refine_baseline:
        exposure = replace(exposure, hot=_first_pass_hot(groups, flat, area, exposure, params))
    buffers: queue.SimpleQueue[np.ndarray] = queue.SimpleQueue()
    for _ in range(threads):
        buffers.put(np.full(grid.size, -1, dtype=np.int32))

    def scan(group: tuple[str, np.ndarray]) -> _Found:
        buffer = buffers.get()  # each thread maps cells to clusters in a grid of its own
        try:
            return _scan_group(
                *group,
                x,
                y,
                flat,
                recent,
                area,
                buffer,
                params,
                emerging,
                timed=assess_trends,
                exposure=None if group[0] == ALL_TYPES else exposure,
            )
        finally:
            buffers.put(buffer)

    if threads == 1:
        found = [scan(group) for group in groups]
    else:
        with ThreadPoolExecutor(threads, thread_name_prefix="hotspots") as pool:
            # the biggest groups first, so that the threads finish together
            biggest = sorted(range(len(groups)), key=lambda i: -groups[i][1].size)
            futures = {i: pool.submit(scan, groups[i]) for i in biggest}
            found = [futures[i].result() for i in range(len(groups))]

    land_cells = int(land_mask.sum())
    independent = sum(land_cells / (2 * h + 1) ** 2 for h in params.halves)
    found = _hotspot_fdr(found, q=params.cluster_q, peak_p=params.peak_fwer / max(independent, 1))
    hotspots, point_hotspot, point_hotspot_all = _assemble(
        found,
        points,
        _Columns(x, y, times, recent, used, code_index, categories),
        params,
        timezone,
        crs,
    )
    return HotspotResult(
        hotspots=hotspots,
        point_hotspot=point_hotspot,
        point_hotspot_all=point_hotspot_all,
        grid=grid,
        land_cells=int(land_mask.sum()),
        analysed=int(used.sum()),
        excluded=int(n_rows - used.sum()),
        placeholders=placeholders,
        as_of=as_of_ts,
        window_start=window_start,
        params=params,
    )


_NAT: Final = np.iinfo(np.int64).min


@dataclass(frozen=True, slots=True)
class _Exposure:
    """Reports of every type: what each type is compared with (the case-control design).

    ``cells`` counts all reports per cell, ``windows`` and ``recent`` their window sums
    over the whole period and the recent window, ``coarse`` their baseline blocks.
    """

    cells: np.ndarray
    cells_recent: np.ndarray | None
    windows: WindowCounts
    recent: WindowCounts | None
    coarse: np.ndarray
    total: int
    total_recent: int
    hot: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @classmethod
    def build(cls, area: ScanArea, cells: np.ndarray, recent: np.ndarray | None) -> _Exposure:
        return cls(
            cells=np.bincount(cells, minlength=area.grid.size).astype(np.int32),
            cells_recent=None
            if recent is None
            else np.bincount(recent, minlength=area.grid.size).astype(np.int32),
            windows=count_windows(area, cells),
            recent=None if recent is None else count_windows(area, recent),
            coarse=area.coarse_counts(cells),
            total=int(cells.size),
            total_recent=0 if recent is None else int(recent.size),
        )

    def expected(self, baseline: Baseline, cells: np.ndarray) -> np.ndarray:
        """Expected reports of the type in each cell: its local share × all reports there."""
        values: np.ndarray = baseline.at(cells) * self.cells[cells]
        return values


def _first_pass_hot(
    groups: list[tuple[str, np.ndarray]],
    flat: np.ndarray,
    area: ScanArea,
    exposure: _Exposure,
    params: HotspotParams,
) -> np.ndarray:
    """Cells near a first-pass hotspot of any type (dilated by the largest window).

    A large hotspot of one type inflates the reports of every type around it, and so
    lowers every other type's local share there: its ring would look over-represented in
    all of them. Leaving these cells out of every type's share estimate removes that.
    """
    hot: list[np.ndarray] = []
    for code, members in groups:
        if code == ALL_TYPES:
            continue
        cells_of = flat[members]
        baseline = area.share_baseline(area.coarse_counts(cells_of), exposure.coarse)
        found = poisson_scan(
            area,
            cells_of,
            baseline,
            fdr_q=params.fdr_q,
            min_ratio=params.min_ratio,
            min_reports=params.min_reports,
            exposure=exposure.windows,
        )
        hot.append(found.cell)
    if not hot:
        return np.zeros(0, dtype=np.int64)
    return dilate_cells(area.grid, np.unique(np.concatenate(hot)), max(area.halves))


def _hotspot_fdr(found: list[_Found], *, q: float, peak_p: float) -> list[_Found]:
    """Keep the places whose strongest window passes ``peak_p`` and whose count passes BH.

    Cell-level FDR admits a share of chance cells, and chance cells lie apart in small
    clusters of their own: with many true cells the Benjamini–Hochberg threshold rises
    and dozens of two-cell "hotspots" pass. So each place must also hold a window whose
    p is below ``peak_p`` (a Bonferroni bound over the independent windows of the
    city: peak-level family-wise error control, as in image analysis), which chance
    cells almost never reach.

    The cells of a place passed a cell-level FDR; this asks the same of the place as a
    whole (its own count against its own expectation: the whole period for long-run
    places, the recent window for places found only there), with one family for the
    run, so a few chance windows strung together are not reported as a hotspot.
    """
    history = [f.p <= peak_p for f in found]
    parts = [f.cluster_p[h] for f, h in zip(found, history, strict=True)]
    pooled = np.concatenate(parts) if parts else np.zeros(0)
    if pooled.size == 0:
        return [f.subset(np.zeros(f.p.size, dtype=bool)) for f in found]
    passed, qvals = bh_reject(pooled, q=q)
    out = []
    start = 0
    for f, h in zip(found, history, strict=True):
        keep = h.copy()
        keep[h] = passed[start : start + int(h.sum())]
        start += int(h.sum())
        out.append(f if keep.all() else f.subset(keep))
    del qvals
    return out


def _factorize(codes: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Integer code per row (sorted categories) and the categories; missing becomes ''."""
    values = codes.astype("string").fillna("") if codes.dtype != "category" else codes
    index, uniques = pd.factorize(values, sort=True)
    labels = [str(u) for u in uniques]
    if (index < 0).any():  # a categorical with missing values
        labels.append("")
        index = np.where(index < 0, len(labels) - 1, index)
    return np.asarray(index, dtype=np.int64), labels


def find_placeholders(
    x: np.ndarray,
    y: np.ndarray,
    code_index: np.ndarray,
    flat: np.ndarray,
    *,
    min_reports: int,
    min_types: int,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Exact points that collect many reports of many unrelated types, and who sits there.

    A pothole corner gathers potholes; a point with street lights, sidewalks, signals,
    graffiti and rodents all at the same coordinates is where a system puts "unknown".
    Returns the placeholder points (x, y, reports, types) and a mask of the rows at them.
    Only cells already holding ``min_reports`` reports are examined, so this is cheap.
    """
    mask = np.zeros(x.size, dtype=bool)
    found = pd.DataFrame({"x": [], "y": [], "reports": [], "types": []})
    valid = flat >= 0
    if not valid.any():
        return found, mask
    busy = np.bincount(flat[valid]) >= min_reports
    rows = np.flatnonzero(valid)
    rows = rows[busy[flat[rows]]]
    if rows.size == 0:
        return found, mask
    # only cells holding reports of at least min_types types can hold such a point
    n_codes = int(code_index.max()) + 1
    pairs = np.unique(flat[rows] * n_codes + code_index[rows])
    types_in_cell = np.bincount(pairs // n_codes, minlength=busy.size)
    rows = rows[types_in_cell[flat[rows]] >= min_types]
    if rows.size == 0:
        return found, mask
    frame = pd.DataFrame({"x": x[rows], "y": y[rows], "code": code_index[rows], "row": rows})
    stats = frame.groupby(["x", "y"]).agg(reports=("row", "size"), types=("code", "nunique"))
    found = stats[(stats["reports"] >= min_reports) & (stats["types"] >= min_types)].reset_index()
    if not found.empty:
        key = pd.MultiIndex.from_frame(frame[["x", "y"]])
        hit = key.isin(pd.MultiIndex.from_frame(found[["x", "y"]]))
        mask[rows[hit]] = True
    return found, mask


def _require_metres(crs: str) -> None:
    parsed = CRS.from_user_input(crs)
    unit = parsed.axis_info[0].unit_name if parsed.axis_info else None
    if unit not in {"metre", "meter"}:
        raise CRSError(
            f"hotspot coordinates are in {crs} (unit: {unit}); cells and windows are in "
            "metres. Project x/y to a metric CRS first (geo.crs.lonlat_to_working)."
        )


def _check_columns(points: pd.DataFrame) -> None:
    missing = [c for c in ("x", "y", "service_code") if c not in points.columns]
    if missing:
        raise SchemaError(
            f"hotspot input lacks column(s) {', '.join(missing)} (found "
            f"{', '.join(map(str, points.columns)) or 'none'}); pass x/y in a metric CRS "
            "and service_code per report"
        )


def _utc_nanos(points: pd.DataFrame) -> np.ndarray | None:
    """created_at as int64 UTC nanoseconds (NaT → min int64), or None without the column."""
    if "created_at" not in points.columns:
        return None
    column = points["created_at"]
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        column = column.dt.tz_convert("UTC").dt.tz_localize(None)
    elif not pd.api.types.is_datetime64_dtype(column.dtype):
        raise SchemaError(
            f"hotspot input column created_at must hold datetimes (UTC); got {column.dtype}"
        )
    return column.to_numpy(dtype="datetime64[ns]").view(np.int64)


def _make_grid(
    x: np.ndarray, y: np.ndarray, land: shapely.Geometry | None, params: HotspotParams
) -> Grid:
    pad = max(params.windows_m) / 2 + params.cell_m
    bounds: tuple[float, float, float, float]
    if land is not None:
        x0, y0, x1, y1 = (float(v) for v in shapely.bounds(land))
        bounds = (x0, y0, x1, y1)
    elif x.size:
        # robust bounds: a few points geocoded far away must not blow the grid up
        lo = 0.0001 if x.size > 10_000 else 0.0
        step = max(1, x.size // 250_000)  # a quarter million points pin the quantiles
        qx = np.quantile(x[::step], [lo, 1 - lo])
        qy = np.quantile(y[::step], [lo, 1 - lo])
        bounds = (float(qx[0]), float(qy[0]), float(qx[1]), float(qy[1]))
    else:
        bounds = (0.0, 0.0, 0.0, 0.0)
    return Grid.covering(bounds, cell_m=params.cell_m, block=params.block, pad_m=pad)


def _scan_group(
    code: str,
    members: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    flat: np.ndarray,
    recent: np.ndarray,
    area: ScanArea,
    label_buffer: np.ndarray,
    params: HotspotParams,
    emerging: EmergingParams,
    *,
    timed: bool,
    exposure: _Exposure | None,
) -> _Found:
    """Scan one type (or all types): long-run hotspots, recent places, their trends.

    With ``exposure`` the type is tested against all types in the same windows (its
    local share of them is the baseline); without, against its own 1 km surroundings.
    """
    grid = area.grid
    cells_of = flat[members]
    counts = count_windows(area, cells_of)

    def scan_history(baseline: Baseline) -> ScanCells:
        return poisson_scan(
            area,
            cells_of,
            baseline,
            windows=counts,
            fdr_q=params.fdr_q,
            min_ratio=params.min_ratio,
            min_reports=params.min_reports,
            exposure=None if exposure is None else exposure.windows,
        )

    if exposure is None:
        baseline = area.baseline(cells_of)
        history = scan_history(baseline)
    else:
        baseline = area.share_baseline(area.coarse_counts(cells_of), exposure.coarse)
        history = scan_history(baseline)
        if params.refine_baseline and (history.cell.size or exposure.hot.size):
            # the hotspots found (of this type and, from a first pass, of every type), and
            # the windows that found them, leave the share estimate: a large hotspot does
            # not raise its own expectation, nor lower the share of the other types round it
            hot = np.union1d(dilate_cells(grid, history.cell, max(area.halves)), exposure.hot)
            outside = ~np.isin(cells_of, hot)
            all_outside = exposure.coarse - area.coarse_counts(
                hot, weights=exposure.cells[hot].astype(np.float64)
            )
            baseline = area.share_baseline(
                area.coarse_counts(cells_of[outside]), np.maximum(all_outside, 0.0)
            )
            history = scan_history(baseline)

    def expect(cells: np.ndarray) -> np.ndarray:
        if exposure is None:
            return baseline.at(cells)
        return exposure.expected(baseline, cells)

    recent_members = recent[members]
    share = float(recent_members.mean()) if members.size else 0.0
    recent_scan = ScanCells.empty()
    shifted = np.zeros(0, dtype=np.int64)
    recent_counts: WindowCounts | None = None
    scale = share
    if timed and 0 < share < 1:
        recent_cells = cells_of[recent_members]
        recent_counts = count_windows(area, recent_cells)
        if exposure is not None and exposure.recent is not None:
            # recent reports of the type against recent reports of every type, scaled by
            # the change of the type's city-wide share of all reports
            type_share = members.size / max(exposure.total, 1)
            recent_share = recent_members.sum() / max(exposure.total_recent, 1)
            scale = float(recent_share / type_share) if type_share > 0 else 1.0
        recent_scan = poisson_scan(
            area,
            recent_cells,
            baseline,
            windows=recent_counts,
            exposure=None if exposure is None else exposure.recent,
            scale=scale,
            fdr_q=emerging.fdr_q,
            min_ratio=emerging.min_ratio,
            min_reports=emerging.min_recent_reports,
        )
        recent_scan = _confirmed(grid, recent_scan, history.cell, min_cells=emerging.min_new_cells)
        # the footprint covers the reports the significant windows counted; claiming
        # every touching land cell (not only those with recent reports) keeps the claim
        # blind to when the reports came, so the share tests below stay fair
        recent_scan = _with_cells(recent_scan, claim_neighbours(grid, recent_scan.cell, area.land))
        shifted = share_scan(
            area,
            np.union1d(recent_scan.cell, history.cell),
            recent_counts,
            counts,
            share=share,
            fdr_q=emerging.fdr_q,
            min_rate_ratio=emerging.min_rate_ratio,
            min_reports=emerging.min_recent_reports,
        ).cell
    union = _union_cells(history, recent_scan, shifted)
    label_buffer[union.cell] = np.arange(union.cell.size, dtype=np.int32)
    point_cell = label_buffer[cells_of]
    label_buffer[union.cell] = -1
    sel = np.flatnonzero(point_cell >= 0)  # reports inside any significant cell
    point_cell, sel_recent = point_cell[sel], recent_members[sel]

    # a candidate emerging place carved out of a long-run hotspot that does not hold up
    # on its own footprint gives its cells back, and the places are formed again
    veto = np.zeros(union.cell.size, dtype=bool)
    while True:
        place, long_run, candidate = _places(
            grid,
            union,
            point_cell,
            sel_recent,
            expect,
            share=share,
            emerging=emerging,
            min_reports=params.min_reports,
            veto=veto,
            reach=params.merge_reach,
        )
        if params.satellite_share > 0:
            place, long_run, candidate = _absorb_satellites(
                grid, union.cell, place, long_run, candidate, share=params.satellite_share
            )
        n_places = long_run.size
        point_place = place[point_cell]
        inside = point_place >= 0
        assigned = place >= 0
        cells, place_of_cell = union.cell[assigned], place[assigned]
        n_total = np.bincount(point_place[inside], minlength=n_places)
        n_recent = np.bincount(point_place[inside & sel_recent], minlength=n_places)
        exp_total = np.bincount(place_of_cell, weights=expect(cells), minlength=n_places)
        if not timed:
            trend = np.full(n_places, "", dtype=object)
            trend_p = np.full(n_places, np.nan)
            trend_q = np.full(n_places, np.nan)
            keep = long_run.copy()
            break
        trends = classify_places(
            n_total=n_total,
            n_recent=n_recent,
            expected_total=exp_total,
            share=np.full(n_places, share),
            long_run=long_run,
            params=emerging,
            min_reports=params.min_reports,
        )
        trend, trend_p, trend_q = trends.trend, trends.p, trends.q
        keep = trend != ""
        carved = np.bincount(place_of_cell, weights=union.in_history[assigned], minlength=n_places)
        failed = candidate & ~keep & (carved > 0)
        if not failed.any():
            break
        veto[np.flatnonzero(assigned)[failed[place_of_cell]]] = True
    keep &= n_total >= params.min_reports
    n_cells = np.bincount(place_of_cell, minlength=n_places)
    p_min = np.ones(n_places)
    q_min = np.ones(n_places)
    np.minimum.at(p_min, place_of_cell, union.p[assigned])
    np.minimum.at(q_min, place_of_cell, union.q[assigned])

    kept = np.flatnonzero(keep)
    remap = np.full(n_places, -1, dtype=np.int64)
    remap[kept] = np.arange(kept.size)
    cell_keep = keep[place_of_cell]
    polygons = cells_to_polygons(grid, cells[cell_keep], remap[place_of_cell[cell_keep]], kept.size)
    member_keep = inside.copy()
    member_keep[inside] = keep[point_place[inside]]
    # the centre of an emerging place is where its recent reports crowd: each recent
    # report weighs as many as the recent reports in its 75 m window, so a few scattered
    # ones in the footprint's margin do not drag the pin off the new corner; the centre
    # of any other place is the mean of all its reports
    weight = np.ones(sel.size)
    emerging_place = np.isin(trend, [Trend.NEW.value, Trend.INTENSIFYING.value])
    if recent_counts is not None and n_places:
        smallest = int(np.argmin(area.halves))
        crowd = np.sqrt(recent_counts.at(smallest, union.cell[point_cell])) * sel_recent
        weight = np.where(emerging_place[np.maximum(point_place, 0)], crowd, weight)
    kept_rows = members[sel[member_keep]]
    kept_place = remap[point_place[member_keep]]
    # each place's own count against its expectation: the whole period for long-run
    # places, the recent window for places found only there
    if exposure is None:
        n_all = np.full(kept.size, np.nan)
        share_ratio = np.full(kept.size, np.nan)
        cluster_p = np.where(
            long_run[kept],
            poisson.sf(n_total[kept] - 1, exp_total[kept]),
            poisson.sf(n_recent[kept] - 1, share * exp_total[kept]),
        )
    else:
        n_all = np.bincount(place_of_cell, weights=exposure.cells[cells], minlength=n_places)[kept]
        city_share = members.size / max(exposure.total, 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            share_ratio = (n_total[kept] / n_all) / city_share
            local = np.nan_to_num(np.clip(exp_total[kept] / n_all, 0.0, 1.0))
        cluster_p = binom.sf(n_total[kept] - 1, n_all.astype(np.int64), local)
        if exposure.cells_recent is not None:
            recent_all = np.bincount(
                place_of_cell, weights=exposure.cells_recent[cells], minlength=n_places
            )[kept]
            recent_p = binom.sf(
                n_recent[kept] - 1, recent_all.astype(np.int64), np.clip(local * scale, 0, 1)
            )
            cluster_p = np.where(long_run[kept], cluster_p, recent_p)
    return _Found(
        code=code,
        polygons=polygons,
        n_reports=n_total[kept],
        expected=exp_total[kept],
        p=p_min[kept],
        q=q_min[kept],
        n_cells=n_cells[kept],
        n_recent=n_recent[kept],
        share=share,
        trend=trend[kept],
        trend_p=trend_p[kept],
        trend_q=trend_q[kept],
        found_in=np.where(long_run[kept], "history", "recent").astype(object),
        members=kept_rows,
        member_place=kept_place,
        member_weight=weight[member_keep],
        member_site=_sites(x[kept_rows], y[kept_rows], kept_place, radius=params.site_radius_m),
        n_all=n_all,
        share_ratio=share_ratio,
        cluster_p=cluster_p,
    )


def _confirmed(grid: Grid, recent: ScanCells, history: np.ndarray, *, min_cells: int) -> ScanCells:
    """Recent cells, less the clusters away from every long-run hotspot that are too small.

    The recent scan controls the false discovery rate over *cells*; a true place spans
    dozens of cells, so Benjamini–Hochberg admits a cell or two of chance per true place,
    and each lone chance cell would become a "new hotspot" of its own. A recent cluster
    that touches no long-run cell claims that something new is there, so it must be
    significant at ``min_cells`` window centres or more (an extent threshold).
    """
    if recent.cell.size == 0:
        return recent
    cells = np.union1d(recent.cell, history)
    labels, n = label_cells(grid, cells)
    at_history = np.zeros(n, dtype=bool)
    at_history[labels[np.isin(cells, history, assume_unique=True)]] = True
    own = labels[np.searchsorted(cells, recent.cell)]
    size = np.bincount(own, minlength=n)
    keep = (at_history | (size >= min_cells))[own]
    small = None if recent.small is None else recent.small[keep]
    return ScanCells(recent.cell[keep], recent.p[keep], recent.q[keep], recent.tests, small)


def _with_cells(scan: ScanCells, extra: np.ndarray) -> ScanCells:
    """``scan`` plus ``extra`` cells (claimed, not tested themselves: p = q = 1)."""
    if extra.size == 0:
        return scan
    cell = np.concatenate([scan.cell, extra])
    order = np.argsort(cell, kind="stable")
    ones = np.ones(extra.size)
    small = np.zeros(scan.cell.size, dtype=bool) if scan.small is None else scan.small
    return ScanCells(
        cell[order],
        np.concatenate([scan.p, ones])[order],
        np.concatenate([scan.q, ones])[order],
        scan.tests,
        np.concatenate([small, np.zeros(extra.size, dtype=bool)])[order],
    )


@dataclass(frozen=True, slots=True)
class _Union:
    """Cells significant in either scan (ascending) with smallest p and q, and which scan.

    ``shifted`` marks cells whose windows' recent share is significantly high; ``core``
    the recent cells whose smallest window was significant (where recent reports crowd).
    """

    cell: np.ndarray
    p: np.ndarray
    q: np.ndarray
    in_history: np.ndarray
    in_recent: np.ndarray
    shifted: np.ndarray
    core: np.ndarray


def _union_cells(history: ScanCells, recent: ScanCells, shifted: np.ndarray) -> _Union:
    cell = np.concatenate([history.cell, recent.cell])
    p = np.concatenate([history.p, recent.p])
    q = np.concatenate([history.q, recent.q])
    hist = np.concatenate([np.ones(history.cell.size, bool), np.zeros(recent.cell.size, bool)])
    order = np.lexsort((p, cell))
    cell, p, q, hist = cell[order], p[order], q[order], hist[order]
    first = np.ones(cell.size, dtype=bool)
    first[1:] = cell[1:] != cell[:-1]
    starts = np.flatnonzero(first)
    none = np.zeros(0, dtype=bool)
    if starts.size == 0:
        return _Union(cell, p, q, hist, ~hist, none, none)
    in_history = np.maximum.reduceat(hist, starts)
    in_recent = ~np.minimum.reduceat(hist, starts)
    cell = cell[first]
    cores = recent.cell if recent.small is None else recent.cell[recent.small]
    return _Union(
        cell,
        p[first],
        np.minimum.reduceat(q, starts),
        in_history,
        in_recent,
        np.isin(cell, shifted, assume_unique=True),
        np.isin(cell, cores, assume_unique=True),
    )


def _places(
    grid: Grid,
    union: _Union,
    point_cell: np.ndarray,
    recent_members: np.ndarray,
    expect: Callable[[np.ndarray], np.ndarray],
    *,
    share: float,
    emerging: EmergingParams,
    min_reports: int,
    veto: np.ndarray,
    reach: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group significant cells into places: each union cell's place, long_run, candidate.

    ``point_cell`` and ``recent_members`` describe the reports inside significant cells
    (index into ``union`` and whether each is recent).

    Touching long-run cells form one long-run place. Emerging cells are those of a
    recent-window cluster whose own reports are mostly recent (new or intensifying on its
    own cells), and those where the recent share jumps (``union.shifted``: a new corner
    inside or beside a persistent hotspot, whose cluster as a whole is not new). Touching
    emerging cells form a candidate place of their own, carved out of any long-run place
    it overlaps, so the new corner is not averaged into the old hotspot; a long-run
    component with most of its reports inside such a place joins it instead. Recent
    clusters that are not emerging add nothing: the long-run footprint stays what the
    long-run scan found. ``veto`` cells are never emerging (their candidate did not hold
    up). ``candidate`` marks the places that are candidate emerging places.
    """
    h_comp = _components(grid, union.cell, union.in_history, reach=reach)
    r_comp = _components(grid, union.cell, union.in_recent)
    n_h = int(h_comp.max()) + 1 if h_comp.size else 0
    n_r = int(r_comp.max()) + 1 if r_comp.size else 0
    ph = h_comp[point_cell]
    pr = r_comp[point_cell]

    emerging_r = np.zeros(n_r, dtype=bool)
    if n_r:
        own = pr >= 0
        trends = classify_places(
            n_total=np.bincount(pr[own], minlength=n_r),
            n_recent=np.bincount(pr[own & recent_members], minlength=n_r),
            expected_total=np.bincount(
                r_comp[union.in_recent],
                weights=expect(union.cell[union.in_recent]),
                minlength=n_r,
            ),
            share=np.full(n_r, share),
            long_run=np.zeros(n_r, dtype=bool),
            params=emerging,
            min_reports=min_reports,
        )
        emerging_r = np.isin(trends.trend, [Trend.NEW.value, Trend.INTENSIFYING.value])
    whole = (r_comp >= 0) & emerging_r[np.maximum(r_comp, 0)] if n_r else r_comp >= 0
    cell_emerging = (whole | union.shifted) & ~veto
    e_comp = _components(grid, union.cell, cell_emerging, reach=reach)
    e_comp = _split_at_cores(
        grid,
        union.cell,
        e_comp,
        union.core & cell_emerging,
        reach=max(emerging.core_reach(grid.cell_m), reach),
    )
    n_em = int(e_comp.max()) + 1 if e_comp.size else 0
    pe = e_comp[point_cell]

    # long-run components mostly inside an emerging place join it
    in_h = ph >= 0
    h_total = np.bincount(ph[in_h], minlength=n_h)
    both = in_h & (pe >= 0)
    h_em = np.bincount(ph[both], minlength=n_h)
    absorbed = (h_em > 0) & (2 * h_em >= h_total)
    target = np.full(n_h, -1, dtype=np.int64)
    if both.any():
        stride = max(n_em, 1)
        pairs, hits = np.unique(ph[both] * stride + pe[both], return_counts=True)
        order = np.lexsort((-hits, pairs // stride))
        pairs = pairs[order]
        first = np.ones(pairs.size, dtype=bool)
        first[1:] = pairs[1:] // stride != pairs[:-1] // stride
        target[pairs[first] // stride] = pairs[first] % stride
    history_place = np.where(absorbed, target, n_em + np.cumsum(~absorbed) - 1)
    n_places = n_em + int((~absorbed).sum())

    place = np.full(union.cell.size, -1, dtype=np.int64)
    has_h = h_comp >= 0
    place[has_h] = history_place[h_comp[has_h]]
    place[cell_emerging] = e_comp[cell_emerging]
    long_run = np.zeros(n_places, dtype=bool)
    long_run[n_em:] = True
    long_run[target[absorbed]] = True
    candidate = np.zeros(n_places, dtype=bool)
    candidate[:n_em] = True
    return place, long_run, candidate


def _absorb_satellites(
    grid: Grid,
    cells: np.ndarray,
    place: np.ndarray,
    long_run: np.ndarray,
    candidate: np.ndarray,
    *,
    share: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Join small places lying near a larger place of the same kind into it.

    A large area with a moderate excess passes the test in patches: the main body and
    a few small clusters around its edge, all one real place. A place of ``r`` metres
    (equivalent radius of its cells) takes in every smaller place of the same kind
    (long-run or candidate emerging) with a cell within ``share`` × ``r`` of its own.
    """
    assigned = place >= 0
    n = long_run.size
    if n < 2:
        return place, long_run, candidate
    size = np.bincount(place[assigned], minlength=n)
    radius_cells = np.sqrt(size / np.pi)
    target = np.arange(n)
    lookup = np.full(grid.size, -1, dtype=np.int64)
    for big in np.argsort(-size, kind="stable"):
        reach = int(np.floor(share * radius_cells[big]))
        if reach < 1 or target[big] != big:
            continue
        own = cells[place == big]
        near = dilate_cells(grid, own, reach)
        lookup[cells[assigned]] = target[place[assigned]]
        hit = lookup[near]
        hit = np.unique(hit[hit >= 0])
        same_kind = (long_run[hit] == long_run[big]) & (candidate[hit] == candidate[big])
        small = hit[same_kind & (size[hit] < size[big]) & (hit != big)]
        for other in small:
            target[target == other] = big
        lookup[cells[assigned]] = -1
    if (target == np.arange(n)).all():
        return place, long_run, candidate
    kept, dense = np.unique(target, return_inverse=True)
    out = place.copy()
    out[assigned] = dense[place[assigned]]
    return out, long_run[kept], candidate[kept]


def _split_at_cores(
    grid: Grid, cells: np.ndarray, labels: np.ndarray, core: np.ndarray, *, reach: int
) -> np.ndarray:
    """Split clusters that hold several separate cores; each cell joins its nearest core.

    A large window is significant anywhere it reaches a cluster, so two new corners
    150–200 m apart (or a new corner and an old hotspot's recent reports) are bridged by
    the large windows between them and form one cluster whose centre lies between them,
    at neither. Their cores (cells whose smallest window is significant) stay apart: a
    cluster with more than one group of core cells (cores within ``2 * reach`` cells of
    each other are one group) is cut, every cell going to the nearest core group.
    ``labels`` are -1 for cells outside any cluster.
    """
    core = core & (labels >= 0)
    if not core.any():
        return labels
    core_label, n_core = label_cells(grid, cells[core], reach=reach)
    cluster_of_core = np.zeros(n_core, dtype=np.int64)
    cluster_of_core[core_label] = labels[core]
    groups = np.bincount(cluster_of_core, minlength=int(labels.max()) + 1)
    split = groups >= 2
    todo = (labels >= 0) & split[np.maximum(labels, 0)]
    if not todo.any():
        return labels
    # nearest core cell of the same cluster: clusters are set far apart along x
    row, col = np.divmod(cells, grid.nx)
    stride = float(grid.nx + grid.ny) * 4
    shifted_col = col + labels * stride
    seeds = np.flatnonzero(core)
    seeds = seeds[split[labels[seeds]]]
    tree = cKDTree(np.column_stack([shifted_col[seeds], row[seeds]]))
    _, nearest = tree.query(np.column_stack([shifted_col[todo], row[todo]]))
    out = labels.copy()
    n = int(labels.max()) + 1
    out[todo] = n + core_label[np.searchsorted(np.flatnonzero(core), seeds[nearest])]
    _, dense = np.unique(out[out >= 0], return_inverse=True)
    out[out >= 0] = dense
    return out


def _components(grid: Grid, cells: np.ndarray, mask: np.ndarray, *, reach: int = 0) -> np.ndarray:
    """Component label of each masked cell (8-neighbourhood grown by ``reach``), else -1."""
    out = np.full(cells.size, -1, dtype=np.int64)
    labels, _ = label_cells(grid, cells[mask], reach=reach)
    out[mask] = labels
    return out


@dataclass(frozen=True, slots=True)
class _Columns:
    """Input columns as arrays, shared by the description steps."""

    x: np.ndarray
    y: np.ndarray
    times: np.ndarray | None
    recent: np.ndarray
    used: np.ndarray
    code_index: np.ndarray
    codes: list[str]


def _assemble(
    found: list[_Found],
    points: pd.DataFrame,
    cols: _Columns,
    params: HotspotParams,
    timezone: str,
    crs: str | None,
) -> tuple[gpd.GeoDataFrame, np.ndarray, np.ndarray]:
    """One frame of every hotspot with its description; each report's hotspot."""
    n_rows = len(points)
    point_hotspot = np.full(n_rows, -1, dtype=np.int64)
    point_hotspot_all = np.full(n_rows, -1, dtype=np.int64)
    offset = 0
    parts: list[pd.DataFrame] = []
    polygons: list[shapely.Geometry] = []
    member_rows: list[np.ndarray] = []
    member_ids: list[np.ndarray] = []
    member_weights: list[np.ndarray] = []
    member_sites: list[np.ndarray] = []
    site_offset = 0
    for f in found:
        k = len(f.polygons)
        if k == 0:
            continue
        ids = offset + np.arange(k)
        target = point_hotspot_all if f.code == ALL_TYPES else point_hotspot
        target[f.members] = ids[f.member_place]
        member_rows.append(f.members)
        member_ids.append(ids[f.member_place])
        member_weights.append(f.member_weight)
        member_sites.append(f.member_site + site_offset)
        site_offset += int(f.member_site.max()) + 1 if f.member_site.size else 0
        ratio = np.divide(f.n_reports, f.expected, out=np.full(k, np.inf), where=f.expected > 0)
        parts.append(
            pd.DataFrame(
                {
                    "hotspot_id": ids,
                    "service_code": f.code,
                    "trend": f.trend,
                    "found_in": f.found_in,
                    "n_reports": f.n_reports,
                    "expected": f.expected,
                    "ratio": ratio,
                    "p_value": f.p,
                    "q_value": f.q,
                    "n_cells": f.n_cells,
                    "n_all": f.n_all,
                    "share_ratio": f.share_ratio,
                    "cluster_p": f.cluster_p,
                    "area_m2": f.n_cells * params.cell_m**2,
                    "n_recent": f.n_recent,
                    "expected_share": f.share,
                    "trend_p": f.trend_p,
                    "trend_q": f.trend_q,
                }
            )
        )
        polygons.extend(f.polygons)
        offset += k
    if not parts:
        return _empty_frame(crs), point_hotspot, point_hotspot_all
    frame = pd.concat(parts, ignore_index=True)
    rows = np.concatenate(member_rows)
    hid = np.concatenate(member_ids)
    weight = np.concatenate(member_weights)
    sites = np.concatenate(member_sites)
    described = _describe(frame, rows, hid, weight, sites, points, cols, timezone)
    out = gpd.GeoDataFrame(described, geometry=polygons, crs=crs)
    return out[[*HOTSPOT_COLUMNS, "geometry"]], point_hotspot, point_hotspot_all


def _empty_frame(crs: str | None) -> gpd.GeoDataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="object") for c in HOTSPOT_COLUMNS})
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([], crs=crs), crs=crs)


def _describe(
    frame: pd.DataFrame,
    rows: np.ndarray,
    hid: np.ndarray,
    weight: np.ndarray,
    sites: np.ndarray,
    points: pd.DataFrame,
    cols: _Columns,
    timezone: str,
) -> pd.DataFrame:
    """Add centroid, addresses, sites, first/last, recurrence and open share per hotspot.

    ``weight`` is each member's weight in its hotspot's centre (see ``_scan_group``);
    ``sites`` its repeat location (:func:`_sites`; a site never spans two hotspots).
    """
    x, y, times, used, code_index = cols.x, cols.y, cols.times, cols.used, cols.code_index
    n = len(frame)
    count = np.bincount(hid, minlength=n)
    safe = np.maximum(count, 1)
    total = np.maximum(np.bincount(hid, weights=weight, minlength=n), 1e-9)
    frame["centroid_x"] = np.bincount(hid, weights=x[rows] * weight, minlength=n) / total
    frame["centroid_y"] = np.bincount(hid, weights=y[rows] * weight, minlength=n) / total
    frame["recent_share"] = frame["n_recent"] / np.maximum(frame["n_reports"], 1)

    per_site = np.bincount(sites)
    used_site = per_site > 0
    site_hotspot = np.zeros(per_site.size, dtype=np.int64)
    site_hotspot[sites] = hid
    frame["distinct_sites"] = np.bincount(site_hotspot[used_site], minlength=n)
    top_site = np.zeros(n, dtype=np.int64)
    np.maximum.at(top_site, site_hotspot[used_site], per_site[used_site])

    if "address" in points.columns:
        address = points["address"].astype("string").fillna("").to_numpy(dtype=object)[rows]
        normal = pd.Series(address).str.strip().str.upper().str.replace(r"\s+", " ", regex=True)
        with_text = normal != ""
        by_address = pd.DataFrame({"hid": hid[with_text], "address": normal[with_text]})
        counts = by_address.groupby(["hid", "address"]).size()
        frame["distinct_addresses"] = (
            counts.groupby(level=0).size().reindex(range(n), fill_value=0).to_numpy()
        )
        top = (
            counts.rename("reports")
            .sort_values(ascending=False, kind="stable")
            .groupby(level=0)
            .head(1)
            .reset_index()
            .set_index("hid")
            .reindex(range(n))
        )
        frame["top_address"] = top["address"].fillna("").to_numpy(dtype=object)
        frame["top_address_reports"] = top["reports"].fillna(0).astype("int64").to_numpy()
    else:
        frame["distinct_addresses"] = frame["distinct_sites"]
        frame["top_address"] = ""
        frame["top_address_reports"] = top_site

    if "is_open" in points.columns:
        is_open = points["is_open"].to_numpy(dtype=bool)[rows]
        frame["open_share"] = np.bincount(hid, weights=is_open, minlength=n) / safe
    else:
        frame["open_share"] = np.nan

    if times is None:
        frame["first_report"] = pd.NaT
        frame["last_report"] = pd.NaT
        frame["months_with_reports"] = 0
        frame["months_active"] = 0
        frame["monthly_recurrence"] = np.nan
        return frame
    t = times[rows]
    first = np.full(n, np.iinfo(np.int64).max)
    last = np.full(n, np.iinfo(np.int64).min)
    np.minimum.at(first, hid, t)
    np.maximum.at(last, hid, t)
    frame["first_report"] = pd.to_datetime(first, utc=True)
    frame["last_report"] = pd.to_datetime(last, utc=True)

    month = _month_index(times, timezone)
    m0 = int(month[used].min())
    span = int(month[used].max()) - m0 + 1
    with_month = pd.unique(hid * span + (month[rows] - m0))
    frame["months_with_reports"] = np.bincount(with_month // span, minlength=n)
    n_codes = int(code_index.max()) + 1
    active_pairs = np.zeros(n_codes * span, dtype=bool)
    active_pairs[code_index[used] * span + (month[used] - m0)] = True
    active = active_pairs.reshape(n_codes, span)
    active_by_code = dict(zip(cols.codes, active.sum(axis=1).tolist(), strict=True))
    active_by_code[ALL_TYPES] = int(active.any(axis=0).sum())
    frame["months_active"] = frame["service_code"].map(active_by_code).fillna(0).astype("int64")
    frame["monthly_recurrence"] = frame["months_with_reports"] / np.maximum(
        frame["months_active"], 1
    )
    return frame


def _sites(x: np.ndarray, y: np.ndarray, group: np.ndarray, *, radius: float) -> np.ndarray:
    """Repeat locations: reports in one ``radius`` square of one group are one site.

    Reports are snapped to a grid of ``radius`` squares and a site is a (group, square)
    pair. Linear in the reports and bounded in memory: chaining every pair within the
    radius (single linkage) built tens of millions of pairs inside the dense hotspots of a
    30M-report city and did not complete. Two reports a few metres apart across a square's
    edge count as two sites, which moves the counts of distinct sites by a few per cent.
    """
    if x.size == 0:
        return np.zeros(0, dtype=np.int64)
    col = np.floor((x - x.min()) / radius).astype(np.int64)
    row = np.floor((y - y.min()) / radius).astype(np.int64)
    width = int(col.max()) + 1
    height = int(row.max()) + 1
    key = (group.astype(np.int64) * height + row) * width + col
    _, labels = np.unique(key, return_inverse=True)
    return np.asarray(labels, dtype=np.int64).ravel()


def _month_index(times: np.ndarray, timezone: str) -> np.ndarray:
    """Calendar month (year·12 + month − 1) of each time in the city's zone (NaT: any).

    The months' first instants in the city's zone are found once; every time then looks
    its quarter hour up in a table of months (every zone's offset is a whole number of
    quarter hours, so no month starts inside one), which gives the same answer as
    converting millions of times to local time, at a fraction of the cost.
    """
    valid = times != _NAT
    if not valid.any():
        return np.zeros(times.size, dtype=np.int64)
    lo, hi = (
        pd.Timestamp(int(v), tz="UTC").tz_convert(timezone).tz_localize(None)
        for v in (times[valid].min(), times[valid].max())
    )
    first = pd.Timestamp(year=lo.year, month=lo.month, day=1)
    # a zone whose clocks jump at midnight has no 00:00 on that day: take the first instant
    starts = pd.date_range(first, hi, freq="MS").tz_localize(
        timezone, nonexistent="shift_forward", ambiguous=True
    )
    edges = starts.tz_convert("UTC").as_unit("ns").asi8
    month0 = first.year * 12 + first.month - 1
    clipped = np.where(valid, times, edges[0])
    quarter = 900 * 10**9
    if ((edges - edges[0]) % quarter == 0).all():
        slot = (clipped - edges[0]) // quarter
        table = np.searchsorted(edges - edges[0], np.arange(int(slot.max()) + 1) * quarter, "right")
        return np.asarray(month0 - 1 + table[slot], dtype=np.int64)
    position = np.searchsorted(edges, clipped, side="right") - 1
    return np.asarray(month0 + position, dtype=np.int64)


def hotspot_wards(
    hotspots: gpd.GeoDataFrame, wards: gpd.GeoDataFrame, *, min_share: float = 0.1
) -> pd.DataFrame:
    """The ward(s) each hotspot lies in, by share of its area.

    ``wards`` needs ``area_id`` and the hotspots' CRS. A hotspot lists every ward holding
    at least ``min_share`` of its area (largest first); ``primary_ward`` holds the largest.
    A hotspot outside every ward gets an empty list and ``primary_ward`` <NA>.
    """
    if hotspots.crs is not None and wards.crs is not None and not wards.crs.equals(hotspots.crs):
        wards = wards.to_crs(hotspots.crs)
    index = pd.Index(hotspots["hotspot_id"])
    if hotspots.empty:
        return pd.DataFrame(
            {"wards": pd.Series(dtype=object), "primary_ward": pd.Series(dtype="string")},
            index=index,
        )
    geoms = hotspots.geometry.to_numpy()
    tree = shapely.STRtree(wards.geometry.to_numpy())
    h, w = tree.query(geoms, predicate="intersects")
    area = shapely.area(shapely.intersection(geoms[h], wards.geometry.to_numpy()[w]))
    share = area / np.maximum(shapely.area(geoms[h]), 1e-9)
    overlap = pd.DataFrame(
        {"h": h, "ward": wards["area_id"].to_numpy()[w], "share": share}
    ).sort_values(["h", "share"], ascending=[True, False], kind="stable")
    primary = overlap.groupby("h")["ward"].first()
    listed = overlap[overlap["share"] >= min_share].groupby("h")["ward"].agg(list)
    positions = np.arange(len(hotspots))
    return pd.DataFrame(
        {
            "wards": [listed.get(i, [primary[i]] if i in primary.index else []) for i in positions],
            "primary_ward": pd.array([primary.get(i) for i in positions], dtype="string"),
        },
        index=index,
    )


def hotspot_of_points(
    x: np.ndarray,
    y: np.ndarray,
    codes: np.ndarray,
    *,
    polygons: np.ndarray,
    polygon_codes: np.ndarray,
    ids: np.ndarray,
) -> np.ndarray:
    """Each point's hotspot: its own type's one it lies in, else an all-types one, else -1.

    ``polygon_codes`` holds each polygon's type (None or NaN: all types); points and
    polygons share one CRS. A point in hotspots of both kinds takes its own type's.
    """
    out = np.full(np.size(x), -1, dtype=np.int64)
    located = np.isfinite(x) & np.isfinite(y)
    where = np.flatnonzero(located)
    point, polygon = points_in_polygons(polygons, x[where], y[where])
    rows = where[point]
    poly_code = polygon_codes[polygon]
    all_types = pd.isna(poly_code)
    own = ~all_types & (poly_code == codes[rows])
    out[rows[all_types]] = ids[polygon[all_types]]
    out[rows[own]] = ids[polygon[own]]  # own type wins over all types
    return out


def _code_key(codes: pd.Series) -> np.ndarray:
    """Type codes as plain strings, all-types (missing or '*') as ALL_TYPES."""
    return np.asarray(codes.astype("string").fillna(ALL_TYPES).to_numpy(dtype=object))


def match_previous(
    new: gpd.GeoDataFrame, previous: gpd.GeoDataFrame, *, id_column: str = "id"
) -> pd.Series:
    """For each new hotspot, the id of the previous hotspot of the same type it continues.

    A refresh should not renumber the hotspots a manager already knows: a new polygon
    that overlaps a previous one of the same ``service_code`` (missing = all types) takes
    its id, pairing the largest overlaps first, each previous id at most once. Unmatched
    rows get <NA>.
    """
    result = pd.Series(pd.array([None] * len(new), dtype="Int64"), index=new.index)
    if new.empty or previous.empty:
        return result
    if previous.crs is not None and new.crs is not None and not previous.crs.equals(new.crs):
        previous = previous.to_crs(new.crs)
    new_geoms = new.geometry.to_numpy()
    old_geoms = previous.geometry.to_numpy()
    a, b = shapely.STRtree(old_geoms).query(new_geoms, predicate="intersects")
    same = _code_key(new["service_code"])[a] == _code_key(previous["service_code"])[b]
    a, b = a[same], b[same]
    if a.size == 0:
        return result
    area = shapely.area(shapely.intersection(new_geoms[a], old_geoms[b]))
    taken_new: set[int] = set()
    taken_old: set[int] = set()
    old_ids = previous[id_column].to_numpy()
    for k in np.argsort(-area, kind="stable"):
        i, j = int(a[k]), int(b[k])
        if i in taken_new or j in taken_old or area[k] <= 0:
            continue
        taken_new.add(i)
        taken_old.add(j)
        result.iloc[i] = int(old_ids[j])
    return result
