"""Gridded local-baseline Poisson scan: the numerical kernel behind hotspot detection.

Reports are counted in small square cells. Each cell's *expected* count comes from a
Gaussian kernel estimate of the same reports at city scale (σ ≈ 1 km), normalised by the
land around it, so a busy district raises its own expectation and is not a hotspot merely
for being busy. Observed and expected counts are summed over small square windows centred
on every land cell, tested with the Poisson upper tail, and the family of tests is
controlled with Benjamini–Hochberg. Significant cells that touch (8-neighbourhood) form one
cluster; clusters become polygons by merging their cells.

Everything here works on plain numpy arrays in a metric CRS; nothing knows about request
types, dates or storage. The measured comparison that chose this method over DBSCAN,
HDBSCAN and Gi* is in the team's research note on hotspots (section A).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from scipy import ndimage, sparse
from scipy.sparse.csgraph import connected_components
from scipy.stats import binom, poisson

from geodispatch.domain.errors import InputError

__all__ = [
    "Baseline",
    "Grid",
    "ScanArea",
    "ScanCells",
    "WindowCounts",
    "bh_reject",
    "cells_to_polygons",
    "claim_neighbours",
    "count_windows",
    "dilate_cells",
    "label_cells",
    "land_from_geometry",
    "land_from_points",
    "poisson_scan",
    "share_scan",
    "smooth_baseline",
    "window_sums",
]

#: Largest grid accepted (cells): 100 km × 100 km at 25 m. Beyond it the input is almost
#: certainly a handful of points geocoded to another continent.
MAX_CELLS = 16_000_000


@dataclass(frozen=True, slots=True)
class Grid:
    """A regular grid of square cells in a metric CRS; row 0 is the southern edge.

    Cells are numbered row-major (``flat = row * nx + col``). ``nx`` and ``ny`` are
    multiples of ``block`` so that coarse blocks (the baseline's resolution) tile the grid.
    """

    x0: float
    y0: float
    cell_m: float
    nx: int
    ny: int
    block: int = 1

    def __post_init__(self) -> None:
        if self.cell_m <= 0 or self.nx <= 0 or self.ny <= 0 or self.block <= 0:
            raise InputError(
                f"grid needs a positive cell size and shape; got cell_m={self.cell_m}, "
                f"shape=({self.ny}, {self.nx}), block={self.block}"
            )
        if self.nx % self.block or self.ny % self.block:
            raise InputError(
                f"grid shape ({self.ny}, {self.nx}) is not a multiple of block {self.block}"
            )
        if self.nx * self.ny > MAX_CELLS:
            raise InputError(
                f"the analysis area is {self.nx * self.cell_m / 1000:.0f} km × "
                f"{self.ny * self.cell_m / 1000:.0f} km ({self.nx * self.ny:,} cells of "
                f"{self.cell_m:g} m), more than the {MAX_CELLS:,} allowed; some points are "
                "probably far outside the city: pass the city's boundary as the land area "
                "or check the coordinates"
            )

    @classmethod
    def covering(
        cls, bounds: tuple[float, float, float, float], *, cell_m: float, block: int, pad_m: float
    ) -> Grid:
        """The smallest grid aligned to ``cell_m * block`` that covers ``bounds`` + ``pad_m``."""
        x_min, y_min, x_max, y_max = bounds
        if not all(math.isfinite(v) for v in bounds) or x_max < x_min or y_max < y_min:
            raise InputError(f"cannot build a grid over bounds {bounds}; no located points?")
        step = cell_m * block
        x0 = math.floor((x_min - pad_m) / step) * step
        y0 = math.floor((y_min - pad_m) / step) * step
        nx = max(1, math.ceil((x_max + pad_m - x0) / step)) * block
        ny = max(1, math.ceil((y_max + pad_m - y0) / step)) * block
        return cls(x0=x0, y0=y0, cell_m=cell_m, nx=nx, ny=ny, block=block)

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns)."""
        return (self.ny, self.nx)

    @property
    def size(self) -> int:
        """Number of cells."""
        return self.nx * self.ny

    def locate(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Flat cell index of each point; -1 for NaN or outside the grid."""
        u = (np.asarray(x, dtype=np.float64) - self.x0) / self.cell_m
        v = (np.asarray(y, dtype=np.float64) - self.y0) / self.cell_m
        with np.errstate(invalid="ignore"):
            inside = (u >= 0) & (u < self.nx) & (v >= 0) & (v < self.ny)  # NaN: False
        u[~inside] = 0
        v[~inside] = 0
        flat = v.astype(np.int64) * self.nx + u.astype(np.int64)
        flat[~inside] = -1
        return flat

    def centers(self, flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """x, y of the centres of the given cells."""
        row, col = np.divmod(np.asarray(flat, dtype=np.int64), self.nx)
        return self.x0 + (col + 0.5) * self.cell_m, self.y0 + (row + 0.5) * self.cell_m

    def counts(self, flat: np.ndarray) -> np.ndarray:
        """Points per cell as an (ny, nx) int64 array; cells of -1 are ignored."""
        inside = flat[flat >= 0]
        return np.bincount(inside, minlength=self.size).reshape(self.shape)


def land_from_geometry(grid: Grid, geometry: shapely.Geometry) -> np.ndarray:
    """Cells whose centre lies in ``geometry`` (same CRS as the grid), as an (ny, nx) mask."""
    shapely.prepare(geometry)
    cx = grid.x0 + (np.arange(grid.nx) + 0.5) * grid.cell_m
    cy = grid.y0 + (np.arange(grid.ny) + 0.5) * grid.cell_m
    xx, yy = np.meshgrid(cx, cy)
    return np.asarray(shapely.contains_xy(geometry, xx, yy), dtype=bool)


def land_from_points(grid: Grid, flat: np.ndarray, *, block_m: float) -> np.ndarray:
    """Where reports can occur, inferred from the reports themselves.

    A block of ``block_m`` is land when any report falls in it; gaps are closed by one
    block and enclosed holes filled, so a quiet park stays land while a harbour with no
    reports at all does not dilute the baseline of the shore beside it.
    """
    factor = max(1, round(block_m / grid.cell_m))
    by = math.ceil(grid.ny / factor)
    bx = math.ceil(grid.nx / factor)
    row, col = np.divmod(flat[flat >= 0], grid.nx)
    occupied = np.zeros((by, bx), dtype=bool)
    occupied[row // factor, col // factor] = True
    structure = np.ones((3, 3), dtype=bool)
    closed = ndimage.binary_closing(occupied, structure=structure, border_value=0)
    filled = ndimage.binary_fill_holes(closed | occupied)
    fine = np.repeat(np.repeat(filled, factor, axis=0), factor, axis=1)
    return np.ascontiguousarray(fine[: grid.ny, : grid.nx])


def smooth_baseline(
    coarse_counts: np.ndarray, smooth_land: np.ndarray, *, sigma_blocks: float
) -> np.ndarray:
    """Expected reports per land cell on the coarse block grid: an edge-corrected kernel estimate.

    ``coarse_counts`` are the reports on land summed into coarse blocks; ``smooth_land`` is
    the number of land cells per block smoothed with the same Gaussian (σ in blocks). The
    ratio of the smoothed counts to the smoothed land is the density per land cell:
    dividing by smoothed land corrects the estimate near the coast and the city limit,
    where a plain kernel sum would see water as "no reports". Smoothing at block
    resolution loses nothing measurable at σ ≫ block and costs milliseconds, not a second
    per type; :class:`ScanArea` interpolates the result back to cells.
    """
    smooth_counts = ndimage.gaussian_filter(coarse_counts, sigma_blocks, mode="constant")
    floor = 1e-9 * max(float(smooth_land.max()), 1.0)
    density: np.ndarray = np.divide(
        smooth_counts,
        smooth_land,
        out=np.zeros_like(smooth_counts),
        where=smooth_land > floor,
    )
    return density


def window_sums(values: np.ndarray, halves: tuple[int, ...]) -> list[np.ndarray]:
    """Sums of ``values`` over the (2h+1)² window around every cell, for each h in ``halves``.

    One integral image serves every window; cells beyond the grid count as zero. Counts
    are summed in int32 (exact, and twice as fast as int64) while they fit.
    """
    ny, nx = values.shape
    big = max(halves)
    fits = values.dtype.kind in "biu" and int(values.sum()) < 2**31 - 1
    dtype = np.int32 if fits else (np.int64 if values.dtype.kind in "biu" else np.float64)
    padded = np.zeros((ny + 2 * big + 1, nx + 2 * big + 1), dtype=dtype)
    padded[big + 1 : big + 1 + ny, big + 1 : big + 1 + nx] = values
    integral = padded.cumsum(axis=0, dtype=dtype).cumsum(axis=1, dtype=dtype)
    out = []
    for h in halves:
        hi, lo = big + 1 + h, big - h
        out.append(
            integral[hi : hi + ny, hi : hi + nx]
            - integral[lo : lo + ny, hi : hi + nx]
            - integral[hi : hi + ny, lo : lo + nx]
            + integral[lo : lo + ny, lo : lo + nx]
        )
    return out


def bh_reject(p: np.ndarray, *, q: float, m: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Benjamini–Hochberg: which hypotheses to reject at FDR ``q``, and their q-values.

    ``m`` is the size of the whole family when only part of it is passed: tests left out
    (cells that could never reach the effect-size floor) count towards ``m`` but not
    towards the ranks, which keeps the procedure conservative.
    """
    p = np.asarray(p, dtype=np.float64)
    n = p.size
    m = n if m is None else max(m, n)
    if n == 0:
        return np.zeros(0, dtype=bool), np.zeros(0)
    order = np.argsort(p, kind="stable")
    ranked = p[order] * m / np.arange(1, n + 1)
    qvals_sorted = np.minimum.accumulate(ranked[::-1])[::-1]
    qvals = np.empty(n)
    qvals[order] = np.minimum(qvals_sorted, 1.0)
    return qvals <= q, qvals


@dataclass(frozen=True, slots=True)
class ScanCells:
    """Cells that passed a scan: flat index (ascending), smallest p and q over windows.

    ``tests`` is the size of the tested family (windows × land cells). ``small`` marks
    the cells whose smallest window was rejected (the cores of a cluster, where its
    reports are; None when the scan did not record it).
    """

    cell: np.ndarray
    p: np.ndarray
    q: np.ndarray
    tests: int
    small: np.ndarray | None = None

    @classmethod
    def empty(cls, tests: int = 0) -> ScanCells:
        """No significant cells."""
        return cls(np.zeros(0, np.int64), np.zeros(0), np.zeros(0), tests, np.zeros(0, bool))


@dataclass(frozen=True, slots=True)
class _Interp:
    """Linear interpolation from coarse block centres to fine cell centres along one axis."""

    lo: np.ndarray
    hi: np.ndarray
    w: np.ndarray

    @classmethod
    def build(cls, n_fine: int, block: int) -> _Interp:
        n_coarse = n_fine // block
        u = (np.arange(n_fine) + 0.5) / block - 0.5
        lo = np.clip(np.floor(u), 0, n_coarse - 1).astype(np.int64)
        hi = np.minimum(lo + 1, n_coarse - 1)
        return cls(lo, hi, np.clip(u - lo, 0.0, 1.0))


@dataclass(frozen=True, slots=True)
class Baseline:
    """Expected reports per land cell: the coarse surface, and every cell when it pays.

    ``fine`` is filled for busy request types, where most cells are looked up; sparse
    types interpolate only the cells they ask for.
    """

    area: ScanArea
    coarse: np.ndarray
    fine: np.ndarray | None

    def at(self, flat: np.ndarray) -> np.ndarray:
        """Expected reports in each of the given cells (0 off land)."""
        if self.fine is not None:
            values: np.ndarray = self.fine.ravel()[flat]
            return values
        return self.area.interpolate(self.coarse, flat)


@dataclass(frozen=True, slots=True)
class ScanArea:
    """The grid, its land, and how many land cells each window holds (shared by all scans)."""

    grid: Grid
    land: np.ndarray
    halves: tuple[int, ...]
    sigma_blocks: float
    land_windows: list[np.ndarray]
    smooth_land: np.ndarray
    block_of_cell: np.ndarray  # coarse block of each land cell, -1 off land
    rows: _Interp
    cols: _Interp

    @classmethod
    def build(
        cls, grid: Grid, land: np.ndarray, *, halves: tuple[int, ...], sigma_blocks: float
    ) -> ScanArea:
        """Precompute window land counts, the smoothed land and the interpolation weights."""
        b = grid.block
        coarse_land = land.reshape(grid.ny // b, b, grid.nx // b, b).sum(axis=(1, 3))
        rows, cols = np.divmod(np.arange(grid.size, dtype=np.int64), grid.nx)
        block_of_cell = ((rows // b) * (grid.nx // b) + cols // b).astype(np.int32)
        block_of_cell[~land.ravel()] = -1
        return cls(
            grid,
            land,
            halves,
            sigma_blocks,
            window_sums(land, halves),
            ndimage.gaussian_filter(coarse_land.astype(np.float64), sigma_blocks, mode="constant"),
            block_of_cell,
            _Interp.build(grid.ny, b),
            _Interp.build(grid.nx, b),
        )

    @property
    def tests(self) -> int:
        """Size of the test family: windows × land cells."""
        return int(self.land.sum()) * len(self.halves)

    def baseline(self, cells: np.ndarray) -> Baseline:
        """The smoothed baseline (see :func:`smooth_baseline`) of reports in ``cells``."""
        g = self.grid
        blocks = self.block_of_cell[cells]
        coarse_counts = np.bincount(blocks[blocks >= 0], minlength=self.smooth_land.size).reshape(
            self.smooth_land.shape
        )
        coarse = smooth_baseline(
            coarse_counts.astype(np.float64), self.smooth_land, sigma_blocks=self.sigma_blocks
        )
        busy = cells.size * 8 > g.size
        return Baseline(self, coarse, self.upsample(coarse) if busy else None)

    def coarse_counts(self, cells: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Reports (or ``weights``) in ``cells`` summed per coarse block of land."""
        blocks = self.block_of_cell[cells]
        on_land = blocks >= 0
        summed = np.bincount(
            blocks[on_land],
            weights=None if weights is None else weights[on_land],
            minlength=self.smooth_land.size,
        )
        return np.asarray(summed, dtype=np.float64).reshape(self.smooth_land.shape)

    def share_baseline(self, type_coarse: np.ndarray, all_coarse: np.ndarray) -> Baseline:
        """A type's local share of all reports, per cell: the case-control expectation.

        Both block counts are smoothed with the same Gaussian; their ratio is the share
        the type holds among all reports around each place (the type mix of the
        neighbourhood, which changes slowly). Multiplied by the reports of every type in
        a window it predicts the type's count there, so a place that is dense in every
        type predicts a high count of each and is not a hotspot for being dense.
        """
        sigma = self.sigma_blocks
        smooth_type = ndimage.gaussian_filter(type_coarse, sigma, mode="constant")
        smooth_all = ndimage.gaussian_filter(all_coarse, sigma, mode="constant")
        floor = 1e-9 * max(float(smooth_all.max()), 1.0)
        share = np.divide(
            smooth_type, smooth_all, out=np.zeros_like(smooth_type), where=smooth_all > floor
        )
        share = np.clip(share, 0.0, 1.0)
        busy = float(type_coarse.sum()) * 8 > self.grid.size
        return Baseline(self, share, self.upsample(share) if busy else None)

    def upsample(self, coarse: np.ndarray) -> np.ndarray:
        """The coarse baseline interpolated bilinearly to every cell centre; 0 off land."""
        r, c = self.rows, self.cols
        by_row = coarse[r.lo] * (1 - r.w)[:, None] + coarse[r.hi] * r.w[:, None]
        # indexing columns returns a column-major array: make it row-major once here, or
        # every ``ravel`` of it in the scans copies the whole grid
        fine = np.ascontiguousarray(by_row[:, c.lo] * (1 - c.w) + by_row[:, c.hi] * c.w)
        fine[~self.land] = 0.0
        return fine

    def interpolate(self, coarse: np.ndarray, flat: np.ndarray) -> np.ndarray:
        """The coarse baseline interpolated bilinearly at the given cells; 0 off land."""
        row, col = np.divmod(np.asarray(flat, dtype=np.int64), self.grid.nx)
        r0, r1, rw = self.rows.lo[row], self.rows.hi[row], self.rows.w[row]
        c0, c1, cw = self.cols.lo[col], self.cols.hi[col], self.cols.w[col]
        low = coarse[r0, c0] * (1 - cw) + coarse[r0, c1] * cw
        high = coarse[r1, c0] * (1 - cw) + coarse[r1, c1] * cw
        values: np.ndarray = (low * (1 - rw) + high * rw) * self.land.ravel()[flat]
        return values


def _sparse_window_sums(
    grid: Grid, occupied: np.ndarray, values: np.ndarray, half: int
) -> tuple[np.ndarray, np.ndarray]:
    """Window sums from the occupied cells alone (cells, sums): cheap for rare types."""
    row, col = np.divmod(occupied, grid.nx)
    offsets = np.arange(-half, half + 1)
    rr = (row[:, None] + offsets)[:, :, None]
    cc = (col[:, None] + offsets)[:, None, :]
    valid = (rr >= 0) & (rr < grid.ny) & (cc >= 0) & (cc < grid.nx)
    flat = np.broadcast_to(rr * grid.nx + cc, valid.shape)[valid]
    weight = np.broadcast_to(values[:, None, None], valid.shape)[valid]
    cells, inverse = np.unique(flat, return_inverse=True)
    sums: np.ndarray = np.bincount(inverse, weights=weight, minlength=cells.size)
    return cells, sums


@dataclass(frozen=True, slots=True)
class WindowCounts:
    """Reports in the window around every cell, for each window of a :class:`ScanArea`.

    Busy inputs keep one dense (ny, nx) array per window; rare ones keep only the cells
    some report's window reaches (``cells`` ascending, ``sums`` aligned), which costs a
    fraction of a full grid. ``occupied`` lists the cells holding at least one report.
    """

    grid: Grid
    occupied: np.ndarray
    dense: tuple[np.ndarray, ...] | None
    sparse: tuple[tuple[np.ndarray, np.ndarray], ...] | None

    def at(self, k: int, flat: np.ndarray) -> np.ndarray:
        """Reports in window ``k`` around each of the given cells."""
        if self.dense is not None:
            values: np.ndarray = self.dense[k].ravel()[flat]
            return values
        assert self.sparse is not None
        cells, sums = self.sparse[k]
        if cells.size == 0:
            return np.zeros(np.shape(flat))
        pos = np.minimum(np.searchsorted(cells, flat), cells.size - 1)
        found: np.ndarray = np.where(cells[pos] == flat, sums[pos], 0.0)
        return found


def count_windows(area: ScanArea, observed: np.ndarray) -> WindowCounts:
    """Window sums of the reports in cells ``observed`` (one entry per report), every window."""
    grid = area.grid
    rare = observed.size * (2 * max(area.halves) + 1) ** 2 < grid.size // 4
    if rare:
        occupied, values = np.unique(observed, return_counts=True)
        sparse = tuple(_sparse_window_sums(grid, occupied, values, h) for h in area.halves)
        return WindowCounts(grid, occupied, None, sparse)
    counts = grid.counts(observed)
    return WindowCounts(grid, np.flatnonzero(counts), tuple(window_sums(counts, area.halves)), None)


def poisson_scan(
    area: ScanArea,
    observed: np.ndarray,
    baseline: Baseline,
    *,
    scale: float = 1.0,
    fdr_q: float,
    min_ratio: float,
    min_reports: int,
    windows: WindowCounts | None = None,
    skip: np.ndarray | None = None,
    exposure: WindowCounts | None = None,
) -> ScanCells:
    """Land cells whose window count is significantly above expectation, with FDR control.

    ``observed`` holds the cell of every report (``windows``, when given, are its window
    sums from :func:`count_windows`, so a caller that needs them too counts once). For
    every land cell and window of ``area``, the observed count in the window is
    tested against ``scale`` × the baseline density × the land cells in the window, with
    the Poisson upper tail (the baseline is smooth at window scale, so the density at the
    centre times the land cells is its window sum). Only windows with at least
    ``min_reports`` reports and ``min_ratio`` × the expected count can matter (the
    effect-size floor), so only they are tested; the family is still all windows × land
    cells, which keeps Benjamini–Hochberg conservative. A cell passes when any of its
    windows is rejected. Cells in ``skip`` are not tested at all (they count as accepted
    in the family): a recent scan skips the long-run hotspots, so their recent reports do
    not raise the rejection threshold for places that are new.

    With ``exposure`` (window sums of the reports of *every* type), ``baseline`` is the
    type's local share (:meth:`ScanArea.share_baseline`) and the test is case-control:
    given the ``n`` reports of all types in a window, the type's count is binomial with
    ``scale`` × its share when the place is only as busy in this type as in every other
    (Kulldorff's Bernoulli model, window by window). Density alone then never passes.
    """
    tests = area.tests
    if tests == 0:
        return ScanCells.empty()
    counts = windows if windows is not None else count_windows(area, observed)
    testable = area.land
    if skip is not None and skip.size:
        testable = testable.copy()
        testable.ravel()[skip] = False
    land = testable.ravel()
    cells: list[np.ndarray] = []
    pvals: list[np.ndarray] = []
    small: list[bool] = []
    smallest = min(area.halves)
    for k, half in enumerate(area.halves):
        if counts.dense is not None:
            window = counts.dense[k]
            busy = window >= min_reports
            many = np.count_nonzero(busy) * 8 > busy.size
        if counts.dense is not None and many and baseline.fine is not None:
            # most windows are busy: the effect-size floor on whole arrays, then gather
            size = area.land_windows[k] if exposure is None else _dense(exposure, k)
            expected = scale * baseline.fine * size  # 0 off land
            strong = _effect(window, expected, size, min_ratio, odds=exposure is not None)
            flat = np.flatnonzero(busy & strong & testable)
            o = window.ravel()[flat]
            e = expected.ravel()[flat]
        else:
            # few busy windows: gather them first, then the floor on those alone
            if counts.dense is not None:
                flat = np.flatnonzero(busy)
                o = window.ravel()[flat]
            else:
                assert counts.sparse is not None
                flat, o = counts.sparse[k]
                keep = o >= min_reports
                flat, o = flat[keep], o[keep]
            on_land = land[flat]
            flat, o = flat[on_land], o[on_land]
            if flat.size == 0:
                continue
            size = area.land_windows[k].ravel()[flat] if exposure is None else exposure.at(k, flat)
            e = scale * baseline.at(flat) * size
            effect = _effect(o, e, size, min_ratio, odds=exposure is not None)
            flat, o, e = flat[effect], o[effect], e[effect]
        if flat.size == 0:
            continue
        cells.append(flat)
        if exposure is None:
            pvals.append(poisson.sf(o - 1, e))
        else:
            n = exposure.at(k, flat)
            share = np.clip(e / np.maximum(n, 1), 0.0, 1.0)
            pvals.append(binom.sf(o - 1, np.maximum(n, o), share))
        small.append(half == smallest)
    return _reject(cells, pvals, q=fdr_q, tests=tests, small=small)


def _effect(
    observed: np.ndarray, expected: np.ndarray, size: np.ndarray, ratio: float, *, odds: bool
) -> np.ndarray:
    """The effect-size floor: observed ≥ ``ratio`` × expected, or in odds under exposure.

    Against all types, a window of ``size`` reports can hold at most all of them, so the
    count ratio is capped at 1 / share; the odds ratio (the type's odds against the other
    types inside, over its local odds) is not, and it equals the planted excess when a
    place gets ``ratio`` times its share of the type on top of its usual others.
    """
    if not odds:
        result: np.ndarray = observed >= ratio * expected
        return result
    share = np.divide(expected, size, out=np.zeros(np.shape(expected)), where=size > 0)
    others = size - observed
    strong: np.ndarray = observed * (1.0 - share) >= ratio * share * others
    return strong


def _dense(counts: WindowCounts, k: int) -> np.ndarray:
    """Window ``k`` of ``counts`` as a full (ny, nx) array."""
    if counts.dense is not None:
        return counts.dense[k]
    assert counts.sparse is not None
    out = np.zeros(counts.grid.size)
    cells, sums = counts.sparse[k]
    out[cells] = sums
    return out.reshape(counts.grid.shape)


def dilate_cells(grid: Grid, cells: np.ndarray, half: int) -> np.ndarray:
    """Cells within ``half`` cells (Chebyshev) of any of ``cells``, ascending, unique."""
    if cells.size == 0 or half <= 0:
        return np.unique(cells)
    row, col = np.divmod(np.asarray(cells, dtype=np.int64), grid.nx)
    offsets = np.arange(-half, half + 1)
    rr = (row[:, None] + offsets)[:, :, None]
    cc = (col[:, None] + offsets)[:, None, :]
    valid = (rr >= 0) & (rr < grid.ny) & (cc >= 0) & (cc < grid.nx)
    flat = np.broadcast_to(rr * grid.nx + cc, valid.shape)[valid]
    return np.unique(flat)


def _reject(
    cells: list[np.ndarray],
    pvals: list[np.ndarray],
    *,
    q: float,
    tests: int,
    small: list[bool] | None = None,
) -> ScanCells:
    """Benjamini–Hochberg over a family of ``tests``; one entry per cell (smallest p, q).

    ``small`` says which of the parts (one per window) come from the smallest window.
    """
    if not cells:
        return ScanCells.empty(tests)
    cell = np.concatenate(cells)
    p = np.concatenate(pvals)
    in_small = np.repeat(small or [False] * len(cells), [c.size for c in cells])
    reject, qvals = bh_reject(p, q=q, m=tests)
    cell, p, qvals, in_small = cell[reject], p[reject], qvals[reject], in_small[reject]
    if cell.size == 0:
        return ScanCells.empty(tests)
    order = np.lexsort((p, cell))
    cell, p, qvals, in_small = cell[order], p[order], qvals[order], in_small[order]
    first = np.ones(cell.size, dtype=bool)
    first[1:] = cell[1:] != cell[:-1]
    starts = np.flatnonzero(first)
    q_min = np.minimum.reduceat(qvals, starts)
    return ScanCells(
        cell[first], p[first], q_min, tests, np.maximum.reduceat(in_small, starts).astype(bool)
    )


def share_scan(
    area: ScanArea,
    cells: np.ndarray,
    recent: WindowCounts,
    total: WindowCounts,
    *,
    share: float,
    fdr_q: float,
    min_rate_ratio: float,
    min_reports: int,
) -> ScanCells:
    """Cells where the *recent share* of the reports in some window is significantly high.

    The space-time question "did this place get busier lately than the city did?", asked
    window by window: given the ``total`` reports in a window, its ``recent`` ones are
    binomial with the type's city-wide recent ``share`` when nothing changed there. A
    window counts only with at least ``min_reports`` recent reports and a recent rate at
    least ``min_rate_ratio`` times its earlier rate, relative to the city-wide change
    (the same effect floor as the trend labels). Only ``cells`` are tested (those already
    significant in the recent window), but the family is every land cell × window, as in
    :func:`poisson_scan`, so the selection cannot make Benjamini–Hochberg optimistic.

    This is what lets a new corner *inside* or beside a persistent hotspot of the same
    type stand out: there the recent count is high against the city-scale baseline for
    both, but only the new corner's windows have a high recent share.
    """
    tests = area.tests
    if tests == 0 or cells.size == 0 or not 0 < share < 1:
        return ScanCells.empty(tests)
    odds = share / (1 - share)
    found: list[np.ndarray] = []
    pvals: list[np.ndarray] = []
    for k in range(len(area.halves)):
        r = recent.at(k, cells)
        t = total.at(k, cells)
        before = t - r
        effect = (r >= min_reports) & (r >= min_rate_ratio * odds * before)
        if not effect.any():
            continue
        found.append(cells[effect])
        pvals.append(binom.sf(r[effect] - 1, t[effect], share))
    return _reject(found, pvals, q=fdr_q, tests=tests)


def claim_neighbours(grid: Grid, cells: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Cells touching ``cells`` (8-neighbourhood), not among them, where ``allowed``; ascending.

    A window is tested around its centre, but the reports that made it significant sit
    in the cells around that centre; with few reports the significant centres can even
    be the empty cells between them. A hotspot claims the touching cells (``allowed``:
    an (ny, nx) mask, e.g. land), so its footprint covers the reports its windows counted.
    """
    if cells.size == 0:
        return np.zeros(0, dtype=np.int64)
    row, col = np.divmod(cells, grid.nx)
    near = []
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            if dr == dc == 0:
                continue
            rr, cc = row + dr, col + dc
            ok = (rr >= 0) & (rr < grid.ny) & (cc >= 0) & (cc < grid.nx)
            near.append(rr[ok] * grid.nx + cc[ok])
    candidates = np.unique(np.concatenate(near))
    claimed = candidates[allowed.ravel()[candidates]]
    out: np.ndarray = claimed[~np.isin(claimed, cells, assume_unique=True)]
    return out


def label_cells(grid: Grid, cells: np.ndarray, *, reach: int = 0) -> tuple[np.ndarray, int]:
    """Connected components of ``cells``: a label 0..k-1 per cell (in the cells' order), and k.

    Two cells are neighbours when they touch (8-neighbourhood) or, with ``reach`` > 0,
    when squares grown by ``reach`` cells around them would touch (Chebyshev distance at
    most 2·reach + 1). Labels follow the row-major order of each component's first cell.
    The graph is built from the cells alone (a sorted lookup per neighbour offset), so a
    few thousand cells in a city-wide grid cost milliseconds, not a pass over the grid.
    """
    n = cells.size
    if n == 0:
        return np.zeros(0, dtype=np.int64), 0
    order = np.argsort(cells, kind="stable")
    ordered = np.asarray(cells, dtype=np.int64)[order]
    row, col = np.divmod(ordered, grid.nx)
    span = 1 + 2 * reach
    sources: list[np.ndarray] = []
    targets: list[np.ndarray] = []
    for dr in range(span + 1):
        for dc in range(-span, span + 1):
            if dr == 0 and dc <= 0:
                continue  # each pair once: only neighbours later in row-major order
            r2, c2 = row + dr, col + dc
            wanted = r2 * grid.nx + c2
            pos = np.minimum(np.searchsorted(ordered, wanted), n - 1)
            hit = (r2 < grid.ny) & (c2 >= 0) & (c2 < grid.nx) & (ordered[pos] == wanted)
            sources.append(np.flatnonzero(hit))
            targets.append(pos[hit])
    src, dst = np.concatenate(sources), np.concatenate(targets)
    graph = sparse.coo_matrix((np.ones(src.size, dtype=np.int8), (src, dst)), shape=(n, n))
    k, raw = connected_components(graph, directed=False)
    first = np.full(k, n, dtype=np.int64)
    np.minimum.at(first, raw, np.arange(n))
    rank = np.empty(k, dtype=np.int64)
    rank[np.argsort(first)] = np.arange(k)
    labels = np.empty(n, dtype=np.int64)
    labels[order] = rank[raw]
    return labels, int(k)


def cells_to_polygons(
    grid: Grid, cells: np.ndarray, labels: np.ndarray, n: int
) -> list[shapely.Geometry]:
    """One (multi)polygon per label: the union of its cells.

    Grid cells meet edge to edge with shared corners, a valid polygon coverage, so each
    label's cells are merged by coverage union (several times faster than a general
    union), and the vertices left along straight edges are dropped.
    """
    if n == 0:
        return []
    order = np.argsort(labels, kind="stable")
    lab = labels[order]
    row, col = np.divmod(cells[order], grid.nx)
    size = grid.cell_m  # corners from one formula, so neighbours share them exactly
    boxes = shapely.box(
        grid.x0 + col * size,
        grid.y0 + row * size,
        grid.x0 + (col + 1) * size,
        grid.y0 + (row + 1) * size,
    )
    bounds = np.searchsorted(lab, np.arange(n + 1))
    merged = [shapely.coverage_union_all(boxes[bounds[k] : bounds[k + 1]]) for k in range(n)]
    return list(shapely.simplify(np.array(merged, dtype=object), 0.0))
